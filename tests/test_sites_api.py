"""The sites' layers served by the API (OGC collections, exports, commune stats) on the small sample's build."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings


@pytest.fixture(scope="module")
def client(built_dir: Path) -> Iterator[TestClient]:
    if not (built_dir / "sites.gpkg").is_file():
        pytest.skip("the pipeline did not build sites.gpkg")
    with TestClient(create_app(Settings(data_dir=built_dir))) as c:
        yield c


def test_collections_and_items(client: TestClient, built_dir: Path) -> None:
    ids = {c["id"] for c in client.get("/ogc/collections").json()["collections"]}
    assert {"friches", "car_parks", "communes_sites"} <= ids
    parks = client.get("/ogc/collections/car_parks/items", params={"limit": 100}).json()["features"]
    by_id = {f["properties"]["car_park_id"]: f["properties"] for f in parks}
    layer = gpd.read_file(built_dir / "sites.gpkg", layer="car_parks").set_index("car_park_id")
    assert set(by_id) == set(layer.index)
    for cid, p in by_id.items():
        assert p["aper_status"] == layer.loc[cid, "aper_status"]
        assert p["counted_area_m2"] == pytest.approx(layer.loc[cid, "counted_area_m2"])
    assert by_id["osm-w-102"]["aper_status_fr"] == "concerné" and by_id["osm-w-102"]["aper_deadline"] == "2028-07-01"
    listed = client.get("/ogc/collections/friches/items").json()["features"]
    fid = next(f["id"] for f in listed if f["properties"]["site_id"] == "62498_19-03.0001")
    one = client.get(f"/ogc/collections/friches/items/{fid}").json()
    assert one["properties"]["kwp"] > 0 and one["geometry"]["type"] == "Polygon"


def test_stats_communes_carry_the_sites(client: TestClient, built_dir: Path) -> None:
    rows = client.get("/api/stats/communes").json()["communes"]
    com = gpd.read_file(built_dir / "sites.gpkg", layer="communes_sites").set_index("code")
    lens = next(r for r in rows if r["level"] == "commune" and r["code"] == "62498")
    assert lens["sites"]["n_friches"] == com.loc["62498", "n_friches"] == 2
    assert lens["sites"]["friches_kwp"] == pytest.approx(com.loc["62498", "friches_kwp"])
    epci = next(r for r in rows if r["level"] == "epci")
    assert epci["sites"]["n_car_parks"] == 3 and epci["solar"] is not None


def test_exports_of_a_commune(client: TestClient) -> None:
    r = client.get("/api/export/car_parks", params={"commune": "62498", "format": "csv"})
    assert r.status_code == 200 and "car_parks_62498.csv" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert {row["car_park_id"] for row in rows} == {"osm-w-102", "osm-w-103"}
    assert all(row["lon"] and row["lat"] for row in rows)
    g = client.get("/api/export/friches", params={"commune": "62498", "format": "geojson"}).json()
    assert len(g["features"]) == 2
    assert client.get("/api/export/friches", params={"commune": "62999", "format": "csv"}).status_code == 404
