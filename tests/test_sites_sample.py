"""The sites stage on the small sample's build: areas, statuses, deadlines and yields vs truths and pvlib."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pvlib
import pytest
import rasterio
import rasterio.features

from geo import config
from geo.io.weather import load_weather
from geo.products import BuildFolder
from geo.sites.aper import CANOPY_KWP_PER_M2

PIT, FLANK, POINT = "62498_19-03.0001", "62498_19-03.0002", "62528_21-07.0003"
LINED, GYM, SCHOOL = "osm-w-101", "osm-w-102", "osm-w-103"


@pytest.fixture(scope="module")
def layers(built_dir: Path, sample_dir: Path) -> dict[str, gpd.GeoDataFrame]:
    path = built_dir / "sites.gpkg"
    if not path.is_file():
        pytest.skip("the pipeline did not build sites.gpkg")
    return {
        "friches": gpd.read_file(path, layer="friches").set_index("site_id"),
        "car_parks": gpd.read_file(path, layer="car_parks").set_index("car_park_id"),
        "communes": gpd.read_file(path, layer="communes_sites"),
        "truth": gpd.read_file(sample_dir / "sites" / "sites_truth.gpkg").set_index("site_id"),
    }


def pvlib_specific_yield(tilt: float, azimuth: float) -> float:
    """Unshaded AC kWh/kWp/yr at the sample's weather, from pvlib alone (Perez, Faiman, PVWatts, 14 % loss)."""
    w = load_weather(None)  # the sample has no weather file: the build used the offline default
    df = w.data
    sp = pvlib.solarposition.get_solarposition(df.index, w.latitude_deg, w.longitude_deg)
    poa = pvlib.irradiance.get_total_irradiance(
        tilt, azimuth, sp["apparent_zenith"], sp["azimuth"], df["dni"], df["ghi"], df["dhi"],
        dni_extra=pvlib.irradiance.get_extra_radiation(df.index), model="perez", albedo=config.SOLAR_ALBEDO,
        airmass=pvlib.atmosphere.get_relative_airmass(sp["apparent_zenith"]))["poa_global"].fillna(0.0)
    tcell = pvlib.temperature.faiman(poa, df["temp_air"], df["wind_speed"])
    dc = pvlib.pvsystem.pvwatts_dc(poa, tcell, 1.0, config.MODULE_GAMMA_PDC_PER_K).clip(lower=0.0)
    years = len(df) * w.interval_h / 8760.0
    return float((dc * (1 - config.PV_SYSTEM_LOSS) * w.interval_h).sum() / years)


def test_irradiance_is_computed_on_the_sites_ground_only(built_dir: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    with rasterio.open(BuildFolder(built_dir).irradiance) as ds:
        band = ds.read(1, masked=True)
        pit = rasterio.features.geometry_mask([layers["truth"].loc[PIT, "geometry"]], band.shape, ds.transform,
                                              invert=True)
        assert (~band.mask[pit]).all()  # every pixel of the pit-head friche computed
        # an open lawn of the park, away from roofs and sites, stays nodata (only the mask was extended)
        r, c = ds.index(685_270.0, 7_037_560.0)
        assert band.mask[r, c]


def test_friche_areas_against_the_truth(layers: dict[str, gpd.GeoDataFrame]) -> None:
    f, t = layers["friches"], layers["truth"]
    pit = f.loc[PIT]
    assert pit["area_m2"] == pytest.approx(46 * 142, abs=1.0)
    # 46 m x 142 m less a 5 m setback all round: 36 x 132 m (hand); no tree, building, water or steep ground
    assert pit["usable_area_m2"] == pytest.approx(36 * 132, rel=0.01)
    assert pit["usable_area_m2"] == pytest.approx(t.loc[PIT, "counted_m2"], rel=0.01)
    assert pit["excluded_trees_m2"] == 0 and pit["excluded_steep_m2"] == 0
    assert pit["pollution_flag"] and pit["heritage_flag"] and not pit["approximate"]
    flank = f.loc[FLANK]
    assert flank["is_terril"] and flank["excluded_trees_m2"] > 100  # the heap's wooded lower flank
    assert flank["usable_area_m2"] == pytest.approx(t.loc[FLANK, "counted_m2"], rel=0.03)
    assert "terril" in flank["note"]
    pt = f.loc[POINT]
    assert pt["approximate"] and pt["area_m2"] == 12000.0 and pt["geom_source"] == "geompoint"
    assert pt["usable_area_m2"] == pytest.approx(12000.0 * config.FRICHES_POINT_USABLE_SHARE)


def test_friche_yields_against_pvlib(layers: dict[str, gpd.GeoDataFrame]) -> None:
    f = layers["friches"]
    pit = f.loc[PIT]
    assert pit["layout"].startswith("rack:") and pit["n_modules"] * 0.425 == pytest.approx(pit["kwp"])
    # flat ground: 15° south racks; shading from the engine
    ref = pvlib_specific_yield(config.FLAT_ROOF_RACK_TILT_DEG, 180.0) * (1.0 - pit["shading_loss"])
    assert pit["specific_yield_kwh_kwp"] == pytest.approx(ref, rel=0.06)
    assert sum(pit[f"production_m{m:02d}_kwh"] for m in range(1, 13)) / 1000 == pytest.approx(pit["production_mwh_yr"])
    # the flank: modules along the slope, grouped by orientation bin ("t30a150:958, …")
    flank = f.loc[FLANK]
    groups = [(g.split(":")[0], int(g.split(":")[1])) for g in flank["layout"].split(", ")]
    assert all(pid.startswith("t30") or pid.startswith("t40") for pid, _ in groups)
    ref_flank = sum(n * pvlib_specific_yield(float(pid[1:3]), float(pid[4:7])) for pid, n in groups) / \
        sum(n for _, n in groups) * (1.0 - flank["shading_loss"])
    assert flank["specific_yield_kwh_kwp"] == pytest.approx(ref_flank, rel=0.08)
    # the point-only friche: unshaded pvlib yield of the racks
    pt = f.loc[POINT]
    assert pt["specific_yield_kwh_kwp"] == pytest.approx(pvlib_specific_yield(15.0, 180.0), rel=0.06)
    # cost and LCOE by hand
    price = next(p for upper, p in config.GROUND_PV_COST_EUR_PER_KWP if pit["kwp"] <= upper)
    assert pit["cost_eur"] == pytest.approx(pit["kwp"] * price)
    r, n = config.SITES_DISCOUNT_RATE, config.SITES_LCOE_YEARS
    e1 = pit["production_mwh_yr"] * 1000
    cost = pit["cost_eur"] + pit["kwp"] * config.GROUND_PV_OM_EUR_PER_KWP_YR * sum((1 + r) ** -t for t in range(1, n + 1))
    energy = sum(e1 * (1 - config.MODULE_DEGRADATION_PER_YEAR) ** (t - 1) * (1 + r) ** -t for t in range(1, n + 1))
    assert pit["lcoe_eur_mwh"] == pytest.approx(1000 * cost / energy)
    assert pit["cre_price_eur_mwh"] == 74.13


def test_car_parks_against_the_truth(layers: dict[str, gpd.GeoDataFrame]) -> None:
    c, t = layers["car_parks"], layers["truth"]
    assert set(c.index) == set(t.index[t["kind"] == "car_park"])
    for cid, row in c.iterrows():
        assert row["counted_area_m2"] == pytest.approx(t.loc[cid, "counted_m2"], abs=1.0), cid
        assert row["tree_share"] == pytest.approx(t.loc[cid, "tree_share"], abs=0.05), cid
        assert row["aper_status"] == t.loc[cid, "aper_status"], cid
        expected = t.loc[cid, "aper_deadline"]
        assert (row["aper_deadline"] if isinstance(row["aper_deadline"], str) else None) == \
            (expected if isinstance(expected, str) else None), cid
    # hand: the gym's car park is 52 m x 38 m less its 12 m x 12 m grass island
    assert c.loc[GYM, "counted_area_m2"] == pytest.approx(52 * 38 - 144, abs=1.0)
    assert c.loc[GYM, "aper_status"] == "concerned" and c.loc[GYM, "aper_deadline"] == "2028-07-01"
    assert c.loc[SCHOOL, "aper_status"] == "below_threshold"
    assert c.loc[LINED, "aper_status"] == "exempt_trees" and c.loc[LINED, "tree_share"] > 0.5
    assert "exonéré" in c.loc[LINED, "tradeoff_fr"]


def test_canopy_over_half_the_car_park(layers: dict[str, gpd.GeoDataFrame]) -> None:
    gym = layers["car_parks"].loc[GYM]
    assert gym["canopy_area_m2"] == pytest.approx(0.5 * gym["counted_area_m2"], abs=0.25)
    assert gym["canopy_kwp"] == pytest.approx(gym["canopy_area_m2"] * 0.425 / (1.742 * 1.154))
    assert CANOPY_KWP_PER_M2 == pytest.approx(0.2114, abs=1e-4)
    ref = pvlib_specific_yield(config.CANOPY_TILT_DEG, config.CANOPY_AZIMUTH_DEG) * (1 - gym["canopy_shading_loss"])
    assert gym["canopy_production_mwh_yr"] * 1000 / gym["canopy_kwp"] == pytest.approx(ref, rel=0.06)
    lined = layers["car_parks"].loc[LINED]  # trees over 71 %: the canopy fits on the free 29 % only
    assert lined["canopy_area_m2"] < 0.5 * lined["counted_area_m2"]
    assert "free part" in lined["note"]


def test_commune_and_agglomeration_totals(layers: dict[str, gpd.GeoDataFrame]) -> None:
    f, c, com = layers["friches"], layers["car_parks"], layers["communes"]
    for _, row in com[com["level"] == "commune"].iterrows():
        ff = f[f["comm_insee"] == row["code"]]
        cc = c[c["code_insee"] == row["code"]]
        assert row["n_friches"] == len(ff) and row["friches_kwp"] == pytest.approx(ff["kwp"].sum())
        assert row["friches_production_mwh_yr"] == pytest.approx(ff["production_mwh_yr"].sum())
        concerned = cc[cc["aper_status"] == "concerned"]
        assert row["n_aper_concerned"] == len(concerned)
        assert row["aper_canopy_kwp"] == pytest.approx(concerned["canopy_kwp"].sum())
    epci = com[com["level"] == "epci"]
    assert len(epci) == 1
    assert epci["friches_kwp"].iloc[0] == pytest.approx(f["kwp"].sum())
    assert epci["n_car_parks"].iloc[0] == len(c)


def test_supermarket_of_the_default_sample() -> None:
    """The default territory's supermarket car park: over 10,000 m², deadline 1 July 2026 (scene only)."""
    from geo.sample.layout import build_scene
    from geo.sample.sites import truth
    from geo.sites.aper import aper_status

    t = truth(build_scene(small=False, seed=0), small=False).set_index("site_id")
    sm = t.loc["osm-r-201"]
    assert sm["counted_m2"] == pytest.approx(115 * 195 - 64 * 44)  # the lot around the 64 m x 44 m shop (hand)
    assert sm["tree_share"] < 0.5
    st = aper_status(sm["counted_m2"], sm["tree_share"])
    assert (sm["aper_status"], sm["aper_deadline"]) == (st.status, st.deadline) == ("concerned", "2026-07-01")
    assert st.deadline_postponed == "2028-07-01"
    assert math.isclose(t.loc["osm-w-102", "counted_m2"], 52 * 38 - 144)
    assert np.isfinite(t.loc["osm-w-101", "crown_share"])
