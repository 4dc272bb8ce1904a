"""``artois build``: run every stage of the pipeline on a data folder.

Each stage reads its inputs through :mod:`geo.io`, calls the pure computation and writes its
products through :mod:`geo.products`; it is a function ``fn(ctx: BuildContext) -> list[Path]``
returning the files it wrote, named here by dotted path so that it lives beside the computation
it drives. The :class:`BuildContext` carries what several stages share, read once per build:
the data folder, the output folder and the weather. A stage that fails with an
:class:`~geo.errors.ArtoisError` (e.g. a missing input) is reported and the others still run.

The graph (:func:`build`): irradiance per 1 km tile (with its horizon halo) → the tile COGs
linked into ``irradiance/`` under the mosaic ``irradiance.vrt`` → roofs per group of buildings
(those of a 1 km tile) → assembly into ``rooftops.gpkg``; parks alongside; then one PMTiles archive per
layer. With ``workers=1`` the tasks run in this process, in order; otherwise on a ``dask.distributed``
cluster (a ``LocalCluster`` of ``workers`` processes, or an existing scheduler), where the roofs plan's
footprint reconciliation runs beside the irradiance tiles: the outputs are the same bytes either way.

Resumable and atomic: every task writes its output atomically into the build folder (tiles
under ``.build/tiles/irradiance/``, groups of buildings under ``.build/tiles/roofs/`` with the
roofs plan, stage outputs beside the products, a ``.build/done/<stage>`` mark when a stage
completes); a task whose output exists is skipped, so a killed build re-run does only what is
missing. ``manifest.json`` (products, sizes, SHA-256) is written last,
atomically, when every stage succeeded: :func:`check_build` refuses a folder without it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import logging
import math
import os
import pickle
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from geo import config
from geo.errors import ArtoisError
from geo.io._atomic import atomic_path, file_sha256, remove_stale_temporaries, write_text_atomic
from geo.io.weather import load_weather
from geo.products import BuildFolder
from geo.types import Weather

log = logging.getLogger("artois.build")

#: Weather file names looked for in ``DATA/rooftops`` (first found), else the offline default.
WEATHER_FILES = ("weather.epw", "weather.json", "weather.csv")


def find_weather_file(folder: Path) -> Path | None:
    """``weather.epw``, ``weather.json`` or ``weather.csv`` in ``folder`` (first found), else None."""
    for name in WEATHER_FILES:
        if (folder / name).is_file():
            return folder / name
    return None


@dataclass
class BuildContext:
    """What the stages of one build share.

    Attributes
    ----------
    data_dir
        The input folder (docs/formats.md).
    out_dir
        The build folder; :attr:`products` gives its files.
    """

    data_dir: Path
    out_dir: Path
    _weather: Weather | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.data_dir, self.out_dir = Path(self.data_dir), Path(self.out_dir)

    @property
    def products(self) -> BuildFolder:
        return BuildFolder(self.out_dir)

    @cached_property
    def weather(self) -> Weather:
        """The build's weather, read once: ``DATA/rooftops/weather.{epw,json,csv}``, else the offline default."""
        if self._weather is not None:
            return self._weather
        return load_weather(find_weather_file(self.data_dir / "rooftops"))


StageFn = Callable[[BuildContext], list[Path]]


@dataclass(frozen=True)
class Stage:
    name: str
    description: str
    target: str  # "module:function"
    #: Stages whose products this one reads (when they are built in the same run).
    needs: tuple[str, ...] = ()
    #: The function also takes ``map_tasks`` (``map_tasks(fn, [args, ...])`` → results) and is run in the
    #: main process, fanning its parts out to the workers through it.
    fans_out: bool = False

    def load(self) -> StageFn:
        return _load(self.target)


#: In dependency order: roofs and sites read the irradiation raster, tiles read every layer.
STAGES: tuple[Stage, ...] = (
    Stage("irradiance", "annual irradiation raster with shading (geo.products.irradiance)",
          "geo.solar.build:build_irradiance"),
    Stage("roofs", "roof faces, buildings and commune totals (geo.products.rooftops)", "geo.roofs.build:build_roofs",
          needs=("irradiance",)),
    Stage("sites", "ground PV on friches and terrils, APER car parks (geo.products.sites)",
          "geo.sites.build:build_sites", needs=("irradiance",)),
    Stage("parks", "Chaîne des Parcs network, access and gaps (geo.products.parks)", "geo.parks.build:build_parks"),
    # after the layers it tiles; `--only tiles` re-tiles an existing build
    Stage("tiles", "vector tiles of every layer, one PMTiles archive each (build/tiles/*.pmtiles)",
          "geo.tiles:build_tiles", needs=("roofs", "sites", "parks"), fans_out=True),
)


@dataclass
class BuildReport:
    outputs: dict[str, list[Path]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed

    def lines(self) -> list[str]:
        out = []
        for name, paths in self.outputs.items():
            more = f" (and {len(paths) - 3} more files)" if len(paths) > 4 else ""  # the irradiance's tiles
            shown = paths[:3] if more else paths
            out.append(f"built {name} in {self.seconds[name]:.1f} s: " + ", ".join(str(p) for p in shown) + more)
        for name, why in self.failed.items():
            out.append(f"FAILED {name}: {why}")
        return out


#: The irradiance stage's units of work (looked up by name, like the stages): the plan of tiles, one tile
#: written to the build's tile folder, the merge of the tiles into the product.
IRRADIANCE_TASKS = ("geo.solar.build:plan_build_irradiance", "geo.solar.build:irradiance_tile_file",
                    "geo.solar.build:merge_irradiance_tiles")
#: The roofs stage's: the plan of groups of buildings (run in the main process), one group written to the
#: build's tile folder, the assembly of the groups into the product.
ROOFS_TASKS = ("geo.roofs.build:plan_build_roofs", "geo.roofs.build:roofs_group_file",
               "geo.roofs.build:assemble_roofs_files")
#: The roofs plan's part that reads no irradiation (buildings, groups, noise): on a cluster it runs while the
#: irradiance tiles do, its tasks sharing the workers with theirs.
ROOFS_BUILDINGS = "geo.roofs.build:plan_build_buildings"
#: A group's file read back for the assembly (in this process, as each group completes).
ROOFS_READ_GROUP = "geo.roofs.build:read_group_file"
#: The tiles stage's: the layers of finished GeoPackages that may be tiled before it, one of them tiled.
TILES_EARLY = ("geo.tiles:layers_in", "geo.tiles:tile_layer_alone")
#: The roofs plan, kept in the group folder so that a resumed build does not plan again (build state of
#: this build only: the folder is cleared when the inputs change).
ROOFS_PLAN = "plan.pickle"


def _load(target: str) -> Callable[..., Any]:
    module_name, func_name = target.split(":")
    fn: Callable[..., Any] = getattr(importlib.import_module(module_name), func_name)
    return fn


MANIFEST = "manifest.json"
STATE_DIR = ".build"


def build(
    data_dir: str | Path,
    out_dir: str | Path,
    *,
    only: Sequence[str] | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    settings: Any = None,
    progress: bool | None = None,
    fresh: bool = False,
) -> BuildReport:
    """Run the stages (all, or ``only`` those named) from ``data_dir`` into ``out_dir``.

    Parameters
    ----------
    workers
        1: in this process; N > 1: a ``dask.distributed.LocalCluster`` of N single-threaded
        worker processes.
    scheduler
        Address of an existing dask scheduler (``tcp://HOST:PORT``); its workers must see
        ``data_dir`` and ``out_dir`` at the same paths. Overrides ``workers``.
    settings
        :class:`geo.solar.irradiance.SolarSettings` of the irradiance stage (default ones).
    progress
        Tile progress bar (default: when stderr is a terminal).
    fresh
        Forget what a previous build of ``out_dir`` did and redo every task.
    """
    ctx = BuildContext(Path(data_dir), Path(out_dir))
    if not ctx.data_dir.is_dir():
        raise ArtoisError(f"{ctx.data_dir}: data folder not found (run 'artois sample --out {ctx.data_dir}' first)")
    if workers < 1:
        raise ArtoisError(f"--workers must be at least 1 (got {workers})")
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    for stale in remove_stale_temporaries(ctx.out_dir):  # what a killed build was writing (geo.io._atomic)
        log.info("removed %s, left by an interrupted build", stale)
    state = _State(ctx.out_dir, _fingerprint(ctx.data_dir, settings), fresh=fresh)
    stages = [s for s in STAGES if not only or s.name in only]
    with _executor(workers, scheduler) as ex:
        report = _run(ex, stages, ctx, state, settings, progress)
    if report.ok and not only:
        write_manifest(ctx.out_dir, [p for paths in report.outputs.values() for p in paths], state.fingerprint)
    return report


def _run(ex: _Executor, stages: list[Stage], ctx: BuildContext, state: _State, settings: Any,
         progress: bool | None) -> BuildReport:
    """Submit each stage once the stages it needs (among those of this run) are finished.

    Independent stages are submitted before the irradiance and the roofs, whose tiles and groups
    the main process fans out, so that on a cluster the parks run beside them; the tiles of the
    GeoPackages finished by then (the parks') are submitted behind the roofs groups (:class:`_EarlyTiles`).
    """
    report = BuildReport()
    names = {s.name for s in stages}
    early: _EarlyRoofs | None = None
    early_tiles: _EarlyTiles | None = None
    todo = sorted(stages, key=lambda s: s.name in ("irradiance", "roofs"))
    pending: dict[str, Any] = {}  # stage name -> future of (outputs, seconds), in submission order

    def collect(name: str) -> None:
        try:
            report.outputs[name], report.seconds[name] = ex.result(pending.pop(name))
        except ArtoisError as exc:
            report.failed[name] = str(exc)

    while todo or pending:
        for name in [n for n, f in pending.items() if ex.done(f)]:
            collect(name)  # e.g. the parks, finished while the irradiance ran
        finished = set(report.outputs) | set(report.failed)
        ready = [s for s in todo if all(d in finished or d not in names for d in s.needs)]
        for stage in ready:
            todo.remove(stage)
            failed_needs = [d for d in stage.needs if d in report.failed]
            if failed_needs:
                report.failed[stage.name] = f"not built: it needs {', '.join(failed_needs)}, which failed"
            elif stage.name in ("irradiance", "roofs"):  # fanned out from this process
                t0 = time.perf_counter()
                try:
                    if stage.name == "irradiance":
                        meanwhile = (_EarlyRoofs(ex, ctx, state) if "roofs" in names and not ex.serial
                                     else None)
                        report.outputs[stage.name] = _irradiance(ex, ctx, state, settings, progress, meanwhile)
                        early = meanwhile
                    else:
                        if "tiles" in names and not ex.serial:
                            early_tiles = _EarlyTiles(ex, ctx, [p.name for d in report.outputs.values() for p in d])
                        report.outputs[stage.name] = _roofs(ex, ctx, state, progress, early, early_tiles)
                    report.seconds[stage.name] = time.perf_counter() - t0
                except ArtoisError as exc:
                    report.failed[stage.name] = str(exc)
            elif stage.fans_out:
                log.info("== %s: %s", stage.name, stage.description)
                fn = functools.partial(_load(stage.target), map_tasks=ex.map)
                try:
                    if stage.name == "tiles" and early_tiles is not None:
                        fn = functools.partial(fn, done=early_tiles.results())
                    report.outputs[stage.name], report.seconds[stage.name] = state.stage_task(stage.name, fn, ctx)
                except ArtoisError as exc:
                    report.failed[stage.name] = str(exc)
            else:
                log.info("== %s: %s", stage.name, stage.description)
                pending[stage.name] = ex.submit(state.stage_task, stage.name, stage.load(), ctx)
        if ready:
            continue  # what just finished (the irradiance) may have made other stages ready
        if pending:
            collect(next(iter(pending)))
        elif todo and not ready:
            raise RuntimeError(f"stages {[s.name for s in todo]} wait on each other")  # a cycle in STAGES
    return report


def _irradiance(ex: _Executor, ctx: BuildContext, state: _State, settings: Any, progress: bool | None,
                meanwhile: Callable[[], None] | None = None) -> list[Path]:
    """Irradiance tiles (skipping those done), then the mosaic ``irradiance.vrt`` over them: the products
    are the mosaic and its tile files. ``meanwhile`` is called once the tiles are submitted, before
    waiting for them."""
    plan_build_irradiance, irradiance_tile_file, merge_irradiance_tiles = (_load(t) for t in IRRADIANCE_TASKS)
    out = ctx.products.irradiance
    marked = state.marked("irradiance")
    if out in marked and state.done("irradiance", marked):
        return marked
    log.info("== irradiance: %s", STAGES[0].description)
    plan = plan_build_irradiance(ctx, settings)
    tile_dir = state.dir / "tiles" / "irradiance"
    names = [plan.tile_name(k) for k in range(len(plan.tasks))]
    done = {n for n in names if any((tile_dir / f"{n}{e}").exists() for e in (".tif", ".empty"))}
    shared = ex.share(plan)  # its weather and sky, sent once to each worker, not in every tile's task
    _fan_out(ex, "irradiance tiles", "tile", len(names), len(done), progress,
             [(irradiance_tile_file, (shared, k, tile_dir), f"irradiance-{n}")
              for k, n in enumerate(names) if n not in done], meanwhile, spread=True)
    outputs: list[Path] = ex.result(ex.submit(merge_irradiance_tiles, shared, tile_dir, out, key="irradiance-merge"))
    state.mark("irradiance", outputs)
    return outputs


class _EarlyRoofs:
    """The roofs plan's buildings, groups and noise (:data:`ROOFS_BUILDINGS`), made while the irradiance
    tiles run (called by :func:`_irradiance`); nothing when the roofs stage or its plan is already done."""

    def __init__(self, ex: _Executor, ctx: BuildContext, state: _State) -> None:
        self.ex, self.ctx, self.state = ex, ctx, state
        self.buildings: Any = None
        self.error: ArtoisError | None = None

    def __call__(self) -> None:
        group_dir = self.state.dir / "tiles" / "roofs"
        if self.state.done("roofs", [self.ctx.products.rooftops]) or (group_dir / ROOFS_PLAN).exists():
            return
        log.info("== roofs: buildings and groups, beside the irradiance tiles")
        try:
            # before the irradiance tiles not yet started (the tails of the bands, free to run anywhere): the
            # roofs plan is then made while they run, and the groups start as soon as the last tile is done
            self.buildings = _load(ROOFS_BUILDINGS)(self.ctx, functools.partial(self.ex.map, priority=1))
        except ArtoisError as exc:  # reported by the roofs stage, not the irradiance
            self.error = exc


class _EarlyTiles:
    """The vector tiles of the layers of the GeoPackages ``files`` already written (the parks'), submitted when
    called (by :func:`_roofs`, once the roofs groups are: they run while the groups do, rather than in the
    tiles stage after the assembly); the tiles stage then tiles the other layers."""

    def __init__(self, ex: _Executor, ctx: BuildContext, files: Sequence[str]) -> None:
        self.ex, self.ctx, self.files = ex, ctx, files
        self.futures: dict[str, Any] = {}

    def __call__(self) -> None:
        layers_in, tile_layer_alone = (_load(t) for t in TILES_EARLY)
        layers = layers_in(self.ctx.out_dir, self.files)
        if layers:
            log.info("== tiles: %s, beside the roofs groups", ", ".join(t.collection for t in layers))
        for t in layers:
            self.futures[t.collection] = self.ex.submit(tile_layer_alone, self.ctx.out_dir, t,
                                                        key=f"tiles-{t.collection}")

    def results(self) -> dict[str, Path | None]:
        """Each collection tiled and its archive (None: the layer was empty), once all are done."""
        return {c: self.ex.result(f)[1] for c, f in self.futures.items()}


def _roofs(ex: _Executor, ctx: BuildContext, state: _State, progress: bool | None,
           early: _EarlyRoofs | None = None, meanwhile: Callable[[], None] | None = None) -> list[Path]:
    """The roofs plan (in this process; from ``early``'s buildings when made), one task per group of
    buildings (skipping those done; the largest first, so that no worker is left alone with a big one
    at the end), then the assembly into ``rooftops.gpkg``. ``meanwhile`` is called once the groups are
    submitted (what it submits runs behind them)."""
    plan_build_roofs, roofs_group_file, assemble_roofs_files = (_load(t) for t in ROOFS_TASKS)
    read_group_file = _load(ROOFS_READ_GROUP)
    out = ctx.products.rooftops
    if state.done("roofs", [out]):
        return [out]
    log.info("== roofs: %s", STAGES[1].description)
    group_dir = state.dir / "tiles" / "roofs"
    plan_file = group_dir / ROOFS_PLAN
    resumed = plan_file.exists()
    if resumed:  # a resumed build: the buildings, groups and noise of the killed one
        plan = pickle.loads(plan_file.read_bytes())
    else:
        if early is not None and early.error is not None:
            raise early.error
        plan = plan_build_roofs(ctx, ex.map, early.buildings if early is not None else None)

    def save_plan() -> None:  # what a re-run reads instead of reconciling the footprints again
        with atomic_path(plan_file) as tmp:
            tmp.write_bytes(pickle.dumps(plan, protocol=pickle.HIGHEST_PROTOCOL))

    # On a cluster the plan is saved once the first group is done, while the others run: its pickle holds this
    # process's GIL (0.3 s on the 5x5 sample), which would delay the dispatch of the first groups, the workers
    # idle; by then each worker has its next group queued. A build killed before has group files and no plan:
    # the re-run makes the same plan.
    unsaved = not resumed
    if unsaved and ex.serial:
        save_plan()
        unsaved = False
    done = {n for n in plan.names if (group_dir / f"{n}.parquet").exists()}
    todo = sorted((k for k, n in enumerate(plan.names) if n not in done), key=lambda k: -len(plan.members[k]))
    read: dict[str, Any] = {}  # each group's file read as soon as it is written, while the others run
    site = ex.share(plan.site) if todo else None  # the PV model, sent once to each worker, not in every task

    def read_file(path: Path) -> None:
        nonlocal unsaved
        if unsaved:
            save_plan()
            unsaved = False
        read[path.stem] = read_group_file(plan, path)

    _fan_out(ex, "roofs groups", "group", len(plan.names), len(done), progress,
             [(roofs_group_file, (plan.tasks[k], site, plan.names[k], group_dir), f"roofs-{plan.names[k]}")
              for k in todo],
             meanwhile, on_result=read_file)
    assemble_roofs_files(plan, group_dir, read)  # in this process: it holds the plan (every footprint)
    state.mark("roofs", [out])
    return [out]


def _fan_out(ex: _Executor, desc: str, unit: str, total: int, done: int, progress: bool | None,
             tasks: Sequence[tuple[Callable[..., Any], tuple[Any, ...], str]],
             meanwhile: Callable[[], None] | None = None, on_result: Callable[[Any], None] | None = None,
             spread: bool = False) -> None:
    """Submit ``tasks`` (function, arguments, key) and wait for them, with one progress bar; call
    ``meanwhile`` between the two, and ``on_result`` with each task's result as it completes.
    ``spread``: the tasks are in spatial order (:meth:`_Executor.submit_all`)."""
    show = progress if progress is not None else sys.stderr.isatty()
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=total, initial=done, desc=desc, unit=unit, file=sys.stderr,
                   bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} " + unit + "s [{elapsed}<{remaining}, {rate_fmt}]")
    log.info("%s: %d, %d already done", desc, total, done)
    try:
        futures = ex.submit_all(tasks, spread=spread)
        if meanwhile is not None:
            meanwhile()
        for f in ex.as_completed(futures):
            if on_result is not None:
                on_result(ex.result(f))
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()


# ---------------------------------------------------------------------------
# Where the tasks run
# ---------------------------------------------------------------------------


class _Executor:
    """Runs tasks in this process, in submission order (``workers=1``)."""

    serial = True  # a task runs when submitted

    def submit(self, fn: Callable[..., Any], *args: Any, key: str | None = None) -> Any:
        try:
            return ("ok", fn(*args))
        except ArtoisError as exc:
            return ("error", exc)

    def result(self, fut: Any) -> Any:
        status, value = fut
        if status == "error":
            raise value
        return value

    def as_completed(self, futures: list[Any]) -> Iterator[Any]:
        for f in futures:
            self.result(f)
            yield f

    def done(self, fut: Any) -> bool:
        """Whether ``fut`` is finished (its :meth:`result` does not wait)."""
        return True

    def share(self, obj: Any) -> Any:
        """``obj`` as an argument of many tasks: here ``obj`` itself; on a cluster, a future of it sent once
        to every worker, which the tasks' arguments resolve to the worker's copy (rather than a copy pickled
        into each task: a 1,100-tile plan in each of 1,100 tasks, the scheduler holding them all)."""
        return obj

    def submit_all(self, tasks: Sequence[tuple[Callable[..., Any], tuple[Any, ...], str | None]], *,
                   spread: bool = False) -> list[Any]:
        """:meth:`submit` each (function, arguments, key) of ``tasks``. ``spread``: the tasks are in spatial
        order (tiles row by row); on a cluster, the head of each of as many bands of them as workers is given
        to one worker (:data:`geo.config.SPREAD_BOUND_FRACTION`), so that the neighbouring tiles it reads
        stay in its decoded-raster cache (it runs elsewhere only if that worker leaves), and the tails to
        whichever worker is free first."""
        return [self.submit(fn, *args, key=key) for fn, args, key in tasks]

    def map(self, fn: Callable[..., Any], args: Sequence[tuple[Any, ...]], *, priority: int = 0) -> Iterator[Any]:
        """``fn(*a)`` for each ``a`` of ``args``, as they complete (here: in order, one at a time). ``priority``:
        on a cluster, tasks of a higher one run before the waiting tasks of lower ones (dask's priorities)."""
        return (fn(*a) for a in args)


class _DaskExecutor(_Executor):
    """Runs tasks on a dask.distributed cluster; each worker runs one task at a time."""

    serial = False

    def __init__(self, client: Any, threads: int) -> None:
        self.client = client
        self.threads = threads

    def submit(self, fn: Callable[..., Any], *args: Any, key: str | None = None, worker: str | None = None,
               priority: int = 0) -> Any:
        where = {"workers": [worker], "allow_other_workers": True} if worker is not None else {}
        return self.client.submit(_with_threads, self.threads, fn, *args, key=key, pure=False, priority=priority,
                                  **where)

    def submit_all(self, tasks: Sequence[tuple[Callable[..., Any], tuple[Any, ...], str | None]], *,
                   spread: bool = False) -> list[Any]:
        workers = sorted(self.client.scheduler_info()["workers"]) if spread else []
        if len(workers) < 2 or len(tasks) < 2 * len(workers):  # bands of one tile share nothing
            return super().submit_all(tasks)
        # Worker i is given the head of the i-th band (dask's loose restrictions: another worker takes them
        # if it leaves; work stealing is off in the build's LocalCluster, geo.config.WORKER_DASK_CONFIG); the
        # tails, submitted after every head, go to whichever worker is free first and even out the bands.
        n, bound, free = len(workers), [], []
        for i, w in enumerate(workers):
            band = list(range(i * len(tasks) // n, (i + 1) * len(tasks) // n))
            head = math.ceil(len(band) * config.SPREAD_BOUND_FRACTION)
            bound += [(k, w) for k in band[:head]]
            free += [(k, None) for k in band[head:]]
        futures: dict[int, Any] = {}
        for k, w in bound + free:
            fn, args, key = tasks[k]
            futures[k] = self.submit(fn, *args, key=key, worker=w)
        return [futures[k] for k in range(len(tasks))]

    def result(self, fut: Any) -> Any:
        return fut.result()

    def done(self, fut: Any) -> bool:
        return bool(fut.done())

    def share(self, obj: Any) -> Any:
        # broadcast: every worker holds it from the start, so the scheduler places the tasks by the workers'
        # load, not by where it is; a worker that joins (or is restarted) gets it from another
        return self.client.scatter(obj, broadcast=True, hash=False)

    def as_completed(self, futures: list[Any]) -> Iterator[Any]:
        from distributed import as_completed

        for f in as_completed(futures):
            f.result()
            yield f

    def map(self, fn: Callable[..., Any], args: Sequence[tuple[Any, ...]], *, priority: int = 0) -> Iterator[Any]:
        from distributed import as_completed

        for f in as_completed([self.submit(fn, *a, priority=priority) for a in args]):
            yield f.result()
            f.release()  # the result leaves the worker's memory once the caller has it


def _with_threads(threads: int, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn`` on a worker with numba limited to its share of the cores."""
    import numba

    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))  # type: ignore[attr-defined]
    return fn(*args)


def worker_memory_environ() -> dict[str, str]:
    """The memory environment of a build worker process: glibc's ``MALLOC_*_`` settings and numpy's
    ``NUMPY_MADVISE_HUGEPAGE`` (geo/config.py, section 11)."""
    return {"MALLOC_ARENA_MAX": str(config.WORKER_MALLOC_ARENA_MAX),
            "MALLOC_MMAP_THRESHOLD_": str(config.WORKER_MALLOC_MMAP_THRESHOLD_BYTES),
            "MALLOC_TRIM_THRESHOLD_": str(config.WORKER_MALLOC_TRIM_THRESHOLD_BYTES),
            "NUMPY_MADVISE_HUGEPAGE": "1" if config.WORKER_NUMPY_HUGE_PAGES else "0"}


def worker_dask_config() -> dict[str, object]:
    """The ``dask.config`` settings of the build's LocalCluster (geo/config.py, section 11), less those the
    user set through a ``DASK_*`` environment variable."""
    def env_name(key: str) -> str:
        return "DASK_" + key.upper().replace(".", "__").replace("-", "_")

    return {k: v for k, v in config.WORKER_DASK_CONFIG.items() if env_name(k) not in os.environ}


def numpy_huge_page_switch() -> Callable[[bool], bool] | None:
    """numpy's switch of transparent huge pages for its arrays (what ``NUMPY_MADVISE_HUGEPAGE`` sets at import):
    called with the new setting, it returns the previous one; None on a numpy without it."""
    import numpy as np

    core = getattr(np, "_core", None) or np.core  # numpy >= 2.0, 1.26
    return getattr(core.multiarray, "_set_madvise_hugepage", None)


def _tune_memory_here() -> None:
    """Apply :func:`worker_memory_environ`'s settings to this process, where numpy is already imported: glibc's
    through ``mallopt`` (nothing on other C libraries), numpy's through the switch ``NUMPY_MADVISE_HUGEPAGE``
    sets. This process runs every task with ``--workers 1``, and on a cluster it still makes the roofs plan and
    assembles the groups (geo/config.py, section 11)."""
    import ctypes

    switch = numpy_huge_page_switch()
    if switch is not None:
        switch(config.WORKER_NUMPY_HUGE_PAGES)
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold, m_arena_max = -1, -3, -8  # <malloc.h>
    mallopt(m_trim_threshold, config.WORKER_MALLOC_TRIM_THRESHOLD_BYTES)
    mallopt(m_mmap_threshold, config.WORKER_MALLOC_MMAP_THRESHOLD_BYTES)
    mallopt(m_arena_max, config.WORKER_MALLOC_ARENA_MAX)


class _executor:
    """Context manager: the executor for ``workers`` / ``scheduler`` (a cluster is closed on exit)."""

    def __init__(self, workers: int, scheduler: str | None) -> None:
        self.workers, self.scheduler = workers, scheduler
        self.cluster: Any = None
        self.client: Any = None

    def __enter__(self) -> _Executor:
        _tune_memory_here()
        if self.scheduler is None and self.workers == 1:
            return _Executor()
        import dask
        from distributed import Client, LocalCluster

        logging.getLogger("distributed").setLevel(logging.WARNING)  # its INFO lines would drown the build's
        cores = os.cpu_count() or 1
        if self.scheduler is not None:
            self.client = Client(self.scheduler)
            n = max(len(self.client.scheduler_info().get("workers", {})), 1)
        else:
            # The workers' environment: dask's own (one thread for BLAS/OpenMP) with the memory settings.
            environ = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}), **worker_memory_environ()}
            with dask.config.set({"distributed.nanny.pre-spawn-environ": environ, **worker_dask_config()}):
                self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                            dashboard_address=":0")
            self.client = Client(self.cluster)
            n = self.workers
        print(f"dask dashboard: {self.client.dashboard_link}", file=sys.stderr)
        return _DaskExecutor(self.client, max(1, cores // n))

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


# ---------------------------------------------------------------------------
# Build state (resume) and the manifest
# ---------------------------------------------------------------------------


def _fingerprint(data_dir: Path, settings: Any) -> str:
    """What the build depends on: every input file's name, size and modification time, and the settings."""
    items = []
    for p in sorted(data_dir.rglob("*")):
        if p.is_file():
            st = p.stat()
            items.append(f"{p.relative_to(data_dir)}:{st.st_size}:{st.st_mtime_ns}")
    items.append(repr(settings))
    return hashlib.sha256("\n".join(items).encode()).hexdigest()


@dataclass
class _State:
    """``out_dir/.build``: the inputs' fingerprint, the tiles, and a mark per completed stage."""

    out_dir: Path
    fingerprint: str
    fresh: bool = False

    def __post_init__(self) -> None:
        self.dir = self.out_dir / STATE_DIR
        stamp = self.dir / "fingerprint"
        if self.fresh or not stamp.exists() or stamp.read_text() != self.fingerprint:
            if self.dir.exists():
                log.info("inputs or settings changed since the last build: starting afresh")
                shutil.rmtree(self.dir)
            (self.out_dir / MANIFEST).unlink(missing_ok=True)
            write_text_atomic(stamp, self.fingerprint)
        else:
            # A build resumed or redone: the products may change, the old manifest no longer holds.
            (self.out_dir / MANIFEST).unlink(missing_ok=True)

    def done(self, stage: str, outputs: Sequence[Path]) -> bool:
        mark = self.dir / "done" / stage
        if not mark.exists():
            return False
        sizes = json.loads(mark.read_text())
        return all(p.exists() and p.stat().st_size == sizes.get(self._key(p)) for p in outputs) and len(sizes) == len(
            outputs
        )

    def _key(self, path: Path) -> str:
        """A product's name in a mark: its path relative to the build folder."""
        return Path(path).relative_to(self.out_dir).as_posix()

    def marked(self, stage: str) -> list[Path]:
        """The outputs a stage's mark records ([] without a mark)."""
        mark = self.dir / "done" / stage
        return [self.out_dir / name for name in json.loads(mark.read_text())] if mark.exists() else []

    def mark(self, stage: str, outputs: Sequence[Path]) -> None:
        write_text_atomic(self.dir / "done" / stage, json.dumps({self._key(p): p.stat().st_size for p in outputs}))

    def stage_task(self, stage: str, fn: StageFn, ctx: BuildContext) -> tuple[list[Path], float]:
        """Run a whole stage unless its mark says its outputs are there: (outputs, seconds)."""
        t0 = time.perf_counter()
        mark = self.dir / "done" / stage
        if mark.exists():
            outputs = [ctx.out_dir / name for name in json.loads(mark.read_text())]
            if self.done(stage, outputs):
                return outputs, 0.0
        outputs = fn(ctx)
        self.mark(stage, outputs)
        return outputs, time.perf_counter() - t0


def write_manifest(out_dir: Path, products: Sequence[Path], fingerprint: str) -> Path:
    """``manifest.json``: every product's path (relative), size and SHA-256, written atomically, last."""
    entries = {str(Path(p).relative_to(out_dir)): {"bytes": Path(p).stat().st_size, "sha256": file_sha256(Path(p))}
               for p in sorted(products)}
    path = out_dir / MANIFEST
    write_text_atomic(path, json.dumps({"inputs": fingerprint, "products": entries}, indent=1) + "\n")
    return path


def check_build(out_dir: str | Path) -> dict[str, Any] | None:
    """The manifest of a complete build; :class:`ArtoisError` naming what is missing otherwise.

    A folder ``artois build`` wrote into (it has ``.build/``) must have its manifest, and the
    products must exist with their recorded sizes (the checksums are for a full audit). A folder
    of products assembled by hand (no ``.build/``, no manifest) is not a build: None.
    """
    out_dir = Path(out_dir)
    path = out_dir / MANIFEST
    if not path.exists() and not (out_dir / STATE_DIR).exists():
        return None
    if not path.exists():
        tiles = out_dir / STATE_DIR / "tiles" / "irradiance"
        done = len(list(tiles.glob("*.tif")) + list(tiles.glob("*.empty"))) if tiles.is_dir() else 0
        what = f" ({done} irradiance tile(s) computed so far)" if done else ""
        raise ArtoisError(
            f"{out_dir}: incomplete build, {MANIFEST} is missing{what}: the build was interrupted or failed. "
            f"Run 'artois build --out {out_dir}' again: it resumes where it stopped."
        )
    manifest = json.loads(path.read_text())
    bad = [name for name, e in manifest["products"].items()
           if not (out_dir / name).exists() or (out_dir / name).stat().st_size != e["bytes"]]
    if bad:
        raise ArtoisError(f"{out_dir}: incomplete build, missing or changed since it was built: {', '.join(bad)}. "
                          f"Run 'artois build --out {out_dir}' again.")
    return dict(manifest)
