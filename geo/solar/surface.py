"""Tilt, azimuth and unit normal of every DSM pixel (Horn's 3×3 method)."""

from __future__ import annotations

import math

import numba
import numpy as np


def surface_normals(z: np.ndarray, res_m: float) -> np.ndarray:
    """Unit normal of every pixel of a north-up height grid, by Horn's (1981) 3×3 gradient.

    Rows go **south** as they increase (north-up raster), columns go east.

    Parameters
    ----------
    z
        Heights [m], shape (rows, cols); NaN = nodata.
    res_m
        Pixel size [m].

    Returns
    -------
    ndarray
        float64 (3, rows, cols): components (east, north, up) of the upward unit normal; NaN on
        the outer ring and wherever the 3×3 neighbourhood holds nodata.
    """
    z = np.asarray(z)
    if z.dtype not in (np.float32, np.float64):
        z = z.astype(np.float64)
    rows, cols = z.shape
    out = np.full((3, rows, cols), np.nan)
    if rows < 3 or cols < 3:
        return out
    _horn(z, 8.0 * res_m, out)
    return out


@numba.njit(cache=True, error_model="numpy")
def _horn(z, scale, out):  # pragma: no cover - numba
    """Horn's normals of the inner pixels into ``out`` (float64 arithmetic, numpy's order of operations:
    no fast-math, so the same values as the array expressions)."""
    rows, cols = z.shape
    for i in range(1, rows - 1):
        for j in range(1, cols - 1):
            nw, n, ne = np.float64(z[i - 1, j - 1]), np.float64(z[i - 1, j]), np.float64(z[i - 1, j + 1])
            w, e = np.float64(z[i, j - 1]), np.float64(z[i, j + 1])
            sw, s, se = np.float64(z[i + 1, j - 1]), np.float64(z[i + 1, j]), np.float64(z[i + 1, j + 1])
            dz_dx = ((ne + 2.0 * e + se) - (nw + 2.0 * w + sw)) / scale  # towards east
            dz_dy = ((nw + 2.0 * n + ne) - (sw + 2.0 * s + se)) / scale  # towards north (row − 1)
            norm = math.sqrt(dz_dx * dz_dx + dz_dy * dz_dy + 1.0)
            out[0, i, j] = -dz_dx / norm
            out[1, i, j] = -dz_dy / norm
            out[2, i, j] = 1.0 / norm


def tilt_azimuth(normals: np.ndarray, *, flat_tilt_deg: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """Tilt and azimuth of surfaces from their upward normals: the one definition of both.

    Parameters
    ----------
    normals
        (3, ...) components (east, north, up), unit or not (see :func:`gradient_normal` for a
        plane given by its slopes).
    flat_tilt_deg
        Below this tilt [°] the azimuth is NaN.

    Returns
    -------
    tilt_deg, azimuth_deg
        Tilt from horizontal [°]; azimuth of the direction the surface faces (down-slope) [°,
        clockwise from north, 90 = east, 180 = south, 270 = west]; NaN when flat.
    """
    nx, ny, nz = normals[0], normals[1], normals[2]
    tilt = np.degrees(np.arctan2(np.hypot(nx, ny), nz))
    az = np.degrees(np.arctan2(nx, ny)) % 360.0
    az = np.where(tilt < flat_tilt_deg, np.nan, az)
    return tilt, az


def gradient_normal(dz_dx: float | np.ndarray, dz_dy: float | np.ndarray) -> np.ndarray:
    """Upward normal (east, north, up), not normalised, of the plane z = dz_dx·x + dz_dy·y + c (x east, y north)."""
    return np.array([-np.asarray(dz_dx, float), -np.asarray(dz_dy, float), np.ones_like(dz_dx, dtype=float)])


def plane_normal(tilt_deg: float, azimuth_deg: float) -> np.ndarray:
    """Unit normal (east, north, up) of a plane of given tilt [°] facing ``azimuth_deg`` [°]."""
    b, a = np.radians(tilt_deg), np.radians(azimuth_deg)
    return np.array([np.sin(b) * np.sin(a), np.sin(b) * np.cos(a), np.cos(b)])
