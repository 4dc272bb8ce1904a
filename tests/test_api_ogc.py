"""OGC API – Features: the documents and fields QGIS reads, paging, bbox filtering, GeoJSON validity."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import geopandas as gpd
import shapely
from api_fixtures import api_build, client  # noqa: F401
from fastapi.testclient import TestClient

from geo import config

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
SERVED = ["roof_faces", "buildings", "communes_solar", "parks", "greenways", "service_areas", "gaps",
          "communes_access"]


def _rel(links: list[dict], rel: str) -> dict:
    found = [lk for lk in links if lk["rel"] == rel]
    assert found, f"no '{rel}' link in {links}"
    return found[0]


def _path(href: str) -> str:
    parts = urlsplit(href)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def assert_valid_feature(f: dict) -> None:
    assert f["type"] == "Feature"
    assert isinstance(f["id"], int)
    assert isinstance(f["properties"], dict)
    g = shapely.geometry.shape(f["geometry"])
    assert g.is_valid and not g.is_empty
    xs, ys = shapely.get_coordinates(g).T
    assert ((-180 <= xs) & (xs <= 180)).all() and ((-90 <= ys) & (ys <= 90)).all()
    # the sample is in Lens: WGS84 lon/lat, not Lambert-93 metres nor swapped axes
    assert ((2.7 < xs) & (xs < 2.9)).all() and ((50.3 < ys) & (ys < 50.5)).all()


def test_landing_page_links(client: TestClient) -> None:  # noqa: F811
    r = client.get("/ogc")
    assert r.status_code == 200
    links = r.json()["links"]
    assert _path(_rel(links, "service-desc")["href"]) == "/openapi.json"
    assert "openapi" in _rel(links, "service-desc")["type"]
    assert _path(_rel(links, "conformance")["href"]) == "/ogc/conformance"
    assert _path(_rel(links, "data")["href"]) == "/ogc/collections"
    assert client.get(_path(_rel(links, "service-desc")["href"])).json()["paths"]


def test_conformance_classes(client: TestClient) -> None:  # noqa: F811
    classes = client.get("/ogc/conformance").json()["conformsTo"]
    for c in ("core", "geojson", "oas30"):
        assert f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{c}" in classes


def test_collections(client: TestClient, api_build: Path) -> None:  # noqa: F811
    body = client.get("/ogc/collections").json()
    ids = [c["id"] for c in body["collections"]]
    assert all(s in ids for s in SERVED)
    for c in body["collections"]:
        assert c["itemType"] == "feature" and CRS84 in c["crs"]
        bbox = c["extent"]["spatial"]["bbox"]
        assert isinstance(bbox, list) and isinstance(bbox[0], list) and len(bbox[0]) == 4
        assert c["extent"]["spatial"]["crs"] == CRS84
        assert _path(_rel(c["links"], "items")["href"]) == f"/ogc/collections/{c['id']}/items"
        assert _rel(c["links"], "items")["type"] == "application/geo+json"
    # the extent equals the data's extent reprojected by GeoPandas (independent reference)
    b = next(c for c in body["collections"] if c["id"] == "buildings")["extent"]["spatial"]["bbox"][0]
    ref = gpd.read_file(api_build / "rooftops.gpkg", layer="buildings").to_crs(config.WGS84).total_bounds
    assert all(abs(x - y) < 1e-4 for x, y in zip(b, ref, strict=True))
    one = client.get("/ogc/collections/parks").json()
    assert one["id"] == "parks" and one["title"] == "Parcs"
    assert client.get("/ogc/collections/nope").status_code == 404


def test_items_paging_follows_next_links(client: TestClient) -> None:  # noqa: F811
    url = "/ogc/collections/roof_faces/items?limit=7"
    seen: list[int] = []
    pages = 0
    while url:
        r = client.get(url)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
        body = r.json()
        assert body["type"] == "FeatureCollection" and body["numberMatched"] == 40
        assert body["numberReturned"] == len(body["features"]) <= 7
        for f in body["features"]:
            assert_valid_feature(f)
        seen += [f["id"] for f in body["features"]]
        nxt = [lk for lk in body["links"] if lk["rel"] == "next"]
        if pages:
            assert any(lk["rel"] == "prev" for lk in body["links"])
        url = _path(nxt[0]["href"]) if nxt else ""
        pages += 1
    assert pages == 6 and len(seen) == 40 and len(set(seen)) == 40


def test_items_limit_is_capped(client: TestClient) -> None:  # noqa: F811
    r = client.get(f"/ogc/collections/roof_faces/items?limit={config.API_ITEMS_MAX_LIMIT * 10}")
    assert r.status_code == 200 and r.json()["numberReturned"] == 40
    assert client.get("/ogc/collections/roof_faces/items?limit=0").status_code == 422
    assert client.get("/ogc/collections/roof_faces/items?offset=-1").status_code == 422


def test_items_bbox_equals_geopandas(client: TestClient, api_build: Path) -> None:  # noqa: F811
    ref = gpd.read_file(api_build / "rooftops.gpkg", layer="roof_faces", fid_as_index=True).to_crs(config.WGS84)
    xmin, ymin, xmax, ymax = ref.total_bounds
    bbox = (xmin, ymin, (xmin + xmax) / 2, (ymin + ymax) / 2)  # the south-west quarter cuts faces
    expected = sorted(ref.index[ref.intersects(shapely.box(*bbox))])
    assert 0 < len(expected) < 40
    r = client.get("/ogc/collections/roof_faces/items", params={"bbox": ",".join(map(str, bbox)), "limit": 1000})
    body = r.json()
    assert sorted(f["id"] for f in body["features"]) == expected
    assert body["numberMatched"] == len(expected)


def test_bbox_errors(client: TestClient) -> None:  # noqa: F811
    r = client.get("/ogc/collections/buildings/items?bbox=-10,40,20,60")
    assert r.status_code == 400 and "trop grande" in r.json()["detail"]
    for bad in ("1,2,3", "a,b,c,d", "3,50,2,51", "2,95,3,96"):
        r = client.get(f"/ogc/collections/buildings/items?bbox={bad}")
        assert r.status_code == 422, bad
        assert r.json()["code"] == "invalid_parameters"


def test_single_item(client: TestClient, api_build: Path) -> None:  # noqa: F811
    r = client.get("/ogc/collections/buildings/items/3")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    f = r.json()
    assert_valid_feature(f)
    ref = gpd.read_file(api_build / "rooftops.gpkg", layer="buildings", fid_as_index=True).to_crs(config.WGS84)
    assert f["properties"]["building_id"] == ref.loc[3, "building_id"]
    assert shapely.geometry.shape(f["geometry"]).equals_exact(ref.loc[3, "geometry"], tolerance=1e-6)
    assert client.get("/ogc/collections/buildings/items/999").status_code == 404
    assert client.get("/ogc/collections/buildings/items/abc").status_code == 422
