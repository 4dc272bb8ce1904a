"""Rasterise a sample scene into a DTM (terrain) and a DSM (surface) at pixel centres.

Each surface is evaluated analytically at the centre of every pixel, so a roof face in the
DSM is an exact sample of its plane (no interpolation, no anti-aliasing). A pixel belongs
to a roof when its centre lies in the roof's rectangle, with half-open bounds
(``-L/2 <= u < L/2``) so that adjacent buildings never claim the same pixel.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from affine import Affine

from geo.sample.geometry import Roof, Tree
from geo.sample.scene import Scene
from geo.types import Bounds


def grid_transform(bounds: Bounds, res_m: float) -> tuple[Affine, int, int]:
    """North-up transform and (rows, cols) of a grid of ``res_m`` [m] pixels over ``bounds``."""
    xmin, ymin, xmax, ymax = bounds
    cols = int(round((xmax - xmin) / res_m))
    rows = int(round((ymax - ymin) / res_m))
    return Affine(res_m, 0.0, xmin, 0.0, -res_m, ymax), rows, cols


def _window(bounds: Bounds, transform: Affine, rows: int, cols: int) -> tuple[slice, slice]:
    res = transform.a
    x0, y1 = transform.c, transform.f
    xmin, ymin, xmax, ymax = bounds
    c0 = max(int(math.floor((xmin - x0) / res)), 0)
    c1 = min(int(math.ceil((xmax - x0) / res)), cols)
    r0 = max(int(math.floor((y1 - ymax) / res)), 0)
    r1 = min(int(math.ceil((y1 - ymin) / res)), rows)
    return slice(r0, max(r0, r1)), slice(c0, max(c0, c1))


def _centres(transform: Affine, rs: slice, cs: slice) -> tuple[np.ndarray, np.ndarray]:
    res = transform.a
    xs = transform.c + (np.arange(cs.start, cs.stop) + 0.5) * res
    ys = transform.f - (np.arange(rs.start, rs.stop) + 0.5) * res
    return np.meshgrid(xs, ys)


def rasterise(scene: Scene, bounds: Bounds, res_m: float) -> tuple[np.ndarray, np.ndarray, Affine]:
    """DTM and DSM of ``scene`` over ``bounds`` at ``res_m`` [m] pixels.

    Returns
    -------
    dtm, dsm : float32 arrays (rows, cols), altitudes [m]
        The DTM holds the ground (slag heaps and embankments included, as IGN's MNT does)
        and flat water; the DSM adds tree crowns and roofs.
    transform : Affine
        North-up pixel-to-Lambert-93 transform.
    """
    transform, rows, cols = grid_transform(bounds, res_m)
    full = (slice(0, rows), slice(0, cols))
    x, y = _centres(transform, *full)
    dtm = _ground(scene, x, y, transform, rows, cols)
    for w in scene.water:
        rs, cs = _window(w.polygon.bounds, transform, rows, cols)
        if rs.stop <= rs.start or cs.stop <= cs.start:
            continue
        inside = shapely.contains_xy(w.polygon, x[rs, cs], y[rs, cs])
        dtm[rs, cs] = np.where(inside, w.level_m, dtm[rs, cs])
    dsm = dtm.copy()
    for t in scene.trees:
        _burn_tree(dsm, dtm, t, x, y, transform, rows, cols)
    for roof in scene.roofs:
        _burn_roof(dsm, roof, x, y, transform, rows, cols)
    return dtm.astype(np.float32), dsm.astype(np.float32), transform


def _ground(scene: Scene, x: np.ndarray, y: np.ndarray, transform: Affine, rows: int, cols: int) -> np.ndarray:
    """``scene.terrain.ground(x, y)`` on the grid: the same values, with each heap and embankment
    evaluated only in the window around its foot (beyond it, it adds nothing)."""
    terrain = scene.terrain
    h = np.zeros(x.shape)
    reliefs = [((t.x - t.base_radius_m, t.y - t.base_radius_m, t.x + t.base_radius_m, t.y + t.base_radius_m),
                t.height) for t in terrain.terrils]
    for e in terrain.embankments:
        xs, ys = zip(*e.coords, strict=True)
        reliefs.append(((min(xs) - e.reach_m, min(ys) - e.reach_m, max(xs) + e.reach_m, max(ys) + e.reach_m),
                        e.height))
    res = transform.a
    for (bx0, by0, bx1, by1), height in reliefs:
        rs, cs = _window((bx0 - res, by0 - res, bx1 + res, by1 + res), transform, rows, cols)
        if rs.stop > rs.start and cs.stop > cs.start:
            h[rs, cs] = np.maximum(h[rs, cs], height(x[rs, cs], y[rs, cs]))
    out: np.ndarray = terrain.natural(x, y) + h
    return out


def _burn_tree(dsm: np.ndarray, dtm: np.ndarray, t: Tree, x: np.ndarray, y: np.ndarray,
               transform: Affine, rows: int, cols: int) -> None:
    r = t.radius_m
    rs, cs = _window((t.x - r, t.y - r, t.x + r, t.y + r), transform, rows, cols)
    if rs.stop <= rs.start or cs.stop <= cs.start:
        return
    h = t.height(x[rs, cs], y[rs, cs])
    crown = dtm[rs, cs] + h
    sub = dsm[rs, cs]
    dsm[rs, cs] = np.where(np.isfinite(h), np.fmax(sub, crown), sub)


def _burn_roof(dsm: np.ndarray, roof: Roof, x: np.ndarray, y: np.ndarray,
               transform: Affine, rows: int, cols: int) -> None:
    f = roof.frame
    rs, cs = _window(f.outline().bounds, transform, rows, cols)
    if rs.stop <= rs.start or cs.stop <= cs.start:
        return
    u, v = f.to_local(x[rs, cs], y[rs, cs])
    inside = (u >= -f.length / 2) & (u < f.length / 2) & (v >= -f.width / 2) & (v < f.width / 2)
    if not inside.any():
        return
    z = roof.height(u, v)
    dsm[rs, cs] = np.where(inside, z, dsm[rs, cs])
