"""Physics of the engine against independent references: pvlib on planes, analytic horizons and SVF."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest
from affine import Affine
from rasterio.crs import CRS

from geo.io.weather import default_weather, read_epw
from geo.products import irradiance as product
from geo.solar.build import result_bands
from geo.solar.horizon import horizon_angles, sky_view_factor
from geo.solar.irradiance import SolarSettings, compute_irradiance
from geo.solar.sky import bin_sky, unshaded_plane_wh_m2
from geo.solar.surface import plane_normal, surface_normals, tilt_azimuth
from geo.types import Raster, Weather

CRS_M = CRS.from_epsg(2154)


def plane_dsm(tilt_deg: float, azimuth_deg: float, *, n: int = 61, res: float = 1.0, z0: float = 50.0) -> Raster:
    """A large inclined plane facing ``azimuth_deg`` (rows go south)."""
    rows, cols = np.mgrid[0:n, 0:n]
    x, y = cols * res, -rows * res  # east, north [m]
    b, a = np.radians(tilt_deg), np.radians(azimuth_deg)
    z = z0 - np.tan(b) * (x * np.sin(a) + y * np.cos(a))
    return Raster(z.astype(np.float32), Affine(res, 0, 685000, 0, -res, 7038000), CRS_M)


def pvlib_annual_kwh(weather: Weather, tilt: float, azimuth: float, albedo: float = 0.25) -> float:
    """pvlib's Perez plane-of-array irradiation summed over the weather [kWh/m²] (the reference)."""
    d = weather.data
    sp = pvlib.solarposition.get_solarposition(d.index, weather.latitude_deg, weather.longitude_deg,
                                               altitude=weather.altitude_m)
    poa = pvlib.irradiance.get_total_irradiance(
        tilt, azimuth, sp["apparent_zenith"], sp["azimuth"], d["dni"], d["ghi"], d["dhi"],
        dni_extra=pvlib.irradiance.get_extra_radiation(d.index), albedo=albedo, model="perez",
    )
    return float(poa["poa_global"].fillna(0).sum()) * weather.interval_h / 1000.0


@pytest.fixture(scope="module")
def athens(shared_real: Path) -> Weather:
    return read_epw(shared_real / "athens" / "athens_2023.epw")


@pytest.fixture(scope="module")
def offline() -> Weather:
    return default_weather()


PLANES = [(tilt, az) for tilt in (0, 30, 45) for az in (90, 180, 270)]
SETTINGS = SolarSettings(distance_m=100.0)


def _check_planes(weather: Weather) -> None:
    sky = bin_sky(weather)
    for tilt, az in PLANES:
        dsm = plane_dsm(tilt, az)
        mask = np.zeros(dsm.shape, dtype=bool)
        mask[25:36, 25:36] = True  # far from the edges
        res = compute_irradiance(dsm, weather, mask=mask, settings=SETTINGS, sky=sky)
        ref = pvlib_annual_kwh(weather, tilt, az)
        got = res.annual_kwh_m2[mask]
        assert np.all(np.abs(got / ref - 1) < 0.01), (tilt, az, ref, got.min(), got.max())
        # The monthly bands add up to the annual one; the plane's own geometry is recovered.
        np.testing.assert_allclose(np.nansum(res.monthly_kwh_m2[:, mask], axis=0), got, rtol=1e-4)
        np.testing.assert_allclose(res.tilt_deg[mask], tilt, atol=1e-3)
        if tilt:
            np.testing.assert_allclose(res.azimuth_deg[mask], az, atol=1e-3)
        # An open plane: SVF = (1 + cos β)/2, and (almost) nothing lost to its own horizon.
        np.testing.assert_allclose(res.sky_view_factor[mask], (1 + np.cos(np.radians(tilt))) / 2, atol=2e-3)
        assert np.nanmax(res.shading_loss[mask]) < 0.005


@pytest.mark.shared
def test_planes_match_pvlib_perez_with_the_athens_epw(athens: Weather) -> None:
    _check_planes(athens)


def test_planes_match_pvlib_perez_with_the_offline_default(offline: Weather) -> None:
    _check_planes(offline)


def test_binned_sky_keeps_pvlib_annual_sum_for_any_plane(offline: Weather) -> None:
    sky = bin_sky(offline)
    assert 100 < sky.n_bins < 1000  # a few hundred bins instead of 4,000+ daylight hours
    for tilt, az in [(0, 0), (20, 135), (60, 200), (90, 0), (90, 300)]:
        got = unshaded_plane_wh_m2(sky, tilt, az).sum() / 1000
        assert abs(got / pvlib_annual_kwh(offline, tilt, az) - 1) < 0.002


def test_surface_normals_of_planes_and_orientation_convention() -> None:
    for tilt, az in [(20, 180), (35, 90), (50, 270), (10, 0), (40, 225)]:
        dsm = plane_dsm(tilt, az, n=9, res=0.5)
        t, a = tilt_azimuth(surface_normals(dsm.data, 0.5))
        np.testing.assert_allclose(t[1:-1, 1:-1], tilt, atol=1e-3)
        np.testing.assert_allclose(a[1:-1, 1:-1], az, atol=1e-3)
        np.testing.assert_allclose(surface_normals(dsm.data, 0.5)[:, 4, 4], plane_normal(tilt, az), atol=1e-5)
    # A plane rising towards the north (row 0 higher) faces south: azimuth 180.
    z = np.repeat(np.arange(5, 0, -1, dtype=np.float32)[:, None], 5, axis=1)
    _, a = tilt_azimuth(surface_normals(z, 1.0))
    assert a[2, 2] == pytest.approx(180.0)


def test_horizon_of_a_wall_is_analytic() -> None:
    """A 12 m wall north of the pixels: horizon due north = atan(12 / d)."""
    z = np.zeros((400, 120), dtype=np.float32)
    z[100:104, :] = 12.0  # rows 100-103, wall's south face at row 103
    h = horizon_angles(z, 0.5, n_directions=32, distance_m=150)
    for row in range(104, 400, 3):
        d = (row - 103) * 0.5
        exact = np.degrees(np.arctan(12.0 / d))
        # Near field (≤ 32 px): interpolated samples, exact. Far field: windows of ≤ 1/16 of the
        # distance, so the wall's face is placed within ±1/32 of its distance (≤ 0.8° here).
        tol = 1e-3 if d <= 16.0 else 0.8
        assert h[0, row, 60] == pytest.approx(exact, abs=tol), (row, h[0, row, 60], exact)
    # Due south of the wall the ground is open (nothing higher than the pixel): horizon ≤ 0.
    assert h[16, 200, 60] <= 0.0
    # Nodata never shades: a NaN hole in place of the wall leaves the horizon open.
    z2 = z.copy()
    z2[100:104, :] = np.nan
    assert horizon_angles(z2, 0.5, n_directions=32, distance_m=150)[0, 130, 60] <= 0.0


def test_horizon_far_field_keeps_a_distant_hill() -> None:
    """A 100 m high, 200 m wide ridge 700 m away (far-field pyramid levels) is seen within 1°."""
    res = 2.0
    z = np.zeros((500, 60), dtype=np.float32)
    z[0:100, :] = 100.0  # ridge over rows 0-99 (y 800 m .. 1000 m north of row 499)
    h = horizon_angles(z, res, n_directions=32, distance_m=1000)
    d = (449 - 99) * res  # pixel row 449 to the ridge's south face
    assert h[0, 449, 30] == pytest.approx(np.degrees(np.arctan(100.0 / d)), abs=1.0)
    assert h[0, 449, 30] >= np.degrees(np.arctan(100.0 / d)) - 0.2  # conservative: max-filter windows


def test_sky_view_factor_of_a_street_canyon() -> None:
    """Floor of a long N–S street, width W, walls H: SVF = cos(atan(2H/W)) (analytic)."""
    res, w, hgt = 1.0, 20, 10.0
    z = np.full((600, 80), hgt, dtype=np.float32)
    z[:, 30 : 30 + w] = 0.0
    h = horizon_angles(z, res, n_directions=32, distance_m=300)
    r, c = 300, 30 + w // 2  # middle of the street (pixel centre 0.5 m east of the axis)
    svf = sky_view_factor(h[:, r, c], np.arange(32) * 360 / 32, np.array([0.0, 0.0, 1.0]))
    assert svf == pytest.approx(np.cos(np.arctan(2 * hgt / w)), abs=0.02)
    # An open tilted plane: (1 + cos β)/2 exactly (the discrete sum is normalised to it).
    n = plane_normal(40, 200)
    open_h = np.full(32, -90.0)
    assert sky_view_factor(open_h, np.arange(32) * 360 / 32, n) == pytest.approx((1 + np.cos(np.radians(40))) / 2)


def test_result_metadata_records_the_weather(offline: Weather) -> None:
    dsm = plane_dsm(0, 180, n=11)
    res = compute_irradiance(dsm, offline, settings=SETTINGS)
    assert res.weather.info.approximate and "offline climatology" in res.weather.info.source
    assert res.settings.n_directions == 32 and res.settings.distance_m == 100
    bands = result_bands(res)
    assert bands.shape == (15, 11, 11) and bands.dtype == np.float32
    # in the file's band order (geo.products.irradiance)
    for index, array in [(product.ANNUAL, res.annual_kwh_m2), (product.MONTHS, res.monthly_kwh_m2),
                         (product.SHADING_LOSS, res.shading_loss), (product.SKY_VIEW_FACTOR, res.sky_view_factor)]:
        np.testing.assert_array_equal(bands[index], array)
    assert np.isnan(res.annual_kwh_m2[0, 0])  # outer ring: no 3×3 neighbourhood
    # A one-step weather: monthly bands are zero for the other months.
    one = Weather(offline.data.iloc[[4000]], 1.0, offline.latitude_deg, offline.longitude_deg, 40.0, "one", "x",
                  "y")
    r1 = compute_irradiance(dsm, one, settings=SETTINGS)
    month = pd.DatetimeIndex(one.data.index).month[0] - 1
    assert np.nansum(r1.monthly_kwh_m2[month]) > 0
    assert np.nansum(np.delete(r1.monthly_kwh_m2, month, axis=0)) == 0


def test_kernel_band_partition_changes_no_value(offline: Weather, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel computes blocks of rows and columns, each over the columns between its first and last pixel
    to compute: any block size gives the values of one block over the whole area (float32 rounding aside)."""
    import geo.solar.irradiance as engine

    rng = np.random.default_rng(7)
    n = 48
    z = np.full((n, n), 40.0, dtype=np.float32)
    for _ in range(12):  # boxes and sloped roofs of various heights
        r, c, h, w = rng.integers(0, n - 8), rng.integers(0, n - 8), rng.integers(3, 9), rng.integers(3, 9)
        z[r:r + h, c:c + w] += rng.uniform(3, 12) + 0.3 * np.arange(w)[None, :]
    mask = rng.random((n, n)) < 0.3  # scattered pixels: each band's column range differs
    mask[:, :5] = False
    dsm = Raster(z, Affine(0.5, 0, 685000, 0, -0.5, 7038000), CRS_M)
    results = {}
    for rows, cols in ((n, 0), (1, 0), (2, 0), (3, 0), (8, 0), (2, 5), (3, 16), (1, 7), (n, 10)):
        monkeypatch.setattr(engine, "BAND_ROWS", rows)
        monkeypatch.setattr(engine, "BAND_COLS", cols)
        results[rows, cols] = result_bands(compute_irradiance(dsm, offline, mask=mask, settings=SETTINGS)).copy()
    ref = results.pop((n, 0))
    assert np.isfinite(ref[product.ANNUAL]).sum() > 0.2 * n * n
    for (rows, cols), bands in results.items():
        what = f"blocks of {rows} rows x {cols or 'all'} columns"
        np.testing.assert_array_equal(np.isnan(bands), np.isnan(ref), err_msg=what)
        np.testing.assert_allclose(bands, ref, rtol=1e-5, atol=1e-6, err_msg=what)
