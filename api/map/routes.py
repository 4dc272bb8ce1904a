"""Routes of the map: the page at ``/`` and its static assets under ``/static``.

Include with ``app.include_router(api.map.routes.router)``. The page is generated once per
process by :func:`api.map.page.build_map_page`; it holds no data, only the URLs of the API
that its JavaScript calls, so it does not depend on the built layers.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

from api.map.assets import STATIC_PREFIX, resolve_asset
from api.map.page import build_map_page
from geo.errors import NotFoundError

router = APIRouter(tags=["carte"])

#: Third-party assets are versioned by their package; ours change with the code.
_CACHE_STATIC = "public, max-age=3600"
_CACHE_PAGE = "no-cache"


@router.get(
    "/",
    response_class=HTMLResponse,
    summary="Carte interactive (page HTML)",
    description="The folium/Leaflet map page, in French. It loads every asset from this server.",
    responses={200: {"content": {"text/html": {"example": "<!DOCTYPE html>..."}}}},
)
def map_page() -> HTMLResponse:
    return HTMLResponse(build_map_page(), headers={"Cache-Control": _CACHE_PAGE})


@router.get(
    STATIC_PREFIX + "/{library}/{name:path}",
    response_class=FileResponse,
    summary="Fichier statique de la carte",
    description="Leaflet (xstatic-leaflet), Leaflet.VectorGrid (vendored in the package) and the map's own JS/CSS.",
    responses={404: {"description": "Unknown library or file, or library not installed"}},
)
def static_asset(library: str, name: str) -> FileResponse:
    try:
        path = resolve_asset(library, name)
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    return FileResponse(path, headers={"Cache-Control": _CACHE_STATIC})
