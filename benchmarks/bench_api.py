"""Load test of the Layer API on loopback: roof lookups and vector tiles at N concurrent connections.

Runs ``artois serve`` (uvicorn) in a subprocess on 127.0.0.1 and drives it with an async httpx client,
bounded in request count and time. Prints p50/p95/p99 latencies, throughput and errors.

    python benchmarks/bench_api.py --data build/            # a built folder (artois build)
    python benchmarks/bench_api.py                          # the small sample, generated and built first
    python benchmarks/bench_api.py --synthetic              # the API tests' synthetic build (fast)

Roof lookups hit points inside random buildings (no response cache: every request queries the
index); vector tiles cycle over every z16–z18 tile covering the roof faces (the first request of a
tile encodes it, later ones come from the in-memory tile cache: "cold" and "warm" are reported apart).
The async httpx client costs more CPU per request than the server on a 2-core machine, so when ``wrk``
is installed (Debian package ``wrk``) the same URLs are also replayed with it (p50/p90/p99).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import morecantile
import numpy as np
import shapely
from pyproj import Transformer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from geo.products import BuildFolder, rooftops  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare_data(args: argparse.Namespace, tmp: Path) -> Path:
    if args.data:
        return Path(args.data)
    if args.synthetic:
        sys.path.insert(0, str(REPO / "tests"))
        import api_fixtures

        return api_fixtures.make_build(tmp / "build")
    from geo.pipeline import build
    from geo.sample import generate_sample

    generate_sample(tmp / "data", small=True, seed=0)
    report = build(tmp / "data", tmp / "build")
    print("\n".join(report.lines()))
    return tmp / "build"


def targets(data: Path, n_points: int, seed: int) -> tuple[list[tuple[float, float]], list[str]]:
    """Random points inside buildings (WGS84) and the z16–z18 roof-face tile URLs."""
    rng = np.random.default_rng(seed)
    bld = rooftops.read_layer(BuildFolder(data).rooftops, rooftops.BUILDINGS)
    to_wgs = Transformer.from_crs(bld.crs, "EPSG:4326", always_xy=True)
    pts = shapely.get_coordinates(shapely.point_on_surface(bld.geometry.values))
    pick = rng.integers(0, len(pts), n_points)
    lon, lat = to_wgs.transform(pts[pick, 0], pts[pick, 1])
    xmin, ymin, xmax, ymax = to_wgs.transform_bounds(*bld.total_bounds)
    tms = morecantile.tms.get("WebMercatorQuad")
    urls = [f"/tiles/{rooftops.ROOF_FACES.name}/{t.z}/{t.x}/{t.y}.pbf" for z in (16, 17, 18)
            for t in tms.tiles(xmin, ymin, xmax, ymax, [z])]
    return list(zip(lon.tolist(), lat.tolist(), strict=True)), urls


async def run_load(base: str, urls: list[str], *, concurrency: int, total: int, max_seconds: float) -> dict:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    queue = list(urls[:total])
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    t_end = time.perf_counter() + max_seconds

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0) as client:
        async def worker() -> None:
            nonlocal errors
            while queue and time.perf_counter() < t_end:
                url = queue.pop()
                t0 = time.perf_counter()
                try:
                    r = await client.get(url, headers={"Accept-Encoding": "gzip"})
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                    if r.status_code >= 500:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    lat = np.array(latencies) * 1000
    return {"n": len(lat), "wall_s": wall, "rps": len(lat) / wall if wall else 0.0, "errors": errors,
            "statuses": statuses, "p50": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
            "p95": float(np.percentile(lat, 95)) if len(lat) else float("nan"),
            "p99": float(np.percentile(lat, 99)) if len(lat) else float("nan")}


def run_wrk(base: str, urls: list[str], *, concurrency: int, seconds: float, tmp: Path) -> dict:
    """Same load with wrk (a C client using far less CPU than httpx), cycling over ``urls``."""
    lua = tmp / "paths.lua"
    paths = ",".join('"' + u.replace('"', "") + '"' for u in urls)
    lua.write_text(
        f"local paths = {{{paths}}}\nlocal i = 0\n"
        "request = function()\n  i = (i % #paths) + 1\n"
        "  return wrk.format('GET', paths[i], {['Accept-Encoding'] = 'gzip'})\nend\n"
    )
    out = subprocess.run(
        ["wrk", "-t1", f"-c{concurrency}", f"-d{int(seconds)}s", "--latency", "-s", str(lua), base],
        capture_output=True, text=True, timeout=seconds + 30, check=True,
    ).stdout
    res: dict = {"n": 0, "rps": 0.0, "errors": 0, "statuses": {}, "p50": float("nan"), "p95": float("nan"),
                 "p99": float("nan")}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("50%", "90%", "99%"):
            v = parts[1]
            ms = float(v[:-2]) if v.endswith("ms") else float(v[:-2]) / 1000 if v.endswith("us") else float(v[:-1]) * 1000
            res[{"50%": "p50", "90%": "p90", "99%": "p99"}[parts[0]]] = ms
        if "requests in" in line:
            res["n"] = int(parts[0])
        if line.startswith("Requests/sec"):
            res["rps"] = float(parts[1])
        if "Non-2xx" in line or "Socket errors" in line:
            res["errors"] += sum(int(x.strip(",")) for x in parts if x.strip(",").isdigit())
    res["p95"] = res.pop("p90")  # wrk prints p90, not p95: shown in the p95 column, marked
    res["statuses"] = "wrk: p95 column is p90"
    return res


def show(name: str, r: dict) -> None:
    print(f"{name:<28} n={r['n']:>5}  {r['rps']:7.0f} req/s  p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms  "
          f"p99 {r['p99']:6.1f} ms  errors {r['errors']}  statuses {r['statuses']}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", help="built folder (default: build the small sample in a temp folder)")
    ap.add_argument("--synthetic", action="store_true", help="use the API tests' synthetic build")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--requests", type=int, default=3000, help="requests per scenario (bounded)")
    ap.add_argument("--max-seconds", type=float, default=60.0, help="time limit per scenario")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--wrk-seconds", type=float, default=10.0, help="also load with wrk (if installed) this long")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="artois-bench-api-") as tmp_name:
        data = prepare_data(args, Path(tmp_name))
        points, tile_urls = targets(data, args.requests, seed=0)
        port = free_port()
        cmd = [sys.executable, "-c",
               "import sys; from pathlib import Path; from api.serve import serve; "
               f"sys.exit(serve(data_dir=Path({str(data)!r}), host='127.0.0.1', port={port}, "
               f"workers={args.workers}))"]
        server = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/ogc", timeout=1.0).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            else:
                print("server did not start", file=sys.stderr)
                return 1
            print(f"data: {data}  ({len(points)} lookup points, {len(tile_urls)} distinct z16-z18 tiles)  "
                  f"concurrency {args.concurrency}, uvicorn workers {args.workers}, cores {os.cpu_count()}")
            roof_urls = [f"/api/roof?lon={lon:.7f}&lat={lat:.7f}" for lon, lat in points]
            asyncio.run(run_load(base, roof_urls[:200], concurrency=args.concurrency, total=200, max_seconds=10))
            show("roof lookup", asyncio.run(run_load(base, roof_urls, concurrency=args.concurrency,
                                                     total=args.requests, max_seconds=args.max_seconds)))
            show("vector tile (cold, 1st hit)", asyncio.run(run_load(
                base, tile_urls, concurrency=args.concurrency, total=len(tile_urls), max_seconds=args.max_seconds)))
            cycled = [tile_urls[i % len(tile_urls)] for i in range(args.requests)]
            show("vector tile (warm)", asyncio.run(run_load(base, cycled, concurrency=args.concurrency,
                                                            total=args.requests, max_seconds=args.max_seconds)))
            if shutil.which("wrk") and args.wrk_seconds > 0:
                tmp = Path(tmp_name)
                show("roof lookup [wrk]", run_wrk(base, roof_urls, concurrency=args.concurrency,
                                                  seconds=args.wrk_seconds, tmp=tmp))
                show("vector tile warm [wrk]", run_wrk(base, tile_urls, concurrency=args.concurrency,
                                                       seconds=args.wrk_seconds, tmp=tmp))
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
