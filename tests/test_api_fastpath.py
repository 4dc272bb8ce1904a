"""The lean path of GET /api/roof (api/fastpath.py) answers exactly as the full FastAPI stack does."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path
from typing import Any

import api_fixtures as fx
import pytest
from api_fixtures import api_build  # noqa: F401
from fastapi import FastAPI
from pyproj import Transformer

from api.app import create_app
from api.fastpath import parse_lon_lat
from api.settings import Settings

L93_TO_WGS = Transformer.from_crs(fx.CRS, "EPSG:4326", always_xy=True)


@pytest.mark.parametrize(("query", "expected"), [
    (b"lon=2.8327&lat=50.4301", (2.8327, 50.4301)),
    (b"lat=50.4301&lon=-2.5", (-2.5, 50.4301)),
    (b"lon=180&lat=-90", (180.0, -90.0)),
])
def test_parse_lon_lat_plain_decimals(query: bytes, expected: tuple[float, float]) -> None:
    assert parse_lon_lat(query) == expected


@pytest.mark.parametrize("query", [
    b"", b"lon=2.8", b"lon=2.8&lat=50&x=1", b"lon=2.8&lon=2.9&lat=50", b"lon=1e0&lat=50", b"lon=2.8&lat=",
    b"lon=%202.8&lat=50", b"lon=nan&lat=50", b"lon=180.5&lat=50", b"lon=2.8&lat=90.01", b"lon=+2.8&lat=50",
    b"lon=2.&lat=50", b"lon=2.8&lat=50&",
])
def test_parse_lon_lat_leaves_the_rest_to_fastapi(query: bytes) -> None:
    assert parse_lon_lat(query) is None


def _call(app: Any, query: str, accept_gzip: bool) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    headers = [(b"host", b"testserver")] + ([(b"accept-encoding", b"gzip, deflate")] if accept_gzip else [])
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": "/api/roof", "raw_path": b"/api/roof", "query_string": query.encode(), "root_path": "",
             "headers": headers, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {}}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], list(sent[0]["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


@pytest.mark.parametrize("gzip_min_bytes", [500, 10**9])
def test_fast_path_sends_what_the_full_stack_sends(api_build: Path, gzip_min_bytes: int,  # noqa: F811
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(Settings(data_dir=api_build, gzip_min_bytes=gzip_min_bytes))
    full_calls: list[str] = []
    full_call = FastAPI.__call__

    async def counted(self: FastAPI, scope: Any, receive: Any, send: Any) -> None:
        full_calls.append(scope["path"])
        await full_call(self, scope, receive, send)

    monkeypatch.setattr(FastAPI, "__call__", counted)
    for j in range(fx.NY):
        for i in range(fx.NX):
            x, y = fx.house_origin(i, j)
            lon, lat = L93_TO_WGS.transform(x + 2.0, y + 6.5)
            query = f"lon={lon:.7f}&lat={lat:.7f}"
            for accept_gzip in (True, False):
                full_calls.clear()
                fast = _call(app, query, accept_gzip)
                assert full_calls == []  # answered on the lean path
                full = _call(lambda s, r, se: full_call(app, s, r, se), query, accept_gzip)
                assert fast == full
                status, headers, body = fast
                assert status == 200
                assert (b"content-encoding", b"gzip") in headers if gzip_min_bytes == 500 and accept_gzip \
                    else (b"content-encoding", b"gzip") not in headers
                text = gzip.decompress(body) if (b"content-encoding", b"gzip") in headers else body
                assert fx.building_id(i, j).encode() in text


def test_fast_path_hands_errors_to_the_full_stack(api_build: Path) -> None:  # noqa: F811
    app = create_app(Settings(data_dir=api_build))
    x, y = fx.house_origin(1, 1)
    lon, lat = L93_TO_WGS.transform(x - 5.0, y)  # between two houses
    status, headers, body = _call(app, f"lon={lon:.7f}&lat={lat:.7f}", True)
    assert status == 404 and "Aucun bâtiment".encode() in body
    assert (b"cache-control", b"no-store") in headers
    assert _call(app, "lon=200.0&lat=0", True)[0] == 422
