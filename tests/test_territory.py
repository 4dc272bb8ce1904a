"""``artois sample --size WxH`` and the tile-parallel, resumable ``artois build`` (issue 11).

The build tests run on a 2 × 2 km territory of sparse tiles (an industrial zone and fields) at a
100 m horizon so that three builds (serial, a 2-worker LocalCluster, a killed-and-resumed one)
stay fast.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
from tiles_helpers import assert_same_tiles

from geo import config
from geo.cli import main
from geo.pipeline import MANIFEST, STATE_DIR, build, check_build
from geo.products import BuildFolder, irradiance
from geo.sample import generate_sample
from geo.sample.territory import KIND_BUILDERS, TERRITORY_ORIGIN, build_territory_scene, tile_kinds
from geo.solar.irradiance import SolarSettings

SPARSE = ("industrial", "fields", "fields", "fields")
HORIZON_M = 100.0
ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------
# The sample territory
# ---------------------------------------------------------------------------


def test_kinds_mix_like_the_gohelle() -> None:
    kinds = tile_kinds(5, 5)
    assert kinds[(2, 2)] == "centre"
    assert set(Counter(kinds.values())) == set(KIND_BUILDERS)


@pytest.mark.parametrize(("kind", "low", "high"), [
    # BD TOPO buildings per km² (every terraced house is one building): dense cités and centres
    # 1,500–2,500, suburbs 500–1,200, industrial zones and fields a few dozen.
    ("coron", 1500, 2500), ("centre", 1200, 2500), ("suburb", 500, 1200), ("industrial", 10, 80),
    ("fields", 5, 40),
])
def test_building_counts_per_km2_are_realistic(kind: str, low: int, high: int) -> None:
    scene = build_territory_scene(1, 1, kinds=(kind,))
    assert low <= len(scene.buildings) <= high


def test_same_seed_same_scene_other_seed_other_scene() -> None:
    def sig(seed: int) -> list[tuple[float, float]]:
        s = build_territory_scene(2, 1, seed=seed, kinds=("fields", "industrial"))
        return [(round(b.footprint().centroid.x, 3), round(b.footprint().centroid.y, 3)) for b in s.buildings]

    assert sig(0) == sig(0)
    assert sig(0) != sig(1)


@pytest.fixture(scope="module")
def territory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("territory")
    generate_sample(out, size=(2, 2), kinds=SPARSE)
    return out


def test_whole_tiles_in_the_real_formats(territory: Path) -> None:
    x0, y0 = TERRITORY_ORIGIN
    tiles = sorted((territory / "rooftops" / "lidar").glob("*.tif"))
    assert len(tiles) == 8  # MNS + MNT for 4 tiles
    corners = set()
    for t in tiles:
        with rasterio.open(t) as src:
            assert src.shape == (2000, 2000) and src.res == (0.5, 0.5)
            b = src.bounds
            corners.add((b.left, b.bottom))
            # named after the upper-left corner in km, as IGN does
            assert f"_{int(b.left / 1000):04d}_{int(b.top / 1000):04d}_" in t.name
    assert corners == {(x0 + i * 1000, y0 + j * 1000) for i in (0, 1) for j in (0, 1)}


def test_greenway_and_its_park_cross_tile_edges(territory: Path) -> None:
    y_edge = TERRITORY_ORIGIN[1] + 1000
    greenways = gpd.read_file(territory / "parks" / "voies_vertes.gpkg")
    parks = gpd.read_file(territory / "parks" / "parcs.gpkg")
    assert any(g.bounds[1] < y_edge < g.bounds[3] for g in greenways.geometry)
    assert any(p.bounds[1] < y_edge < p.bounds[3] for p in parks.geometry)


def test_roofs_stay_inside_their_tile(territory: Path) -> None:
    faces = gpd.read_file(territory / "rooftops" / "roof_faces_truth.gpkg")
    assert len(faces) > 50
    x0, y0 = TERRITORY_ORIGIN
    for g in faces.geometry:
        xmin, ymin, xmax, ymax = g.bounds
        assert int((xmin - x0) // 1000) == int((xmax - x0) // 1000)
        assert int((ymin - y0) // 1000) == int((ymax - y0) // 1000)


# ---------------------------------------------------------------------------
# The build
# ---------------------------------------------------------------------------


SETTINGS = SolarSettings(distance_m=HORIZON_M)


@pytest.fixture(scope="module")
def serial_build(territory: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("serial")
    report = build(territory, out, workers=1, settings=SETTINGS, progress=False)
    assert report.ok, report.lines()
    return out


def assert_same_outputs(a: Path, b: Path) -> None:
    """Rasters byte-identical (the mosaic, its overview VRTs and every tile), vector layers with equal
    attributes and geometries."""
    files_a, files_b = (irradiance.product_files(BuildFolder(d).irradiance) for d in (a, b))
    assert [p.relative_to(a) for p in files_a] == [p.relative_to(b) for p in files_b]
    assert len(files_a) > 2
    for fa, fb in zip(files_a, files_b, strict=True):
        assert fa.read_bytes() == fb.read_bytes(), fa.name
    for name in ("rooftops.gpkg", "parks.gpkg"):
        for lyr, _ in pyogrio.list_layers(a / name):
            da, db = gpd.read_file(a / name, layer=lyr), gpd.read_file(b / name, layer=lyr)
            pd.testing.assert_frame_equal(pd.DataFrame(da.drop(columns="geometry", errors="ignore")),
                                          pd.DataFrame(db.drop(columns="geometry", errors="ignore")))
            if "geometry" in da:
                assert da.geometry.equals(db.geometry)
    # the same vector tile archives holding the same tiles (tippecanoe writes its own metadata: not compared)
    archives_a, archives_b = (sorted(p.name for p in (d / "tiles").glob("*.pmtiles")) for d in (a, b))
    assert archives_a == archives_b and {"roof_faces.pmtiles", "parks.pmtiles"} <= set(archives_a)
    for name in archives_a:
        assert_same_tiles(a / "tiles" / name, b / "tiles" / name)


def test_serial_build_writes_a_manifest_of_its_products(serial_build: Path) -> None:
    manifest = check_build(serial_build)
    assert manifest is not None
    products = set(manifest["products"])
    layers = {"irradiance.vrt", "rooftops.gpkg", "parks.gpkg"}  # the territory sample has no sites inputs
    assert layers <= products
    irr_tiles = {p for p in products if p.startswith("irradiance/")}
    assert {p.relative_to(serial_build).as_posix()
            for p in irradiance.product_files(serial_build / "irradiance.vrt")[1:]} == irr_tiles
    computed = sorted(p.name for p in (serial_build / STATE_DIR / "tiles" / "irradiance").glob("*.tif"))
    assert sorted(p.split("/")[-1] for p in irr_tiles if p.endswith(".tif")) == computed  # one COG per tile
    assert {p for p in products - layers - irr_tiles if not p.startswith("tiles/")} == set()
    assert {"tiles/roof_faces.pmtiles", "tiles/buildings.pmtiles", "tiles/parks.pmtiles"} <= products
    with rasterio.open(serial_build / "irradiance.vrt") as src:
        assert src.shape == (4000, 4000)
        annual = src.read(1, masked=True) * src.scales[0] + src.offsets[0]  # stored integers -> kWh/m²/yr
    # roofs of the sheds and warehouses were computed: plausible annual irradiation [kWh/m²/yr]
    assert annual.count() > 10_000
    assert 600 < float(np.ma.median(annual)) < 1400


def test_two_worker_cluster_gives_the_serial_outputs(territory: Path, serial_build: Path,
                                                     tmp_path: Path) -> None:
    out = tmp_path / "dask"
    report = build(territory, out, workers=2, settings=SETTINGS, progress=False)
    assert report.ok, report.lines()
    assert_same_outputs(serial_build, out)


def _artois(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from geo.cli import main; sys.exit(main())", *args]


def _build_killed_after_first(out: Path, territory: Path, folder: Path, suffixes: tuple[str, ...]) -> dict[str, int]:
    """Run ``artois build`` in its own process group, SIGKILL it as soon as ``folder`` holds a
    finished file (pathlib's glob also sees the hidden temporary file of one being written);
    return the finished files' modification times."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(_artois("build", "--data", str(territory), "--out", str(out), "--workers", "1",
                                    "--horizon-distance", str(HORIZON_M)),
                            env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 600
        while not [p for p in folder.glob("*") if not p.name.startswith(".") and p.suffix in suffixes]:
            assert proc.poll() is None, f"the build ended before any file was written in {folder}"
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (out / MANIFEST).exists()
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if not p.name.startswith(".")}


def test_killed_build_is_refused_then_resumes_to_the_same_outputs(territory: Path, serial_build: Path,
                                                                  tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "killed"
    tiles = out / STATE_DIR / "tiles" / "irradiance"
    groups = out / STATE_DIR / "tiles" / "roofs"
    # Killed while computing the irradiance tiles.
    tiles_before = _build_killed_after_first(out, territory, tiles, (".tif", ".empty"))
    assert 1 <= len(tiles_before) < 4
    # An interrupted build is never served.
    assert main(["serve", "--data", str(out)]) == 2
    err = capsys.readouterr().err
    assert "incomplete build" in err and MANIFEST in err and "artois build" in err
    # Resumed, and killed again while computing the roofs groups (one per 1 km tile with buildings).
    groups_before = _build_killed_after_first(out, territory, groups, (".parquet",))
    tiles_mid = {p.name: p.stat().st_mtime_ns for p in tiles.iterdir() if not p.name.startswith(".")}
    assert all(tiles_mid[name] == mtime for name, mtime in tiles_before.items())  # tiles done before were kept
    assert len(tiles_mid) == 4
    assert "plan.pickle" in groups_before  # the plan (buildings, groups, noise) is kept for the resumed build
    assert 1 <= len(groups_before) - 1 < 4
    assert main(["serve", "--data", str(out)]) == 2
    # Re-run: only what is missing is done, and the outputs are the serial build's.
    report = build(territory, out, workers=1, settings=SETTINGS, progress=False)
    assert report.ok, report.lines()
    groups_after = {p.name: p.stat().st_mtime_ns for p in groups.iterdir() if not p.name.startswith(".")}
    assert all(groups_after[name] == mtime for name, mtime in groups_before.items())  # groups done were kept
    assert len(groups_after) == 1 + 4
    assert_same_outputs(serial_build, out)
    assert check_build(out) is not None


def test_serve_names_a_product_missing_from_a_build(serial_build: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(serial_build, out)
    (out / "rooftops.gpkg").unlink()
    assert main(["serve", "--data", str(out)]) == 2
    err = capsys.readouterr().err
    assert "rooftops.gpkg" in err and "incomplete build" in err


def test_serve_refuses_a_build_with_an_irradiance_tile_removed(serial_build: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(serial_build, out)
    tile = sorted((out / irradiance.TILE_FOLDER).glob("*.tif"))[1]
    tile.unlink()
    assert main(["serve", "--data", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"irradiance/{tile.name}" in err and "incomplete build" in err


def _numpy_huge_pages() -> bool:
    """Whether numpy asks for huge pages in this process (its switch returns the previous setting)."""
    from geo.pipeline import numpy_huge_page_switch

    switch = numpy_huge_page_switch()
    assert switch is not None
    was = bool(switch(True))
    switch(was)
    return was


def _worker_environ(names: tuple[str, ...]) -> tuple[dict[str, str | None], bool]:
    return {n: os.environ.get(n) for n in names}, _numpy_huge_pages()


def test_local_cluster_workers_get_the_memory_settings() -> None:
    """The LocalCluster's workers run with geo/config.py's glibc settings (not dask's MALLOC_TRIM_THRESHOLD_
    of 64 KiB, which had every tile's arrays mmap'ed and faulted in again), numpy without huge pages, and
    keep dask's one BLAS thread; so does the build's own process."""
    from geo.pipeline import _executor

    names = ("MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "NUMPY_MADVISE_HUGEPAGE",
             "OMP_NUM_THREADS")
    with _executor(2, None) as ex:
        seen = list(ex.map(_worker_environ, [(names,), (names,)]))
        here = _numpy_huge_pages()
    expected = {"MALLOC_ARENA_MAX": "1", "MALLOC_MMAP_THRESHOLD_": str(2**30),
                "MALLOC_TRIM_THRESHOLD_": str(2**31), "NUMPY_MADVISE_HUGEPAGE": "0", "OMP_NUM_THREADS": "1"}
    assert seen == [(expected, False), (expected, False)] and here is False


def _worker_dask_settings() -> tuple[object, ...]:
    import dask

    return tuple(dask.config.get(k) for k in ("distributed.worker.profile.enabled", "distributed.admin.tick.interval",
                                              "distributed.worker.memory.monitor-interval"))


def test_local_cluster_workers_run_without_dask_profiler_and_fast_ticks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The build's workers get geo/config.py's dask settings (no statistical profiler, the event loop's
    checks once a second), and a DASK_* environment variable of the user wins over them."""
    from geo.pipeline import _executor, worker_dask_config

    for var in ("DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED", "DASK_DISTRIBUTED__ADMIN__TICK__INTERVAL",
                "DASK_DISTRIBUTED__WORKER__MEMORY__MONITOR_INTERVAL"):
        monkeypatch.delenv(var, raising=False)
    with _executor(2, None) as ex:
        assert list(ex.map(_worker_dask_settings, [(), ()])) == [(False, "1s", "1s")] * 2
    monkeypatch.setenv("DASK_DISTRIBUTED__WORKER__MEMORY__MONITOR_INTERVAL", "200ms")
    assert "distributed.worker.memory.monitor-interval" not in worker_dask_config()
    assert worker_dask_config()["distributed.admin.tick.interval"] == "1s"


def _where(k: int) -> tuple[int, str]:
    from distributed import get_worker

    time.sleep(0.02)
    return k, get_worker().address


def test_tiles_in_spatial_order_run_in_one_band_per_worker() -> None:
    """``spread``: on two workers, the head of each half of the tiles (row by row) runs on one worker, so
    that its neighbouring DSM files stay decoded there; the tails run wherever a worker is free."""
    from geo.pipeline import _executor

    n = 20
    with _executor(2, None) as ex:
        futures = ex.submit_all([(_where, (k,), f"tile-{k}") for k in range(n)], spread=True)
        ran = dict(ex.result(f) for f in futures)
    assert sorted(ran) == list(range(n))
    head = math.ceil(n // 2 * config.SPREAD_BOUND_FRACTION)
    first, second = ({ran[k] for k in range(b, b + head)} for b in (0, n // 2))
    assert len(first) == 1 and len(second) == 1 and first != second, ran


_PICKLED: list[int] = []  # one entry per pickling of a _Shared in this process


class _Shared:
    """A task argument that counts how often this process pickles it."""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload

    def __reduce__(self) -> tuple[type, tuple[bytes]]:
        _PICKLED.append(1)
        return _Shared, (self.payload,)


def _use(shared: _Shared, k: int) -> tuple[int, int, int, str]:
    from distributed import get_worker

    time.sleep(0.02)
    return k, len(shared.payload), id(shared), get_worker().address


def test_shared_argument_is_sent_once_per_worker_not_in_every_task() -> None:
    """``share``: an argument of many tasks (the irradiance plan, the roofs' site model) is pickled once per
    worker at most, not into each task, and each worker's tasks get one copy; the tiles in spatial order still
    run in one band per worker (the scheduler places them by load, not by where the shared copy is)."""
    from geo.pipeline import _executor

    n, payload = 20, bytes(100_000)
    with _executor(2, None) as ex:
        _PICKLED.clear()
        shared = ex.share(_Shared(payload))
        futures = ex.submit_all([(_use, (shared, k), f"tile-{k}") for k in range(n)], spread=True)
        ran = [ex.result(f) for f in futures]
        pickled = len(_PICKLED)
    assert [r[:2] for r in ran] == [(k, len(payload)) for k in range(n)]
    assert 1 <= pickled <= 2
    copies = {(r[3], r[2]) for r in ran}
    assert len(copies) == len({r[3] for r in ran}) == 2  # one copy per worker, both workers used
    head = math.ceil(n // 2 * config.SPREAD_BOUND_FRACTION)
    first, second = ({ran[k][3] for k in range(b, b + head)} for b in (0, n // 2))
    assert len(first) == 1 and len(second) == 1 and first != second, ran


def test_roofs_plan_made_beside_the_irradiance_reports_its_error_as_the_roofs(tmp_path: Path) -> None:
    """On a cluster the roofs plan's buildings are made while the irradiance tiles run; an input error met
    there is the roofs stage's (raised when it runs), not the irradiance's."""
    from geo.errors import ArtoisError
    from geo.pipeline import BuildContext, _EarlyRoofs, _Executor, _roofs, _State

    data = tmp_path / "data"
    (data / "rooftops" / "lidar").mkdir(parents=True)  # no LiDAR tile
    ctx = BuildContext(data, tmp_path / "out")
    state = _State(ctx.out_dir, "fingerprint")
    early = _EarlyRoofs(_Executor(), ctx, state)
    early()  # does not raise
    assert early.buildings is None and early.error is not None
    with pytest.raises(ArtoisError) as err:
        _roofs(_Executor(), ctx, state, False, early)
    assert err.value is early.error and "lidar" in str(err.value).lower()
