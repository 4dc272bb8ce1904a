"""PV model of the roofs: module layout, rack spacing, pvlib yields, profiles, suitability."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely import affinity
from shapely.geometry import MultiPolygon, Polygon, box

from geo import config
from geo.io.weather import default_weather
from geo.products.rooftops import decode_profile, encode_profile
from geo.roofs.classes import classify
from geo.roofs.pv import (
    SiteModel,
    _rasterize,
    _rings,
    _unrolled,
    count_modules,
    count_modules_many,
    orientation_bin,
    orientation_word,
    profile_months,
    rack_ground_cover_ratio,
)


@pytest.fixture(scope="module")
def site() -> SiteModel:
    return SiteModel(default_weather())


def _grid(extent: float, module: float) -> int:
    """Modules of size ``module`` (+ gap) that fit in a row of length ``extent`` [m]."""
    gap = config.MODULE_GAP_M
    return int(math.floor((extent + gap) / (module + gap) + 1e-9))


def test_count_modules_on_a_rectangle_matches_hand_count() -> None:
    tilt = 35.0
    w, h = 10.0, 5.0  # horizontal rectangle: 10 m along the contour, 5 m across (horizontal)
    slope_len = h / math.cos(math.radians(tilt))
    portrait = _grid(w, config.MODULE_WIDTH_M) * _grid(slope_len, config.MODULE_LENGTH_M)
    landscape = _grid(w, config.MODULE_LENGTH_M) * _grid(slope_len, config.MODULE_WIDTH_M)
    n, layout = count_modules(box(0, 0, w, h), tilt, 180.0)
    # rasterised at 5 cm, the count may lose at most one module per row to rounding
    assert max(portrait, landscape) - 5 <= n <= max(portrait, landscape)
    assert layout in ("portrait", "landscape")
    # the same face turned to the east: same count (rows follow the contour lines)
    east, _ = count_modules(box(0, 0, h, w), tilt, 90.0)
    assert east == n
    assert count_modules(box(0, 0, 1.0, 1.0), tilt, 180.0) == (0, "none")


def test_layout_grid_is_gdals_rasterization() -> None:
    """The layout's own scanline fill gives the cells ``rasterio.features.rasterize`` (GDAL) gives: rotated and
    unrolled polygons, a hole, a multipolygon, vertices on cell centres and edges on centre lines."""
    import rasterio.features
    from affine import Affine

    rng = np.random.default_rng(11)
    shapes: list[Polygon | MultiPolygon] = [
        box(0.0, 0.0, 1.0, 0.5),  # edges on cell boundaries and centre lines at 0.05 m cells
        Polygon([(0.025, 0.025), (2.025, 0.025), (1.025, 1.525)]),  # vertices on cell centres
        box(0, 0, 12, 7).difference(box(3, 2, 5, 4)),  # a hole
        MultiPolygon([box(0, 0, 4, 3), box(5, 1, 9, 6)]),
    ]
    for _ in range(40):
        pts = rng.uniform(0, 15, size=(9, 2))
        poly = Polygon(pts).convex_hull.buffer(rng.uniform(0, 1)).simplify(0.1)
        shapes.append(affinity.scale(affinity.rotate(poly, rng.uniform(0, 360), origin=(0, 0)), 1.0,
                                     1.0 / math.cos(math.radians(rng.uniform(0, 60))), origin=(0, 0)))
    for _ in range(40):  # vertices on a quarter-cell lattice: ties on centre lines and half-cell intersections
        pts = rng.integers(0, 40, size=(7, 2)) * 0.25
        hull = Polygon(pts).convex_hull
        if hull.area > 1:
            shapes.append(hull.difference(box(*(rng.integers(0, 20, 2) * 0.25), *(rng.integers(20, 40, 2) * 0.25))))
    cells = 0
    for geom in shapes:
        for cell in (0.05, 0.1, 0.037, 0.5, 1.0):
            if geom.is_empty:
                continue
            x0, y0, x1, y1 = geom.bounds
            ncols, nrows = int(math.ceil((x1 - x0) / cell)) + 1, int(math.ceil((y1 - y0) / cell)) + 1
            ref = rasterio.features.rasterize([(geom, 1)], out_shape=(nrows, ncols),
                                              transform=Affine(cell, 0, x0, 0, -cell, y1), fill=0, dtype="uint8")
            got = _rasterize(geom, nrows, ncols, x0, y1, cell)
            assert np.array_equal(ref.astype(bool), got), (geom.wkt[:80], cell)
            cells += int(got.sum())
    assert cells > 100_000


def test_unrolled_plane_is_shapelys_rotation_and_scaling() -> None:
    """The layout's plane coordinates equal shapely.affinity.rotate then scale, to the last bit."""
    rng = np.random.default_rng(5)
    geom = MultiPolygon([box(651000, 7030000, 651012.3, 7030007.7).difference(box(651002, 7030002, 651004, 7030004)),
                         Polygon(rng.uniform(0, 10, size=(8, 2)) + (651020, 7030000)).convex_hull])
    for az in (*rng.uniform(0, 360, 20), 0.0, 90.0, 180.0, 270.0, 360.0):
        for tilt in (0.0, 17.3, 45.0, 62.0):
            sv = 1.0 / math.cos(math.radians(tilt))
            ref = affinity.scale(affinity.rotate(geom, az - 180.0, origin=(0, 0)), 1.0, sv, origin=(0, 0))
            got = _unrolled(_rings(geom)[0], float(az), sv)
            assert np.array_equal(_rings(ref)[0], got), (az, tilt)


def test_count_modules_many_equals_one_by_one() -> None:
    """The batch used by the scoring gives count_modules' count and layout for every face (pitched, flat,
    multipolygon, too small, empty)."""
    rng = np.random.default_rng(3)
    geoms: list[Polygon | MultiPolygon] = [Polygon(), box(0, 0, 1, 1),
                                           MultiPolygon([box(0, 0, 6, 4), box(7, 0, 12, 9).difference(box(8, 2, 9, 3))])]
    geoms += [Polygon(rng.uniform(0, 14, size=(7, 2)) + (651000, 7030000)).convex_hull for _ in range(30)]
    n = len(geoms)
    tilt, az = rng.uniform(0, 55, n), rng.uniform(0, 360, n)
    az[3] = math.nan
    flat = rng.random(n) < 0.3
    counts, layouts = count_modules_many(geoms, tilt, az, flat, rack_pitch_m=2.1)
    expected = [count_modules(g, t, a, rack=bool(f), rack_pitch_m=2.1)
                for g, t, a, f in zip(geoms, tilt, az, flat, strict=True)]
    assert list(zip(counts.tolist(), layouts, strict=True)) == expected
    assert sum(c for c, _ in expected) > 100


def test_rack_spacing_follows_winter_noon_sun(site: SiteModel) -> None:
    elev = site.winter_noon_elevation_deg()
    # solar noon elevation at the winter solstice: 90 - latitude - 23.44 (± refraction)
    assert elev == pytest.approx(90.0 - config.PMA_LATITUDE_DEG - 23.44, abs=0.5)
    pitch, gcr = rack_ground_cover_ratio(15.0, 1.134, elev)
    b = math.radians(15.0)
    assert pitch == pytest.approx(1.134 * math.cos(b) + 1.134 * math.sin(b) / math.tan(math.radians(elev)))
    assert gcr == pytest.approx(1.134 / pitch)
    n, layout = count_modules(box(0, 0, 20.0, 10.0), 0.0, math.nan, rack=True, rack_pitch_m=pitch)
    rows = int(math.floor((10.0 - 1.134 * math.cos(b)) / pitch)) + 1
    assert layout == "rack" and n == rows * _grid(20.0, config.MODULE_LENGTH_M)


def test_site_model_horizontal_plane_is_ghi_and_optimum_is_south(site: SiteModel) -> None:
    w = site.weather.data  # type: ignore[attr-defined]
    ghi_year = float(w["ghi"].sum()) / 1000.0
    # horizontal plane = beam + diffuse = GHI (up to the weather file's closure, DNI cos z + DHI vs GHI)
    assert site.plane_irradiation_kwh_m2(0.0, 180.0).sum() == pytest.approx(ghi_year, rel=1e-3)
    assert site.ghi_kwh_m2().sum() == pytest.approx(sum(config.PMA_MONTHLY_GHI_KWH_M2), rel=0.01)
    tilt, az, h_opt = site.optimum()
    assert 20.0 <= tilt <= 45.0 and abs(az - 180.0) < 10.0
    # the optimum is a maximum: nearby planes get less
    for dt, da in ((-8, 0), (8, 0), (0, -20), (0, 20)):
        assert site.plane_irradiation_kwh_m2(tilt + dt, az + da).sum() < h_opt + 0.5


def test_orientation_yield_losses_and_profile(site: SiteModel) -> None:
    o = site.orientation(30.0, 180.0, profile_id="t30a180")
    # losses: 14 % system loss, incidence and temperature; cold months gain from the temperature
    # coefficient (cells below 25 °C) by at most |γ| x 25 K
    annual = o.ac_kwh_kwp.sum() / o.poa_kwh_m2.sum()
    assert 0.75 < annual < 1.0 - config.PV_SYSTEM_LOSS
    assert np.all(o.performance < (1.0 - config.PV_SYSTEM_LOSS) * (1 + 25 * abs(config.MODULE_GAMMA_PDC_PER_K)))
    assert o.performance[6] < o.performance[0]  # July (hot cells) below January
    assert 850.0 < o.ac_kwh_kwp.sum() < 1050.0  # PVGIS gives ~950 kWh/kWp/yr for 30° south at Lens
    months = profile_months()
    sums = np.bincount(months, weights=o.hourly_share, minlength=12)
    assert np.allclose(sums, 1.0)
    # production happens in daytime only: no share between 23:00 and 03:00 local time
    hour = np.tile(np.arange(24), 365)
    assert o.hourly_share[(hour >= 23) | (hour <= 3)].sum() == 0.0
    assert np.allclose(decode_profile(encode_profile(o.hourly_share)), o.hourly_share, atol=1e-7)
    # a north face gets far less energy
    north = site.orientation(30.0, 0.0, profile_id="t30a000")
    assert north.ac_kwh_kwp.sum() < 0.75 * o.ac_kwh_kwp.sum()


def test_bins_words_and_classes() -> None:
    assert orientation_bin(34.0, 187.0) == ("t30a180", 30.0, 180.0)
    assert orientation_bin(2.0, math.nan, is_flat=True)[0] == "rack"
    assert orientation_word(180.0, False) == "sud" and orientation_word(225.0, False) == "sud-ouest"
    assert orientation_word(350.0, False) == "nord" and orientation_word(math.nan, True) == "plat"
    assert classify(0.95, 10) == "excellent" and classify(0.85, 10) == "bon"
    assert classify(0.75, 10) == "moyen" and classify(0.65, 10) == config.SUITABILITY_UNSUITABLE
    assert classify(0.99, config.SUITABLE_MIN_MODULES - 1) == config.SUITABILITY_UNSUITABLE
