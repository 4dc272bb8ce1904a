"""Engineering: error table, middleware (gzip, Cache-Control), OpenAPI documentation, serve errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_fixtures import api_build, client  # noqa: F401
from fastapi.testclient import TestClient
from rio_tiler.errors import TileOutsideBounds

from api.errors import status_for
from geo.errors import ArtoisError, CRSError, InputError, InvalidRequestError, NotFoundError


@pytest.mark.parametrize(("exc", "status"), [
    (NotFoundError("x"), 404), (TileOutsideBounds("x"), 404), (InvalidRequestError("x"), 400),
    (InputError("f.gpkg", "bad"), 422), (CRSError("f.tif", "no crs"), 422), (ArtoisError("x"), 400),
    (RuntimeError("x"), 500),
])
def test_status_table(exc: Exception, status: int) -> None:
    assert status_for(exc)[0] == status


def test_errors_are_french_json_without_traceback(client: TestClient) -> None:  # noqa: F811
    for url in ("/ogc/collections/nope/items", "/api/roof?lon=0&lat=0", "/nope"):
        r = client.get(url)
        assert r.status_code == 404
        body = r.json()
        assert set(body) == {"code", "detail"} and "Traceback" not in r.text
    r = client.get("/api/roof?lon=abc&lat=50")
    assert r.status_code == 422 and "un nombre est attendu" in r.json()["detail"]
    r = client.post("/api/simulate", json={"annual_consumption_kwh": 4500})
    assert r.status_code == 422 and "building_id : paramètre obligatoire manquant" in r.json()["detail"]
    r = client.delete("/ogc")
    assert r.status_code == 405 and r.json()["detail"] == "Méthode non autorisée pour cette adresse."


def test_gzip_and_cache_control(client: TestClient) -> None:  # noqa: F811
    r = client.get("/ogc/collections/roof_faces/items?limit=40", headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip" and r.json()["numberReturned"] == 40
    assert r.headers["cache-control"] == "public, max-age=600"
    r = client.get("/ogc/conformance", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in r.headers  # small: not compressed
    assert client.get("/tiles/irradiation/legend").headers["cache-control"] == "public, max-age=86400"
    assert client.get("/ogc/collections/nope").headers["cache-control"] == "no-store"
    assert client.post("/api/simulate", json={}).headers["cache-control"] == "no-store"


def test_openapi_documents_every_route_with_examples(client: TestClient) -> None:  # noqa: F811
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"].startswith("Artois")
    ops = [(p, m, op) for p, item in spec["paths"].items() for m, op in item.items()
           if "carte" not in op.get("tags", [])]  # the map page's routes are documented by api/map
    assert len(ops) >= 16
    for path, method, op in ops:
        assert op.get("summary") and op.get("description"), (path, method)
        for param in op.get("parameters", []):
            assert "example" in param or "examples" in param or param["schema"].get("examples"), (path, param["name"])
    schemas = spec["components"]["schemas"]
    for name in ("RoofResponse", "GeocodeResponse", "SimulateRequest", "SimulateResponse", "StatsResponse", "Legend"):
        assert schemas[name].get("examples"), name
    for path in ("/ogc", "/ogc/collections/{collection_id}/items", "/tiles/{collection_id}/{z}/{x}/{y}.pbf",
                 "/tiles/irradiation/{z}/{x}/{y}.png", "/tiles/irradiation/legend", "/api/roof", "/api/geocode",
                 "/api/simulate", "/api/parks/route", "/api/parks/service-area", "/api/stats/communes",
                 "/api/export/{layer}"):
        assert path in spec["paths"], path


@pytest.mark.parametrize("workers", ["1", "2"])  # 2: the app is checked in a separate process
def test_serve_refuses_a_folder_without_layers(workers: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from geo.cli import main

    assert main(["serve", "--data", str(tmp_path), "--workers", workers]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("artois: error:") and "artois build" in err[0]


def test_app_without_parks_still_serves_roofs(api_build: Path, tmp_path: Path) -> None:  # noqa: F811
    import shutil

    from api.app import create_app
    from api.settings import Settings

    shutil.copy(api_build / "rooftops.gpkg", tmp_path / "rooftops.gpkg")
    with TestClient(create_app(Settings(data_dir=tmp_path))) as c:
        ids = [x["id"] for x in c.get("/ogc/collections").json()["collections"]]
        assert ids == ["roof_faces", "buildings", "communes_solar"]
        assert c.get("/ogc/collections/parks/items").status_code == 404
        r = c.get("/api/parks/route", params={"from": "1", "to": "2"})
        assert r.status_code == 404 and "parks.gpkg" in r.json()["detail"]
        assert c.get("/tiles/irradiation/16/0/0.png").status_code == 404
        assert c.get("/api/stats/communes").json()["communes"][0]["access"] is None
