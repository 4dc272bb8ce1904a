"""Chaîne des Parcs at request time: routes between parks and walking service areas."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, model_validator

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


class LineStringGeometry(BaseModel):
    """A GeoJSON LineString in WGS84 [lon, lat] (°)."""

    type: Literal["LineString"]
    coordinates: list[tuple[Annotated[float, Field(ge=-180, le=180)], Annotated[float, Field(ge=-90, le=90)]]] = Field(
        min_length=2, max_length=500, description="[lon, lat] positions [°]")


class ScenarioRequest(BaseModel):
    """Either candidate gaps to build, or a new path drawn by the planner."""

    gaps: list[str] | None = Field(default=None, min_length=1, max_length=100, examples=[["1"]],
                                   description="gap_id values of the gaps layer")
    line: LineStringGeometry | None = Field(default=None, description="GeoJSON LineString in WGS84")

    @model_validator(mode="after")
    def _one_of(self) -> ScenarioRequest:
        if (self.gaps is None) == (self.line is None):
            raise ValueError("give either gaps or line")
        return self


@router.post(
    "/scenario",
    summary="Scénario : liens construits ou tracé nouveau, et ce qu'ils changent",
    description="Build candidate gaps (`{\"gaps\": [\"1\"]}`, geo.parks.gaps.apply_scenario) or add a new greenway "
    "path (`{\"line\": <GeoJSON LineString, WGS84>}`, attached to the walk network within "
    "PARKS_SCENARIO_SNAP_M), and return a GeoJSON FeatureCollection: `properties` holds the people newly linked "
    "to the Chaîne (within 10 min of a linked park), the people newly within a 10-minute walk of any park, the "
    "loop and greenway lengths before/after; features: the link (`role = lien`), the routes between parks "
    "that change (`itineraire`) and the new loop (`boucle`). Downloadable as is.",
    responses=_ERRORS,
)
def scenario(body: ScenarioRequest, catalog: Annotated[Catalog, Depends(get_catalog)]) -> dict[str, Any]:
    return services.park_scenario(catalog, gaps=body.gaps,
                                  line=body.line.model_dump() if body.line is not None else None)
