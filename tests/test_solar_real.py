"""Real data: the Athens LiDAR DSM (1 m, EPSG:2100) with its EPW — accuracy and plausibility."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pvlib
import pytest
from scipy.ndimage import maximum_filter

from geo.io.rasters import read_raster
from geo.io.weather import read_epw
from geo.solar.irradiance import IrradianceResult, compute_irradiance

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def athens(shared_real: Path) -> tuple[IrradianceResult, np.ndarray, np.ndarray, float]:
    folder = shared_real / "athens"
    dsm = read_raster(folder / "DSM.tif")
    dem = read_raster(folder / "DEM.tif")
    weather = read_epw(folder / "athens_2023.epw")
    result = compute_irradiance(dsm, weather)  # default settings: 32 directions, 1 km
    d = weather.data
    sp = pvlib.solarposition.get_solarposition(d.index, weather.latitude_deg, weather.longitude_deg,
                                               altitude=weather.altitude_m)
    horizontal = pvlib.irradiance.get_total_irradiance(
        0, 180, sp["apparent_zenith"], sp["azimuth"], d["dni"], d["ghi"], d["dhi"],
        dni_extra=pvlib.irradiance.get_extra_radiation(d.index), model="perez",
    )["poa_global"].fillna(0).sum() / 1000.0
    return result, dsm.data, dsm.data - dem.data, float(horizontal)


def test_flat_unshaded_roofs_match_pvlib_horizontal(athens) -> None:
    result, z, above, horizontal = athens
    # Flat (independent numpy gradient) roofs that nothing within 50 m stands above.
    gy, gx = np.gradient(z)
    flat = np.degrees(np.arctan(np.hypot(gx, gy))) < 3
    top = z >= maximum_filter(z, size=101) - 0.5
    roofs = flat & top & (above > 2.5) & np.isfinite(result.annual_kwh_m2)
    assert roofs.sum() > 1000
    ratio = result.annual_kwh_m2[roofs] / horizontal
    assert abs(np.mean(ratio) - 1) < 0.03, np.mean(ratio)
    assert abs(np.median(ratio) - 1) < 0.01
    assert np.mean(np.abs(ratio - 1) < 0.03) > 0.9


def test_walls_courtyards_and_slopes_are_plausible(athens) -> None:
    result, z, above, horizontal = athens
    annual, tilt, azim = result.annual_kwh_m2, result.tilt_deg, result.azimuth_deg
    svf, loss = result.sky_view_factor, result.shading_loss
    ok = np.isfinite(annual)
    assert ok.mean() > 0.98
    # Bounded everywhere; shading never adds energy.
    assert np.nanmin(loss) >= 0 and np.nanmax(loss) <= 1 and np.nanmin(svf) >= 0 and np.nanmax(svf) <= 1
    assert np.nanmax(annual - result.unshaded_kwh_m2) < 1e-2
    flat_roofs = ok & (tilt < 5) & (above > 2.5)
    walls = ok & (tilt > 60)
    assert np.nanmean(annual[walls]) < 0.7 * np.nanmean(annual[flat_roofs])
    # Steep north-facing pixels get far less than south-facing ones (latitude 38° N).
    steep = ok & (tilt > 30) & (tilt < 60)
    north = steep & ((azim > 315) | (azim < 45))
    south = steep & (azim > 135) & (azim < 225)
    assert north.sum() > 100 and south.sum() > 100
    assert np.nanmean(annual[north]) < 0.6 * np.nanmean(annual[south])
    # Courtyards and streets (ground between buildings): a reduced sky, shade, less energy.
    ground = ok & (above < 0.5) & (tilt < 10)
    enclosed = ground & (maximum_filter(np.where(np.isfinite(above), above, 0), size=15) > 8)
    assert enclosed.sum() > 1000
    assert np.nanmean(svf[enclosed]) < 0.8 and np.nanmean(loss[enclosed]) > 0.15
    assert np.nanmean(annual[enclosed]) < np.nanmean(annual[flat_roofs])
    # Sanity of the whole scene against pvlib's horizontal value: nothing gets far more.
    assert np.nanpercentile(annual, 99.9) < 1.25 * horizontal
