"""The printable roof report: ``GET /rapport/{building_id}`` (HTML, French, A4) and
``GET /rapport/{building_id}.pdf`` (the same page made into a PDF on the server by :mod:`api.pdf`).

Thin: parse the parameters, call :func:`api.report.build_report`, render with :func:`api.report.render_report`.
Errors a user can cause (unknown building, impossible simulation) get a French HTML page with the status of
:data:`api.errors.STATUS_TABLE` (JSON ``{"code", "detail"}`` for clients that do not ask for HTML);
malformed parameters are 422 from the app's validation handler.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from api import pdf, report
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


BuildingId = Annotated[str, Path(min_length=1, max_length=200, description="buildings.building_id (cleabs)",
                                 examples=["BATIMENT0000000312345678"])]
Consumption = Annotated[float | None, Query(
    ge=config.MAP_CONSUMPTION_MIN_KWH_YR, le=config.MAP_CONSUMPTION_MAX_KWH_YR,
    description="household electricity use [kWh/yr]; default: the typical household of /api/roof",
    examples=[4500])]
Kwp = Annotated[float | None, Query(
    ge=config.MODULE_PEAK_POWER_WP / 1000.0, le=1000,
    description="peak power to study [kWp]; default: the recommended size", examples=[3.0])]


# The economics options of /api/simulate, in French (docs/economics.md).
Profile = Annotated[Literal["moyen", "sans_chauffage", "chauffage_electrique", "pompe_a_chaleur", "vehicule_electrique",
                            "presence_journee", "tertiaire", "ecole"] | None,
                    Query(description="load profile (as /api/simulate load_profile)", examples=["pompe_a_chaleur"])]
Ems = Annotated[bool | None, Query(description="EMS / hot-water diverter (true/false)", examples=[True])]
Battery = Annotated[float | None, Query(ge=0, le=5000, description="battery [kWh]", examples=[5])]
Vat = Annotated[Literal["auto", "reduit", "normal", "recuperable"] | None,
                Query(description="VAT regime", examples=["normal"])]
Quote = Annotated[float | None, Query(gt=0, le=100_000_000, description="price of the quote [€]", examples=[8500])]
Years = Annotated[int | None, Query(ge=20, le=30, description="analysis years", examples=[30])]
Escalation = Annotated[float | None, Query(ge=-0.05, le=0.10, description="yearly price escalation [1/yr]",
                                           examples=[0.03])]
LoanYears = Annotated[int | None, Query(ge=0, le=25, description="loan years", examples=[10])]
LoanRate = Annotated[float | None, Query(ge=0, le=0.2, description="loan rate [1/yr]", examples=[0.045])]


@dataclass(frozen=True)
class ReportQuery:
    """The parameters of both report routes (HTML and PDF)."""

    building_id: str
    consommation: float | None
    kwp: float | None
    options: SimulateOptions = SimulateOptions()

    def build(self, catalog: Catalog) -> report.Report:
        return report.build_report(catalog, self.building_id, annual_consumption_kwh=self.consommation, kwp=self.kwp,
                                   options=self.options)


def report_query(building_id: BuildingId, consommation: Consumption = None, kwp: Kwp = None, profil: Profile = None,
                 pilotage: Ems = None, batterie: Battery = None, tva: Vat = None, cout: Quote = None,
                 duree: Years = None, hausse: Escalation = None, pret_duree: LoanYears = None,
                 pret_taux: LoanRate = None) -> ReportQuery:
    options = SimulateOptions(load_profile=profil, ems=pilotage, battery_kwh=batterie, vat=tva, installed_cost_eur=cout,
                              analysis_years=duree, escalation=hausse, loan_years=pret_duree, loan_rate=pret_taux)
    return ReportQuery(building_id, consommation, kwp, options)


def _error(request: Request, exc: ArtoisError) -> Response:
    status, code = status_for(exc)
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(report.render_error(status, str(exc)), status_code=status,
                            headers={"Cache-Control": "no-store"})
    return error_response(status, code, str(exc))


# Declared before the HTML route, whose path parameter would also match "….pdf".
@router.get(
    "/rapport/{building_id}.pdf",
    response_class=Response,
    response_model=None,
    summary="Rapport d'une toiture en PDF",
    description="The report of /rapport/{building_id} as an A4 PDF made on the server (WeasyPrint, fonts "
    "embedded, no browser needed), same content and parameters. 503 when the server cannot make PDFs.",
    responses={**_RESPONSES, 200: {"content": {"application/pdf": {}}, "description": "Le rapport (PDF, A4)"},
               503: {"model": ErrorBody, "description": "PDF indisponible sur ce serveur"}},
)
def report_pdf(
    request: Request,
    catalog: Annotated[Catalog, Depends(get_catalog)],
    q: Annotated[ReportQuery, Depends(report_query)],
) -> Response:
    try:
        content = pdf.html_to_pdf(report.render_report(q.build(catalog)),
                                  title=f"Rapport solaire — bâtiment {q.building_id}")
    except pdf.PdfUnavailableError as exc:
        return error_response(503, "pdf_unavailable", str(exc))
    except ArtoisError as exc:
        return _error(request, exc)
    return Response(content, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="rapport-solaire-{_safe_name(q.building_id)}.pdf"'})


def _safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:100]


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
    q: Annotated[ReportQuery, Depends(report_query)],
) -> Response:
    try:
        model = q.build(catalog)
    except ArtoisError as exc:
        return _error(request, exc)
    return HTMLResponse(report.render_report(model))
