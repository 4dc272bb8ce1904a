"""Split terraced rows into houses when no footprints are given (DSM − DTM only).

A row of terraced houses is one blob above the terrain. The DSM still shows where one house ends:
a party wall rising above the roofs, or the roof stepping up or down (houses built and re-roofed
one by one). Per blob:

1. The roof planes are fitted (:func:`geo.roofs.segmentation.segment_roofs` on the blob); each
   pixel's residual to its face's plane [m] removes the roof's shape (slopes, hips, valleys).
2. Along the blob's long axis (its minimum rotated rectangle), the median residual across the
   depth is taken every 0.5 m: the *profile*. A median across the depth ignores chimneys,
   dormers and skylights, which cover a small part of it.
3. A *party wall* is a bump of the profile at least ``ROW_WALL_MIN_M`` above the profile around
   it, at most ``ROW_WALL_MAX_WIDTH_M`` wide; a *step* is a jump of at least ``ROW_STEP_MIN_M``
   between the profile's medians over ``ROW_STEP_WINDOW_M`` on either side. Both must also stand
   ``ROW_MIN_SIGMAS`` standard errors out of the noise.
4. The blob is cut across its long axis at the walls and steps (strongest first), keeping
   pieces at least ``ROW_MIN_HOUSE_M`` long.
5. A row is built with houses of one width (a coron is one plan repeated): when the cuts found
   all fall, within a tolerance, on the boundaries of n equal houses, the row is cut into those n
   houses (:func:`module_cuts`): the cuts are put back on the module (a chimney stack or a dormer
   beside a party wall moves a detected cut by up to a metre), and a boundary that neither a wall
   nor a step shows is put where the module says.

Without any sign (a row under one continuous roof, no cut at all) the row stays whole: the DSM
cannot tell. Cadastral parcels can: :func:`split_by_parcels` cuts the blobs along parcel
boundaries first (each piece one dwelling) when the parcels are given.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import rasterio.features
import shapely
from affine import Affine
from scipy import ndimage
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from geo import config
from geo.roofs.segmentation import _polygonal, segment_roofs


def _frame(poly: BaseGeometry) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """Centre, unit long axis, unit short axis of the minimum rotated rectangle; its length and width."""
    xy = shapely.get_coordinates(shapely.minimum_rotated_rectangle(poly))[:4]
    e1, e2 = xy[1] - xy[0], xy[2] - xy[1]
    l1, l2 = float(np.hypot(*e1)), float(np.hypot(*e2))
    if l1 < l2:
        e1, e2, l1, l2 = e2, e1, l2, l1
    c = xy.mean(axis=0)
    return c, e1 / max(l1, 1e-9), e2 / max(l2, 1e-9), l1, l2


def profile_cuts(u: np.ndarray, r: np.ndarray, length_m: float, *, bin_m: float = 0.5,
                 noise_m: float = 0.05) -> list[float]:
    """Positions along the long axis (u, from the blob's centre) [m] where the residual profile shows a
    party wall or a step (module docstring, steps 2-4)."""
    if u.size == 0:
        return []
    lo = -length_m / 2
    nb = int(math.ceil(length_m / bin_m))
    k = np.clip(((u - lo) / bin_m).astype(int), 0, nb - 1)
    prof = np.full(nb, np.nan)
    cnt = np.bincount(k, minlength=nb)
    order = np.argsort(k, kind="stable")
    splits = np.searchsorted(k[order], np.arange(nb + 1))
    for b in range(nb):
        if cnt[b] >= 4:
            prof[b] = float(np.median(r[order[splits[b]:splits[b + 1]]]))
    centres = lo + (np.arange(nb) + 0.5) * bin_m
    se = 1.25 * noise_m / np.sqrt(np.maximum(cnt, 1))  # standard error of a bin's median
    cand: list[tuple[float, float]] = []  # (strength in standard errors, position)
    w = int(round(config.ROW_STEP_WINDOW_M / bin_m))
    ww = max(1, int(round(config.ROW_WALL_MAX_WIDTH_M / bin_m)))
    walls = np.zeros(nb, dtype=bool)
    for b in range(nb):
        if not np.isfinite(prof[b]):
            continue
        # a wall: bump over the profile beyond ±(wall width) and within ±(wall width + window)
        left = prof[max(0, b - ww - w): max(0, b - ww)]
        right = prof[b + ww + 1: b + ww + 1 + w]
        around = np.concatenate([left, right])
        around = around[np.isfinite(around)]
        if left.size and right.size and around.size >= 2 * w - 2:
            bump = prof[b] - float(np.median(around))
            s_bump = bump / (se[b] + 1.25 * noise_m / math.sqrt(max(around.size, 1) * 4.0))
            if bump >= config.ROW_WALL_MIN_M and s_bump >= config.ROW_MIN_SIGMAS:
                cand.append((float(s_bump), float(centres[b])))
                walls[max(0, b - ww): b + ww + 1] = True
    # steps on the profile without the walls: a wall inside a window would read as a step beside it
    flat = np.where(walls, np.nan, prof)
    for b in range(w, nb - w + 1):
        a_, c_ = flat[b - w: b], flat[b: b + w]
        a_, c_ = a_[np.isfinite(a_)], c_[np.isfinite(c_)]
        if a_.size >= w - 1 and c_.size >= w - 1:
            jump = abs(float(np.median(c_)) - float(np.median(a_)))
            s_jump = jump / (float(np.median(se[b - w: b + w])) * math.sqrt(2.0 / w) * 1.25)
            if jump >= config.ROW_STEP_MIN_M and s_jump >= config.ROW_MIN_SIGMAS:
                cand.append((float(s_jump), float(lo + b * bin_m)))
    cuts: list[float] = []
    for _, pos in sorted(cand, key=lambda t: (-t[0], t[1])):
        if pos - lo < config.ROW_MIN_HOUSE_M or length_m / 2 - pos < config.ROW_MIN_HOUSE_M:
            continue
        if any(abs(pos - c) < config.ROW_MIN_HOUSE_M for c in cuts):
            continue
        cuts.append(pos)
    return sorted(cuts)


def module_cuts(cuts: list[float], length_m: float) -> list[float]:
    """``cuts`` [m from the row's centre, row ``length_m`` long] put on the row's house module, with the
    boundaries the DSM does not show added (module docstring, step 5).

    For n = 2, 3 … houses of width w = length / n (``ROW_MIN_HOUSE_M`` ≤ w ≤ ``ROW_MODULE_MAX_M``),
    the n - 1 boundaries of equal houses are a lattice; the first n whose lattice explains every
    cut (each cut on its own lattice point, within ``ROW_MODULE_MAX_ERROR`` x w, median error
    within ``ROW_MODULE_MEDIAN_ERROR`` x w) gives the houses. At least ``ROW_MODULE_MIN_CUTS`` cuts
    are needed (two boundaries a module apart); otherwise, or when no lattice fits (houses of
    different widths), the cuts are returned unchanged.
    """
    c = np.sort(np.asarray(cuts, dtype=float))
    if c.size < config.ROW_MODULE_MIN_CUTS:
        return [float(x) for x in c]
    for n in range(2, int(length_m // config.ROW_MIN_HOUSE_M) + 1):
        w = length_m / n
        if w > config.ROW_MODULE_MAX_M:
            continue
        lattice = -length_m / 2 + w * np.arange(1, n)
        d = np.abs(c[:, None] - lattice[None, :])
        nearest = d.argmin(axis=1)
        err = d.min(axis=1)
        if (len(set(nearest.tolist())) == c.size and bool((err <= config.ROW_MODULE_MAX_ERROR * w).all())
                and float(np.median(err)) <= config.ROW_MODULE_MEDIAN_ERROR * w):
            return [float(x) for x in lattice]
    return [float(x) for x in c]


def _cut(poly: BaseGeometry, centre: np.ndarray, e1: np.ndarray, e2: np.ndarray, cuts: list[float],
         big: float) -> list[BaseGeometry]:
    edges = [-big, *cuts, big]
    out = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        corners = [centre + a * e1 - big * e2, centre + b * e1 - big * e2, centre + b * e1 + big * e2,
                   centre + a * e1 + big * e2]
        piece = poly.intersection(Polygon(corners))
        if not piece.is_empty:
            out.append(piece)
    return out


def _orientation_residuals(faces: gpd.GeoDataFrame, face_of: np.ndarray, on_face: np.ndarray, x: np.ndarray,
                           y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Residual [m] of each pixel to one plane per orientation: faces of the blob whose normals are
    within ``SEGMENT_MERGE_ANGLE_DEG`` share a plane refitted on all their face pixels (so a roof
    stepping between houses, split into faces at the steps, shows the steps). ``face_of``: each
    pixel's face (row of ``faces``); the plane is fitted on the ``on_face`` pixels and evaluated on
    all (party walls and ridges, which belong to no face, take their nearest face's plane)."""
    from geo.roofs.segmentation import _angle_deg, _fit_plane

    planes = faces[["plane_a", "plane_b", "plane_c"]].to_numpy(float)
    group = -np.ones(len(faces), dtype=int)
    for i in range(len(faces)):
        if group[i] >= 0:
            continue
        group[i] = i
        for j in range(i + 1, len(faces)):
            if group[j] < 0 and _angle_deg(planes[i], planes[j]) <= config.SEGMENT_MERGE_ANGLE_DEG:
                group[j] = i
    g_of_px = group[face_of]
    r = np.full(z.size, np.nan)
    xm, ym = x.mean(), y.mean()
    for g in np.unique(g_of_px):
        m = (g_of_px == g) & np.isfinite(z)
        fit = m & on_face
        if fit.sum() < 3:
            continue
        coef, _ = _fit_plane(x[fit] - xm, y[fit] - ym, z[fit])
        r[m] = z[m] - (coef[0] * (x[m] - xm) + coef[1] * (y[m] - ym) + coef[2])
    return r


def split_by_parcels(blobs: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The detected outlines ``blobs`` (``building_id``, geometry) cut along cadastral parcel boundaries.

    A blob is cut when at least two parcels each hold a piece of it of at least
    ``PARCEL_MIN_PIECE_M2`` (a plausible dwelling); the rest of the blob (slivers of other parcels,
    overhangs over the street, which belongs to no parcel) joins the piece it shares the longest
    border with. Pieces are numbered ``{id}-{k}``; other blobs are returned whole. ``parcels`` in
    the blobs' CRS (:func:`geo.io.cadastre.read_parcels`). Column ``by_parcel``: the outline is a
    parcel's piece of a blob (True) or a whole blob.
    """
    if len(blobs) == 0 or len(parcels) == 0:
        return blobs.assign(by_parcel=False)
    pgeoms = parcels.geometry.to_numpy()
    tree = shapely.STRtree(pgeoms)
    out_ids: list[str] = []
    out_geoms: list[BaseGeometry] = []
    cut: list[bool] = []
    for bid, poly in zip(blobs["building_id"], blobs.geometry, strict=True):
        pieces = [_polygonal(poly.intersection(pgeoms[int(k)]))
                  for k in tree.query(poly, predicate="intersects")]
        big = [p for p in pieces if p.area >= config.PARCEL_MIN_PIECE_M2]
        if len(big) < 2:
            out_ids.append(str(bid))
            out_geoms.append(poly)
            cut.append(False)
            continue
        rest = poly.difference(shapely.union_all(big))
        for part in getattr(rest, "geoms", [rest]):
            if part.is_empty or part.area <= 0:
                continue
            shared = [p.boundary.intersection(part.buffer(1e-6)).length for p in big]
            near = [p.distance(part) for p in big]
            k = int(np.argmax(shared)) if max(shared) > 0 else int(np.argmin(near))
            big[k] = _polygonal(shapely.union_all([big[k], part]))
        for k, piece in enumerate(big, start=1):
            out_ids.append(f"{bid}-{k}")
            out_geoms.append(piece)
            cut.append(True)
    return gpd.GeoDataFrame({"building_id": out_ids, "by_parcel": cut}, geometry=out_geoms, crs=blobs.crs)


def split_rows(blobs: gpd.GeoDataFrame, dsm: np.ndarray, transform: Affine, *,
               house_module: bool = True) -> gpd.GeoDataFrame:
    """The detected outlines ``blobs`` (``building_id``, geometry in the DSM's CRS), terraced rows cut
    into houses where the DSM shows party walls or steps; pieces are numbered ``{id}-{k}`` from one
    end of the row (a blob left whole keeps its id). Each blob is read on its own window (its
    result does not depend on the other blobs)."""
    if len(blobs) == 0:
        return blobs
    out_ids: list[str] = []
    out_geoms: list[BaseGeometry] = []
    for bid, poly in zip(blobs["building_id"], blobs.geometry, strict=True):
        centre, e1, e2, length, width = _frame(poly)
        cuts = _blob_cuts(str(bid), poly, dsm, transform, blobs.crs) if width <= config.ROW_MAX_DEPTH_M else []
        if house_module:
            cuts = module_cuts(cuts, length)
        if not cuts:
            out_ids.append(str(bid))
            out_geoms.append(poly)
            continue
        for k, piece in enumerate(_cut(poly, centre, e1, e2, cuts, length + width), start=1):
            out_ids.append(f"{bid}-{k}")
            out_geoms.append(piece)
    return gpd.GeoDataFrame({"building_id": out_ids}, geometry=out_geoms, crs=blobs.crs)


def _blob_cuts(bid: str, poly: BaseGeometry, dsm: np.ndarray, transform: Affine, crs: object) -> list[float]:
    """Cut positions along the blob's long axis [m from its centre] (module docstring)."""
    centre, e1, _, length, _ = _frame(poly)
    if length < 2 * config.ROW_MIN_HOUSE_M:
        return []
    res = float(transform.a)
    rows, cols = dsm.shape
    x0, y0, x1, y1 = poly.bounds
    c0, r0 = (~transform) @ (x0, y1)
    c1, r1 = (~transform) @ (x1, y0)
    rs = slice(max(int(r0) - 3, 0), min(int(math.ceil(r1)) + 3, rows))
    cs = slice(max(int(c0) - 3, 0), min(int(math.ceil(c1)) + 3, cols))
    tr = transform @ Affine.translation(cs.start, rs.start)
    z_win = dsm[rs, cs]
    seg = segment_roofs(z_win, tr, gpd.GeoDataFrame({"building_id": [bid]}, geometry=[poly], crs=crs),
                        crs=crs, id_column="building_id")  # type: ignore[arg-type]
    faces = seg.faces
    if not len(faces):
        return []
    lab = seg.face_pixels
    on_face = lab > 0
    if on_face.sum() <= 20:
        return []
    inside = rasterio.features.rasterize([poly], out_shape=z_win.shape, transform=tr, dtype="uint8") > 0
    _, (ir, ic) = ndimage.distance_transform_edt(~on_face, return_indices=True)
    rr, cc = np.nonzero(inside)
    x = tr.c + (cc + 0.5) * res
    y = tr.f - (rr + 0.5) * res
    z = z_win[inside].astype(np.float64)
    r = _orientation_residuals(faces, lab[ir[inside], ic[inside]] - 1, on_face[inside], x, y, z)
    fin = np.isfinite(r)
    u = (x - centre[0]) * e1[0] + (y - centre[1]) * e1[1]
    noise = float(np.median(faces["plane_rms_m"]))
    return profile_cuts(u[fin], r[fin], length, bin_m=res, noise_m=max(noise, 0.01))
