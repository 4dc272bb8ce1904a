"""The printable roof report: ``GET /rapport/{building_id}`` (HTML, French, A4).

Thin: parse the parameters, call :func:`api.report.build_report`, render with :func:`api.report.render_report`.
Errors a user can cause (unknown building, impossible simulation) get a French HTML page with the status of
:data:`api.errors.STATUS_TABLE` (JSON ``{"code", "detail"}`` for clients that do not ask for HTML);
malformed parameters are 422 from the app's validation handler.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from api import report
from api.deps import get_catalog
from api.errors import error_response, status_for
from api.layers import Catalog
from api.models import ErrorBody
from api.services import SimulateOptions
from geo import config
from geo.errors import ArtoisError

router = APIRouter(tags=["Rapport"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"example": "<!DOCTYPE html>…"}}, "description": "Le rapport (page HTML)"},
    404: {"model": ErrorBody, "description": "Bâtiment inconnu (page HTML en français, ou JSON)"},
    422: {"model": ErrorBody, "description": "Paramètre mal formé"},
    400: {"model": ErrorBody, "description": "Simulation impossible"},
}


@router.get(
    "/rapport/{building_id}",
    response_class=HTMLResponse,
    response_model=None,
    summary="Rapport imprimable d'une toiture",
    description="A4 print-ready HTML report of one building for a household, a company or a public owner, in "
    "French: plan of the roof faces coloured by class, table of the faces, recommended installation and monthly "
    "production, economics over the panels' life (the figures of /api/roof, or of /api/simulate for other options: "
    "consumption, power, load profile, EMS, battery, VAT, quote, years, escalation, loan), "
    "solar hot water, dated assumptions and next steps. Self-contained (inline CSS and SVG, no external asset).",
    responses=_RESPONSES,
)
def report_page(
    request: Request,
    catalog: Annotated[Catalog, Depends(get_catalog)],
    building_id: Annotated[str, Path(min_length=1, max_length=200, description="buildings.building_id (cleabs)",
                                     examples=["BATIMENT0000000312345678"])],
    consommation: Annotated[float | None, Query(
        ge=config.MAP_CONSUMPTION_MIN_KWH_YR, le=config.MAP_CONSUMPTION_MAX_KWH_YR,
        description="household electricity use [kWh/yr]; default: the typical household of /api/roof",
        examples=[4500])] = None,
    kwp: Annotated[float | None, Query(
        ge=config.MODULE_PEAK_POWER_WP / 1000.0, le=1000,
        description="peak power to study [kWp]; default: the recommended size", examples=[3.0])] = None,
    profil: Annotated[Literal["moyen", "sans_chauffage", "chauffage_electrique", "pompe_a_chaleur",
                              "vehicule_electrique", "presence_journee", "tertiaire", "ecole"] | None,
                      Query(description="load profile (as /api/simulate load_profile)", examples=["pompe_a_chaleur"])] = None,
    pilotage: Annotated[bool | None, Query(description="EMS / hot-water diverter (oui/non)", examples=[True])] = None,
    batterie: Annotated[float | None, Query(ge=0, le=5000, description="battery [kWh]", examples=[5])] = None,
    tva: Annotated[Literal["auto", "reduit", "normal", "recuperable"] | None, Query(description="VAT regime", examples=["normal"])] = None,
    cout: Annotated[float | None, Query(gt=0, le=100_000_000, description="price of the quote [€]", examples=[8500])] = None,
    duree: Annotated[int | None, Query(ge=20, le=30, description="analysis years", examples=[30])] = None,
    hausse: Annotated[float | None, Query(ge=-0.05, le=0.10, description="yearly price escalation [1/yr]", examples=[0.03])] = None,
    pret_duree: Annotated[int | None, Query(ge=0, le=25, description="loan years", examples=[10])] = None,
    pret_taux: Annotated[float | None, Query(ge=0, le=0.2, description="loan rate [1/yr]", examples=[0.045])] = None,
) -> Response:
    options = SimulateOptions(load_profile=profil, ems=pilotage, battery_kwh=batterie, vat=tva, installed_cost_eur=cout,
                              analysis_years=duree, escalation=hausse, loan_years=pret_duree, loan_rate=pret_taux)
    try:
        model = report.build_report(catalog, building_id, annual_consumption_kwh=consommation, kwp=kwp,
                                    options=options)
    except ArtoisError as exc:
        status, code = status_for(exc)
        if "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(report.render_error(status, str(exc)), status_code=status,
                                headers={"Cache-Control": "no-store"})
        return error_response(status, code, str(exc))
    return HTMLResponse(report.render_report(model))
