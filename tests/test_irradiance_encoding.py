"""``irradiance.tif`` stored as scaled integers: what the file holds, what readers get back, how close to
the physics; per-tile files merge into the same bytes; a killed writer's temporaries are cleared."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS
from test_solar_physics import plane_dsm, pvlib_annual_kwh

from geo.io._atomic import is_temporary, remove_stale_temporaries
from geo.io.rasters import read_bands_at, read_grid, read_raster, write_geotiff
from geo.io.weather import default_weather
from geo.pipeline import STATE_DIR, build
from geo.products import irradiance
from geo.solar.build import (
    IrradiancePlan,
    irradiance_from_files,
    irradiance_tile_file,
    merge_irradiance_tiles,
    plan_irradiance_tiles,
    result_bands,
)
from geo.solar.irradiance import SolarSettings, compute_irradiance
from geo.types import RasterGrid

ROOT = Path(__file__).resolve().parents[1]
X0, Y0 = 685000.0, 7038000.0
SETTINGS = SolarSettings(distance_m=30.0, n_directions=16)
#: Half the quantisation step of each band (rows), with float32 rounding of the decoded value.
HALF_STEP = np.array([0.05] + [0.25] * 12 + [0.0005] * 2)[:, None] * (1 + 1e-4)


def _grid(shape: tuple[int, int] = (8, 8), res: float = 0.5) -> RasterGrid:
    return RasterGrid(Affine(res, 0, X0, 0, -res, Y0), rasterio.crs.CRS.from_epsg(2154), shape, ())


def _write(path: Path, bands: np.ndarray, grid: RasterGrid) -> Path:
    with irradiance.irradiance_writer(path, grid, {"WEATHER_SOURCE": "test"}, tile_px=grid.shape[0]) as out:
        out.write(bands, 0, 0)
    return path


# ---------------------------------------------------------------------------
# The encoding, by hand
# ---------------------------------------------------------------------------


def test_stored_integers_and_physical_values_by_hand(tmp_path: Path) -> None:
    bands = np.full((15, 8, 8), np.nan, dtype=np.float32)
    bands[:13, 2, 3] = [1234.56, 0.0, 0.2, 0.24, 0.26, 99.99, 150.0, 200.149, 180.0, 120.0, 60.0, 25.0, 12.3]
    bands[13:, 2, 3] = [0.123456, 1.0]  # shading loss, sky view factor
    bands[13:, 5, 5] = [0.0, 0.00004]
    bands[:13, 5, 5] = 7000.0  # beyond what the annual band holds: clipped to 6553.4 (a month holds 32,767)
    path = _write(tmp_path / "irr.tif", bands, _grid())
    with rasterio.open(path) as ds:
        assert ds.dtypes == ("uint16",) * 15 and ds.nodata == 65535
        assert ds.scales == (0.1,) + (0.5,) * 12 + (0.001,) * 2 and ds.offsets == (0.0,) * 15
        stored = ds.read()
        # The documented recipe for rasterio users: stored × scale + offset, nodata masked.
        recipe = ds.read(masked=True) * np.array(ds.scales)[:, None, None] + np.array(ds.offsets)[:, None, None]
    # annual 1234.56 -> 12346 (0.1 steps); months in 0.5 steps: 0.2 -> 0; 0.24 -> 0; 0.26 -> 1; 99.99 -> 200;
    # 200.149 -> 400; 12.3 -> 25; fractions in 0.001 steps: 0.123456 -> 123 (nearest step)
    assert stored[:, 2, 3].tolist() == [12346, 0, 0, 0, 1, 200, 300, 400, 360, 240, 120, 50, 25, 123, 1000]
    assert stored[:, 5, 5].tolist() == [65534] + [14000] * 12 + [0, 0]
    assert (stored[:, 0, 0] == 65535).all() and (stored == 65535).sum() == 15 * (64 - 2)
    like = read_raster_like(path)
    got = irradiance.read_irradiance(path, like)
    assert np.array_equal(np.isnan(got), np.isnan(bands))
    assert got[0, 2, 3] == np.float32(1234.6) and got[14, 2, 3] == 1.0 and got[13, 2, 3] == np.float32(0.123)
    assert got[0, 5, 5] == np.float32(6553.4) == np.float32(irradiance.ENCODINGS[0].max_value)
    assert np.allclose(recipe.filled(np.nan), got, equal_nan=True)
    inside = ~np.isnan(bands) & (bands < 6000)
    assert (np.abs(got - bands)[inside] <= np.broadcast_to(HALF_STEP[:, :, None], bands.shape)[inside]).all()


def test_sampled_pixels_are_the_stored_values_by_hand(tmp_path: Path) -> None:
    """The bands at some pixels of a DSM window's grid (what a roofs group reads): stored × scale by hand,
    NaN for nodata and outside the file, in the order asked, whatever blocks the file is read by."""
    rng = np.random.default_rng(7)
    bands = rng.uniform(0, 900, (15, 8, 8)).astype(np.float32)
    bands[13:] = rng.uniform(0, 1, (2, 8, 8))
    bands[:, 6, 1] = np.nan  # not computed
    path = _write(tmp_path / "irr.tif", bands, _grid())
    with rasterio.open(path) as ds:
        stored, scales = ds.read().astype(np.float64), np.array(ds.scales)
    # a window of another grid: 2 rows above and 3 columns left of the file, 12 x 12 pixels
    like = RasterGrid(Affine(0.5, 0, X0 - 1.5, 0, -0.5, Y0 + 1.0), CRS.from_epsg(2154), (12, 12), ())
    rows = np.array([2, 9, 0, 5, 8, 2, 11, 4, 9])  # unordered, one twice
    cols = np.array([3, 10, 0, 7, 4, 3, 11, 6, 10])
    expected = np.full((15, rows.size), np.nan)
    for i, (r, c) in enumerate(zip(rows - 2, cols - 3, strict=True)):  # in the file's pixels
        if 0 <= r < 8 and 0 <= c < 8 and stored[0, r, c] != 65535:
            expected[:, i] = stored[:, r, c] * scales
    assert np.isnan(expected).all(axis=0).tolist() == [False, False, True, False, True, False, True, False, False]
    got = irradiance.sample_irradiance(path, like, rows, cols)
    assert got.dtype == np.float32 and got.shape == (15, rows.size)
    np.testing.assert_allclose(got, expected, rtol=1e-6, equal_nan=True)
    np.testing.assert_array_equal(got, irradiance.read_irradiance(path, like)[:, rows, cols])
    for block in (1, 3, 5):  # read by blocks of 1, 3 or 5 pixels: the same values
        np.testing.assert_array_equal(
            read_bands_at(path, 15, crs=like.crs, transform=like.transform, rows=rows, cols=cols, block_px=block),
            got)
    # a file of float32 bands (a tile of an earlier build, nodata -9999)
    old = write_geotiff(tmp_path / "old.tif", np.where(np.isnan(bands), -9999.0, bands).astype(np.float32),
                        transform=_grid().transform, crs="EPSG:2154", nodata=-9999.0)
    want = np.full((15, rows.size), np.nan, dtype=np.float32)
    ok = (rows - 2 >= 0) & (rows - 2 < 8) & (cols - 3 >= 0) & (cols - 3 < 8)
    want[:, ok] = bands[:, rows[ok] - 2, cols[ok] - 3]
    np.testing.assert_array_equal(
        read_bands_at(old, 15, crs=like.crs, transform=like.transform, rows=rows, cols=cols, block_px=3), want)
    # nothing asked, or nothing inside the file
    assert irradiance.sample_irradiance(path, like, rows[:0], cols[:0]).shape == (15, 0)
    assert np.isnan(irradiance.sample_irradiance(path, like, np.array([0, 11]), np.array([11, 0]))).all()


def test_irradiance_readers_name_the_file_and_the_problem(tmp_path: Path) -> None:
    """Both readers of the bands (over a grid, at some pixels) refuse a missing, unreadable, 3-band,
    other-CRS or other-pixel-size raster with the file and the problem."""
    from geo.errors import CRSError, InputError

    like = _grid()
    three = write_geotiff(tmp_path / "three.tif", np.zeros((3, 8, 8), np.float32), transform=like.transform,
                          crs="EPSG:2154")
    other_crs = write_geotiff(tmp_path / "crs.tif", np.zeros((15, 8, 8), np.float32), transform=like.transform,
                              crs="EPSG:32631")
    coarse = write_geotiff(tmp_path / "coarse.tif", np.zeros((15, 8, 8), np.float32),
                           transform=Affine(1.0, 0, X0, 0, -1.0, Y0), crs="EPSG:2154")
    (tmp_path / "text.tif").write_text("not a raster")
    cases = [(tmp_path / "absent.vrt", InputError, "run the irradiance stage first"),
             (tmp_path / "text.tif", InputError, "not a readable raster"),
             (three, InputError, "3 band\\(s\\); 15 expected"),
             (other_crs, CRSError, "differs from the DSM's"),
             (coarse, InputError, "pixel size 1.0 m differs from the DSM's \\(0.5 m\\)")]
    for path, error, message in cases:
        for read in (lambda p: irradiance.read_irradiance(p, like),
                     lambda p: irradiance.sample_irradiance(p, like, np.array([1]), np.array([1]))):
            with pytest.raises(error, match=message) as info:
                read(path)
            assert Path(path).name in str(info.value)


def read_raster_like(path: Path):  # type: ignore[no-untyped-def]
    """A DSM-like raster on the grid of ``path`` (what read_irradiance reads the bands onto)."""
    from geo.types import Raster

    with rasterio.open(path) as ds:
        return Raster(np.zeros(ds.shape, np.float32), ds.transform, ds.crs)


@pytest.mark.skipif(shutil.which("gdal_translate") is None, reason="GDAL command-line tools not installed")
def test_gdal_reads_physical_values(tmp_path: Path) -> None:
    """What a GDAL (or QGIS) user gets: ``gdal_translate -unscale`` applies the file's scale and offset."""
    bands = np.full((15, 8, 8), np.nan, dtype=np.float32)
    bands[0, 1:7, 1:7] = 987.65
    bands[14, 1:7, 1:7] = 0.5123
    src = _write(tmp_path / "irr.tif", bands, _grid())
    for b, expected in ((1, 987.7), (15, 0.512)):
        out = tmp_path / f"b{b}.tif"
        subprocess.run(["gdal_translate", "-q", "-b", str(b), "-unscale", "-ot", "Float32", str(src), str(out)],
                       check=True)
        with rasterio.open(out) as ds:
            values = ds.read(1, masked=True)
        assert values.count() == 36 and np.allclose(values.compressed(), expected, rtol=0, atol=1e-4)


# ---------------------------------------------------------------------------
# Physics through the file: pvlib and the analytic sky view factor, within half a step
# ---------------------------------------------------------------------------


def test_an_open_plane_through_the_file_matches_pvlib_within_the_step(tmp_path: Path) -> None:
    weather = default_weather()
    tilt, azimuth = 30.0, 180.0
    dsm = plane_dsm(tilt, azimuth, n=41)
    path = write_geotiff(tmp_path / "dsm.tif", dsm.data, transform=dsm.transform, crs=dsm.crs)
    out = irradiance_from_files([path], tmp_path / "irr.tif", all_pixels=True, settings=SETTINGS, weather=weather,
                                progress=False)
    got = irradiance.read_irradiance(out, read_raster(path))
    ref = result_bands(compute_irradiance(read_raster(path), weather, settings=SETTINGS))
    assert np.array_equal(np.isnan(got), np.isnan(ref)) and np.isfinite(got[:, 15:26, 15:26]).all()
    # the file holds the engine's values rounded to the step of each band: never more than half a step off
    valid = np.isfinite(ref[0])
    assert (np.abs(got[:, valid] - ref[:, valid]) <= HALF_STEP).all()
    # and against the independent references, with the physics tests' tolerances (plus half a step)
    centre = got[:, 15:26, 15:26].reshape(15, -1)
    pv = pvlib_annual_kwh(weather, tilt, azimuth)
    assert np.all(np.abs(centre[0] / pv - 1) < 0.01), (pv, centre[0].min(), centre[0].max())
    svf = (1 + np.cos(np.radians(tilt))) / 2
    assert np.all(np.abs(centre[14] - svf) <= 2e-3 + HALF_STEP[14, 0])
    assert centre[13].max() < 0.005 + HALF_STEP[13, 0]


# ---------------------------------------------------------------------------
# Per-tile files merge into the bytes of the direct build
# ---------------------------------------------------------------------------


def _town(tmp_path: Path) -> Path:
    rows, cols = np.mgrid[0:60, 0:60]
    z = 40 + 0.1 * cols + np.where((rows > 15) & (rows < 45) & (cols > 10) & (cols < 30), 9.0, 0.0)
    z = z + np.where((rows > 20) & (rows < 50) & (cols > 35) & (cols < 55), 5.0 + 0.3 * (rows - 20), 0.0)
    return write_geotiff(tmp_path / "dsm.tif", z.astype(np.float32), transform=Affine(1.0, 0, X0, 0, -1.0, Y0),
                         crs="EPSG:2154")


def test_tile_files_published_as_a_mosaic_read_back_the_direct_build(tmp_path: Path) -> None:
    dsm = _town(tmp_path)
    weather = default_weather()
    direct = irradiance_from_files([dsm], tmp_path / "direct.tif", all_pixels=True, settings=SETTINGS,
                                   weather=weather, tile_px=30, progress=False)
    grid = read_grid([dsm])
    tasks = plan_irradiance_tiles(grid, weather, settings=SETTINGS, tile_px=30, all_pixels=True)
    with rasterio.open(direct) as ds:
        tags = ds.tags()
    plan = IrradiancePlan(tasks, grid, tags, 30)
    tile_dir = tmp_path / "tiles"
    files = [irradiance_tile_file(plan, k, tile_dir) for k in reversed(range(len(tasks)))]
    with rasterio.open(files[0]) as ds:  # tiles are stored in the product's encoding already
        assert ds.dtypes[0] == irradiance.DTYPE and ds.scales == irradiance.SCALES and ds.tags() == tags
    build_dir = tmp_path / "build"
    mosaic = build_dir / irradiance.FILE
    outputs = merge_irradiance_tiles(plan, tile_dir, mosaic)
    assert outputs[0] == mosaic and sorted(p.name for p in outputs if p.suffix == ".tif") == sorted(f.name for f in files)
    assert all((build_dir / irradiance.TILE_FOLDER / f.name).samefile(f) for f in files)  # linked, not copied
    like = read_raster(dsm)
    np.testing.assert_array_equal(irradiance.read_irradiance(mosaic, like), irradiance.read_irradiance(direct, like))
    with rasterio.open(mosaic) as vrt, rasterio.open(direct) as cog:  # what GDAL itself sees
        assert vrt.driver == "VRT" and (vrt.crs, vrt.transform, vrt.shape) == (cog.crs, cog.transform, cog.shape)
        assert vrt.descriptions == cog.descriptions and vrt.scales == cog.scales and vrt.nodata == cog.nodata
        assert vrt.tags() == cog.tags() and vrt.tags(1) == cog.tags(1)
        np.testing.assert_array_equal(vrt.read(), cog.read())  # the stored integers, not only the values
    # Tiles of an earlier build (15 float32 bands, nodata -9999) are re-encoded: the same values again.
    old_dir = tmp_path / "old"
    for f in files:
        with rasterio.open(f) as ds:
            write_geotiff(old_dir / f.name, irradiance.read_tile(f), transform=ds.transform, crs=ds.crs,
                          nodata=-9999.0)
    again = merge_irradiance_tiles(plan, old_dir, tmp_path / "again" / irradiance.FILE)[0]
    np.testing.assert_array_equal(irradiance.read_irradiance(again, like), irradiance.read_irradiance(direct, like))
    # A tile removed from the product folder: the mosaic names it as missing.
    gone = build_dir / irradiance.TILE_FOLDER / files[0].name
    gone.unlink()
    assert irradiance.missing_tiles(mosaic) == [gone]


def test_the_mosaic_exposes_the_tiles_overviews(tmp_path: Path) -> None:
    """Tiles of 512 px (and smaller ones on the edges) with the same overview levels: GDAL shows them as
    the VRT's, and a decimated read of the mosaic is the block mean of its pixels."""
    res, tile = 0.5, 512
    grid = RasterGrid(Affine(res, 0, X0, 0, -res, Y0), CRS.from_epsg(2154), (tile + 256, 2 * tile), ())
    rng = np.random.default_rng(3)
    phys = np.full((15, *grid.shape), np.nan, np.float32)
    phys[0] = rng.uniform(500, 1200, grid.shape)
    phys[1:13] = rng.uniform(0, 150, (12, *grid.shape))
    phys[13:] = rng.uniform(0, 1, (2, *grid.shape))
    stored = irradiance.encode(phys)
    tiles = []
    for r0 in (0, tile):
        for c0 in (0, tile):
            r1, c1 = min(r0 + tile, grid.shape[0]), c0 + tile
            path = irradiance.write_tile(tmp_path / "m" / f"{r0}_{c0}.tif", phys[:, r0:r1, c0:c1],
                                         transform=grid.transform @ Affine.translation(c0, r0), crs=grid.crs,
                                         tile_px=tile)
            tiles.append((path, (r0, r1, c0, c1)))
    assert irradiance.overview_factors(tile) == [4, 8]
    mosaic = irradiance.write_mosaic(tmp_path / "m.vrt", tiles, grid, {"WEATHER_SOURCE": "test"}, tile_px=tile)[0]
    with rasterio.open(mosaic) as ds:
        assert ds.overviews(1) == [4, 8]
        assert ds.tags()["WEATHER_SOURCE"] == "test"
        np.testing.assert_array_equal(ds.read(), stored)
        coarse = ds.read(1, out_shape=(grid.shape[0] // 4, grid.shape[1] // 4))
    mean = stored[0].astype(np.float64).reshape(grid.shape[0] // 4, 4, grid.shape[1] // 4, 4).mean(axis=(1, 3))
    assert np.abs(coarse - mean).max() <= 1  # GDAL's average overview of 4×4 integers (rounded)


# ---------------------------------------------------------------------------
# A killed writer's temporaries
# ---------------------------------------------------------------------------

_KILLED_WRITER = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    from affine import Affine
    from rasterio.crs import CRS
    from geo.io._atomic import atomic_path
    from geo.products import irradiance
    from geo.types import RasterGrid

    out = sys.argv[1]
    if sys.argv[2] == "cog":  # killed while irradiance.tif streams into its temporary folder
        grid = RasterGrid(Affine(0.5, 0, 685000, 0, -0.5, 7038000), CRS.from_epsg(2154), (32, 32), ())
        with irradiance.irradiance_writer(out, grid, {}, tile_px=32) as w:
            w.write(np.ones((15, 16, 16), np.float32), 0, 0)
            os.kill(os.getpid(), signal.SIGKILL)
    with atomic_path(out) as tmp:  # killed half-way through a file
        tmp.write_bytes(b"half a file")
        os.kill(os.getpid(), signal.SIGKILL)
""")


def _killed_writer(out: Path, kind: str) -> None:
    proc = subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(out), kind], cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()


def test_a_rerun_build_clears_what_a_killed_writer_left_and_nothing_else(tmp_path: Path) -> None:
    data, out = tmp_path / "data", tmp_path / "build"
    data.mkdir()
    tiles = out / STATE_DIR / "tiles" / "irradiance"
    # a first build (of a folder without DSM: the irradiance fails) leaves its state, which a re-run keeps
    assert "irradiance" in build(data, out, only=["irradiance"], progress=False).failed
    stamp = (out / STATE_DIR / "fingerprint").read_text()
    _killed_writer(out / irradiance.FILE, "cog")
    _killed_writer(tiles / "r0000000_c0000000.tif", "file")
    _killed_writer(out / STATE_DIR / "done" / "roofs", "file")
    left = sorted(p for p in out.rglob("*") if is_temporary(p))
    assert len(left) == 3, left  # the streaming folder, two half files
    assert sorted(p.parent for p in left) == sorted([out, tiles, out / STATE_DIR / "done"])
    assert all(p.name.startswith(".") and ".partial-" in p.name for p in left)
    assert [p for p in left if p.is_dir()] == [p.parent for p in out.glob(".irradiance.partial-*/stream.tif")]
    # look-alikes that are not the writer's temporaries stay
    keep = [out / ".keep.tif", out / "notes.partial-abcdefgh.txt", tiles / ".r0.partial-abc.tif",
            tiles / "r0000000_c0000030.empty", out / STATE_DIR / ".x.partial-ABCDEFGH.tif"]
    for p in keep:
        p.write_text("x")
    assert "irradiance" in build(data, out, only=["irradiance"], progress=False).failed
    assert (out / STATE_DIR / "fingerprint").read_text() == stamp  # the state was resumed, not wiped
    assert not [p for p in out.rglob("*") if is_temporary(p)]
    assert all(p.exists() for p in keep)


def test_remove_stale_temporaries_outside_a_build(tmp_path: Path) -> None:
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    stale = [tmp_path / ".x.partial-abcd_123.gpkg", tmp_path / ".x.partial-abcd_123.gpkg-journal",
             sub / ".t.partial-zzzzzzzz.tif", sub / ".noext.partial-00000000"]
    for p in stale:
        p.write_text("x")
    folder = tmp_path / ".irradiance.partial-qwertyui"
    (folder / "deep").mkdir(parents=True)
    (folder / "deep" / "stream.tif").write_text("x")
    others = [tmp_path / ".x.partial-ABCDEFGH.gpkg", tmp_path / "x.partial-abcdefgh.tif", sub / "data.tif",
              tmp_path / ".x.partial-abcdefghi.tif"]
    for p in others:
        p.write_text("x")
    assert remove_stale_temporaries(tmp_path / "missing") == []
    assert remove_stale_temporaries(sub, recursive=False) == [sub / ".noext.partial-00000000",
                                                               sub / ".t.partial-zzzzzzzz.tif"]
    removed = remove_stale_temporaries(tmp_path)
    assert removed == sorted([*stale[:2], folder])
    assert not folder.exists() and all(p.exists() for p in others)


def test_encode_in_chunks_is_the_float64_formula() -> None:
    """encode (chunked, in place) = round((value − offset) / scale) in float64, clipped, NaN → NODATA, on an
    array larger than a chunk, not contiguous, with ties, negatives, out-of-range values and infinities."""
    rng = np.random.default_rng(2)
    big = rng.uniform(-5.0, 2000.0, size=(irradiance.N_BANDS, 301, 250)).astype(np.float32)
    big[rng.random(big.shape) < 0.3] = np.nan
    big[0, 0, :6] = [0.05, 0.15, 0.25, 1e9, np.inf, -np.inf]  # ties of 0.1 steps, above the range, ±inf
    big[1, 0, :4] = [0.25, 0.75, 1.25, 40000.0]  # ties of 0.5 steps, above 65,534 steps
    big[13, 0, :3] = [0.0005, 0.0015, -0.0]
    bands = big[:, 1:, ::2]  # not contiguous
    assert bands[0].size > 1 << 15  # several chunks per band
    scale = np.asarray(irradiance.SCALES)[:, None, None]
    offset = np.asarray(irradiance.OFFSETS)[:, None, None]
    values = bands.astype(np.float64)
    expected = np.clip(np.rint((values - offset) / scale), 0, irradiance.NODATA - 1)
    expected[np.isnan(values)] = irradiance.NODATA
    got = irradiance.encode(bands)
    assert got.dtype == np.uint16 and got.shape == bands.shape
    assert np.array_equal(got, expected.astype(np.uint16))
    head = irradiance.encode(big[:, :1, :6])[:, 0]
    # float32 0.05 and 0.15 are a hair above the tie (→ 1, 2); 0.25 is exact: 2.5 → 2 (to even)
    assert list(head[0]) == [1, 2, 2, irradiance.NODATA - 1, irradiance.NODATA - 1, 0]
    assert list(head[1, :4]) == [0, 2, 2, irradiance.NODATA - 1]  # exact ties 0.5, 1.5, 2.5 → 0, 2, 2
