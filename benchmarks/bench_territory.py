"""Whole-territory build: per-stage cost, 1 vs N workers, peak memory, output size, projections.

    python benchmarks/bench_territory.py                      # --size 5x5, generated under /tmp
    python benchmarks/bench_territory.py --size 2x2 --horizon-distance 200     # a quick run
    python benchmarks/bench_territory.py --data DIR           # an existing data folder

Each build runs as ``artois build --fresh --workers N`` in a subprocess (N = 1, then 2 by default);
the peak resident memory of its largest process (a LocalCluster worker, or the build itself with
one worker) comes from ``getrusage(RUSAGE_CHILDREN)``, which Linux keeps over every reaped
descendant. The irradiance peak of one dense inner tile with its full halo is measured apart
(``--horizon-distance`` does not apply to it). Targets of issue 11 are printed beside the figures.

The projections follow Amdahl's law fitted on the two builds: the serial part (the roofs assembly and the
longest vector-tile layer tiled in one task, measured in the one-worker build) scales with the buildings and
does not shrink with more cores; the rest (the roof faces' tiles are cut in blocks) is divided among the cores
at the efficiency the N-worker build reached.

On a shared virtual machine the same build's time drifts by several per cent within minutes: ``--repeat R``
runs the worker counts R times in turn (1, 2, 1, 2, …), prints each round's speed-up (two builds run one
after the other) and uses the median round for the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
POLE_TILES, POLE_BUILDINGS = 1_100, 400_000
FRANCE_TILES = 550_000


def artois(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from geo.cli import main; sys.exit(main())", *args]


def run_measured(cmd: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS of the largest descendant [GiB], stderr+stdout) of a subprocess."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd[3:])} failed:\n{proc.stderr[-3000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    return wall, peak, proc.stdout + proc.stderr


def stage_seconds(output: str) -> dict[str, float]:
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"built (\w+) in ([\d.]+) s", output)}


def assembly_seconds(output: str) -> float:
    """Seconds of the roofs assembly (one process, after every group) from the build's log, 0 if absent."""
    m = re.search(r"rooftops\.gpkg: .* in ([\d.]+) s;.*\(assembled\)", output)
    return float(m.group(1)) if m else 0.0


def longest_layer_seconds(output: str) -> float:
    """Seconds of the longest vector-tile layer tiled in one task (not in blocks) from the build's log, 0 if none:
    the part of the tiles stage that more cores do not shorten."""
    found = [float(m.group(1)) for m in re.finditer(r"tiled \w+ \(z\d+-\d+\) in ([\d.]+) s into", output)]
    return max(found, default=0.0)


def tile_peak(data: Path, tile_index: int) -> tuple[float, float]:
    """(seconds, peak RSS [GiB]) of one irradiance tile with the default (1 km) halo, in a fresh process with a
    build worker's memory settings (the first tile of a worker: its memory first touched)."""
    code = (
        "import sys, time, resource, tempfile; from pathlib import Path;"
        "from geo.pipeline import BuildContext; from geo.solar.build import plan_build_irradiance, irradiance_tile;"
        f"plan = plan_build_irradiance(BuildContext(Path({str(data)!r}), Path(tempfile.mkdtemp())));"
        "t = time.perf_counter();"
        f"irradiance_tile(plan.tasks[{tile_index}]);"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)"
    )
    from geo.pipeline import worker_memory_environ

    env = {**os.environ, **worker_memory_environ(), "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    s, gib = out.split()[-2:]
    return float(s), float(gib)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="5x5", help="territory W x H in 1 km tiles (default 5x5)")
    ap.add_argument("--data", type=Path, default=None, help="existing data folder (default: generate one)")
    ap.add_argument("--workers", default="1,2", help="worker counts to compare (default 1,2)")
    ap.add_argument("--horizon-distance", type=float, default=None, help="horizon [m] of the timed builds")
    ap.add_argument("--memory-data", type=Path, default=None,
                    help="data folder whose middle tile's irradiance peak is measured (default: --data); a 5x5 "
                         "territory's middle tile has its whole 1 km halo")
    ap.add_argument("--cores", type=int, default=2, help="cores of the projections (default 2)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the builds (and the generated sample) in the temporary folder; by default removed")
    ap.add_argument("--repeat", type=int, default=1,
                    help="rounds of builds, the worker counts in turn (default 1); the median round is reported")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    tmp = Path(tempfile.mkdtemp(prefix="bench-territory-"))
    data = args.data
    if data is None:
        data = tmp / "data"
        t0 = time.perf_counter()
        run_measured(artois("sample", "--out", str(data), "--size", f"{w}x{h}"))
        print(f"sample --size {w}x{h}: {time.perf_counter() - t0:.0f} s")
    import pyogrio

    n_buildings = int(pyogrio.read_info(data / "rooftops" / "batiment.gpkg")["features"])
    n_tiles = len(list((data / "rooftops" / "lidar").glob("*_MNS_*.tif")))
    km2 = float(n_tiles)
    print(f"territory: {n_tiles} tiles ({km2:.0f} km²), {n_buildings} buildings ({n_buildings / km2:.0f}/km²)")

    # One dense inner tile with its full 1 km halo: the irradiance peak a worker needs.
    from geo.pipeline import BuildContext
    from geo.products import BuildFolder, irradiance
    from geo.solar.build import plan_build_irradiance

    mem_data = args.memory_data or data
    plan = plan_build_irradiance(BuildContext(mem_data, tmp))
    inner = len(plan.tasks) // 2
    s_tile, gib_tile = tile_peak(mem_data, inner)
    print(f"irradiance, one inner tile ({plan.tile_name(inner)}) with its 1 km halo: {s_tile:.1f} s, "
          f"peak {gib_tile:.2f} GiB (target <= 3 GiB)")

    extra = ["--horizon-distance", str(args.horizon_distance)] if args.horizon_distance else []
    counts = [int(v) for v in args.workers.split(",")]
    rounds: list[dict[int, float]] = []
    one_worker: list[tuple[float, float, float]] = []  # per round: serial part [s], s per tile, s per building
    for r in range(max(args.repeat, 1)):
        results = {}
        for n in counts:
            out = tmp / f"build-{n}"
            shutil.rmtree(out, ignore_errors=True)
            wall, peak, log = run_measured(artois("build", "--data", str(data), "--out", str(out), "--fresh",
                                                  "--workers", str(n), *extra))
            st = stage_seconds(log)
            results[n] = wall
            irr_bytes = sum(p.stat().st_size for p in irradiance.product_files(BuildFolder(out).irradiance))
            print(f"{'round ' + str(r + 1) + ', ' if args.repeat > 1 else ''}workers={n}: wall {wall:.0f} s; "
                  f"stages {json.dumps({k: round(v, 1) for k, v in st.items()})}; "
                  f"peak RSS of the largest process {peak:.2f} GiB (cumulative max)")
            if n == 1:
                per_tile = st.get("irradiance", 0.0) / n_tiles
                per_building = st.get("roofs", 0.0) / max(n_buildings, 1)
                parks = st.get("parks", 0.0)
                # The serial part: what runs after every roofs group on one process (the assembly), then the
                # longest vector-tile layer tiled as one tippecanoe run (the roof faces are tiled in blocks, the
                # other layers beside each other); it grows with the buildings and faces.
                serial = assembly_seconds(log) + longest_layer_seconds(log)
                # the rest of the roofs and tiles stages: divided among the cores, growing with the buildings
                per_building_parallel = (st.get("roofs", 0.0) + st.get("tiles", 0.0) - serial) / max(n_buildings, 1)
                one_worker.append((serial, per_tile, per_building_parallel))
                print(f"  irradiance {per_tile:.1f} s per tile; roofs {1000 * per_building:.1f} ms per building; "
                      f"parks {parks:.1f} s; irradiance (VRT + tiles) {irr_bytes / km2 / 1e6:.2f} MB per km² "
                      "(target <= 6)")
                print(f"  serial part (roofs assembly + longest one-task tile layer): {serial:.1f} s of {wall:.0f} s")
        rounds.append(results)
    if 1 in counts and len(counts) > 1:
        n2 = max(counts)
        speedups = [res[1] / res[n2] for res in rounds]
        if len(rounds) > 1:
            print(f"speed-up {n2} workers vs 1, each round: {', '.join(f'{v:.2f}x' for v in speedups)}")
        # the median round (the lower middle one for an even count) gives the figures below
        k = sorted(range(len(rounds)), key=lambda i: speedups[i])[(len(rounds) - 1) // 2]
        results, (serial, per_tile, per_building_parallel) = rounds[k], one_worker[k]
        print(f"speed-up {n2} workers vs 1{' (median round)' if len(rounds) > 1 else ''}: {speedups[k]:.2f}x "
              f"(target >= 1.8x for 2)")
        # Amdahl: T(n) = serial + parallel / (n * eff), eff fitted on the two builds; the serial part scales
        # with the buildings, the parallel part with the tiles (irradiance) and the buildings (roofs groups).
        parallel = results[1] - serial
        eff = parallel / (n2 * max(results[n2] - serial, 1e-9))
        print(f"parallel efficiency with {n2} workers (Amdahl fit, serial part {serial:.1f} s): {eff:.2f}")
        pole_serial = serial / max(n_buildings, 1) * POLE_BUILDINGS
        pole_parallel = per_tile * POLE_TILES + per_building_parallel * POLE_BUILDINGS
        for cores in sorted({args.cores, 8, 64}):
            pole = pole_serial + pole_parallel / (cores * eff)
            print(f"projection, Pôle ({POLE_TILES} tiles, {POLE_BUILDINGS} buildings) on {cores} cores: "
                  f"{pole / 3600:.2f} h, of which serial {pole_serial / 3600:.2f} h (target <= 1 h on 2 cores)")
            scale = FRANCE_TILES / POLE_TILES
            print(f"projection, France ({FRANCE_TILES} tiles) on {cores} cores: {pole * scale / 86400:.1f} days")
    print("(timings on a shared machine are under contention unless said otherwise)")
    if args.keep:
        print(f"builds kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)  # about 0.6 GB per build of the 5x5 sample


if __name__ == "__main__":
    main()
