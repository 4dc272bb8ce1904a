"""Tree crowns from the surface and terrain models, and metric buffers of pixel masks."""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from geo import config


def tree_mask(dsm: np.ndarray, dtm: np.ndarray, buildings: np.ndarray,
              min_height_m: float = config.SITES_TREE_MIN_HEIGHT_M) -> np.ndarray:
    """Pixels of tree crowns: the DSM stands more than ``min_height_m`` [m] above the DTM, no building.

    Cars (~1.5 m) and low hedges stay below the default threshold (:data:`geo.config.SITES_TREE_MIN_HEIGHT_M`).
    NaN in either model is not a tree.
    """
    with np.errstate(invalid="ignore"):
        high = (dsm - dtm) > min_height_m
    return np.asarray(high & ~buildings & np.isfinite(dsm) & np.isfinite(dtm))


def disk(radius_px: float) -> np.ndarray:
    """Boolean disk structuring element of radius ``radius_px`` [px] (centre-to-centre distance)."""
    r = int(math.floor(radius_px))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    return np.asarray(xx * xx + yy * yy <= radius_px * radius_px + 1e-9)


def grow(mask: np.ndarray, distance_m: float, res_m: float) -> np.ndarray:
    """Pixels within ``distance_m`` [m] of ``mask`` (centre to centre), ``mask`` included."""
    if distance_m <= 0 or not mask.any():
        return mask.copy()
    return np.asarray(ndimage.binary_dilation(mask, structure=disk(distance_m / res_m)))


def shrink(mask: np.ndarray, distance_m: float, res_m: float) -> np.ndarray:
    """Pixels of ``mask`` farther than ``distance_m`` [m] from its outside (the border included)."""
    if distance_m <= 0:
        return mask.copy()
    padded = np.pad(mask, 1, constant_values=False)
    return np.asarray(~grow(~padded, distance_m, res_m))[1:-1, 1:-1]
