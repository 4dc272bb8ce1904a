"""The API on the real build of the small sample (session fixture ``built_dir``: the whole pipeline)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mapbox_vector_tile
import morecantile
import pyogrio
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer

from api.app import create_app
from api.settings import Settings

TMS = morecantile.tms.get("WebMercatorQuad")


@pytest.fixture(scope="module")
def built(built_dir: Path, sample_dir: Path) -> Iterator[tuple[TestClient, Path]]:
    for name in ("rooftops.gpkg", "parks.gpkg", "irradiance.tif"):
        if not (built_dir / name).is_file():
            pytest.skip(f"the pipeline did not build {name}")
    addresses = next((sample_dir / "rooftops").glob("adresses-*.csv"), None)
    with TestClient(create_app(Settings(data_dir=built_dir, addresses_path=addresses))) as c:
        yield c, built_dir


def test_roof_lookup_and_simulation(built: tuple[TestClient, Path]) -> None:
    client, d = built
    bld = pyogrio.read_dataframe(d / "rooftops.gpkg", layer="buildings")
    faces = pyogrio.read_dataframe(d / "rooftops.gpkg", layer="roof_faces", read_geometry=False)
    to_wgs = Transformer.from_crs(bld.crs, "EPSG:4326", always_xy=True)
    checked = 0
    for i in range(0, len(bld), max(1, len(bld) // 10)):
        p = shapely.point_on_surface(bld.geometry.values[i])
        lon, lat = to_wgs.transform(p.x, p.y)
        r = client.get("/api/roof", params={"lon": lon, "lat": lat})
        assert r.status_code == 200
        body = r.json()
        bid = bld.building_id.iloc[i]
        assert body["building"]["properties"]["building_id"] == bid
        expected = set(faces.face_id[faces.building_id == bid])
        assert {f["properties"]["face_id"] for f in body["faces"]} == expected
        assert body["weather"]["source"]
        checked += 1
    assert checked >= 5
    best = bld.sort_values("kwp_max", ascending=False).building_id.iloc[0]
    r = client.post("/api/simulate", json={"building_id": best, "annual_consumption_kwh": 4500})
    assert r.status_code == 200
    eco = r.json()["economics"]
    assert eco["production_kwh_yr"] > 0 and 0 <= eco["self_consumption_rate"] <= 1


def test_geocode_a_real_address(built: tuple[TestClient, Path]) -> None:
    client, d = built
    bld = pyogrio.read_dataframe(d / "rooftops.gpkg", layer="buildings")
    label = bld.address.dropna().iloc[0]
    res = client.get("/api/geocode", params={"q": label.lower()}).json()["results"]
    assert res and res[0]["label"] == label and res[0]["score"] > 0.9


def test_tiles_and_ogc(built: tuple[TestClient, Path]) -> None:
    client, d = built
    colls = client.get("/ogc/collections").json()["collections"]
    for c in colls:
        body = client.get(f"/ogc/collections/{c['id']}/items", params={"limit": 5}).json()
        assert body["numberMatched"] == pyogrio.read_info(
            d / ("rooftops.gpkg" if c["id"] in ("roof_faces", "buildings", "communes_solar") else "parks.gpkg"),
            layer=c["id"])["features"]
    bbox = next(c for c in colls if c["id"] == "roof_faces")["extent"]["spatial"]["bbox"][0]
    lon, lat = (bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2
    decoded = 0
    for t in TMS.tiles(*bbox, [17]):
        r = client.get(f"/tiles/roof_faces/{t.z}/{t.x}/{t.y}.pbf")
        assert r.status_code in (200, 204)
        if r.status_code == 200:
            layer = mapbox_vector_tile.decode(r.content)["roof_faces"]
            assert layer["features"] and "suitability" in layer["features"][0]["properties"]
            decoded += 1
    assert decoded >= 1
    t = TMS.tile(lon, lat, 17)
    assert client.get(f"/tiles/irradiation/{t.z}/{t.x}/{t.y}.png").status_code in (200, 204)


def test_parks_and_stats(built: tuple[TestClient, Path]) -> None:
    client, d = built
    parks = pyogrio.read_dataframe(d / "parks.gpkg", layer="parks", read_geometry=False)
    ids = [str(p) for p in parks.park_id]
    if len(ids) >= 2:
        r = client.get("/api/parks/route", params={"from": ids[0], "to": ids[1]})
        assert r.status_code in (200, 404)  # 404: parks on disconnected parts of the network
        if r.status_code == 200:
            assert r.json()["properties"]["length_m"] > 0
    r = client.get("/api/parks/service-area", params={"park": ids[0], "minutes": 10})
    assert r.status_code == 200 and r.json()["properties"]["distance_m"] == pytest.approx(800.0)
    stats = client.get("/api/stats/communes").json()["communes"]
    assert any(s["level"] == "epci" for s in stats)
    assert all(s["solar"] is not None and s["access"] is not None for s in stats)
