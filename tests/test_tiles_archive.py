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

from api.app import create_app
from api.settings import Settings
from geo import config
from geo.pipeline import build
from geo.products.tiles import TILE_LAYERS, archive_path, read_archive

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
