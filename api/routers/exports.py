"""Exports of a commune's roof faces or buildings as CSV, GeoJSON or GeoPackage."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from api import services
from api.deps import get_catalog, get_settings
from api.layers import Catalog
from api.models import ErrorBody
from api.settings import Settings

router = APIRouter(prefix="/api/export", tags=["Exports"])


@router.get(
    "/{layer}",
    response_class=Response,
    summary="Export d'une commune (CSV, GeoJSON, GeoPackage)",
    description="A commune's roof faces or buildings as a file to download (Content-Disposition). CSV: "
    "';'-separated UTF-8 with BOM, with lon/lat of a point inside each feature; GeoJSON: WGS84; GeoPackage: "
    "Lambert-93.",
    responses={
        200: {"content": {"text/csv": {}, "application/geo+json": {}, "application/geopackage+sqlite3": {}}},
        400: {"model": ErrorBody, "description": "Export trop volumineux"},
        404: {"model": ErrorBody, "description": "Couche ou commune inconnue"},
        422: {"model": ErrorBody, "description": "Paramètre mal formé"},
    },
)
def export(
    layer: Annotated[Literal["roof_faces", "buildings", "friches", "car_parks"], Path(description="layer to export",
                                                               examples=["buildings"])],
    catalog: Annotated[Catalog, Depends(get_catalog)],
    settings: Annotated[Settings, Depends(get_settings)],
    commune: Annotated[str, Query(pattern=r"^[0-9][0-9AB][0-9]{3}$", description="INSEE code of the commune",
                                  examples=["62498"])],
    format: Annotated[Literal["csv", "geojson", "gpkg"], Query(description="file format",
                                                                 examples=["csv"])] = "csv",
) -> Response:
    content, media_type, filename = services.export(catalog, settings, layer, commune, format)
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
