"""Planner scenarios (POST /api/parks/scenario, geo/parks/scenario.py) on a hand-built scene.

Scene: a street along y = 100 from x = 0 to 4000 m; park A (x 0–100) on a 1 km greenway drawn over the street;
park C (x 2000–2100) 1 km further, unlinked; 100 people in each 200 m cell of the row y 0–200, and 60 in each
cell of a second row y −400…−200 that no street reaches. The gap's figure is checked by hand in
tests/test_parks_network.py; here the scenario's gain must equal the gaps layer's figure and the hand value.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import geopandas as gpd
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer
from shapely.geometry import LineString, box

from geo import config
from geo.io.vectors import write_gpkg
from geo.parks.build import analyse

CRS = "EPSG:2154"
X0, Y0 = 685_000.0, 7_037_000.0  # the scene sits near Lens so that WGS84 round trips are realistic
R = config.PARKS_SERVICE_AREA_BUFFER_M


def _xy(x: float, y: float) -> tuple[float, float]:
    return X0 + x, Y0 + y


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, gpd.GeoDataFrame]]:
    s = gpd.GeoDataFrame({"highway": ["residential"]}, geometry=[LineString([_xy(0, 100), _xy(4000, 100)])], crs=CRS)
    gw = gpd.GeoDataFrame({"nom": ["Cavalier"], "type": ["cavalier"]},
                          geometry=[LineString([_xy(0, 100), _xy(1000, 100)])], crs=CRS)
    parks = gpd.GeoDataFrame({"nom": ["A", "C"], "ensemble": [None, None]},
                             geometry=[box(*_xy(0, 115), *_xy(100, 215)), box(*_xy(2000, 115), *_xy(2100, 215))], crs=CRS)
    cells = [(x, 0.0, 100.0) for x in range(0, 4000, 200)] + [(x, -400.0, 60.0) for x in range(0, 4000, 200)]
    pop = gpd.GeoDataFrame({"Idcar_200m": [f"c{x}_{y}" for x, y, _ in cells], "Ind": [p for *_, p in cells],
                            "Men": 40.0, "Men_pauv": 10.0},
                           geometry=[box(*_xy(x, y), *_xy(x + 200, y + 200)) for x, y, _ in cells], crs=CRS)
    a = analyse(parks, gw, s, cells=pop)
    out = tmp_path_factory.mktemp("scenario_build")
    write_gpkg(out / "parks.gpkg", a.layers)
    from api.app import create_app
    from api.settings import Settings

    with TestClient(create_app(Settings(data_dir=out))) as c:
        yield c, a.layers["gaps"]


def _wgs84(*pts: tuple[float, float]) -> dict:  # type: ignore[type-arg]
    tr = Transformer.from_crs(CRS, config.WGS84, always_xy=True)
    return {"type": "LineString", "coordinates": [list(tr.transform(*_xy(x, y))) for x, y in pts]}


def _hand_c_area_population() -> float:
    """People within C's 10-minute area by hand: 785 m each way along the street from its entrance link
    (x = 2050, 15 m), the link, a 50 m band; only the row y 0–200 is reached."""
    hand = shapely.buffer(shapely.union(LineString([(1265, 100), (2835, 100)]), LineString([(2050, 100), (2050, 115)])),
                          R)
    return sum(100 * box(x, 0, x + 200, 200).intersection(hand).area / 40000 for x in range(0, 4000, 200))


def test_gap_scenario_gain_equals_the_gaps_layer(scene) -> None:  # type: ignore[no-untyped-def]
    client, gaps = scene
    assert len(gaps) == 1
    r = client.post("/api/parks/scenario", json={"gaps": [str(gaps["gap_id"].iloc[0])]})
    assert r.status_code == 200, r.text
    body = r.json()
    p = body["properties"]
    assert p["population_newly_linked"] == pytest.approx(float(gaps["population_newly_linked"].iloc[0]), rel=1e-9)
    assert p["population_newly_linked"] == pytest.approx(_hand_c_area_population(), rel=1e-6)
    assert p["population_newly_within_10min"] == 0.0  # gaps follow existing streets
    assert p["parks_newly_linked"] == ["C"] and p["n_components_after"] == 1
    assert p["length_built_m"] == pytest.approx(1065.0)
    roles = [f["properties"]["role"] for f in body["features"]]
    assert roles == ["lien", "itineraire"]
    route = body["features"][1]["properties"]
    # A → C: 15 m link + 2000 m of street + 15 m link; greenway 950 m before (from A's entrance to the
    # greenway's end), 950 + 1065 − 15 after (the 15 m link into A stays a street edge).
    assert route["length_before_m"] == pytest.approx(2030.0) and route["length_after_m"] == pytest.approx(2030.0)
    assert route["greenway_before_m"] == pytest.approx(950.0)
    assert route["greenway_after_m"] == pytest.approx(2015.0)


def test_drawn_line_links_like_the_gap(scene) -> None:  # type: ignore[no-untyped-def]
    client, gaps = scene
    # a new path from the greenway's end to park C's west edge (not to its entrance): C becomes linked,
    # its walking area is unchanged, so the gain is the gap's.
    r = client.post("/api/parks/scenario", json={"line": _wgs84((1000, 100), (1500, 130), (2000, 150))})
    assert r.status_code == 200, r.text
    p = r.json()["properties"]
    assert p["parks_newly_linked"] == ["C"]
    assert p["population_newly_linked"] == pytest.approx(float(gaps["population_newly_linked"].iloc[0]), rel=1e-6)
    assert p["length_built_m"] == pytest.approx(math.hypot(500, 30) + math.hypot(500, 20), rel=1e-6)
    assert p["population_newly_within_10min"] == pytest.approx(0.0, abs=1e-6)


def test_drawn_line_brings_people_within_10_minutes(scene) -> None:  # type: ignore[no-untyped-def]
    client, _ = scene
    # A path south from C's street node (2050, 100) to (2050, −300): 15 + 400 m < 800 m from C's entrance, so
    # it is all walkable within 10 minutes; its 50 m band newly covers the strip x 2000–2100, y 0–50 of the
    # first row (the street's band stops at y = 50) and, in the second row, x 2000–2100 × y −300…−200 plus
    # the half-disc end (a 32-gon, as shapely buffers).
    half_disc = 0.5 * 0.5 * 32 * R * R * math.sin(2 * math.pi / 32)
    expected = 100 * (100 * 50) / 40000 + 60 * (100 * 100 + half_disc) / 40000
    r = client.post("/api/parks/scenario", json={"line": _wgs84((2050, 100), (2050, -300))})
    assert r.status_code == 200, r.text
    p = r.json()["properties"]
    assert p["population_newly_within_10min"] == pytest.approx(expected, rel=1e-3)
    assert p["population_newly_linked"] == pytest.approx(0.0, abs=1e-6)  # C is still not linked


def test_bad_scenarios_are_4xx(scene) -> None:  # type: ignore[no-untyped-def]
    client, _ = scene
    assert client.post("/api/parks/scenario", json={}).status_code == 422
    assert client.post("/api/parks/scenario", json={"gaps": ["1"], "line": _wgs84((0, 0), (10, 0))}).status_code == 422
    assert client.post("/api/parks/scenario", json={"gaps": ["99"]}).status_code == 404
    assert client.post("/api/parks/scenario", json={"gaps": ["x"]}).status_code == 400
    short = client.post("/api/parks/scenario", json={"line": _wgs84((0, 0), (0, 0.1))})
    assert short.status_code == 400 and "moins de 1 m" in short.json()["detail"]
    far = client.post("/api/parks/scenario", json={"line": _wgs84((0, 0), (20000, 0))})
    assert far.status_code == 400 and "le tracé mesure 20000 m" in far.json()["detail"]
