"""Chaîne des Parcs on hand-built tiny networks: every number here is computed by hand."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, box

from geo import config
from geo.errors import InputError, InvalidRequestError, NotFoundError
from geo.parks import apply_scenario, route, service_area
from geo.parks.access import cell_access, communes_access, service_area_polygon, walk_minutes
from geo.parks.build import analyse, prepare_parks
from geo.parks.connectivity import compute_connectivity, edge_park_pairs
from geo.parks.gaps import candidate_gaps, linked_population
from geo.parks.model import ParksModel
from geo.parks.network import add_entrances, build_network, node_distances, point_distances

CRS = "EPSG:2154"
R = config.PARKS_SERVICE_AREA_BUFFER_M  # 50 m band around reachable streets


def streets(*lines: tuple[str, list[tuple[float, float]]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"highway": [h for h, _ in lines]}, geometry=[LineString(c) for _, c in lines], crs=CRS)


def parks_frame(*polys: shapely.Polygon, names: list[str] | None = None) -> gpd.GeoDataFrame:
    names = names or [f"Parc {i + 1}" for i in range(len(polys))]
    return prepare_parks(gpd.GeoDataFrame({"nom": names, "ensemble": [None] * len(polys)}, geometry=list(polys), crs=CRS))


def cells_row(x0: float, x1: float, pop: float = 100.0) -> gpd.GeoDataFrame:
    xs = np.arange(x0, x1, 200.0)
    return gpd.GeoDataFrame(
        {"Idcar_200m": [f"c{int(x)}" for x in xs], "population": pop, "households": 40.0, "poor_households": 10.0},
        geometry=[box(x, 0, x + 200, 200) for x in xs], crs=CRS)


def model_from(net, parks, entrances, cells=None) -> ParksModel:  # type: ignore[no-untyped-def]
    cells = cells if cells is not None else gpd.GeoDataFrame({"population": []}, geometry=[], crs=CRS)
    return ParksModel(net, parks, entrances, gpd.GeoDataFrame(geometry=[], crs=CRS), cells)


def half_disc_polygon_area(r: float) -> float:
    """Area of half the 32-gon shapely draws for a round cap (quad_segs = 8)."""
    return 0.5 * 0.5 * 32 * r * r * math.sin(2 * math.pi / 32)


# --------------------------------------------------------------------------- network building


def test_streets_are_noded_and_non_walkable_dropped() -> None:
    s = streets(("residential", [(0, 0), (1000, 0)]), ("residential", [(500, -500), (500, 500)]),
                ("motorway", [(0, 10), (1000, 10)]))
    net = build_network(s, None)
    assert len(net.edges) == 4  # the cross is split at (500, 0); the motorway is gone
    assert sorted(net.edges["length_m"].round(6)) == [500.0] * 4
    assert set(net.edges["highway"]) == {"residential"}
    assert net.n_nodes == 5


def test_greenway_over_a_street_is_flagged_and_a_short_end_is_snapped() -> None:
    s = streets(("residential", [(0, 0), (1000, 0)]), ("residential", [(0, 100), (1000, 100)]))
    gw = gpd.GeoDataFrame({"greenway_id": [1, 2]}, geometry=[
        LineString([(0, 0), (400, 0)]),  # drawn over the street
        LineString([(600, 10), (600, 90)]),  # stops 10 m short of both streets (< 15 m snap)
    ], crs=CRS)
    net = build_network(s, gw)
    e = net.edges
    on_street = e[(e["kind"] == "street") & e["is_greenway"]]
    assert on_street["length_m"].sum() == pytest.approx(400.0)
    assert set(on_street["highway"]) == {"residential"}
    virt = e[e["kind"] == "virtual"]
    assert len(virt) == 2 and virt["length_m"].sum() == pytest.approx(20.0)
    assert e.loc[e["kind"] == "greenway", "length_m"].sum() == pytest.approx(80.0)
    # the snapped greenway joins the two streets: one component
    assert net.components().max() == 0


def test_path_and_pseudo_entrances() -> None:
    # A street runs 20 m south of a 200 m x 100 m park; a footway enters its north side.
    s = streets(("residential", [(-100, -20), (300, -20)]), ("footway", [(100, 200), (100, 50)]))
    parks = parks_frame(box(0, 0, 200, 100))
    net = build_network(s, None)
    ent = add_entrances(net, parks)
    path = ent[ent["kind"] == "path"]
    assert len(path) == 1 and path.geometry.iloc[0].equals(shapely.Point(100, 100))
    pseudo = ent[ent["kind"] == "pseudo"]
    # ring of 600 m, points every 100 m at 50, 150, … from (200, 0): only (50, 0) and (150, 0) are within
    # 60 m of the street; (150, 100) is within 50 m of the footway entrance.
    xy = sorted(map(tuple, shapely.get_coordinates(pseudo.geometry.values).round(6).tolist()))
    assert xy == [(50.0, 0.0), (150.0, 0.0)]
    assert pseudo["link_m"].tolist() == pytest.approx([20.0, 20.0])
    # Network distance from a point 100 m south of the street at x = 100: 100 + 50 along + 20 link.
    d, _ = node_distances(net, ent["node"].to_numpy())
    dist, snap = point_distances(net, d, np.array([shapely.Point(100, -120)]))
    assert snap[0] == pytest.approx(100.0) and dist[0] == pytest.approx(170.0)


def test_park_with_no_entrance_is_reported() -> None:
    s = streets(("residential", [(0, 0), (1000, 0)]))
    parks = gpd.GeoDataFrame({"nom": ["Loin", "Près"]}, geometry=[box(0, 500, 100, 600), box(0, 10, 100, 60)], crs=CRS)
    cells = gpd.GeoDataFrame({"Idcar_200m": ["a"], "Ind": [10.0], "Men": [4.0], "Men_pauv": [1.0]},
                             geometry=[box(0, -100, 200, 100)], crs=CRS)
    a = analyse(parks, None, s, cells=cells)
    p = a.layers["parks"].set_index("nom")
    assert p.loc["Loin", "n_entrances"] == 0 and np.isnan(p.loc["Loin", "population_10min"])
    assert p.loc["Près", "n_entrances"] > 0
    assert any("sans entrée" in w and "Loin" in w for w in a.warnings)
    with pytest.raises(NotFoundError, match="aucune entrée"):
        route(a.model, 1, 2)
    with pytest.raises(NotFoundError):
        service_area(a.model, 1)


# --------------------------------------------------------------------------- access


@pytest.fixture()
def line_scene():  # type: ignore[no-untyped-def]
    """A 1.2 ha park west of a straight street; one path entrance at (-20, 100)."""
    s = streets(("residential", [(0, 100), (1000, 100)]), ("footway", [(-70, 100), (0, 100)]))
    parks = parks_frame(box(-120, 40, -20, 160))
    net = build_network(s, None)
    ent = add_entrances(net, parks, max_link_m=0.0)
    assert len(ent) == 1 and ent.geometry.iloc[0].equals(shapely.Point(-20, 100))
    return net, parks, ent


def test_service_area_and_areal_population(line_scene) -> None:  # type: ignore[no-untyped-def]
    net, parks, ent = line_scene
    d, _ = node_distances(net, ent["node"].to_numpy())
    # 300 m: back into the park to x = -70 (50 m) and along the street to x = 280 (20 + 280 m).
    poly = service_area_polygon(net, d, 300.0)
    expected = 350 * 2 * R + 2 * half_disc_polygon_area(R)
    assert poly.area == pytest.approx(expected, rel=1e-9)
    assert poly.bounds == pytest.approx((-70 - R, 100 - R, 280 + R, 100 + R))
    cells = cells_row(0, 600)
    out, unions = cell_access(net, cells, ent, parks)
    # cell [0, 200]: a 200 x 100 band -> half of the cell; cell [200, 400]: 80 x 100 + the east cap.
    share2 = (80 * 100 + half_disc_polygon_area(R)) / 40000
    assert out["share_within_300m"].tolist() == pytest.approx([0.5, share2, 0.0])
    assert share2 == pytest.approx((8000 + math.pi * R * R / 2) / 40000, rel=3e-3)  # vs the true circle
    assert out["population_within_300m"].sum() == pytest.approx(100 * (0.5 + share2))
    # 10 min = 800 m: street reached to x = 780; cells [0,200], [200,400]: half; [400,600]: half.
    assert out["share_within_10min"].tolist() == pytest.approx([0.5, 0.5, 0.5])
    assert out["within_10min"].tolist() == [True, True, True]
    assert out["within_300m"].tolist() == [True, False, False]
    # walk from the cell centres: 20 m of footway + the distance along the street.
    assert out["walk_m_to_park"].tolist() == pytest.approx([120.0, 320.0, 520.0])
    assert out["poverty_rate"].tolist() == pytest.approx([0.25] * 3)
    # communes split the first cell at x = 100
    communes = gpd.GeoDataFrame({"code": ["A", "B"], "nom": ["Ouest", "Est"], "epci_siren": ["246200364"] * 2},
                                geometry=[box(-1000, -1000, 100, 1000), box(100, -1000, 1000, 1000)], crs=CRS)
    ca = communes_access(out, communes, unions).set_index("code")
    assert ca.loc["A", "population"] == pytest.approx(50.0)
    assert ca.loc["A", "population_within_10min"] == pytest.approx(25.0)
    assert ca.loc["A", "population_within_300m"] == pytest.approx(25.0)
    assert ca.loc["B", "population"] == pytest.approx(250.0)
    assert ca.loc["B", "population_within_10min"] == pytest.approx(25.0 + 50 + 50)
    epci = ca.loc["246200364"]
    assert epci["level"] == "epci" and epci["population"] == pytest.approx(300.0)
    assert epci["share_within_10min"] == pytest.approx(150.0 / 300.0)


def test_service_area_request_time(line_scene) -> None:  # type: ignore[no-untyped-def]
    net, parks, ent = line_scene
    model = model_from(net, parks, ent, cells_row(0, 600))
    sa = service_area(model, 1, distance_m=300)
    share2 = (80 * 100 + half_disc_polygon_area(R)) / 40000
    assert sa.population == pytest.approx(100 * (0.5 + share2))
    assert sa.minutes == pytest.approx(300 / 80.0)  # 4.8 km/h = 80 m/min
    ten = service_area(model, 1)
    assert ten.distance_m == pytest.approx(800.0) and ten.minutes == pytest.approx(10.0)
    with pytest.raises(InvalidRequestError):
        service_area(model, 1, minutes=5, distance_m=100)
    with pytest.raises(NotFoundError):
        service_area(model, 99)


def test_priority_ranks_unserved_cells_by_population_and_poverty(line_scene) -> None:  # type: ignore[no-untyped-def]
    net, parks, ent = line_scene
    cells = cells_row(0, 1400)  # 7 cells; the last ones are beyond 800 m
    cells.loc[5, "population"] = 300.0  # x 1000-1200
    cells.loc[6, "poor_households"] = 40.0  # x 1200-1400: all households poor
    out, _ = cell_access(net, cells, ent, parks)
    # by hand: the 10-minute band is the street from x = -70 to x = 780 widened by 50 m
    band = shapely.buffer(LineString([(-70, 100), (780, 100)]), R)
    share = np.array([c.intersection(band).area / 40000 for c in cells.geometry])
    assert share[3] == pytest.approx((180 * 100 + half_disc_polygon_area(R)) / 40000 - 0.049072, abs=1e-5)
    assert out["share_within_10min"].to_numpy() == pytest.approx(share)
    assert out["within_10min"].tolist() == [True, True, True, False, False, False, False]
    scores = cells["population"].to_numpy() * (1 - share) * (1 + cells["poor_households"] / cells["households"])
    assert out["priority_score"].to_numpy()[3:] == pytest.approx(scores.to_numpy()[3:])
    assert out.loc[5, "priority_score"] == pytest.approx(300 * 1.25)
    assert out.loc[6, "priority_score"] == pytest.approx(100 * 2.0)
    assert out["priority_rank"].tolist()[3:] == [4, 3, 1, 2]
    assert out["priority_rank"].isna().tolist()[:3] == [True] * 3


# --------------------------------------------------------------------------- routes


@pytest.fixture()
def two_parks_model() -> ParksModel:
    """Parks A and B 1020 m apart by street, 1320 m by a greenway detour."""
    s = streets(("residential", [(-50, 0), (1060, 0)]))
    gw = gpd.GeoDataFrame({"greenway_id": [1]}, geometry=[LineString([(0, 0), (0, 150), (1000, 150), (1000, 0)])],
                          crs=CRS)
    parks = parks_frame(box(-100, -50, -10, 50), box(1010, -50, 1100, 50), names=["A", "B"])
    net = build_network(s, gw)
    ent = add_entrances(net, parks, max_link_m=0.0)
    return model_from(net, parks, ent)


def test_route_prefers_greenways_by_the_factor(two_parks_model: ParksModel) -> None:
    m = two_parks_model
    r = route(m, 1, 2, greenway_preference=1.5)  # street 1020 x 1.5 = 1530 > 10 x 1.5 + 1300 + 10 x 1.5
    assert r.length_m == pytest.approx(1320.0)
    assert r.greenway_m == pytest.approx(1300.0)
    assert r.share_greenway == pytest.approx(1300 / 1320)
    assert r.cost_m == pytest.approx(1330.0)
    assert r.walk_min == pytest.approx(1320 / 80.0)
    assert r.bike_min == pytest.approx(1320 / 250.0)  # 15 km/h = 250 m/min
    assert r.geometry.length == pytest.approx(1320.0)
    assert r.geometry.coords[0] == pytest.approx((-10, 0)) and r.geometry.coords[-1] == pytest.approx((1010, 0))
    s = route(m, 1, 2, greenway_preference=1.2)  # 1224 < 1324
    assert s.length_m == pytest.approx(1020.0) and s.share_greenway == 0.0
    back = route(m, 2, 1, greenway_preference=1.5)
    assert back.length_m == pytest.approx(1320.0)
    with pytest.raises(InvalidRequestError):
        route(m, 1, 1)
    with pytest.raises(NotFoundError):
        route(m, 1, 7)


def test_disconnected_fragment_is_kept_and_reported() -> None:
    s = streets(("residential", [(0, 0), (1000, 0)]), ("residential", [(0, 5000), (300, 5000)]))
    parks = gpd.GeoDataFrame({"nom": ["Centre", "Isolé"]},
                             geometry=[box(100, 10, 200, 60), box(100, 5010, 200, 5060)], crs=CRS)
    a = analyse(parks, None, s)
    assert any("2 morceaux" in w for w in a.warnings)
    p = a.layers["parks"].set_index("nom")
    assert bool(p.loc["Centre", "on_main_network"]) and not bool(p.loc["Isolé", "on_main_network"])
    with pytest.raises(NotFoundError, match="non reliées"):
        route(a.model, 1, 2)
    # the isolated park's 10-minute area stops with its 300 m fragment (+ 50 m band)
    sa = a.layers["service_areas"]
    poly = sa[(sa["park_id"] == 2) & (sa["label"] == "10 min")].geometry.iloc[0]
    assert poly.bounds[0] == pytest.approx(-R) and poly.bounds[2] == pytest.approx(300 + R)


# --------------------------------------------------------------------------- connectivity


def test_components_loop_and_systems() -> None:
    # A 400 m x 400 m greenway ring with a 300 m tail, and a separate greenway 1 km east.
    s = streets(("residential", [(-100, -100), (3000, -100)]))
    gw = gpd.GeoDataFrame({"greenway_id": [1, 2, 3]}, geometry=[
        LineString([(0, 0), (400, 0), (400, 400), (0, 400), (0, 0)]),
        LineString([(400, 200), (700, 200)]),
        LineString([(1700, 0), (2500, 0)]),
    ], crs=CRS)
    # park P1 touches the ring, P2 touches the tail's end and the east greenway (so joins them), P3 nothing
    parks = parks_frame(box(10, 10, 390, 150), box(710, 10, 1690, 210), box(2000, 500, 2100, 600))
    net = build_network(s, gw)
    conn = compute_connectivity(net, [1, 2, 3], edge_park_pairs(net, parks))
    assert conn.n_components == 2
    assert conn.component_length_m == pytest.approx({1: 1900.0, 2: 800.0})
    assert conn.component_loop_m[1] == pytest.approx(1600.0) and conn.component_loop_m[2] == 0.0
    assert conn.loop_length_m == pytest.approx(1600.0)
    assert conn.park_components == {1: [1], 2: [1, 2], 3: []}
    assert conn.park_system[1] == conn.park_system[2] == conn.main_system
    assert conn.park_system[3] != conn.main_system
    assert conn.linked_parks() == {1, 2}
    assert conn.main_system is not None
    main = conn.system(conn.main_system)
    assert main.greenway_length_m == pytest.approx(2700.0) and main.parks == [1, 2]


# --------------------------------------------------------------------------- gaps and scenario


@pytest.fixture()
def gap_scene():  # type: ignore[no-untyped-def]
    """Park A on a 1 km greenway drawn over a street; park C 1 km further east, unlinked."""
    s = streets(("residential", [(0, 100), (4000, 100)]))
    gw = gpd.GeoDataFrame({"nom": ["Cavalier"], "type": ["cavalier"]}, geometry=[LineString([(0, 100), (1000, 100)])],
                          crs=CRS)
    parks = gpd.GeoDataFrame({"nom": ["A", "C"], "ensemble": [None, None]},
                             geometry=[box(0, 115, 100, 215), box(2000, 115, 2100, 215)], crs=CRS)
    cells = gpd.GeoDataFrame({"Idcar_200m": [f"c{x}" for x in range(0, 4000, 200)], "Ind": 100.0, "Men": 40.0,
                              "Men_pauv": 10.0}, geometry=[box(x, 0, x + 200, 200) for x in range(0, 4000, 200)],
                             crs=CRS)
    return analyse(parks, gw, s, cells=cells)


def test_gap_length_claim_and_scenario(gap_scene) -> None:  # type: ignore[no-untyped-def]
    a = gap_scene
    ent = a.layers["entrances"]
    assert ent["kind"].tolist() == ["pseudo", "pseudo"] and ent["link_m"].tolist() == pytest.approx([15.0, 15.0])
    p = a.layers["parks"].set_index("nom")
    assert bool(p.loc["A", "linked"]) and not bool(p.loc["C", "linked"])
    gaps = a.layers["gaps"]
    assert len(gaps) == 1
    g = gaps.iloc[0]
    # from the greenway's end (1000, 100) along the street to (2050, 100), then the 15 m entrance link
    assert g["length_m"] == pytest.approx(1065.0)
    assert "« C »" in g["links"]
    # C's 10-minute area by hand: 800 - 15 = 785 m each way along the street from x = 2050, the link, a 50 m band.
    hand = shapely.buffer(shapely.union(LineString([(1265, 100), (2835, 100)]), LineString([(2050, 100), (2050, 115)])),
                          R)
    cells = [box(x, 0, x + 200, 200) for x in range(0, 4000, 200)]
    expected = sum(100 * c.intersection(hand).area / 40000 for c in cells)
    assert expected == pytest.approx((1570 * 100 + math.pi * R * R + 738.8) / 400, rel=5e-3)  # analytic check
    assert g["population_newly_linked"] == pytest.approx(expected, rel=1e-9)
    assert g["score_per_km"] == pytest.approx(expected / 1.065, rel=1e-9)
    sc = apply_scenario(a.model, [1])
    assert sc.linked_population_gain == pytest.approx(g["population_newly_linked"], rel=1e-9)
    assert sc.parks_linked_before == (1,) and sc.parks_linked_after == (1, 2)
    assert sc.length_built_m == pytest.approx(1065.0)
    assert sc.greenway_length_after_m - sc.greenway_length_before_m == pytest.approx(1065.0)
    assert sc.linked_population_before == pytest.approx(linked_population(a.model))
    with pytest.raises(NotFoundError):
        apply_scenario(a.model, [5])


def test_gap_over_the_length_limit_is_not_proposed(gap_scene) -> None:  # type: ignore[no-untyped-def]
    assert candidate_gaps(gap_scene.model, max_length_m=1000.0).empty


def test_overlap_check_catches_a_wrong_crs() -> None:
    s = streets(("residential", [(685_000, 7_037_500), (686_000, 7_037_500)]))  # Lens, Lambert-93
    parks = gpd.GeoDataFrame({"nom": ["x"]}, geometry=[box(2.83, 50.43, 2.84, 50.44)], crs=CRS)  # degrees as metres
    with pytest.raises(InputError, match="do not overlap"):
        analyse(parks, None, s)


def test_walk_minutes() -> None:
    assert walk_minutes(800.0) == pytest.approx(10.0)
    assert walk_minutes(np.array([80.0, 160.0])).tolist() == pytest.approx([1.0, 2.0])


# --------------------------------------------------------------------------- layering


def _geo_imports(path: Path) -> set[str]:
    """Modules under ``geo`` a source file imports, at top level or inside functions."""
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("geo"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("geo"))
    return found


def test_parks_modules_import_no_cycle_and_io_does_not_reach_up() -> None:
    import networkx as nx

    root = Path(__file__).resolve().parents[1]
    graph = nx.DiGraph()
    for path in sorted((root / "geo" / "parks").glob("*.py")):
        name = "geo.parks" if path.stem == "__init__" else f"geo.parks.{path.stem}"
        graph.add_node(name)
        graph.add_edges_from((name, m) for m in _geo_imports(path) if m.startswith("geo.parks"))
    assert "geo.parks.routes" in graph and graph.number_of_edges() > 5
    assert list(nx.simple_cycles(graph)) == []
    io_imports = _geo_imports(root / "geo" / "io" / "parks.py")
    assert not {m for m in io_imports if m.startswith(("geo.parks", "geo.roofs", "geo.solar"))}, io_imports
