"""A JSON response for hot endpoints whose handlers already build plain JSON-safe dicts.

Returning it from a route that declares ``response_model`` keeps the model in the OpenAPI document but skips
FastAPI's per-request validation and serialisation through pydantic (about a tenth of a roof lookup's server
time); orjson serialises numpy scalars and writes NaN/inf as null, like pydantic.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class FastJSONResponse(JSONResponse):
    """``application/json`` rendered with orjson (compact, UTF-8, numpy scalars and arrays accepted)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)
