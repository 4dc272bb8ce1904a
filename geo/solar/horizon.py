"""Horizon angles of every DSM pixel in N azimuth directions, and the sky view factor.

Method (multi-resolution ray scan, exact on planes, independent of tiling)
------------------------------------------------------------------------
For each direction φ (clockwise from north), the horizon of a pixel is the largest elevation
angle atan((z_s − z_0)/d_s) over samples s along the ray out to the search distance:

* near field (d ≤ ``near_px`` pixels): one sample per column (or row) crossed, its height
  linearly interpolated between the two pixels it falls between — exact for planar roofs;
* far field: ``samples_per_octave`` samples per doubling of the distance, each the maximum of
  the DSM over a square window of 2^λ pixels centred on the ray (a max-filter pyramid; with the
  defaults, window / distance ≤ 1/16); consecutive windows tile the ray, so thin tall obstacles
  are never stepped over. The angle uses the distance of the window's centre.

The sample offsets are the same for every pixel, so the scan is written as loops over
(direction, sample, row, column) whose inner loop is contiguous and SIMD-vectorised by numba;
results depend only on the DSM within the search distance, so a tile read with a halo of that
distance gives the same horizon as the whole mosaic. Nodata is treated as very low ground (it
never shades).

The sky view factor of a tilted surface (normal n, tilt β) is the view factor to the part of the
sky above the horizon:

    SVF = (1/2π) ∮ [cos β·cos² h + sin β·cos(φ − A)·(π/2 − h − sin h·cos h)] dφ,
    h(φ) = max(horizon(φ), 0, h_self(φ)),  tan h_self = −tan β·cos(φ − A)

(Dozier & Frew 1990, with the plane's own horizon h_self); unobstructed it is (1 + cos β)/2, which
the discrete sum is normalised to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from geo import config

#: Height given to nodata and to the outside of the DSM: low enough never to shade.
LOW = np.float32(-1.0e5)


@dataclass(frozen=True)
class HorizonSchedule:
    """Sample offsets of the horizon scan, the same for every pixel.

    Attributes
    ----------
    azimuth_deg
        (n_dir,) directions [°, clockwise from north].
    ptr
        (n_dir + 1,) samples of direction k are ``ptr[k]:ptr[k+1]``.
    level, dr, dc, weight, axis, inv_dist
        Per sample: pyramid level (0 = DSM with interpolation), row and column offset [px] (rows
        go south), interpolation weight of the next row (axis 0) or column (axis 1) for level 0,
        and 1/distance [1/m].
    reach
        (n_levels,) how far [px] the samples of each level reach, window included.
    """

    azimuth_deg: np.ndarray
    ptr: np.ndarray
    level: np.ndarray
    dr: np.ndarray
    dc: np.ndarray
    weight: np.ndarray
    axis: np.ndarray
    inv_dist: np.ndarray
    reach: np.ndarray
    distance_m: float
    res_m: float

    @property
    def n_dir(self) -> int:
        return int(self.azimuth_deg.size)

    @property
    def n_levels(self) -> int:
        return int(self.reach.size)

    @property
    def pad(self) -> int:
        """Margin [px] around the computed pixels that the scan (and the max filters) read."""
        half = np.array([0] + [2 ** (lam - 1) for lam in range(1, self.n_levels)])
        return int((self.reach + half).max())

    @property
    def samples_per_direction(self) -> float:
        return float(self.level.size) / self.n_dir


def horizon_schedule(
    n_directions: int,
    distance_m: float,
    res_m: float,
    *,
    near_px: int = config.HORIZON_NEAR_SAMPLES,
    samples_per_octave: int = config.HORIZON_SAMPLES_PER_OCTAVE,
) -> HorizonSchedule:
    """The sample offsets of the horizon scan (see the module docstring).

    Parameters
    ----------
    n_directions
        Number of azimuth directions, evenly spaced from north clockwise (≥ 4).
    distance_m
        Search distance [m].
    res_m
        Pixel size [m].
    near_px
        Full-resolution (interpolated) samples out to this distance [px].
    samples_per_octave
        Far-field samples per doubling of the distance.
    """
    if n_directions < 4:
        raise ValueError("at least 4 horizon directions are needed")
    d_px = float(distance_m) / float(res_m)
    if d_px < 1.0:
        raise ValueError(f"horizon distance {distance_m} m is shorter than a pixel ({res_m} m)")
    near = float(min(near_px, d_px))
    lv, drs, dcs, ws, axs, invs = [], [], [], [], [], []
    reach: dict[int, int] = {0: 2}
    ptr = [0]
    az = np.arange(n_directions) * 360.0 / n_directions
    for phi in np.radians(az):
        s, c = math.sin(phi), math.cos(phi)
        s = 0.0 if abs(s) < 1e-12 else s
        c = 0.0 if abs(c) < 1e-12 else c
        major = max(abs(s), abs(c))
        for n in range(1, int(math.floor(near * major + 1e-9)) + 1):
            if abs(s) >= abs(c):  # step one column at a time, interpolate between rows
                fr = -n * c / abs(s)
                r0 = math.floor(fr)
                lv.append(0)
                drs.append(r0)
                dcs.append(int(n * math.copysign(1, s)))
                ws.append(fr - r0)
                axs.append(0)
                dist = n / abs(s)
            else:  # step one row at a time, interpolate between columns
                fc = n * s / abs(c)
                c0 = math.floor(fc)
                lv.append(0)
                drs.append(int(n * math.copysign(1, -c)))
                dcs.append(c0)
                ws.append(fc - c0)
                axs.append(1)
                dist = n / abs(c)
            invs.append(1.0 / (dist * res_m))
            reach[0] = max(reach[0], abs(drs[-1]) + 2, abs(dcs[-1]) + 2)
        r_prev = near
        octave = 1
        while r_prev < d_px - 1e-9:
            r_next = near * 2.0**octave
            step = (r_next - r_prev) / samples_per_octave
            lam = max(1, int(round(math.log2(max(step, 1.0)))))
            half = 2 ** (lam - 1)
            for m in range(1, samples_per_octave + 1):
                # Window m covers the ray from r_prev + (m − 1)·step to r_prev + m·step: centred on
                # d. An even window of 2h pixels over offsets −h … h − 1 is centred half a pixel
                # before its anchor pixel, hence the anchor floor(x + 1) = round(x + 0.5).
                d = r_prev + (m - 0.5) * step
                if d - 0.5 * step >= d_px - 1e-9:
                    break
                dr, dc = math.floor(-d * c + 1.0), math.floor(d * s + 1.0)
                lv.append(lam)
                drs.append(dr)
                dcs.append(dc)
                ws.append(0.0)
                axs.append(0)
                invs.append(1.0 / (d * res_m))
                reach[lam] = max(reach.get(lam, 0), abs(dr) + half + 1, abs(dc) + half + 1)
            r_prev = r_next
            octave += 1
        ptr.append(len(lv))
    n_levels = max(reach) + 1
    reach_arr = np.zeros(n_levels, dtype=np.int64)
    for k, v in reach.items():
        reach_arr[k] = v
    # A level with no sample of its own still has to exist between used levels (the chain of
    # max filters goes through it) but needs no extent.
    return HorizonSchedule(
        azimuth_deg=az,
        ptr=np.asarray(ptr, dtype=np.int64),
        level=np.asarray(lv, dtype=np.int64),
        dr=np.asarray(drs, dtype=np.int64),
        dc=np.asarray(dcs, dtype=np.int64),
        weight=np.asarray(ws, dtype=np.float32),
        axis=np.asarray(axs, dtype=np.int64),
        inv_dist=np.asarray(invs, dtype=np.float32),
        reach=reach_arr,
        distance_m=float(distance_m),
        res_m=float(res_m),
    )


# ---------------------------------------------------------------------------
# Max-filter pyramid
# ---------------------------------------------------------------------------


@numba.njit(cache=True, error_model="numpy")
def _chain_rows(zb, n, sh_a, sh_b, e_r0, e_r1, e_c0, e_c1, ring, tmp,
                buf, lev_off, lev_nc, lev_r0, lev_c0, lev_nr):  # pragma: no cover - numba
    """Levels 1 … n − 1 of the pyramid of ``zb``, row by row in one pass over ``zb``.

    Level λ, row r, column c = max of level λ − 1 over rows {r − a, r + b} × columns {c − a, c + b}
    (a, b = ``sh_a[λ]``, ``sh_b[λ]``), made over rows ``e_r0[λ]:e_r1[λ]`` and columns
    ``e_c0[λ]:e_c1[λ]`` of the padded grid. Each level keeps its last a + b + 1 rows of horizontal
    maxima in ``ring[λ]``; as soon as a row of level λ − 1 is made, the row of level λ it completes is
    made (in ``tmp[λ]``) and stored in ``buf`` when within the level's extent. Memory traffic: ``zb``
    read once, the levels written once.
    """
    for x0 in range(zb.shape[0]):
        src = zb[x0]
        x = x0
        for lam in range(1, n):
            a, b = sh_a[lam], sh_b[lam]
            if x < e_r0[lam] - a or x >= e_r1[lam] + b:
                break
            c0, c1 = e_c0[lam], e_c1[lam]
            nring = a + b + 1
            h = ring[lam, (x - e_r0[lam] + a) % nring]
            for c in range(c0, c1):
                h[c] = max(src[c - a], src[c + b])
            r = x - b
            if r < e_r0[lam]:
                break
            lo = ring[lam, (r - e_r0[lam]) % nring]
            out = tmp[lam]
            for c in range(c0, c1):
                out[c] = max(lo[c], h[c])
            if lev_r0[lam] <= r < lev_r0[lam] + lev_nr[lam]:
                lc0 = lev_c0[lam]
                base = lev_off[lam] + (r - lev_r0[lam]) * lev_nc[lam]
                dst = buf[base : base + lev_nc[lam]]
                for c in range(lev_nc[lam]):
                    dst[c] = out[lc0 + c]
            src = out
            x = r


def _chain_extents(schedule: HorizonSchedule) -> list[int]:
    """Margin [px] around the computed block over which each level is made: its reach, or more when
    the next level is made from it (level λ ≥ 2 is the maximum of level λ − 1 at offsets ±2^(λ−2))."""
    n = schedule.n_levels
    ext = [0] * n
    for lam in range(n - 1, 0, -1):
        up = ext[lam + 1] + 2 ** (lam - 1) if lam + 1 < n else 0
        ext[lam] = max(int(schedule.reach[lam]), up)
    return ext


@dataclass(frozen=True)
class Pyramid:
    """The levels of the max-filter pyramid in one flat buffer (what the numba kernels read).

    Level λ ≥ 1 is the maximum of the padded DSM over a 2^λ-pixel square window centred on each
    pixel (offsets −2^(λ−1) … 2^(λ−1) − 1); level 0 is the padded DSM itself. Each level only
    covers the computed block plus its reach: rows ``r0[λ] : r0[λ] + nrows[λ]`` of the padded grid.
    """

    buf: np.ndarray
    offset: np.ndarray
    ncols: np.ndarray
    nrows: np.ndarray
    r0: np.ndarray
    c0: np.ndarray

    def level(self, lam: int) -> np.ndarray:
        """Level ``lam`` as a 2-D view of :attr:`buf` (rows ``r0[lam]``…, columns ``c0[lam]``… of the padded grid)."""
        o, nr, nc = int(self.offset[lam]), int(self.nrows[lam]), int(self.ncols[lam])
        return self.buf[o : o + nr * nc].reshape(nr, nc)


def _pyramid_layout(shape: tuple[int, int], schedule: HorizonSchedule, pad: int) -> Pyramid:
    """An unfilled :class:`Pyramid` for a padded block of ``shape`` (margin ``pad``)."""
    rows, cols = shape
    core_r, core_c = rows - 2 * pad, cols - 2 * pad
    offs, ncs, nrs, r0s, c0s = [], [], [], [], []
    total = 0
    for lam in range(schedule.n_levels):
        rch = int(schedule.reach[lam])
        if lam == 0:
            nr, nc, r0, c0 = rows, cols, 0, 0
        elif rch > 0:
            nr, nc, r0, c0 = core_r + 2 * rch, core_c + 2 * rch, pad - rch, pad - rch
        else:  # a level no sample uses
            nr, nc, r0, c0 = 0, 1, 0, 0
        offs.append(total)
        nrs.append(nr)
        ncs.append(nc)
        r0s.append(r0)
        c0s.append(c0)
        total += nr * nc
    as64 = lambda v: np.asarray(v, dtype=np.int64)  # noqa: E731
    return Pyramid(np.empty(total, dtype=np.float32), as64(offs), as64(ncs), as64(nrs), as64(r0s), as64(c0s))


def _fill_levels(pyr: Pyramid, schedule: HorizonSchedule, pad: int) -> None:
    """Make levels 1… of ``pyr`` from its level 0 (exact: maxima of maxima).

    Level 1 is the maximum over offsets {−1, 0}²; level λ ≥ 2 that of level λ − 1 over offsets
    {−2^(λ−2), 2^(λ−2)}², whose windows tile level λ's. Each level is made over
    :func:`_chain_extents` (what it and the next levels read) by :func:`_chain_rows`, in one pass.
    """
    n = schedule.n_levels
    if n < 2:
        return
    zb = pyr.level(0)
    rows, cols = zb.shape
    core_r, core_c = rows - 2 * pad, cols - 2 * pad
    ext = _chain_extents(schedule)
    sh_a = np.array([0, 1] + [2 ** (lam - 2) for lam in range(2, n)], dtype=np.int64)
    sh_b = np.array([0, 0] + [2 ** (lam - 2) for lam in range(2, n)], dtype=np.int64)
    e = np.asarray(ext, dtype=np.int64)
    ring = np.empty((n, int((sh_a + sh_b).max()) + 1, cols), dtype=np.float32)
    tmp = np.empty((n, cols), dtype=np.float32)
    _chain_rows(zb, n, sh_a, sh_b, pad - e, pad + core_r + e, pad - e, pad + core_c + e, ring, tmp,
                pyr.buf, pyr.offset, pyr.ncols, pyr.r0, pyr.c0, pyr.nrows)


def build_pyramid(zb: np.ndarray, schedule: HorizonSchedule, pad: int) -> Pyramid:
    """Max-filter pyramid of a padded DSM block (NaN already replaced by :data:`LOW`).

    Parameters
    ----------
    zb
        float32 heights of the computed block with ``pad`` pixels of margin on every side.
    schedule
        The horizon scan.
    pad
        The margin [px] (≥ ``schedule.pad``).
    """
    pyr = _pyramid_layout(zb.shape, schedule, pad)
    pyr.level(0)[...] = zb
    _fill_levels(pyr, schedule, pad)
    return pyr


def dsm_pyramid(z: np.ndarray, r0: int, r1: int, c0: int, c1: int, schedule: HorizonSchedule, pad: int) -> Pyramid:
    """:func:`build_pyramid` of ``padded_block(z, r0, r1, c0, c1, pad)``, the padded block made in place
    (no copy of it besides the pyramid's level 0)."""
    pyr = _pyramid_layout((r1 - r0 + 2 * pad, c1 - c0 + 2 * pad), schedule, pad)
    padded_block(z, r0, r1, c0, c1, pad, out=pyr.level(0))
    _fill_levels(pyr, schedule, pad)
    return pyr


# ---------------------------------------------------------------------------
# The scan (numba)
# ---------------------------------------------------------------------------


@numba.njit(cache=True, fastmath=True, error_model="numpy")
def band_horizon(
    buf, lev_off, lev_nc, lev_r0, lev_c0, zb_nc, rz0, cz0, nrows, ncols,
    ptr, s_lev, s_dr, s_dc, s_w, s_axis, s_inv, best,
):  # pragma: no cover - numba
    """tan(horizon) of a block of pixels: ``best[k, i, j]`` for padded-grid pixel (rz0 + i, cz0 + j).

    ``best`` must be filled with a very negative value on entry.
    """
    n_dir = ptr.size - 1
    for k in range(n_dir):
        for s in range(ptr[k], ptr[k + 1]):
            lam = s_lev[s]
            off = lev_off[lam]
            nc = lev_nc[lam]
            inv = s_inv[s]
            for i in range(nrows):
                rz = rz0 + i
                z0 = rz * zb_nc + cz0
                base = off + (rz + s_dr[s] - lev_r0[lam]) * nc + (cz0 + s_dc[s] - lev_c0[lam])
                row = best[k, i]
                zr = buf[z0 : z0 + ncols]
                a = buf[base : base + ncols]
                # Contiguous slices let LLVM vectorise the loops (no aliasing checks per element).
                if lam == 0:
                    w = s_w[s]
                    w0 = np.float32(1.0) - w
                    step2 = zb_nc if s_axis[s] == 0 else 1
                    b = buf[base + step2 : base + step2 + ncols]
                    for j in range(ncols):
                        row[j] = max(row[j], (a[j] * w0 + b[j] * w - zr[j]) * inv)
                else:
                    for j in range(ncols):
                        row[j] = max(row[j], (a[j] - zr[j]) * inv)


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _horizon_block(
    buf, lev_off, lev_nc, lev_r0, lev_c0, zb_nc, pad, core_r, core_c,
    ptr, s_lev, s_dr, s_dc, s_w, s_axis, s_inv, band_rows,
):  # pragma: no cover - numba
    n_dir = ptr.size - 1
    out = np.empty((n_dir, core_r, core_c), dtype=np.float32)
    nb = (core_r + band_rows - 1) // band_rows
    for b in numba.prange(nb):
        i0 = b * band_rows
        nr = min(band_rows, core_r - i0)
        best = np.full((n_dir, nr, core_c), np.float32(-1e30), dtype=np.float32)
        band_horizon(buf, lev_off, lev_nc, lev_r0, lev_c0, zb_nc, pad + i0, pad, nr, core_c,
                     ptr, s_lev, s_dr, s_dc, s_w, s_axis, s_inv, best)
        out[:, i0 : i0 + nr, :] = best
    return out


def padded_block(z: np.ndarray, r0: int, r1: int, c0: int, c1: int, pad: int,
                 out: np.ndarray | None = None) -> np.ndarray:
    """float32 copy of ``z[r0 − pad : r1 + pad, c0 − pad : c1 + pad]``, :data:`LOW` outside and for NaN
    (into ``out`` when given)."""
    rows, cols = z.shape
    shape = (r1 - r0 + 2 * pad, c1 - c0 + 2 * pad)
    zb = np.empty(shape, dtype=np.float32) if out is None else out
    if zb.shape != shape:
        raise ValueError(f"out has shape {zb.shape}, not {shape}")
    sr0, sr1 = max(r0 - pad, 0), min(r1 + pad, rows)
    sc0, sc1 = max(c0 - pad, 0), min(c1 + pad, cols)
    tr0, tc0 = sr0 - (r0 - pad), sc0 - (c0 - pad)
    tr1, tc1 = tr0 + max(sr1 - sr0, 0), tc0 + max(sc1 - sc0, 0)
    # The ring outside the DSM, then the DSM's values (NaN and ±inf → LOW).
    zb[:tr0] = LOW
    zb[tr1:] = LOW
    zb[tr0:tr1, :tc0] = LOW
    zb[tr0:tr1, tc1:] = LOW
    inner = zb[tr0:tr1, tc0:tc1]
    _copy_finite(np.asarray(z)[sr0:sr1, sc0:sc1], inner)
    return zb


def _copy_finite(src: np.ndarray, dst: np.ndarray) -> None:
    """dst = src as float32, :data:`LOW` where not finite, in row strips (no whole-array temporaries)."""
    step = max(1, (1 << 18) // max(dst.shape[1], 1))
    for i in range(0, dst.shape[0], step):
        d = dst[i : i + step]
        np.copyto(d, src[i : i + step], casting="unsafe")
        d[~np.isfinite(d)] = LOW


def horizon_angles(
    z: np.ndarray,
    res_m: float,
    *,
    n_directions: int = config.HORIZON_DIRECTIONS,
    distance_m: float = config.HORIZON_DISTANCE_M,
    near_px: int = config.HORIZON_NEAR_SAMPLES,
    samples_per_octave: int = config.HORIZON_SAMPLES_PER_OCTAVE,
) -> np.ndarray:
    """Horizon elevation angles of every pixel of a height grid.

    Parameters
    ----------
    z
        Heights [m] (rows, cols), north-up; NaN = nodata (never shades).
    res_m
        Pixel size [m].
    n_directions, distance_m, near_px, samples_per_octave
        The scan (see :func:`horizon_schedule`).

    Returns
    -------
    ndarray
        float32 (n_directions, rows, cols): horizon elevation [°] in direction k·360/n (clockwise
        from north); −90° where nothing in the search distance is higher than very low ground.
    """
    sched = horizon_schedule(n_directions, distance_m, res_m, near_px=near_px, samples_per_octave=samples_per_octave)
    rows, cols = z.shape
    pad = sched.pad
    pyr = dsm_pyramid(np.asarray(z), 0, rows, 0, cols, sched, pad)
    t = _horizon_block(
        pyr.buf, pyr.offset, pyr.ncols, pyr.r0, pyr.c0, int(pyr.ncols[0]), pad, rows, cols,
        sched.ptr, sched.level, sched.dr, sched.dc, sched.weight, sched.axis, sched.inv_dist, 8,
    )
    return np.degrees(np.arctan(t)).astype(np.float32)


def sky_view_factor(horizon_deg: np.ndarray, azimuth_deg: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """Sky view factor of a (tilted) surface from its horizon profile (reference implementation).

    Parameters
    ----------
    horizon_deg
        (n_dir, ...) horizon elevation [°] in the directions ``azimuth_deg``.
    azimuth_deg
        (n_dir,) evenly spaced directions [°, clockwise from north].
    normal
        (3, ...) unit normals (east, north, up).

    Returns
    -------
    ndarray
        View factor from the surface to the visible sky (1 for an open horizontal surface,
        (1 + cos β)/2 for an open plane of tilt β).
    """
    phi = np.radians(np.asarray(azimuth_deg, dtype=float))
    shape = (-1,) + (1,) * (np.ndim(horizon_deg) - 1)
    sphi, cphi = np.sin(phi).reshape(shape), np.cos(phi).reshape(shape)
    nx, ny, nz = normal[0], normal[1], normal[2]
    g = nx * sphi + ny * cphi  # sin β·cos(φ − A)
    h_self = np.arctan2(-g, nz)
    h = np.radians(np.asarray(horizon_deg, dtype=float))

    def f(hh: np.ndarray) -> np.ndarray:
        return nz * np.cos(hh) ** 2 + g * (np.pi / 2 - hh - np.sin(hh) * np.cos(hh))

    num = f(np.maximum(np.maximum(h, 0.0), h_self)).sum(axis=0)
    den = f(np.maximum(h_self, 0.0)).sum(axis=0)
    return (1 + nz) / 2 * num / den
