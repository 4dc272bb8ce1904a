"""Peer comparison with GRASS GIS r.horizon + r.sun (Debian package ``grass-core``).

On the same DSM (default: the Athens LiDAR DSM, 1 m, EPSG:2100, in ../shared/data/real/athens):

1. GRASS: ``r.slope.aspect``, ``r.horizon`` (32 directions, 1 km) and ``r.sun`` for one clear-sky
   day (Linke turbidity 3, albedo 0.25, shading from the horizon maps), one process. GRASS 8.2
   (Debian 12) r.horizon writes negative angles, which r.sun mishandles on slopes (south roofs
   come out darker than north ones: GRASS issue #2935); GRASS ≥ 8.3 clamps them at 0 (PR #2955),
   which we reproduce with r.mapcalc before r.sun.
2. This engine for the same day and sky: r.sun's own clear-sky beam and diffuse on an open
   horizontal surface every 10 min (r.sun mode 1 at the DSM's centre; DNI = beam / cos Z), or with
   ``--sky pvlib`` pvlib's Ineichen clear sky (Linke 3); same directions and distance, one thread.
   The diffuse models still differ (Perez here, Muneer in r.sun), mostly on north-facing roofs.
3. Spearman rank correlation of the daily irradiation on roof pixels (DSM − DTM > 2.5 m, tilt
   < 60°), and the time of a full hourly year here (EPW) against r.sun × 365 days (+ r.horizon).

    .venv/bin/python benchmarks/grass_compare.py [--dsm DSM.tif --dtm DTM.tif --epw W.epw] [--day 172]

Needs ``grass`` on the PATH (``apt-get install grass-core``). Prints the figures; writes nothing
outside a temporary folder.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
import pandas as pd
import pvlib
import rasterio
from pyproj import Transformer
from scipy.stats import spearmanr

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from geo.io.rasters import read_raster  # noqa: E402
from geo.io.weather import Weather, read_epw  # noqa: E402
from geo.solar.irradiance import SolarSettings, compute_irradiance  # noqa: E402

ATHENS = REPO.parent / "shared" / "data" / "real" / "athens"


def grass_output(db: Path, *cmd: str) -> str:
    """Run a GRASS module in the mapset; return its standard output."""
    done = subprocess.run(["grass", str(db / "loc" / "PERMANENT"), "--exec", *cmd], check=True,
                          capture_output=True, text=True)
    return done.stdout


def grass(db: Path, *cmd: str) -> float:
    """Run a GRASS module in the mapset; return its wall time [s]."""
    t0 = time.perf_counter()
    grass_output(db, *cmd)
    return time.perf_counter() - t0


def clear_day(lat: float, lon: float, alt: float, day: int, year: int = 2023, linke: float = 3.0) -> Weather:
    """One clear-sky day every 10 min (index at interval middles), pvlib Ineichen."""
    start = pd.Timestamp(f"{year}-01-01", tz="UTC") + pd.Timedelta(days=day - 1)
    times = pd.date_range(start + pd.Timedelta(minutes=5), periods=144, freq="10min")
    loc = pvlib.location.Location(lat, lon, altitude=alt)
    cs = loc.get_clearsky(times, model="ineichen", linke_turbidity=linke)
    df = pd.DataFrame({"ghi": cs["ghi"], "dni": cs["dni"], "dhi": cs["dhi"], "temp_air": 20.0, "wind_speed": 1.0})
    return Weather(df, 1 / 6, lat, lon, alt, f"pvlib Ineichen clear sky, Linke {linke}", "DSM centre",
                   f"day {day} of {year}")


def grass_sky(db: Path, x: float, y: float, res: float, lat: float, lon: float, alt: float, day: int,
              year: int = 2023) -> Weather:
    """r.sun's clear-sky beam and diffuse on an open horizontal cell every 10 min (UTC) → Weather."""
    start = pd.Timestamp(f"{year}-01-01", tz="UTC") + pd.Timedelta(days=day - 1)
    times = pd.date_range(start + pd.Timedelta(minutes=5), periods=144, freq="10min")
    script = db / "sky.sh"
    lines = [f"g.region n={y + 1.5 * res} s={y - 1.5 * res} e={x + 1.5 * res} w={x - 1.5 * res} res={res} --quiet",
             "r.mapcalc --overwrite --quiet expression='flat = 0.0'",
             f"r.mapcalc --overwrite --quiet expression='lonmap = {lon}'"]
    for t in times:
        hours = t.hour + t.minute / 60.0
        lines.append(f"r.sun --overwrite elevation=flat slope_value=0 aspect_value=270 day={day} "
                     f"time={hours:.6f} civil_time=0 long=lonmap linke_value=3.0 albedo_value=0.25 "
                     "beam_rad=b diff_rad=d 2>/dev/null")
        lines.append(f"echo {hours:.6f} $(r.what map=b,d coordinates={x},{y} | cut -d'|' -f4,5)")
    script.write_text("\n".join(lines) + "\n")
    out = grass_output(db, "bash", str(script))
    vals = np.array([[float(v or 0) for v in line.split()[1].split("|")] for line in out.splitlines() if "|" in line])
    beam, diff = vals[:, 0], vals[:, 1]
    sp = pvlib.solarposition.get_solarposition(times, lat, lon, altitude=alt)
    cosz = np.cos(np.radians(sp["apparent_zenith"].to_numpy()))
    dni = np.where(cosz > 0.03, beam / np.maximum(cosz, 0.03), 0.0)
    df = pd.DataFrame({"ghi": beam + diff, "dni": dni, "dhi": diff, "temp_air": 20.0, "wind_speed": 1.0}, index=times)
    return Weather(df, 1 / 6, lat, lon, alt, "r.sun clear sky (Linke 3), horizontal beam and diffuse", "DSM centre",
                   f"day {day} of {year}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dsm", type=Path, default=ATHENS / "DSM.tif")
    ap.add_argument("--dtm", type=Path, default=ATHENS / "DEM.tif")
    ap.add_argument("--epw", type=Path, default=ATHENS / "athens_2023.epw")
    ap.add_argument("--day", type=int, default=172, help="day of year of the clear-sky day (default 172)")
    ap.add_argument("--directions", type=int, default=32)
    ap.add_argument("--distance", type=float, default=1000.0)
    ap.add_argument("--save", type=Path, default=None, help="save both daily rasters to this .npz")
    ap.add_argument("--sky", choices=["grass", "pvlib"], default="grass",
                    help="sky fed to this engine: r.sun's own clear sky (default) or pvlib Ineichen")
    ap.add_argument("--sample", action="store_true",
                    help="use the generated Lens sample (small: 500 m x 500 m at 0.5 m) instead of --dsm/--dtm")
    args = ap.parse_args()
    if args.sample:
        from geo.sample import generate_sample

        sample_dir = Path(tempfile.mkdtemp(prefix="grass_compare_sample_"))
        info = generate_sample(sample_dir, small=True, seed=0)
        args.dsm = next(p for p in info.tiles if "_MNS_" in p.name)
        args.dtm = next(p for p in info.tiles if "_MNT_" in p.name)
    if shutil.which("grass") is None:
        sys.exit("grass not found: apt-get install grass-core")
    numba.set_num_threads(1)
    dsm = read_raster(args.dsm)
    dtm = read_raster(args.dtm)
    step = 360.0 / args.directions
    xc = dsm.transform.c + dsm.shape[1] * dsm.res_m / 2
    yc = dsm.transform.f - dsm.shape[0] * dsm.res_m / 2
    lon, lat = Transformer.from_crs(dsm.crs, "EPSG:4326", always_xy=True).transform(xc, yc)
    alt = float(np.nanmedian(dtm.data))

    with tempfile.TemporaryDirectory(prefix="grass_compare_") as tmp:
        db = Path(tmp)
        subprocess.run(["grass", "-c", str(args.dsm), "-e", str(db / "loc")], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        grass(db, "r.in.gdal", f"input={args.dsm}", "output=dsm")
        grass(db, "g.region", "raster=dsm")
        t_overhead = min(grass(db, "g.version") for _ in range(3))
        t_sa = grass(db, "r.slope.aspect", "elevation=dsm", "slope=slope", "aspect=aspect") - t_overhead
        t_hor = grass(db, "r.horizon", "elevation=dsm", f"step={step}", f"maxdistance={args.distance}",
                      "output=hor") - t_overhead
        # GRASS 8.2's r.horizon writes negative angles that r.sun mishandles: clamp at 0 (GRASS >= 8.3).
        maps = grass_output(db, "g.list", "type=raster", "pattern=hor_*").split()
        exprs = db / "clamp.txt"
        exprs.write_text("".join(f"{m} = max({m}, 0.0)\n" for m in maps))
        t_clamp = grass(db, "r.mapcalc", "--overwrite", f"file={exprs}") - t_overhead
        t_sun = grass(db, "r.sun", "elevation=dsm", "aspect=aspect", "slope=slope", "horizon_basename=hor",
                      f"horizon_step={step}", f"day={args.day}", "linke_value=3.0", "albedo_value=0.25",
                      "nprocs=1", "glob_rad=glob") - t_overhead
        out = db / "glob.tif"
        grass(db, "r.out.gdal", "input=glob", f"output={out}", "format=GTiff", "type=Float32")
        with rasterio.open(out) as ds:
            grass_day = ds.read(1, masked=True).filled(np.nan)  # Wh/m²/day
        if args.sky == "grass":
            day_weather = grass_sky(db, xc, yc, dsm.res_m, lat, lon, alt, args.day)
        else:
            day_weather = clear_day(lat, lon, alt, args.day)

    # This engine, same day and sky, same directions and distance, one thread.
    settings = SolarSettings(n_directions=args.directions, distance_m=args.distance)
    compute_irradiance(dsm, day_weather, settings=SolarSettings(distance_m=20.0))  # warm-up
    res_day = compute_irradiance(dsm, day_weather, settings=settings)
    ours_day = res_day.annual_kwh_m2 * 1000.0  # Wh/m² over the day

    above = dsm.data - dtm.data
    if args.save:
        np.savez(args.save, grass=grass_day, ours=ours_day, tilt=res_day.tilt_deg, azimuth=res_day.azimuth_deg,
                 svf=res_day.sky_view_factor, loss=res_day.shading_loss, above=above)
    roofs = (above > 2.5) & (res_day.tilt_deg < 60) & np.isfinite(ours_day) & np.isfinite(grass_day)
    rho = spearmanr(ours_day[roofs], grass_day[roofs]).statistic
    both = np.isfinite(ours_day) & np.isfinite(grass_day)
    rho_all = spearmanr(ours_day[both], grass_day[both]).statistic
    pearson = float(np.corrcoef(ours_day[roofs], grass_day[roofs])[0, 1])
    rel_mad = float(np.median(np.abs(ours_day[roofs] / grass_day[roofs] - 1)))

    # A full hourly year here (weather file), all pixels, one thread.
    weather = read_epw(args.epw)
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    compute_irradiance(dsm, weather, settings=settings)
    t_year = time.perf_counter() - t0
    cpu_year = time.process_time() - cpu0
    grass_year = t_sa + t_hor + t_clamp + 365 * t_sun

    n = dsm.shape[0] * dsm.shape[1]
    print(f"DSM: {args.dsm.name} {dsm.shape[1]} x {dsm.shape[0]} px at {dsm.res_m:g} m ({n:,} px), "
          f"lat {lat:.3f} lon {lon:.3f}; {args.directions} directions, {args.distance:g} m")
    print(f"sky: {day_weather.source}; daily GHI {day_weather.data['ghi'].sum() / 6:.0f} Wh/m2")
    print(f"day {args.day}, clear sky: roof pixels {int(roofs.sum()):,}; mean daily irradiation on roofs: "
          f"GRASS r.sun {np.nanmean(grass_day[roofs]):.0f} Wh/m2, this engine {np.nanmean(ours_day[roofs]):.0f} Wh/m2")
    print(f"Spearman correlation, roof pixels: {rho:.4f}   (all pixels: {rho_all:.4f}); Pearson, roof pixels: "
          f"{pearson:.4f}; median |ours/GRASS - 1| on roofs: {100 * rel_mad:.1f} %")
    print(f"GRASS (1 process): r.slope.aspect {t_sa:.1f} s, r.horizon {t_hor:.1f} s (+ clamp {t_clamp:.1f} s), "
          f"r.sun one day {t_sun:.1f} s "
          f"-> a year (r.horizon once + r.sun x 365) {grass_year:.0f} s")
    print(f"this engine (1 thread): a full hourly year ({len(weather.data)} steps) {t_year:.2f} s wall, "
          f"{cpu_year:.2f} s CPU")
    print(f"speed-up for a year: {grass_year / t_year:.0f}x (wall), {grass_year / cpu_year:.0f}x (vs our CPU time)")


if __name__ == "__main__":
    main()
