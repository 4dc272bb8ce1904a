"""Batch address lookups: ``POST /api/lookup`` (CSV or JSON in, JSON or CSV out).

Thin: parse the body, call :class:`api.batch.BatchLookup` (the logic ``artois solar lookup`` uses too),
render. Every address gets one answer, with a French reason when no figures can be given.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from api import batch
from api.deps import get_catalog
from api.geocoder import AddressIndex
from api.layers import Catalog
from api.models import ErrorBody
from api.routers.lookups import address_index
from geo import config
from geo.errors import InputError, InvalidRequestError

router = APIRouter(prefix="/api", tags=["Recherches"])

_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}, "example": "adresse\n12 bd Emile Basly 62300 Lens\n"},
            "application/json": {
                "schema": {"type": "object", "required": ["addresses"], "properties": {"addresses": {
                    "type": "array", "maxItems": config.LOOKUP_MAX_ADDRESSES,
                    "items": {"anyOf": [{"type": "string"}, {"type": "object", "additionalProperties": True}]},
                }}},
                "example": {"addresses": ["12 bd Emile Basly 62300 Lens",
                                          {"numero": "3", "nom_voie": "rue Emile Zola", "nom_commune": "Lens"}]},
            },
        },
    },
}


def _table_from_json(raw: bytes) -> tuple[pd.DataFrame, list[str]]:
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidRequestError(f"JSON invalide : {exc}") from exc
    items = body.get("addresses") if isinstance(body, dict) else body
    if not isinstance(items, list) or not items:
        raise InvalidRequestError("Le corps JSON doit être {\"addresses\": [\"adresse\", …]} (liste non vide).")
    if len(items) > config.LOOKUP_MAX_ADDRESSES:
        raise InvalidRequestError(f"{len(items)} adresses : au plus {config.LOOKUP_MAX_ADDRESSES} par requête.")
    if all(isinstance(i, str) for i in items):
        table = pd.DataFrame({"adresse": items})
    elif all(isinstance(i, dict) for i in items):
        table = pd.DataFrame(items).astype(str).replace({"None": "", "nan": ""})
    else:
        raise InvalidRequestError("Les adresses sont toutes des textes, ou toutes des objets aux colonnes BAN.")
    try:
        return table, batch.queries_from_table(table, source="corps JSON")
    except InputError as exc:
        raise InvalidRequestError(f"Adresses illisibles : {exc.problem}") from exc


@router.post(
    "/lookup",
    response_model=None,
    summary="Recherche d'une liste d'adresses (potentiel solaire de chaque bâtiment)",
    description="One answer per address, in order: status (`ok`, `aucun_pan_adapte`, `introuvable`, `ambigue`, "
    "`hors_territoire`), a French reason, the address found and its score, the candidates when ambiguous, and the "
    "building's figures (building_id, suitability, reco_kwp, reco_production_kwh_yr, economics — the values of "
    "/api/roof). Body: a CSV (`text/csv`: a column `adresse` of free text, or BAN-like columns numero, rep, "
    "nom_voie, code_postal, nom_commune; `;` or `,` separated) or JSON `{\"addresses\": [...]}`. Answer: JSON, or "
    f"with `format=csv` the input CSV with the result columns appended. At most {config.LOOKUP_MAX_ADDRESSES} "
    "addresses per request (`artois solar lookup` has no limit).",
    openapi_extra=_BODY_DOC,
    responses={
        200: {"content": {"application/json": {}, "text/csv": {}}, "description": "Une réponse par adresse"},
        400: {"model": ErrorBody, "description": "Corps illisible ou trop d'adresses"},
        422: {"model": ErrorBody, "description": "Paramètre mal formé"},
    },
)
async def lookup(
    request: Request,
    catalog: Annotated[Catalog, Depends(get_catalog)],
    index: Annotated[AddressIndex, Depends(address_index)],
    format: Annotated[Literal["json", "csv"], Query(description="answer format", examples=["csv"])] = "json",
) -> Response:
    raw = await request.body()
    if not raw.strip():
        raise InvalidRequestError("Corps vide : envoyez un CSV (colonne « adresse ») ou {\"addresses\": [...]}.")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json" or (not ctype and raw.lstrip()[:1] in (b"{", b"[")):
        table, queries = _table_from_json(raw)
    else:
        try:
            table, queries = batch.read_address_table(raw, source="CSV envoyé",
                                                      max_rows=config.LOOKUP_MAX_ADDRESSES)
        except InputError as exc:
            raise InvalidRequestError(f"CSV illisible : {exc.problem}") from exc
    lookup_ = catalog.cached("batch_lookup", lambda: batch.BatchLookup(catalog, index))
    results = await run_in_threadpool(lookup_.run, queries)
    if format == "csv":
        return Response(batch.to_csv(batch.results_table(table, results)), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="adresses-resultats.csv"'})
    return JSONResponse(batch.to_json(results))
