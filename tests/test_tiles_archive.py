"""Prebuilt vector tiles: PMTiles archives made by the ``tiles`` stage, checked against the GeoPackages.

The reference is the GeoPackage layer itself, projected to Web Mercator with pyproj and compared with the
decoded tile in tile units (4096 per tile side), inside the tile: every feature meeting the tile is there
with its attributes and fid; its outline is on average within tippecanoe's simplification tolerance (1 tile
unit: symmetric-difference area / perimeter), and nowhere further than half a screen pixel (8 units of a
256 px tile: tippecanoe drops slivers thinner than a unit where a staircase outline crosses a tile edge).
"""

from __future__ import annotations

import gzip
import os
import shutil
import time
from pathlib import Path

import api_fixtures as fx
import mapbox_vector_tile
import morecantile
import numpy as np
import pyogrio
import pytest
import shapely
from fastapi.testclient import TestClient
from pmtiles.reader import MmapSource, all_tiles
from pyproj import Transformer
from tiles_helpers import assert_same_tiles

from api.app import create_app
from api.settings import Settings
from geo import config
from geo.io.pmtiles import merge_archives
from geo.pipeline import build
from geo.products.tiles import TILE_LAYERS, archive_path, read_archive
from geo.tiles import layer_blocks, plan_blocks, tile_xy

TMS = morecantile.tms.get("WebMercatorQuad")
EXTENT = 4096
#: tippecanoe's default buffer: 5 px of a 256 px tile [tile units of 4096]
BUFFER_UNITS = 5 * EXTENT / 256
#: tippecanoe's simplification tolerance: 1 unit at full detail (its docs: "one tiny pixel") [tile units]
MEAN_TOLERANCE_UNITS = 1.0
#: Largest local departure: half a pixel of a 256 px tile [tile units]
MAX_TOLERANCE_UNITS = EXTENT / 256 / 2


@pytest.fixture(scope="module")
def tiled_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The API's synthetic build re-tiled alone with ``build(only=["tiles"])`` (what ``--only tiles`` runs)."""
    out = tmp_path_factory.mktemp("tiled")
    for name in ("rooftops.gpkg", "parks.gpkg"):
        shutil.copy(fx.make_build(out / "src") / name, out / name)
    report = build(out / "src", out, only=["tiles"])
    assert report.ok and list(report.outputs) == ["tiles"], report.lines()
    return out


def _tile_units(geoms: np.ndarray, crs: str, tile: morecantile.Tile) -> np.ndarray:
    """Geometries in the tile's units (y up, as mapbox_vector_tile decodes them)."""
    to_merc = Transformer.from_crs(crs, "EPSG:3857", always_xy=True)
    b = TMS.xy_bounds(tile)

    def fn(xy: np.ndarray) -> np.ndarray:
        mx, my = to_merc.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([(mx - b.left) / (b.right - b.left) * EXTENT, (my - b.bottom) / (b.top - b.bottom) * EXTENT])

    return shapely.transform(geoms, fn)


def _check_tile_against_layer(build_dir: Path, collection: str, tile: morecantile.Tile, data: bytes) -> int:
    layer_def = next(t for t in TILE_LAYERS if t.collection == collection)
    gdf = pyogrio.read_dataframe(build_dir / layer_def.file, layer=collection, fid_as_index=True)
    ref = _tile_units(gdf.geometry.values, str(gdf.crs), tile)
    inner = shapely.box(0, 0, EXTENT, EXTENT)
    outer = shapely.box(-BUFFER_UNITS - 1, -BUFFER_UNITS - 1, EXTENT + BUFFER_UNITS + 1, EXTENT + BUFFER_UNITS + 1)
    layer = mapbox_vector_tile.decode(gzip.decompress(data))[collection]
    assert layer["extent"] == EXTENT
    got = {int(f["id"]): f for f in layer["features"]}
    must = set(gdf.index[shapely.intersects(ref, inner) & ~shapely.touches(ref, inner)])
    may = set(gdf.index[shapely.intersects(ref, outer)])
    assert must <= set(got) <= may, (len(must), len(got), len(may))
    for fid, f in got.items():
        row = gdf.loc[fid]
        for k in layer_def.attributes:
            assert f["properties"][k] == row[k], (fid, k)
        assert set(f["properties"]) == set(layer_def.attributes)
        decoded = shapely.clip_by_rect(shapely.geometry.shape(f["geometry"]), 0, 0, EXTENT, EXTENT)
        expected = shapely.clip_by_rect(ref[gdf.index.get_loc(fid)], 0, 0, EXTENT, EXTENT)
        if expected.is_empty:  # only in the buffer
            continue
        if expected.geom_type.endswith("Polygon"):
            mean_gap = shapely.area(shapely.symmetric_difference(decoded, expected)) / expected.length
            assert mean_gap <= MEAN_TOLERANCE_UNITS, (fid, mean_gap)
        if not decoded.is_empty:  # (empty: only a sliver thinner than a unit reached into the tile)
            # both ways: every decoded vertex near the feature and every vertex of the feature near the decoded one
            assert shapely.hausdorff_distance(decoded, expected) <= MAX_TOLERANCE_UNITS, fid
    return len(got)


def test_roof_face_tiles_decode_to_the_layer(built_dir: Path) -> None:
    """Every archived roof-face tile of the built sample holds the faces of the GeoPackage meeting it."""
    path = archive_path(built_dir, "roof_faces")
    archive = read_archive(path)
    assert (archive.minzoom, archive.maxzoom) == config.TILE_ARCHIVE_ZOOMS["roof_faces"]
    assert archive.compression == "gzip"
    layers = archive.metadata()["vector_layers"]  # what a PMTiles client (MapLibre…) reads to style it
    assert [v["id"] for v in layers] == ["roof_faces"]
    assert set(layers[0]["fields"]) == {"face_id", "building_id", "suitability"}
    with path.open("rb") as f:
        stored = list(all_tiles(MmapSource(f)))  # the pmtiles package's own reader: any client reads it
    assert {z for (z, _, _), _ in stored} == {16, 17, 18}
    n_faces = 0
    for (z, x, y), data in stored:
        assert archive.get(z, x, y) == data
        n_faces += _check_tile_against_layer(built_dir, "roof_faces", morecantile.Tile(x, y, z), data)
    faces = pyogrio.read_info(built_dir / "rooftops.gpkg", layer="roof_faces")["features"]
    assert n_faces >= faces  # each face at least once per zoom (once per tile it meets)
    assert archive.get(15, 0, 0) is None and archive.get(16, 0, 0) is None


def test_commune_and_building_tiles_at_lower_zooms(tiled_build: Path) -> None:
    to_wgs = Transformer.from_crs(fx.CRS, "EPSG:4326", always_xy=True)
    for collection, z, (x, y) in (("buildings", 13, fx.house_origin(0, 0)), ("communes_solar", 10, (fx.X0, fx.Y0)),
                                  ("parks", 14, (fx.X0 + 50, fx.Y0 + 70)),
                                  ("greenways", 17, (fx.X0 + 240, fx.Y0 + 70))):  # the greenway's middle
        archive = read_archive(archive_path(tiled_build, collection))
        tile = TMS.tile(*to_wgs.transform(x + 1, y + 1), z)
        data = archive.get(tile.z, tile.x, tile.y)
        assert data is not None, collection
        assert _check_tile_against_layer(tiled_build, collection, tile, data) >= 1


def test_api_serves_the_archive(tiled_build: Path) -> None:
    archive = read_archive(archive_path(tiled_build, "roof_faces"))
    with TestClient(create_app(Settings(data_dir=tiled_build))) as client:
        x, y = fx.house_origin(0, 0)
        lon, lat = Transformer.from_crs(fx.CRS, "EPSG:4326", always_xy=True).transform(x + 5, y + 2)
        t = TMS.tile(lon, lat, 16)
        url = f"/tiles/roof_faces/{t.z}/{t.x}/{t.y}.pbf"
        r = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
        assert r.content == gzip.decompress(archive.get(t.z, t.x, t.y) or b"")  # httpx un-gzips it
        plain = client.get(url, headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.content == r.content
        ids = {f["properties"]["face_id"] for f in mapbox_vector_tile.decode(plain.content)["roof_faces"]["features"]}
        assert fx.building_id(0, 0) + "-1" in ids
        # below the archive's zooms: nothing to draw; outside the layer: 404
        t15 = TMS.tile(lon, lat, 15)
        assert client.get(f"/tiles/roof_faces/15/{t15.x}/{t15.y}.pbf").status_code == 204
        assert client.get(f"/tiles/roof_faces/16/{t.x + 40}/{t.y}.pbf").status_code == 404
        # beyond the archive's maximum zoom: encoded live from the GeoPackage, every attribute
        t20 = TMS.tile(lon, lat, 20)
        live = mapbox_vector_tile.decode(client.get(f"/tiles/roof_faces/20/{t20.x}/{t20.y}.pbf").content)
        assert "irradiation_kwh_m2_yr" in live["roof_faces"]["features"][0]["properties"]


def test_stale_archive_is_not_served(tiled_build: Path, tmp_path: Path) -> None:
    """Layers rebuilt after the tiles: the archive is ignored and tiles are encoded live."""
    shutil.copytree(tiled_build, tmp_path / "b")
    now = time.time()
    os.utime(tmp_path / "b" / "tiles" / "roof_faces.pmtiles", (now - 100, now - 100))
    os.utime(tmp_path / "b" / "rooftops.gpkg", (now, now))
    with TestClient(create_app(Settings(data_dir=tmp_path / "b"))) as client:
        x, y = fx.house_origin(0, 0)
        lon, lat = Transformer.from_crs(fx.CRS, "EPSG:4326", always_xy=True).transform(x + 5, y + 2)
        t = TMS.tile(lon, lat, 16)
        r = client.get(f"/tiles/roof_faces/{t.z}/{t.x}/{t.y}.pbf")
        assert r.status_code == 200
        props = mapbox_vector_tile.decode(r.content)["roof_faces"]["features"][0]["properties"]
        assert "irradiation_kwh_m2_yr" in props  # the live encoder's attributes, not the archive's


def test_corrupt_archive_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.pmtiles"
    bad.write_bytes(b"not a pmtiles archive" * 10)
    from geo.errors import InputError

    with pytest.raises(InputError, match="not a PMTiles v3 archive"):
        read_archive(bad)


def test_roof_faces_tiled_in_blocks_hold_the_tiles_of_one_run(built_dir: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The reference is tippecanoe run once over the whole layer: tiled in blocks and merged, every tile is
    the same (a roof face's tiles depend only on the faces meeting them), and so are the bounds and counts.
    From z17 (blocks of z17 tiles), so that the 2 km² sample splits both ways."""
    faces = pyogrio.read_info(built_dir / "rooftops.gpkg", layer="roof_faces")["features"]
    monkeypatch.setitem(config.TILE_ARCHIVE_ZOOMS, "roof_faces", (17, 18))
    runs = {}
    for name, per_part in (("whole", faces + 1), ("blocks", faces // 6)):
        (tmp_path / name).mkdir()
        shutil.copy(built_dir / "rooftops.gpkg", tmp_path / name / "rooftops.gpkg")
        monkeypatch.setattr(config, "TILE_PART_FEATURES", per_part)
        assert build(tmp_path / name, tmp_path / name, only=["tiles"]).ok
        runs[name] = archive_path(tmp_path / name, "roof_faces")
    layer = next(t for t in TILE_LAYERS if t.collection == "roof_faces")
    assert len(layer_blocks(tmp_path / "blocks" / "rooftops.gpkg", layer)) >= 4  # (TILE_PART_FEATURES as patched)
    assert assert_same_tiles(runs["whole"], runs["blocks"]) > 20
    a, b = read_archive(runs["whole"]), read_archive(runs["blocks"])
    assert (b.minzoom, b.maxzoom, b.bounds, b.compression) == (a.minzoom, a.maxzoom, a.bounds, a.compression)
    ma, mb = a.metadata(), b.metadata()
    assert mb["vector_layers"] == ma["vector_layers"]
    assert mb["tilestats"]["layers"][0]["count"] == ma["tilestats"]["layers"][0]["count"] == faces
    # four suitability classes at most: every value listed, the same as in one run
    stats = {s["attribute"]: s for s in mb["tilestats"]["layers"][0]["attributes"]}
    assert stats["suitability"] == {s["attribute"]: s for s in ma["tilestats"]["layers"][0]["attributes"]}["suitability"]


def test_blocks_split_the_tiles_once_and_evenly() -> None:
    """Blocks of a random layer: disjoint, covering the features' whole tile range, each feature's centre in
    exactly one; tile numbers and parents checked against morecantile."""
    rng = np.random.default_rng(7)
    west = np.concatenate([rng.uniform(2.70, 2.90, 4000), rng.uniform(2.80, 2.81, 4000)])  # a dense town
    south = np.concatenate([rng.uniform(50.38, 50.48, 4000), rng.uniform(50.43, 50.44, 4000)])
    size = rng.uniform(1e-5, 3e-4, len(west))
    bounds = np.column_stack([west, south, west + size, south + size])
    got = plan_blocks(bounds, 16, 8)
    assert len(got) == 8 and sum(n for _, n in got) == len(bounds)
    assert max(n for _, n in got) <= 2 * len(bounds) / 8
    blocks = [b for b, _ in got]
    tiles_of_features = set()
    for w, s, e, n in bounds[::97]:
        lo, hi = TMS.tile(w, s, 16), TMS.tile(e, n, 16)  # morecantile: lower-left and upper-right tiles
        tiles_of_features |= {(x, y) for x in range(lo.x, hi.x + 1) for y in range(hi.y, lo.y + 1)}
    for x, y in tiles_of_features:
        assert sum(b.contains(16, x, y) for b in blocks) == 1, (x, y)
        child = TMS.children(morecantile.Tile(x, y, 16), zoom=18)[5]
        assert [b.contains(18, child.x, child.y) for b in blocks] == [b.contains(16, x, y) for b in blocks]
        assert not any(b.contains(15, x // 2, y // 2) for b in blocks)
    xs, ys = tile_xy(west[:50], south[:50], 16)
    assert ([(int(x), int(y)) for x, y in zip(xs, ys, strict=True)]
            == [tuple(TMS.tile(w, s, 16))[:2] for w, s in zip(west[:50], south[:50], strict=True)])
    for b in blocks:  # a block's bounds are those of its corner tiles
        w, s, e, n = b.bounds()
        assert (w, n) == pytest.approx(TMS.bounds(morecantile.Tile(b.x0, b.y0, 16))[0::3])
        assert (e, s) == pytest.approx(TMS.bounds(morecantile.Tile(b.x1 - 1, b.y1 - 1, 16))[2:0:-1])
    # all features in one tile: one block, whatever the parts asked for
    assert len(plan_blocks(bounds[:1].repeat(50, axis=0), 16, 8)) == 1


def test_merging_overlapping_parts_is_refused(built_dir: Path, tmp_path: Path) -> None:
    from geo.errors import ArtoisError

    source = archive_path(built_dir, "roof_faces")
    with pytest.raises(ArtoisError, match="overlap"):
        merge_archives([(source, lambda z, x, y: True), (source, lambda z, x, y: z == 16)], tmp_path / "m.pmtiles")
    assert not (tmp_path / "m.pmtiles").exists()


def test_feature_bounds_from_the_spatial_index(built_dir: Path) -> None:
    """The R-tree's boxes hold each face's bounds (SQLite's R*Tree stores them as float32, rounded outwards)."""
    from geo.io.gpkg import feature_bounds

    got, crs = feature_bounds(built_dir / "rooftops.gpkg", "roof_faces")
    gdf = pyogrio.read_dataframe(built_dir / "rooftops.gpkg", layer="roof_faces", columns=[])
    want = gdf.geometry.bounds.to_numpy()
    assert crs == str(gdf.crs) and got.shape == want.shape
    assert np.all(got[:, :2] <= want[:, :2]) and np.all(got[:, 2:] >= want[:, 2:])
    assert np.abs(got - want).max() <= 1.0  # [m]: float32 steps are 0.5 m at a northing of 7 x 10^6 m
