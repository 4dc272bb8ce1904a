"""Tiles in Web Mercator: vector tiles (MVT) of the layers, PNG tiles of the irradiation, its legend."""

from __future__ import annotations

import gzip
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from api import tiles
from api.deps import get_catalog
from api.errors import TileEmpty
from api.layers import Catalog
from api.models import ErrorBody, Legend, LegendStop
from geo import config
from geo.errors import NotFoundError
from geo.products import rooftops

router = APIRouter(prefix="/tiles", tags=["Tuiles"])

MVT = "application/vnd.mapbox-vector-tile"
Z = Annotated[int, Path(ge=0, le=config.TILE_MAX_ZOOM, description="zoom level", examples=[16])]
X = Annotated[int, Path(ge=0, le=2**config.TILE_MAX_ZOOM, description="column", examples=[33289])]
Y = Annotated[int, Path(ge=0, le=2**config.TILE_MAX_ZOOM, description="row (from the north)", examples=[22034])]
_TILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    204: {"description": "Tuile vide (rien à dessiner, ou zoom inférieur au zoom minimal de la couche)"},
    404: {"model": ErrorBody, "description": "Tuile hors de l'emprise de la couche, ou couche inconnue"},
    422: {"model": ErrorBody, "description": "Indices de tuile invalides"},
}


@router.get(
    "/irradiation/legend",
    response_model=Legend,
    summary="Légende des tuiles d'irradiation",
    description="Colour stops of the irradiation tiles, in kWh/m²/yr (values outside the range are clipped).",
)
async def irradiation_legend() -> Legend:
    scale = tiles.IRRADIATION_SCALE
    return Legend(
        title="Irradiation annuelle", unit="kWh/m²/an", colormap=scale.name, min=scale.vmin, max=scale.vmax,
        stops=[LegendStop(value=v, color=c) for v, c in scale.stops(config.IRRADIATION_LEGEND_STOPS)],
        description=f"Irradiation solaire annuelle reçue par la surface, ombrages compris. Couleurs de "
        f"{scale.vmin:.0f} (sombre) à {scale.vmax:.0f} kWh/m²/an (clair) ; au-delà, la couleur extrême.",
    )


@router.get(
    "/irradiation/legend.png",
    response_class=Response,
    summary="Légende des tuiles d'irradiation (image)",
    description="A 256 × 16 px colour bar, left = minimum, right = maximum of the legend.",
    responses={200: {"content": {"image/png": {}}}},
)
async def irradiation_legend_png() -> Response:
    return Response(tiles.legend_png(), media_type="image/png")


@router.get(
    "/irradiation/{z}/{x}/{y}.png",
    response_class=Response,
    summary="Tuile raster d'irradiation annuelle (PNG)",
    description="Band 1 of irradiance.vrt (kWh/m²/yr) coloured with the legend's colour map; transparent where "
    "there is no data. 204 when the tile is all nodata, 404 outside the raster.",
    responses={200: {"content": {"image/png": {}}}, **_TILE_RESPONSES},
)
def irradiation_tile(z: Z, x: X, y: Y, catalog: Annotated[Catalog, Depends(get_catalog)]) -> Response:
    if catalog.raster is None:
        raise NotFoundError("Pas de raster d'irradiation dans ce dossier (irradiance.vrt).")
    try:
        png = tiles.irradiation_tile(catalog.raster.path, z, x, y)
    except TileEmpty:
        return Response(status_code=204)
    return Response(png, media_type="image/png")


@router.get(
    "/{collection_id}/{z}/{x}/{y}.pbf",
    response_class=Response,
    summary="Tuile vectorielle d'une couche (MVT)",
    description="Mapbox Vector Tile (extent 4096) with one layer named after the collection, the attributes the "
    "map uses and the feature id (fid). Roof faces: face_id, building_id, suitability; parks: nom, ensemble…; "
    "greenways: in_loop… Served from the build's PMTiles archive (tiles/{collection}.pmtiles, prebuilt by "
    "`artois build`) within its zooms, encoded live beyond them.",
    responses={200: {"content": {MVT: {}}}, **_TILE_RESPONSES},
)
async def vector_tile(
    request: Request,
    collection_id: Annotated[str, Path(description="collection id", examples=[rooftops.ROOF_FACES.name])],
    z: Z, x: X, y: Y,
    catalog: Annotated[Catalog, Depends(get_catalog)],
) -> Response:
    c = catalog.collection(collection_id)
    archives: tiles.TileArchives = catalog.cached("tile_archives", lambda: tiles.TileArchives(catalog))
    try:
        stored = archives.tile(c, z, x, y)
    except TileEmpty:
        return Response(status_code=204)
    if stored is not None:
        if "gzip" in request.headers.get("accept-encoding", ""):
            return Response(stored, media_type=MVT, headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
        return Response(gzip.decompress(stored), media_type=MVT)
    cache: tiles.LRUCache = request.app.state.tile_cache
    key = (c.id, z, x, y)
    found, data = cache.get(key)
    if not found:
        try:
            data = tiles.vector_tile(c, z, x, y)
        except TileEmpty:
            data = None
        cache.put(key, data)
    if data is None:
        return Response(status_code=204)
    return Response(data, media_type=MVT)
