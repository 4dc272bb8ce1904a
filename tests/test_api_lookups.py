"""Lookups: roof under a point, geocoder, parks route/service area, statistics, exports (known truth)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import api_fixtures as fx
import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from api_fixtures import api_build, client  # noqa: F401
from fastapi.testclient import TestClient
from pyproj import Transformer

from api.geocoder import AddressIndex, normalize, parse_query

L93_TO_WGS = Transformer.from_crs(fx.CRS, "EPSG:4326", always_xy=True)


def _lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = L93_TO_WGS.transform(x, y)
    return float(lon), float(lat)


@pytest.mark.parametrize(("i", "j"), [(0, 0), (3, 1), (4, 3)])
def test_roof_under_point(client: TestClient, i: int, j: int) -> None:  # noqa: F811
    x, y = fx.house_origin(i, j)
    lon, lat = _lonlat(x + 2.0, y + 6.5)  # in the north half of the house
    r = client.get("/api/roof", params={"lon": lon, "lat": lat})
    assert r.status_code == 200
    body = r.json()
    b = body["building"]["properties"]
    assert b["building_id"] == fx.building_id(i, j)
    assert b["code_insee"] == ("62498" if x < fx.SPLIT_X else "62528")
    for key in ("reco_kwp", "reco_payback_yr", "reco_savings_eur_yr", "swh_heat_kwh_yr", "swh_solar_fraction"):
        assert key in b
    faces = body["faces"]
    assert [f["properties"]["face_id"] for f in faces] == [fx.building_id(i, j) + "-1", fx.building_id(i, j) + "-2"]
    assert faces[0]["properties"]["production_kwh_yr"] >= faces[1]["properties"]["production_kwh_yr"]
    assert faces[0]["properties"]["irradiation_kwh_m2_yr"] == pytest.approx(1000.0 + 10 * i)
    poly = shapely.geometry.shape(body["building"]["geometry"])
    assert poly.contains(shapely.Point(lon, lat))
    assert body["weather"]["approximate"] is True and "climatology" in body["weather"]["source"]


def test_roof_nothing_there(client: TestClient) -> None:  # noqa: F811
    x, y = fx.house_origin(1, 1)
    lon, lat = _lonlat(x - 5.0, y)  # in the gap between two houses
    r = client.get("/api/roof", params={"lon": lon, "lat": lat})
    assert r.status_code == 404
    assert "Aucun bâtiment" in r.json()["detail"]
    assert client.get("/api/roof", params={"lon": 0, "lat": 0}).status_code == 404
    assert client.get("/api/roof", params={"lon": 200, "lat": 0}).status_code == 422
    assert client.get("/api/roof", params={"lon": "x", "lat": 0}).status_code == 422
    assert client.get("/api/roof", params={"lat": 50}).status_code == 422


def test_normalize_and_parse() -> None:
    assert normalize("12 Bd Émile-Basly") == "12 boulevard emile basly"
    assert normalize("AV. R. BRIQUET") == "avenue rue briquet"
    assert normalize("Pl. St-Éloi") == "place saint eloi"
    q = parse_query("3 bis r de la gare 62300 Lens")
    assert (q.housenumber, q.suffix, q.code, q.words) == ("3", "bis", "62300", "rue de la gare lens")
    assert parse_query("12b rue x").suffix == "b"


@pytest.mark.parametrize(("query", "label"), [
    ("1 rue emile zola lens", "1 Rue Émile Zola 62300 Lens"),
    ("1 R EMILE ZOLA", "1 Rue Émile Zola 62300 Lens"),
    ("3 bis bd basly", "3 bis Boulevard Émile Basly 62300 Lens"),
    ("3 bis Boulevard Émile Basly", "3 bis Boulevard Émile Basly 62300 Lens"),
    ("9 av raoul briquet loos", "9 Avenue Raoul Briquet 62750 Loos-en-Gohelle"),
    ("9 avenue raoul briqet 62750", "9 Avenue Raoul Briquet 62750 Loos-en-Gohelle"),  # typo
    ("5, rue de la gare", "5 Rue de la Gare 62300 Lens"),
])
def test_geocode_variants(client: TestClient, query: str, label: str) -> None:  # noqa: F811
    r = client.get("/api/geocode", params={"q": query})
    assert r.status_code == 200
    body = r.json()
    assert body["source"].startswith("BAN")
    top = body["results"][0]
    assert top["label"] == label, body["results"][:3]
    assert top["type"] == "housenumber" and 0.8 <= top["score"] <= 1
    scores = [c["score"] for c in body["results"]]
    assert scores == sorted(scores, reverse=True)


def test_geocode_points_to_the_roof(client: TestClient) -> None:  # noqa: F811
    """The address found leads to the building at that address (the homeowner's flow)."""
    top = client.get("/api/geocode", params={"q": "7 rue de la gare"}).json()["results"][0]
    roof = client.get("/api/roof", params={"lon": top["lon"], "lat": top["lat"]}).json()
    assert roof["building"]["properties"]["address"] == top["label"]


def test_geocode_street_only_and_nothing(client: TestClient) -> None:  # noqa: F811
    res = client.get("/api/geocode", params={"q": "avenue raoul briquet"}).json()["results"]
    assert res[0]["type"] == "street" and "Avenue Raoul Briquet" in res[0]["label"]
    assert client.get("/api/geocode", params={"q": "qwxz"}).json()["results"] == []
    assert client.get("/api/geocode", params={"q": ""}).status_code == 422


def test_geocoder_falls_back_to_building_addresses(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings

    fx.make_build(tmp_path / "build", with_addresses_csv=False)
    with TestClient(create_app(Settings(data_dir=tmp_path / "build"))) as c:
        body = c.get("/api/geocode", params={"q": "7 av raoul briquet"}).json()
    assert body["source"] == "adresses des bâtiments"
    assert body["results"][0]["label"].startswith("7 Avenue Raoul Briquet")


def test_address_index_is_fast_enough_for_a_city() -> None:
    """20,000 synthetic addresses on 2,000 streets: a search stays well under 100 ms."""
    import time

    rows = [{"numero": str(n), "rep": "", "nom_voie": f"Rue {w} {k}", "code_postal": "62300",
             "code_insee": "62498", "nom_commune": "Lens", "lon": 2.8, "lat": 50.4}
            for k, w in enumerate(["des Lilas", "Jean Jaurès", "Victor Hugo", "de la Paix"] * 500) for n in range(10)]
    ix = AddressIndex(pd.DataFrame(rows))
    t0 = time.perf_counter()
    res = ix.search("5 rue jean jaures 1")
    dt = time.perf_counter() - t0
    assert res[0].label == "5 Rue Jean Jaurès 1 62300 Lens"
    assert dt < 0.5  # generous for a shared CI machine; ~10 ms measured


def test_parks_route_hand_computed(client: TestClient) -> None:  # noqa: F811
    r = client.get("/api/parks/route", params={"from": "1", "to": "Base 11/19"})
    assert r.status_code == 200
    f = r.json()
    p = f["properties"]
    # along the greenway: entrance E1 (x0+80) -> E2 (x0+400) = 320 m, all on the greenway
    assert p["length_m"] == pytest.approx(320.0)
    assert p["share_greenway"] == pytest.approx(1.0)
    assert p["walk_min"] == pytest.approx(320 / (4800 / 60), rel=0.05)
    line = shapely.geometry.shape(f["geometry"])
    assert line.geom_type == "LineString"
    start = _lonlat(fx.X0 + 80, fx.Y0 + 70)
    assert shapely.Point(line.coords[0]).distance(shapely.Point(start)) < 1e-6
    assert client.get("/api/parks/route", params={"from": "1", "to": "1"}).status_code == 400
    assert client.get("/api/parks/route", params={"from": "1", "to": "Parc inconnu"}).status_code == 404
    assert client.get("/api/parks/route", params={"from": "1"}).status_code == 422


def test_parks_service_area(client: TestClient) -> None:  # noqa: F811
    r = client.get("/api/parks/service-area", params={"park": "Parc des Cytises", "minutes": 2.5})
    assert r.status_code == 200
    f = r.json()
    assert f["properties"]["distance_m"] == pytest.approx(2.5 * 4800 / 60)  # 200 m
    poly = shapely.geometry.shape(f["geometry"])
    # reaches 200 m along the greenway from E1 (x0+80): beyond the middle node (160 m), not E2 (320 m)
    assert poly.contains(shapely.Point(_lonlat(fx.X0 + 80 + 150, fx.Y0 + 70)))
    assert not poly.contains(shapely.Point(_lonlat(fx.X0 + 400, fx.Y0 + 70)))
    assert client.get("/api/parks/service-area", params={"park": "1", "minutes": 0}).status_code == 422
    assert client.get("/api/parks/service-area", params={"park": "99"}).status_code == 404


def test_stats_communes(client: TestClient) -> None:  # noqa: F811
    rows = client.get("/api/stats/communes").json()["communes"]
    by = {(r["level"], r["code"]): r for r in rows}
    assert set(by) == {("commune", "62498"), ("commune", "62528"), ("epci", "246200364")}
    assert rows[0]["level"] == "epci"
    lens = by[("commune", "62498")]
    assert lens["nom"] == "Lens"
    assert lens["solar"]["n_buildings"] == 16 and by[("commune", "62528")]["solar"]["n_buildings"] == 4
    assert lens["access"]["share_within_10min"] == pytest.approx(0.75)
    total = by[("epci", "246200364")]
    assert total["solar"]["kwp"] == pytest.approx(lens["solar"]["kwp"] + by[("commune", "62528")]["solar"]["kwp"])


def test_exports(client: TestClient, api_build: Path) -> None:  # noqa: F811
    ref = gpd.read_file(api_build / "rooftops.gpkg", layer="buildings")
    lens_ids = set(ref.building_id[ref.code_insee == "62498"])
    r = client.get("/api/export/buildings", params={"commune": "62498", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == 'attachment; filename="buildings_62498.csv"'
    df = pd.read_csv(io.StringIO(r.content.decode("utf-8-sig")), sep=";")
    assert set(df.building_id) == lens_ids and len(df) == 16
    assert df.lon.between(2.7, 2.9).all() and df.lat.between(50.3, 50.5).all()

    r = client.get("/api/export/roof_faces", params={"commune": "62528", "format": "geojson"})
    body = json.loads(r.content)
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 8  # 4 houses x 2 faces
    for f in body["features"]:
        assert f["properties"]["building_id"] in set(ref.building_id[ref.code_insee == "62528"])
        assert shapely.geometry.shape(f["geometry"]).is_valid
    assert r.headers["content-disposition"].endswith('roof_faces_62528.geojson"')

    r = client.get("/api/export/buildings", params={"commune": "62498", "format": "gpkg"})
    path = api_build.parent / "export_test.gpkg"
    path.write_bytes(r.content)
    gdf = pyogrio.read_dataframe(path)
    assert len(gdf) == 16 and gdf.crs.to_epsg() == 2154
    assert set(gdf.building_id) == lens_ids

    assert client.get("/api/export/buildings", params={"commune": "59350"}).status_code == 404
    assert client.get("/api/export/buildings", params={"commune": "6249"}).status_code == 422
    assert client.get("/api/export/parks", params={"commune": "62498"}).status_code == 422
    assert client.get("/api/export/buildings", params={"commune": "62498", "format": "xls"}).status_code == 422


def test_simulate_hand_computed(client: TestClient) -> None:  # noqa: F811
    from geo import config

    bid = fx.building_id(0, 0)
    r = client.post("/api/simulate", json={"building_id": bid, "annual_consumption_kwh": 4000, "kwp": 3.0})
    assert r.status_code == 200
    eco = r.json()["economics"]
    n = int(3000 // config.MODULE_PEAK_POWER_WP)  # whole modules under 3 kWp
    assert eco["n_modules"] == n and eco["kwp"] == pytest.approx(n * config.MODULE_PEAK_POWER_WP / 1000)
    # all on the south face (best yield): its production per kWp is irradiation x 0.8 in the fixture
    assert eco["faces"] == {bid + "-1": n}
    assert eco["production_kwh_yr"] == pytest.approx(eco["kwp"] * 1000.0 * 0.8, rel=1e-6)
    assert 0 < eco["self_consumption_rate"] <= 1
    assert eco["self_consumed_kwh_yr"] + eco["surplus_kwh_yr"] == pytest.approx(eco["production_kwh_yr"], rel=1e-6)
    # only the north face: production = its modules x 0.425 kWp x 600 kWh/kWp... (fixture: irradiation 600 x 0.8)
    r = client.post("/api/simulate", json={"building_id": bid, "annual_consumption_kwh": 4000,
                                           "face_ids": [bid + "-2"]})
    eco = r.json()["economics"]
    assert set(eco["faces"]) == {bid + "-2"}
    assert eco["production_kwh_yr"] == pytest.approx(eco["kwp"] * 600.0 * 0.8, rel=1e-6)


def test_simulate_errors(client: TestClient) -> None:  # noqa: F811
    bid = fx.building_id(0, 0)
    r = client.post("/api/simulate", json={"building_id": "nope", "annual_consumption_kwh": 4000})
    assert r.status_code == 404
    r = client.post("/api/simulate", json={"building_id": bid, "annual_consumption_kwh": 4000, "face_ids": ["x"]})
    assert r.status_code == 404 and "inconnu" in r.json()["detail"]
    for bad in ({"building_id": bid, "annual_consumption_kwh": -1}, {"building_id": bid, "analysis_years": 40},
                {"building_id": bid, "load_profile": "x"}, {"building_id": bid, "battery_kwh": -1},
                {"building_id": bid, "annual_consumption_kwh": 4000, "kwp": 0},
                {"building_id": bid, "annual_consumption_kwh": 4000, "extra": 1}):
        assert client.post("/api/simulate", json=bad).status_code == 422, bad
