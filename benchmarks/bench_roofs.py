"""Benchmark of the roofs stage: segmentation + scoring of a 1 km² synthetic urban tile (≥ 1,000 houses).

Run: ``OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/bench_roofs.py [--size 1000] [--noise 0.03]``

``--rss`` instead measures the whole roofs stage (:func:`geo.roofs.build.run_roofs`, streamed by
LiDAR tile) on the generated small (0.25 km²) and default (2 km²) samples: each run in a child
process whose peak resident memory is reported, with 1 km groups and with one group spanning
everything (the memory a whole-raster stage needs), so the growth with the area can be compared.

The tile is :func:`geo.roofs.synthetic.make_scene` (gable, hip, shed and flat roofs with chimneys
and HVAC boxes, known-truth faces). The irradiation bands the scoring needs are made from each
pixel's local slope with pvlib (unshaded; the solar engine is benchmarked on its own), outside
the timed part. Prints the timings, the accuracy against the truth and the totals.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from geo import config  # noqa: E402
from geo.io.weather import default_weather  # noqa: E402
from geo.roofs.aggregate import building_table  # noqa: E402
from geo.roofs.pv import SiteModel  # noqa: E402
from geo.roofs.scoring import score_faces  # noqa: E402
from geo.roofs.segmentation import local_planes, segment_roofs  # noqa: E402
from geo.roofs.synthetic import make_scene  # noqa: E402


def synthetic_irradiance(dsm: np.ndarray, res: float, site: SiteModel) -> np.ndarray:
    """15 bands from each pixel's 3 x 3 slope: unshaded monthly plane irradiation (pvlib), binned 5° x 15°."""
    gx, gy, _ = local_planes(dsm.astype(np.float64), res)
    gx, gy = np.nan_to_num(gx), np.nan_to_num(gy)
    tilt = np.degrees(np.arctan(np.hypot(gx, gy)))
    az = np.degrees(np.arctan2(-gx, -gy)) % 360.0
    tb = np.clip(np.round(tilt / 5.0) * 5.0, 0, 85)
    ab = np.where(tb == 0, 180.0, (np.round(az / 15.0) * 15.0) % 360.0)
    key = (tb * 1000 + ab).astype(np.int64)
    bands = np.full((15, *dsm.shape), np.nan, dtype=np.float32)
    for k in np.unique(key):
        m = key == k
        monthly = site.plane_irradiation_kwh_m2(float(k // 1000), float(k % 1000))
        bands[0][m] = monthly.sum()
        for i in range(12):
            bands[1 + i][m] = monthly[i]
    bands[13] = 0.0
    bands[14] = 1.0
    return bands


def accuracy(truth, faces) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Faces ≥ 10 m² matched within 3° tilt, 5° azimuth and 5 % area (issue 4's criterion)."""
    by_b = {b: g for b, g in faces.groupby("building_id")}
    ok = n = 0
    for t in truth.itertuples(index=False):
        if t.area_m2 < 10:
            continue
        n += 1
        cand = by_b.get(t.cleabs)
        if cand is None:
            continue
        for f in cand.itertuples(index=False):
            if f.geometry.intersection(t.geometry).area < 0.5 * t.geometry.area:
                continue
            da = 0.0 if (t.tilt_deg < config.FLAT_ROOF_MAX_TILT_DEG or math.isnan(t.azimuth_deg)) else abs(
                (f.azimuth_deg - t.azimuth_deg + 180) % 360 - 180)
            if abs(f.tilt_deg - t.tilt_deg) <= 3 and da <= 5 and abs(f.area_m2 - t.area_m2) <= 0.05 * t.area_m2:
                ok += 1
            break
    return ok, n


_CHILD = """
import sys, time
from pathlib import Path
from geo.roofs.build import run_roofs
from geo.io.rasters import find_lidar_tiles
from geo.pipeline import find_weather_file
d, irr, out, tile = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4])
roof = d / "rooftops"
t = time.perf_counter()
r = run_roofs(irradiance=irr, dsm=find_lidar_tiles(roof / "lidar", "MNS"), out=out,
              footprints=roof / "batiment.gpkg", addresses=sorted(roof.glob("adresses-*.csv"))[0],
              communes=d / "parks" / "communes.geojson", epci_table=d / "parks" / "pma-communes-epci.csv",
              weather=find_weather_file(roof), tile_m=tile)
print(f"{r.n_buildings} {r.n_faces} {time.perf_counter() - t:.1f}")
"""


def _child_run(args: list[str]) -> tuple[str, float]:
    """Run a Python child; its stdout and peak RSS [MiB]."""
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"child failed: {args[:3]}")
    return out.strip(), usage.ru_maxrss / 1024.0  # ru_maxrss is in KiB on Linux


def rss_main(workdir: Path) -> None:
    """Peak RSS of the roofs stage on the small and default samples (1 km groups vs one group)."""
    from geo.pipeline import build
    from geo.products import BuildFolder
    from geo.sample import generate_sample

    _, base_rss = _child_run(["-c", "import geo.roofs.build, geo.solar.build, geo.io.rasters"])
    print(f"baseline (python + imports): {base_rss:.0f} MiB")
    for name, small in (("small 0.25 km²", True), ("default 2 km²", False)):
        d = workdir / ("small" if small else "default")
        if not (d / "rooftops").exists():
            generate_sample(d, small=small, seed=0)
        built = workdir / f"built-{d.name}"
        if not BuildFolder(built).irradiance.exists():
            rep = build(d, built, only=["irradiance"])
            if not rep.ok:
                raise SystemExit("\n".join(rep.lines()))
        for label, tile in (("1 km groups", 1000.0), ("one group", 1e7)):
            out, rss = _child_run(["-c", _CHILD, str(d), str(BuildFolder(built).irradiance),
                                   str(workdir / f"r-{d.name}-{tile:g}.gpkg"), str(tile)])
            nb, nf, sec = out.split()[-3:]
            print(f"{name:15s} {label:12s}: {nb} buildings, {nf} faces, {sec} s, peak RSS {rss:.0f} MiB "
                  f"(+{rss - base_rss:.0f} over the baseline)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=float, default=1000.0, help="tile side [m]")
    ap.add_argument("--spacing", type=float, default=28.0, help="house spacing [m]")
    ap.add_argument("--noise", type=float, default=0.03, help="DSM noise σ [m]")
    ap.add_argument("--rss", action="store_true", help="peak RSS of the roofs stage on the samples")
    ap.add_argument("--workdir", type=Path, default=None, help="where --rss keeps the samples (default: temporary)")
    args = ap.parse_args()
    if args.rss:
        if args.workdir is not None:
            rss_main(args.workdir)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                rss_main(Path(tmp))
        return
    t = time.perf_counter()
    scene = make_scene(size_m=args.size, spacing_m=args.spacing, noise_m=args.noise, seed=3)
    print(f"scene: {len(scene.footprints)} buildings, {len(scene.truth)} true faces, "
          f"{scene.dsm.shape[0]}x{scene.dsm.shape[1]} px, made in {time.perf_counter() - t:.1f} s")
    site = SiteModel(default_weather())
    bands = synthetic_irradiance(scene.dsm, 0.5, site)
    # warm-up of the numba kernels (compiled once per machine, cached)
    small = make_scene(size_m=60.0, seed=1)
    segment_roofs(small.dsm, small.transform, small.footprints, crs=small.crs)

    t0 = time.perf_counter()
    seg = segment_roofs(scene.dsm, scene.transform, scene.footprints, crs=scene.crs)
    t1 = time.perf_counter()
    faces, profiles, summary = score_faces(seg.faces, seg.sample_pixels, bands, site)
    t2 = time.perf_counter()
    buildings = building_table(seg.buildings, faces, profiles, temp_air_c=site.monthly_temp_air_c,
                               weather_source="bench")
    t3 = time.perf_counter()
    ok, n = accuracy(scene.truth, seg.faces)
    print(f"segmentation: {t1 - t0:.1f} s  ({len(seg.faces)} faces)")
    print(f"scoring (irradiation, modules, production, class): {t2 - t1:.1f} s")
    print(f"buildings (reco economics, solar hot water): {t3 - t2:.1f} s")
    print(f"TOTAL segmentation + scoring: {t2 - t0:.1f} s; with buildings: {t3 - t0:.1f} s (target < 60 s)")
    print(f"accuracy: {ok}/{n} true faces >= 10 m² matched (tilt 3°, azimuth 5°, area 5 %) = {ok / max(n, 1):.1%}")
    suit = faces["suitability"] != config.SUITABILITY_UNSUITABLE
    print(f"totals: {int(suit.sum())} suitable faces, {faces.loc[suit, 'kwp'].sum():.0f} kWp, "
          f"{np.nansum(faces.loc[suit, 'production_kwh_yr']) / 1e3:.0f} MWh/yr; "
          f"median reco {np.nanmedian(buildings['reco_kwp']):.1f} kWp; optimum {summary.optimum_tilt_deg:.0f}°")


if __name__ == "__main__":
    main()
