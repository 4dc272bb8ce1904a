"""The GeoPackage reader: blobs decoded like GDAL does, R-tree queries equal a brute-force filter."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from api_fixtures import api_build  # noqa: F401

from api.io.gpkg import GeoPackage, SpatialFilter, gpkg_blob_to_wkb
from api.layers import Catalog
from geo.errors import InputError, NotFoundError
from geo.products import BuildFolder, rooftops
from geo.products import parks as P


def test_metadata_matches_gdal(api_build: Path) -> None:  # noqa: F811
    gp = GeoPackage(BuildFolder(api_build).rooftops)
    assert set(gp.layers) == {layer.name for layer in rooftops.SPATIAL_LAYERS}
    info = gp.layer(rooftops.BUILDINGS.name)
    ref = pyogrio.read_info(BuildFolder(api_build).rooftops, layer=rooftops.BUILDINGS.name)
    assert info.count == ref["features"] == 20
    assert info.crs.to_epsg() == 2154
    assert info.rtree == "rtree_buildings_geom"
    assert set(info.column_names) == set(ref["fields"])
    # R-tree extent (float32, rounded outwards) encloses GDAL's exact extent within 1 m
    assert info.bounds is not None
    np.testing.assert_allclose(info.bounds, ref["total_bounds"], atol=1.0)
    assert info.bounds[0] <= ref["total_bounds"][0] and info.bounds[2] >= ref["total_bounds"][2]
    assert info.column("is_flat" if "is_flat" in info.column_names else "n_faces").kind == "integer"
    assert gp.layer(rooftops.ROOF_FACES.name).column("is_flat").kind == "boolean"


def test_metadata_without_gdal_records_is_the_same(api_build: Path, tmp_path: Path) -> None:  # noqa: F811
    # The counts and extents GDAL records (read at start-up without scanning the tables) and the scans used
    # when a GeoPackage lacks them agree with each other and with pyogrio.
    import shutil
    import sqlite3

    copy = Path(shutil.copy(BuildFolder(api_build).rooftops, tmp_path / "copy.gpkg"))
    con = sqlite3.connect(copy)
    con.execute("DROP TABLE gpkg_ogr_contents")
    con.execute("UPDATE gpkg_contents SET min_x = NULL, min_y = NULL, max_x = NULL, max_y = NULL")
    con.commit()
    con.close()
    recorded, scanned = GeoPackage(BuildFolder(api_build).rooftops), GeoPackage(copy)
    for layer in rooftops.SPATIAL_LAYERS:
        ref = pyogrio.read_info(copy, layer=layer.name)
        a, b = recorded.layer(layer.name), scanned.layer(layer.name)
        assert a.count == b.count == ref["features"] > 0
        assert a.bounds is not None and b.bounds is not None
        np.testing.assert_allclose(a.bounds, ref["total_bounds"], atol=1e-6)
        np.testing.assert_allclose(b.bounds, ref["total_bounds"], atol=1.0)  # float32 R-tree


def test_geometries_and_attributes_equal_pyogrio(api_build: Path) -> None:  # noqa: F811
    gp = GeoPackage(BuildFolder(api_build).rooftops)
    feats = gp.read(rooftops.ROOF_FACES.name)
    ref = pyogrio.read_dataframe(BuildFolder(api_build).rooftops, layer=rooftops.ROOF_FACES.name, fid_as_index=True)
    assert list(feats.fids) == list(ref.index)
    assert all(shapely.equals_exact(feats.geometries, ref.geometry.values, tolerance=0))
    for props, (_, row) in zip(feats.properties, ref.iterrows(), strict=True):
        assert props["face_id"] == row["face_id"]
        assert props["is_flat"] is bool(row["is_flat"])
        assert props["kwp"] == pytest.approx(row["kwp"])


def test_blob_header_with_envelope_is_stripped() -> None:
    g = shapely.Polygon([(0, 0), (1, 0), (1, 1)])
    wkb = shapely.to_wkb(g)
    env = np.array([0, 1, 0, 1], "<f8").tobytes()
    blob = b"GP" + bytes([0, 0b0000_0011]) + (2154).to_bytes(4, "little") + env + wkb  # envelope [minx,maxx,miny,maxy]
    assert gpkg_blob_to_wkb(blob) == wkb
    assert gpkg_blob_to_wkb(None) is None


@pytest.mark.parametrize("bbox", [
    (686_090.0, 7_036_640.0, 686_150.0, 7_036_700.0),  # cuts houses of the first rows
    (686_195.0, 7_036_655.0, 686_196.0, 7_036_656.0),  # inside one house
    (686_000.0, 7_036_500.0, 686_010.0, 7_036_510.0),  # empty corner
])
def test_spatial_query_equals_brute_force(api_build: Path, bbox: tuple[float, float, float, float]) -> None:  # noqa: F811
    gp = GeoPackage(BuildFolder(api_build).rooftops)
    ref = gpd.read_file(BuildFolder(api_build).rooftops, layer=rooftops.ROOF_FACES.name, fid_as_index=True)
    expected = sorted(ref.index[ref.intersects(shapely.box(*bbox))])
    got = gp.read(rooftops.ROOF_FACES.name, spatial=SpatialFilter.from_rectangle(bbox))
    assert list(got.fids) == expected
    assert gp.count(rooftops.ROOF_FACES.name, spatial=SpatialFilter.from_rectangle(bbox)) == len(expected)
    # candidates only (envelope test) are a superset
    cand = gp.read(rooftops.ROOF_FACES.name, spatial=SpatialFilter(bbox), geometry=False)
    assert set(expected) <= set(cand.fids)


def test_queries_use_the_rtree(api_build: Path) -> None:  # noqa: F811
    gp = GeoPackage(BuildFolder(api_build).rooftops)
    info = gp.layer(rooftops.ROOF_FACES.name)
    sub, params = gp.spatial_fids_sql(info, SpatialFilter((0.0, 0.0, 1.0, 1.0)))
    plan = gp.connection().execute(
        f'EXPLAIN QUERY PLAN SELECT * FROM roof_faces AS t WHERE t.fid IN ({sub})', params
    ).fetchall()
    text = " ".join(str(r[-1]) for r in plan)
    assert "VIRTUAL TABLE INDEX" in text and "rtree_roof_faces_geom" in text
    assert "SCAN t" not in text  # rows fetched by rowid, no scan of the table
    assert "USING INTEGER PRIMARY KEY" in text


def test_equality_and_key_index(api_build: Path) -> None:  # noqa: F811
    gp = GeoPackage(BuildFolder(api_build).rooftops)
    idx = gp.key_index(rooftops.BUILDINGS.name, "building_id")
    assert len(idx) == 20
    feats = gp.read(rooftops.ROOF_FACES.name, equals={"building_id": ["BATIMENT0000000000000003", "BATIMENT0000000000000004"]})
    assert sorted(p["face_id"] for p in feats.properties) == [
        "BATIMENT0000000000000003-1", "BATIMENT0000000000000003-2",
        "BATIMENT0000000000000004-1", "BATIMENT0000000000000004-2",
    ]
    with pytest.raises(KeyError):
        gp.read(rooftops.ROOF_FACES.name, equals={"no_such_column": 1})


def test_paging_is_stable(api_build: Path) -> None:  # noqa: F811
    gp = GeoPackage(BuildFolder(api_build).rooftops)
    pages = [gp.read(rooftops.ROOF_FACES.name, limit=7, offset=o, geometry=False).fids for o in range(0, 40, 7)]
    allf = np.concatenate(pages)
    assert len(allf) == 40 and len(set(allf.tolist())) == 40 and list(allf) == sorted(allf)


def test_missing_or_bad_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        GeoPackage(tmp_path / "nope.gpkg")
    bad = tmp_path / "bad.gpkg"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(InputError, match="bad.gpkg"):
        GeoPackage(bad)
    with pytest.raises(InputError, match="run 'artois build' first"):
        Catalog(tmp_path)
    with pytest.raises(InputError, match="run 'artois build' first"):
        Catalog(tmp_path / "missing")


def test_catalog_collections(api_build: Path) -> None:  # noqa: F811
    cat = Catalog(api_build)
    expected = {*(layer.name for layer in rooftops.SPATIAL_LAYERS), *(layer.name for layer in (
        P.PARKS, P.GREENWAYS, P.SERVICE_AREAS, P.GAPS, P.COMMUNES_ACCESS, P.ACCESS_CELLS, P.ENTRANCES))}
    assert set(cat.collections) == expected
    b = cat.collection(rooftops.BUILDINGS.name).bounds_wgs84
    assert b is not None and 2.7 < b[0] < b[2] < 2.9 and 50.3 < b[1] < b[3] < 50.5
    with pytest.raises(NotFoundError):
        cat.collection("nope")
    assert cat.collection(rooftops.BUILDINGS.name).fid_of("BATIMENT0000000000000001") == 1
    with pytest.raises(NotFoundError):
        cat.collection(rooftops.BUILDINGS.name).fid_of("BATIMENT-unknown")


def test_catalog_refuses_an_irradiance_mosaic_with_a_tile_missing(api_build: Path, tmp_path: Path) -> None:  # noqa: F811
    """A folder of products assembled by hand (no build manifest): the mosaic's tiles are checked at start."""
    import shutil

    from geo.products import irradiance

    out = tmp_path / "copy"
    shutil.copytree(api_build, out)
    assert Catalog(out).raster is not None
    tile = sorted((out / irradiance.TILE_FOLDER).glob("*.tif"))[2]
    tile.unlink()
    with pytest.raises(InputError, match=f"{tile.name}: tile of {irradiance.FILE} not found"):
        Catalog(out)
