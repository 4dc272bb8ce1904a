"""Reconcile building footprints with the surface model before segmentation.

Real footprints (BD TOPO, cadastre, OSM) miss the LiDAR roofs: a cadastral sheet's
georeferencing shifts them by 0.5-1.5 m, walls are drawn where the roof overhangs them, some are
demolished. The roof's real outline is found near each footprint from the DSM:

1. Evidence per pixel: *roof* where the DSM stands more than ``BUILDING_MIN_HEIGHT_M`` above the
   ground (the DTM, or without one a low percentile of the DSM around the block) and is planar
   or next to a planar pixel (3 x 3 plane fit: trees' crowns are rough); *ground* where it stands
   less than 1 m above it; nothing elsewhere (trees, nodata, low walls) and inside other
   blocks' footprints.
2. Footprints touching each other form a *block* (a terraced row): the block is moved by
   (dx, dy) and its outer walls by ``grow`` (a mitred buffer), the model of how a cadastre
   misdraws a row; the (dx, dy, grow) maximising Σ roof − Σ ground over the pixel centres inside
   the moved outline is searched on a 0.25 m grid up to ``RECONCILE_MAX_SHIFT_M`` and
   ±``RECONCILE_MAX_GROW_M``, then refined to 0.05 m, each coordinate at the centre of its best
   plateau (with pixel-centre evidence, the middle between the last roof and the first ground
   pixel).
3. Each footprint keeps its identity: it moves with its block, its outer walls follow the block's
   new outline and its party walls stay shared. A footprint whose moved outline is less than
   ``RECONCILE_MIN_ROOF_SHARE`` roof is flagged ``no_roof`` (demolished, or not in the survey)
   and left unchanged.

The result is given per building as data-quality figures (``dq_*`` columns): the offset found
[m], the outer-wall move [m] and the share of the original footprint that is roof.

Pure functions on arrays and geometries; the roofs stage reads the DSM windows.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from scipy import ndimage
from shapely.affinity import translate
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo import config
from geo.types import TaskMap, serial_map

Bounds = tuple[float, float, float, float]
#: A reader of the DSM (and DTM, or None) over given bounds: (dsm, dtm, transform), or None without data.
WindowReader = Callable[[Bounds], "tuple[np.ndarray, np.ndarray | None, Affine] | None"]

#: Data-quality columns added to the footprints (see docs/data-dictionary.md).
QUALITY_COLUMNS = ("dq_offset_m", "dq_outline_change_m", "dq_roof_share")
#: Footprints closer than this [m] are one block (a terraced row); algorithmic choice.
_BLOCK_GAP_M = 0.3
#: Height above the ground [m] below which a pixel is ground evidence.
_GROUND_MAX_M = 1.0
#: Margin [m] of DSM read around a block beyond the search range.
_MARGIN_M = 2.0


@dataclass(frozen=True)
class BlockFit:
    """The move found for a block: offset (dx, dy) [m], outer-wall move ``grow_m`` [m] and the
    share of roof evidence in the original and in the moved outline."""

    dx_m: float
    dy_m: float
    grow_m: float
    roof_share_before: float
    roof_share_after: float
    outline: BaseGeometry

    @property
    def offset_m(self) -> float:
        return math.hypot(self.dx_m, self.dy_m)


def footprint_blocks(geoms: np.ndarray, gap_m: float = _BLOCK_GAP_M) -> np.ndarray:
    """Block number of each footprint: connected components of footprints within ``gap_m``."""
    n = len(geoms)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=gap_m)
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    _, lab = connected_components(coo_matrix((np.ones(left.size), (left, right)), shape=(n, n)), directed=False)
    return np.asarray(lab, dtype=np.int64)


def evidence(dsm: np.ndarray, ground: np.ndarray | float, res_m: float, noise_m: float,
             rms: np.ndarray | None = None) -> np.ndarray:
    """+1 roof, −1 ground, 0 unknown per pixel (see the module's step 1); ``rms``: the DSM's
    3 x 3 plane-fit residuals [m] (:func:`geo.roofs.segmentation.local_planes`) if already known."""
    from geo.roofs.segmentation import local_planes

    z = dsm.astype(np.float64)
    h = z - ground
    if rms is None:
        _, _, rms = local_planes(z, res_m)
    high = np.nan_to_num(h, nan=-np.inf) > config.RECONCILE_MIN_HEIGHT_M
    planar = high & (np.nan_to_num(rms, nan=9.0) < max(config.BUILDING_MAX_PLANE_RMS_M / 2.5, 2.5 * noise_m))
    core = ndimage.binary_opening(planar, structure=np.ones((3, 3), bool))
    roof = high & ndimage.binary_dilation(core, structure=np.ones((3, 3), bool), iterations=2)
    low = np.isfinite(h) & (h < _GROUND_MAX_M)
    return np.where(roof, 1, np.where(low, -1, 0)).astype(np.int8)


def moved_outline(block: BaseGeometry, dx: float, dy: float, grow: float) -> BaseGeometry:
    """The block moved by (dx, dy) [m] with its outer walls moved out by ``grow`` [m]."""
    g = translate(block, dx, dy)
    return g.buffer(grow, join_style="mitre", mitre_limit=3.0) if grow != 0.0 else g


def fit_block(block: BaseGeometry, xs: np.ndarray, ys: np.ndarray, w: np.ndarray) -> BlockFit:
    """Search (dx, dy, grow) for ``block`` given evidence ``w`` (+1 / −1) at points (xs, ys) [m], then
    snap each edge of the moved outline (:func:`snap_edges`)."""
    smax, gmax = config.RECONCILE_MAX_SHIFT_M, config.RECONCILE_MAX_GROW_M

    def score(p: tuple[float, float, float]) -> float:
        g = moved_outline(block, *p)
        if g.is_empty:
            return -math.inf
        return float(w[shapely.contains_xy(g, xs, ys)].sum())

    step = 0.25
    grows, shifts, cand = _candidates(smax, gmax, step)
    scores = _lattice_scores(block, xs, ys, w, step, grows, shifts)
    if scores is None:  # the pixels are not on a lattice of the step: one polygon test per candidate
        scores = np.array([score((float(dx), float(dy), float(g))) for dx, dy, g in cand])
    # the best moves form a plateau (a footprint smaller than the roof fits anywhere inside it):
    # its centre
    best = scores.max()
    top = cand[scores >= best - 1e-9]
    coarse_fit = (float(top[:, 0].mean()), float(top[:, 1].mean()), float(top[:, 2].mean()))
    in0 = shapely.contains_xy(block, xs, ys)  # = the unmoved candidate's test (the same coordinates)
    fits = (float(w[in0].sum()) if not block.is_empty else -math.inf) >= best - 1e-9  # it fits the DSM best
    if fits:
        coarse_fit = (0.0, 0.0, 0.0)
    outline = snap_edges(moved_outline(block, *coarse_fit), xs, ys, w, keep=fits)
    # the offset and outer-wall move that best explain the snapped outline (reported figures)
    c0, c1 = block.centroid, outline.centroid
    dx, dy = c1.x - c0.x, c1.y - c0.y
    grow = (outline.length and (outline.area - block.area) / (0.5 * (outline.length + block.length)))
    return BlockFit(round(dx, 3), round(dy, 3), round(float(grow), 3), _share_of(in0, w),
                    _share(outline, xs, ys, w), outline)


@functools.lru_cache(maxsize=4)
def _candidates(smax: float, gmax: float, step: float) -> tuple[list[float], list[tuple[float, float]], np.ndarray]:
    """The coarse search's grows [m], shifts (dx, dy) [m] and candidates (dx, dy, grow), grow-major
    (an array, read-only: shared by every block)."""
    grid = np.arange(-smax, smax + 1e-9, step)
    shifts = [(float(dx), float(dy)) for dx in grid for dy in grid if math.hypot(dx, dy) <= smax + 1e-9]
    grows = [float(g) for g in np.arange(-gmax + 0.25, gmax - 0.25 + 1e-9, 0.5)]
    cand = np.array([(dx, dy, g) for g in grows for dx, dy in shifts])
    cand.flags.writeable = False
    return grows, shifts, cand


def _lattice_scores(block: BaseGeometry, xs: np.ndarray, ys: np.ndarray, w: np.ndarray, step: float,
                    grows: list[float], shifts: list[tuple[float, float]]) -> np.ndarray | None:
    """Score of every candidate (grow-major, then shift), as ``fit_block``'s ``score`` would give it.

    The block moved by (dx, dy) contains a pixel centre p exactly when the unmoved block contains
    p − (dx, dy). The pixel centres and the shifts lie on one lattice of pitch ``step`` [m], so each
    grown outline is tested once on that lattice around the pixels, and the scores of all shifts
    are a correlation of that table with the evidence (by FFT): 3 polygon tests of a few thousand
    points instead of ~340 of the pixels.
    Returns None when the pixels are not on such a lattice (then the caller tests each candidate).
    """
    if xs.size == 0:
        return None
    x0, y0 = float(xs.min()), float(ys.min())
    fx, fy = (xs - x0) / step, (ys - y0) / step
    ix, iy = np.rint(fx).astype(np.int64), np.rint(fy).astype(np.int64)
    if np.abs(fx - ix).max() > 1e-6 or np.abs(fy - iy).max() > 1e-6:
        return None
    sh = np.rint(np.asarray(shifts) / step).astype(np.int64)  # (n, 2) lattice steps
    pad = int(np.abs(sh).max()) if sh.size else 0
    kx = np.arange(-pad, int(ix.max()) + pad + 1)
    ky = np.arange(-pad, int(iy.max()) + pad + 1)
    gx, gy = np.meshgrid(x0 + kx * step, y0 + ky * step)
    # with whole evidence values the sums are integers: one FFT correlation per outline, rounded
    whole = bool(np.all(w == np.rint(w))) and float(np.abs(w).sum()) < 2.0**40
    corr = _Correlator(ix, iy, w, pad, ky.size, kx.size) if whole else None
    out = np.empty(len(grows) * len(shifts))
    # the grown outlines are nested (an outline grown less lies inside one grown more): from the
    # largest down, only the lattice points inside the previous outline are tested
    insides: dict[int, np.ndarray] = {}
    maybe: np.ndarray | None = None  # the lattice points that may be inside (None: all)
    for k in sorted(range(len(grows)), key=lambda k: -grows[k]):
        outline = moved_outline(block, 0.0, 0.0, grows[k])
        if outline.is_empty:
            out[k * len(shifts):(k + 1) * len(shifts)] = -math.inf
            continue
        if maybe is None:
            inside = np.asarray(shapely.contains_xy(outline, gx, gy), dtype=bool)
        else:
            inside = np.zeros(gx.shape, dtype=bool)
            inside[maybe] = shapely.contains_xy(outline, gx[maybe], gy[maybe])
        insides[k] = maybe = inside
    tables = corr(list(insides.values())) if corr is not None and insides else None
    for n, (k, inside) in enumerate(insides.items()):
        part = out[k * len(shifts):(k + 1) * len(shifts)]
        table = tables[n] if tables is not None else None
        if table is not None:
            # the score of shift (i, j) lattice steps: table[pad − j, pad − i]
            part[:] = table[pad - sh[:, 1], pad - sh[:, 0]]
        else:  # p − (dx, dy) sits at lattice row iy − j + pad, column ix − i + pad
            rows = iy[None, :] - sh[:, 1:2] + pad
            cols = ix[None, :] - sh[:, 0:1] + pad
            part[:] = (inside[rows, cols] * w[None, :]).sum(axis=1)
    return out


class _Correlator:
    """``table[a, b] = Σ_p w_p · inside[iy_p + a, ix_p + b]`` for a, b in [0, 2·pad], by FFT.

    The evidence's transform is made once and reused for every outline. The sums of whole
    values are whole: the FFT's result is rounded, and refused (None: the caller gathers) if
    any entry is not within 1e-3 of a whole number (it is within ~1e-9 in practice)."""

    def __init__(self, ix: np.ndarray, iy: np.ndarray, w: np.ndarray, pad: int, rows: int, cols: int) -> None:
        from scipy import fft

        self.fft = fft
        # circular correlation without wrap on the 2·pad + 1 valid lags: any size ≥ the lattice's
        self.shape = (fft.next_fast_len(rows, real=True), fft.next_fast_len(cols, real=True))
        img = np.zeros(self.shape)
        np.add.at(img, (iy, ix), w)
        self.conj_w = np.conj(fft.rfft2(img))
        self.n = 2 * pad + 1

    def __call__(self, insides: list[np.ndarray]) -> list[np.ndarray | None]:
        """The tables of several ``inside`` masks (all of the lattice's shape), in one transform."""
        f = self.fft.rfft2(np.array(insides, dtype=np.float64), s=self.shape, axes=(-2, -1))
        c = self.fft.irfft2(f * self.conj_w, s=self.shape, axes=(-2, -1))[:, : self.n, : self.n]
        r = np.rint(c)
        return [rk + 0.0 if float(np.abs(ck - rk).max(initial=0.0)) <= 1e-3 else None  # + 0.0: no −0.0
                for ck, rk in zip(c, r, strict=True)]


def snap_edges(outline: BaseGeometry, xs: np.ndarray, ys: np.ndarray, w: np.ndarray,
               *, reach_m: float = 0.6, keep: bool = False) -> BaseGeometry:
    """Move each edge of ``outline`` along its normal to the middle between the last roof and the
    first ground evidence (pixel centres within ``reach_m`` of it, away from its ends), by at
    most ``reach_m`` (with ``keep``, not at all if it already lies between them: a footprint that
    fits the DSM keeps its exact edges); vertices are the intersections of the moved edge lines."""
    parts = list(getattr(outline, "geoms", [outline]))
    out = []
    for part in parts:
        if not isinstance(part, Polygon) or part.is_empty:
            continue
        ring = shapely.geometry.polygon.orient(part, 1.0).exterior
        v = np.asarray(ring.coords)[:-1]
        n = len(v)
        d = np.roll(v, -1, axis=0) - v
        length = np.hypot(d[:, 0], d[:, 1])
        ok = length > 1e-9
        t_dir = np.where(ok[:, None], d / np.where(ok, length, 1.0)[:, None], 0.0)
        normal = np.column_stack([t_dir[:, 1], -t_dir[:, 0]])  # outward for a counter-clockwise ring
        moves = np.zeros(n)
        for i in range(n):
            if length[i] < 1.0:
                continue
            rel = np.column_stack([xs - v[i, 0], ys - v[i, 1]])
            along = rel @ t_dir[i]
            across = rel @ normal[i]
            sel = (along > 0.4) & (along < length[i] - 0.4) & (np.abs(across) < reach_m + 0.3)
            if (w[sel] > 0).sum() < 2 or (w[sel] < 0).sum() < 2:
                continue
            moves[i] = _best_cut(across[sel], w[sel], reach_m, keep)
        lines_p = v + moves[:, None] * normal
        new = np.empty_like(v)
        for i in range(n):
            j = (i - 1) % n  # edge before vertex i
            a1, n1 = lines_p[j], normal[j]
            a2, n2 = lines_p[i], normal[i]
            m = np.array([n1, n2])
            if abs(np.linalg.det(m)) < 1e-6:
                new[i] = v[i] + 0.5 * (moves[i] + moves[j]) * normal[i]
            else:
                new[i] = np.linalg.solve(m, np.array([n1 @ a1, n2 @ a2]))
        poly: Polygon | MultiPolygon = Polygon(new)
        if not poly.is_valid:
            poly = _polygonal(shapely.make_valid(poly))
        out.append(poly)
    return _polygonal(shapely.union_all(out)) if out else outline


def _best_cut(s: np.ndarray, w: np.ndarray, reach_m: float, keep: bool = False) -> float:
    """The position t in [−reach, reach] maximising Σ w over s < t; the middle of the best gap."""
    order = np.argsort(s, kind="stable")
    s, w = s[order], w[order]
    cand_lo = np.concatenate([[-reach_m], s])
    cand_hi = np.concatenate([s, [reach_m]])
    gain = np.concatenate([[0.0], np.cumsum(w)])  # Σ w of the points below a cut in each gap
    lo, hi = np.maximum(cand_lo, -reach_m), np.minimum(cand_hi, reach_m)
    valid = hi > lo
    if not valid.any():
        return 0.0
    g = np.where(valid, gain, -np.inf)
    best = np.flatnonzero(g >= g.max() - 1e-9)
    # the plateau holding the best gap nearest to 0: from its first to its last gap
    k = best[np.argmin(np.abs(0.5 * (lo[best] + hi[best])))]
    first = last = k
    while first - 1 >= 0 and g[first - 1] >= g.max() - 1e-9:
        first -= 1
    while last + 1 < g.size and g[last + 1] >= g.max() - 1e-9:
        last += 1
    if keep and lo[first] <= 0.0 <= hi[last]:  # the edge is already where the DSM says: leave it
        return 0.0
    return float(0.5 * (lo[first] + hi[last]))


def split_block(cells: list[Polygon | MultiPolygon], fit: BlockFit) -> list[BaseGeometry]:
    """The block's footprints after ``fit``: each moved with the block, its outer walls on the
    block's new outline, party walls shared (the new outline's parts beyond the old one go to
    the nearest footprint)."""
    if len(cells) == 1:
        return [_polygonal(fit.outline)]
    moved = [translate(c, fit.dx_m, fit.dy_m) for c in cells]
    outline = fit.outline
    block = shapely.union_all(moved)
    extra = _polygonal(outline.difference(block))
    pieces = list(getattr(extra, "geoms", [extra])) if not extra.is_empty else []
    # cut the added ring at the party walls' prolongations, then give each piece to the nearest cell
    cutters = []
    b = shapely.bounds(np.asarray(moved, dtype=object))
    for i in range(len(moved)):
        # only the cells whose boxes meet this one's can share a wall with it (the others: empty)
        near = np.flatnonzero((b[i + 1:, 0] <= b[i, 2]) & (b[i + 1:, 2] >= b[i, 0])
                              & (b[i + 1:, 1] <= b[i, 3]) & (b[i + 1:, 3] >= b[i, 1])) + i + 1
        for j in near:
            wall = moved[i].intersection(moved[j])
            if wall.length > 0.5:
                cutters.append(_extended(wall, 3.0))
    if cutters and pieces:
        from shapely.ops import split

        blade = shapely.union_all(cutters)
        cut: list[BaseGeometry] = []
        for pc in pieces:
            try:
                cut.extend(split(pc, blade).geoms)
            except (ValueError, shapely.errors.GEOSException):
                cut.append(pc)
        pieces = cut
    own: list[list[BaseGeometry]] = [[c.intersection(outline)] for c in moved]
    for pc in pieces:
        if pc.area < 1e-6:
            continue
        cpt = pc.representative_point()
        k = int(np.argmin([c.distance(cpt) for c in moved]))
        own[k].append(pc)
    return [_polygonal(shapely.union_all(o).buffer(0)) for o in own]


def _extended(line: BaseGeometry, by: float) -> BaseGeometry:
    """A (multi)line's overall segment, prolonged by ``by`` [m] at both ends."""
    xy = shapely.get_coordinates(line)
    if len(xy) < 2:
        return line
    c = xy.mean(axis=0)
    u, sv, vt = np.linalg.svd(xy - c)
    d = vt[0]
    proj = (xy - c) @ d
    return shapely.LineString([c + (proj.min() - by) * d, c + (proj.max() + by) * d])


def _polygonal(g: BaseGeometry) -> Polygon | MultiPolygon:
    from geo.roofs.segmentation import _polygonal as poly

    return poly(shapely.make_valid(g) if not g.is_valid else g)


def _chunks(fps: gpd.GeoDataFrame, blocks: np.ndarray, tile_m: float) -> Iterator[np.ndarray]:
    """Block numbers grouped by the ``tile_m`` square holding their first footprint's point."""
    pts = shapely.point_on_surface(fps.geometry.to_numpy())
    key = pd.DataFrame({"b": blocks, "kx": np.floor(shapely.get_x(pts) / tile_m),
                        "ky": np.floor(shapely.get_y(pts) / tile_m)}).groupby("b").first()
    for _, g in key.groupby(["ky", "kx"], sort=True):
        yield g.index.to_numpy()


@dataclass(frozen=True)
class BlockResult:
    """What :func:`reconcile_chunk` found for one block: ``idx`` (positions of its footprints),
    ``fit`` (None when the DSM has no pixels around it), the moved footprints (None when no roof
    was found) and each footprint's roof share before the move."""

    idx: np.ndarray
    fit: BlockFit | None
    moved: list[BaseGeometry] | None
    shares: list[float]


def reconcile_chunk(read: WindowReader, blocks: Sequence[tuple[np.ndarray, list[Polygon | MultiPolygon]]],
                    neighbours: np.ndarray, neighbour_block: np.ndarray, res_m: float) -> list[BlockResult]:
    """Reconcile the blocks of one ``tile_m`` square (a task of :func:`reconcile_footprints`).

    ``blocks``: each block's footprint positions (in the caller's footprints) and polygons;
    ``neighbours``: the ``ok`` footprints near the square (in the caller's order), and
    ``neighbour_block``: for each, the position in ``blocks`` of its block, or −1 when its block
    is not one of them. Reads one window of the DSM through ``read``.
    """
    reach = config.RECONCILE_MAX_SHIFT_M + config.RECONCILE_MAX_GROW_M + _MARGIN_M
    unions = [shapely.union_all(np.asarray(cells, dtype=object)) for _, cells in blocks]
    bb = np.array([shapely.bounds(u) for u in unions])
    window = (float(bb[:, 0].min()) - reach - 1.0, float(bb[:, 1].min()) - reach - 1.0,
              float(bb[:, 2].max()) + reach + 1.0, float(bb[:, 3].max()) + reach + 1.0)
    got = read(window)
    if got is None:
        return []
    dsm, dtm, tr = got
    tree = shapely.STRtree(neighbours)
    out = []
    for k, ((idx, cells), block, bounds) in enumerate(zip(blocks, unions, bb, strict=True)):
        near = np.sort(tree.query(block.buffer(reach), predicate="intersects"))
        others = [neighbours[j] for j in near if neighbour_block[j] != k]
        pix = _block_pixels(dsm, dtm, tr, (bounds[0] - reach, bounds[1] - reach, bounds[2] + reach,
                                            bounds[3] + reach), block, others, res_m)
        if pix is None:
            out.append(BlockResult(idx, None, None, []))
            continue
        fit = fit_block(block, *pix)
        if fit.roof_share_after < config.RECONCILE_MIN_ROOF_SHARE:
            out.append(BlockResult(idx, fit, None, []))
            continue
        out.append(BlockResult(idx, fit, split_block(cells, fit), [_share(c, *pix) for c in cells]))
    return out


def reconcile_footprints(fps: gpd.GeoDataFrame, read: WindowReader, *, res_m: float,
                         tile_m: float = config.LIDAR_TILE_SIZE_M,
                         map_tasks: TaskMap = serial_map) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Move every ``ok`` footprint of ``fps`` onto the roof the DSM shows (module docstring).

    ``fps`` is :func:`geo.roofs.segmentation.prepare_footprints`'s output (``building_id``,
    ``status``). Blocks are processed by ``tile_m`` squares, one :func:`reconcile_chunk` task
    each (run by ``map_tasks``, in any order; ``read`` must then be picklable), each reading one
    window through ``read``; a block's result depends only on the pixels around it (not on
    ``tile_m`` nor on where the task runs).

    Returns the footprints (geometry moved, ``status`` ``no_roof`` where no roof was found, the
    :data:`QUALITY_COLUMNS` added; other columns kept) and counts: ``moved_footprints`` (offset
    > 0.1 m or outline changed > 0.1 m) and ``no_roof``.
    """
    out = fps.copy()
    for c in QUALITY_COLUMNS:
        out[c] = np.nan
    issues = {"moved_footprints": 0, "no_roof": 0}
    ok = np.flatnonzero((out["status"] == "ok").to_numpy())
    if ok.size == 0:
        return out, issues
    geoms = out.geometry.to_numpy()
    geoms_ok = geoms[ok]
    blocks = footprint_blocks(geoms_ok)
    order = np.argsort(blocks, kind="stable")
    splits = np.searchsorted(blocks[order], np.arange(int(blocks.max()) + 2))
    tree = shapely.STRtree(geoms_ok)
    reach = config.RECONCILE_MAX_SHIFT_M + config.RECONCILE_MAX_GROW_M + _MARGIN_M
    ok_bounds = shapely.bounds(geoms_ok)
    args = []
    for chunk in _chunks(out.iloc[ok], blocks, tile_m):
        pos = [order[splits[int(b)]:splits[int(b) + 1]] for b in chunk]  # positions in geoms_ok, ascending
        bb = np.array([[ok_bounds[p, 0].min(), ok_bounds[p, 1].min(), ok_bounds[p, 2].max(), ok_bounds[p, 3].max()]
                       for p in pos])
        box = shapely.box(bb[:, 0].min() - reach - 1.0, bb[:, 1].min() - reach - 1.0,
                          bb[:, 2].max() + reach + 1.0, bb[:, 3].max() + reach + 1.0)
        near = np.sort(tree.query(box, predicate="intersects"))
        local = {int(b): k for k, b in enumerate(chunk)}
        nb = np.array([local.get(int(blocks[j]), -1) for j in near], dtype=np.int64)
        args.append((read, [(ok[p], list(geoms_ok[p])) for p in pos], geoms_ok[near], nb, res_m))
    new_geoms = geoms.copy()
    status = out["status"].to_numpy().copy()
    dq = {c: out[c].to_numpy(float).copy() for c in QUALITY_COLUMNS}
    for results in map_tasks(reconcile_chunk, args):
        for r in results:
            idx, fit = r.idx, r.fit
            if fit is None:
                continue
            if r.moved is None:
                status[idx] = "no_roof"
                dq["dq_roof_share"][idx] = fit.roof_share_before
                issues["no_roof"] += len(idx)
                continue
            for i, g, share in zip(idx, r.moved, r.shares, strict=True):
                if g.is_empty:
                    continue
                new_geoms[i] = g
                dq["dq_offset_m"][i] = round(fit.offset_m, 3)
                dq["dq_outline_change_m"][i] = fit.grow_m
                dq["dq_roof_share"][i] = round(share, 3)
            if fit.offset_m > 0.1 or abs(fit.grow_m) > 0.1:
                issues["moved_footprints"] += len(idx)
    out = out.set_geometry(gpd.GeoSeries(new_geoms, index=out.index, crs=out.crs))
    out["status"] = status
    for c in QUALITY_COLUMNS:
        out[c] = dq[c]
    return out, issues


def _share(g: BaseGeometry, xs: np.ndarray, ys: np.ndarray, w: np.ndarray) -> float:
    """Share of the evidence pixels inside ``g`` that are roof."""
    return _share_of(shapely.contains_xy(g, xs, ys), w)


def _share_of(inside: np.ndarray, w: np.ndarray) -> float:
    """Share of the evidence pixels where ``inside`` that are roof."""
    n = int((inside & (w != 0)).sum())
    return float((inside & (w > 0)).sum()) / n if n else 0.0


def _block_pixels(dsm: np.ndarray, dtm: np.ndarray | None, tr: Affine, bounds: Bounds, block: BaseGeometry,
                  others: list[BaseGeometry], res_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Pixel centres (x, y) [m] and evidence (+1 / −1) around ``block``, on the global pixel grid."""
    inv = ~tr
    c0, r0 = inv @ (bounds[0], bounds[3])
    c1, r1 = inv @ (bounds[2], bounds[1])
    rows, cols = dsm.shape
    rs = slice(max(int(math.floor(r0)), 0), min(int(math.ceil(r1)), rows))
    cs = slice(max(int(math.floor(c0)), 0), min(int(math.ceil(c1)), cols))
    if rs.stop - rs.start < 3 or cs.stop - cs.start < 3:
        return None
    z = dsm[rs, cs].astype(np.float64)
    if dtm is not None:
        ground: np.ndarray | float = dtm[rs, cs].astype(np.float64)
    else:
        ring = np.isfinite(z)
        if not ring.any():
            return None
        ground = float(np.nanpercentile(z, 10))
    from geo.roofs.segmentation import local_planes

    fin = np.isfinite(z)
    noise = 0.0
    rms = None
    if fin.sum() > 9:
        _, _, rms = local_planes(z, res_m)
        noise = float(np.nanmedian(rms)) if np.isfinite(rms).any() else 0.0
    w = evidence(z, ground, res_m, noise, rms)
    # only the pixels with evidence are tested against the polygons
    r, c = np.nonzero(w)
    gx = tr.c + (c + cs.start + 0.5) * tr.a
    gy = tr.f + (r + rs.start + 0.5) * tr.e
    wv = w[r, c]
    if others:
        o = shapely.union_all(others)
        free = ~shapely.contains_xy(o, gx, gy)
        gx, gy, wv = gx[free], gy[free], wv[free]
    # only a band around the block's boundary can change the score
    band = block.boundary.buffer(config.RECONCILE_MAX_SHIFT_M + config.RECONCILE_MAX_GROW_M + res_m)
    keep = shapely.contains_xy(band, gx, gy)
    # interior pixels count for the roof share only: keep them (they are inside every candidate)
    keep[~keep] = shapely.contains_xy(block, gx[~keep], gy[~keep])
    return gx[keep], gy[keep], wv[keep].astype(np.float64)


#: Data-quality columns of the buildings layer, in order (docs/data-dictionary.md).
BUILDING_QUALITY_COLUMNS = (*QUALITY_COLUMNS, "dq_plane_rms_m", "dq_tree_share")


def with_quality(buildings: pd.DataFrame, fps: pd.DataFrame, faces: pd.DataFrame) -> pd.DataFrame:
    """``buildings`` with :data:`BUILDING_QUALITY_COLUMNS`: the reconciliation's figures from ``fps``
    (NaN when the footprints were not reconciled), the faces' plane-fit RMS [m] (weighted by
    their horizontal area) and the share of the roof under trees (0–1)."""
    out = buildings.copy()
    ids = out["building_id"].astype(str)
    src = fps.set_index(fps["building_id"].astype(str))
    for c in QUALITY_COLUMNS:
        out[c] = ids.map(src[c]).to_numpy(float) if c in src.columns else np.nan
    if len(faces):
        a = faces["footprint_area_m2"].to_numpy(float)
        g = pd.DataFrame({"b": faces["building_id"].astype(str).to_numpy(), "a": a,
                          "ra": faces["plane_rms_m"].to_numpy(float) * a,
                          "t": faces["tree_area_m2"].to_numpy(float) if "tree_area_m2" in faces else 0.0})
        agg = g.groupby("b").sum()
        rms = (agg["ra"] / agg["a"]).round(4)
        tree = (agg["t"] / agg["a"]).clip(0.0, 1.0).round(3)
        out["dq_plane_rms_m"] = ids.map(rms).to_numpy(float)
        out["dq_tree_share"] = ids.map(tree).to_numpy(float)
    else:
        out["dq_plane_rms_m"] = np.nan
        out["dq_tree_share"] = np.nan
    return out
