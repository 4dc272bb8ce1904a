"""Statistics pages for climate plans (PCAET): ``/statistiques`` and ``/statistiques/{code}`` (HTML, French,
printable), with CSV and GeoPackage downloads of the same rows. Thin: :mod:`api.stats` assembles and renders."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import HTMLResponse, Response

from api import stats
from api.deps import get_catalog
from api.layers import Catalog
from api.models import ErrorBody

router = APIRouter(tags=["Statistiques"])
_CODE = Path(pattern=r"^[0-9A-Za-z]{5,9}$", description="INSEE code of a commune or SIREN of an agglomeration",
             examples=["62498"])
_RESPONSES: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody, "description": "Code inconnu"},
                                               422: {"model": ErrorBody, "description": "Code mal formé"}}


def _areas(catalog: Catalog) -> list[stats.AreaStats]:
    areas: list[stats.AreaStats] = catalog.cached("territory_stats", lambda: stats.territory_stats(catalog))
    return areas


def _download(content: bytes, media: str, name: str) -> Response:
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/statistiques", response_class=HTMLResponse, summary="Statistiques du territoire (page HTML)",
            description="Solar potential and park access of every agglomeration and commune, charts, downloads.")
def territory(catalog: Annotated[Catalog, Depends(get_catalog)]) -> HTMLResponse:
    return HTMLResponse(stats.render_stats(_areas(catalog)))


@router.get("/statistiques.csv", response_class=Response, summary="Statistiques du territoire (CSV)",
            description="One row per agglomeration and commune (the page's figures), UTF-8 CSV.")
def territory_csv(catalog: Annotated[Catalog, Depends(get_catalog)]) -> Response:
    return _download(stats.stats_table(_areas(catalog)), "text/csv; charset=utf-8", "statistiques.csv")


@router.get("/statistiques.gpkg", response_class=Response, summary="Statistiques du territoire (GeoPackage)",
            description="The same rows as the CSV with the areas' outlines, one GeoPackage layer.")
def territory_gpkg(catalog: Annotated[Catalog, Depends(get_catalog)]) -> Response:
    return _download(stats.stats_gpkg(catalog, _areas(catalog), "statistiques"),
                     "application/geopackage+sqlite3", "statistiques.gpkg")


@router.get("/statistiques/{code}.csv", response_class=Response, summary="Statistiques d'une commune (CSV)",
            description="The area's row and, for an agglomeration, its communes' rows, UTF-8 CSV.",
            responses=_RESPONSES)
def area_csv(code: Annotated[str, _CODE], catalog: Annotated[Catalog, Depends(get_catalog)]) -> Response:
    a = stats.area(_areas(catalog), code)
    return _download(stats.stats_table([a, *a.members]), "text/csv; charset=utf-8", f"statistiques-{code}.csv")


@router.get("/statistiques/{code}.gpkg", response_class=Response, summary="Statistiques d'une commune (GeoPackage)",
            description="The same rows as the area's CSV with their outlines, one GeoPackage layer.",
            responses=_RESPONSES)
def area_gpkg(code: Annotated[str, _CODE], catalog: Annotated[Catalog, Depends(get_catalog)]) -> Response:
    a = stats.area(_areas(catalog), code)
    return _download(stats.stats_gpkg(catalog, [a, *a.members], f"statistiques-{code}"),
                     "application/geopackage+sqlite3", f"statistiques-{code}.gpkg")


@router.get("/statistiques/{code}", response_class=HTMLResponse, responses=_RESPONSES,
            summary="Statistiques d'une commune ou d'une agglomération (page HTML)",
            description="French, printable page for a PCAET annex: solar potential (buildings, suitable roof faces, "
            "kWp, MWh/yr), park access (population within 300 m and 10 minutes, priority population), charts "
            "comparing the agglomeration's communes, CSV and GeoPackage downloads.")
def area_page(code: Annotated[str, _CODE], catalog: Annotated[Catalog, Depends(get_catalog)]) -> HTMLResponse:
    areas = _areas(catalog)
    return HTMLResponse(stats.render_stats(areas, stats.area(areas, code)))
