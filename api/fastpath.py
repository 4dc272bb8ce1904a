"""A lean path for the hottest request, ``GET /api/roof?lon=…&lat=…`` (issue 12: p95 < 50 ms at 32 concurrent
on 2 cores, i.e. well under 1 ms of server CPU per request all-in).

Through FastAPI, two thirds of a roof lookup's server time went to the framework (middleware stack, routing,
dependency solving, query validation, the response classes), one third to the lookup itself.
:class:`ArtoisAPI` answers a well-formed lookup before that stack: it parses ``lon`` and ``lat`` (plain
decimals within range), calls :func:`api.services.roof_at` and sends the body the route would send, gzip and
``Cache-Control`` as the middleware would set them (same bytes, same headers, in the same order; tests compare
the two paths). Anything else — other parameters, a malformed or out-of-range value, HEAD, a building not
found or any error in the lookup — goes through the full application, which validates, routes and renders
errors as for every route; the route stays declared there, so the OpenAPI document is unchanged.
Bypassed for the lookups only: FastAPI's native telemetry (off unless an OpenTelemetry provider is set up).
"""

from __future__ import annotations

import re
import zlib
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from api.middleware import cache_control
from geo import config

if TYPE_CHECKING:
    from api.layers import Catalog
    from api.settings import Settings

ROOF_PATH = "/api/roof"
#: The query values taken on the lean path: plain decimals (what a map or a script sends); anything else
#: (exponents, percent-encoding, spaces, "nan") is left to FastAPI's validation.
_DECIMAL = re.compile(rb"-?[0-9]{1,3}(?:\.[0-9]{1,17})?")
#: Compression level of the JSON bodies: the one given to Starlette's GZipMiddleware in api/app.py.
GZIP_LEVEL = config.API_GZIP_LEVEL


def parse_lon_lat(query: bytes) -> tuple[float, float] | None:
    """(lon, lat) [°] of a query string holding exactly ``lon`` and ``lat`` as plain decimals within
    [-180, 180] × [-90, 90]; None for anything else (the full route then validates it)."""
    lon = lat = None
    for part in query.split(b"&"):
        key, _, value = part.partition(b"=")
        if not _DECIMAL.fullmatch(value):
            return None
        if key == b"lon" and lon is None:
            lon = float(value)
        elif key == b"lat" and lat is None:
            lat = float(value)
        else:
            return None
    if lon is None or lat is None or not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        return None
    return lon, lat


def gzip_body(body: bytes, level: int = GZIP_LEVEL) -> bytes:
    """``body`` gzip-compressed exactly as Starlette's GZipMiddleware compresses a single-chunk response."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(body) + compressor.flush()


def accepts_gzip(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the request's first ``Accept-Encoding`` header names gzip (GZipMiddleware's test)."""
    for name, value in headers:
        if name.lower() == b"accept-encoding":
            return b"gzip" in value
    return False


class ArtoisAPI(FastAPI):
    """The FastAPI application, with the lean path for roof lookups (module docstring)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == ROOF_PATH and scope["method"] == "GET":
            lon_lat = parse_lon_lat(scope["query_string"])
            if lon_lat is not None:
                response = self._roof_response(scope, *lon_lat)
                if response is not None:
                    start, body = response
                    await send(start)
                    await send({"type": "http.response.body", "body": body, "more_body": False})
                    return
        await super().__call__(scope, receive, send)

    def _roof_response(self, scope: Scope, lon: float, lat: float) -> tuple[dict[str, Any], bytes] | None:
        """(start message, body) of a roof lookup as the full stack sends it; None when the lookup fails (the
        full application then answers, with its error handling)."""
        from api import services

        catalog: Catalog = self.state.catalog
        settings: Settings = self.state.settings
        try:
            body = orjson.dumps(services.roof_at(catalog, lon, lat), option=orjson.OPT_SERIALIZE_NUMPY)
        except Exception:  # not found, or a failure: the full application answers (and logs) it
            return None
        headers = [(b"content-length", b""), (b"content-type", b"application/json")]
        if len(body) >= settings.gzip_min_bytes:  # GZipMiddleware's order: Vary, then Content-Encoding
            headers.append((b"vary", b"Accept-Encoding"))
            if accepts_gzip(scope["headers"]):
                body = gzip_body(body)
                headers.append((b"content-encoding", b"gzip"))
        headers[0] = (b"content-length", str(len(body)).encode())
        value = cache_control("GET", 200, ROOF_PATH, max_age=settings.cache_max_age_s,
                              tile_max_age=settings.tile_cache_max_age_s)
        headers.append((b"cache-control", value.encode()))
        return {"type": "http.response.start", "status": 200, "headers": headers}, body
