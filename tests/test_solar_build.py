"""The irradiation stage end to end: files in, COG out; tiling; CLI; bad inputs; pipeline stage."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from geo import config
from geo.cli import main
from geo.io.rasters import read_values
from geo.io.weather import default_weather
from geo.pipeline import BuildContext
from geo.products import BuildFolder, irradiance
from geo.products.irradiance import BAND_NAMES, read_header
from geo.solar.build import build_irradiance, irradiance_from_files, result_bands
from geo.solar.irradiance import SolarSettings

RES = 1.0
X0, Y0 = 685000.0, 7038000.0


def city(n: int = 160, seed: int = 3) -> np.ndarray:
    """A small synthetic town: gentle terrain, boxes and gable roofs of random heights, a hole."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:n, 0:n]
    z = 40 + 0.05 * cols + 3 * np.sin(rows / 25.0)
    for _ in range(25):
        r, c = rng.integers(5, n - 25, 2)
        h, w = rng.integers(6, 20, 2)
        height = rng.uniform(4, 18)
        block = z[r : r + h, c : c + w]
        if rng.random() < 0.5:  # gable roof, ridge along the columns
            ridge = height + 3 - 6 * np.abs(np.linspace(-0.5, 0.5, h))[:, None]
            z[r : r + h, c : c + w] = block.min() + np.broadcast_to(ridge, block.shape)
        else:
            z[r : r + h, c : c + w] = block.min() + height
    return z.astype(np.float32)


def write_dsm(path: Path, z: np.ndarray, crs: str | None = "EPSG:2154", transform: Affine | None = None) -> Path:
    transform = transform or Affine(RES, 0, X0, 0, -RES, Y0)
    profile = {"driver": "GTiff", "height": z.shape[0], "width": z.shape[1], "count": 1, "dtype": "float32",
               "transform": transform, "nodata": config.LIDAR_NODATA}
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.where(np.isnan(z), config.LIDAR_NODATA, z).astype(np.float32), 1)
    return path


SETTINGS = SolarSettings(distance_m=60.0)
#: Largest error of a stored value per band (rows): half its quantisation step, plus float32 rounding.
HALF_STEP = np.asarray(irradiance.SCALES)[:, None] * 0.5 * (1 + 1e-4)


def read_physical(path: Path) -> np.ma.MaskedArray:
    """The bands of a raster as physical values (its scales and offsets applied), nodata masked."""
    return np.ma.masked_invalid(read_values(path))


@pytest.fixture(scope="module")
def weather():
    return default_weather()


def test_two_by_two_tiles_equal_the_mosaic(tmp_path: Path, weather) -> None:
    dsm = write_dsm(tmp_path / "dsm.tif", city())
    whole = irradiance_from_files([dsm], tmp_path / "whole.tif", all_pixels=True, settings=SETTINGS,
                                  weather=weather, tile_px=10_000, progress=False)
    tiled = irradiance_from_files([dsm], tmp_path / "tiled.tif", all_pixels=True, settings=SETTINGS,
                                  weather=weather, tile_px=80, progress=False)
    wa, wb = read_physical(whole), read_physical(tiled)
    assert (wa.mask == wb.mask).all()
    valid = ~wa.mask[0]
    assert valid.sum() > 0.9 * valid.size
    rel = np.abs(wb[0][valid] - wa[0][valid]) / wa[0][valid]
    assert rel.max() < 0.005, rel.max()
    # sky view factor: 1e-4 apart before the quantisation, each value then within half a step
    np.testing.assert_allclose(wb[14][valid], wa[14][valid], atol=1e-4 + 2 * HALF_STEP[14, 0])


def test_output_raster_follows_the_data_dictionary(tmp_path: Path, weather) -> None:
    z = city(100)
    z[50:53, 10:13] = np.nan  # a nodata hole
    dsm = write_dsm(tmp_path / "dsm.tif", z)
    out = irradiance_from_files([dsm], tmp_path / "irr.tif", all_pixels=True, settings=SETTINGS,
                                weather=weather, progress=False)
    with rasterio.open(out) as ds, rasterio.open(dsm) as src:
        assert ds.count == 15 and ds.dtypes[0] == "uint16" and ds.nodata == 65535
        # physical = stored x scale + offset: 0.1 kWh/m²/yr, 0.5 kWh/m² a month, 1/1,000 for the fractions
        assert ds.scales == (0.1,) + (0.5,) * 12 + (1e-3,) * 2 and ds.offsets == (0.0,) * 15
        assert ds.crs == src.crs and ds.transform == src.transform and ds.shape == src.shape
        assert ds.descriptions == BAND_NAMES
        assert ds.tags(1)["UNITS"] == "kWh/m2/yr" and ds.tags(14)["UNITS"] == "1"
        tags = ds.tags()
        for key in ("WEATHER_SOURCE", "WEATHER_LOCATION", "WEATHER_PERIOD", "WEATHER_APPROXIMATE", "ALBEDO",
                    "SKY_MODEL", "HORIZON_DIRECTIONS", "HORIZON_DISTANCE_M"):
            assert tags[key]
        assert tags["WEATHER_APPROXIMATE"] == "true" and tags["HORIZON_DISTANCE_M"] == "60"
        assert ds.profile.get("tiled")  # COG (overviews only beyond one 512-px block: see the sample test)
    b = read_physical(out)
    # Nodata hole (and its 3x3 ring) and the outer ring are not computed; the rest is.
    assert b.mask[0, 49:54, 9:14].all() and b.mask[0, 0, :].all()
    assert not b.mask[0, 20:40, 20:40].any()
    # the months add up to the year, within the 13 values' quantisation
    np.testing.assert_allclose(b[1:13].sum(axis=0)[~b.mask[0]], b[0][~b.mask[0]], rtol=1e-4,
                               atol=HALF_STEP[0, 0] + 12 * HALF_STEP[1, 0])
    assert 0 <= b[13].min() and b[13].max() <= 1 and 0 <= b[14].min() and b[14].max() <= 1


def test_roof_masks_footprints_and_dtm(tmp_path: Path, weather) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    z = np.full((60, 60), 40.0, dtype=np.float32)
    z[20:30, 20:40] = 48.0
    dsm = write_dsm(tmp_path / "dsm.tif", z)
    dtm = write_dsm(tmp_path / "dtm.tif", np.full((60, 60), 40.0, dtype=np.float32))
    by_dtm = irradiance_from_files([dsm], tmp_path / "a.tif", dtm_paths=[dtm], settings=SETTINGS,
                                   weather=weather, progress=False)
    with rasterio.open(by_dtm) as ds:
        computed = ~ds.read(1, masked=True).mask
    assert computed[20:30, 20:40].all() and computed.sum() == 200
    fp = gpd.GeoDataFrame({"cleabs": ["BATIMENT01"]}, geometry=[box(X0 + 20, Y0 - 30, X0 + 40, Y0 - 20)],
                          crs="EPSG:2154")
    fp.to_file(tmp_path / "batiment.gpkg", layer="batiment", driver="GPKG")
    by_fp = irradiance_from_files([dsm], tmp_path / "b.tif", footprints_path=tmp_path / "batiment.gpkg",
                                  settings=SETTINGS, weather=weather, progress=False)
    with rasterio.open(by_fp) as ds:
        computed_fp = ~ds.read(1, masked=True).mask
    # the footprint (all touched) grown by the roofs stage's reconciliation reach, not the whole DSM
    g = 2 * math.ceil((config.RECONCILE_MAX_SHIFT_M + config.RECONCILE_MAX_GROW_M) / RES)
    assert computed_fp[20:30, 20:40].all() and computed_fp.sum() <= (12 + g) * (22 + g) < z.size / 4


def test_cli_irradiance_and_bad_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dsm = write_dsm(tmp_path / "dsm.tif", city(60))
    csv = tmp_path / "w.csv"
    csv.write_text("time,ghi,dni,dhi\n2023-06-21T12:00Z,800,700,100\n2023-06-21T13:00Z,800,700,100\n")
    out = tmp_path / "cli.tif"
    code = main(["solar", "irradiance", "--dsm", str(dsm), "--weather", str(csv), "--all-pixels",
                 "--distance", "40", "--no-progress", "--out", str(out)])
    assert code == 0 and out.exists()
    assert "wrote" in capsys.readouterr().out
    used = read_header(out).weather
    assert used is not None and used.source.startswith("CSV w.csv") and not used.approximate

    def fails(args: list[str], message: str) -> None:
        assert main(["solar", "irradiance", *args, "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("artois: error: ") and message in err, err
        assert "Traceback" not in err

    nocrs = write_dsm(tmp_path / "nocrs.tif", city(40), crs=None)
    fails(["--dsm", str(nocrs), "--out", str(tmp_path / "x.tif")], "nocrs.tif: raster has no CRS")
    deg = write_dsm(tmp_path / "deg.tif", city(40), crs="EPSG:4326", transform=Affine(1e-5, 0, 2.8, 0, -1e-5, 50.4))
    fails(["--dsm", str(deg), "--out", str(tmp_path / "x.tif")], "is geographic (degrees)")
    fails(["--dsm", str(tmp_path / "missing.tif"), "--out", str(tmp_path / "x.tif")], "missing.tif: file not found")
    bad_w = tmp_path / "bad.csv"
    bad_w.write_text("time,ghi\n2023-06-21T12:00Z,800\n")
    fails(["--dsm", str(dsm), "--weather", str(bad_w), "--out", str(tmp_path / "x.tif")],
          "bad.csv: missing weather column(s) dni, dhi")
    assert not (tmp_path / "x.tif").exists()  # nothing half-written


def test_dsm_smaller_than_the_halo_is_computed_with_an_open_horizon_beyond(
    tmp_path: Path, weather, caplog: pytest.LogCaptureFixture
) -> None:
    """Documented handling: a warning, and the outside of the DSM never shades."""
    flat = write_dsm(tmp_path / "flat.tif", np.full((30, 30), 50.0, dtype=np.float32))
    with caplog.at_level("WARNING", logger="artois.solar"):
        out = irradiance_from_files([flat], tmp_path / "f.tif", all_pixels=True, weather=weather, progress=False,
                                    settings=SolarSettings(distance_m=500.0))
    assert "smaller than the horizon distance" in caplog.text
    b = read_physical(out)
    loss, svf = b[13], b[14]
    assert loss.max() == 0 and svf.min() == pytest.approx(1.0)


def test_pipeline_stage_on_the_sample(sample_dir: Path, tmp_path: Path) -> None:
    outputs = build_irradiance(BuildContext(sample_dir, tmp_path))
    assert outputs[0] == BuildFolder(tmp_path).irradiance and len(outputs) > 1
    b = read_physical(outputs[0])
    annual, loss = b[0], b[13]
    with rasterio.open(outputs[0]) as ds:
        assert ds.crs.to_epsg() == 2154
        assert ds.overviews(1)  # COG overviews
    used = read_header(outputs[0]).weather
    assert used is not None and used.approximate  # the sample ships no weather file
    # Roof pixels only (the footprints), with plausible Lens values and the slag heap's shade.
    frac = (~annual.mask).mean()
    assert 0.05 < frac < 0.6
    assert 600 < np.ma.median(annual) < 1300
    assert loss.max() > 0.2


def test_streamed_build_of_four_files_equals_the_whole_mosaic_with_tile_sized_reads(
    tmp_path: Path, weather, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2×2 DSM files, one output tile each: equal to compute_irradiance on the whole mosaic in memory,
    and every read is one tile plus its halo (memory does not grow with the area)."""
    import geo.solar.build as build
    from geo.io.rasters import read_raster
    from geo.solar.horizon import horizon_schedule
    from geo.solar.irradiance import compute_irradiance

    z = city(160, seed=5)
    z[100:140, 100:160] = np.nan  # a hole in one file: the tile is still computed where there is data
    paths = []
    for i, r in enumerate((0, 80)):
        for j, c in enumerate((0, 80)):
            tr = Affine(RES, 0, X0 + c * RES, 0, -RES, Y0 - r * RES)
            paths.append(write_dsm(tmp_path / f"dsm_{i}{j}.tif", z[r : r + 80, c : c + 80], transform=tr))
    reads: list[tuple[int, int, int]] = []

    def recording_read(files, **kw):  # type: ignore[no-untyped-def]
        out = read_raster(files, **kw)
        reads.append((len(files), *out.shape))
        return out

    monkeypatch.setattr(build, "read_raster", recording_read)
    out = irradiance_from_files(paths, tmp_path / "streamed.tif", all_pixels=True, settings=SETTINGS,
                                weather=weather, tile_px=80, progress=False)
    pad = horizon_schedule(SETTINGS.n_directions, SETTINGS.distance_m, RES, near_px=SETTINGS.near_px,
                           samples_per_octave=SETTINGS.samples_per_octave).pad
    # One read per tile: the tile and its halo clipped to the mosaic, never the whole area read at once
    # (on a territory an inner tile reads 80 + 2 * pad px a side, whatever the area).
    assert pad < 80 and len(reads) == 4
    assert all((h, w) == (80 + pad, 80 + pad) for _, h, w in reads), (reads, pad)
    whole = read_raster(paths)
    ref = result_bands(compute_irradiance(whole, weather, settings=SETTINGS))
    got = read_physical(out)
    with rasterio.open(out) as ds:
        assert ds.transform == whole.transform and ds.shape == whole.shape
        assert ds.overviews(1) == [] and ds.descriptions == BAND_NAMES
    assert (got.mask == np.isnan(ref)).all()
    valid = ~got.mask[0]
    assert 0.6 * valid.size < valid.sum() < 0.95 * valid.size
    # equal to the in-memory mosaic (rtol = atol = 1e-5) once rounded to each band's step (half a step)
    diff = np.abs(got.filled(np.nan)[:, valid] - ref[:, valid])
    assert (diff <= 1e-5 + 1e-5 * np.abs(ref[:, valid]) + HALF_STEP).all()


def test_tiles_without_roofs_are_skipped_without_reading_the_dsm(
    tmp_path: Path, weather, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Footprints in one tile of four: the DSM is read for that tile only; the others are nodata."""
    import geopandas as gpd
    from shapely.geometry import box

    import geo.solar.build as build
    from geo.io.rasters import read_raster
    from geo.solar.horizon import horizon_schedule

    dsm = write_dsm(tmp_path / "dsm.tif", city(120, seed=7))
    fp = gpd.GeoDataFrame({"cleabs": ["B1", "B2"]}, crs="EPSG:2154",
                          geometry=[box(X0 + 70, Y0 - 100, X0 + 90, Y0 - 75), box(X0 + 95, Y0 - 110, X0 + 105, Y0 - 95)])
    fp.to_file(tmp_path / "batiment.gpkg", layer="batiment", driver="GPKG")
    calls: list[tuple[float, float, float, float] | None] = []

    def recording_read(files, **kw):  # type: ignore[no-untyped-def]
        calls.append(kw.get("bounds"))
        return read_raster(files, **kw)

    monkeypatch.setattr(build, "read_raster", recording_read)
    out = irradiance_from_files([dsm], tmp_path / "irr.tif", footprints_path=tmp_path / "batiment.gpkg",
                                settings=SETTINGS, weather=weather, tile_px=60, progress=False)
    pad = horizon_schedule(SETTINGS.n_directions, SETTINGS.distance_m, RES, near_px=SETTINGS.near_px,
                           samples_per_octave=SETTINGS.samples_per_octave).pad
    # The lower-right tile only, with its halo clipped to the DSM.
    assert calls == [(X0 + max(60 - pad, 0), Y0 - 120, X0 + 120, Y0 - 60 + min(pad, 60))]
    with rasterio.open(out) as ds:
        computed = ~ds.read(1, masked=True).mask
    assert not computed[:60].any() and not computed[:, :60].any()
    assert computed[76:99, 71:89].all() and computed[96:109, 96:104].all()
    g = 2 * math.ceil((config.RECONCILE_MAX_SHIFT_M + config.RECONCILE_MAX_GROW_M) / RES)  # reconciliation reach
    assert computed.sum() <= (27 + g) * (22 + g) + (17 + g) * (12 + g)


def test_to_cog_keeps_metadata_and_builds_overviews_without_touching_the_source(tmp_path: Path) -> None:
    from geo.io.rasters import to_cog

    data = np.arange(2 * 1100 * 700, dtype=np.float32).reshape(2, 1100, 700)
    data[:, :10, :10] = -9999.0
    src = tmp_path / "plain.tif"
    profile = {"driver": "GTiff", "height": 1100, "width": 700, "count": 2, "dtype": "float32", "crs": "EPSG:2154",
               "transform": Affine(0.5, 0, X0, 0, -0.5, Y0), "nodata": -9999.0}
    with rasterio.open(src, "w", **profile) as dst:
        dst.write(data)
        dst.set_band_description(1, "a")
        dst.set_band_description(2, "b")
        dst.update_tags(WEATHER_SOURCE="x")
        dst.update_tags(2, UNITS="kWh/m2")
    before = src.read_bytes()
    out = to_cog(src, tmp_path / "cog.tif")
    assert src.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["cog.tif", "plain.tif"]
    with rasterio.open(out) as ds:
        assert ds.descriptions == ("a", "b") and ds.tags()["WEATHER_SOURCE"] == "x" and ds.tags(2)["UNITS"] == "kWh/m2"
        assert ds.profile["interleave"] == "band" and ds.block_shapes[0] == (512, 512) and ds.nodata == -9999.0
        assert ds.overviews(1) == [2, 4]
        np.testing.assert_array_equal(ds.read(), data)
        ov = ds.read(2, out_shape=(275, 175))  # level 4: mean of 4×4 blocks, nodata ignored
    assert ov[5, 5] == pytest.approx(data[1, 20:24, 20:24].mean(), rel=1e-6)
    assert ov[0, 0] == -9999.0
