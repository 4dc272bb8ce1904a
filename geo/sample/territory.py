"""A sample territory of W × H whole 1 km LiDAR tiles (``artois sample --size WxH``).

Each 1 km tile gets a kind, chosen by its distance from the centre of the territory so that any
size mixes them like the Gohelle does: a dense town centre in the middle, miners' cités
(corons) around it, an industrial zone with big car parks, a slag heap (terril) in its park,
suburbs of semi-detached and detached houses, and open fields with a few farms further out.
Building densities (BD TOPO counts every terraced house) are about 1,500–2,000 per km² in
corons and centres, 500–700 in suburbs, 30–80 in industrial zones and 10–30 in fields; the
Pôle averages ≈ 360 per km² (400,000 buildings on 1,100 km²).

Tiles are drawn with the generators of :mod:`geo.sample.layout` and :mod:`geo.sample.scene`,
one :class:`~geo.sample.scene.SceneBuilder` per tile (buildings keep 15 m inside their tile,
so the per-tile overlap checks are the territory's). Roads run along the tile edges; one
greenway and its linear park run north–south across every tile row; a BHNS line crosses the
territory from west to east. Each tile is rasterised on its own (pixel centres of the same
grid, so the mosaic is seamless) and the tables are those of the default sample.

Same ``(width, height, seed)`` → byte-identical files.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from shapely.geometry import LineString, box

from geo import config
from geo.io.rasters import lidar_tile_name, write_geotiff
from geo.sample import defects
from geo.sample.geometry import Building, Roof, Terril, Tree
from geo.sample.layout import _terrain_base, rows_along
from geo.sample.raster import rasterise
from geo.sample.scene import Greenway, Park, Scene, SceneBuilder, Stop, Way, node_ways

Bounds = tuple[float, float, float, float]

#: South-west corner of a sized territory [m], Lambert-93 (south-west of Lens).
TERRITORY_ORIGIN: tuple[float, float] = (682_000.0, 7_034_000.0)
#: Buildings keep this far inside their 1 km tile [m] (roads run on the tile edges).
TILE_MARGIN_M = 15.0
#: Kinds of tile, from the centre of the territory outwards (then "fields" and "suburb" alternate).
KIND_ORDER: tuple[str, ...] = (
    "centre", "coron", "industrial", "terril", "suburb", "fields", "coron", "suburb", "fields",
    "industrial", "fields", "suburb", "terril", "fields", "coron",
)
TILE = config.LIDAR_TILE_SIZE_M


def tile_kinds(width: int, height: int, order: Sequence[str] = KIND_ORDER) -> dict[tuple[int, int], str]:
    """Kind of each tile (column i from the west, row j from the south), from the centre outwards."""
    ci, cj = (width - 1) / 2, (height - 1) / 2
    by_distance = sorted(((i, j) for i in range(width) for j in range(height)),
                         key=lambda t: (math.hypot(t[0] - ci, t[1] - cj), t[1], t[0]))
    kinds = {}
    for n, ij in enumerate(by_distance):
        kinds[ij] = order[n] if n < len(order) else ("fields", "suburb")[n % 2]
    return kinds


# ---------------------------------------------------------------------------
# One generator per kind of tile; (ox, oy) is the tile's south-west corner
# ---------------------------------------------------------------------------


def _streets(b: SceneBuilder, ox: float, oy: float, ys: list[float], name: str, highway: str = "residential") -> None:
    for k, y in enumerate(ys):
        b.way(highway, f"{name} {k + 1}", [(ox, oy + y), (ox + TILE, oy + y)])


def _coron(b: SceneBuilder, ox: float, oy: float, tag: str) -> None:
    """A miners' cité: terraced rows along east–west streets 62 m apart, a school, a square."""
    ys = [60.0 + 62.0 * k for k in range(6)]
    _streets(b, ox, oy, ys, f"Rue de la cité {tag}")
    b.way("footway", f"Sente {tag}", [(ox + 500, oy + ys[0]), (ox + 500, oy + ys[-1])])
    avoid = [(470.0, 492.0)]
    for k, y in enumerate(ys):
        for side in (-10.5, 10.5):
            if (k == 0 and side < 0) or (k == len(ys) - 1 and side > 0 and y + 30 > 560):
                continue
            rows_along(b, (ox + 20, oy + y), 90.0, 0, 960, side, street=f"Rue de la cité {tag} {k + 1}",
                       first_number=1 if side < 0 else 2, avoid=avoid, n_range=(5, 8))
    for y0 in ys[:-1]:
        b.annexes_in(box(ox + 20, oy + y0 + 17, ox + 980, oy + y0 + 45), 12, az_deg=90.0)
        b.trees_in(box(ox + 20, oy + y0 + 17, ox + 980, oy + y0 + 45), 10, radius=(2.0, 3.5), height=(5.0, 9.0))
    # north: semi-detached pairs on two streets, a school and its square
    _streets(b, ox, oy, [620.0, 700.0], f"Rue des Jardins {tag}")
    for y, side in ((620.0, 12.0), (700.0, -12.0), (700.0, 12.0)):
        rows_along(b, (ox + 20, oy + y), 90.0, 0, 560, side, street=f"Rue des Jardins {tag}", first_number=1,
                   semi=True, gap=12.0)
    b.flat_building(ox + 800, oy + 810, 90.0, 80.0, 50.0, eave_h=9.5, usage="Commercial et services",
                    category="school", floors=2, n_hvac=3)
    square = b.park(f"Square de la cité {tag}", f"Cité {tag}", [(ox + 60, oy + 760), (ox + 560, oy + 760),
                                                                 (ox + 560, oy + 960), (ox + 60, oy + 960)])
    b.trees_in(square, 60)


def _centre(b: SceneBuilder, ox: float, oy: float, tag: str) -> None:
    """A town centre: deep three-storey terraces, shops, a church, a town hall on a square."""
    ys = [55.0 + 64.0 * k for k in range(6)]
    _streets(b, ox, oy, ys, f"Rue du Centre {tag}", "tertiary")
    b.way("residential", f"Rue de l'Église {tag}", [(ox + 700, oy + ys[0]), (ox + 700, oy + ys[-1])])
    avoid = [(665.0, 695.0)]
    for k, y in enumerate(ys):
        for side in (-12.0, 12.0):
            if k == 0 and side < 0:
                continue
            rows_along(b, (ox + 20, oy + y), 90.0, 0, 960, side, street=f"Rue du Centre {tag} {k + 1}",
                       first_number=1 if side < 0 else 2, avoid=avoid, n_range=(4, 7), house_w=5.5,
                       gap=10.0)
    for k in range(3):
        b.flat_building(ox + 200 + 260 * k, oy + 570, 90.0, 60.0, 24.0, eave_h=8.0,
                        usage="Commercial et services", category="shop", floors=2, n_hvac=3)
    b.gable_building(ox + 300, oy + 700, 90.0, 48.0, 16.0, eave_h=11.0, tilt_deg=50.0, usage="Religieux",
                     category="church")
    b.flat_building(ox + 700, oy + 700, 90.0, 50.0, 30.0, eave_h=12.0, usage="Commercial et services",
                    category="town_hall", floors=3, n_hvac=2)
    place = b.park(f"Place de l'Hôtel de Ville {tag}", f"Centre {tag}",
                   [(ox + 430, oy + 640), (ox + 620, oy + 640), (ox + 620, oy + 760), (ox + 430, oy + 760)])
    b.trees_in(place, 25, radius=(2.5, 4.0), height=(8.0, 12.0))
    _streets(b, ox, oy, [800.0, 880.0], f"Rue du Marché {tag}")
    for y, side in ((800.0, 12.0), (880.0, -12.0), (880.0, 12.0)):
        rows_along(b, (ox + 20, oy + y), 90.0, 0, 960, side, street=f"Rue du Marché {tag}", first_number=1,
                   n_range=(4, 7), house_w=5.5, gap=10.0)


def _suburb(b: SceneBuilder, ox: float, oy: float, tag: str) -> None:
    """A suburb: semi-detached pairs and detached houses on 70 m streets, gardens with sheds and trees."""
    ys = [60.0 + 100.0 * k for k in range(9)]
    _streets(b, ox, oy, ys, f"Allée {tag}")
    for k, y in enumerate(ys):
        for side in (-12.0, 12.0):
            if (k == 0 and side < 0) or (k == len(ys) - 1 and side > 0):
                continue
            rows_along(b, (ox + 20, oy + y), 90.0, 0, 960, side, street=f"Allée {tag} {k + 1}",
                       first_number=1 if side < 0 else 2, semi=True, gap=float(b.rng.uniform(22.0, 36.0)))
        if k < len(ys) - 1:
            garden = box(ox + 20, oy + y + 19, ox + 980, oy + y + 81)
            b.annexes_in(garden, 8, az_deg=90.0)
            b.trees_in(garden, 25, radius=(2.0, 4.0), height=(5.0, 12.0))


def _fields(b: SceneBuilder, ox: float, oy: float, tag: str) -> None:
    """Open fields: a few farms (house, barns, sheds), hedgerows along the lanes."""
    b.way("unclassified", f"Chemin rural {tag}", [(ox, oy + 500), (ox + TILE, oy + 500)])
    for k in range(int(b.rng.integers(2, 5))):
        cx = 150.0 + 230.0 * k + float(b.rng.uniform(-30, 30))
        cy = 500.0 + (70.0 if k % 2 else -70.0)
        b.house_row(ox + cx, oy + cy, 90.0, 1, house_w=18.0, depth=10.0, tilt_deg=40.0, eave_h=6.0,
                    category="farm", street=f"Chemin rural {tag}", first_number=2 * k + 1,
                    front=-1 if k % 2 else 1)
        b.shed_building(ox + cx, oy + cy + (40.0 if k % 2 else -40.0), 90.0, 40.0, 20.0, eave_h=6.0,
                        tilt_deg=12.0, usage="Agricole", category="shed")
        b.annexes_in(box(ox + cx - 60, oy + cy - 25, ox + cx + 60, oy + cy + 25), 3, az_deg=90.0)
    b.trees_in(LineString([(ox + 20, oy + 510), (ox + 980, oy + 510)]).buffer(3.0), 50, radius=(2.0, 4.0))
    b.trees_in(LineString([(ox + 20, oy + 250), (ox + 980, oy + 250)]).buffer(3.0), 40, radius=(2.0, 4.0))


def _industrial(b: SceneBuilder, ox: float, oy: float, tag: str) -> None:
    """An industrial zone: warehouses, sheds with skylights, offices; open car parks between them."""
    _streets(b, ox, oy, [250.0, 750.0], f"Rue de l'Industrie {tag}", "tertiary")
    for k in range(4):
        x = 130.0 + 240.0 * k
        b.shed_building(ox + x, oy + 130, 90.0, 150.0, 80.0, eave_h=9.0, tilt_deg=6.0, n_skylights=5)
        b.flat_building(ox + x, oy + 370, 90.0, 120.0, 70.0, eave_h=10.0, usage="Industriel",
                        category="warehouse", floors=1, n_hvac=4)
        # the car park (open asphalt) is between 420 and 650 m
        b.flat_building(ox + x - 40, oy + 690, 90.0, 60.0, 30.0, eave_h=7.0, usage="Commercial et services",
                        category="shop", floors=2, n_hvac=2)
        b.shed_building(ox + x, oy + 860, 0.0, 90.0, 60.0, eave_h=8.0, tilt_deg=8.0, n_skylights=3)
    b.trees_in(box(ox + 20, oy + 640, ox + 980, oy + 655), 20, radius=(2.0, 3.0), height=(6.0, 9.0))


def _terril(b: SceneBuilder, ox: float, oy: float, tag: str) -> None:
    """A slag heap in its park (the heap itself is in the terrain), a cité on its north side."""
    park = b.park(f"Parc du terril {tag}", f"Terril {tag}",
                  [(ox + 40, oy + 40), (ox + 960, oy + 40), (ox + 960, oy + 620), (ox + 40, oy + 620)])
    t = b.terrain.terrils[-1]
    for terril in b.terrain.terrils:
        if ox <= terril.x < ox + TILE and oy <= terril.y < oy + TILE:
            t = terril
    b.way("path", f"Sentier du terril {tag}", [(ox + 500, oy + 620), (t.x, t.y - 30.0), (t.x, t.y)])
    b.trees_in(park.difference(t.footprint().buffer(-40)), 200)
    ys = [680.0, 760.0, 840.0, 920.0]
    _streets(b, ox, oy, ys, f"Rue du terril {tag}")
    for k, y in enumerate(ys):
        for side in (-10.5, 10.5):
            if k == len(ys) - 1 and side > 0:
                continue
            rows_along(b, (ox + 20, oy + y), 90.0, 0, 960, side, street=f"Rue du terril {tag} {k + 1}",
                       first_number=1 if side < 0 else 2, n_range=(5, 8))


KIND_BUILDERS: dict[str, Callable[[SceneBuilder, float, float, str], None]] = {
    "centre": _centre, "coron": _coron, "suburb": _suburb, "fields": _fields, "industrial": _industrial,
    "terril": _terril,
}


# ---------------------------------------------------------------------------
# The territory
# ---------------------------------------------------------------------------


def territory_bounds(width: int, height: int) -> Bounds:
    x0, y0 = TERRITORY_ORIGIN
    return (x0, y0, x0 + width * TILE, y0 + height * TILE)


def build_territory_scene(
    width: int, height: int, *, seed: int = 0, kinds: Sequence[str] = KIND_ORDER
) -> Scene:
    """The scene of a ``width`` × ``height`` km territory (see the module docstring).

    ``kinds``: kinds of tile from the centre outwards (default :data:`KIND_ORDER`; tests use
    sparse ones to stay fast).
    """
    unknown = set(kinds) - set(KIND_BUILDERS)
    if unknown:
        raise ValueError(f"unknown kinds of tile {sorted(unknown)}; known: {sorted(KIND_BUILDERS)}")
    if width < 1 or height < 1:
        raise ValueError(f"a territory needs at least one tile each way, got {width}x{height}")
    bounds = territory_bounds(width, height)
    xmin, ymin, xmax, ymax = bounds
    tiles = tile_kinds(width, height, kinds)
    rng = np.random.default_rng([seed, 11])
    terrils = []
    for (i, j), kind in sorted(tiles.items()):
        if kind == "terril":
            ox, oy = xmin + i * TILE, ymin + j * TILE
            h = float(round(rng.uniform(60.0, 110.0), 1))
            terrils.append(Terril(f"Terril {i}-{j}", ox + float(rng.uniform(380, 620)), oy + 420.0,
                                  height_m=h, top_radius_m=10.0, slope_deg=33.0))
    terrain = replace(_terrain_base(), terrils=tuple(terrils))
    # Roads on the tile edges; a greenway (old railway) north–south with its linear park.
    green_x = xmin + TILE * (width // 2) if width > 1 else None
    edge_ways = [Way("secondary" if j == height // 2 else "residential", f"Boulevard {j}",
                     ((xmin, ymin + j * TILE), (xmax, ymin + j * TILE))) for j in range(height + 1)]
    edge_ways += [Way("tertiary", f"Avenue {i}", ((xmin + i * TILE, ymin), (xmin + i * TILE, ymax)))
                  for i in range(width + 1) if xmin + i * TILE != green_x]
    greenways: list[Greenway] = []
    extra_ways: list[Way] = []
    parks: list[Park] = []
    if green_x is not None:
        coords = ((green_x, ymin), (green_x, ymax))
        greenways.append(Greenway("Voie verte de la Gohelle", "voie_verte", coords))
        extra_ways.append(Way("cycleway", "Voie verte de la Gohelle", coords))
    stops = [Stop(f"Arrêt {k}", "B1", xmin + 250.0 + 500.0 * k, ymin + (height // 2) * TILE - 3.0)
             for k in range(2 * width)]
    roofs: list[Roof] = []
    buildings: list[Building] = []
    trees: list[Tree] = []
    ways: list[Way] = []
    for (i, j), kind in sorted(tiles.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        ox, oy = xmin + i * TILE, ymin + j * TILE
        tile_box = (ox + TILE_MARGIN_M, oy + TILE_MARGIN_M, ox + TILE - TILE_MARGIN_M, oy + TILE - TILE_MARGIN_M)
        b = SceneBuilder(tile_box, terrain, np.random.default_rng([seed, 11, i, j]))
        near = box(ox - 1, oy - 1, ox + TILE + 1, oy + TILE + 1)
        b.ways = [w for w in edge_ways + extra_ways if w.line().intersects(near)]
        n_shared = len(b.ways)
        KIND_BUILDERS[kind](b, ox, oy, f"{i}-{j}")
        b.build(())  # checks roads against buildings
        roofs += b.roofs
        buildings += b.buildings
        trees += b.trees
        parks += b.parks
        ways += b.ways[n_shared:]
    if green_x is not None:
        # The linear park along the greenway: one park across every tile edge, planted by its own builder
        # (it lies in the margins of the tiles on either side).
        half = TILE_MARGIN_M - 1.0
        corridor = SceneBuilder((green_x - half, ymin, green_x + half, ymax), terrain,
                                np.random.default_rng([seed, 11, 9999]))
        corridor.ways = list(edge_ways + extra_ways)
        strip = corridor.park("Coulée verte de la Gohelle", "Coulée verte de la Gohelle",
                              [(green_x - half, ymin), (green_x + half, ymin), (green_x + half, ymax),
                               (green_x - half, ymax)])
        corridor.trees_in(strip, 40 * height, radius=(2.0, 3.5), height=(6.0, 12.0))
        trees += corridor.trees
        parks += corridor.parks
    for k, bld in enumerate(buildings):
        bld.index = k
    boundary_x = xmin + width * TILE / 2 + 137.0
    boundary = ((boundary_x - 80.0, ymin - 1500.0), (boundary_x, (ymin + ymax) / 2),
                (boundary_x + 60.0, ymax + 1500.0))
    all_ways = node_ways(edge_ways + extra_ways + ways)
    return Scene(bounds, terrain, roofs, buildings, trees, parks, greenways, all_ways, stops, boundary)


def _tile_scene(scene: Scene, tb: Bounds, tree_boxes: np.ndarray, roof_boxes: np.ndarray) -> Scene:
    """``scene`` with only the trees and roofs that reach the tile ``tb`` (one metre of margin), in
    their order: the rasteriser gives the same pixels as with the whole scene, without visiting
    every object of the territory for every tile."""
    x0, y0, x1, y1 = tb[0] - 1.0, tb[1] - 1.0, tb[2] + 1.0, tb[3] + 1.0

    def near(boxes: np.ndarray) -> np.ndarray:
        if len(boxes) == 0:
            return np.zeros(0, dtype=np.int64)
        hit = (boxes[:, 2] >= x0) & (boxes[:, 0] <= x1) & (boxes[:, 3] >= y0) & (boxes[:, 1] <= y1)
        return np.flatnonzero(hit)

    return replace(scene, trees=[scene.trees[k] for k in near(tree_boxes)],
                   roofs=[scene.roofs[k] for k in near(roof_boxes)])


@dataclass(frozen=True)
class _TileJob:
    """What every tile of :func:`write_territory_tiles` needs (shared with forked workers)."""

    scene: Scene
    lidar_dir: Path
    defects_seed: list[int] | None
    tree_boxes: np.ndarray  # (xmin, ymin, xmax, ymax) of every tree's crown [m]
    roof_boxes: np.ndarray  # (xmin, ymin, xmax, ymax) of every roof's outline [m]


#: The job of the running :func:`write_territory_tiles`, inherited by its forked workers.
_JOB: _TileJob | None = None


def _write_tile(x: float, y: float) -> list[Path]:
    """Rasterise, damage and write the tile whose south-west corner is (x, y) [m]; its two paths."""
    job = _JOB
    if job is None:
        raise RuntimeError("no territory tile job is running")
    tb = (x, y, x + TILE, y + TILE)
    dtm, dsm, transform = rasterise(_tile_scene(job.scene, tb, job.tree_boxes, job.roof_boxes), tb,
                                    config.LIDAR_PIXEL_SIZE_M)
    if job.defects_seed is not None:
        dsm = defects.damage_rasters(dsm, dtm, transform, job.scene, np.random.default_rng(job.defects_seed))
    paths = []
    for kind, arr in (("MNS", dsm), ("MNT", dtm)):
        path = job.lidar_dir / lidar_tile_name(int(math.floor(x / 1000)), int(math.ceil((y + TILE) / 1000)), kind)
        write_geotiff(path, arr, transform=transform, crs=config.WORKING_CRS, nodata=config.LIDAR_NODATA)
        paths.append(path)
    return paths


def default_workers(n_tiles: int) -> int:
    """Processes for ``n_tiles`` tiles: the cores this process may use, at most one per tile."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, n_tiles))


def write_territory_tiles(scene: Scene, lidar_dir: Path, *, defects_seed: list[int] | None = None,
                          workers: int | None = None) -> list[Path]:
    """Rasterise the scene one 1 km tile at a time (same pixel centres as a whole-area grid) and
    write the IGN LiDAR HD MNS / MNT tiles.

    ``defects_seed``: the DSM gets the defects of a real survey (:func:`geo.sample.defects.damage_rasters`),
    drawn tile by tile from a generator of this seed (buildings keep inside their tile, so each one's
    defects come from the one tile that shows it).

    ``workers``: processes writing tiles (default :func:`default_workers`; 1: in this process). A
    tile depends only on the scene, so the files are the same whatever the number.
    """
    global _JOB
    xmin, ymin, xmax, ymax = scene.bounds
    corners = [(float(x), float(y)) for x in np.arange(xmin, xmax - 1e-6, TILE)
               for y in np.arange(ymin, ymax - 1e-6, TILE)]
    tree_boxes = np.array([(t.x - t.radius_m, t.y - t.radius_m, t.x + t.radius_m, t.y + t.radius_m)
                           for t in scene.trees], dtype=float).reshape(-1, 4)
    roof_boxes = np.array([r.frame.outline().bounds for r in scene.roofs], dtype=float).reshape(-1, 4)
    n = default_workers(len(corners)) if workers is None else max(1, min(workers, len(corners)))
    _JOB = _TileJob(scene, lidar_dir, defects_seed, tree_boxes, roof_boxes)
    try:
        if n == 1 or "fork" not in multiprocessing.get_all_start_methods():
            done = [_write_tile(x, y) for x, y in corners]
        else:  # forked workers inherit the scene; each returns only its two paths
            with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("fork")) as pool:
                done = list(pool.map(_write_tile, *zip(*corners, strict=True)))
    finally:
        _JOB = None
    return sorted(p for paths in done for p in paths)
