"""Ground PV and APER rules checked against hand computation and independent references (no raster)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pvlib
import pytest
from affine import Affine
from scipy import ndimage
from shapely.geometry import box

from geo import config
from geo.sites import aper
from geo.sites.canopy import grow, shrink, tree_mask
from geo.sites.economics import band_price, lcoe_eur_mwh
from geo.sites.ground import mask_polygon, usable_ground


@pytest.mark.parametrize(("counted", "share", "status", "deadline", "postponed"), [
    (1500.0, 0.0, "below_threshold", None, None),        # "supérieure à 1 500 m²": 1,500 itself is not
    (1500.5, 0.0, "concerned", "2028-07-01", None),
    (10_000.0, 0.0, "concerned", "2028-07-01", None),    # 10,000 m² is not "> 10,000"
    (10_000.5, 0.2, "concerned", "2026-07-01", "2028-07-01"),
    (20_000.0, 0.5, "exempt_trees", None, None),         # trees over at least half: exempt
    (20_000.0, 0.49, "concerned", "2026-07-01", "2028-07-01"),
    (900.0, 0.9, "below_threshold", None, None),
])
def test_aper_status_thresholds_and_deadlines(counted: float, share: float, status: str, deadline: str | None,
                                              postponed: str | None) -> None:
    st = aper.aper_status(counted, share)
    assert (st.status, st.deadline, st.deadline_postponed) == (status, deadline, postponed)


def test_counted_surface_excludes_green_islands_and_buildings() -> None:
    park = box(0, 0, 100, 50)                      # 5,000 m²
    grass = box(10, 10, 20, 20)                    # 100 m² inside
    kiosk = box(90, 40, 110, 60)                   # 10 x 10 = 100 m² of it inside
    far = box(500, 500, 510, 510)                  # elsewhere: ignored
    assert aper.counted_surface(park, [grass, kiosk, far]).area == pytest.approx(4800.0)


def test_canopy_pixels_take_the_sunniest_outside_trees() -> None:
    counted = np.zeros((4, 4), bool)
    counted[:, :3] = True                          # 12 px
    trees = np.zeros((4, 4), bool)
    trees[0, 0] = True
    annual = np.arange(16, dtype=float).reshape(4, 4)
    pix = aper.canopy_pixels(counted, trees, annual, 5)
    # the 5 largest values among counted & not tree: 14, 13, 12, 10, 9
    assert sorted(annual[pix].tolist()) == [9.0, 10.0, 12.0, 13.0, 14.0]
    assert aper.canopy_pixels(counted, trees, annual, 100).sum() == 11  # never over the trees


def test_canopy_power_density_by_hand() -> None:
    # 425 Wp on (1.722 + 0.02) x (1.134 + 0.02) m
    assert aper.CANOPY_KWP_PER_M2 == pytest.approx(0.425 / (1.742 * 1.154))


def test_tradeoff_is_french_and_states_the_figures() -> None:
    t = aper.tradeoff_fr("exempt_trees", 0.71, 147.4, 58.6)
    assert "71 %" in t and "147 kWc" in t and "exonéré" in t
    assert "fraîch" in aper.tradeoff_fr("concerned", 0.1, 100.0, 90.0)


def test_lcoe_by_hand() -> None:
    # no discounting, no degradation: (CAPEX + n O&M) / (n E)
    assert lcoe_eur_mwh(100_000.0, 2_000.0, 95_000.0, years=20, rate=0.0, degradation=0.0) == \
        pytest.approx(1000 * (100_000 + 20 * 2_000) / (20 * 95_000))
    # two years, 5 %, 1 %/yr degradation
    num = 1000.0 + 10.0 / 1.05 + 10.0 / 1.05**2
    den = 1000.0 / 1.05 + 990.0 / 1.05**2
    assert lcoe_eur_mwh(1000.0, 10.0, 1000.0, years=2, rate=0.05, degradation=0.01) == pytest.approx(1000 * num / den)
    assert math.isnan(lcoe_eur_mwh(1000.0, 10.0, 0.0))


def test_band_price() -> None:
    bands = config.GROUND_PV_COST_EUR_PER_KWP
    assert band_price(100.0, bands) == bands[0][1]
    assert band_price(500.0, bands) == bands[0][1]
    assert band_price(500.1, bands) == bands[1][1]
    assert band_price(1e6, bands) == bands[-1][1]


def test_grow_and_shrink_match_the_euclidean_distance() -> None:
    m = np.zeros((41, 41), bool)
    m[18:22, 15:25] = True
    d_out = ndimage.distance_transform_edt(~m)
    assert np.array_equal(grow(m, 3.0, 1.0), d_out <= 3.0)
    square = np.zeros((30, 30), bool)
    square[5:25, 5:25] = True
    # a pixel survives a 5 m setback when no outside pixel lies within 5 px: the 20 x 20 square keeps 10 x 10
    assert shrink(square, 5.0, 1.0).sum() == 100
    assert shrink(square, 5.0, 0.5).sum() == 0  # 5 m = 10 px at 0.5 m: nothing left of a 10 m square


def test_tree_mask_ignores_cars_and_buildings() -> None:
    dtm = np.zeros((3, 3))
    dsm = np.array([[1.5, 8.0, 8.0], [0.0, 2.5, np.nan], [6.0, 0.0, 0.0]])
    buildings = np.zeros((3, 3), bool)
    buildings[2, 0] = True
    assert tree_mask(dsm, dtm, buildings, 2.0).tolist() == [
        [False, True, True], [False, True, False], [False, False, False]]


def test_usable_ground_by_hand() -> None:
    """A 30 m square site at 1 m pixels: setback, a building with clearance, a steep band, no data."""
    n = 50
    inside = np.zeros((n, n), bool)
    inside[10:40, 10:40] = True                                   # 900 m²
    buildings = np.zeros((n, n), bool)
    buildings[24:26, 24:26] = True
    trees = np.zeros((n, n), bool)
    water = np.zeros((n, n), bool)
    slope = np.full((n, n), 2.0)
    slope[15:17, 15:35] = 40.0                                   # a steep bank, 2 x 20 px
    irradiated = np.ones((n, n), bool)
    irradiated[33, 20] = False
    usable, ex = usable_ground(inside, res_m=1.0, buildings=buildings, trees=trees, water=water,
                               slope_deg=slope, irradiated=irradiated)
    setback = 900 - 20 * 20                                      # the 5 m ring
    clearance = int((ndimage.distance_transform_edt(~buildings) <= config.GROUND_PV_OBSTACLE_CLEARANCE_M).sum())
    assert ex["setback"] == setback
    assert ex["buildings"] == clearance                          # the grown building lies inside the interior
    assert ex["steep"] == 2 * 20                                  # the bank lies inside the interior
    assert ex["no_irradiation"] == 1
    assert usable.sum() == 900 - setback - clearance - 40 - 1
    assert ex["small_parts"] == 0
    assert mask_polygon(usable, Affine(1, 0, 0, 0, -1, n)).area == pytest.approx(float(usable.sum()))


def test_small_parts_are_dropped() -> None:
    inside = np.zeros((60, 60), bool)
    inside[0:20, 0:60] = True  # 20 m x 60 m: rows 5-14 survive the 5 m setback
    wall = np.zeros((60, 60), bool)
    wall[:, 50] = True  # a wall whose clearance leaves a thin strip before the east setback
    usable, ex = usable_ground(inside, res_m=1.0, buildings=wall, trees=np.zeros_like(wall),
                               water=np.zeros_like(wall), slope_deg=np.zeros((60, 60)),
                               irradiated=np.ones_like(wall))
    # the strip between the wall's clearance (x <= 52) and the setback (x >= 55): 2 px x 10 px < 50 m²
    assert ex["small_parts"] == pytest.approx(2 * 10)
    assert not usable[:, 51:].any()
    assert usable.sum() == 10 * (48 - 5)  # x 5-47 kept


def test_winter_noon_rack_density_matches_pvlib() -> None:
    """kWp per m² of flat ground: rows of landscape modules spaced for the winter-solstice noon sun."""
    from geo.io.weather import load_weather
    from geo.roofs.pv import SiteModel
    from geo.sites.build import _rack_kwp_per_m2

    site = SiteModel(load_weather(None))
    times = pd.date_range("2023-12-21 10:00", "2023-12-21 14:00", freq="1min", tz="UTC")
    h = float(pvlib.solarposition.get_solarposition(times, site.weather.latitude_deg,  # type: ignore[attr-defined]
                                                    site.weather.longitude_deg)["apparent_elevation"].max())
    b, L = math.radians(config.FLAT_ROOF_RACK_TILT_DEG), config.MODULE_WIDTH_M
    pitch = L * math.cos(b) + L * math.sin(b) / math.tan(math.radians(h))
    assert 15.5 < h < 17.0  # Lens, 50.4° N
    assert _rack_kwp_per_m2(site) == pytest.approx(0.425 / (pitch * (config.MODULE_LENGTH_M + config.MODULE_GAP_M)),
                                                   rel=1e-3)
