"""Benchmark: service areas (300 m and 10 min) of 50 parks on a synthetic grid of ≥ 200,000 edges.

Runs the production code path (:func:`geo.parks.access.park_service_areas`: one limited
multi-source Dijkstra per park with scipy, exact partial edges, buffered polygons, areal
population of 200 m cells) on one core and prints the time and the peak memory.

    python benchmarks/bench_parks.py [--side 320] [--spacing 50] [--parks 50]

Target (issue 5): < 30 s on one core for 50 parks on ≥ 200,000 edges.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402

from geo.parks.access import park_service_areas, union_service_area  # noqa: E402
from geo.parks.network import Network  # noqa: E402

CRS = "EPSG:2154"


def grid_network(side: int, spacing_m: float) -> Network:
    """A square street grid of ``side`` × ``side`` nodes, ``spacing_m`` [m] apart (2·side·(side−1) edges)."""
    ij = np.arange(side * side).reshape(side, side)
    xs, ys = np.meshgrid(np.arange(side) * spacing_m, np.arange(side) * spacing_m)
    nodes = np.column_stack([xs.ravel(), ys.ravel()]) + np.array([680_000.0, 7_030_000.0])
    u = np.concatenate([ij[:, :-1].ravel(), ij[:-1, :].ravel()])
    v = np.concatenate([ij[:, 1:].ravel(), ij[1:, :].ravel()])
    geoms = shapely.linestrings(np.stack([nodes[u], nodes[v]], axis=1))
    edges = gpd.GeoDataFrame({
        "u": u, "v": v, "length_m": shapely.length(geoms), "is_greenway": False, "highway": "residential",
        "kind": "street", "greenway_id": None,
    }, geometry=geoms, crs=CRS)
    return Network(nodes, edges, CRS)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side", type=int, default=320, help="nodes per side (320 -> 204,160 edges)")
    ap.add_argument("--spacing", type=float, default=50.0, help="street spacing [m]")
    ap.add_argument("--parks", type=int, default=50)
    args = ap.parse_args()

    tracemalloc.start()
    t0 = time.perf_counter()
    net = grid_network(args.side, args.spacing)
    t_net = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    # Parks: one grid block each (spacing x spacing), entrances at its 4 corners.
    blocks = rng.choice((args.side - 1) ** 2, size=args.parks, replace=False)
    bi, bj = np.divmod(blocks, args.side - 1)
    corners = [bi * args.side + bj, bi * args.side + bj + 1, (bi + 1) * args.side + bj, (bi + 1) * args.side + bj + 1]
    x0 = net.nodes[corners[0]]
    parks = gpd.GeoDataFrame({"park_id": np.arange(1, args.parks + 1), "nom": [f"P{k}" for k in range(args.parks)]},
                             geometry=shapely.box(x0[:, 0], x0[:, 1], x0[:, 0] + args.spacing, x0[:, 1] + args.spacing),
                             crs=CRS)
    parks["area_ha"] = parks.geometry.area / 1e4
    entrances = gpd.GeoDataFrame({
        "park_id": np.repeat(parks["park_id"].to_numpy(), 4),
        "node": np.column_stack(corners).ravel(),
    }, geometry=shapely.points(net.nodes[np.column_stack(corners).ravel()]), crs=CRS)
    # 200 m population cells over the grid
    extent = (args.side - 1) * args.spacing
    cx = np.arange(0, extent, 200.0) + 680_000.0
    cy = np.arange(0, extent, 200.0) + 7_030_000.0
    gx, gy = np.meshgrid(cx, cy)
    cells = gpd.GeoDataFrame({"population": rng.integers(0, 300, gx.size).astype(float)},
                             geometry=shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + 200, gy.ravel() + 200), crs=CRS)
    setup_peak = tracemalloc.get_traced_memory()[1]

    net.csr()  # build the sparse matrix once (part of loading a model)
    t1 = time.perf_counter()
    sa = park_service_areas(net, parks, entrances, cells)
    t_sa = time.perf_counter() - t1
    t2 = time.perf_counter()
    union = union_service_area(net, entrances["node"].to_numpy(), 800.0)
    t_union = time.perf_counter() - t2
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    print(f"network: {net.n_nodes:,} nodes, {len(net.edges):,} edges ({args.spacing:g} m grid), built in {t_net:.1f} s")
    print(f"cells: {len(cells):,} of 200 m; parks: {args.parks}, {len(entrances)} entrances")
    print(f"service areas (300 m + 10 min) with areal population: {len(sa)} polygons in {t_sa:.2f} s "
          f"({1000 * t_sa / args.parks:.0f} ms per park)")
    print(f"union of all 10-minute areas (one multi-source search): {t_union:.2f} s, {union.area / 1e6:.1f} km²")
    print(f"people within 10 min of park 1: {sa[(sa.park_id == 1) & (sa.label == '10 min')].population.iloc[0]:.0f}")
    print(f"peak Python memory: {peak / 2**20:.0f} MiB (setup {setup_peak / 2**20:.0f} MiB); "
          f"max RSS {rss_mb:.0f} MiB")
    print("target < 30 s on one core:", "OK" if t_sa < 30 else "MISSED")


if __name__ == "__main__":
    main()
