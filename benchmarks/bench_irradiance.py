"""Speed and memory of the irradiation engine on a 1 km² tile at 0.5 m (4 M pixels).

A synthetic town (terrain, 2,000 boxes and gable roofs, a 120 m slag heap) with a full hourly year
of weather and shading (default settings: 32 directions, 1 km horizon), every pixel computed.
Prints wall time, CPU time, pixels per second per core and peak memory (RSS).

    .venv/bin/python benchmarks/bench_irradiance.py [--size 2000] [--threads N] [--weather FILE]

The CPU-time figure (pixels per CPU-second) is the one to quote on a shared machine.

Streaming (``--stream K``): writes K×K synthetic LiDAR HD tiles (``--size`` px each) as files,
then runs the file-to-COG stage ``irradiance_from_files`` on them in a fresh process, once for
the top-left tile alone and once for all K×K, and prints each run's wall time and peak RSS: the
peak should be about flat (one tile and its halo in memory), not K² times larger.

    .venv/bin/python benchmarks/bench_irradiance.py --stream 2 [--distance 1000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
from affine import Affine
from rasterio.crs import CRS

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.io.rasters import Raster  # noqa: E402
from geo.io.weather import default_weather, load_weather  # noqa: E402
from geo.solar.irradiance import SolarSettings, compute_irradiance  # noqa: E402
from geo.solar.sky import bin_sky  # noqa: E402


def synthetic_town(n: int, res: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:n, 0:n].astype(np.float32)
    z = 40 + 0.01 * cols * res + 2 * np.sin(rows * res / 90.0)
    # A slag heap (terril): a cone 120 m high, 300 m radius, in a corner.
    r = np.hypot(rows - 0.15 * n, cols - 0.85 * n) * res
    z = np.maximum(z, 40 + 120 * (1 - r / 300.0))
    n_buildings = int(2000 * (n / 2000) ** 2)
    for _ in range(n_buildings):
        rr, cc = rng.integers(0, n - 40, 2)
        h, w = rng.integers(12, 40, 2)
        block = z[rr : rr + h, cc : cc + w]
        base = float(block.min())
        height = rng.uniform(5, 15)
        if rng.random() < 0.6:  # gable roof
            ridge = height + 4 - 8 * np.abs(np.linspace(-0.5, 0.5, h))[:, None]
            z[rr : rr + h, cc : cc + w] = base + np.broadcast_to(ridge, block.shape)
        else:
            z[rr : rr + h, cc : cc + w] = base + height
    return z.astype(np.float32)


def write_lidar_tiles(folder: Path, k: int, size: int, res: float) -> list[Path]:
    """K×K adjacent MNS tiles of one synthetic town, ``size`` px each (LiDAR HD names for 1 km tiles)."""
    from geo.io.rasters import lidar_tile_name, write_geotiff

    z = synthetic_town(k * size, res)
    x_km, y_km = 685, 7038
    paths = []
    for i in range(k):
        for j in range(k):
            x0, y1 = x_km * 1000 + j * size * res, y_km * 1000 - i * size * res
            name = (lidar_tile_name(int(x0 // 1000), int(y1 // 1000), "MNS") if size * res == 1000
                    else f"MNS_{i}_{j}.tif")
            paths.append(write_geotiff(folder / name, z[i * size : (i + 1) * size, j * size : (j + 1) * size],
                                       transform=Affine(res, 0, x0, 0, -res, y1), crs="EPSG:2154", nodata=-99999.0))
    return paths


def stream_run(spec: str) -> None:
    """Child process: irradiance_from_files on the given tiles; prints one JSON line."""
    from geo.solar.build import irradiance_from_files

    args = json.loads(spec)
    settings = SolarSettings(**args["settings"])
    weather = default_weather()
    # Warm-up (numba cache load) on a small tile, outside the timing.
    small = Raster(synthetic_town(64, 0.5), Affine(0.5, 0, 0, 0, -0.5, 0), CRS.from_epsg(2154))
    compute_irradiance(small, weather, settings=SolarSettings(distance_m=10.0))
    t0 = time.perf_counter()
    out = irradiance_from_files([Path(p) for p in args["paths"]], Path(args["out"]), all_pixels=True,
                                settings=settings, weather=weather, tile_px=args["tile_px"], progress=False)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(json.dumps({"wall_s": wall, "peak_rss_gib": peak, "out_mb": out.stat().st_size / 1e6}))


def stream_bench(k: int, size: int, res: float, settings_kw: dict[str, float]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = write_lidar_tiles(folder, k, size, res)
        print(f"{k}x{k} synthetic LiDAR tiles of {size} x {size} px at {res} m; every pixel computed; "
              f"settings {settings_kw or 'default'}")
        for n_side in (1, k):
            chosen = [p for idx, p in enumerate(paths) if idx // k < n_side and idx % k < n_side]
            spec = json.dumps({"paths": [str(p) for p in chosen], "out": str(folder / f"irr_{n_side}.tif"),
                               "tile_px": size, "settings": settings_kw})
            done = subprocess.run([sys.executable, __file__, "--stream-run", spec], check=True,
                                  capture_output=True, text=True)
            fig = json.loads(done.stdout.strip().splitlines()[-1])
            area = n_side * n_side * (size * res / 1000.0) ** 2
            print(f"{n_side}x{n_side} tiles ({area:g} km2, {n_side * n_side * size * size:,} px): wall "
                  f"{fig['wall_s']:.1f} s, peak RSS {fig['peak_rss_gib']:.2f} GiB, COG {fig['out_mb']:.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=2000, help="tile side in pixels (default 2000 = 1 km at 0.5 m)")
    ap.add_argument("--res", type=float, default=0.5)
    ap.add_argument("--threads", type=int, default=numba.config.NUMBA_NUM_THREADS)
    ap.add_argument("--weather", type=Path, default=None, help="weather file (default: offline hourly year)")
    ap.add_argument("--distance", type=float, default=None, help="horizon distance [m] (default config)")
    ap.add_argument("--directions", type=int, default=None)
    ap.add_argument("--near", type=int, default=None, help="full-resolution samples [px] (default config)")
    ap.add_argument("--per-octave", type=int, default=None, help="far-field samples per octave (default config)")
    ap.add_argument("--stream", type=int, default=0, metavar="K",
                    help="streamed file build: peak RSS of 1 tile vs KxK tiles (each run in a fresh process)")
    ap.add_argument("--stream-run", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stream_run:
        stream_run(args.stream_run)
        return
    numba.set_num_threads(args.threads)
    kw: dict[str, float] = {}
    if args.distance:
        kw["distance_m"] = args.distance
    if args.directions:
        kw["n_directions"] = args.directions
    if args.near:
        kw["near_px"] = args.near
    if args.per_octave:
        kw["samples_per_octave"] = args.per_octave
    if args.stream:
        stream_bench(args.stream, args.size, args.res, kw)
        return
    settings = SolarSettings(**kw)
    weather = load_weather(args.weather) if args.weather else default_weather()
    crs = CRS.from_epsg(2154)
    # Warm-up (numba compilation / cache load) on a small tile.
    small = Raster(synthetic_town(64, args.res), Affine(args.res, 0, 0, 0, -args.res, 0), crs)
    compute_irradiance(small, weather, settings=SolarSettings(distance_m=10.0))
    z = synthetic_town(args.size, args.res)
    dsm = Raster(z, Affine(args.res, 0, 685000, 0, -args.res, 7038000), crs)
    t0 = time.perf_counter()
    sky = bin_sky(weather, bin_minutes=settings.bin_minutes, month_parts=settings.month_parts)
    t_sky = time.perf_counter() - t0
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    res = compute_irradiance(dsm, weather, settings=settings, sky=sky)
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    n_px = int(np.isfinite(res.annual_kwh_m2).sum())
    peak_gib = ru1.ru_maxrss / 1024**2
    print(f"tile: {args.size} x {args.size} px at {args.res} m, {n_px:,} pixels computed (all pixels)")
    print(f"weather: {weather.summary()}, {len(weather.data)} steps -> {sky.n_bins} sun bins ({t_sky:.2f} s)")
    print(f"settings: {settings.n_directions} directions, {settings.distance_m:g} m horizon, exact scan to "
          f"{settings.near_px} px then {settings.samples_per_octave} samples per octave")
    print(f"threads: {args.threads}; wall {wall:.1f} s; CPU {cpu:.1f} s")
    print(f"pixels/s/core (wall x threads): {n_px / (wall * args.threads):,.0f}")
    print(f"pixels per CPU-second:          {n_px / cpu:,.0f}")
    print(f"peak RSS: {peak_gib:.2f} GiB")
    print(f"annual mean {np.nanmean(res.annual_kwh_m2):.0f} kWh/m2, mean shading loss {np.nanmean(res.shading_loss):.3f}")


if __name__ == "__main__":
    main()
