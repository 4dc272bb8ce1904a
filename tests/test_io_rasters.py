"""geo.io.rasters: LiDAR HD tile names, finding tiles by bounds, mosaics, halos, nodata, writing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from geo.errors import CRSError, InputError
from geo.io.rasters import (
    _DECODED,
    clear_decoded_cache,
    find_lidar_tiles,
    lidar_tile_name,
    parse_lidar_tile,
    read_raster,
    write_geotiff,
)

RES = 10.0  # coarse pixels keep the 1 km test tiles small (100 x 100 px)
X0, Y1 = 700_000.0, 6_602_000.0  # upper-left corner of the 2 x 2 km test mosaic


@pytest.fixture(scope="module")
def source() -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.uniform(20.0, 80.0, size=(200, 200)).astype(np.float32)


@pytest.fixture(scope="module")
def tiles(tmp_path_factory: pytest.TempPathFactory, source: np.ndarray) -> Path:
    """The source cut into 4 IGN-named 1 km tiles, with one nodata pixel."""
    folder = tmp_path_factory.mktemp("lidar")
    for i in range(2):  # rows (north first)
        for j in range(2):
            arr = source[i * 100:(i + 1) * 100, j * 100:(j + 1) * 100].copy()
            if (i, j) == (1, 1):
                arr[10, 20] = -9999.0
            x_km, y_km = int(X0 / 1000) + j, int(Y1 / 1000) - i
            tr = Affine(RES, 0, x_km * 1000.0, 0, -RES, y_km * 1000.0)
            write_geotiff(folder / lidar_tile_name(x_km, y_km, "MNS"), arr, transform=tr, crs="EPSG:2154",
                          nodata=-9999.0)
    (folder / "notes.txt").write_text("not a tile")
    return folder


def test_tile_names_round_trip() -> None:
    name = lidar_tile_name(686, 7038, "MNT")
    assert name == "LHD_FXX_0686_7038_MNT_O_0M50_LAMB93_IGN69.tif"
    tile = parse_lidar_tile(Path("/x") / name)
    assert tile is not None and (tile.kind, tile.x_km, tile.y_km) == ("MNT", 686, 7038)
    # upper-left corner in km: covers x 686-687 km, y 7037-7038 km
    assert tile.bounds == (686_000.0, 7_037_000.0, 687_000.0, 7_038_000.0)
    assert parse_lidar_tile("dsm.tif") is None


def test_find_tiles_by_bounds(tiles: Path) -> None:
    assert len(find_lidar_tiles(tiles, "MNS")) == 4
    # a box inside the north-east tile only
    ne = find_lidar_tiles(tiles, "MNS", bounds=(701_200.0, 6_601_200.0, 701_800.0, 6_601_800.0))
    assert [p.name for p in ne] == [lidar_tile_name(701, 6602, "MNS")]
    # a box across the vertical seam of the southern tiles
    south = find_lidar_tiles(tiles, "MNS", bounds=(700_900.0, 6_600_100.0, 701_100.0, 6_600_200.0))
    assert [p.name for p in south] == [lidar_tile_name(700, 6601, "MNS"), lidar_tile_name(701, 6601, "MNS")]
    with pytest.raises(InputError, match="no IGN LiDAR HD MNS tile"):
        find_lidar_tiles(tiles, "MNS", bounds=(600_000.0, 6_500_000.0, 600_100.0, 6_500_100.0))
    with pytest.raises(InputError, match="no IGN LiDAR HD MNT tile"):
        find_lidar_tiles(tiles, "MNT")
    with pytest.raises(InputError, match="folder not found"):
        find_lidar_tiles(tiles / "nope", "MNS")


def test_mosaic_of_four_tiles_equals_the_source(tiles: Path, source: np.ndarray) -> None:
    r = read_raster(find_lidar_tiles(tiles, "MNS"))
    assert r.shape == (200, 200) and r.res_m == RES
    assert r.bounds == (X0, Y1 - 2000.0, X0 + 2000.0, Y1)
    assert r.crs.to_epsg() == 2154
    expected = source.copy()
    expected[110, 120] = np.nan  # the nodata pixel of the south-east tile
    np.testing.assert_array_equal(r.data, expected)


def test_window_across_tiles_and_halo(tiles: Path, source: np.ndarray) -> None:
    paths = find_lidar_tiles(tiles, "MNS")
    # 300 m x 200 m straddling the four tiles, pixel-aligned
    b = (700_850.0, 6_600_900.0, 701_150.0, 6_601_100.0)
    r = read_raster(paths, bounds=b)
    assert r.bounds == b
    np.testing.assert_array_equal(r.data, source[90:110, 85:115])
    # a halo reaches beyond the mosaic: NaN there, data inside
    h = read_raster(paths, bounds=(700_000.0, 6_601_900.0, 700_100.0, 6_602_000.0), halo_m=50.0)
    assert h.bounds == (699_950.0, 6_601_850.0, 700_150.0, 6_602_050.0)
    assert h.shape == (20, 20)
    assert np.isnan(h.data[:5, :]).all() and np.isnan(h.data[:, :5]).all()
    np.testing.assert_array_equal(h.data[5:, 5:], source[:15, :15])
    # a window of the in-memory raster is the same slice
    full = read_raster(paths)
    w = full.window(b)
    np.testing.assert_array_equal(w.data, r.data)
    assert w.bounds == r.bounds


def test_misaligned_bounds_snap_outwards(tiles: Path, source: np.ndarray) -> None:
    r = read_raster(find_lidar_tiles(tiles, "MNS"), bounds=(700_003.0, 6_601_981.0, 700_027.0, 6_601_999.0))
    assert r.bounds == (700_000.0, 6_601_980.0, 700_030.0, 6_602_000.0)
    np.testing.assert_array_equal(r.data, source[:2, :3])


def test_mixed_crs_is_an_error(tiles: Path, tmp_path: Path) -> None:
    other = tmp_path / lidar_tile_name(702, 6602, "MNS")
    write_geotiff(other, np.zeros((10, 10), np.float32), transform=Affine(RES, 0, 702_000, 0, -RES, 6_602_000),
                  crs="EPSG:32631")
    with pytest.raises(CRSError, match="differs"):
        read_raster([*find_lidar_tiles(tiles, "MNS"), other])


def test_write_geotiff_cog_round_trip(tmp_path: Path) -> None:
    data = np.arange(600 * 700, dtype=np.float32).reshape(600, 700)
    data[0, 0] = np.nan
    tr = Affine(0.5, 0, 685_000, 0, -0.5, 7_038_000)
    path = write_geotiff(tmp_path / "x.tif", data, transform=tr, crs="EPSG:2154", nodata=-9999.0, cog=True,
                         tags={"SOURCE": "test"})
    with rasterio.open(path) as ds:
        assert ds.profile["driver"] == "GTiff" and ds.overviews(1)
        assert ds.tags()["SOURCE"] == "test" and ds.nodata == -9999.0
        back = ds.read(1)
    assert back[0, 0] == -9999.0 and back[599, 699] == data[599, 699]
    assert not list(tmp_path.glob(".x.*"))  # no temporary left behind


def _reprojected_dsm(path: Path, width_m: float, height_m: float, rows: int = 6000, cols: int = 8) -> Path:
    """A DSM as gdalwarp leaves it after a reprojection: pixels a little taller than wide. Each pixel
    holds its own row number, so where a value lands after reading says which source pixel it came from."""
    data = np.repeat(np.arange(rows, dtype=np.float32)[:, None], cols, axis=1)
    write_geotiff(path, data, transform=Affine(width_m, 0, X0, 0, -height_m, Y1), crs="EPSG:2154", nodata=-9999.0)
    return path


def test_nearly_square_pixels_are_read_on_a_square_grid(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from geo.io.rasters import read_grid

    w, h = 2.5021, 2.5024  # 0.012 % apart
    path = _reprojected_dsm(tmp_path / "dsm_reprojected.tif", w, h)
    with caplog.at_level("INFO", logger="artois.io"):
        r = read_raster(path)
    assert r.transform.a == pytest.approx(w) and r.transform.e == pytest.approx(-w)  # square, of the width
    assert any("not exactly square" in m and "dsm_reprojected.tif" in m for m in caplog.messages)
    # 6000 rows of 2.5024 m make 15,014.4 m: 6001 rows of 2.5021 m cover them.
    assert r.shape == (int(np.ceil(6000 * h / w - 1e-9)), 8) and read_grid(path).shape == r.shape
    # Nearest neighbour by hand: output row i (centre at Y1 - (i + 0.5) w) takes the source row whose
    # band [Y1 - (k + 1) h, Y1 - k h] holds that centre.
    centre_depth = (np.arange(r.shape[0]) + 0.5) * w
    expected = np.floor(centre_depth / h)
    inside = expected < 6000
    np.testing.assert_array_equal(r.data[inside, 0], expected[inside])
    assert np.isnan(r.data[~inside]).all()  # the sliver past the source's last row has no data
    assert (np.diff(r.data[inside, 0]) >= 0).all() and np.count_nonzero(np.diff(r.data[inside, 0]) == 0) >= 1


@pytest.mark.parametrize(("height_m", "accepted"), [(2.5 * (1 + 0.00099), True), (2.5 * (1 + 0.00101), False),
                                                    (5.0, False)])
def test_square_pixel_tolerance_both_sides(tmp_path: Path, height_m: float, accepted: bool) -> None:
    from geo import config

    assert config.RASTER_SQUARE_PIXEL_TOLERANCE == 1e-3
    path = _reprojected_dsm(tmp_path / "dsm.tif", 2.5, height_m, rows=40)
    if accepted:
        assert read_raster(path).transform.e == -2.5
    else:
        with pytest.raises(InputError, match=r"dsm.tif: pixels of 2.5 x .* m are not square .*gdalwarp -tr 2.5 2.5"):
            read_raster(path)


def test_overlapping_files_mosaic_as_rasterio_merge(tmp_path: Path) -> None:
    """Files on one grid, overlapping, with nodata (declared or not), NaN and another nodata value: the
    mosaic is rasterio.merge's (first file with data wins), nodata of any file → NaN."""
    import rasterio.merge

    rng = np.random.default_rng(11)
    specs = [  # (col offset, row offset [px] on a 10 m grid, shape, nodata)
        (0, 0, (40, 50), -9999.0), (30, 20, (45, 40), -9999.0), (-10, 35, (30, 30), None), (20, -5, (20, 25), -1.0),
    ]
    paths = []
    for n, (c, r, shape, nodata) in enumerate(specs):
        arr = rng.uniform(10.0, 60.0, size=shape).astype(np.float32)
        arr[rng.random(shape) < 0.2] = -9999.0  # nodata where declared, a plain value in the file without one
        arr[rng.random(shape) < 0.05] = np.nan
        arr[0, :3] = -1.0
        tr = Affine(RES, 0, X0 + c * RES, 0, -RES, Y1 - r * RES)
        paths.append(write_geotiff(tmp_path / f"t{n}.tif", arr, transform=tr, crs="EPSG:2154", nodata=nodata))
    bounds = (X0 - 50.0, Y1 - 700.0, X0 + 600.0, Y1 + 30.0)
    clear_decoded_cache()
    out = read_raster(paths, bounds=bounds)
    # The same through the decoded-file cache: decoded once (misses), then served from it (hits).
    cached = [read_raster(paths, bounds=bounds, cache=True) for _ in range(2)]
    assert _DECODED.misses == len(paths) and _DECODED.hits == len(paths)
    srcs = [rasterio.open(p) for p in paths]
    try:
        ref, ref_tr = rasterio.merge.merge(srcs, bounds=bounds, res=RES, nodata=np.nan, dtype="float32", indexes=[1])
    finally:
        for s in srcs:
            s.close()
    expected = ref[0]
    for v in (-9999.0, -1.0):
        expected[expected == np.float32(v)] = np.nan
    assert out.transform == ref_tr
    assert np.array_equal(out.data, expected, equal_nan=True)
    for c in cached:
        assert c.transform == ref_tr and np.array_equal(c.data, expected, equal_nan=True)
    assert np.isnan(out.data).any() and np.isfinite(out.data).any()


def test_decoded_cache_serves_windows_and_sees_a_rewritten_file(tmp_path: Path, source: np.ndarray) -> None:
    """Windows of a cached file are the file's pixels; a file rewritten (new size/mtime) is decoded again."""
    clear_decoded_cache()
    tr = Affine(RES, 0, X0, 0, -RES, Y1)
    path = write_geotiff(tmp_path / "a.tif", source, transform=tr, crs="EPSG:2154", nodata=-9999.0)
    b = (X0 + 300.0, Y1 - 1700.0, X0 + 1900.0, Y1 - 100.0)  # 160 x 160 px of 200 x 200: cached
    r1 = read_raster([path], bounds=b, cache=True)
    r2 = read_raster([path], bounds=(X0, Y1 - 2000.0, X0 + 1500.0, Y1), halo_m=30.0, cache=True)
    assert _DECODED.misses == 1 and _DECODED.hits == 1
    np.testing.assert_array_equal(r1.data, source[10:170, 30:190])
    np.testing.assert_array_equal(r2.data[3:-3, 3:], source[:, :153])  # the halo inside the file: data
    assert np.isnan(r2.data[:3]).all() and np.isnan(r2.data[-3:]).all() and np.isnan(r2.data[:, :3]).all()
    changed = source[:, :180].copy()
    changed[20, 40] = -9999.0
    write_geotiff(path, changed, transform=tr, crs="EPSG:2154", nodata=-9999.0)
    r3 = read_raster([path], bounds=b, cache=True)
    assert _DECODED.misses == 2
    expected = np.full((160, 160), np.nan, dtype=np.float32)
    expected[:, :150] = changed[10:170, 30:180]
    expected[10, 10] = np.nan  # the new nodata pixel
    np.testing.assert_array_equal(r3.data, expected)
    clear_decoded_cache()
