"""The printable roof report (GET /rapport/{building_id}): its figures are the API's, its drawings are true.

- SVG helpers against hand geometry: one path per face inside the viewBox, the plan's scale equal to the
  face's known width, a bar height proportional to its value;
- the local projection against pyproj's geodesic distances;
- the page on the synthetic API build (tests/api_fixtures.py): figures equal /api/simulate's and /api/roof's
  faces, no external URL, French 404, 422 for bad parameters;
- the page on the pipeline's build of the small sample (``built_dir``): default figures equal /api/roof's
  ``reco_*`` for every kind of building, including those where an unsuitable face yields more;
- a real Chromium prints it to 1–3 A4 pages, and the map's panel link opens it with the panel's consumption.
"""

from __future__ import annotations

import json
import math
import re
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import api_fixtures as fx
import numpy as np
import pyogrio
import pytest
import shapely
from api_fixtures import api_build, client  # noqa: F401
from fastapi.testclient import TestClient
from pyproj import Geod, Transformer
from shapely.geometry import MultiPolygon, Polygon, box

from api.report import date_fr, project_local
from api.report_svg import (
    MONTHS_FR,
    PlanFace,
    bar_chart_svg,
    format_number,
    nice_length,
    nice_step,
    plan_svg,
)
from geo import config

CHROMIUM = Path("/usr/bin/chromium")

# ---------------------------------------------------------------------------------------------------
# helpers: parse the page (no regex on prose)
# ---------------------------------------------------------------------------------------------------


class _Page(HTMLParser):
    """Elements with an id, face rows with their cells' data-field/data-value, and the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: dict[str, dict[str, str]] = {}
        self.rows: list[dict[str, Any]] = []
        self.text_parts: list[str] = []
        self._row: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            assert a["id"] not in self.ids, f"duplicate id {a['id']}"
            self.ids[a["id"]] = a
        if tag == "tr" and "data-face-id" in a:
            self._row = {"face_id": a["data-face-id"], "cells": {}}
            self.rows.append(self._row)
        if tag == "td" and self._row is not None and "data-field" in a:
            self._row["cells"][a["data-field"]] = a.get("data-value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        self.text_parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())

    def value(self, element_id: str) -> float | None:
        raw = self.ids[element_id]["data-value"]
        return None if raw == "" else float(raw)


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def svgs(html: str) -> list[ET.Element]:
    """Every inline <svg> of the page, parsed as XML (so it must be well-formed)."""
    return [ET.fromstring(m) for m in re.findall(r"<svg\b.*?</svg>", html, flags=re.DOTALL)]


def path_points(d: str) -> np.ndarray:
    return np.array([[float(x), float(y)] for x, y in re.findall(r"(-?[\d.]+),(-?[\d.]+)", d)])


def view_box(svg: ET.Element) -> tuple[float, float, float, float]:
    x, y, w, h = (float(v) for v in svg.attrib["viewBox"].split())
    return x, y, w, h


def assert_bars_proportional(chart: ET.Element, values: list[float]) -> None:
    bars = chart.findall("rect[@class='bar']")
    assert len(bars) == len(values) == 12
    base = float(chart.attrib["data-baseline"])
    plot_h = float(chart.attrib["data-plot-height"])
    ymax = float(chart.attrib["data-ymax"])
    assert ymax >= max(values)
    for bar, v in zip(bars, values, strict=True):
        h = float(bar.attrib["height"])
        value = float(bar.attrib["data-value"])
        assert value == pytest.approx(v, rel=1e-6)  # (hourly profiles are stored as float32)
        assert h == pytest.approx(plot_h * value / ymax, abs=1e-3)  # proportional, with one factor for all
        assert float(bar.attrib["y"]) + h == pytest.approx(base, abs=1e-3)  # standing on the baseline


# ---------------------------------------------------------------------------------------------------
# SVG helpers
# ---------------------------------------------------------------------------------------------------


def test_format_number_french() -> None:
    assert format_number(1234.5, 1) == "1\u202f234,5"
    assert format_number(1234567) == "1\u202f234\u202f567"
    assert format_number(-505.2) == "\u2212505"
    assert format_number(-0.2) == "0"
    assert format_number(None) == "–" and format_number(float("nan")) == "–"
    assert date_fr(__import__("datetime").date(2026, 3, 1)) == "1er mars 2026"
    assert date_fr(__import__("datetime").date(2026, 11, 12)) == "12 novembre 2026"


def test_nice_steps() -> None:
    assert nice_step(443) == 200 and nice_step(40) == 10 and nice_step(0.9) == 0.5
    assert nice_length(7.3) == 5 and nice_length(19.9) == 10 and nice_length(20) == 20 and nice_length(0.31) == 0.2


def test_bar_chart_heights_are_proportional() -> None:
    values = [70.2, 118.0, 231.5, 354.0, 422.0, 443.9, 436.0, 372.0, 271.0, 168.0, 85.0, 58.0]
    chart = ET.fromstring(bar_chart_svg(values))
    assert_bars_proportional(chart, values)
    assert [t.text for t in chart.findall("text[@class='axis']")][-12:] == list(MONTHS_FR)
    _, _, w, h = view_box(chart)
    for bar in chart.findall("rect[@class='bar']"):
        x, y = float(bar.attrib["x"]), float(bar.attrib["y"])
        assert 0 <= x and x + float(bar.attrib["width"]) <= w and 0 <= y <= h
    # A missing month draws no bar; a negative value is refused.
    gap = ET.fromstring(bar_chart_svg([None, *values[1:]]))
    assert float(gap.findall("rect[@class='bar']")[0].attrib["height"]) == 0
    with pytest.raises(ValueError):
        bar_chart_svg([-1.0] + values[1:])
    with pytest.raises(ValueError):
        bar_chart_svg(values[:11])
    zero = ET.fromstring(bar_chart_svg([0.0] * 12))
    assert all(float(b.attrib["height"]) == 0 for b in zero.findall("rect[@class='bar']"))


def _gable(width: float = 10.0, depth: float = 8.0) -> list[PlanFace]:
    return [
        PlanFace("1", box(0, 0, width, depth / 2), "#e31a1c", "f-south", "Pan 1"),
        PlanFace("2", box(0, depth / 2, width, depth), "#a6a6a6", "f-north", "Pan 2"),
    ]


@pytest.mark.parametrize(("width", "depth"), [(10.0, 8.0), (60.0, 12.0), (4.0, 30.0)])
def test_plan_one_path_per_face_inside_the_viewbox_at_true_scale(width: float, depth: float) -> None:
    faces = _gable(width, depth)
    svg = ET.fromstring(plan_svg(faces, footprint=box(0, 0, width, depth)))
    _, _, w, h = view_box(svg)
    paths = svg.findall("path[@class='face']")
    assert [p.attrib["data-face-id"] for p in paths] == ["f-south", "f-north"]
    scale = float(svg.attrib["data-scale-px-per-m"])
    for p in paths:
        pts = path_points(p.attrib["d"])
        assert len(pts) == 4
        assert (pts[:, 0] >= 0).all() and (pts[:, 0] <= w).all() and (pts[:, 1] >= 0).all() and (pts[:, 1] <= h).all()
        # the face is width × depth/2 metres: its drawn size is that times the plan's scale
        assert np.ptp(pts[:, 0]) == pytest.approx(width * scale, abs=0.15)
        assert np.ptp(pts[:, 1]) == pytest.approx(depth / 2 * scale, abs=0.15)
    south, north = (path_points(p.attrib["d"]) for p in paths)
    assert south[:, 1].mean() > north[:, 1].mean()  # north is up (SVG y grows downwards)
    scale_bar = svg.find("g[@class='scale']")
    assert scale_bar is not None
    metres, px = float(scale_bar.attrib["data-metres"]), float(scale_bar.attrib["data-px"])
    assert px == pytest.approx(metres * scale) and metres in (1, 2, 5, 10, 20, 50, 100)
    bar_width = sum(float(r.attrib["width"]) for r in scale_bar.findall("rect"))
    assert bar_width == pytest.approx(px, abs=0.1)
    assert svg.find("g[@class='north']") is not None
    assert [t.text for t in svg.findall("text[@class='face-label']")] == ["1", "2"]


def test_plan_multipart_face_and_empty_plan() -> None:
    ring = Polygon([(0, 0), (6, 0), (6, 6), (0, 6)], [[(2, 2), (4, 2), (4, 4), (2, 4)]])
    multi = MultiPolygon([ring, box(10, 0, 12, 3)])
    svg = ET.fromstring(plan_svg([PlanFace("1", multi, "#fd8d3c", "m", "")]))
    paths = svg.findall("path[@class='face']")
    assert len(paths) == 1 and paths[0].attrib["d"].count("M") == 3  # shell, hole, second part
    assert paths[0].attrib["fill-rule"] == "evenodd"
    empty = ET.fromstring(plan_svg([]))
    assert empty.findall("path[@class='face']") == [] and "non disponible" in "".join(empty.itertext())


def test_project_local_keeps_geodesic_distances_and_north_up() -> None:
    to_wgs = Transformer.from_crs(fx.CRS, config.WGS84, always_xy=True)
    x0, y0 = fx.house_origin(2, 2)
    square = box(x0, y0, x0 + 10.0, y0 + 10.0)
    lon0, lat0 = to_wgs.transform(x0 + 5.0, y0 + 5.0)
    local = project_local(np.array([square], dtype=object), fx.CRS, lon0=lon0, lat0=lat0)[0]
    geod = Geod(ellps="WGS84")
    xy = np.asarray(local.exterior.coords)[:4]
    corners = np.asarray(square.exterior.coords)[:4]
    lon, lat = to_wgs.transform(corners[:, 0], corners[:, 1])
    for i in range(4):
        j = (i + 1) % 4
        _, _, true_m = geod.inv(lon[i], lat[i], lon[j], lat[j])
        assert math.dist(xy[i], xy[j]) == pytest.approx(true_m, abs=1e-4)
    # the centre is the origin, and a point due north (same longitude) has x = 0
    c = shapely.centroid(local)
    assert abs(c.x) < 1e-3 and abs(c.y) < 1e-3  # the projection of a 10 m square is a square to 0.1 mm
    north_l93 = Transformer.from_crs(config.WGS84, fx.CRS, always_xy=True).transform(lon0, lat0 + 0.001)
    north = project_local(np.array([shapely.Point(*north_l93)], dtype=object), fx.CRS, lon0=lon0, lat0=lat0)[0]
    assert abs(north.x) < 1e-6 and north.y == pytest.approx(geod.inv(lon0, lat0, lon0, lat0 + 0.001)[2], abs=1e-4)


# ---------------------------------------------------------------------------------------------------
# The page on the synthetic build
# ---------------------------------------------------------------------------------------------------


def _report(client: TestClient, bid: str, **params: Any) -> tuple[str, _Page]:  # noqa: F811
    r = client.get(f"/rapport/{bid}", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    return r.text, parse(r.text)


def _simulate(client: TestClient, bid: str, **body: Any) -> dict[str, Any]:  # noqa: F811
    r = client.post("/api/simulate", json={"building_id": bid, **body})
    assert r.status_code == 200, r.text
    eco: dict[str, Any] = r.json()["economics"]
    return eco


ECONOMICS_IDS = {
    "reco-kwp": "kwp", "reco-modules": "n_modules", "reco-production": "production_kwh_yr", "eco-cost": "cost_eur",
    "eco-premium": "premium_eur", "eco-savings": "savings_eur_yr", "eco-sales": "sales_eur_yr",
    "eco-selfcons": "self_consumption_rate", "eco-selfsuff": "self_sufficiency_rate",
    "eco-selfconsumed": "self_consumed_kwh_yr", "eco-surplus": "surplus_kwh_yr", "eco-om": "om_eur_yr",
    "eco-payback": "payback_yr", "eco-gain": "net_gain_eur", "eco-co2": "co2_avoided_kg_yr",
}


def _assert_economics_equal(page: _Page, eco: dict[str, Any]) -> None:
    for element_id, key in ECONOMICS_IDS.items():
        got, want = page.value(element_id), eco[key]
        if want is None:
            assert got is None, element_id
        else:
            assert got == pytest.approx(want, rel=1e-9, abs=1e-9), element_id


def test_report_page_on_the_synthetic_build(client: TestClient) -> None:  # noqa: F811
    i, j = 3, 1
    bid = fx.building_id(i, j)
    x, y = fx.house_origin(i, j)
    html, page = _report(client, bid)
    # identity: address, commune, id, date
    lon, lat = fx.polygon_lonlat_center(box(x, y, x + fx.HOUSE_W, y + fx.HOUSE_D))
    roof = client.get("/api/roof", params={"lon": lon, "lat": lat}).json()
    b = roof["building"]["properties"]
    assert b["building_id"] == bid
    assert b["address"] in page.text and page.ids["address"] is not None
    assert page.ids["commune"]["data-value"] == b["code_insee"]
    assert ("Lens" if x < fx.SPLIT_X else "Loos-en-Gohelle") in page.text
    assert page.ids["building-id"]["data-value"] == bid
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", page.ids["date"]["data-value"])
    # faces: the rows of /api/roof, best production first
    assert [r["face_id"] for r in page.rows] == [f["properties"]["face_id"] for f in roof["faces"]]
    for row, f in zip(page.rows, roof["faces"], strict=True):
        p = f["properties"]
        for key in ("tilt_deg", "usable_area_m2", "irradiation_kwh_m2_yr", "kwp"):
            assert float(row["cells"][key]) == pytest.approx(p[key]), key
        assert row["cells"]["suitability"] == p["suitability"]
        assert row["cells"]["orientation"] == repr(float(p["azimuth_deg"]))
    # default household: the recommendation on the suitable faces, as /api/simulate computes it for them
    eco = _simulate(client, bid, annual_consumption_kwh=config.HOUSEHOLD_CONSUMPTION_KWH_YR,
                    face_ids=[fx.building_id(i, j) + "-1"])
    _assert_economics_equal(page, eco)
    assert page.value("consumption") == config.HOUSEHOLD_CONSUMPTION_KWH_YR
    used = {r["face_id"]: int(r["cells"]["modules_used"]) for r in page.rows}
    assert {k: v for k, v in used.items() if v} == eco["faces"]
    # full-roof potential and solar hot water: the building's columns
    assert page.value("max-kwp") == pytest.approx(b["kwp_max"])
    assert page.value("max-production") == pytest.approx(b["production_kwh_yr_max"])
    assert page.value("swh-heat") == pytest.approx(b["swh_heat_kwh_yr"])
    assert page.value("swh-fraction") == pytest.approx(b["swh_solar_fraction"])
    assert page.value("swh-collector") == pytest.approx(b["swh_collector_m2"])
    # weather flagged approximate; tariffs dated
    assert page.ids["weather"]["data-approximate"] == "true" and "weather-approximate" in page.ids
    quarter = config.PV_TARIFFS[page.ids["tariffs"]["data-quarter"]]
    assert date_fr(__import__("datetime").date.fromisoformat(str(quarter["valid_to"]))) in page.text
    # drawings: the plan has one path per face inside its viewBox; the chart 12 bars of the monthly production
    plan, chart = svgs(html)
    _, _, w, h = view_box(plan)
    paths = plan.findall("path[@class='face']")
    assert sorted(p.attrib["data-face-id"] for p in paths) == sorted(r["face_id"] for r in page.rows)
    s = float(plan.attrib["data-scale-px-per-m"])
    to_wgs = Transformer.from_crs(fx.CRS, config.WGS84, always_xy=True)
    geod = Geod(ellps="WGS84")
    for p in paths:
        pts = path_points(p.attrib["d"])
        assert (pts >= 0).all() and (pts[:, 0] <= w).all() and (pts[:, 1] <= h).all()
        # each face is a 10 m × 4 m box in Lambert-93 (fx.make_rooftops): every drawn edge is its true
        # (geodesic) length times the plan's scale, whatever the grid's convergence and scale factor
        south = p.attrib["data-face-id"].endswith("-1")
        face = box(x, y + (0 if south else fx.HOUSE_D / 2), x + fx.HOUSE_W, y + fx.HOUSE_D / (2 if south else 1))
        lon, lat = to_wgs.transform(*np.asarray(face.exterior.coords)[:4].T)
        for k in range(4):
            true_m = geod.inv(lon[k], lat[k], lon[(k + 1) % 4], lat[(k + 1) % 4])[2]
            assert math.dist(pts[k], pts[(k + 1) % 4]) == pytest.approx(true_m * s, abs=0.15)
    south = next(f for f in roof["faces"] if f["properties"]["face_id"] == bid + "-1")["properties"]
    share = eco["faces"][bid + "-1"] / south["n_modules"]
    monthly = [south[f"production_m{m:02d}_kwh"] * share for m in range(1, 13)]
    assert_bars_proportional(chart, monthly)
    assert sum(float(b.attrib["data-value"]) for b in chart.findall("rect[@class='bar']")) == pytest.approx(
        page.value("reco-production"), rel=1e-6)
    # self-contained: no URL to anywhere else
    assert "http://" not in html and "https://" not in html
    assert "<link rel=\"stylesheet\"" not in html and "<script src" not in html and "@import" not in html


class _ClassLegend(HTMLParser):
    """The report's class legend: code (``data-class``) -> (label, explanation)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.classes: dict[str, list[str]] = {}
        self._code: str | None = None
        self._part: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "div" and a.get("data-class"):
            self._code = str(a["data-class"])
            self.classes[self._code] = ["", ""]
        elif self._code is not None and tag in ("dt", "dd"):
            self._part = 0 if tag == "dt" else 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("dt", "dd"):
            self._part = None
        elif tag == "div":
            self._code = None

    def handle_data(self, data: str) -> None:
        if self._code is not None and self._part is not None:
            self.classes[self._code][self._part] += data


def test_class_labels_are_the_same_on_map_report_and_api(client: TestClient) -> None:  # noqa: F811
    """Each suitability class has one label, colour and explanation wherever it is shown."""
    api = {c["code"]: c for c in client.get("/api/suitability-classes").json()}
    assert list(api) == [*(code for code, _ in config.SUITABILITY_THRESHOLDS), config.SUITABILITY_UNSUITABLE]
    assert {c["label"] for c in api.values()} == {"Excellent", "Bon", "Moyen", "Inadapté"}
    assert [c["min_share_of_optimum"] for c in api.values()] == [
        *(share for _, share in config.SUITABILITY_THRESHOLDS), None]
    # the map page hands its JavaScript the classes in Artois.setup(map, settings)
    page = client.get("/").text
    start = page.index("Artois.setup(")
    settings, _ = json.JSONDecoder().raw_decode(page, page.index("{", start))
    on_map = {c["value"]: c for c in settings["suitability"]}
    assert list(on_map) == list(api)
    # the report's legend, and the class of each face row
    html = client.get(f"/rapport/{fx.building_id(3, 1)}").text
    legend = _ClassLegend()
    legend.feed(html)
    assert list(legend.classes) == list(api)
    for code, c in api.items():
        assert on_map[code]["label"] == c["label"] == legend.classes[code][0].strip(), code
        assert on_map[code]["colour"] == c["colour"] and f"background: {c['colour']}" in html
        assert on_map[code]["explanation"] == c["explanation"] == re.sub(r"[ \t\n]+", " ", legend.classes[code][1]).strip()
    rows = parse(html).rows
    assert {r["cells"]["suitability"] for r in rows} == {"excellent", config.SUITABILITY_UNSUITABLE}
    for row in rows:
        cell = re.search(rf'data-value="{row["cells"]["suitability"]}"><span[^>]*></span>([^<]+)</td>', html)
        assert cell and cell.group(1) == api[row["cells"]["suitability"]]["label"]


@pytest.mark.parametrize(("params", "body"), [
    ({"consommation": 6000}, {"annual_consumption_kwh": 6000}),
    ({"consommation": 2500, "kwp": 2.2}, {"annual_consumption_kwh": 2500, "kwp": 2.2}),
    ({"kwp": 1000}, {"annual_consumption_kwh": config.HOUSEHOLD_CONSUMPTION_KWH_YR, "kwp": 1000}),
])
def test_report_figures_equal_simulate(client: TestClient, params: dict[str, Any],  # noqa: F811
                                       body: dict[str, Any]) -> None:
    bid = fx.building_id(1, 2)
    html, page = _report(client, bid, **params)
    eco = _simulate(client, bid, **body)
    _assert_economics_equal(page, eco)
    assert page.value("consumption") == body["annual_consumption_kwh"]
    if eco["capped"]:  # 1000 kWp does not fit: the page says so
        assert "ne tient pas sur ce toit" in page.text
    chart = svgs(html)[1]
    total = sum(float(b.attrib["data-value"]) for b in chart.findall("rect[@class='bar']"))
    assert total == pytest.approx(eco["production_kwh_yr"], rel=1e-6)


def test_report_errors(client: TestClient) -> None:  # noqa: F811
    r = client.get("/rapport/BATIMENT_INCONNU")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found" and "identifiant inconnu" in r.json()["detail"]
    r = client.get("/rapport/BATIMENT_INCONNU", headers={"Accept": "text/html,application/xhtml+xml"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    page = parse(r.text)
    assert "identifiant inconnu" in page.text and "Rapport indisponible" in page.text
    assert "http://" not in r.text and "https://" not in r.text
    bid = fx.building_id(0, 0)
    for bad in ({"consommation": "beaucoup"}, {"consommation": -5}, {"consommation": 100}, {"consommation": 1e9},
                {"kwp": 0}, {"kwp": 0.1}, {"kwp": "nan"}, {"kwp": "x"}):
        r = client.get(f"/rapport/{bid}", params=bad)
        assert r.status_code == 422, bad
        assert r.json()["detail"].startswith("Paramètres invalides"), r.json()


def test_report_is_documented_in_openapi(client: TestClient) -> None:  # noqa: F811
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/rapport/{building_id}"]["get"]
    assert {p["name"] for p in op["parameters"]} == {"building_id", "consommation", "kwp", "profil", "pilotage",
                                                     "batterie", "tva", "cout", "duree", "hausse", "pret_duree",
                                                     "pret_taux"}
    assert "text/html" in op["responses"]["200"]["content"]


# ---------------------------------------------------------------------------------------------------
# The page on the pipeline's build of the small sample
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(built_dir: Path) -> Iterator[tuple[TestClient, Path]]:
    assert (built_dir / "rooftops.gpkg").is_file(), "the pipeline did not build rooftops.gpkg"
    from api.app import create_app
    from api.settings import Settings

    with TestClient(create_app(Settings(data_dir=built_dir))) as c:
        yield c, built_dir


def _tricky_buildings(faces: Any) -> list[str]:
    """Buildings where an unsuitable face holding modules yields more than a suitable one."""
    out = []
    for bid, g in faces.groupby("building_id"):
        ok = g[g.suitability != config.SUITABILITY_UNSUITABLE]
        bad = g[(g.suitability == config.SUITABILITY_UNSUITABLE) & (g.n_modules > 0)]
        if len(ok) and len(bad) and bad.specific_yield_kwh_kwp.max() > ok.specific_yield_kwh_kwp.min():
            out.append(str(bid))
    return out


def test_default_report_equals_api_roof_on_the_built_sample(built: tuple[TestClient, Path]) -> None:
    api, d = built
    bld = pyogrio.read_dataframe(d / "rooftops.gpkg", layer="buildings")
    faces = pyogrio.read_dataframe(d / "rooftops.gpkg", layer="roof_faces", read_geometry=False)
    to_wgs = Transformer.from_crs(bld.crs, config.WGS84, always_xy=True)
    reco = bld[bld.reco_kwp > 0]
    chosen = list(reco.sort_values("kwp_max").building_id.iloc[:: max(1, len(reco) // 5)])
    chosen += _tricky_buildings(faces[faces.building_id.isin(reco.building_id)])[:3]
    none = bld[~(bld.reco_kwp > 0)]
    chosen += list(none.building_id.iloc[:2])
    assert len(chosen) >= 6
    checked_reco = 0
    for bid in dict.fromkeys(chosen):
        row = bld[bld.building_id == bid].iloc[0]
        p = shapely.point_on_surface(row.geometry)
        lon, lat = to_wgs.transform(p.x, p.y)
        r = api.get("/api/roof", params={"lon": lon, "lat": lat})
        assert r.status_code == 200
        b = r.json()["building"]["properties"]
        assert b["building_id"] == bid
        html, page = _report(api, bid)
        assert [row["face_id"] for row in page.rows] == [f["properties"]["face_id"] for f in r.json()["faces"]]
        plan = svgs(html)[0]
        assert len(plan.findall("path[@class='face']")) == len(page.rows)
        assert "http://" not in html and "https://" not in html
        if not (b["reco_kwp"] or 0) > 0:
            assert "no-installation" in page.ids and "reco-kwp" not in page.ids
            continue
        for element_id, key in (("reco-kwp", "reco_kwp"), ("reco-production", "reco_production_kwh_yr"),
                                ("eco-cost", "reco_cost_eur"), ("eco-premium", "reco_premium_eur"),
                                ("eco-savings", "reco_savings_eur_yr"), ("eco-sales", "reco_sales_eur_yr"),
                                ("eco-selfcons", "reco_self_consumption_rate"), ("eco-payback", "reco_payback_yr"),
                                ("eco-gain", "reco_net_gain_eur"), ("eco-co2", "co2_avoided_kg_yr")):
            want = b[key]
            got = page.value(element_id)
            if want is None:
                assert got is None, (bid, element_id)
            else:
                assert got == pytest.approx(want, rel=1e-6, abs=1e-6), (bid, element_id)
        assert page.value("reco-modules") == b["reco_n_modules"]
        assert int(page.ids["eco-gain"]["data-years"]) == b["analysis_years"]
        # the panel's figures are /api/simulate's: the same numbers as the report and the stored building
        eco = api.post("/api/simulate", json={"building_id": bid}).json()["economics"]
        for element_id, key in (("reco-kwp", "kwp"), ("eco-cost", "cost_eur"), ("eco-gain", "net_gain_eur"),
                                ("eco-payback", "payback_yr"), ("eco-selfcons", "self_consumption_rate")):
            got = page.value(element_id)
            assert (got is None and eco[key] is None) or got == pytest.approx(eco[key], rel=1e-9), (bid, key)
        assert eco["analysis_years"] == b["analysis_years"] and eco["load_profile"] == b["load_profile"]
        chart = svgs(html)[1]
        total = sum(float(x.attrib["data-value"]) for x in chart.findall("rect[@class='bar']"))
        assert total == pytest.approx(b["reco_production_kwh_yr"], rel=1e-6)
        checked_reco += 1
    assert checked_reco >= 4


# ---------------------------------------------------------------------------------------------------
# In a real browser: the printed PDF, and the map's link
# ---------------------------------------------------------------------------------------------------


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (install it: make browser)")
def test_report_prints_to_a_few_a4_pages_and_the_map_links_to_it(api_build: Path) -> None:  # noqa: F811
    import uvicorn
    from playwright.sync_api import sync_playwright

    from api.app import create_app
    from api.settings import Settings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(create_app(Settings(data_dir=api_build)), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page()
                outside: list[str] = []
                page.on("request", lambda req: outside.append(req.url) if not req.url.startswith(base) else None)
                bid = fx.building_id(2, 1)
                page.goto(f"{base}/rapport/{bid}?consommation=5200", wait_until="load")
                assert page.locator("#reco-kwp").is_visible()
                pdf = page.pdf(format="A4", print_background=True)
                assert pdf.startswith(b"%PDF") and 1 <= _pdf_pages(pdf) <= 3, _pdf_pages(pdf)
                assert not [u for u in outside if not u.startswith("data:")], outside
                # The map: search the building's address, the panel's link is the report with its consumption.
                page.goto(base + "/", wait_until="load")
                address = f"{2 * 2 + 1} {fx.STREETS[1]}"
                page.fill("#artois-search-input", address)
                page.click("#artois-search button[type=submit]")
                page.wait_for_selector("#artois-roof:not([hidden])", timeout=30_000)
                link = page.locator("#artois-report")
                default = round(config.HOUSEHOLD_CONSUMPTION_KWH_YR)
                assert link.get_attribute("href") == f"/rapport/{bid}?consommation={default}"
                assert link.get_attribute("target") == "_blank"
                page.fill("#artois-consumption-input", "6000")
                with page.expect_response(lambda r: r.url.endswith("/api/simulate")):
                    page.click("#artois-consumption button[type=submit]")
                page.wait_for_function("document.querySelector('#artois-message').textContent.includes('recalculées')")
                assert link.get_attribute("href") == f"/rapport/{bid}?consommation=6000"
                with page.expect_popup() as popup:
                    link.click()
                report = popup.value
                report.wait_for_load_state("load")
                assert report.url == f"{base}/rapport/{bid}?consommation=6000"
                # the report shows the economics the panel shows for that consumption
                for panel_id, report_id in (("artois-reco-kwp", "reco-kwp"), ("artois-reco-kwh", "reco-production"),
                                            ("artois-eco-savings", "eco-savings"), ("artois-eco-cost", "eco-cost")):
                    shown = float(page.locator(f"#{panel_id}").get_attribute("data-value") or "nan")
                    printed = float(report.locator(f"#{report_id}").get_attribute("data-value") or "nan")
                    assert printed == pytest.approx(shown, rel=1e-9), panel_id
            finally:
                browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
