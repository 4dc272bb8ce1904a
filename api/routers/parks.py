"""Chaîne des Parcs at request time: routes between parks and walking service areas."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from api import services
from api.deps import get_catalog
from api.layers import Catalog
from api.models import ErrorBody, Feature

router = APIRouter(prefix="/api/parks", tags=["Chaîne des Parcs"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Requête impossible (même parc…)"},
    404: {"model": ErrorBody, "description": "Parc inconnu ou sans itinéraire"},
    422: {"model": ErrorBody, "description": "Paramètre mal formé"},
}


@router.get(
    "/route",
    response_model=Feature,
    summary="Itinéraire entre deux parcs",
    description="Walking/cycling route from an entrance of one park to an entrance of another, preferring "
    "greenways (geo.parks.routes.route): GeoJSON LineString (WGS84) with length_m, share_greenway, "
    "walk_min and bike_min.",
    responses=_ERRORS,
)
def route(
    catalog: Annotated[Catalog, Depends(get_catalog)],
    from_: Annotated[str, Query(alias="from", min_length=1, max_length=200, examples=["1"],
                                description="departure park: park_id or exact name")],
    to: Annotated[str, Query(min_length=1, max_length=200, examples=["2"],
                             description="arrival park: park_id or exact name")],
    greenway_preference: Annotated[float | None, Query(
        ge=1.0, le=10.0, description="cost factor of non-greenway streets (1 = shortest path)", examples=[1.5],
    )] = None,
) -> dict[str, Any]:
    return services.park_route(catalog, from_, to, greenway_preference=greenway_preference)


@router.get(
    "/service-area",
    response_model=Feature,
    summary="Zone de desserte à pied d'un parc",
    description="Area within `minutes` of walking of the park's entrances on the street network "
    "(geo.parks.access.service_area), with the population inside (areal weighting of the 200 m cells).",
    responses=_ERRORS,
)
def service_area(
    catalog: Annotated[Catalog, Depends(get_catalog)],
    park: Annotated[str, Query(min_length=1, max_length=200, examples=["1"],
                               description="park: park_id or exact name")],
    minutes: Annotated[float, Query(gt=0, le=60, description="walking time [min]", examples=[10])] = 10.0,
) -> dict[str, Any]:
    return services.park_service_area(catalog, park, minutes=minutes)
