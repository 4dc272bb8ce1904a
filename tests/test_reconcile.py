"""The footprint search of geo.roofs.reconcile: its lattice scoring against one polygon test per candidate."""

from __future__ import annotations

import math

import numpy as np
import shapely

from geo import config
from geo.roofs.reconcile import _lattice_scores, moved_outline


def test_lattice_scores_equal_moving_the_outline_for_every_candidate() -> None:
    rng = np.random.default_rng(7)
    # an L-shaped block with vertices off the pixel lattice, pixel centres of a 0.5 m grid around it
    block = shapely.Polygon([(3.13, 2.71), (15.37, 2.71), (15.37, 9.02), (9.88, 9.02), (9.88, 14.46), (3.13, 14.46)])
    x = 0.25 + 0.5 * np.arange(-2, 40)
    gx, gy = np.meshgrid(x, x)
    xs, ys = gx.ravel() + 684000.0, gy.ravel() + 7038000.0
    block = shapely.affinity.translate(block, 684000.0, 7038000.0)
    w = rng.choice([-1.0, 0.0, 1.0], size=xs.size)
    smax, step = config.RECONCILE_MAX_SHIFT_M, 0.25
    grid = np.arange(-smax, smax + 1e-9, step)
    shifts = [(float(a), float(b)) for a in grid for b in grid if math.hypot(a, b) <= smax + 1e-9]
    grows = [-0.5, 0.0, 0.5]
    got = _lattice_scores(block, xs, ys, w, step, grows, shifts)
    assert got is not None
    want = np.array([w[shapely.contains_xy(moved_outline(block, dx, dy, g), xs, ys)].sum()
                     for g in grows for dx, dy in shifts])
    np.testing.assert_array_equal(got, want)
    # pixels off the lattice of the step: no table, the caller tests each candidate
    assert _lattice_scores(block, xs + 0.1, ys, w, 0.3, grows, shifts) is None
