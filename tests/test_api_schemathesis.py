"""Property-based run over /openapi.json (schemathesis): no request the spec allows makes a server error.

Bounded for CI: a few examples per operation and no per-example deadline, on the synthetic build
(written at collection time into a temporary folder removed at exit).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import api_fixtures as fx
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from api.app import create_app
from api.settings import Settings

_TMP = tempfile.TemporaryDirectory(prefix="artois-schemathesis-")
APP = create_app(Settings(data_dir=fx.make_build(Path(_TMP.name) / "build")))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_error(case: schemathesis.Case) -> None:
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500, response.text
