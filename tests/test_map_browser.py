"""The map in a real headless Chromium, against ``artois serve`` on the built small sample.

What a person does: open the page (no console error, no request leaving 127.0.0.1), search an
address (the panel's kWh equal /api/roof's), change the household consumption (the economics
equal /api/simulate's), draw a route between two parks (its length equals /api/parks/route's),
and use it all on a phone-sized screen. Screenshots go to artefacts/ (look at them).

The tests wait on conditions, never on time: the map is moved with ``Artois.setView`` (a Promise
resolved once the map has stopped there; Leaflet drops a plain ``map.setView`` asked during a zoom
animation), a click is made where the layer meant to receive it is the topmost element, and every
element read is first waited for.

Debian's chromium (/usr/bin/chromium) is driven by Playwright; ``playwright install`` is never
needed. The tests are skipped, saying why, only when that browser is absent.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from shapely.geometry import Point, box, shape
from shapely.ops import unary_union

from geo.products import BuildFolder

CHROMIUM = Path("/usr/bin/chromium")
ARTEFACTS = Path(__file__).resolve().parents[1] / "artefacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1"}
TIMEOUT_MS = 30_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (install it: make browser)"),
]


# ---------------------------------------------------------------------------- server


@contextmanager
def serving(proc: subprocess.Popen[bytes], base: str, log: Path, timeout_s: float = 120) -> Iterator[str]:
    """Wait until the ``artois serve`` process ``proc`` answers ``base + "/"``; stop it on exit."""
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                pytest.fail(f"artois serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(base + "/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"artois serve did not answer within {timeout_s:.0f} s:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


BUILT_FILES = ("rooftops.gpkg", "parks.gpkg", "irradiance.vrt", "sites.gpkg")


@pytest.fixture(scope="module")
def map_data(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder ``artois serve`` serves: the session's ``built_dir`` (the whole pipeline on the small
    sample) with the sample's BAN addresses beside it, as ``make demo`` lays them out.

    A build lacking one of :data:`BUILT_FILES` fails the tests.
    ``ARTOIS_MAP_DATA=folder`` serves that folder instead (e.g. the ``build/`` of ``make demo``;
    ``fixture`` for the synthetic build).
    """
    chosen = os.environ.get("ARTOIS_MAP_DATA")
    if chosen == "fixture":
        from api_fixtures import make_build

        return make_build(tmp_path_factory.mktemp("serve_data"))
    if chosen:
        return Path(chosen)
    built: Path = request.getfixturevalue("built_dir")
    sample: Path = request.getfixturevalue("sample_dir")
    missing = [name for name in BUILT_FILES if not (built / name).is_file()]
    assert not missing, f"the pipeline did not build {', '.join(missing)}"
    serve_dir = tmp_path_factory.mktemp("serve_data")
    for name in BUILT_FILES:
        (serve_dir / name).symlink_to(built / name)
    tiles = BuildFolder(built).irradiance_tiles  # the COGs under irradiance.vrt
    (serve_dir / tiles.name).symlink_to(tiles, target_is_directory=True)
    for csv in sorted((sample / "rooftops").glob("adresses-*.csv")):
        (serve_dir / csv.name).symlink_to(csv)
    return serve_dir


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``artois serve`` in a subprocess on a free 127.0.0.1 port; yields its base URL.

    ``ARTOIS_MAP_SERVER=http://127.0.0.1:PORT`` tests a server already running on this machine instead.
    """
    running = os.environ.get("ARTOIS_MAP_SERVER")
    if running:
        assert urlparse(running).hostname in LOCAL_HOSTS, "ARTOIS_MAP_SERVER must be on 127.0.0.1"
        yield running.rstrip("/")
        return
    map_data: Path = request.getfixturevalue("map_data")
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    cmd = [sys.executable, "-c", "import sys; from geo.cli import main; sys.exit(main())",
           "serve", "--data", str(map_data), "--host", "127.0.0.1", "--port", str(port)]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[1])
    base = f"http://127.0.0.1:{port}"
    with serving(proc, base, log):
        yield base


@pytest.fixture(scope="module")
def api(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=30) as client:
        yield client


# ---------------------------------------------------------------------------- sample objects


@pytest.fixture(scope="module")
def sample_address(api: httpx.Client) -> dict[str, Any]:
    """A built building with an address and a suitable roof, and what the API says about it."""
    r = api.get("/ogc/collections/buildings/items", params={"limit": 1000})
    r.raise_for_status()
    buildings = [f["properties"] for f in r.json()["features"]]
    candidates = [b for b in buildings if b.get("address") and b.get("suitability") in ("excellent", "bon", "moyen")]
    assert candidates, "no building of the sample has an address and a suitable roof"
    best = max(candidates, key=lambda b: b.get("production_kwh_yr_max") or 0)
    address = best["address"]
    geo = api.get("/api/geocode", params={"q": address})
    geo.raise_for_status()
    first = _candidates(geo.json())[0]
    roof = api.get("/api/roof", params={"lon": first["lon"], "lat": first["lat"]})
    assert roof.status_code == 200, roof.text
    return {"address": address, "building": best, "geocoded": first, "roof": roof.json()}


def _candidates(body: Any) -> list[dict[str, Any]]:
    items = body if isinstance(body, list) else body.get("candidates") or body.get("results") or body.get("features")
    out = []
    for c in items:
        p = c.get("properties", c)
        if "geometry" in c and c["geometry"]:
            lon, lat = c["geometry"]["coordinates"][:2]
        else:
            lon, lat = p["lon"], p["lat"]
        out.append({"label": p.get("label"), "lon": lon, "lat": lat})
    return out


def _roof_parts(body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(building properties, faces) of an /api/roof answer."""
    building = body.get("building") or body.get("properties") or body
    building = building.get("properties", building)
    faces = body.get("faces") or building.get("faces") or []
    if isinstance(faces, dict):
        faces = faces["features"]
    return building, [f.get("properties", f) for f in faces]


# ---------------------------------------------------------------------------- browser


@dataclass
class Session:
    """A page in a fresh browser profile, with every request and console error recorded."""

    page: Any
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def external_requests(self) -> list[str]:
        return [u for u in self.requests if urlparse(u).scheme in ("http", "https", "ws", "wss")
                and urlparse(u).hostname not in LOCAL_HOSTS]

    def screenshot(self, name: str) -> Path:
        """Save the page as artefacts/{name}.png once the map's tiles and animations have settled."""
        self.page.wait_for_load_state("networkidle")
        self.page.wait_for_timeout(600)
        ARTEFACTS.mkdir(exist_ok=True)
        path = ARTEFACTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python) is not installed")
    with sync_api.sync_playwright() as p:
        yield p


def _open(playwright: Any, tmp_path: Path, *, width: int, height: int, mobile: bool = False) -> Iterator[Session]:
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
        viewport={"width": width, "height": height}, device_scale_factor=1, is_mobile=mobile, has_touch=mobile,
        locale="fr-FR", service_workers="block",
    )
    session = Session(page=None)

    def on_request(request: Any) -> None:
        session.requests.append(request.url)

    def guard(route: Any) -> None:  # a request leaving the machine is recorded above, then refused
        if urlparse(route.request.url).hostname in LOCAL_HOSTS or route.request.url.startswith("data:"):
            route.continue_()
        else:
            route.abort()

    context.on("request", on_request)
    context.route("**/*", guard)
    page = context.pages[0] if context.pages else context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("console", lambda m: session.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: session.console_errors.append(f"uncaught: {e}"))
    session.page = page
    try:
        yield session
    finally:
        context.close()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def desktop(playwright_instance: Any, tmp_path: Path) -> Iterator[Session]:
    yield from _open(playwright_instance, tmp_path, width=1366, height=850)


@pytest.fixture
def phone(playwright_instance: Any, tmp_path: Path) -> Iterator[Session]:
    yield from _open(playwright_instance, tmp_path, width=390, height=844, mobile=True)


def _load(s: Session, server: str) -> None:
    s.page.goto(server + "/", wait_until="load")
    # The default layers are drawn: parks (GeoJSON) and roof faces (vector tiles once zoomed in).
    s.page.wait_for_selector(".leaflet-artoisParks-pane path", state="attached")
    # The first view (the data's extent, an animated fitBounds) is in place.
    s.page.wait_for_function("window.Artois && Artois.ready !== undefined")
    s.page.evaluate("() => Artois.ready")
    s.page.wait_for_load_state("networkidle")


def _view(s: Session, lat: float, lon: float, zoom: int) -> None:
    """Show (lat, lon) at the centre of the map at ``zoom``, once the map has stopped there."""
    where = s.page.evaluate("([lat, lon, z]) => Artois.setView([lat, lon], z, {animate: false})", [lat, lon, zoom])
    assert where["zoom"] == zoom, where
    two_pixels = 2 * 360 / (256 * 2**zoom)  # [degrees of longitude]; Leaflet pans by whole pixels
    assert where["lat"] == pytest.approx(lat, abs=two_pixels) and where["lng"] == pytest.approx(lon, abs=two_pixels), where


def _click_map(s: Session, lat: float, lon: float, target: str) -> None:
    """Click the map at (lat, lon) once ``target`` is the topmost element there.

    ``target``: the Leaflet pane meant to receive the click ("artoisParks"...), or "map" for the
    bare map (no interactive layer there). Fails, saying what is on top, when it does not become so.
    """
    x, y = s.page.evaluate("""([lat, lon]) => {
        const m = Artois.map, p = m.latLngToContainerPoint([lat, lon]), r = m.getContainer().getBoundingClientRect();
        return [r.left + p.x, r.top + p.y]; }""", [lat, lon])
    on_top = """([x, y, target]) => {
        const e = document.elementFromPoint(x, y);
        if (!e) { return false; }
        return target === 'map' ? e.classList.contains('leaflet-container') : !!e.closest('.leaflet-' + target + '-pane');
    }"""
    try:
        s.page.wait_for_function(on_top, arg=[x, y, target], timeout=10_000)
    except Exception as exc:  # say what is there instead
        found = s.page.evaluate("""([x, y]) => { const e = document.elementFromPoint(x, y);
            return e ? e.outerHTML.slice(0, 200) + ' in ' + (e.closest('[class*=-pane]') || {}).className : null; }""", [x, y])
        raise AssertionError(f"the map at ({lat}, {lon}) does not show {target} on top but {found}") from exc
    s.page.mouse.click(x, y)


def _features(api: httpx.Client, collection: str, bbox: tuple[float, float, float, float] | None = None) -> list[Any]:
    """Features of a collection (in ``bbox``, lon/lat), or [] when the API does not serve it."""
    params: dict[str, Any] = {"limit": 1000}
    if bbox:
        params["bbox"] = ",".join(f"{v:.7f}" for v in bbox)
    r = api.get(f"/ogc/collections/{collection}/items", params=params)
    if r.status_code == 404:
        return []
    r.raise_for_status()
    return list(r.json()["features"])


def _clear_point(area: Any, api: httpx.Client, avoid: tuple[str, ...], *, margin_deg: float = 1.5e-4) -> Point:
    """A point of ``area`` (lon/lat) at least ``margin_deg`` (about 10 m) from every feature of the ``avoid``
    collections (drawn above it, or catching the click instead of it)."""
    bounds = area.buffer(2 * margin_deg).bounds
    others = [shape(f["geometry"]) for c in avoid for f in _features(api, c, bounds) if f.get("geometry")]
    inner = area.buffer(-margin_deg / 3)
    free = (inner if not inner.is_empty else area).difference(unary_union(others).buffer(margin_deg)) if others else inner
    assert not free.is_empty, f"no point of {area.wkt[:80]} is clear of {avoid}"
    return free.representative_point()


def _number(text: str) -> float:
    """A number written in French ("12 345,6 kWh/an") as a float."""
    m = re.search(r"-?[\d\u202f\u00a0 ]+(?:,\d+)?", text)
    assert m, text
    return float(m.group(0).replace("\u202f", "").replace("\u00a0", "").replace(" ", "").replace(",", "."))


def _search(s: Session, address: str) -> None:
    s.page.fill("#artois-search-input", address)
    s.page.click("#artois-search button[type=submit]")
    s.page.wait_for_selector("#artois-roof:not([hidden])")
    s.page.wait_for_function("document.querySelector('#artois-reco-kwh').dataset.value !== ''")


# ---------------------------------------------------------------------------- tests


def test_page_loads_clean_and_offline(desktop: Session, server: str) -> None:
    _load(desktop, server)
    page = desktop.page
    assert page.title().startswith("Artois Solaire")
    # The offline base map is the one chosen, and it drew the communes and greenways.
    assert page.evaluate("document.querySelector('.leaflet-container').classList.contains('artois-local-base')")
    page.wait_for_selector(".leaflet-artoisBase-pane path", state="attached")
    page.wait_for_selector(".leaflet-artoisLines-pane path", state="attached")
    assert page.locator(".leaflet-control-scale").count() == 1
    page.wait_for_function("document.querySelectorAll('#artois-legend .artois-legend-block').length >= 2")
    desktop.screenshot("map_desktop_open")
    assert desktop.console_errors == []
    assert desktop.external_requests() == []
    assert any("/ogc/collections/parks/items" in u for u in desktop.requests)


def test_address_search_opens_roof_panel_with_api_figures(
    desktop: Session, server: str, sample_address: dict[str, Any], api: httpx.Client
) -> None:
    _load(desktop, server)
    page = desktop.page
    _search(desktop, sample_address["address"])
    building, faces = _roof_parts(sample_address["roof"])
    kwh_api = building.get("reco_production_kwh_yr", building.get("production_kwh_yr"))
    shown = page.locator("#artois-reco-kwh")
    assert float(shown.get_attribute("data-value") or "nan") == pytest.approx(kwh_api, abs=1e-6)
    assert _number(shown.inner_text()) == pytest.approx(round(kwh_api), abs=0.5)
    assert _number(page.locator("#artois-reco-kwp").inner_text()) == pytest.approx(building["reco_kwp"], abs=0.051)
    # One row per face, with that face's kWh.
    rows = page.locator("#artois-faces tbody tr")
    assert rows.count() == len(faces)
    by_id = {f["face_id"]: f for f in faces}
    for i in range(rows.count()):
        row = rows.nth(i)
        face = by_id[row.get_attribute("data-face-id")]
        kwh = row.locator("td.face-kwh")
        assert float(kwh.get_attribute("data-value") or "nan") == pytest.approx(face["production_kwh_yr"])
        assert _number(kwh.inner_text()) == pytest.approx(round(face["production_kwh_yr"]), abs=0.5)
        where = row.locator("td.face-orientation").inner_text()
        assert where.startswith("toit plat" if face.get("is_flat") else face["orientation"])
        assert f"{round(face['tilt_deg'])}°" in where
        assert row.locator("td.face-class").inner_text().lower().startswith(face["suitability"][:3])
    # Monthly chart: 12 bars summing to the figure they show.
    bars = page.locator("#artois-chart rect.bar")
    assert bars.count() == 12
    assert page.locator("#artois-roof-class .artois-badge").inner_text()
    assert page.locator("#artois-eco-payback").inner_text() != "–"
    assumptions = page.locator("#artois-assumptions").text_content() or ""
    assert "Météo" in assumptions and "€/kWh" in assumptions
    # The roof faces are drawn as vector tiles around the address, and the building is outlined.
    page.wait_for_selector(".leaflet-artoisRoofs-pane path", state="attached")
    page.wait_for_selector(".leaflet-artoisSelection-pane path", state="attached")
    desktop.screenshot("map_desktop_roof")
    assert desktop.console_errors == []
    assert desktop.external_requests() == []


def test_consumption_change_updates_economics_and_prints(
    desktop: Session, server: str, sample_address: dict[str, Any], api: httpx.Client
) -> None:
    _load(desktop, server)
    page = desktop.page
    _search(desktop, sample_address["address"])
    building, _ = _roof_parts(sample_address["roof"])
    # Another household consumption: the economics shown are those /api/simulate returns for it.
    page.fill("#artois-consumption-input", "9000")
    with page.expect_response(lambda r: r.url.endswith("/api/simulate")) as answer:
        page.click("#artois-consumption button[type=submit]")
    response = answer.value
    assert response.status == 200, response.text()
    sent = response.request.post_data_json
    assert sent["building_id"] == building["building_id"] and 9000 in sent.values()
    page.wait_for_function("document.querySelector('#artois-message').textContent.includes('recalculées')")
    again = api.post("/api/simulate", json=sent)
    assert again.status_code == 200 and again.json() == response.json()
    eco = again.json().get("economics", again.json())
    savings = eco.get("savings_eur_yr", eco.get("reco_savings_eur_yr"))
    before = building.get("reco_savings_eur_yr")
    assert float(page.locator("#artois-eco-savings").get_attribute("data-value") or "nan") == pytest.approx(savings)
    assert savings != before, "a much larger consumption should change the savings"
    # The printable view: the panel alone, without the map and the controls.
    report = page.locator("#artois-report")
    assert report.get_attribute("href") != "#" or report.inner_text() == "Imprimer cette fiche"
    page.emulate_media(media="print")
    assert not page.locator(".folium-map").is_visible()
    assert not page.locator("#artois-search").is_visible()
    assert page.locator("#artois-reco-kwh").is_visible() and page.locator("#artois-faces").is_visible()
    desktop.screenshot("map_desktop_print")
    page.emulate_media(media="screen")
    assert desktop.console_errors == []
    assert desktop.external_requests() == []


def test_click_on_a_roof_opens_the_panel(desktop: Session, server: str, sample_address: dict[str, Any]) -> None:
    _load(desktop, server)
    page = desktop.page
    g = sample_address["geocoded"]
    _view(desktop, g["lat"], g["lon"], 19)
    # The roof faces are drawn there (vector tiles) and take the click.
    _click_map(desktop, g["lat"], g["lon"], "artoisRoofs")
    page.wait_for_selector("#artois-roof:not([hidden])")
    building, _ = _roof_parts(sample_address["roof"])
    page.wait_for_function("document.querySelector('#artois-reco-kwh').dataset.value !== ''")
    shown = float(page.locator("#artois-reco-kwh").get_attribute("data-value") or "nan")
    assert shown == pytest.approx(building.get("reco_production_kwh_yr", building.get("production_kwh_yr")))
    assert page.locator("#artois-roof-title").inner_text() == (building.get("address") or f"Bâtiment {building['building_id']}")
    assert desktop.console_errors == []


def test_click_beside_the_roofs_says_so_quietly(desktop: Session, server: str, api: httpx.Client) -> None:
    """A click where there is no building says so in the panel, without a failed request in the console."""
    _load(desktop, server)
    page = desktop.page
    buildings = _features(api, "buildings")
    assert buildings, "the sample has no building"
    around = box(*unary_union([shape(f["geometry"]) for f in buildings]).bounds)
    spot = _clear_point(around, api, ("buildings", "parks", "greenways"))
    # The API confirms there is no building there.
    assert api.get("/api/roof", params={"lon": spot.x, "lat": spot.y}).status_code == 404
    _view(desktop, spot.y, spot.x, 18)
    _click_map(desktop, spot.y, spot.x, "map")
    page.wait_for_function("document.querySelector('#artois-message').textContent.includes('Aucun bâtiment')")
    assert page.locator("#artois-message").is_visible()
    assert page.locator("#artois-roof").is_hidden()
    assert desktop.console_errors == []
    # The page knew it without asking /api/roof (whose 404 the browser would log as an error).
    assert not any("/api/roof" in u for u in desktop.requests)


def test_route_between_two_parks(desktop: Session, server: str, api: httpx.Client) -> None:
    parks = api.get("/ogc/collections/parks/items", params={"limit": 1000}).json()["features"]
    ids = [p["properties"]["park_id"] for p in parks]
    assert len(ids) >= 2, "the sample needs two parks"
    pair, expected = None, None
    for a in ids:
        for b in ids:
            if a != b:
                r = api.get("/api/parks/route", params={"from": a, "to": b})
                if r.status_code == 200:
                    pair, expected = (a, b), r.json()
                    break
        if pair:
            break
    assert pair and expected, "no two parks of the sample are linked by a route"
    _load(desktop, server)
    page = desktop.page
    page.click("#artois-tab-parcs")
    page.select_option("#artois-route-from", str(pair[0]))
    page.select_option("#artois-route-to", str(pair[1]))
    page.click("#artois-route button[type=submit]")
    page.wait_for_selector(".artois-route-line", state="attached")
    result = page.locator("#artois-route-result")
    props = expected.get("properties", expected)
    length = props.get("length_m", props.get("distance_m"))
    assert float(result.get_attribute("data-length-m") or "nan") == pytest.approx(length)
    text = result.inner_text()
    assert "km" in text and "min" in text and "voies vertes" in text
    # The same route picked on the map: "départ" and "arrivée" in the two parks' popups. Each park is
    # clicked where no roof, line or route is drawn above it (those would take the click).
    page.select_option("#artois-route-from", str(pair[1]))  # the popups must set both ends again
    page.select_option("#artois-route-to", str(pair[0]))
    page.click("#artois-tab-toit")
    route_lines = [shape(f["geometry"]) for f in (expected["features"] if expected.get("type") == "FeatureCollection"
                                                  else [expected]) if f.get("geometry")]
    by_id = {p["properties"]["park_id"]: p for p in parks}
    for end, park_id in (("from", pair[0]), ("to", pair[1])):
        park = shape(by_id[park_id]["geometry"])
        if route_lines:
            park = park.difference(unary_union(route_lines).buffer(1.5e-4))
        spot = _clear_point(park, api, ("buildings", "greenways", "gaps"))
        _view(desktop, spot.y, spot.x, 17)
        _click_map(desktop, spot.y, spot.x, "artoisParks")
        button = f".leaflet-popup [data-route-end={end}][data-park='{park_id}']"
        page.wait_for_selector(button)
        if end == "to":
            with page.expect_response(lambda r: "/api/parks/route?" in r.url) as answer:
                page.click(button)
            assert answer.value.status == 200
            query = answer.value.url.split("?", 1)[1]
            assert f"from={pair[0]}" in query and f"to={pair[1]}" in query, query
        else:
            page.click(button)
        page.wait_for_function(f"document.querySelector('#artois-route-{end}').value === '{park_id}'")
        page.wait_for_selector(".leaflet-popup", state="detached")
    page.wait_for_function(f"Number(document.querySelector('#artois-route-result').dataset.lengthM) === {length}")
    assert page.locator("#artois-pane-parcs").is_visible()
    assert page.locator(".artois-route-line").count() >= 1
    assert "Aucun bâtiment" not in page.locator("#artois-message").inner_text()  # the click was the park's, not a roof lookup
    # The planner's other tools: a park's service area, the ranked gaps list.
    page.click("#artois-service-toggle")
    page.wait_for_selector("#artois-service-toggle:text('Masquer la zone')")
    page.wait_for_selector(".leaflet-artoisAreas-pane path", state="attached")
    gaps = api.get("/ogc/collections/gaps/items", params={"limit": 1000}).json()["features"]
    assert page.locator("#artois-gaps li").count() == max(len(gaps), 1)
    desktop.screenshot("map_desktop_route")
    assert desktop.console_errors == []
    assert desktop.external_requests() == []


def test_every_overlay_draws_without_error(desktop: Session, server: str) -> None:
    _load(desktop, server)
    page = desktop.page
    page.hover(".leaflet-control-layers")
    boxes = page.locator(".leaflet-control-layers-overlays input[type=checkbox]")
    for i in range(boxes.count()):
        if not boxes.nth(i).is_checked():
            boxes.nth(i).check()
    page.wait_for_selector(".leaflet-artoisChoropleth-pane path", state="attached")
    page.wait_for_selector(".leaflet-artoisRaster-pane img.leaflet-tile-loaded", state="attached")
    page.wait_for_selector(".leaflet-artoisAreas-pane path", state="attached")
    # The legend has every layer's block once their data have come ("chargement…" until then).
    page.wait_for_function("""() => { const t = document.querySelector('#artois-legend').innerText;
        return !t.includes('chargement') && ['MWh/an', '%', 'kWh/m²/an'].every(u => t.includes(u)); }""")
    legend = page.locator("#artois-legend").inner_text()
    assert "non servies" not in legend and "indisponible" not in legend
    page.mouse.move(5, 400)
    desktop.screenshot("map_desktop_all_layers")
    assert desktop.console_errors == []
    assert desktop.external_requests() == []
    # Online base maps are offered, and only they reach the internet (refused here).
    page.hover(".leaflet-control-layers")
    with page.expect_request(lambda r: urlparse(r.url).hostname == "data.geopf.fr"):
        page.locator(".leaflet-control-layers-base label", has_text="Plan IGN").click()
    assert any(urlparse(u).hostname == "data.geopf.fr" for u in desktop.external_requests())


def test_phone_viewport_shows_the_panel(phone: Session, server: str, sample_address: dict[str, Any]) -> None:
    _load(phone, server)
    page = phone.page
    phone.screenshot("map_phone_open")
    _search(phone, sample_address["address"])
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page scrolls sideways on a phone"
    panel = page.locator("#artois-panel").bounding_box()
    map_box = page.locator(".folium-map").bounding_box()
    assert panel and map_box
    assert panel["width"] == pytest.approx(390, abs=1) and panel["y"] + panel["height"] <= 844 + 1
    assert map_box["height"] >= 250, "the map is too small next to the panel"
    assert map_box["y"] + map_box["height"] <= panel["y"] + 1, "the panel covers the map"
    kwh = page.locator("#artois-reco-kwh")
    kwh.scroll_into_view_if_needed()
    assert kwh.is_visible()
    kb = kwh.bounding_box()
    assert kb and kb["x"] >= 0 and kb["x"] + kb["width"] <= 390
    phone.screenshot("map_phone_roof")
    # The sheet folds away to give the map the screen, and back.
    page.click("#artois-panel-toggle")
    page.wait_for_function("document.querySelector('.folium-map').getBoundingClientRect().height > "
                           f"{map_box['height'] + 200}")
    folded = page.locator(".folium-map").bounding_box()
    assert folded and folded["height"] > map_box["height"] + 200
    phone.screenshot("map_phone_folded")
    assert phone.console_errors == []
    assert phone.external_requests() == []


def test_recorder_sees_and_refuses_external_requests(desktop: Session) -> None:
    """The request recorder the other tests rely on does see a request leaving the machine."""
    with desktop.page.expect_request("http://example.invalid/x.png"):
        desktop.page.set_content("<img src='http://example.invalid/x.png'>")
    assert desktop.external_requests() == ["http://example.invalid/x.png"]
