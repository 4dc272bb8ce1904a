"""The map page and its assets, without a browser: what the HTML links to, what the router serves.

The page is checked for what would break it offline (a link to a CDN, jQuery that folium adds by
default) and the static route for what would leak files (paths leaving the asset folders).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.map import assets
from api.map.page import API_URLS, build_map, build_map_page, page_settings
from api.map.routes import router
from geo import config


class _Links(HTMLParser):
    """Every script src, stylesheet/icon href and inline script of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.links: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            self._in_script = True
            if a.get("src"):
                self.scripts.append(str(a["src"]))
        if tag == "link" and a.get("href"):
            self.links.append(str(a["href"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(data)


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.include_router(router)
    return TestClient(app)


@pytest.fixture(scope="module")
def links() -> _Links:
    parser = _Links()
    parser.feed(build_map_page())
    return parser


def test_page_links_only_local_assets(links: _Links) -> None:
    assert links.scripts == [
        "/static/leaflet/leaflet.js",
        "/static/vectorgrid/Leaflet.VectorGrid.bundled.min.js",
        "/static/map/artois-map.js",
        "/static/map/artois-sites.js",
        "/static/map/artois-planner.js",
    ]
    assert set(links.links) == {"/static/leaflet/leaflet.css", "/static/map/artois-map.css", "data:,"}


def test_page_has_no_folium_cdn_defaults() -> None:
    html = build_map_page()
    for host in ("cdn.jsdelivr.net", "code.jquery.com", "cdnjs.cloudflare.com", "netdna.bootstrapcdn.com",
                 "unpkg.com", "bootstrap", "font-awesome", "awesome-markers"):
        assert host not in html, host
    # The only absolute URLs are the online base maps of the config, which are not shown at start.
    urls = {u.replace("\\u0026", "&") for u in re.findall(r"https?://[^\"'\s]+", html)}
    allowed = {str(b["url"]) for b in config.MAP_ONLINE_BASEMAPS}
    assert urls <= allowed, urls - allowed


def test_page_is_french_and_phone_ready() -> None:
    html = build_map_page()
    assert '<meta name="viewport" content="width=device-width' in html
    assert "Rechercher une adresse" in html and "Tracer l'itinéraire" in html
    assert f'value="{round(config.HOUSEHOLD_CONSUMPTION_KWH_YR)}"' in html  # default consumption = the API's


def test_layers_in_control_and_default_base_is_offline() -> None:
    fmap = build_map()
    html = fmap.get_root().render()
    layer_control = re.search(r"base_layers : \{(.*?)\},\s*overlays :\s*\{(.*?)\},", html, re.S)
    assert layer_control, "no layer control"
    bases = [json.loads(n) for n in re.findall(r'("[^"]+") :', layer_control.group(1))]
    overlays = [json.loads(n) for n in re.findall(r'("[^"]+") :', layer_control.group(2))]
    assert bases == ["Fond local (hors ligne)"] + [str(b["name"]) for b in config.MAP_ONLINE_BASEMAPS]
    assert len(overlays) == 11  # with the friches and the APER car parks (artois-sites.js)
    assert any("MWh/an" in o for o in overlays) and any("kWh/m²/an" in o for o in overlays)
    # Only the offline base map is added to the map at start; every online one waits for the user.
    for name in bases[1:]:
        var = re.search(re.escape(json.dumps(name)) + r" : (\w+),", html)
        assert var and f"{var.group(1)}.addTo(" not in html, name
    local = re.search(r'"Fond local \(hors ligne\)" : (\w+),', html)
    assert local and f"{local.group(1)}.addTo(" in html


def test_setup_before_layers_and_start_last(links: _Links) -> None:
    script = "\n".join(links.inline)
    i_setup, i_start = script.index("Artois.setup("), script.index("Artois.start(")
    i_layers = [m.start() for m in re.finditer(r"Artois\.layers\[", script)]
    i_control = script.index("L.control.layers(")
    assert i_setup < min(i_layers) and max(i_layers) < i_control < i_start


def test_suitability_explanations_follow_the_thresholds() -> None:
    text = {c["value"]: c["explanation"] for c in page_settings()["suitability"]}
    assert set(text) == set(config.MAP_SUITABILITY_COLOURS)
    ordered = [name for name, _ in config.SUITABILITY_THRESHOLDS]
    top = ordered[0]
    assert f"au moins {round(dict(config.SUITABILITY_THRESHOLDS)[top] * 100)}\u00a0%" in text[top]
    lowest = round(config.SUITABILITY_THRESHOLDS[-1][1] * 100)
    assert f"moins de {lowest}\u00a0%" in text[config.SUITABILITY_UNSUITABLE]
    assert str(config.SUITABLE_MIN_MODULES) in text[config.SUITABILITY_UNSUITABLE]
    classes = [c["value"] for c in page_settings()["suitability"]]
    assert classes == [*ordered, config.SUITABILITY_UNSUITABLE]


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/static/leaflet/leaflet.js", "javascript"),
        ("/static/leaflet/leaflet.css", "css"),
        ("/static/leaflet/images/layers.png", "image/png"),
        ("/static/vectorgrid/Leaflet.VectorGrid.bundled.min.js", "javascript"),
        ("/static/map/artois-map.js", "javascript"),
        ("/static/map/artois-sites.js", "javascript"),
        ("/static/map/artois-map.css", "css"),
    ],
)
def test_static_assets_served(client: TestClient, path: str, kind: str) -> None:
    if "vectorgrid" in path and assets.asset_roots()["vectorgrid"] is None:
        pytest.fail("Leaflet.VectorGrid is not installed: run 'make js'")
    r = client.get(path)
    assert r.status_code == 200, r.text
    assert kind in r.headers["content-type"]
    assert r.headers["cache-control"].startswith("public")
    library, name = path.split("/", 3)[2:]
    assert r.content == assets.resolve_asset(library, name).read_bytes()


def test_vectorgrid_is_the_pinned_version() -> None:
    lock = json.loads((assets.MAP_DIR / "package-lock.json").read_text())
    pinned = lock["packages"]["node_modules/leaflet.vectorgrid"]["version"]
    installed = assets.NODE_MODULES_DIR / "leaflet.vectorgrid" / "package.json"
    assert installed.is_file(), "run 'make js'"
    assert json.loads(installed.read_text())["version"] == pinned


@pytest.mark.parametrize(
    "path",
    [
        "/static/map/../assets.py",
        "/static/map/%2e%2e/assets.py",
        "/static/map/..%2fassets.py",
        "/static/leaflet/../../../../../etc/passwd",
        "/static/nope/leaflet.js",
        "/static/map/absent.js",
        "/static/map/",
    ],
)
def test_static_route_refuses_escapes_and_unknowns(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404
    assert "def resolve_asset" not in r.text and "root:" not in r.text  # no file content leaked


def test_page_route(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.text == build_map_page()


def test_api_urls_exist_in_the_app(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every API path the page calls is a route of the Layer API (contract between the two)."""
    from api_fixtures import make_build

    from api.app import create_app
    from api.settings import Settings

    app = create_app(Settings(data_dir=make_build(tmp_path_factory.mktemp("api_build"))))
    paths = set(app.openapi()["paths"])
    sample = {"collection": "parks", "z": "1", "x": "0", "y": "0"}
    for name, template in API_URLS.items():
        concrete = template.format(**sample)
        ok = any(re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", p), concrete) for p in paths)
        assert ok, f"{name}: {template} is not served by api.app (routes: {sorted(paths)})"
    assert "/" in paths and any(p.startswith("/static/") for p in paths), "the map router is not included"
