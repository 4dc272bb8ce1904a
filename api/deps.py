"""FastAPI dependencies shared by the routers: the catalogue, the settings, parameter parsers.

They are ``async`` (they do not block): FastAPI would otherwise run each in the thread pool, a
thread hand-off per dependency and per request.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError

from api.layers import Catalog, bbox_area_km2
from api.settings import Settings
from geo.errors import InvalidRequestError

BBox = tuple[float, float, float, float]

_NUM = r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?"
BBOX_PATTERN = rf"^\s*{_NUM}\s*,\s*{_NUM}\s*,\s*{_NUM}\s*,\s*{_NUM}\s*$"


async def get_catalog(request: Request) -> Catalog:
    catalog: Catalog = request.app.state.catalog
    return catalog


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def invalid_parameter(name: str, message: str, value: object = None) -> RequestValidationError:
    """A 422 error for one query parameter, in FastAPI's format."""
    return RequestValidationError([{"loc": ("query", name), "msg": message, "type": "value_error", "input": value}])


async def parse_bbox(
    settings: Annotated[Settings, Depends(get_settings)],
    bbox: Annotated[str | None, Query(
        pattern=BBOX_PATTERN,
        description="lon_min,lat_min,lon_max,lat_max in WGS84 [°] (CRS84)",
        examples=["2.80,50.41,2.86,50.45"],
    )] = None,
) -> BBox | None:
    """The ``bbox`` parameter: 422 when malformed, 400 when its area exceeds the configured maximum."""
    if bbox is None:
        return None
    values = [float(v) for v in bbox.split(",")]
    xmin, ymin, xmax, ymax = values
    if not all(math.isfinite(v) for v in values):
        raise invalid_parameter("bbox", "les coordonnées doivent être des nombres finis", bbox)
    if not (-180 <= xmin <= 180 and -180 <= xmax <= 180 and -90 <= ymin <= 90 and -90 <= ymax <= 90):
        raise invalid_parameter("bbox", "longitudes entre -180 et 180, latitudes entre -90 et 90", bbox)
    if not (xmin < xmax and ymin < ymax):
        raise invalid_parameter("bbox", "il faut lon_min < lon_max et lat_min < lat_max", bbox)
    area = bbox_area_km2((xmin, ymin, xmax, ymax))
    if area > settings.max_bbox_area_km2:
        raise InvalidRequestError(
            f"Emprise trop grande : {area:,.0f} km² (maximum {settings.max_bbox_area_km2:,.0f} km²). "
            "Zoomez ou réduisez la zone."
        )
    return (xmin, ymin, xmax, ymax)
