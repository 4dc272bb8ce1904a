"""Speed and memory of the irradiation engine on a 1 km² tile at 0.5 m (4 M pixels).

A synthetic town (terrain, 2,000 boxes and gable roofs, a 120 m slag heap) with a full hourly year
of weather and shading (default settings: 32 directions, 1 km horizon), every pixel computed.
Prints wall time, CPU time, pixels per second per core and peak memory (RSS).

    .venv/bin/python benchmarks/bench_irradiance.py [--size 2000] [--threads N] [--weather FILE]

The CPU-time figure (pixels per CPU-second) is the one to quote on a shared machine.
"""

from __future__ import annotations

import argparse
import resource
import sys
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
    args = ap.parse_args()
    numba.set_num_threads(args.threads)
    kw = {}
    if args.distance:
        kw["distance_m"] = args.distance
    if args.directions:
        kw["n_directions"] = args.directions
    if args.near:
        kw["near_px"] = args.near
    if args.per_octave:
        kw["samples_per_octave"] = args.per_octave
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
