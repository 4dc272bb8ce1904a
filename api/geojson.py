"""GeoJSON rendering of features read from a layer (WGS84, RFC 7946)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping

from api.io.gpkg import Features
from api.layers import Collection

#: Decimal places of WGS84 coordinates: 1e-7° ≈ 1 cm.
COORD_DECIMALS = 7


def clean_value(value: Any) -> Any:
    """JSON-safe attribute value: NaN/inf → None, numpy scalars → Python."""
    kind = type(value)  # fast paths for the Python values SQLite gives
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is str or kind is int or value is None:
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


_PLAIN = frozenset({str, int, type(None)})


def clean_properties(props: dict[str, Any]) -> dict[str, Any]:
    """:func:`clean_value` of each attribute (a new dict)."""
    out = dict(props)
    for k, v in props.items():  # only the values that need it go through clean_value (most are plain)
        kind = type(v)
        if kind not in _PLAIN and (kind is not float or not math.isfinite(v)):
            out[k] = clean_value(v)
    return out


def geometries_wgs84(collection: Collection, geoms: np.ndarray) -> list[dict[str, Any] | None]:
    """GeoJSON geometry dicts in WGS84 of geometries in the collection's CRS (None stays None)."""
    out: list[dict[str, Any] | None] = [None] * len(geoms)
    present = np.flatnonzero(~shapely.is_missing(geoms))
    if len(present):
        wgs = collection.geometries_to_wgs84(geoms[present])
        wgs = shapely.transform(wgs, lambda xy: np.round(xy, COORD_DECIMALS))
        for i, g in zip(present, wgs, strict=True):
            out[int(i)] = None if g.is_empty else mapping(g)
    return out


def features_to_geojson(collection: Collection, feats: Features) -> list[dict[str, Any]]:
    """GeoJSON Feature dicts (``id`` = fid, geometry in WGS84)."""
    geoms = geometries_wgs84(collection, feats.geometries)
    return [
        {"type": "Feature", "id": int(fid), "geometry": g, "properties": clean_properties(p)}
        for fid, p, g in zip(feats.fids, feats.properties, geoms, strict=True)
    ]
