"""The defects of real data, applied to the sample at write time (deterministic, seeded).

Real inputs differ from the generator's exact scene (issue 13): the IGN LiDAR HD surface has
noise, holes and trees over roofs; BD TOPO outlines come from the cadastre, drawn at the walls
(the roof overhangs them) and offset by the georeferencing of the cadastral sheet; some buildings
are missing, some footprints belong to demolished ones. :func:`damage_rasters` and
:func:`damage_footprints` add these to the DSM and the ``batiment`` table. The truth file is not
touched (it describes the real roofs). Every draw comes from ``rng`` (its own stream, so the rest
of the sample does not change with the defects), with the magnitudes of ``geo.config``'s
"Sample defects" section.

Pure functions: arrays and tables in, arrays and tables out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from shapely.affinity import translate
from shapely.geometry import MultiPolygon, Polygon

from geo import config
from geo.sample.geometry import Building, Tree
from geo.sample.scene import Scene


@dataclass(frozen=True)
class FootprintError:
    """How one building's footprint is drawn wrong: offset (dx, dy) [m] and size error [m]
    (outer walls moved outwards by ``grow_m``; negative: inwards)."""

    dx_m: float
    dy_m: float
    grow_m: float


def footprint_errors(scene: Scene, rng: np.random.Generator) -> dict[int, FootprintError]:
    """One error per roof (a terraced row moves as a whole, as a cadastral sheet does), by roof index.

    Offsets: Rayleigh-distributed length (scale ``SAMPLE_FOOTPRINT_OFFSET_SCALE_M``) capped at
    ``SAMPLE_FOOTPRINT_OFFSET_MAX_M``, uniform direction; size errors uniform in
    ± ``SAMPLE_FOOTPRINT_SIZE_ERROR_MAX_M``.
    """
    out: dict[int, FootprintError] = {}
    for i, _ in enumerate(scene.roofs):
        r = min(float(rng.rayleigh(config.SAMPLE_FOOTPRINT_OFFSET_SCALE_M)), config.SAMPLE_FOOTPRINT_OFFSET_MAX_M)
        a = float(rng.uniform(0.0, 2.0 * math.pi))
        g = float(rng.uniform(-config.SAMPLE_FOOTPRINT_SIZE_ERROR_MAX_M, config.SAMPLE_FOOTPRINT_SIZE_ERROR_MAX_M))
        out[i] = FootprintError(round(r * math.sin(a), 3), round(r * math.cos(a), 3), round(g, 3))
    return out


def drawn_footprint(b: Building, err: FootprintError) -> Polygon:
    """The footprint of ``b`` as a cadastre would draw it with error ``err``: outer walls moved
    by ``grow_m`` (party walls stay shared with the neighbours), then the whole shifted."""
    f = b.roof.frame
    hl, g = f.length / 2, err.grow_m
    u0 = b.u0 - g if b.u0 <= -hl + 1e-9 else b.u0
    u1 = b.u1 + g if b.u1 >= hl - 1e-9 else b.u1
    return translate(f.rect(u0, u1, -f.width / 2 - g, f.width / 2 + g), err.dx_m, err.dy_m)


def _demolished(scene: Scene, taken: list[Polygon], n: int, rng: np.random.Generator) -> list[Polygon]:
    """``n`` rectangles of 6-12 m x 5-9 m on free ground (no roof, tree or other outline within 3 m)."""
    xmin, ymin, xmax, ymax = scene.bounds
    # what blocks a rectangle, in a spatial index (a candidate is tested against the few near it:
    # the same answer as against their union, without building one over the whole territory)
    blockers = ([p.buffer(3.0) for p in taken]
                + [shapely.Point(t.x, t.y).buffer(t.radius_m + 1.0) for t in scene.trees]
                + [w.polygon.buffer(3.0) for w in scene.water])
    index = shapely.STRtree(blockers)
    out: list[Polygon] = []
    placed: list[Polygon] = []  # the rectangles already drawn, 3 m around
    for _ in range(2000):
        if len(out) >= n:
            break
        cx, cy = rng.uniform(xmin + 30, xmax - 30), rng.uniform(ymin + 30, ymax - 30)
        lx, ly, az = rng.uniform(6.0, 12.0), rng.uniform(5.0, 9.0), rng.uniform(0.0, 90.0)
        poly = shapely.affinity.rotate(shapely.box(cx - lx / 2, cy - ly / 2, cx + lx / 2, cy + ly / 2), az)
        # on flat open ground only: not on a slag heap's flank
        if (len(index.query(poly, predicate="intersects")) or any(p.intersects(poly) for p in placed)
                or any(t.height(np.array([cx]), np.array([cy]))[0] > 0 for t in scene.terrain.terrils)):
            continue
        out.append(poly)
        placed.append(poly.buffer(3.0))
    return out


def damage_footprints(batiment: gpd.GeoDataFrame, scene: Scene, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """The ``batiment`` table with offset and mis-sized outlines, missing buildings and demolished ones.

    ``batiment`` has one row per ``scene.buildings`` item, in order. Missing: each building is
    dropped with probability ``SAMPLE_MISSING_FOOTPRINT_SHARE``; demolished: footprints of
    ``SAMPLE_DEMOLISHED_PER_KM2`` per km² are added on free ground (``etat_de_l_objet`` still "En
    service", as in BD TOPO until the update), with new identifiers after the last one.
    """
    if len(batiment) != len(scene.buildings):
        raise ValueError("batiment must have one row per scene building")
    errs = footprint_errors(scene, rng)
    roof_index = {id(r): i for i, r in enumerate(scene.roofs)}
    geoms = [MultiPolygon([drawn_footprint(b, errs[roof_index[id(b.roof)]])]) for b in scene.buildings]
    out = batiment.copy()
    out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=out.crs))
    keep = rng.random(len(out)) >= config.SAMPLE_MISSING_FOOTPRINT_SHARE
    out = out[keep]
    xmin, ymin, xmax, ymax = scene.bounds
    n_extra = max(1, int(round(config.SAMPLE_DEMOLISHED_PER_KM2 * (xmax - xmin) * (ymax - ymin) / 1e6)))
    extra = _demolished(scene, [b.footprint() for b in scene.buildings], n_extra, rng)
    last = max(int(c[len("BATIMENT"):]) for c in batiment["cleabs"])
    rows = []
    template = batiment.iloc[0]
    for k, poly in enumerate(extra, start=1):
        row: dict[str, object] = dict.fromkeys(batiment.columns)
        ground = float(np.round(scene.terrain.ground(np.array([poly.centroid.x]), np.array([poly.centroid.y]))[0], 1))
        row.update({
            "cleabs": f"BATIMENT{last + 17 * k:016d}", "nature": "Indifférenciée", "usage_1": "Résidentiel",
            "construction_legere": False, "etat_de_l_objet": template["etat_de_l_objet"],
            "nombre_d_etages": 1, "hauteur": 5.0, "altitude_minimale_sol": ground,
            "altitude_maximale_sol": ground, "altitude_minimale_toit": ground + 5.0,
            "altitude_maximale_toit": ground + 7.0, "origine_du_batiment": "Cadastre",
            "geometry": MultiPolygon([poly]),
        })
        rows.append(row)
    if rows:
        out = pd.concat([out, gpd.GeoDataFrame(rows, geometry="geometry", crs=batiment.crs)], ignore_index=True)
    return gpd.GeoDataFrame(out.reset_index(drop=True), geometry="geometry", crs=batiment.crs)


def roof_trees(scene: Scene, rng: np.random.Generator) -> list[Tree]:
    """Trees whose crowns overhang roofs: about ``SAMPLE_TREE_OVER_ROOF_SHARE`` of the buildings get
    one, standing beside a wall, crown radius 2.5-4 m, 2-5 m taller than the roof's top."""
    trees = []
    for b in scene.buildings:
        if rng.random() >= config.SAMPLE_TREE_OVER_ROOF_SHARE:
            continue
        f = b.roof.frame
        side = 1.0 if rng.random() < 0.5 else -1.0
        u = float(rng.uniform(b.u0, b.u1))
        radius = float(rng.uniform(2.5, 4.0))
        x, y = f.to_world(np.array(u), np.array(side * (f.width / 2 + 0.4 * radius)))
        top = b.roof.top_altitude() - b.ground_m
        trees.append(Tree(float(x), float(y), radius, float(top + rng.uniform(2.0, 5.0))))
    return trees


def _on_raster(bounds: tuple[float, float, float, float], transform: Affine, shape: tuple[int, ...]) -> bool:
    """Whether the box ``bounds`` (xmin, ymin, xmax, ymax) [m] reaches the raster (one pixel of margin):
    an object off it changes no pixel (every pixel centre is outside the object)."""
    res = transform.a
    x0, y1 = transform.c, transform.f
    x1, y0 = x0 + shape[1] * res, y1 - shape[0] * res
    return bounds[2] >= x0 - res and bounds[0] <= x1 + res and bounds[3] >= y0 - res and bounds[1] <= y1 + res


def _row_details(out: np.ndarray, transform: Affine, scene: Scene, rng: np.random.Generator,
                 xs: np.ndarray, ys: np.ndarray) -> None:
    """What a real terraced row shows between its houses (in place on the DSM ``out``).

    The generator gives a row one continuous roof; real rows were built and re-roofed house by
    house: a house's roof steps up or down from its neighbour's by 0.1-0.3 m with probability
    ``SAMPLE_ROW_STEP_SHARE``, and a party wall rises 0.25-0.45 m above the roofs (0.35 m thick,
    seen by every DSM cell it touches: the MNS keeps the highest return) with probability
    ``SAMPLE_PARTY_WALL_SHARE``.
    """
    res = transform.a
    by_roof: dict[int, list[Building]] = {}
    for b in scene.buildings:
        by_roof.setdefault(id(b.roof), []).append(b)
    inv = ~transform
    rows, cols = out.shape
    for houses in by_roof.values():
        if len(houses) < 2:
            continue
        houses = sorted(houses, key=lambda h: h.u0)
        roof = houses[0].roof
        f = roof.frame
        reach = math.hypot(f.length, f.width) / 2  # the outline is within this of the centre [m]
        if not _on_raster((f.cx - reach, f.cy - reach, f.cx + reach, f.cy + reach), transform, out.shape):
            # nothing to draw here (a tile of a territory): only the draws, so that the rows on the
            # raster get the numbers they get on a raster of the whole scene
            for _ in houses[1:]:
                if rng.random() < config.SAMPLE_ROW_STEP_SHARE:
                    rng.choice([-1.0, 1.0])
                    rng.uniform(0.1, 0.3)
            for _ in houses[1:]:
                rng.random()  # a party wall off the raster is never drawn
            continue
        bounds = f.outline().bounds
        c0, r0 = inv @ (bounds[0], bounds[3])
        c1, r1 = inv @ (bounds[2], bounds[1])
        rs = slice(max(int(r0) - 1, 0), min(int(math.ceil(r1)) + 1, rows))
        cs = slice(max(int(c0) - 1, 0), min(int(math.ceil(c1)) + 1, cols))
        gx, gy = np.meshgrid(xs[cs], ys[rs])
        u, v = f.to_local(gx, gy)
        on_roof = (u >= -f.length / 2) & (u < f.length / 2) & (v >= -f.width / 2) & (v < f.width / 2)
        levels = [0.0]
        for _ in houses[1:]:
            step = rng.random() < config.SAMPLE_ROW_STEP_SHARE
            levels.append(levels[-1] + (float(rng.choice([-1.0, 1.0]) * rng.uniform(0.1, 0.3)) if step else 0.0))
        sub = out[rs, cs]
        for h, level in zip(houses, levels, strict=True):
            sub[on_roof & (u >= h.u0) & (u < h.u1)] += level
        # cells (res x res around each centre) touching the 0.35 m thick wall
        a = math.radians(f.ridge_az_deg)
        reach = 0.175 + 0.5 * res * (abs(math.sin(a)) + abs(math.cos(a)))
        for k, h in enumerate(houses[1:], start=1):
            if rng.random() >= config.SAMPLE_PARTY_WALL_SHARE:
                continue
            wall = on_roof & (np.abs(u - h.u0) <= reach)
            if wall.any():
                rise = max(levels[k - 1], levels[k]) + float(rng.uniform(0.25, 0.45))
                sub[wall] = np.maximum(sub[wall], roof.height(u[wall], v[wall]) + rise)
        out[rs, cs] = sub


def damage_rasters(dsm: np.ndarray, dtm: np.ndarray, transform: Affine, scene: Scene,
                   rng: np.random.Generator) -> np.ndarray:
    """The DSM of a real survey: steps and party walls in terraced rows, trees over roofs, nodata
    holes, then Gaussian noise.

    Holes: ``SAMPLE_NODATA_HOLE_SHARE`` of the roofs get a disc of 0.6-1.5 m radius without
    data (glass roofs, wet or dark surfaces), and open water has no return (as in LiDAR HD).
    Noise: N(0, ``SAMPLE_DSM_NOISE_M``) on every pixel with data. The DTM is not changed
    (IGN's MNT is interpolated from classified ground points).
    """
    out = dsm.astype(np.float64)
    rows, cols = out.shape
    res = transform.a
    xs = transform.c + (np.arange(cols) + 0.5) * res
    ys = transform.f - (np.arange(rows) + 0.5) * res
    inv = ~transform

    def window(x: float, y: float, r: float) -> tuple[slice, slice, np.ndarray, np.ndarray]:
        c0, r0 = inv @ (x - r, y + r)
        c1, r1 = inv @ (x + r, y - r)
        rs = slice(max(int(r0), 0), min(int(math.ceil(r1)) + 1, rows))
        cs = slice(max(int(c0), 0), min(int(math.ceil(c1)) + 1, cols))
        gx, gy = np.meshgrid(xs[cs], ys[rs])
        return rs, cs, gx, gy

    _row_details(out, transform, scene, rng, xs, ys)
    for t in roof_trees(scene, rng):
        if not _on_raster((t.x - t.radius_m, t.y - t.radius_m, t.x + t.radius_m, t.y + t.radius_m), transform,
                          out.shape):
            continue
        rs, cs, gx, gy = window(t.x, t.y, t.radius_m)
        h = t.height(gx, gy)
        out[rs, cs] = np.where(np.isfinite(h), np.fmax(out[rs, cs], dtm[rs, cs] + h), out[rs, cs])
    for b in scene.buildings:
        if rng.random() >= config.SAMPLE_NODATA_HOLE_SHARE:
            continue
        f = b.roof.frame
        u = float(rng.uniform(b.u0 + 1.0, b.u1 - 1.0)) if b.u1 - b.u0 > 2.0 else (b.u0 + b.u1) / 2
        v = float(rng.uniform(-f.width / 2 + 1.0, f.width / 2 - 1.0))
        x, y = f.to_world(np.array(u), np.array(v))
        r = float(rng.uniform(0.6, 1.5))
        if not _on_raster((float(x) - r, float(y) - r, float(x) + r, float(y) + r), transform, out.shape):
            continue
        rs, cs, gx, gy = window(float(x), float(y), r)
        out[rs, cs] = np.where(np.hypot(gx - x, gy - y) <= r, np.nan, out[rs, cs])
    for w in scene.water:
        b0 = w.polygon.bounds
        c0, r0 = inv @ (b0[0], b0[3])
        c1, r1 = inv @ (b0[2], b0[1])
        rs = slice(max(int(r0), 0), min(int(math.ceil(r1)), rows))
        cs = slice(max(int(c0), 0), min(int(math.ceil(c1)), cols))
        if rs.stop <= rs.start or cs.stop <= cs.start:
            continue
        gx, gy = np.meshgrid(xs[cs], ys[rs])
        wet = shapely.contains_xy(w.polygon.buffer(-1.0), gx, gy)
        out[rs, cs] = np.where(wet, np.nan, out[rs, cs])
    out += rng.normal(0.0, config.SAMPLE_DSM_NOISE_M, out.shape)
    return out.astype(np.float32)
