"""Buildings found in the surface model when no footprint layer is given (DSM − DTM), terraced rows cut
into houses (:mod:`geo.roofs.rows`)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio.features
import shapely
from affine import Affine
from pyproj import CRS
from scipy import ndimage
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geo import config
from geo.roofs import rows
from geo.roofs.segmentation import _polygonal, first_pixel_key, local_planes


def detect_buildings(
    dsm: np.ndarray, dtm: np.ndarray, transform: Affine, *, crs: CRS | str, split_rows: bool = True,
    parcels: gpd.GeoDataFrame | None = None, house_module: bool = True,
) -> gpd.GeoDataFrame:
    """Building outlines from a surface and a terrain model (no footprints available).

    A pixel is a building pixel when it stands more than ``DETECT_MIN_HEIGHT_M`` above the
    terrain and its 3 x 3 plane fit is good (trees' crowns are rough); the mask is opened and
    closed, split into 8-connected blobs, and blobs smaller than ``DETECT_MIN_AREA_M2`` or
    mostly rough are dropped. With ``parcels`` (cadastral parcels in ``crs``), buildings are first
    cut along parcel boundaries (:func:`geo.roofs.rows.split_by_parcels`: each piece is one
    dwelling); with ``split_rows``, the other buildings (terraced rows) are then cut into houses
    where the DSM shows party walls or steps, and (with ``house_module``) on their house module
    (:func:`geo.roofs.rows.split_rows`).

    Returns
    -------
    GeoDataFrame
        ``building_id`` (``dsm-{n}``, numbered in raster scan order of their first pixel),
        geometry (pixel-outline polygons, cut across rows) in ``crs``.
    """
    res = float(transform.a)
    ndsm = dsm.astype(np.float64) - dtm.astype(np.float64)
    high = np.nan_to_num(ndsm, nan=0.0) > config.DETECT_MIN_HEIGHT_M
    _, _, rms = local_planes(dsm.astype(np.float64), res)
    planar = high & (np.nan_to_num(rms, nan=9.0) < config.BUILDING_MAX_PLANE_RMS_M / 2.5)
    # ridges and edges are not planar: grow the planar core back over them, but not over trees
    core = ndimage.binary_opening(planar, structure=np.ones((3, 3), bool))
    mask = ndimage.binary_dilation(core, structure=np.ones((3, 3), bool), iterations=2) & high
    mask = ndimage.binary_closing(mask, structure=np.ones((3, 3), bool)) & high
    mask = ndimage.binary_fill_holes(mask)
    lab, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if n == 0:
        return gpd.GeoDataFrame({"building_id": []}, geometry=[], crs=crs)
    counts = np.bincount(lab.ravel(), minlength=n + 1)
    planar_counts = np.bincount(lab.ravel(), weights=planar.ravel(), minlength=n + 1)
    keep = (counts * res * res >= config.DETECT_MIN_AREA_M2) & (planar_counts >= 0.5 * counts)
    keep[0] = False
    lab = np.where(keep[lab], lab, 0).astype(np.int32)
    geoms: dict[int, list[BaseGeometry]] = {}
    for geom, val in rasterio.features.shapes(lab, mask=lab > 0, transform=transform, connectivity=8):
        geoms.setdefault(int(val), []).append(shape(geom))
    blobs = []
    for i, val in enumerate(sorted(geoms), start=1):
        g = _polygonal(shapely.union_all(geoms[val]))
        blobs.append({"building_id": f"dsm-{i}", "geometry": g})
    if not blobs:  # every blob too small or rough
        return gpd.GeoDataFrame({"building_id": []}, geometry=[], crs=crs)
    found = gpd.GeoDataFrame(blobs, geometry="geometry", crs=crs)
    if parcels is None and not split_rows:
        return found
    if parcels is not None:  # a parcel's piece is one dwelling; a blob on one parcel may still be a row
        found = rows.split_by_parcels(found, parcels)
        whole = ~found.pop("by_parcel").to_numpy(bool)
    else:
        whole = np.ones(len(found), dtype=bool)
    if split_rows and whole.any():
        found = pd.concat([rows.split_rows(found[whole], dsm, transform, house_module=house_module),
                           found[~whole]], ignore_index=True)
    pieces = gpd.GeoDataFrame(found, geometry="geometry", crs=crs)
    pieces = pieces.iloc[sorted(range(len(pieces)), key=lambda i: first_pixel_key(pieces.geometry.iloc[i]))]
    pieces["building_id"] = [f"dsm-{i}" for i in range(1, len(pieces) + 1)]
    return pieces.reset_index(drop=True)
