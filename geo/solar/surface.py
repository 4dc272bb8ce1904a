"""Tilt, azimuth and unit normal of every DSM pixel (Horn's 3×3 method)."""

from __future__ import annotations

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
    z = np.asarray(z, dtype=np.float64)
    rows, cols = z.shape
    out = np.full((3, rows, cols), np.nan)
    if rows < 3 or cols < 3:
        return out
    nw, n, ne = z[:-2, :-2], z[:-2, 1:-1], z[:-2, 2:]
    w, e = z[1:-1, :-2], z[1:-1, 2:]
    sw, s, se = z[2:, :-2], z[2:, 1:-1], z[2:, 2:]
    dz_dx = ((ne + 2 * e + se) - (nw + 2 * w + sw)) / (8.0 * res_m)  # towards east
    dz_dy = ((nw + 2 * n + ne) - (sw + 2 * s + se)) / (8.0 * res_m)  # towards north (row − 1)
    norm = np.sqrt(dz_dx**2 + dz_dy**2 + 1.0)
    out[0, 1:-1, 1:-1] = -dz_dx / norm
    out[1, 1:-1, 1:-1] = -dz_dy / norm
    out[2, 1:-1, 1:-1] = 1.0 / norm
    return out


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
