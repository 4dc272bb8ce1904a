"""The max-filter pyramid of the horizon scan against a brute-force window maximum."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from geo.solar.horizon import LOW, build_pyramid, dsm_pyramid, horizon_schedule, padded_block


def _brute_level(zb: np.ndarray, lam: int, r0: int, c0: int, nr: int, nc: int) -> np.ndarray:
    """max of zb over the 2^λ window (offsets −2^(λ−1) … 2^(λ−1) − 1) of pixels (r0…, c0…)."""
    w = 2**lam
    h = w // 2
    win = sliding_window_view(zb, (w, w))  # win[i, j] = zb[i : i + w, j : j + w]
    return win[r0 - h : r0 - h + nr, c0 - h : c0 - h + nc].max(axis=(2, 3))


def test_pyramid_levels_are_window_maxima() -> None:
    sched = horizon_schedule(32, 150.0, 0.5)
    assert sched.n_levels >= 4  # several chained levels
    pad = sched.pad
    rng = np.random.default_rng(7)
    zb = (rng.random((23 + 2 * pad, 31 + 2 * pad)) * 40.0).astype(np.float32)
    pyr = build_pyramid(zb, sched, pad)
    assert np.array_equal(pyr.level(0), zb)
    for lam in range(1, sched.n_levels):
        nr, nc = int(pyr.nrows[lam]), int(pyr.ncols[lam])
        if nr == 0:
            continue
        assert nr == 23 + 2 * int(sched.reach[lam]) and nc == 31 + 2 * int(sched.reach[lam])
        ref = _brute_level(zb, lam, int(pyr.r0[lam]), int(pyr.c0[lam]), nr, nc)
        assert np.array_equal(pyr.level(lam), ref), lam


def test_dsm_pyramid_pads_nodata_and_outside_low() -> None:
    sched = horizon_schedule(16, 40.0, 0.5)
    pad = sched.pad
    rng = np.random.default_rng(3)
    z = rng.random((60, 50)) * 20.0  # float64: read as float32
    z[5:9, 7:30] = np.nan
    z[40, 3] = np.inf
    pyr = dsm_pyramid(z, 10, 30, 5, 45, sched, pad)  # the block's pad reaches outside the DSM
    zb = padded_block(z, 10, 30, 5, 45, pad)
    assert np.array_equal(pyr.level(0), zb)
    def at(r: int, c: int) -> np.float32:  # zb's value for DSM pixel (r, c)
        return zb[r - 10 + pad, c - 5 + pad]

    assert pad > 10 and zb[0, 0] == LOW  # outside the DSM
    assert at(6, 9) == LOW and at(40, 3) == LOW  # NaN, inf
    assert at(10, 5) == np.float32(z[10, 5]) and at(59, 49) == np.float32(z[59, 49])
    ref = build_pyramid(zb, sched, pad)
    assert np.array_equal(pyr.buf, ref.buf)
    top = sched.n_levels - 1
    brute = _brute_level(zb, top, int(pyr.r0[top]), int(pyr.c0[top]), int(pyr.nrows[top]), int(pyr.ncols[top]))
    assert np.array_equal(pyr.level(top), brute)
