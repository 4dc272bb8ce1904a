"""The roofs stage on the generated sample: accuracy vs the generator's truth, obstacles, the terril's
shadow, the output contract, a building's economics and solar hot water recomputed by hand, the API's
simulate(), and the CLI with bad inputs."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely.geometry
from test_roofs_segmentation import match_share

from geo import config
from geo.cli import main
from geo.errors import InvalidRequestError, NotFoundError
from geo.products import BuildFolder, rooftops
from geo.products.rooftops import read_pv_profiles, read_site
from geo.roofs.economics import simulate


@pytest.fixture(scope="module")
def roofs_gpkg(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from geo.pipeline import build

    out = tmp_path_factory.mktemp("roofs_build")
    report = build(sample_dir, out, only=["irradiance", "roofs"])
    assert report.ok, report.lines()
    return BuildFolder(out).rooftops


@pytest.fixture(scope="module")
def clean_faces(clean_sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> gpd.GeoDataFrame:
    """Roof faces of the clean sample (exact DSM and footprints), for checks of exact geometry."""
    from geo.pipeline import build

    out = tmp_path_factory.mktemp("roofs_build_clean")
    report = build(clean_sample_dir, out, only=["irradiance", "roofs"])
    assert report.ok, report.lines()
    return gpd.read_file(out / "rooftops.gpkg", layer="roof_faces")


@pytest.fixture(scope="module")
def faces(roofs_gpkg: Path) -> gpd.GeoDataFrame:
    return rooftops.read_layer(roofs_gpkg, rooftops.ROOF_FACES)


@pytest.fixture(scope="module")
def truth(sample_dir: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(sample_dir / "rooftops" / "roof_faces_truth.gpkg", layer="roof_faces_truth")


def _pair(faces: gpd.GeoDataFrame, truth: gpd.GeoDataFrame) -> pd.DataFrame:
    """Each true face with the detected face covering most of it."""
    j = gpd.overlay(truth[["face_id", "geometry"]].rename(columns={"face_id": "true_id"}),
                    faces[["face_id", "geometry"]], how="intersection", keep_geom_type=True)
    j["a"] = j.geometry.area
    j = j.sort_values("a", ascending=False).drop_duplicates("true_id")
    return truth.drop(columns="geometry").merge(j[["true_id", "face_id"]], left_on="face_id", right_on="true_id",
                                                suffixes=("_t", "")).merge(
        faces.drop(columns="geometry"), on="face_id", suffixes=("_t", ""))


def test_faces_match_the_generator_truth(faces: gpd.GeoDataFrame, truth: gpd.GeoDataFrame) -> None:
    """Issue 13's targets on the realistic sample (footprints offset up to 1 m, 0.5 m too large or too
    small, some missing; 0.08 m DSM noise, holes, trees over roofs)."""
    within_10 = match_share(truth, faces, area_tol=0.10)
    within_5 = match_share(truth, faces, area_tol=0.05)
    assert within_10 >= 0.90, f"{within_10:.1%} of true faces >= 10 m² found within 3°, 5°, 10 %"
    assert within_5 >= 0.75, f"{within_5:.1%} of true faces >= 10 m² found within 3°, 5°, 5 %"


def test_buildings_data_quality(roofs_gpkg: Path, sample_dir: Path, clean_sample_dir: Path) -> None:
    """The offsets found match the sample's drawn offsets; demolished footprints have no roof."""
    b = rooftops.read_layer(roofs_gpkg, rooftops.BUILDINGS).set_index("building_id")
    drawn = gpd.read_file(sample_dir / "rooftops" / "batiment.gpkg").set_index("cleabs").geometry
    exact = gpd.read_file(clean_sample_dir / "rooftops" / "batiment.gpkg").set_index("cleabs").geometry
    demolished = drawn.index.difference(exact.index)
    assert len(demolished) >= 1 and (b.loc[demolished, "status"] == "no_roof").all()
    ok = b[b.status == "ok"]
    common = ok.index.intersection(exact.index)
    true_offset = drawn[common].centroid.distance(exact[common].centroid)
    err = (ok.loc[common, "dq_offset_m"] - true_offset).abs()
    assert err.median() < 0.15 and (err < 0.4).mean() > 0.9
    assert ok["dq_roof_share"].between(0, 1).all() and ok["dq_roof_share"].median() > 0.8
    # plane-fit RMS of the faces ≈ the DSM noise (0.08 m)
    assert ok["dq_plane_rms_m"].median() == pytest.approx(config.SAMPLE_DSM_NOISE_M, rel=0.25)
    assert ok["dq_tree_share"].between(0, 1).all() and (ok["dq_tree_share"] > 0.02).any()


def test_obstacles_reduce_usable_area(clean_faces: gpd.GeoDataFrame, truth: gpd.GeoDataFrame) -> None:
    """On the clean sample: the realistic one's party walls, trees and holes are obstacles the truth does
    not list, and its skylights (0.12 m proud) are lost in the 0.08 m DSM noise."""
    faces = clean_faces
    p = _pair(faces, truth)
    pitched = p[p["roof_type"].isin(["gable", "hip"])]
    obst = pitched[pitched[["has_chimney", "has_dormer", "has_skylight"]].any(axis=1)]
    clear = pitched[~pitched[["has_chimney", "has_dormer", "has_skylight"]].any(axis=1)]
    assert len(obst) > 50 and len(clear) > 50
    assert (obst["obstacle_area_m2"] > 0).mean() >= 0.9
    assert (clear["obstacle_area_m2"] == 0).mean() >= 0.9
    # usable area without obstacles = the face less the edge setback, by hand from its outline
    geom = faces.set_index("face_id").geometry
    setback = geom.buffer(-config.ROOF_EDGE_SETBACK_M, join_style="mitre").area

    def lost(d: pd.DataFrame) -> pd.Series:
        cos_t = np.cos(np.radians(d["tilt_deg"].to_numpy()))
        return setback[d["face_id"]].to_numpy() / cos_t - d["usable_area_m2"].to_numpy()

    assert np.median(lost(clear)) == pytest.approx(0.0, abs=0.05)
    # every obstacle takes area (a chimney astride the ridge mostly stands in the ridge setback already)
    assert (lost(obst) > 0.02).mean() >= 0.9 and np.median(lost(obst)) > 0.5
    # dormers (3-4 m² boxes) take more than chimneys and skylights
    assert obst[obst.has_dormer]["obstacle_area_m2"].median() > obst[~obst.has_dormer]["obstacle_area_m2"].median()


def test_terril_winter_shadow_raises_shading_loss(faces: gpd.GeoDataFrame, truth: gpd.GeoDataFrame) -> None:
    p = _pair(faces, truth)
    p["bin"] = p["orientation"] + "_" + (p["tilt_deg"] / 10).round().astype(int).astype(str)
    shaded = p[p.in_terril_shadow]
    assert len(shaded) >= 10
    higher = total = 0
    for b, g in shaded.groupby("bin"):
        open_ = p[(p.bin == b) & ~p.in_terril_shadow]
        if len(open_) < 3:
            continue
        total += len(g)
        higher += int((g["shading_loss"] > open_["shading_loss"].median()).sum())
        assert g["shading_loss"].mean() > open_["shading_loss"].mean()
    assert total >= 10 and higher >= 0.7 * total  # some faces are only partly in the shadow


def test_output_contract(roofs_gpkg: Path, faces: gpd.GeoDataFrame, sample_dir: Path) -> None:
    layers = dict(pyogrio.list_layers(roofs_gpkg))
    assert {layer.name for layer in rooftops.LAYERS} <= set(layers)
    need = ["face_id", "building_id", "tilt_deg", "azimuth_deg", "orientation", "is_flat", "area_m2",
            "usable_area_m2", "irradiation_kwh_m2_yr", "shading_loss", "n_modules", "kwp", "production_kwh_yr",
            "specific_yield_kwh_kwp", "suitability"]
    need += [f"irradiation_m{m:02d}_kwh_m2" for m in range(1, 13)] + [f"production_m{m:02d}_kwh" for m in range(1, 13)]
    assert set(need) <= set(faces.columns)
    assert faces.crs.to_epsg() == 2154
    assert set(faces.suitability) <= {"excellent", "bon", "moyen", "inadapté"}
    assert faces.face_id.is_unique and (faces.usable_area_m2 <= faces.area_m2 + 1e-6).all()
    month_sum = faces[[f"production_m{m:02d}_kwh" for m in range(1, 13)]].sum(axis=1)
    assert np.allclose(month_sum, faces.production_kwh_yr, equal_nan=True)
    assert np.allclose(faces.kwp, faces.n_modules * config.MODULE_PEAK_POWER_WP / 1000)
    b = rooftops.read_layer(roofs_gpkg, rooftops.BUILDINGS)
    fps = gpd.read_file(sample_dir / "rooftops" / "batiment.gpkg", layer="batiment")
    assert set(b.cleabs) == set(fps.cleabs)
    assert b.address.notna().mean() > 0.5 and b.code_insee.notna().all()
    c = rooftops.read_layer(roofs_gpkg, rooftops.COMMUNES_SOLAR)
    com = c[c.level == "commune"]
    assert com.n_buildings.sum() == len(b)
    epci = c[c.level == "epci"]
    assert len(epci) >= 1 and epci.kwp.sum() == pytest.approx(com.kwp.sum())
    suitable = faces[faces.suitability != "inadapté"]
    assert com.kwp.sum() == pytest.approx(suitable.kwp.sum())
    assert com.production_mwh_yr.sum() == pytest.approx(suitable.production_kwh_yr.sum() / 1000)


def _band(bands: tuple[tuple[float, float], ...], kwp: float) -> float:
    for upper, value in bands:
        if kwp <= upper:
            return value
    return 0.0


def test_one_building_economics_and_hot_water_by_hand(roofs_gpkg: Path, faces: gpd.GeoDataFrame) -> None:
    b = rooftops.read_layer(roofs_gpkg, rooftops.BUILDINGS)
    cand = b[(b.reco_kwp > 0) & (b.n_faces >= 2) & (b.owner == "menage")].sort_values("building_id")
    row = cand.iloc[0]
    f = faces[faces.building_id == row.building_id].copy()
    f = f[f.suitability != "inadapté"].sort_values("specific_yield_kwh_kwp", ascending=False)
    profiles = read_pv_profiles(roofs_gpkg)
    site = read_site(roofs_gpkg)
    # modules: best faces first
    n = int(row.reco_n_modules)
    left, prod_h = n, np.zeros(8760)
    month_of_hour = [(dt.datetime(2023, 1, 1) + dt.timedelta(hours=h)).month - 1 for h in range(8760)]
    for face in f.itertuples(index=False):
        take = min(left, int(face.n_modules))
        left -= take
        monthly = [getattr(face, f"production_m{m:02d}_kwh") for m in range(1, 13)]
        share = profiles[face.profile_id]
        prod_h += take / face.n_modules * np.array([share[h] * monthly[month_of_hour[h]] for h in range(8760)])
    kwp = n * config.MODULE_PEAK_POWER_WP / 1000
    assert row.reco_kwp == pytest.approx(kwp)
    # household load ("moyen" profile): config weights, 2023 calendar, blended, scaled to the consumption
    def shape(key: str) -> np.ndarray:
        p = config.LOAD_PROFILES[key]
        v = np.array([
            (p["weekend"] if (dt.date(2023, 1, 1) + dt.timedelta(days=h // 24)).weekday() >= 5
             else p["weekday"])[h % 24] * p["monthly"][month_of_hour[h]]  # type: ignore[index]
            for h in range(8760)])
        return v / v.sum()

    load = (2 / 3 * shape("sans_chauffage") + 1 / 3 * shape("chauffage_electrique")) * config.HOUSEHOLD_CONSUMPTION_KWH_YR
    production = prod_h.sum()
    sc = np.minimum(prod_h, load).sum()
    assert row.reco_production_kwh_yr == pytest.approx(production, rel=1e-6)
    assert row.reco_self_consumption_rate == pytest.approx(sc / production, rel=1e-6)
    t = config.PV_TARIFFS[config.PV_TARIFF_QUARTER]
    cost = (config.INSTALLED_COST_FIXED_EUR_HT + kwp * config.INSTALLED_COST_EUR_PER_KWP_HT[0][1]) * 1.055
    premium = kwp * _band(t["premium_eur_kwp"], kwp)  # type: ignore[arg-type]
    feed = _band(t["surplus_eur_kwh"], kwp)  # type: ignore[arg-type]
    price = config.RETAIL_PRICES_EUR_KWH[config.RETAIL_PRICE_DATE]["base"]
    assert row.reco_cost_eur == pytest.approx(cost)
    assert row.reco_savings_eur_yr == pytest.approx(sc * price, rel=1e-6)
    cum, payback = -cost, None
    for year in range(1, config.ANALYSIS_YEARS + 1):
        p_k = production * (1 - config.MODULE_DEGRADATION_PER_YEAR) ** (year - 1)
        flow = (p_k * sc / production * price * (1 + config.RETAIL_PRICE_ESCALATION_PER_YEAR) ** (year - 1)
                + p_k * (1 - sc / production) * (feed if year <= 20 else 0.0) - config.OM_COST_SHARE_PER_YEAR * cost
                + (premium if year == 1 else 0.0))
        if year == config.INVERTER_LIFE_YEARS + 1:
            flow -= (config.INVERTER_COST_FIXED_EUR_HT + config.INVERTER_COST_EUR_PER_KWP_HT * kwp) * 1.2
        if payback is None and cum + flow >= 0:
            payback = year - 1 + (-cum) / flow
        cum += flow
    assert row.reco_net_gain_eur == pytest.approx(cum, rel=1e-6)
    if payback is None:
        assert math.isnan(row.reco_payback_yr)
    else:
        assert row.reco_payback_yr == pytest.approx(payback, rel=1e-6)
    assert row.co2_avoided_kg_yr == pytest.approx(production * config.GRID_CO2_KG_PER_KWH)
    # solar hot water on the face named, by hand
    swh_face = faces[faces.face_id == row.swh_face_id].iloc[0]
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    area = min(max(config.SWH_PERSONS * config.SWH_COLLECTOR_M2_PER_PERSON, 2.0), 4.0)
    heat = demand = 0.0
    for m in range(12):  # f-chart (Duffie & Beckman eq. 20.3.1, hot-water correction 20.3.3)
        ta, tw = site.temp_air_c[m], config.SWH_COLD_WATER_TEMP_C[m]
        q = (config.SWH_PERSONS * config.SWH_LITRES_PER_PERSON_DAY * days[m]
             * (config.SWH_HOT_WATER_TEMP_C - tw) * 4.186 / 3600) + config.SWH_TANK_LOSS_KWH_DAY * days[m]
        x = (area * config.SWH_A1_W_M2K * 0.95 * (100 - ta) * days[m] * 86400 / (q * 3.6e6)
             * (11.6 + 1.18 * config.SWH_HOT_WATER_TEMP_C + 3.86 * tw - 2.32 * ta) / (100 - ta))
        y = area * config.SWH_ETA0 * 0.95 * 0.94 * swh_face[f"module_irradiation_m{m + 1:02d}_kwh_m2"] / q
        f_m = min(1.0, max(0.0, 1.029 * y - 0.065 * x - 0.245 * y**2 + 0.0018 * x**2 + 0.0215 * y**3))
        heat += f_m * q
        demand += q
    assert row.swh_collector_m2 == pytest.approx(area)
    assert row.swh_heat_kwh_yr == pytest.approx(heat, rel=1e-6)
    assert row.swh_solar_fraction == pytest.approx(heat / demand, rel=1e-6)
    assert 0.35 < heat / demand < 0.6  # northern France CESI: 40-60 % (ADEME)


def test_simulate_for_the_api(roofs_gpkg: Path, faces: gpd.GeoDataFrame) -> None:
    b = rooftops.read_layer(roofs_gpkg, rooftops.BUILDINGS)
    row = b[(b.reco_kwp > 0) & (b.owner == "menage")].sort_values("building_id").iloc[0]
    bf = faces[faces.building_id == row.building_id]
    profiles = read_pv_profiles(roofs_gpkg)
    r = simulate(bf, annual_consumption_kwh=config.HOUSEHOLD_CONSUMPTION_KWH_YR, profiles=profiles)
    assert r.kwp == pytest.approx(row.reco_kwp)
    assert r.net_gain_eur == pytest.approx(row.reco_net_gain_eur)
    big = simulate(bf, annual_consumption_kwh=9000, profiles=profiles, kwp=1000)
    assert big.capped and big.n_modules == bf[bf.suitability != config.SUITABILITY_UNSUITABLE].n_modules.sum()
    assert big.self_consumption_rate < 1 and big.n_modules >= r.n_modules and big.cost_eur >= r.cost_eur
    small = simulate(bf, annual_consumption_kwh=2000, profiles=profiles, kwp=2.0)
    assert small.kwp == pytest.approx(4 * config.MODULE_PEAK_POWER_WP / 1000) and not small.capped
    one = bf.face_id.iloc[0]
    assert dict(simulate(bf, annual_consumption_kwh=3000, profiles=profiles, kwp=1.0, face_ids=[one]).faces) == {one: 2}
    with pytest.raises(NotFoundError, match="unknown face"):
        simulate(bf, annual_consumption_kwh=3000, profiles=profiles, face_ids=["nope"])
    with pytest.raises(InvalidRequestError, match="positive"):
        simulate(bf, annual_consumption_kwh=-1, profiles=profiles)


def test_cli_roofs_with_bad_inputs(sample_dir: Path, roofs_gpkg: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    roof = sample_dir / "rooftops"
    fps = gpd.read_file(roof / "batiment.gpkg", layer="batiment").iloc[:40]
    x0, y0, _, _ = fps.total_bounds
    bad = gpd.GeoDataFrame({"cleabs": ["BOWTIE", "FAR"]}, geometry=[
        shapely.geometry.Polygon([(x0, y0), (x0 + 4, y0 + 4), (x0 + 4, y0), (x0, y0 + 4)]),
        shapely.geometry.box(x0 - 5000, y0 - 5000, x0 - 4990, y0 - 4990)], crs=fps.crs)
    mixed = pd.concat([fps, bad], ignore_index=True).to_crs("EPSG:4326")
    fp_path = tmp_path / "fp.gpkg"
    mixed.to_file(fp_path, layer="batiment")
    irr = BuildFolder(roofs_gpkg.parent).irradiance
    dsm = sorted((roof / "lidar").glob("*MNS*.tif"))
    out = tmp_path / "r.gpkg"
    args = ["solar", "roofs", "--irradiance", str(irr), "--footprints", str(fp_path), "--out", str(out)]
    for d in dsm:
        args += ["--dsm", str(d)]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "reprojected footprints" in text and "outside dsm" in text
    got = rooftops.read_layer(out, rooftops.BUILDINGS)
    assert len(got) == len(mixed) and got.crs.to_epsg() == 2154
    assert got.set_index("building_id").loc["FAR", "status"] == "outside_dsm"
    # a missing irradiation raster: one line naming the file, exit 2
    assert main(["solar", "roofs", "--irradiance", str(tmp_path / "none.tif"), "--dsm", str(dsm[0]),
                 "--out", str(tmp_path / "x.gpkg")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("artois: error: ") and "none.tif" in err and len(err.strip().splitlines()) == 1


def _run_sample(sample_dir: Path, irr: Path, out: Path, *, tile_m: float, footprints: bool) -> Path:
    from geo.roofs.build import run_roofs

    roof = sample_dir / "rooftops"
    run_roofs(irradiance=irr, dsm=sorted((roof / "lidar").glob("*MNS*.tif")),
              dtm=sorted((roof / "lidar").glob("*MNT*.tif")), out=out,
              footprints=roof / "batiment.gpkg" if footprints else None,
              addresses=sorted(roof.glob("adresses-*.csv"))[0], tile_m=tile_m)
    return out


def _assert_same_roofs(a_path: Path, b_path: Path) -> None:
    a = rooftops.read_layer(a_path, rooftops.ROOF_FACES)
    b = rooftops.read_layer(b_path, rooftops.ROOF_FACES)
    assert len(a) == len(b) > 0
    assert a["face_id"].tolist() == b["face_id"].tolist()
    for col in ("kwp", "production_kwh_yr", "usable_area_m2", "irradiation_kwh_m2_yr", "tilt_deg"):
        np.testing.assert_allclose(a[col].to_numpy(float), b[col].to_numpy(float), rtol=0, atol=1e-6,
                                   err_msg=col)
    assert all(g.equals_exact(h, 1e-6) for g, h in zip(a.geometry, b.geometry, strict=True))
    ba = rooftops.read_layer(a_path, rooftops.BUILDINGS)
    bb = rooftops.read_layer(b_path, rooftops.BUILDINGS)
    assert ba["building_id"].tolist() == bb["building_id"].tolist()
    assert ba["status"].tolist() == bb["status"].tolist()
    np.testing.assert_allclose(ba["kwp_max"].to_numpy(float), bb["kwp_max"].to_numpy(float), atol=1e-6)
    assert (rooftops.read_layer(a_path, rooftops.PV_PROFILES)["profile_id"].tolist()
            == rooftops.read_layer(b_path, rooftops.PV_PROFILES)["profile_id"].tolist())


def test_streamed_roofs_equal_a_single_group(sample_dir: Path, roofs_gpkg: Path, tmp_path: Path) -> None:
    """Groups of 150 m (buildings straddling their edges) give the same faces as one group (the 1 km default)."""
    from geo.io.rasters import read_grid
    from geo.roofs.build import _plan_groups
    from geo.roofs.segmentation import prepare_footprints

    roof = sample_dir / "rooftops"
    mosaic = read_grid(sorted((roof / "lidar").glob("*MNS*.tif")))
    fps, _ = prepare_footprints(gpd.read_file(roof / "batiment.gpkg"), mosaic.crs.to_wkt(), mosaic.bounds)
    groups = _plan_groups(fps, mosaic, 150.0)
    assert len(groups) >= 3 and len(_plan_groups(fps, mosaic, 1000.0)) == 1
    assert sorted(np.concatenate([g.members for g in groups]).tolist()) == np.flatnonzero(
        fps["status"] == "ok").tolist()
    b = fps.geometry.bounds
    straddle = (np.floor(b["minx"] / 150) != np.floor(b["maxx"] / 150)) | (
        np.floor(b["miny"] / 150) != np.floor(b["maxy"] / 150))
    assert straddle.sum() >= 10, "the test needs buildings cut by the 150 m grid"
    assert any(len(g.context) > len(g.members) for g in groups)
    streamed = _run_sample(sample_dir, BuildFolder(roofs_gpkg.parent).irradiance, tmp_path / "s.gpkg",
                           tile_m=150.0, footprints=True)
    _assert_same_roofs(roofs_gpkg, streamed)


def test_streamed_detection_without_footprints(sample_dir: Path, roofs_gpkg: Path, tmp_path: Path) -> None:
    """Buildings detected from DSM − DTM per 150 m tile: none twice, none cut, numbered as in one piece."""
    from geo.io.rasters import read_grid
    from geo.roofs.build import _detect_streamed
    from geo.roofs.detection import detect_buildings

    lidar = sample_dir / "rooftops" / "lidar"
    dsm, dtm = sorted(lidar.glob("*MNS*.tif")), sorted(lidar.glob("*MNT*.tif"))
    from geo.io.rasters import read_raster

    whole = detect_buildings(read_raster(dsm).data, read_raster(dtm).data, read_raster(dsm).transform,
                             crs="EPSG:2154")
    tiled = _detect_streamed(read_grid(dsm), read_grid(dtm), 150.0)
    assert len(whole) == len(tiled) > 10
    assert whole["building_id"].tolist() == tiled["building_id"].tolist()
    assert all(g.equals(h) for g, h in zip(whole.geometry, tiled.geometry, strict=True))
    irr = BuildFolder(roofs_gpkg.parent).irradiance
    one = _run_sample(sample_dir, irr, tmp_path / "one.gpkg", tile_m=1000.0, footprints=False)
    many = _run_sample(sample_dir, irr, tmp_path / "many.gpkg", tile_m=150.0, footprints=False)
    _assert_same_roofs(one, many)


def test_territory_noise_is_the_exact_median(tmp_path: Path) -> None:
    """The streamed noise estimate equals np.median over all building pixels, in memory and in two passes."""
    import rasterio.features

    from geo.io.rasters import lidar_tile_name, read_grid, write_geotiff
    from geo.roofs.build import _plan_groups, _territory_noise
    from geo.roofs.segmentation import local_planes, prepare_footprints
    from geo.roofs.synthetic import make_scene

    scene = make_scene(size_m=200.0, noise_m=0.03, seed=3, origin=(686000.0, 7038000.0))
    path = tmp_path / lidar_tile_name(686, 7038, "MNS")
    write_geotiff(path, scene.dsm.astype(np.float32), transform=scene.transform, crs="EPSG:2154")
    mosaic = read_grid([path])
    fps, _ = prepare_footprints(scene.footprints, mosaic.crs.to_wkt(), mosaic.bounds)
    ok = fps["status"] == "ok"
    lab = rasterio.features.rasterize(((g, i + 1) for i, g in zip(np.flatnonzero(ok), fps.geometry[ok],
                                                                    strict=True)),
                                      out_shape=scene.dsm.shape, transform=scene.transform, dtype="int32")
    _, _, rms = local_planes(scene.dsm.astype(np.float64), 0.5, lab)
    expected = float(np.median(rms[(lab > 0) & np.isfinite(rms)]))
    assert 0.01 < expected < 0.05
    groups = _plan_groups(fps, mosaic, 60.0)
    assert len(groups) >= 9
    assert _territory_noise(mosaic, fps, groups) == expected
    assert _territory_noise(mosaic, fps, groups, keep=0) == expected


def test_data_quality_in_the_api_and_the_report(roofs_gpkg: Path) -> None:
    """/api/roof and the printable report give the building's data-quality figures of the buildings layer."""
    from fastapi.testclient import TestClient
    from pyproj import Transformer

    from api.app import create_app
    from api.settings import Settings

    b = rooftops.read_layer(roofs_gpkg, rooftops.BUILDINGS)
    row = b[(b.status == "ok") & (b.dq_offset_m > 0.3) & (b.n_faces > 0)].sort_values("building_id").iloc[0]
    p = row.geometry.representative_point()
    lon, lat = Transformer.from_crs(b.crs, "EPSG:4326", always_xy=True).transform(p.x, p.y)
    with TestClient(create_app(Settings(data_dir=roofs_gpkg.parent))) as client:
        r = client.get("/api/roof", params={"lon": lon, "lat": lat})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["building"]["properties"]["building_id"] == row.building_id
        q = body["data_quality"]
        assert q["offset_m"] == pytest.approx(row.dq_offset_m) and q["roof_share"] == pytest.approx(row.dq_roof_share)
        assert q["plane_rms_m"] == pytest.approx(row.dq_plane_rms_m) and q["status"] == "ok"
        page = client.get(f"/rapport/{row.building_id}")
        assert page.status_code == 200
        assert 'id="data-quality"' in page.text and "recalé sur le relief LiDAR" in page.text


def test_group_residuals_are_the_whole_windows_plane_fit(tmp_path: Path) -> None:
    """A group's residuals (fitted on the squares holding its members) are, as a multiset, the
    whole window's 3 x 3 plane-fit residuals at its member pixels, also for a window cut by the DSM's edge."""
    import rasterio.features

    from geo.io.rasters import lidar_tile_name, read_grid, read_raster, write_geotiff
    from geo.roofs.build import group_residuals
    from geo.roofs.segmentation import local_planes, prepare_footprints
    from geo.roofs.synthetic import make_scene

    scene = make_scene(size_m=200.0, noise_m=0.03, seed=5, origin=(686000.0, 7038000.0))
    path = tmp_path / lidar_tile_name(686, 7038, "MNS")
    write_geotiff(path, scene.dsm.astype(np.float32), transform=scene.transform, crs="EPSG:2154")
    mosaic = read_grid([path])
    fps, _ = prepare_footprints(scene.footprints, mosaic.crs.to_wkt(), mosaic.bounds)
    context = fps.geometry.to_numpy()[(fps["status"] == "ok").to_numpy()]
    is_member = np.arange(context.size) % 3 != 0  # every third footprint is context only
    for window in (mosaic.bounds, mosaic.clip((686000.0 + 41.3, 7038000.0 - 20.0, 686000.0 + 163.7, 7038000.0 + 97.1))):
        w = read_raster([path], bounds=window)
        lab = rasterio.features.rasterize(((g, i + 1) for i, g in enumerate(context)), out_shape=w.shape,
                                          transform=w.transform, fill=0, dtype="int32")
        _, _, rms = local_planes(w.data.astype(np.float64), w.res_m, lab)
        member = np.concatenate([[False], is_member])[lab]
        want = np.sort(rms[member & np.isfinite(rms)])
        assert want.size > 1000
        got = np.sort(group_residuals(mosaic, window, context, is_member))
        np.testing.assert_array_equal(got, want)
