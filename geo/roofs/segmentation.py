"""Split roofs into planar faces from a surface model (DSM).

Method
------
1. Every pixel gets a local plane fitted by least squares on its 3 x 3 neighbourhood (slope and
   residual); pixels whose fit is good are *planar*.
2. Region growing (numba): from the most planar seeds, a region takes a neighbour when the
   neighbour lies within a distance of the region's running least-squares plane and, if planar,
   its normal is within an angle of the region's normal. Non-planar pixels (ridges, edges,
   obstacles) may join a region but never propagate it, so regions do not leak across ridges.
3. Per building: planes are refitted robustly; adjacent regions with the same plane are merged;
   small regions standing above the face around them are obstacles (dormers, chimneys, HVAC).
4. Face outlines: for gable and hip roofs the roof is the *lower* envelope of its planes (ridges),
   at valleys the upper one. Each pair of adjacent faces is classified (ridge, valley or step) and
   every point of a 4x finer grid takes the plane that is active there, so faces are bounded by
   the plane intersection lines instead of pixel staircases; the outlines are then clipped by the
   footprint. 3-D area = horizontal area / cos(tilt).
5. Obstacles: pixels standing more than a threshold above their face's plane (or far below it, or
   without data) are removed from the usable area, with a clearance, as is an edge setback.

All lengths are in the DSM's CRS units [m]; azimuth is clockwise from north (180 = south), the
direction the face looks to (down-slope); tilt from horizontal.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio.features
import shapely
from affine import Affine
from numba import njit
from pyproj import CRS
from scipy import ndimage
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from geo import config
from geo.solar.surface import gradient_normal, tilt_azimuth

try:  # rasterio.features.shapes without its GDAL environment check per call (same generator, rasterio 1.3-1.4)
    from rasterio._features import _shapes as _gdal_shapes
except ImportError:  # pragma: no cover - a rasterio without it: the public function, same polygons
    def _gdal_shapes(image: np.ndarray, mask: np.ndarray, connectivity: int, transform: Affine) -> Any:
        return rasterio.features.shapes(image, mask=mask, connectivity=connectivity, transform=transform)

log = logging.getLogger("artois.roofs")

#: Problems counted (and logged) while segmenting; keys of :attr:`RoofSegmentation.issues`.
ISSUE_KEYS = (
    "reprojected_footprints", "empty_footprints", "repaired_footprints", "outside_dsm", "no_valid_pixel",
)


@dataclass
class RoofSegmentation:
    """Faces of the roofs of a tile.

    Attributes
    ----------
    faces
        One row per face: ``face_id``, ``building_id``, ``face_n``, ``tilt_deg``, ``azimuth_deg``
        (NaN when flat), ``is_flat``, ``area_m2`` (3-D), ``footprint_area_m2`` (horizontal),
        ``obstacle_area_m2`` (horizontal), ``usable_area_m2`` (3-D), ``plane_rms_m``,
        ``n_obstacle_px``, ``tree_area_m2`` (horizontal, under tree crowns), ``usable_geometry`` (horizontal polygon, not for output), geometry.
    buildings
        The footprints used: ``building_id`` and the input's other columns, geometry, and
        ``status`` (``ok``, ``outside_dsm``, ``no_valid_pixel``, ``no_face``).
    face_pixels
        int32 raster in the DSM grid: 1 + the row of ``faces`` owning each pixel, 0 elsewhere.
    sample_pixels
        int32 raster: same, but only interior pixels without obstacles (where the face's own
        slope is well defined: use it to sample the irradiation raster).
    issues
        Counts of the input problems met (keys of :data:`ISSUE_KEYS`).
    """

    faces: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    face_pixels: np.ndarray
    sample_pixels: np.ndarray
    issues: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# Local planes and region growing
# ---------------------------------------------------------------------------

def local_planes(z: np.ndarray, res_m: float, group: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Least-squares plane on each pixel's 3 x 3 neighbourhood.

    Parameters
    ----------
    z
        Heights [m], NaN = nodata.
    res_m
        Pixel size [m].
    group
        Optional integer labels; a fit is only made where all 9 pixels share the centre's label.

    Returns
    -------
    gx, gy
        Slopes dz/dx (east) and dz/dy (north) [m/m]; NaN where no fit.
    rms
        Residual RMS of the fit [m]; NaN where no fit.
    """
    z = np.ascontiguousarray(z, dtype=np.float64)
    if group is None:
        return _local_planes(z, float(res_m), np.zeros((1, 1), np.int64), False)
    return _local_planes(z, float(res_m), np.ascontiguousarray(group, dtype=np.int64), True)


@njit(cache=True)
def _local_planes(
    z: np.ndarray, res: float, group: np.ndarray, use_group: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - numba
    # the same operations, in the same order, as array arithmetic on the 9 shifted windows of the
    # NaN-padded heights would make (so the same bits): east / north sums, the mean of the 9 (a sum
    # from 0), the fit at each neighbour, and the sum of squared residuals from 0
    rows, cols = z.shape
    gx = np.empty((rows, cols))
    gy = np.empty((rows, cols))
    rms = np.empty((rows, cols))
    sh = np.empty((3, 3))
    step6 = 6.0 * res
    for r in range(rows):
        for c in range(cols):
            same = True
            for i in range(3):
                for j in range(3):
                    rr, cc = r + i - 1, c + j - 1
                    inb = 0 <= rr < rows and 0 <= cc < cols
                    sh[i, j] = z[rr, cc] if inb else np.nan
                    if use_group and (not inb or group[rr, cc] != group[r, c]):
                        same = False
            if not same:
                gx[r, c] = gy[r, c] = rms[r, c] = np.nan
                continue
            east = sh[0, 2] + sh[1, 2] + sh[2, 2] - sh[0, 0] - sh[1, 0] - sh[2, 0]
            north = sh[0, 0] + sh[0, 1] + sh[0, 2] - sh[2, 0] - sh[2, 1] - sh[2, 2]
            a = east / step6
            b = north / step6
            tot = 0.0
            for i in range(3):
                for j in range(3):
                    tot = tot + sh[i, j]
            mean = tot / 9.0
            ss = 0.0
            for i in range(3):
                for j in range(3):
                    fit = mean + a * ((j - 1) * res) + b * ((1 - i) * res)
                    d = sh[i, j] - fit
                    ss = ss + d * d
            gx[r, c] = a
            gy[r, c] = b
            rms[r, c] = math.sqrt(ss / 9.0)
    return gx, gy, rms


@njit(cache=True)
def _solve_plane(s: np.ndarray) -> tuple[float, float, float, bool]:  # pragma: no cover - numba
    # s = [n, sx, sy, sz, sxx, sxy, syy, sxz, syz]
    n, sx, sy, sz, sxx, sxy, syy, sxz, syz = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8]
    # normal equations for z = a x + b y + c
    m00, m01, m02 = sxx, sxy, sx
    m11, m12 = syy, sy
    m22 = n
    det = m00 * (m11 * m22 - m12 * m12) - m01 * (m01 * m22 - m12 * m02) + m02 * (m01 * m12 - m11 * m02)
    if abs(det) < 1e-9 * max(1.0, n) ** 3:
        return 0.0, 0.0, 0.0, False
    r0, r1, r2 = sxz, syz, sz
    a = (r0 * (m11 * m22 - m12 * m12) - m01 * (r1 * m22 - m12 * r2) + m02 * (r1 * m12 - m11 * r2)) / det
    b = (m00 * (r1 * m22 - m12 * r2) - r0 * (m01 * m22 - m12 * m02) + m02 * (m01 * r2 - r1 * m02)) / det
    c = (m00 * (m11 * r2 - r1 * m12) - m01 * (m01 * r2 - r1 * m02) + r0 * (m01 * m12 - m11 * m02)) / det
    return a, b, c, True


@njit(cache=True)
def _grow_regions(
    z: np.ndarray, group: np.ndarray, gx: np.ndarray, gy: np.ndarray, good: np.ndarray,
    order: np.ndarray, res: float, dtol: float, cos_atol: float,
) -> np.ndarray:  # pragma: no cover - numba
    rows, cols = z.shape
    labels = np.zeros((rows, cols), dtype=np.int32)
    queue = np.empty(rows * cols, dtype=np.int64)
    acc = np.zeros(9)
    rid = 0
    dr8 = (-1, -1, -1, 0, 0, 1, 1, 1)
    dc8 = (-1, 0, 1, -1, 1, -1, 0, 1)
    for k in range(order.size):
        p = order[k]
        pr, pc = p // cols, p % cols
        if labels[pr, pc] != 0:
            continue
        rid += 1
        g = group[pr, pc]
        # plane in seed-relative coordinates: z = a dx + b dy + c
        a, b, c = gx[pr, pc], gy[pr, pc], z[pr, pc]
        acc[:] = 0.0
        acc[0] = 1.0
        acc[3] = z[pr, pc]
        labels[pr, pc] = rid
        head, tail = 0, 1
        queue[0] = p
        count, next_refit = 1, 8
        while head < tail:
            q = queue[head]
            head += 1
            qr, qc = q // cols, q % cols
            for t in range(8):
                nr, nc = qr + dr8[t], qc + dc8[t]
                if nr < 0 or nc < 0 or nr >= rows or nc >= cols:
                    continue
                if labels[nr, nc] != 0 or group[nr, nc] != g:
                    continue
                zn = z[nr, nc]
                if not np.isfinite(zn):
                    continue
                dx = (nc - pc) * res
                dy = -(nr - pr) * res
                if abs(zn - (a * dx + b * dy + c)) > dtol:
                    continue
                if good[nr, nc]:
                    ga, gb = gx[nr, nc], gy[nr, nc]
                    dot = (ga * a + gb * b + 1.0) / math.sqrt((ga * ga + gb * gb + 1.0) * (a * a + b * b + 1.0))
                    if dot < cos_atol:
                        continue
                labels[nr, nc] = rid
                acc[0] += 1.0
                acc[1] += dx
                acc[2] += dy
                acc[3] += zn
                acc[4] += dx * dx
                acc[5] += dx * dy
                acc[6] += dy * dy
                acc[7] += dx * zn
                acc[8] += dy * zn
                count += 1
                if good[nr, nc]:
                    queue[tail] = nr * cols + nc
                    tail += 1
                if count >= next_refit:
                    na, nb, ncc, ok = _solve_plane(acc)
                    if ok:
                        a, b, c = na, nb, ncc
                    next_refit = int(count * 1.3) + 4
    return labels


@njit(cache=True)
def _subpixel_labels(
    lab: np.ndarray, filled: np.ndarray, planes: np.ndarray, rel: np.ndarray, res: float, s: int, radius: int,
) -> np.ndarray:  # pragma: no cover - numba
    rows, cols = lab.shape
    k = planes.shape[0]
    out = np.zeros((rows * s, cols * s), dtype=np.int32)
    cand = np.empty(64, dtype=np.int32)
    sub = res / s
    for i in range(rows):
        for j in range(cols):
            base = lab[i, j]
            if base == 0:
                continue
            nc = 0
            for di in range(-radius, radius + 1):
                for dj in range(-radius, radius + 1):
                    ii, jj = i + di, j + dj
                    if ii < 0 or jj < 0 or ii >= rows or jj >= cols:
                        continue
                    v = lab[ii, jj]
                    if v == 0 or v == base:
                        continue
                    seen = False
                    for m in range(nc):
                        if cand[m] == v:
                            seen = True
                            break
                    if not seen and nc < 64:
                        cand[nc] = v
                        nc += 1
            if filled[i, j]:  # no face of its own: any face related to the nearest one may own it
                for v in range(1, k):
                    if v != base and rel[base, v] != 0 and nc < 64:
                        seen = False
                        for m in range(nc):
                            if cand[m] == v:
                                seen = True
                                break
                        if not seen:
                            cand[nc] = v
                            nc += 1
            for si in range(s):
                for sj in range(s):
                    cur = base
                    if nc > 0:
                        x = j * res + (sj + 0.5) * sub
                        y = -(i * res + (si + 0.5) * sub)
                        for _it in range(3):
                            changed = False
                            for m in range(nc):
                                v = cand[m]
                                if v == cur:
                                    continue
                                r = rel[cur, v]
                                if r == 0:
                                    continue
                                pv = planes[v, 0] * x + planes[v, 1] * y + planes[v, 2]
                                pc = planes[cur, 0] * x + planes[cur, 1] * y + planes[cur, 2]
                                if (r == 1 and pv < pc) or (r == -1 and pv > pc):
                                    cur = v
                                    changed = True
                            if not changed:
                                break
                    out[i * s + si, j * s + sj] = cur
    return out


# ---------------------------------------------------------------------------
# Per-building post-processing
# ---------------------------------------------------------------------------

def _fit_plane(x: np.ndarray, y: np.ndarray, z: np.ndarray, *, robust: bool = True) -> tuple[np.ndarray, float]:
    """Least-squares plane (a, b, c) with z = a x + b y + c, refitted without outliers; and its RMS [m]."""
    keep = np.ones(z.size, dtype=bool)
    coef = np.zeros(3)
    rms = 0.0
    for _ in range(3 if robust else 1):
        if keep.sum() < 3:
            break
        m = np.column_stack([x[keep], y[keep], np.ones(int(keep.sum()))])
        coef, *_ = np.linalg.lstsq(m, z[keep], rcond=None)
        r = z - (coef[0] * x + coef[1] * y + coef[2])
        rms = float(np.sqrt(np.mean(r[keep] ** 2)))
        new = np.abs(r) < max(2.5 * rms, 0.05)
        if new.sum() < 3 or np.array_equal(new, keep):
            break
        keep = new
    return coef, rms


def _adjacent_pairs(lab: np.ndarray) -> Counter[tuple[int, int]]:
    """Counts of 4-neighbour contacts between different non-zero labels."""
    pairs: Counter[tuple[int, int]] = Counter()
    for a, b in ((lab[:, :-1], lab[:, 1:]), (lab[:-1, :], lab[1:, :])):
        m = (a != b) & (a > 0) & (b > 0)
        if m.any():
            lo, hi = np.minimum(a[m], b[m]), np.maximum(a[m], b[m])
            keys, counts = np.unique(lo.astype(np.int64) * 1_000_000 + hi, return_counts=True)
            for k, cnt in zip(keys.tolist(), counts.tolist(), strict=True):
                pairs[(k // 1_000_000, k % 1_000_000)] += cnt
    return pairs


def _boundary_mask(lab: np.ndarray, i: int, j: int) -> np.ndarray:
    """Pixels of label i with a 4-neighbour of label j."""
    mi = lab == i
    mj = lab == j
    nb = np.zeros_like(mj)
    nb[1:, :] |= mj[:-1, :]
    nb[:-1, :] |= mj[1:, :]
    nb[:, 1:] |= mj[:, :-1]
    nb[:, :-1] |= mj[:, 1:]
    return mi & nb


def _find(parent: dict[int, int], k: int) -> int:
    """Root of ``k`` in a union-find forest (with path halving)."""
    while parent[k] != k:
        parent[k] = parent[parent[k]]
        k = parent[k]
    return k


def _angle_deg(p: np.ndarray, q: np.ndarray) -> float:
    n1 = np.array([-p[0], -p[1], 1.0])
    n2 = np.array([-q[0], -q[1], 1.0])
    cosv = float(n1 @ n2 / (np.linalg.norm(n1) * np.linalg.norm(n2)))
    return math.degrees(math.acos(min(1.0, max(-1.0, cosv))))


@dataclass
class _Params:
    res: float
    dtol: float
    min_region_px: int
    min_face_m2: float
    merge_deg: float
    obstacle_h: float
    clearance: float
    setback: float
    flat_deg: float
    subpixels: int
    noise: float


_Faces = tuple[list[dict[str, object]], np.ndarray, np.ndarray]


@dataclass
class _Outlines:
    """A building segmented up to its face outlines: the rasters to polygonize, and what gives its
    faces once they are polygonized (``finish(face pieces, obstacle pieces)``)."""

    origin: tuple[float, float]
    sub: np.ndarray  # sub-pixel face labels (polygonized with 4-connectivity)
    sub_step: float  # its pixel size [m]
    obstacles: np.ndarray | None  # face labels of the obstacle pixels (8-connectivity), None: none
    res: float
    finish: Callable[[dict[int, list[Polygon]], dict[int, list[Polygon]]], _Faces]


def _segment_building(
    z: np.ndarray, inside: np.ndarray, regions: np.ndarray, footprint: Polygon, origin: tuple[float, float],
    p: _Params,
) -> _Faces:
    """Faces of one building in its window.

    ``z`` heights, ``inside`` footprint pixels, ``regions`` grown region ids (any numbering);
    ``origin`` = world (x, y) of the window's upper-left corner. Returns face records, the
    window's face label raster (1..k, 0 outside) and its sample mask.
    """
    st = _segment_start(z, inside, regions, footprint, origin, p)
    if not isinstance(st, _Outlines):
        return st
    pieces, obst = _polygonize_many([st])
    return st.finish(pieces[0], obst[0])


def _segment_start(
    z: np.ndarray, inside: np.ndarray, regions: np.ndarray, footprint: Polygon, origin: tuple[float, float],
    p: _Params,
) -> _Faces | _Outlines:
    """:func:`_segment_building` up to the rasters to polygonize (or its result when it has no face)."""
    rows, cols = z.shape
    res = p.res
    yy, xx = np.mgrid[0:rows, 0:cols]
    xs = (xx + 0.5) * res
    ys = -(yy + 0.5) * res
    valid = inside & np.isfinite(z)
    # local region ids
    reg = np.where(valid, regions, 0)
    ids, counts = np.unique(reg[reg > 0], return_counts=True)
    # thick enough: a fifth of the pixels survive a 3 x 3 erosion (ridge and edge strips do not), or,
    # for a face cut up by a dormer, a chimney and noise, 5 % of them and at least 3
    core = ndimage.binary_erosion(reg > 0, structure=np.ones((3, 3), bool))
    eroded = np.zeros(int(reg.max()) + 1)
    if core.any():
        er = reg.copy()
        # reg shifted by (dr, dc) with wrap-around, as np.roll does: slices of one wrapped padding
        wrap = np.pad(reg, 1, mode="wrap")
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                er[wrap[1 - dr: 1 - dr + rows, 1 - dc: 1 - dc + cols] != reg] = 0
        eroded = np.bincount(er.ravel(), minlength=int(reg.max()) + 1).astype(float)
    thick = (eroded[ids] >= 0.2 * counts) | (eroded[ids] >= np.maximum(3.0, 0.05 * counts))
    keep = ids[(counts >= p.min_region_px) & thick]
    lut = np.zeros(int(reg.max()) + 1, dtype=np.int32)
    lut[keep] = np.arange(1, keep.size + 1, dtype=np.int32)
    lab = lut[reg]
    if keep.size == 0:
        if valid.sum() < 3:
            return [], np.zeros_like(lab), np.zeros_like(lab)
        lab = np.where(valid, 1, 0).astype(np.int32)
    # robust plane fits, then merge regions with the same plane (union-find)
    planes: dict[int, np.ndarray] = {}
    rmss: dict[int, float] = {}

    def refit(labels: np.ndarray, which: list[int]) -> None:
        for k in which:
            m = labels == k
            planes[k], rmss[k] = _fit_plane(xs[m], ys[m], z[m].astype(np.float64))

    refit(lab, [int(k) for k in np.unique(lab[lab > 0])])
    def _same_plane(i: int, j: int) -> bool:
        """Regions i and j lie on one plane: close planes, or the smaller fits the larger's plane."""
        if _angle_deg(planes[i], planes[j]) <= p.merge_deg:
            bm = _boundary_mask(lab, i, j) | _boundary_mask(lab, j, i)
            dz = np.abs((planes[i][0] - planes[j][0]) * xs[bm] + (planes[i][1] - planes[j][1]) * ys[bm]
                        + planes[i][2] - planes[j][2])
            if float(np.mean(dz)) < p.dtol:
                return True
        ni, nj = int((lab == i).sum()), int((lab == j).sum())
        small, large = (i, j) if ni <= nj else (j, i)
        if min(ni, nj) * res * res > 8.0:
            return False
        m = lab == small
        r = z[m] - (planes[large][0] * xs[m] + planes[large][1] * ys[m] + planes[large][2])
        r_fit = float(np.sqrt(np.mean(r**2)))
        return r_fit <= 1.5 * max(rmss[small], p.noise) + 0.01

    def _coplanar(i: int, j: int) -> bool:
        """Non-adjacent regions on one plane (a face cut in two by a dormer or a chimney)."""
        if _angle_deg(planes[i], planes[j]) > p.merge_deg:
            return False
        for a, b in ((i, j), (j, i)):
            m = lab == b
            cx, cy = float(xs[m].mean()), float(ys[m].mean())
            d = (planes[a][0] - planes[b][0]) * cx + (planes[a][1] - planes[b][1]) * cy + planes[a][2] - planes[b][2]
            if abs(d) > p.dtol:
                return False
        return True

    for _ in range(4):
        parent = {k: k for k in planes}
        merged = False
        adjacent = sorted(_adjacent_pairs(lab).items(), key=lambda kv: -kv[1])
        ks = sorted(planes)
        touching = dict(adjacent)
        apart = [((i, j), 0) for a, i in enumerate(ks) for j in ks[a + 1:] if (i, j) not in touching]
        for (i, j), cnt in adjacent + apart:
            same = _same_plane(i, j) if cnt > 0 else _coplanar(i, j)
            ri, rj = _find(parent, i), _find(parent, j)
            if same and ri != rj:
                parent[rj] = ri
                merged = True
        if not merged:
            break
        roots = np.zeros(int(lab.max()) + 1, dtype=np.int32)
        for k in parent:
            roots[k] = _find(parent, k)
        lab = roots[lab]
        planes.clear()
        rmss.clear()
        refit(lab, [int(k) for k in np.unique(lab[lab > 0])])
    # small regions standing above the roof the other faces make are obstacles (dormers, HVAC,
    # chimneys): for a ridge roof the active face is the lowest plane, so a pixel's height above
    # the roof is its largest height above the neighbouring planes
    areas = {k: int((lab == k).sum()) for k in planes}
    big = max(areas.values())
    for k, n_px in sorted(areas.items(), key=lambda kv: kv[1]):
        if n_px * res * res >= config.OBSTACLE_REGION_MAX_M2 or n_px == big:
            continue
        nbs = {j if i == k else i for (i, j) in _adjacent_pairs(lab) if k in (i, j)}
        if not nbs:
            continue
        m = lab == k
        above = np.max([z[m] - (planes[o][0] * xs[m] + planes[o][1] * ys[m] + planes[o][2]) for o in nbs], axis=0)
        if float(np.median(above)) > p.obstacle_h:
            lab[m] = 0
            del planes[k], rmss[k]
    # renumber 1..k
    olds = sorted(planes)
    lut = np.zeros(int(lab.max()) + 1, dtype=np.int32)
    for new, old in enumerate(olds, start=1):
        lut[old] = new
    lab = lut[lab]
    plane_arr = np.zeros((len(olds) + 1, 3))
    rms_arr = np.zeros(len(olds) + 1)
    for new, old in enumerate(olds, start=1):
        plane_arr[new] = planes[old]
        rms_arr[new] = rmss[old]
    k_faces = len(olds)
    if k_faces == 0:
        return [], np.zeros_like(lab), np.zeros_like(lab)
    # fill every other pixel of the window with the nearest face (outlines are clipped later)
    if (lab == 0).any():
        idx = ndimage.distance_transform_edt(lab == 0, return_distances=False, return_indices=True)
        filled = lab[idx[0], idx[1]]
    else:
        filled = lab
    # pair relations: +1 ridge (lower plane active), -1 valley (upper active), 0 step
    rel = np.zeros((k_faces + 1, k_faces + 1), dtype=np.int8)
    fin = np.where(inside, filled, 0)
    for (i, j), _cnt in _adjacent_pairs(fin).items():
        pi, pj = plane_arr[i], plane_arr[j]
        da, db, dc = pi - pj
        nrm = math.hypot(da, db)
        if nrm < 0.02:
            continue
        bm = _boundary_mask(fin, i, j) | _boundary_mask(fin, j, i)
        dist = np.abs(da * xs[bm] + db * ys[bm] + dc) / nrm
        # filled pixels (obstacles) may push the pixel boundary away from the true line: it is
        # enough that a good part of the boundary follows the line
        if float(np.quantile(dist, 0.25)) > 1.5 * res:
            continue
        # measured pixels near the boundary say which envelope the roof is: min (ridge) or max (valley)
        near = (ndimage.distance_transform_edt(~bm) <= 3) & ((lab == i) | (lab == j))
        if near.sum() < 3:
            continue
        zi = pi[0] * xs[near] + pi[1] * ys[near] + pi[2]
        zj = pj[0] * xs[near] + pj[1] * ys[near] + pj[2]
        zn = z[near]
        r_min = float(np.nanmedian(np.abs(zn - np.minimum(zi, zj))))
        r_max = float(np.nanmedian(np.abs(zn - np.maximum(zi, zj))))
        r = 1 if r_min <= r_max else -1
        rel[i, j] = rel[j, i] = r
    s = p.subpixels
    sub = _subpixel_labels(filled.astype(np.int32), lab == 0, plane_arr, rel, res, s, 2)
    # obstacles and holes: residual above / far below the face plane, or no data
    pa = plane_arr[filled]
    resid = z - (pa[..., 0] * xs + pa[..., 1] * ys + pa[..., 2])
    obstacle = inside & ~(np.abs(resid) <= p.obstacle_h)  # NaN (no data) counts as obstacle
    obstacle &= ~((resid < 0) & (resid > -3 * p.obstacle_h))  # slightly below: noise, keep
    trees = _tree_mask(z, resid, inside, xs, ys, res)
    outline = _roof_outline(footprint, inside, obstacle, res)
    if outline is not footprint:
        obstacle &= ~_rim_mask(inside, obstacle)
    olab = np.where(obstacle, filled, 0).astype(np.int32) if obstacle.any() else None

    def finish(pieces: dict[int, list[Polygon]], obst_geoms: dict[int, list[Polygon]]) -> _Faces:
        return _segment_finish(pieces, obst_geoms, z, inside, filled, obstacle, trees, outline, plane_arr, rms_arr,
                               k_faces, origin, p)

    return _Outlines(origin, sub, res / s, olab, res, finish)


def _segment_finish(
    pieces: dict[int, list[Polygon]], obst_geoms: dict[int, list[Polygon]], z: np.ndarray, inside: np.ndarray,
    filled: np.ndarray, obstacle: np.ndarray, trees: np.ndarray, outline: Polygon | MultiPolygon,
    plane_arr: np.ndarray, rms_arr: np.ndarray, k_faces: int, origin: tuple[float, float], p: _Params,
) -> _Faces:
    """:func:`_segment_building` from the polygonized faces and obstacles on: the face records."""
    res = p.res
    interior = np.zeros_like(filled)
    records: list[dict[str, object]] = []
    out_lab = np.zeros_like(filled)
    fp_prep = outline
    shapely.prepare(fp_prep)
    n_out = 0
    for k in range(1, k_faces + 1):
        if k not in pieces:
            continue
        poly = _union(pieces[k]).intersection(fp_prep)
        poly = _polygonal(poly)
        if poly.is_empty or poly.area < p.min_face_m2:
            continue
        n_out += 1
        a, b, c = plane_arr[k]
        tilt, az = (float(v) for v in tilt_azimuth(gradient_normal(a, b), flat_tilt_deg=1e-7))
        is_flat = tilt < p.flat_deg
        cos_t = math.cos(math.radians(tilt))
        obst = _polygonal(_union(obst_geoms[k]).intersection(poly)) if k in obst_geoms else Polygon()
        raw: BaseGeometry = poly.buffer(-p.setback, join_style="mitre")
        if not obst.is_empty:
            raw = raw.difference(obst.buffer(p.clearance, join_style="mitre"))
        usable = _polygonal(raw)
        mk = (filled == k) & inside
        out_lab[mk] = n_out
        inner = ndimage.binary_erosion(mk, structure=np.ones((3, 3), bool)) & ~obstacle
        if not inner.any():
            inner = mk & ~obstacle
        if not inner.any():
            inner = mk
        interior[inner] = n_out
        records.append({
            "face_n": n_out, "tilt_deg": tilt, "azimuth_deg": az if not is_flat else math.nan,
            "is_flat": bool(is_flat), "footprint_area_m2": poly.area, "area_m2": poly.area / cos_t,
            "obstacle_area_m2": obst.area, "usable_area_m2": usable.area / cos_t,
            "plane_rms_m": float(rms_arr[k]), "n_obstacle_px": int((obstacle & mk).sum()),
            "tree_area_m2": float((trees & mk).sum()) * res * res,
            "plane_a": float(a), "plane_b": float(b), "plane_c": float(c) - a * origin[0] - b * origin[1],
            "usable_geometry": usable, "geometry": poly,
        })
    return records, out_lab, interior


#: Pixels of the canvas the face and obstacle rasters of several buildings are polygonized on at once.
_CANVAS_WIDTH = 2048
#: Buildings polygonized together (bounds the memory their pending state holds).
_POLYGONIZE_BATCH = 128


def _polygonize_many(outlines: Sequence[_Outlines]) -> tuple[list[dict[int, list[Polygon]]], ...]:
    """Face and obstacle polygons of several buildings (by face label), as GDAL's polygonize
    (:func:`rasterio.features.shapes` then :func:`shapely.geometry.shape`) gives them for each building
    alone: same vertices, same order.

    Each call of GDAL's polygonize has a fixed cost far above that of a building's small rasters, so
    the buildings' rasters are laid out on one canvas, one pixel apart (so 8-connected areas do not
    join), with distinct values, and polygonized in pixel coordinates; each vertex is then mapped to
    its building's grid as GDAL's geotransform does it (x = x0 + col · step, y = y0 − row · step).
    """
    subs = [o.sub for o in outlines]
    obst = [o.obstacles for o in outlines]
    steps_sub = [o.sub_step for o in outlines]
    steps_px = [o.res for o in outlines]
    origins = [o.origin for o in outlines]
    return (_polygonize_canvas(subs, steps_sub, origins, 4), _polygonize_canvas(obst, steps_px, origins, 8))


def _polygonize_canvas(rasters: Sequence[np.ndarray | None], steps: Sequence[float],
                       origins: Sequence[tuple[float, float]], connectivity: int) -> list[dict[int, list[Polygon]]]:
    """Polygons of each raster's non-zero values (see :func:`_polygonize_many`); None: no polygon."""
    out: list[dict[int, list[Polygon]]] = [{} for _ in rasters]
    todo = [i for i, r in enumerate(rasters) if r is not None]
    if not todo:
        return out
    # shelf packing in input order, one zero row / column between rasters
    widths = [rasters[i].shape[1] + 1 for i in todo]  # type: ignore[union-attr]
    width = max(max(widths), min(_CANVAS_WIDTH, sum(widths)))
    place: dict[int, tuple[int, int]] = {}
    x = y = shelf = 0
    for i in todo:
        h, w = rasters[i].shape  # type: ignore[union-attr]
        if x + w > width:
            x, y, shelf = 0, y + shelf + 1, 0
        place[i] = (y, x)
        x += w + 1
        shelf = max(shelf, h)
    canvas = np.zeros((y + shelf, width), dtype=np.int32)
    bases = np.zeros(len(todo), dtype=np.int64)
    base = 0
    for n, i in enumerate(todo):
        r = rasters[i]
        assert r is not None
        r0, c0 = place[i]
        bases[n] = base
        win = canvas[r0: r0 + r.shape[0], c0: c0 + r.shape[1]]
        win[...] = np.where(r > 0, r + base, 0)
        base += int(r.max())
    # every vertex at once: canvas pixel -> the building's grid, ring / polygon indices
    points: list[tuple[float, float]] = []
    ring_len: list[int] = []
    poly_rings: list[int] = []
    owner: list[tuple[int, int]] = []  # (canvas raster n, label) of each polygon
    for geom, val in _gdal_shapes(canvas, canvas > 0, connectivity, Affine.identity()):
        v = int(val)
        n = int(np.searchsorted(bases, v, side="left")) - 1  # the last raster whose base is below v
        owner.append((n, v - int(bases[n])))
        poly_rings.append(len(geom["coordinates"]))
        for ring in geom["coordinates"]:
            points.extend(ring)
            ring_len.append(len(ring))
    if not owner:
        return out
    xy = np.array(points, dtype=np.float64)
    own = np.array([n for n, _ in owner], dtype=np.int64)
    per_ring = np.repeat(own, poly_rings)
    per_pt = np.repeat(per_ring, ring_len)
    top = np.array([place[i][0] for i in todo], dtype=np.float64)[per_pt]
    left = np.array([place[i][1] for i in todo], dtype=np.float64)[per_pt]
    ox = np.array([origins[i][0] for i in todo])[per_pt]
    oy = np.array([origins[i][1] for i in todo])[per_pt]
    step = np.array([steps[i] for i in todo], dtype=np.float64)[per_pt]
    col, row = xy[:, 0] - left, xy[:, 1] - top
    # GDAL's geotransform: x = gt0 + col gt1 + row gt2, y = gt3 + col gt4 + row gt5
    xy[:, 0] = ox + col * step + row * 0.0
    xy[:, 1] = oy + col * 0.0 + row * -step
    rings = np.asarray(shapely.linearrings(xy, indices=np.repeat(np.arange(len(ring_len)), ring_len)))
    polys = np.asarray(shapely.polygons(rings, indices=np.repeat(np.arange(len(owner)), poly_rings)))
    for (n, label), poly in zip(owner, polys, strict=True):
        out[todo[n]].setdefault(label, []).append(poly)
    return out


def _tree_mask(z: np.ndarray, resid: np.ndarray, inside: np.ndarray, xs: np.ndarray, ys: np.ndarray,
               res: float) -> np.ndarray:
    """Pixels of the footprint under a tree's crown.

    Blobs standing more than ``TREE_MIN_ABOVE_ROOF_M`` above their face, of at least
    ``TREE_MIN_AREA_M2``, whose surface is not a horizontal plane (plane-fit RMS above
    ``TREE_MIN_PLANE_RMS_M`` or a slope above ``TREE_MIN_SLOPE_DEG``): a crown is a dome, while
    dormer and HVAC tops are flat and level, and chimneys are smaller.
    """
    high = inside & (np.nan_to_num(resid, nan=0.0) > config.TREE_MIN_ABOVE_ROOF_M)
    out = np.zeros_like(high)
    if not high.any():
        return out
    lab, _ = ndimage.label(high, structure=np.ones((3, 3), bool))
    min_px = config.TREE_MIN_AREA_M2 / (res * res)
    max_slope = math.tan(math.radians(config.TREE_MIN_SLOPE_DEG))
    for k, sl in enumerate(ndimage.find_objects(lab), start=1):
        if sl is None:
            continue
        m = lab[sl] == k
        if m.sum() < min_px:
            continue
        coef, rms = _fit_plane(xs[sl][m], ys[sl][m], z[sl][m].astype(np.float64), robust=False)
        if rms > config.TREE_MIN_PLANE_RMS_M or math.hypot(coef[0], coef[1]) > max_slope:
            out[sl] |= m
    return out


def _rim_mask(inside: np.ndarray, obstacle: np.ndarray) -> np.ndarray:
    """Obstacle pixels connected to the footprint's edge (parapets, acroteria)."""
    edge = inside & ~ndimage.binary_erosion(inside, structure=np.ones((3, 3), bool))
    olab, _ = ndimage.label(obstacle, structure=np.ones((3, 3), bool))
    touching = np.unique(olab[edge & obstacle])
    return np.isin(olab, touching[touching > 0])


def _roof_outline(footprint: Polygon | MultiPolygon, inside: np.ndarray, obstacle: np.ndarray,
                  res: float) -> Polygon | MultiPolygon:
    """The footprint, or, when a raised rim (parapet) runs along 3/4 of its edge or more, the part inside it.

    The rim's width w comes from its pixel area A and the outline's perimeter P (a band of width w
    inside a polygon: A = P w − 4 w² for a rectangle), so the face is traced at sub-pixel precision.
    """
    if not obstacle.any():
        return footprint
    edge = inside & ~ndimage.binary_erosion(inside, structure=np.ones((3, 3), bool))
    rim = _rim_mask(inside, obstacle)
    if (rim & edge).sum() < 0.75 * edge.sum():  # all around: a flat roof's parapet, not party walls
        return footprint
    area = float((rim & inside).sum()) * res * res
    perim = float(footprint.length)
    disc = perim * perim - 16.0 * area
    w = (perim - math.sqrt(disc)) / 8.0 if disc > 0 else area / perim
    inner = _polygonal(footprint.buffer(-w, join_style="mitre"))
    return footprint if inner.is_empty else inner


def _union(polys: list[Polygon]) -> BaseGeometry:
    """Union of polygons; a single one as it is (the intersections taken of it are then the same)."""
    return polys[0] if len(polys) == 1 else shapely.union_all(polys)


def _polygonal(g: BaseGeometry) -> Polygon | MultiPolygon:
    """Keep only the polygonal part of a geometry (intersections may yield lines or points)."""
    if g.is_empty:
        return Polygon()
    if isinstance(g, (Polygon, MultiPolygon)):
        return g
    polys = [p for p in getattr(g, "geoms", []) if isinstance(p, (Polygon, MultiPolygon)) and not p.is_empty]
    if not polys:
        return Polygon()
    u = shapely.union_all(polys)
    return u if isinstance(u, (Polygon, MultiPolygon)) else Polygon()


# ---------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------

def prepare_footprints(
    footprints: gpd.GeoDataFrame, dsm_crs: CRS | str, dsm_bounds: tuple[float, float, float, float],
    *, id_column: str = "cleabs",
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Check and clean footprints for a DSM: reproject, repair, drop empty, flag those outside.

    Returns the footprints (``building_id`` column added, ``status`` = ``ok`` or
    ``outside_dsm``) in the DSM's CRS, and the counts of problems met; each problem is logged
    as a warning with its count.
    """
    issues = dict.fromkeys(ISSUE_KEYS, 0)
    fps = footprints.copy()
    if fps.crs is None:
        fps = fps.set_crs(dsm_crs)
    elif CRS.from_user_input(fps.crs) != CRS.from_user_input(dsm_crs):
        issues["reprojected_footprints"] = len(fps)
        fps = fps.to_crs(dsm_crs)
    geom = fps.geometry
    empty = geom.isna() | geom.is_empty
    if empty.any():
        issues["empty_footprints"] = int(empty.sum())
        fps = fps[~empty].copy()
    invalid = ~fps.geometry.is_valid
    if invalid.any():
        issues["repaired_footprints"] = int(invalid.sum())
        fps.loc[invalid, fps.geometry.name] = shapely.make_valid(fps.geometry[invalid].values)
    fps[fps.geometry.name] = [_polygonal(g) for g in fps.geometry]
    nonpoly = fps.geometry.is_empty
    if nonpoly.any():
        issues["empty_footprints"] += int(nonpoly.sum())
        fps = fps[~nonpoly].copy()
    if id_column in fps.columns:
        ids = fps[id_column].astype(str)
    else:
        ids = pd.Series([f"bat-{i + 1}" for i in range(len(fps))], index=fps.index)
    dup = ids.duplicated(keep=False)
    if dup.any():
        ids = ids.where(~dup, ids + "_" + ids.groupby(ids).cumcount().astype(str))
    fps["building_id"] = ids.values
    xmin, ymin, xmax, ymax = dsm_bounds
    inside = fps.geometry.within(box(xmin, ymin, xmax, ymax))
    fps["status"] = np.where(inside, "ok", "outside_dsm")
    issues["outside_dsm"] = int((~inside).sum())
    for k, v in issues.items():
        if v:
            log.warning("footprints: %d %s", v, k.replace("_", " "))
    return fps.reset_index(drop=True), issues


def segment_roofs(
    dsm: np.ndarray,
    transform: Affine,
    footprints: gpd.GeoDataFrame,
    *,
    crs: CRS | str | None = None,
    id_column: str = "cleabs",
    noise_m: float | None = None,
) -> RoofSegmentation:
    """Split the roof of every footprint into planar faces.

    Parameters
    ----------
    dsm
        Surface heights [m], float, NaN = nodata, north-up square pixels.
    transform
        Pixel -> CRS transform of ``dsm``.
    footprints
        Building polygons (any CRS: reprojected to ``crs``); ``id_column`` gives the building id.
    crs
        The DSM's CRS (default: the footprints').
    id_column
        Column holding the building id (``cleabs`` for BD TOPO).
    noise_m
        The median 3 x 3 plane-fit residual over the building pixels [m], from which the noise
        and tolerances are derived; default: computed over this DSM's buildings (give it when
        segmenting a territory piece by piece, so every piece uses the territory's value).

    Returns
    -------
    RoofSegmentation
    """
    res = float(transform.a)
    rows, cols = dsm.shape
    crs = crs if crs is not None else footprints.crs
    bounds = (transform.c, transform.f + rows * transform.e, transform.c + cols * res, transform.f)
    fps, issues = prepare_footprints(footprints, crs, bounds, id_column=id_column)
    ok = fps["status"] == "ok"
    shapes_ = ((g, i + 1) for i, g in zip(np.flatnonzero(ok.to_numpy()), fps.geometry[ok], strict=True))
    group = rasterio.features.rasterize(
        shapes_, out_shape=(rows, cols), transform=transform, fill=0, dtype="int32",
    ) if ok.any() else np.zeros((rows, cols), np.int32)
    z = dsm.astype(np.float64)
    gx, gy, rms = local_planes(z, res, group)
    in_b = (group > 0) & np.isfinite(rms)
    if noise_m is not None:
        noise = float(noise_m)
    else:
        noise = float(np.median(rms[in_b])) if in_b.any() else 0.0
    # residual RMS of a 3 x 3 fit on a plane with noise σ: median ~0.77 σ; twice the median flags
    # 0.2 % of planar pixels but catches ridges (a 20° ridge gives ~0.09 m at 0.5 m pixels)
    good_thr = max(0.03, 2.0 * noise)
    sigma = noise / 0.816  # height noise [m] estimated from the fits' residuals
    # pixels rejected by a tight tolerance only miss the plane fit (they are filled later), while a
    # loose one lets regions leak across ridges: 4 σ, capped
    dtol = min(max(config.SEGMENT_DISTANCE_TOLERANCE_M, 4.0 * sigma), 0.25)
    # noise of a 3 x 3 normal: σ / (√6 res) per slope component
    atol = max(config.SEGMENT_NORMAL_TOLERANCE_DEG, 2.5 * math.degrees(math.atan(math.sqrt(2) * sigma / (math.sqrt(6) * res))))
    good = in_b & (rms < good_thr)
    flat_idx = np.flatnonzero(good & (rms <= max(0.02, 1.5 * noise)))  # seeds: the most planar pixels
    order = flat_idx[np.argsort(rms.ravel()[flat_idx], kind="stable")].astype(np.int64)
    regions = _grow_regions(
        z, group, np.nan_to_num(gx), np.nan_to_num(gy), good, order, res, dtol,
        math.cos(math.radians(atol)),
    )
    params = _Params(
        res=res, dtol=dtol, min_region_px=max(3, int(config.SEGMENT_MIN_REGION_M2 / res**2)),
        min_face_m2=config.SEGMENT_MIN_FACE_M2, merge_deg=config.SEGMENT_MERGE_ANGLE_DEG,
        obstacle_h=max(config.OBSTACLE_MIN_HEIGHT_M, 4.0 * sigma),
        clearance=config.OBSTACLE_CLEARANCE_M, setback=config.ROOF_EDGE_SETBACK_M,
        flat_deg=config.FLAT_ROOF_MAX_TILT_DEG, subpixels=config.SEGMENT_SUBPIXELS, noise=sigma,
    )
    face_pixels = np.zeros((rows, cols), np.int32)
    sample_pixels = np.zeros((rows, cols), np.int32)
    records: list[dict[str, object]] = []
    status = fps["status"].to_numpy().copy()
    geoms, bids = fps.geometry.to_numpy(), fps["building_id"].to_numpy()
    slices = ndimage.find_objects(group)
    # buildings are segmented up to their face outlines, then polygonized a batch at a time
    pending: list[tuple[int, int, int, _Faces | _Outlines]] = []

    def flush() -> None:
        outl = [st for *_, st in pending if isinstance(st, _Outlines)]
        polys = iter(zip(*_polygonize_many(outl), strict=True)) if outl else iter(())
        for bi, r0, c0, st in pending:
            recs, lab, interior = st.finish(*next(polys)) if isinstance(st, _Outlines) else st
            if not recs:
                status[bi] = "no_face"
                continue
            base = len(records)
            bid = bids[bi]
            for rec in recs:
                rec["building_id"] = bid
                rec["face_id"] = f"{bid}-{rec['face_n']}"
            records.extend(recs)
            fw = face_pixels[r0:r0 + lab.shape[0], c0:c0 + lab.shape[1]]
            fw[lab > 0] = lab[lab > 0] + base
            sw = sample_pixels[r0:r0 + lab.shape[0], c0:c0 + lab.shape[1]]
            sw[interior > 0] = interior[interior > 0] + base
        pending.clear()

    for bi in range(len(fps)):
        if status[bi] != "ok":
            continue
        sl = slices[bi] if bi < len(slices) else None
        if sl is None:
            status[bi] = "no_valid_pixel"
            continue
        r0, r1 = max(sl[0].start - 2, 0), min(sl[0].stop + 2, rows)
        c0, c1 = max(sl[1].start - 2, 0), min(sl[1].stop + 2, cols)
        inside = group[r0:r1, c0:c1] == bi + 1
        zw = z[r0:r1, c0:c1]
        if np.isfinite(zw[inside]).sum() < 3:
            status[bi] = "no_valid_pixel"
            continue
        origin = transform @ (c0, r0)
        st = _segment_start(
            zw, inside, regions[r0:r1, c0:c1], geoms[bi], (float(origin[0]), float(origin[1])), params,
        )
        pending.append((bi, r0, c0, st))
        if len(pending) >= _POLYGONIZE_BATCH:
            flush()
    flush()
    issues["no_valid_pixel"] = int((status == "no_valid_pixel").sum())
    if issues["no_valid_pixel"]:
        log.warning("roofs: %d building(s) with no valid DSM pixel", issues["no_valid_pixel"])
    fps["status"] = status
    columns = ["face_id", "building_id", "face_n", "tilt_deg", "azimuth_deg", "is_flat", "area_m2",
               "footprint_area_m2", "obstacle_area_m2", "usable_area_m2", "plane_rms_m", "n_obstacle_px",
               "plane_a", "plane_b", "plane_c", "tree_area_m2", "usable_geometry", "geometry"]
    faces = gpd.GeoDataFrame(
        pd.DataFrame.from_records(records, columns=columns), geometry="geometry", crs=crs,
    )
    return RoofSegmentation(faces, fps, face_pixels, sample_pixels, issues)


def first_pixel_key(g: BaseGeometry) -> tuple[float, float]:
    """(−top, left) of an outline's first pixel in raster scan order (its top-left vertex): the order
    buildings detected from the DSM are numbered in."""
    top = g.bounds[3]
    xy = shapely.get_coordinates(g)
    return (-top, float(xy[np.abs(xy[:, 1] - top) < 1e-9, 0].min()))
