"""Lookups for people: the roof under a point, address search, economics simulation, commune statistics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from api import services
from api.deps import get_catalog, get_settings
from api.geocoder import AddressIndex
from api.layers import Catalog
from api.models import (
    Assumption,
    ErrorBody,
    GeocodeCandidate,
    GeocodeResponse,
    RoofResponse,
    SimulateRequest,
    SimulateResponse,
    StatsResponse,
    SuitabilityClassInfo,
)
from api.responses import FastJSONResponse
from api.settings import Settings
from geo import config
from geo.roofs.classes import CLASSES

router = APIRouter(prefix="/api", tags=["Recherches"])
# Short CPU-bound handlers (an indexed SQLite read, a fuzzy match) are ``async``: run on the event loop,
# they avoid a thread hand-off per request; longer ones (simulation) stay in the thread pool.
_404: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "Rien à cet endroit / identifiant inconnu"},
    422: {"model": ErrorBody, "description": "Paramètre mal formé"},
}


@router.get(
    "/roof",
    response_model=RoofResponse,
    summary="Le bâtiment sous un point : toiture, potentiel, économie",
    description="The building whose footprint contains (lon, lat) [° WGS84], with its figures (potential, "
    "recommended installation and its economics, solar hot water), its roof faces (best production first) and "
    "the weather source of the irradiation. 404 with a French message when no building is there.",
    responses=_404,
)
async def roof(
    catalog: Annotated[Catalog, Depends(get_catalog)],
    lon: Annotated[float, Query(ge=-180, le=180, description="longitude [°]", examples=[2.8327])],
    lat: Annotated[float, Query(ge=-90, le=90, description="latitude [°]", examples=[50.4301])],
) -> FastJSONResponse:
    # roof_at builds plain JSON-safe dicts: sent as they are, RoofResponse documents them (tests check the shape)
    return FastJSONResponse(services.roof_at(catalog, lon, lat))


async def address_index(
    catalog: Annotated[Catalog, Depends(get_catalog)], settings: Annotated[Settings, Depends(get_settings)],
) -> AddressIndex:
    index: AddressIndex = catalog.cached("addresses", lambda: services.load_address_index(catalog, settings))
    return index


@router.get(
    "/geocode",
    response_model=GeocodeResponse,
    summary="Recherche d'adresse",
    description="Ranked address candidates from the BAN data, tolerant of accents, case, typos and abbreviations "
    "(bd → boulevard, av → avenue, r → rue, pl → place, ch → chemin, st → saint…). Score 0–1.",
    responses=_404,
)
async def geocode(
    index: Annotated[AddressIndex, Depends(address_index)],
    q: Annotated[str, Query(min_length=1, max_length=200, description="free-text address",
                            examples=["12 bd emile basly lens"])],
    limit: Annotated[int, Query(ge=1, le=50, description="maximum number of results",
                                examples=[5])] = config.GEOCODE_MAX_RESULTS,
) -> Response:
    results = index.search(q, limit=limit)
    size = f"{index.size:,}".replace(",", "\u202f")  # French thousands separator
    body = GeocodeResponse(
        query=q, source=index.source,
        results=[GeocodeCandidate(**c.__dict__) for c in results],
        message=None if results else f"Aucune adresse ne correspond à « {q} » parmi les {size} adresses connues "
        f"({index.source}).",
    )
    # serialised once here: returning the model would make FastAPI validate it a second time
    return Response(body.model_dump_json(), media_type="application/json")


@router.post(
    "/simulate",
    response_model=SimulateResponse,
    summary="Simulation économique d'une installation",
    description="Economics of an installation on one building over the panels' life for a household, a company "
    "or a public owner: consumption and load profile, EMS, battery, VAT, installed cost, analysis years, "
    "escalation, loan; chosen power (kWp) or set of faces. Computed by geo.roofs.economics.simulate (dated French "
    "tariffs in geo/config.py); the answer lists the assumptions with their sources.",
    responses={**_404, 400: {"model": ErrorBody, "description": "Simulation impossible"}},
)
def simulate(
    body: SimulateRequest, catalog: Annotated[Catalog, Depends(get_catalog)],
) -> SimulateResponse:
    options = services.SimulateOptions(**body.model_dump(exclude={"building_id", "kwp", "face_ids"}))
    result, whole = services.simulate_with_whole_roof(catalog, body.building_id, options=options, kwp=body.kwp,
                                                      face_ids=body.face_ids)
    return SimulateResponse(
        building_id=body.building_id, annual_consumption_kwh=result.annual_consumption_kwh, kwp=body.kwp,
        face_ids=body.face_ids, economics=services.simulation_json(result),
        whole_roof=None if whole is None else services.simulation_json(whole),
        assumptions=[Assumption(**a) for a in services.economics_assumptions(result)],
    )


@router.get(
    "/stats/communes",
    response_model=StatsResponse,
    summary="Potentiel solaire et accès aux parcs par commune et agglomération",
    description="One entry per commune and per agglomeration (level = 'epci'), joining communes_solar and "
    "communes_access by code.",
)
async def stats_communes(catalog: Annotated[Catalog, Depends(get_catalog)]) -> dict[str, Any]:
    return {"communes": services.commune_stats(catalog)}


@router.get(
    "/suitability-classes",
    response_model=list[SuitabilityClassInfo],
    summary="Classes de toiture : libellé, couleur, signification",
    description="The roof classes of the suitability column (geo.roofs.classes), best first: code, French label, "
    "colour, lowest share of the site's best plane, and the explanation the map and the report show.",
)
async def suitability_classes() -> list[SuitabilityClassInfo]:
    return [SuitabilityClassInfo(code=c.code, label=c.label, colour=c.colour,
                                 min_share_of_optimum=c.min_share_of_optimum, suitable=c.suitable,
                                 explanation=c.explanation) for c in CLASSES]
