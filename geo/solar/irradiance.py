"""Per-pixel annual and monthly irradiation with shading: the kernel and its Python API.

For every computed pixel (its own tilt and azimuth from the DSM, :mod:`geo.solar.surface`), with
the horizon in N directions (:mod:`geo.solar.horizon`) and the binned sky
(:mod:`geo.solar.sky`), the monthly irradiation is

    Σ_bins  E_b·max(n·s_b, 0)·[sun above the horizon in direction s_b]    beam + circumsolar
    + I_m·SVF                                                             isotropic sky
    + H_m·sin β·HB                                                        horizon brightening
    + albedo·G_m·(1 − cos β)/2                                            ground-reflected

where I_m, H_m, G_m are the month's sums of DHI·(1 − F1), DHI·F2 and GHI, SVF the surface's sky
view factor from its horizon and HB the fraction of the Perez horizon band (6.5°) left visible
above the horizon, weighted by the plane's view of each direction. Without shading (horizon
below the plane's own) this is pvlib's ``get_total_irradiance(model='perez')`` summed over the
year. The unshaded value is computed alongside, giving the shading loss.

The kernel runs on bands of rows in parallel (numba ``prange``); in each band the horizon scan
and then the sum over sun bins are loops whose innermost level runs along a row, which numba
vectorises.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numba
import numpy as np
from affine import Affine
from rasterio.crs import CRS

from geo import config
from geo.errors import InputError
from geo.solar.horizon import band_horizon, dsm_pyramid, horizon_schedule
from geo.solar.sky import SkyBins, bin_sky
from geo.solar.surface import surface_normals, tilt_azimuth
from geo.types import Raster, Weather

log = logging.getLogger("artois.solar")

#: Rows per band of the kernel (a block's horizon buffer is n_dir × rows × columns float32: 0.26 MB for 32
#: directions, 2 rows and BAND_COLS columns, within a core's L2 cache). Measured with whole bands (before
#: BAND_COLS), 2026-12-04 on the 2-core CI-class machine, one numba thread:
#: 5 roof tiles of the 5x5 sample 12.1–12.5 CPU-s with 8 rows, 11.0–11.3 with 4, 10.6–11.5 with 2, 11.0–11.3
#: with 1; the same in two processes side by side 14.2–14.3 (8) and 11.6–12.6 (2); a dense 4 M-pixel tile
#: (benchmarks/bench_irradiance.py --threads 1) 6.6–7.6 s (8), 6.0–6.2 (4), 5.7–5.8 (2), 6.6 (1). The band
#: partition changes no value beyond float32 rounding (1 pixel in 4 M by one 0.1 kWh/m² step, 2 tiles of 25).
BAND_ROWS = 2
#: Columns per block of a band: the kernel computes blocks of BAND_ROWS × BAND_COLS pixels, those of a strip
#: of columns one band after the other (they read nearly the same DSM rows), each over the columns between its
#: first and last pixel to compute (a block with none is skipped); narrow strips cost more per block than
#: they save. 0: whole bands. Measured 2026-12-04 on the 2-core CI-class machine, one numba thread, 8 inner
#: tiles of the 5x5 sample (compute only), alternately:
#: whole bands 18.5–18.9 CPU-s, 1400 columns 18.0, 1024: 17.5–17.8, 700: 17.9, 512: 18.0–18.2 (all 25 tiles:
#: whole bands 49.8–50.1, 256 columns 52.6–53.2); two processes side by side, whole bands 18.0–18.8 and
#: 14.4–14.9, 1024 columns 17.6–17.8 and 14.3–14.4. Values change by float32 rounding only (≤ 0.0004 kWh/m²,
#: 0.2 % of the pixels of 3 tiles).
BAND_COLS = 1024


@dataclass(frozen=True)
class SolarSettings:
    """Settings of the irradiation engine (defaults from :mod:`geo.config`, section 3).

    Attributes
    ----------
    n_directions
        Horizon directions (evenly spaced from north).
    distance_m
        Horizon search distance [m] (also the halo of tiled runs).
    near_px, samples_per_octave
        The horizon scan (:func:`geo.solar.horizon.horizon_schedule`).
    albedo
        Ground albedo [0–1].
    bin_minutes, month_parts
        Sun binning (:func:`geo.solar.sky.bin_sky`).
    horizon_band_deg
        Height of the Perez horizon-brightening band [°].
    """

    n_directions: int = config.HORIZON_DIRECTIONS
    distance_m: float = config.HORIZON_DISTANCE_M
    near_px: int = config.HORIZON_NEAR_SAMPLES
    samples_per_octave: int = config.HORIZON_SAMPLES_PER_OCTAVE
    albedo: float = config.SOLAR_ALBEDO
    bin_minutes: float = config.SUN_BIN_MINUTES
    month_parts: int = config.SUN_BIN_MONTH_PARTS
    horizon_band_deg: float = config.PEREZ_HORIZON_BAND_DEG


@dataclass(frozen=True)
class IrradianceResult:
    """Per-pixel results on the DSM's grid; NaN where not computed.

    Attributes
    ----------
    annual_kwh_m2
        Annual global irradiation on the surface [kWh/m²/yr] (sum over the weather period).
    monthly_kwh_m2
        (12, rows, cols) monthly irradiation [kWh/m²], January first.
    shading_loss
        Fraction of the unshaded irradiation lost to the horizon [0–1].
    sky_view_factor
        View factor from the surface to the visible sky [0–1] (1 = open flat roof; an open
        plane of tilt β has (1 + cos β)/2).
    unshaded_kwh_m2
        Annual irradiation the same surface would get with an open horizon [kWh/m²/yr].
    tilt_deg, azimuth_deg
        The surface's tilt [°] and azimuth [°, 180 = south; NaN when flat] from the DSM (all
        pixels with a complete 3×3 neighbourhood, computed or not), float32; derived from the
        normals when first asked for (the irradiance tiles never ask).
    normals
        (3, rows, cols) upward unit normals (east, north, up) of the DSM, float64.
    transform, crs
        The grid.
    weather
        The weather used.
    bands
        (15, rows, cols) float32: the annual irradiation, the 12 months, the shading loss and the sky view
        factor in one array, of which the four fields above are views (what a tile file stores, without a
        copy).
    settings
        The engine settings used.
    """

    annual_kwh_m2: np.ndarray
    monthly_kwh_m2: np.ndarray
    shading_loss: np.ndarray
    sky_view_factor: np.ndarray
    unshaded_kwh_m2: np.ndarray
    normals: np.ndarray
    transform: Affine
    crs: CRS
    weather: Weather
    bands: np.ndarray
    settings: SolarSettings = field(default_factory=SolarSettings)

    @functools.cached_property
    def _tilt_azimuth(self) -> tuple[np.ndarray, np.ndarray]:
        tilt, azim = tilt_azimuth(self.normals)
        return tilt.astype(np.float32), azim.astype(np.float32)

    @property
    def tilt_deg(self) -> np.ndarray:
        return self._tilt_azimuth[0]

    @property
    def azimuth_deg(self) -> np.ndarray:
        return self._tilt_azimuth[1]


# ---------------------------------------------------------------------------
# Kernel (numba)
# ---------------------------------------------------------------------------


@numba.njit(cache=True, fastmath=True, inline="always", error_model="numpy")
def _atan(x):  # pragma: no cover - numba
    """arctan [rad], branch-free polynomial (|error| < 1e-5 rad) that vectorises."""
    ax = abs(x)
    y = min(ax, np.float32(1.0) / ax)
    y2 = y * y
    p = y * (np.float32(0.99997726) + y2 * (np.float32(-0.33262347) + y2 * (np.float32(0.19354346) + y2 * (
        np.float32(-0.11643287) + y2 * (np.float32(0.05265332) + y2 * np.float32(-0.01172120))))))
    r = np.float32(0.5 * math.pi) - p if ax > 1 else p
    return r if x >= 0 else -r


@numba.njit(cache=True, fastmath=True, error_model="numpy")
def _band_irradiance(
    best, nrm, valid, i0, c0, nr, nc,
    dir_sin, dir_cos, band_rad,
    b_k0, b_k1, b_f, b_tan, b_vec, b_e, month_ptr,
    iso_m, hb_m, ghi_m, albedo,
    out_month, out_annual, out_unshaded, out_svf,
):  # pragma: no cover - numba
    n_dir = dir_sin.size
    # Sky view factor and visible share of the horizon band, in tan space so that the loops over
    # a row vectorise: cos²h = 1/(1 + t²), sin h·cos h = t/(1 + t²), h = atan(t).
    svf = np.zeros((nr, nc), dtype=np.float32)
    hbf = np.zeros((nr, nc), dtype=np.float32)
    num = np.zeros(nc, dtype=np.float32)
    den = np.zeros(nc, dtype=np.float32)
    wsum = np.zeros(nc, dtype=np.float32)
    wvis = np.zeros(nc, dtype=np.float32)
    half_pi = np.float32(0.5 * math.pi)
    for i in range(nr):
        nxr = nrm[0, i0 + i, c0:c0 + nc]
        nyr = nrm[1, i0 + i, c0:c0 + nc]
        nzr = nrm[2, i0 + i, c0:c0 + nc]
        num[:] = 0.0
        den[:] = 0.0
        wsum[:] = 0.0
        wvis[:] = 0.0
        for k in range(n_dir):
            sk, ck = dir_sin[k], dir_cos[k]
            tk = best[k, i]
            for j in range(nc):
                nz = nzr[j]
                g = nxr[j] * sk + nyr[j] * ck  # sin β·cos(φ − A)
                ts = -g / nz  # tan of the plane's own horizon
                t0 = max(ts, np.float32(0.0))
                te = max(tk[j], t0)
                q = np.float32(1.0) / (np.float32(1.0) + te * te)
                num[j] += nz * q + g * (half_pi - _atan(te) - te * q)
                q0 = np.float32(1.0) / (np.float32(1.0) + t0 * t0)
                den[j] += nz * q0 + g * (half_pi - _atan(t0) - t0 * q0)
                gp = max(g, np.float32(0.0))
                h = max(_atan(tk[j]), np.float32(0.0))
                wsum[j] += gp
                wvis[j] += gp * min(max((band_rad - h) / band_rad, np.float32(0.0)), np.float32(1.0))
        for j in range(nc):
            svf[i, j] = np.float32(0.5) * (np.float32(1.0) + nzr[j]) * num[j] / den[j] if den[j] > 0 else 0.0
            hbf[i, j] = wvis[j] / wsum[j] if wsum[j] > 0 else 1.0
    acc_s = np.zeros(nc, dtype=np.float32)
    acc_u = np.zeros(nc, dtype=np.float32)
    for i in range(nr):
        ri = i0 + i
        nxr = nrm[0, ri, c0:c0 + nc]
        nyr = nrm[1, ri, c0:c0 + nc]
        nzr = nrm[2, ri, c0:c0 + nc]
        for j in range(nc):
            out_annual[ri, c0 + j] = 0.0
            out_unshaded[ri, c0 + j] = 0.0
        for m in range(12):
            acc_s[:] = 0.0
            acc_u[:] = 0.0
            for b in range(month_ptr[m], month_ptr[m + 1]):
                k0, k1 = b_k0[b], b_k1[b]
                f = b_f[b]
                f0 = np.float32(1.0) - f
                tel = b_tan[b]
                vx, vy, vz, e = b_vec[b, 0], b_vec[b, 1], b_vec[b, 2], b_e[b]
                h0 = best[k0, i]
                h1 = best[k1, i]
                for j in range(nc):
                    c = nxr[j] * vx + nyr[j] * vy + nzr[j] * vz
                    c = max(c, 0.0) * e
                    acc_u[j] += c
                    hz = h0[j] * f0 + h1[j] * f
                    acc_s[j] += c if tel > hz else np.float32(0.0)
            iso, hb, gh = iso_m[m], hb_m[m], ghi_m[m]
            for j in range(nc):
                nz = nzr[j]
                sb = math.sqrt(max(1.0 - nz * nz, 0.0))
                ground = albedo * gh * 0.5 * (1.0 - nz)
                shaded = acc_s[j] + iso * svf[i, j] + hb * sb * hbf[i, j] + ground
                open_ = acc_u[j] + iso * 0.5 * (1.0 + nz) + hb * sb + ground
                out_month[m, ri, c0 + j] = shaded
                out_annual[ri, c0 + j] += shaded
                out_unshaded[ri, c0 + j] += open_
        for j in range(nc):
            out_svf[ri, c0 + j] = svf[i, j]


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _run_rows(
    row_a, row_b, band_rows, band_cols, valid, nrm, pad,
    buf, lev_off, lev_nc, lev_r0, lev_c0, zb_nc,
    ptr, s_lev, s_dr, s_dc, s_w, s_axis, s_inv,
    dir_sin, dir_cos, band_rad,
    b_k0, b_k1, b_f, b_tan, b_vec, b_e, month_ptr,
    iso_m, hb_m, ghi_m, albedo,
    out_month, out_annual, out_unshaded, out_svf,
):  # pragma: no cover - numba
    n_dir = ptr.size - 1
    ncols = valid.shape[1]
    nb = (row_b - row_a + band_rows - 1) // band_rows
    nsc = (ncols + band_cols - 1) // band_cols
    # blocks strip by strip of columns, band after band within a strip
    for t in numba.prange(nb * nsc):
        i0 = row_a + (t % nb) * band_rows
        nr = min(band_rows, row_b - i0)
        j0 = (t // nb) * band_cols
        lo, hi = ncols, -1
        for i in range(i0, i0 + nr):
            for j in range(j0, min(j0 + band_cols, ncols)):
                if valid[i, j]:
                    lo = min(lo, j)
                    hi = max(hi, j)
        if hi < 0:
            continue
        nc = hi - lo + 1
        best = np.full((n_dir, nr, nc), np.float32(-1e30), dtype=np.float32)
        band_horizon(buf, lev_off, lev_nc, lev_r0, lev_c0, zb_nc, pad + i0, pad + lo, nr, nc,
                     ptr, s_lev, s_dr, s_dc, s_w, s_axis, s_inv, best)
        _band_irradiance(best, nrm, valid, i0, lo, nr, nc, dir_sin, dir_cos, band_rad,
                         b_k0, b_k1, b_f, b_tan, b_vec, b_e, month_ptr, iso_m, hb_m, ghi_m, albedo,
                         out_month, out_annual, out_unshaded, out_svf)


@numba.njit(cache=True, error_model="numpy")
def _nan_where_invalid(valid, month, annual, unshaded, svf):  # pragma: no cover - numba
    """NaN in every output at the pixels not computed (``valid`` False)."""
    nan = np.float32(np.nan)
    for i in range(valid.shape[0]):
        for j in range(valid.shape[1]):
            if not valid[i, j]:
                annual[i, j] = nan
                unshaded[i, j] = nan
                svf[i, j] = nan
                for m in range(month.shape[0]):
                    month[m, i, j] = nan


# ---------------------------------------------------------------------------
# Python API
# ---------------------------------------------------------------------------


def _bin_arrays(sky: SkyBins, n_dir: int) -> dict[str, np.ndarray]:
    step = 360.0 / n_dir
    pos = sky.azimuth_deg / step
    k0 = np.floor(pos).astype(np.int64) % n_dir
    f = (pos - np.floor(pos)).astype(np.float32)
    el = np.clip(sky.elevation_deg, -89.0, 89.9)
    month_ptr = np.searchsorted(sky.month, np.arange(13)).astype(np.int64)
    return {
        "b_k0": k0, "b_k1": (k0 + 1) % n_dir, "b_f": f,
        "b_tan": np.tan(np.radians(el)).astype(np.float32),
        "b_vec": np.ascontiguousarray(sky.vector, dtype=np.float32),
        "b_e": (sky.energy_wh_m2 / 1000.0).astype(np.float32),
        "month_ptr": month_ptr,
    }


def compute_irradiance(
    dsm: Raster,
    weather: Weather,
    *,
    mask: np.ndarray | None = None,
    settings: SolarSettings | None = None,
    sky: SkyBins | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunk_rows: int = 64,
    window: tuple[int, int, int, int] | None = None,
) -> IrradianceResult:
    """Annual and monthly irradiation with shading on every (masked) pixel of a DSM.

    Parameters
    ----------
    dsm
        Surface model [m] in a projected CRS (north-up, square pixels); NaN = nodata. Whatever
        surrounds the computed pixels within ``settings.distance_m`` shades them: pass a DSM read
        with that halo (see :func:`geo.solar.build.irradiance_from_files`). Beyond the DSM the
        horizon is taken as open.
    weather
        The weather (its location is used for the sun).
    mask
        Boolean (rows, cols): pixels to compute (e.g. roofs); default all. Pixels with nodata in
        their 3×3 neighbourhood are never computed.
    settings
        Engine settings (default :class:`SolarSettings`).
    sky
        A precomputed :func:`geo.solar.sky.bin_sky` of ``weather`` (to share across tiles).
    progress
        Called as ``progress(rows_done, rows_total)`` after each chunk of rows.
    chunk_rows
        Rows per call of the parallel kernel (granularity of ``progress``).
    window
        (row0, row1, col0, col1): compute only this window of the DSM and return the result on the
        window's grid; the rest of the DSM is the halo that shades it. Memory then scales with the
        window, not with the haloed DSM (a LiDAR tile read with 1 km of halo is 9× its area).
        Default: the whole DSM.

    Returns
    -------
    IrradianceResult
        On the DSM's grid (or the window's).
    """
    settings = settings or SolarSettings()
    if dsm.crs is None or not dsm.crs.is_projected:
        raise InputError(None, "the DSM must be in a projected CRS in metres")
    z = np.asarray(dsm.data, dtype=np.float32)
    res = dsm.res_m
    w0, w1, v0, v1 = window if window is not None else (0, z.shape[0], 0, z.shape[1])
    rows, cols = w1 - w0, v1 - v0
    # Horn's normals on the window and its 1-pixel ring (clipped to the DSM), then cropped: the same
    # values as on the whole DSM.
    e0, f0 = max(w0 - 1, 0), max(v0 - 1, 0)
    ring = surface_normals(z[e0 : min(w1 + 1, z.shape[0]), f0 : min(v1 + 1, z.shape[1])], res)
    normals = ring[:, w0 - e0 : w0 - e0 + rows, v0 - f0 : v0 - f0 + cols]
    del ring
    valid = np.isfinite(normals[2]) & np.isfinite(z[w0:w1, v0:v1])
    if mask is not None:
        if mask.shape == z.shape:
            mask = mask[w0:w1, v0:v1]
        if mask.shape != (rows, cols):
            raise ValueError(f"mask shape {mask.shape} differs from the DSM's {z.shape} and the window's")
        valid &= mask.astype(bool)
    # The results in one array (IrradianceResult.bands), written in place by the kernel: no per-window
    # copies (a 1 km tile at 0.5 m: 15 bands of 16 MB).
    bands = np.full((15, rows, cols), np.nan, dtype=np.float32)
    annual, monthly, loss, svf = bands[0], bands[1:13], bands[13], bands[14]
    unshaded = np.full((rows, cols), np.nan, dtype=np.float32)
    result_kw = {"normals": normals,
                 "transform": dsm.transform @ Affine.translation(v0, w0), "crs": dsm.crs, "weather": weather,
                 "settings": settings, "bands": bands}
    if not valid.any():
        log.warning("no pixel to compute")
        return IrradianceResult(annual, monthly, loss, svf, unshaded, **result_kw)
    rr, cc = np.nonzero(valid)
    # The computed block, in window (i, j) and DSM (r, c) coordinates.
    i0, i1, j0, j1 = int(rr.min()), int(rr.max()) + 1, int(cc.min()), int(cc.max()) + 1
    r0, r1, c0, c1 = i0 + w0, i1 + w0, j0 + v0, j1 + v0
    sched = horizon_schedule(settings.n_directions, settings.distance_m, res,
                             near_px=settings.near_px, samples_per_octave=settings.samples_per_octave)
    pad = sched.pad
    pyr = dsm_pyramid(z, r0, r1, c0, c1, sched, pad)
    sky = sky or bin_sky(weather, bin_minutes=settings.bin_minutes, month_parts=settings.month_parts)
    bins = _bin_arrays(sky, sched.n_dir)
    phi = np.radians(sched.azimuth_deg)
    core_valid = np.ascontiguousarray(valid[i0:i1, j0:j1])
    core_nrm = np.ascontiguousarray(normals[:, i0:i1, j0:j1].astype(np.float32))
    del normals
    cr = r1 - r0
    # The computed block's windows of the results (views: the kernel writes in place).
    o_month, o_annual = monthly[:, i0:i1, j0:j1], annual[i0:i1, j0:j1]
    o_unsh, o_svf = unshaded[i0:i1, j0:j1], svf[i0:i1, j0:j1]
    kwh = 1.0 / 1000.0
    for a in range(0, cr, chunk_rows):
        b = min(a + chunk_rows, cr)
        _run_rows(
            a, b, BAND_ROWS, BAND_COLS or core_valid.shape[1], core_valid, core_nrm, pad,
            pyr.buf, pyr.offset, pyr.ncols, pyr.r0, pyr.c0, pyr.ncols[0],
            sched.ptr, sched.level, sched.dr, sched.dc, sched.weight, sched.axis, sched.inv_dist,
            np.sin(phi).astype(np.float32), np.cos(phi).astype(np.float32),
            math.radians(settings.horizon_band_deg),
            bins["b_k0"], bins["b_k1"], bins["b_f"], bins["b_tan"], bins["b_vec"], bins["b_e"], bins["month_ptr"],
            (sky.isotropic_wh_m2 * kwh).astype(np.float32), (sky.horizon_wh_m2 * kwh).astype(np.float32),
            (sky.ghi_wh_m2 * kwh).astype(np.float32), np.float32(settings.albedo),
            o_month, o_annual, o_unsh, o_svf,
        )
        if progress is not None:
            progress(b, cr)
    _nan_where_invalid(core_valid, o_month, o_annual, o_unsh, o_svf)
    with np.errstate(invalid="ignore", divide="ignore"):
        lost = np.where(unshaded > 0, 1.0 - annual / unshaded, 0.0)
    loss[:] = np.where(np.isfinite(annual), np.clip(lost, 0.0, 1.0), np.nan)
    return IrradianceResult(annual, monthly, loss, svf, unshaded, **result_kw)
