"""One table from exceptions to HTTP statuses, and the handlers that apply it.

Every error response is JSON ``{"code": ..., "detail": "<message en français>"}``
(:class:`api.models.ErrorBody` in the OpenAPI spec); no traceback
ever reaches a client.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from rio_tiler.errors import TileOutsideBounds
from starlette.exceptions import HTTPException as StarletteHTTPException

from geo.errors import ArtoisError, InputError, InvalidRequestError, NotFoundError

log = logging.getLogger("artois.api")


class TileEmpty(Exception):
    """A tile inside the layer's extent with nothing to draw (rendered as 204)."""


#: Exception class -> (HTTP status, error code). The first class in this order that matches wins.
STATUS_TABLE: tuple[tuple[type[Exception], int, str], ...] = (
    (NotFoundError, 404, "not_found"),
    (TileOutsideBounds, 404, "tile_outside_bounds"),
    (InvalidRequestError, 400, "invalid_request"),
    (InputError, 422, "unprocessable_data"),
    (ArtoisError, 400, "bad_request"),
)

_FRENCH_STATUS = {
    400: "Requête invalide.",
    404: "Ressource introuvable.",
    405: "Méthode non autorisée pour cette adresse.",
    406: "Format de réponse non disponible.",
    422: "Paramètres invalides.",
    500: "Erreur interne du service.",
}


def status_for(exc: BaseException) -> tuple[int, str]:
    """(status, code) of an exception according to :data:`STATUS_TABLE` (500 for anything else)."""
    for cls, status, code in STATUS_TABLE:
        if isinstance(exc, cls):
            return status, code
    return 500, "internal_error"


def error_response(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse({"code": code, "detail": detail}, status_code=status, headers={"Cache-Control": "no-store"})


#: French messages for pydantic's validation error types (``{name}`` is filled from the error's context).
_FRENCH_VALIDATION = {
    "missing": "paramètre obligatoire manquant",
    "string_pattern_mismatch": "format invalide",
    "int_parsing": "un nombre entier est attendu",
    "int_from_float": "un nombre entier est attendu",
    "float_parsing": "un nombre est attendu",
    "finite_number": "un nombre fini est attendu",
    "bool_parsing": "true ou false est attendu",
    "greater_than": "doit être supérieur à {gt}",
    "greater_than_equal": "doit être supérieur ou égal à {ge}",
    "less_than": "doit être inférieur à {lt}",
    "less_than_equal": "doit être inférieur ou égal à {le}",
    "string_too_short": "texte trop court (au moins {min_length} caractère(s))",
    "string_too_long": "texte trop long (au plus {max_length} caractères)",
    "too_long": "liste trop longue (au plus {max_length} éléments)",
    "literal_error": "valeurs possibles : {expected}",
    "enum": "valeurs possibles : {expected}",
    "extra_forbidden": "champ inconnu",
    "json_invalid": "JSON invalide",
    "model_attributes_type": "un objet JSON est attendu",
    "dict_type": "un objet JSON est attendu",
    "list_type": "une liste est attendue",
    "string_type": "un texte est attendu",
    "float_type": "un nombre est attendu",
}


def _french_message(err: dict[str, Any]) -> str:
    template = _FRENCH_VALIDATION.get(str(err.get("type", "")))
    if template is None:
        return str(err.get("msg", "valeur invalide"))
    try:
        return template.format(**(err.get("ctx") or {}))
    except (KeyError, IndexError):
        return template.split(" {")[0]


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = [str(x) for x in err.get("loc", ()) if x not in ("query", "path", "body")]
        where = ".".join(loc) or "requête"
        parts.append(f"{where} : {_french_message(err)}")
    return "Paramètres invalides — " + " ; ".join(parts) if parts else _FRENCH_STATUS[422]


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers applying :data:`STATUS_TABLE` and French messages."""

    @app.exception_handler(TileEmpty)
    async def _empty(request: Request, exc: TileEmpty) -> Any:
        from fastapi.responses import Response

        return Response(status_code=204)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "invalid_parameters", _validation_detail(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else None
        if exc.status_code == 404 and isinstance(exc.detail, str) and exc.detail != "Not Found":
            detail = exc.detail
        msg = detail or _FRENCH_STATUS.get(exc.status_code, "Erreur.")
        if msg == "Method Not Allowed":
            msg = _FRENCH_STATUS[405]
        return error_response(exc.status_code, f"http_{exc.status_code}", msg)

    async def _mapped(request: Request, exc: Exception) -> JSONResponse:
        status, code = status_for(exc)
        if status >= 500:
            log.error("%s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
            detail = "Erreur interne du service : les données de la couche sont illisibles ou incomplètes."
        elif isinstance(exc, InputError):
            detail = f"Données impossibles à traiter : {exc.problem}"
        else:
            detail = str(exc)
        return error_response(status, code, detail)

    for cls, _status, _code in STATUS_TABLE:
        app.add_exception_handler(cls, _mapped)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return error_response(500, "internal_error", _FRENCH_STATUS[500])
