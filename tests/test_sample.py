"""The generated sample territory: formats, determinism, exact roof planes, consistent tables.

Checks compare the written files with independent computations: planes fitted by least
squares to the DSM pixels, pyproj for coordinates, a ray cast through the written DTM with
pvlib's sun for the slag-heap shadow, networkx for connectivity.
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pvlib
import pytest
import rasterio
import shapely
from pyproj import Transformer

from geo import config
from geo.cli import main
from geo.io.rasters import find_lidar_tiles, parse_lidar_tile, read_raster
from geo.sample import SMALL_BOUNDS, generate_sample

EXPECTED = (
    "rooftops/lidar/LHD_FXX_0685_7038_MNS_O_0M50_LAMB93_IGN69.tif",
    "rooftops/lidar/LHD_FXX_0685_7038_MNT_O_0M50_LAMB93_IGN69.tif",
    "rooftops/batiment.gpkg",
    "rooftops/adresses-62.csv",
    "rooftops/roof_faces_truth.gpkg",
    "rooftops/parcelles.geojson",
    "parks/communes.geojson",
    "parks/pma-communes-epci.csv",
    "parks/filosofi_200m.gpkg",
    "parks/parcs.gpkg",
    "parks/voies_vertes.gpkg",
    "parks/reseau_pietons.gpkg",
    "parks/arrets_bhns.geojson",
    "sites/friches.csv",
    "sites/parkings.osm",
    "sites/sites_truth.gpkg",
)


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def dsm(clean_sample_dir: Path):
    return read_raster(find_lidar_tiles(clean_sample_dir / "rooftops" / "lidar", "MNS"))


@pytest.fixture(scope="module")
def dtm(clean_sample_dir: Path):
    return read_raster(find_lidar_tiles(clean_sample_dir / "rooftops" / "lidar", "MNT"))


@pytest.fixture(scope="module")
def truth(clean_sample_dir: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(clean_sample_dir / "rooftops" / "roof_faces_truth.gpkg", layer="roof_faces_truth")


@pytest.fixture(scope="module")
def bat(clean_sample_dir: Path) -> gpd.GeoDataFrame:
    """The exact footprints (the clean sample's)."""
    return gpd.read_file(clean_sample_dir / "rooftops" / "batiment.gpkg", layer="batiment")


def test_layout_is_the_documented_one(sample_dir: Path) -> None:
    files = sorted(str(p.relative_to(sample_dir)) for p in sample_dir.rglob("*") if p.is_file())
    assert files == sorted(EXPECTED)


def test_geotiffs_are_lidar_hd_tiles(sample_dir: Path) -> None:
    for kind in ("MNS", "MNT"):
        (path,) = find_lidar_tiles(sample_dir / "rooftops" / "lidar", kind)
        tile = parse_lidar_tile(path)
        assert tile is not None and (tile.x_km, tile.y_km) == (685, 7038)
        with rasterio.open(path) as ds:
            assert ds.crs.to_epsg() == 2154
            assert ds.res == (0.5, 0.5)
            assert ds.dtypes == ("float32",)
            assert ds.nodata == config.LIDAR_NODATA
            # the small sample is the upper-left 500 m quarter of its 1 km tile
            assert tuple(ds.bounds) == SMALL_BOUNDS
            assert (ds.bounds.left, ds.bounds.top) == (tile.x_km * 1000, tile.y_km * 1000)
            data = ds.read(1, masked=True)  # the DSM has holes (nodata) like LiDAR HD's
        assert 25 < float(data.min()) and float(data.max()) < 160


def test_default_sample_has_the_defects_of_real_data(sample_dir: Path, clean_sample_dir: Path, dsm, dtm,
                                                      bat: gpd.GeoDataFrame) -> None:
    """The default sample = the clean one + LiDAR noise, holes, trees over roofs and misdrawn footprints;
    the truth file is the same."""
    h, hc = _hashes(sample_dir), _hashes(clean_sample_dir)
    assert set(h) == set(hc) == set(EXPECTED)
    assert h["rooftops/roof_faces_truth.gpkg"] == hc["rooftops/roof_faces_truth.gpkg"]
    real = read_raster(find_lidar_tiles(sample_dir / "rooftops" / "lidar", "MNS"))
    assert np.array_equal(read_raster(find_lidar_tiles(sample_dir / "rooftops" / "lidar", "MNT")).data, dtm.data)
    diff = real.data.astype(float) - dsm.data.astype(float)
    holes = np.isnan(real.data) & np.isfinite(dsm.data)
    assert holes.sum() * 0.25 > 1000  # the lake and roofs without return
    # bare ground (roofs also step) outside the added crowns (metres high): the noise alone
    ground = (dsm.data == dtm.data) & (np.abs(diff) < 0.5)
    assert np.std(diff[ground]) == pytest.approx(config.SAMPLE_DSM_NOISE_M, rel=0.05)
    assert abs(float(np.mean(diff[ground]))) < 0.005
    assert (diff > 2.0).sum() * 0.25 > 20  # tree crowns over roofs
    # footprints: offset by up to 1 m, outer walls up to 0.5 m off, some missing, some demolished
    real_bat = gpd.read_file(sample_dir / "rooftops" / "batiment.gpkg").set_index("cleabs")
    exact = bat.set_index("cleabs")
    common = real_bat.index.intersection(exact.index)
    assert 0.9 * len(exact) < len(common) < len(exact)
    extra = real_bat.index.difference(exact.index)
    assert 1 <= len(extra) <= 10 and not real_bat.loc[extra].intersects(exact.geometry.union_all()).any()
    d = real_bat.geometry[common].centroid.distance(exact.geometry[common].centroid)
    hd = real_bat.geometry[common].hausdorff_distance(exact.geometry[common], align=True)
    assert d.max() <= config.SAMPLE_FOOTPRINT_OFFSET_MAX_M + config.SAMPLE_FOOTPRINT_SIZE_ERROR_MAX_M
    assert d.median() > 0.2 and (d > 0.7).any()
    assert hd.max() <= (config.SAMPLE_FOOTPRINT_OFFSET_MAX_M + config.SAMPLE_FOOTPRINT_SIZE_ERROR_MAX_M
                        * math.sqrt(2) + 1e-6)
    ratio = real_bat.geometry[common].area / exact.geometry[common].area
    assert (ratio > 1.05).any() and (ratio < 0.95).any()


def test_cli_twice_gives_byte_identical_files(sample_dir: Path, tmp_path: Path) -> None:
    assert main(["-q", "sample", "--small", "--out", str(tmp_path / "a")]) == 0
    assert main(["-q", "sample", "--small", "--out", str(tmp_path / "b"), "--seed", "0"]) == 0
    ha, hb, h0 = _hashes(tmp_path / "a"), _hashes(tmp_path / "b"), _hashes(sample_dir)
    assert len(ha) == len(EXPECTED)
    assert ha == hb == h0


def test_other_seed_changes_details_not_layout(tmp_path: Path, bat: gpd.GeoDataFrame) -> None:
    generate_sample(tmp_path, small=True, seed=7)
    other = gpd.read_file(tmp_path / "rooftops" / "batiment.gpkg")
    assert _hashes(tmp_path)["rooftops/batiment.gpkg"] != hashlib.sha256(b"").hexdigest()
    assert not np.array_equal(other["hauteur"].to_numpy()[:50], bat["hauteur"].to_numpy()[:50])


def test_no_overlapping_buildings(bat: gpd.GeoDataFrame) -> None:
    geoms = bat.geometry.values
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="intersects")
    pairs = i < j
    areas = shapely.area(shapely.intersection(geoms[i[pairs]], geoms[j[pairs]]))
    assert float(areas.max(initial=0.0)) < 1e-6


def test_buildings_columns_and_ranges(bat: gpd.GeoDataFrame) -> None:
    assert set(config.BDTOPO_BATIMENT_COLUMNS) <= set(bat.columns)
    assert bat.crs.to_epsg() == 2154
    assert bat["cleabs"].str.fullmatch(r"BATIMENT\d{16}").all() and bat["cleabs"].is_unique
    allowed = {"Résidentiel", "Commercial et services", "Industriel", "Annexe", "Agricole", "Religieux",
               "Sportif", "Indifférencié"}
    assert set(bat["usage_1"]) <= allowed
    res = bat[bat["usage_1"] == "Résidentiel"]
    assert res["hauteur"].between(6, 12).all()
    big = bat[bat["usage_1"].isin(["Commercial et services", "Sportif"])]
    assert len(big) >= 2 and big["hauteur"].between(8, 15).all()
    assert (bat["altitude_maximale_toit"] > bat["altitude_minimale_sol"] + bat["hauteur"] - 0.2).all()


def test_roof_types_tilts_and_orientations(truth: gpd.GeoDataFrame, bat: gpd.GeoDataFrame) -> None:
    pitched = truth[truth["roof_type"].isin(["gable", "hip"])]
    assert pitched["tilt_deg"].between(25, 50).all()
    assert truth.loc[truth["roof_type"] == "flat", "tilt_deg"].between(0, 2).all()
    assert truth.loc[truth["roof_type"] == "flat", "azimuth_deg"].isna().all()
    assert truth.loc[truth["roof_type"] == "shed", "tilt_deg"].between(5, 10).all()
    az = pitched["azimuth_deg"].round().astype(int) % 360
    for a in (0, 90, 180, 270, 135, 315):  # E-W, N-S and diagonal ridges
        assert (az == a).sum() >= 10, a
    assert {"gable", "hip", "flat", "shed"} <= set(truth["roof_type"])
    for flag in ("has_chimney", "has_dormer", "has_hvac", "has_skylight"):
        assert truth[flag].any(), flag
    assert (truth["area_m2"] >= 10).mean() > 0.9
    assert truth["area_m2"].between(20, 60).mean() > 0.7
    # every building is exactly covered by its faces (flat roofs: inside the parapet)
    per_bldg = truth.groupby("cleabs")["footprint_area_m2"].sum()
    fp = bat.set_index("cleabs").geometry.area
    pitched_ids = truth.loc[truth["roof_type"] != "flat", "cleabs"].unique()
    assert np.allclose(per_bldg[pitched_ids], fp[pitched_ids], atol=1e-2)
    assert np.allclose(truth.geometry.area, truth["footprint_area_m2"], atol=1e-2)
    assert set(truth["cleabs"]) == set(bat["cleabs"])
    assert truth["face_id"].is_unique


def _face_pixels(face, r, *, erode: float = 0.75):
    inner = face.geometry.buffer(-erode)
    if inner.is_empty:
        return None
    xmin, ymin, xmax, ymax = inner.bounds
    sub = r.window((xmin, ymin, xmax, ymax))
    rows, cols = sub.shape
    xs = sub.transform.c + (np.arange(cols) + 0.5) * sub.res_m
    ys = sub.transform.f - (np.arange(rows) + 0.5) * sub.res_m
    X, Y = np.meshgrid(xs, ys)
    inside = shapely.contains_xy(inner, X, Y)
    return X[inside], Y[inside], sub.data[inside].astype(float)


def test_roof_faces_are_exact_planes_in_the_dsm(truth: gpd.GeoDataFrame, dsm) -> None:
    """Least-squares planes through the DSM pixels of obstacle-free faces give the true tilt and azimuth."""
    clean = truth[~truth[["has_chimney", "has_dormer", "has_hvac", "has_skylight"]].any(axis=1)]
    checked = 0
    for face in clean.itertuples():
        px = _face_pixels(face, dsm)
        if px is None or len(px[0]) < 20:
            continue
        x, y, z = px
        A = np.column_stack([x - x.mean(), y - y.mean(), np.ones_like(x)])
        (a, b, c), *_ = np.linalg.lstsq(A, z, rcond=None)
        resid = z - A @ np.array([a, b, c])
        assert np.abs(resid).max() < 2e-3, face.face_id  # float32 storage of ~50 m altitudes
        tilt = math.degrees(math.atan(math.hypot(a, b)))
        assert tilt == pytest.approx(face.tilt_deg, abs=0.02), face.face_id
        if face.tilt_deg > 1:
            aspect = math.degrees(math.atan2(-a, -b)) % 360  # downhill direction, clockwise from north
            assert abs((aspect - face.azimuth_deg + 180) % 360 - 180) < 0.05, face.face_id
            assert face.area_m2 == pytest.approx(face.footprint_area_m2 / math.cos(math.radians(tilt)), rel=1e-3)
        checked += 1
    assert checked > 0.8 * len(clean)


def test_obstacles_stand_out_of_their_faces(truth: gpd.GeoDataFrame, dsm) -> None:
    with_obst = truth[truth["has_chimney"] | truth["has_hvac"]]
    assert len(with_obst) > 10
    for face in with_obst.head(40).itertuples():
        x, y, z = _face_pixels(face, dsm, erode=0.0)
        A = np.column_stack([x, y, np.ones_like(x)])
        coef, *_ = np.linalg.lstsq(A, z, rcond=None)
        # the chimney / HVAC pixels rise at least 0.5 m over the face's median plane
        med = np.median(z - A @ coef)
        assert (z - A @ coef - med).max() > 0.5, face.face_id


def test_trees_in_dsm_not_in_dtm_and_heap_in_both(dsm, dtm, bat: gpd.GeoDataFrame) -> None:
    diff = dsm.data - dtm.data
    rows, cols = dsm.shape
    xs = dsm.transform.c + (np.arange(cols) + 0.5) * 0.5
    ys = dsm.transform.f - (np.arange(rows) + 0.5) * 0.5
    X, Y = np.meshgrid(xs, ys)
    in_bldg = shapely.contains_xy(shapely.union_all(bat.geometry.values).buffer(0.5), X, Y)
    trees = (diff > 3.0) & ~in_bldg
    assert trees.sum() * 0.25 > 2000  # > 2,000 m² of tree crowns
    assert np.all(diff >= -1e-4)
    # the slag heap is ground (in the DTM): 60-80 m above the plain in the small sample
    relief = float(np.nanmax(dtm.data) - np.nanpercentile(dtm.data, 5))
    assert 60 <= relief <= 90
    # flat water: one altitude over more than 5,000 m² (the lake), in both models
    vals, counts = np.unique(dtm.data, return_counts=True)
    lake_level = vals[counts.argmax()]
    assert counts.max() * 0.25 > 5000
    assert np.all(dsm.data[dtm.data == lake_level] == lake_level)
    # the ground is gentle outside the heap: 30-60 m
    assert 30 <= float(np.nanpercentile(dtm.data, 1)) and float(np.nanpercentile(dtm.data, 50)) <= 60


def test_heap_shadow_flag_agrees_with_a_ray_through_the_dtm(truth: gpd.GeoDataFrame, dtm) -> None:
    """Noon ray cast through the written DTM (independent of the generator's analytic heap)."""
    shaded = truth[truth["in_terril_shadow"]]
    assert len(shaded) >= 10
    lon, lat = Transformer.from_crs(2154, 4326, always_xy=True).transform(685250, 7037750)
    day = pd.date_range("2025-12-21 10:00", "2025-12-21 14:00", freq="1min", tz="UTC")
    pos = pvlib.solarposition.get_solarposition(day, lat, lon)
    noon = pos.loc[pos["apparent_elevation"].idxmax()]
    assert noon["apparent_elevation"] == pytest.approx(16.1, abs=0.3)
    az, tan_el = math.radians(noon["azimuth"]), math.tan(math.radians(noon["apparent_elevation"]))
    s = np.arange(1.0, 600.0, 0.5)

    def blocked(x: float, y: float, z: float) -> bool:
        px, py = x + s * math.sin(az), y + s * math.cos(az)
        col = ((px - dtm.transform.c) / 0.5).astype(int)
        row = ((dtm.transform.f - py) / 0.5).astype(int)
        ok = (row >= 0) & (row < dtm.shape[0]) & (col >= 0) & (col < dtm.shape[1])
        return bool((dtm.data[row[ok], col[ok]] > z + s[ok] * tan_el + 0.3).any())

    # faces shaded at 5 or more of the 9 instants (a contiguous run holding noon) are shaded at noon;
    # faces never shaded are lit at noon
    core = shaded[shaded["terril_shadow_share"] >= 5 / 9 - 1e-6]
    assert len(core) >= 5
    for f in core.itertuples():
        c = f.geometry.centroid
        assert blocked(c.x, c.y, f.z_centroid_m), f.face_id
    lit = truth[(truth["terril_shadow_share"] == 0) & (truth.geometry.centroid.y > 7037700)]
    for f in lit.head(60).itertuples():
        c = f.geometry.centroid
        assert not blocked(c.x, c.y, f.z_centroid_m + 0.5), f.face_id
    # the shaded roofs are north of the heap, within its noon shadow length
    assert (shaded.geometry.centroid.y > 7037500 + 140 + 60).all()
    assert (shaded.geometry.centroid.y < 7037500 + 140 + 8 + 70 / math.tan(math.radians(15.5))).all()


def test_addresses_are_ban(sample_dir: Path, bat: gpd.GeoDataFrame) -> None:
    path = sample_dir / "rooftops" / "adresses-62.csv"
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert header.split(";") == list(config.BAN_COLUMNS)
    df = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    assert df["id"].is_unique
    assert df["id"].str.fullmatch(r"(62498|62528)_\d{4}_\d{5}(_bis)?").all()
    assert ((df["code_insee"] == "62498") == (df["code_postal"] == "62300")).all()
    assert set(df["code_insee"]) <= {"62498", "62528"}
    assert set(df.loc[df["code_insee"] == "62498", "nom_commune"]) == {"Lens"}
    x, y = df["x"].astype(float).to_numpy(), df["y"].astype(float).to_numpy()
    lon, lat = Transformer.from_crs(2154, 4326, always_xy=True).transform(x, y)
    assert np.allclose(lon, df["lon"].astype(float), atol=2e-6)
    assert np.allclose(lat, df["lat"].astype(float), atol=2e-6)
    pts = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(x, y), crs=2154)
    joined = gpd.sjoin(pts, bat[["cleabs", "usage_1", "geometry"]], predicate="within")
    assert len(joined) == len(df)  # every address lies in a building
    residential = set(bat.loc[bat["usage_1"] == "Résidentiel", "cleabs"])
    assert residential <= set(joined["cleabs"])  # and every house has one
    assert any("Émile Zola" in v for v in df["nom_voie"])


def test_filosofi_consistent_with_dwellings(sample_dir: Path, bat: gpd.GeoDataFrame) -> None:
    cells = gpd.read_file(sample_dir / "parks" / "filosofi_200m.gpkg", layer="carreaux")
    assert cells.crs.to_epsg() == 3035
    assert set(config.FILOSOFI_COLUMNS) <= set(cells.columns)
    for idcar, geom in zip(cells["Idcar_200m"], cells.geometry, strict=True):
        m = re.fullmatch(r"CRS3035RES200mN(\d+)E(\d+)", idcar)
        assert m is not None
        n, e = int(m[1]), int(m[2])
        assert n % 200 == 0 and e % 200 == 0
        assert geom.equals(shapely.box(e, n, e + 200, n + 200))
    assert cells["Men"].sum() == bat["nombre_de_logements"].fillna(0).sum()
    assert 2.0 < cells["Ind"].sum() / cells["Men"].sum() < 2.6
    assert (cells["Men_pauv"] <= cells["Men"]).all()
    # each dwelling is counted in the cell that holds its building
    centroids = bat[bat["nombre_de_logements"].fillna(0) > 0].to_crs(3035).geometry.centroid
    joined = gpd.sjoin(gpd.GeoDataFrame(geometry=centroids, crs=3035), cells, predicate="within")
    assert len(joined) == len(centroids)


def test_communes_like_geo_api_gouv_fr(sample_dir: Path) -> None:
    import json

    doc = json.loads((sample_dir / "parks" / "communes.geojson").read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection"
    props = [f["properties"] for f in doc["features"]]
    assert {p["code"]: p["nom"] for p in props} == {"62498": "Lens", "62528": "Loos-en-Gohelle"}
    assert all(set(p) == {"nom", "code", "codeEpci", "codeDepartement", "population"} for p in props)
    assert {p["codeEpci"] for p in props} == {"246200364"}
    gdf = gpd.read_file(sample_dir / "parks" / "communes.geojson").to_crs(2154)
    assert shapely.union_all(gdf.geometry.values).contains(shapely.box(*SMALL_BOUNDS))
    assert shapely.area(shapely.intersection_all(gdf.geometry.values)) < 1.0
    epci = pd.read_csv(sample_dir / "parks" / "pma-communes-epci.csv", dtype=str)
    real_cols = ["epci_siren", "epci_nom", "insee_com", "nom_com", "population_municipale_2025"]
    assert list(epci.columns) == real_cols and set(epci["insee_com"]) == {"62498", "62528"}


def test_parks_greenways_network(sample_dir: Path) -> None:
    parks = gpd.read_file(sample_dir / "parks" / "parcs.gpkg", layer="parcs")
    green = gpd.read_file(sample_dir / "parks" / "voies_vertes.gpkg", layer="voies_vertes")
    net = gpd.read_file(sample_dir / "parks" / "reseau_pietons.gpkg", layer="reseau")
    stops = gpd.read_file(sample_dir / "parks" / "arrets_bhns.geojson")
    assert len(parks) == 2 and set(parks.columns) >= {"nom", "ensemble"}
    assert set(green["type"]) <= {"cavalier", "chemin_de_halage", "voie_verte"} and "cavalier" in set(green["type"])
    assert set(net["highway"]) <= {"residential", "tertiary", "secondary", "footway", "path", "cycleway", "track"}
    assert net["osm_id"].is_unique
    assert len(stops) >= 2 and set(stops["ligne"]) == {"B1"} and stops.crs.to_epsg() == 4326
    # the cavalier links the two parks
    cav = green[green["type"] == "cavalier"].geometry.iloc[0]
    assert (parks.geometry.intersects(shapely.Point(cav.coords[0]))
            | parks.geometry.intersects(shapely.Point(cav.coords[-1]))).sum() == 2
    # greenways appear in the network as cycleway/path lines
    for g in green.geometry:
        assert net[net["highway"].isin(["cycleway", "path"])].geometry.buffer(0.01).contains(g).any()
    # the network is one connected graph (ways share a vertex where they meet)
    graph = nx.Graph()
    for line in net.geometry:
        pts = [tuple(np.round(c, 3)) for c in line.coords]
        nx.add_path(graph, pts)
    assert nx.is_connected(graph)
    # paths enter both parks, and some park edge has no path at all
    for p in parks.geometry:
        assert net.geometry.crosses(p.exterior).any() or net.geometry.within(p).any()
    edges = [shapely.LineString(c) for p in parks.geometry
             for c in zip(p.exterior.coords[:-1], p.exterior.coords[1:], strict=True)]
    assert any(not net.geometry.intersects(e).any() for e in edges)


@pytest.mark.slow
def test_default_sample_two_tiles_and_big_heaps(tmp_path: Path) -> None:
    import time

    t0 = time.perf_counter()
    info = generate_sample(tmp_path, small=False, seed=0)
    elapsed = time.perf_counter() - t0
    assert elapsed < 120  # < 60 s on an idle machine; generous under CI contention
    names = sorted(p.name for p in info.tiles)
    assert names == [
        "LHD_FXX_0684_7038_MNS_O_0M50_LAMB93_IGN69.tif", "LHD_FXX_0684_7038_MNT_O_0M50_LAMB93_IGN69.tif",
        "LHD_FXX_0685_7038_MNS_O_0M50_LAMB93_IGN69.tif", "LHD_FXX_0685_7038_MNT_O_0M50_LAMB93_IGN69.tif",
    ]
    dtm = read_raster(find_lidar_tiles(tmp_path / "rooftops" / "lidar", "MNT"))
    assert dtm.shape == (2000, 4000) and dtm.bounds == (684000.0, 7037000.0, 686000.0, 7038000.0)
    relief = float(np.nanmax(dtm.data) - np.nanpercentile(dtm.data, 5))
    assert 80 <= relief <= 180
    assert info.counts["buildings"] > 1000 and info.counts["faces_in_terril_shadow"] > 50
    assert info.counts["parks"] >= 4 and info.counts["greenways"] >= 4
    bat = gpd.read_file(tmp_path / "rooftops" / "batiment.gpkg")
    assert {"Religieux", "Industriel", "Commercial et services", "Sportif"} <= set(bat["usage_1"])


# ---------------------------------------------------------------------------
# the generator's geometry
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["gable", "hip", "shed", "flat"])
def test_roof_faces_tile_the_roof_and_match_its_surface(kind: str) -> None:
    from geo.sample.geometry import Frame, Roof

    frame = Frame(685_000.0, 7_037_000.0, 16.0, 9.0, 30.0)
    roof = Roof(frame, kind, eave_m=50.0, tilt_deg=40.0 if kind in ("gable", "hip") else 7.0,
                end_tilt_deg=45.0, parapet_w_m=0.4 if kind == "flat" else 0.0)
    faces = roof.faces()
    total = sum(f.local_polygon.area for f in faces)
    inner = (16.0 - 0.8) * (9.0 - 0.8) if kind == "flat" else 16.0 * 9.0
    assert total == pytest.approx(inner)
    assert shapely.area(shapely.union_all([f.local_polygon for f in faces])) == pytest.approx(inner)
    rng = np.random.default_rng(0)
    for f in faces:
        # points well inside the face: the surface is the face's plane (finite differences in world axes)
        inner_poly = f.local_polygon.buffer(-0.3)
        pts = [p for p in shapely.points(rng.uniform(-8, 8, 400), rng.uniform(-4.5, 4.5, 400))
               if inner_poly.contains(p)][:20]
        assert pts
        for p in pts:
            x, y = frame.to_world(np.array(p.x), np.array(p.y))
            h = 1e-3

            def z(dx: float, dy: float, x: float = float(x), y: float = float(y)) -> float:
                return float(roof.surface(*frame.to_local(np.array(x + dx), np.array(y + dy))))

            gx, gy = (z(h, 0) - z(-h, 0)) / (2 * h), (z(0, h) - z(0, -h)) / (2 * h)
            assert math.degrees(math.atan(math.hypot(gx, gy))) == pytest.approx(f.tilt_deg, abs=1e-4)
            if f.tilt_deg > 0 and kind != "flat":
                aspect = math.degrees(math.atan2(-gx, -gy)) % 360
                assert abs((aspect - f.azimuth_deg + 180) % 360 - 180) < 1e-3


def test_builder_refuses_overlaps_and_roads_through_buildings() -> None:
    from geo.sample.layout import SMALL_BOUNDS, _terrain_base
    from geo.sample.scene import SceneBuilder

    b = SceneBuilder(SMALL_BOUNDS, _terrain_base(), np.random.default_rng(0))
    b.house_row(685_100.0, 7_037_700.0, 90.0, 5)
    with pytest.raises(ValueError, match="overlaps"):
        b.house_row(685_110.0, 7_037_703.0, 90.0, 3)
    b.way("residential", "Rue Test", [(685_050.0, 7_037_700.0), (685_150.0, 7_037_700.0)])
    with pytest.raises(ValueError, match="runs through a building"):
        b.build(((0.0, 0.0), (1.0, 1.0)))


def test_ways_share_vertices_where_they_meet() -> None:
    from geo.sample.scene import Way, node_ways

    ways = [Way("residential", "A", ((0.0, 0.0), (100.0, 0.0))),
            Way("residential", "B", ((50.0, -50.0), (50.0, 50.0))),
            Way("footway", "", ((20.0, 0.0), (20.0, 30.0)))]
    a, b, c = node_ways(ways)
    assert a.coords == ((0.0, 0.0), (20.0, 0.0), (50.0, 0.0), (100.0, 0.0))
    assert b.coords == ((50.0, -50.0), (50.0, 0.0), (50.0, 50.0))
    assert c.coords == ways[2].coords
