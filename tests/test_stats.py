"""Statistics pages (/statistiques, /statistiques/{code}) and the planner's scenario in the map.

HTTP: the page's and the CSV's figures equal the built layers read with pyogrio (communes_solar,
communes_access), the agglomeration's equal its communes' sums, the priority population equals a hand
areal split of the priority cells, downloads are real CSV / GeoPackage files; unknown code → 404.
Browser (Debian chromium, the fixtures of tests/test_map_browser.py): the statistics page and the map's
scenario with zero console errors; screenshots in artefacts/ (look at them).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
import pytest
from fastapi.testclient import TestClient
from test_map_browser import CHROMIUM, _load, desktop, map_data, playwright_instance, server  # noqa: F401

EPCI = "246200364"


@pytest.fixture(scope="module")
def built(built_dir: Path) -> Iterator[TestClient]:
    from api.app import create_app
    from api.settings import Settings

    with TestClient(create_app(Settings(data_dir=built_dir))) as c:
        yield c


def _csv(content: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(content), sep=";", encoding="utf-8-sig", dtype={"code": str, "epci_siren": str})


def test_csv_equals_the_layers_and_sums(built: TestClient, built_dir: Path) -> None:
    solar = pyogrio.read_dataframe(built_dir / "rooftops.gpkg", layer="communes_solar").set_index("code")
    access = pyogrio.read_dataframe(built_dir / "parks.gpkg", layer="communes_access").set_index("code")
    r = built.get("/statistiques.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    t = _csv(r.content).set_index("code")
    assert set(t.index) == set(solar.index) | set(access.index)
    for code in t.index:
        assert t.at[code, "production_mwh_yr"] == pytest.approx(solar.at[code, "production_mwh_yr"], rel=1e-9)
        assert t.at[code, "n_buildings"] == solar.at[code, "n_buildings"]
        assert t.at[code, "population_within_10min"] == pytest.approx(access.at[code, "population_within_10min"])
    communes = t[t["level"] == "commune"]
    for col in ("n_buildings", "kwp", "production_mwh_yr", "population", "population_within_300m"):
        assert t.at[EPCI, col] == pytest.approx(communes[col].sum(), rel=1e-9), col
    # the buildings layer counted per commune (an independent path to n_buildings)
    b = pyogrio.read_dataframe(built_dir / "rooftops.gpkg", layer="buildings", columns=["code_insee"],
                               read_geometry=False)
    assert communes["n_buildings"].to_dict() == b["code_insee"].value_counts().to_dict()


def test_priority_population_by_hand(built: TestClient, built_dir: Path) -> None:
    cells = pyogrio.read_dataframe(built_dir / "parks.gpkg", layer="access_cells")
    communes = pyogrio.read_dataframe(built_dir / "parks.gpkg", layer="communes_access")
    prio = cells[cells["priority_rank"].notna()]
    t = _csv(built.get("/statistiques.csv").content).set_index("code")
    for row in communes.itertuples():
        share = prio.geometry.intersection(row.geometry).area / prio.geometry.area
        expected = float(((prio["population"] - prio["population_within_10min"]) * share).sum())
        assert t.at[row.code, "priority_population"] == pytest.approx(expected, abs=1e-6)


def test_pages_and_downloads(built: TestClient, tmp_path: Path) -> None:
    page = built.get(f"/statistiques/{EPCI}")
    assert page.status_code == 200 and '<html lang="fr">' in page.text
    assert page.text.count('<svg class="chart"') == 2 and "http://" not in page.text.replace("http://www.w3", "")
    for code in ("62498", "62528"):
        assert f'href="/statistiques/{code}"' in page.text
    assert built.get("/statistiques/62498").status_code == 200
    gpkg = built.get(f"/statistiques/{EPCI}.gpkg")
    assert gpkg.headers["content-type"] == "application/geopackage+sqlite3"
    path = tmp_path / "s.gpkg"
    path.write_bytes(gpkg.content)
    gdf = pyogrio.read_dataframe(path, layer="statistiques")
    assert sorted(gdf["code"]) == sorted([EPCI, "62498", "62528"]) and gdf.crs.to_epsg() == 2154
    assert gdf.geometry.notna().all()
    assert built.get("/statistiques/99999").status_code == 404
    assert built.get("/statistiques/a b").status_code in (404, 422)


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (install it: make browser)")
def test_statistics_page_in_chromium(desktop: Any, server: str) -> None:  # noqa: F811
    p = desktop.page
    p.goto(server + f"/statistiques/{EPCI}", wait_until="networkidle")
    assert p.locator("#stats-table tbody tr").count() == 3
    assert p.locator("svg.chart rect.bar").count() == 4
    p.get_by_role("link", name="Tout le territoire").click()
    p.wait_for_url(server + "/statistiques")
    p.wait_for_load_state("networkidle")
    assert desktop.console_errors == []
    assert desktop.external_requests() == []
    p.goto(server + f"/statistiques/{EPCI}", wait_until="networkidle")
    desktop.screenshot("statistiques")


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (install it: make browser)")
def test_scenario_in_the_map(desktop: Any, server: str, map_data: Path) -> None:  # noqa: F811
    gaps = pyogrio.read_dataframe(map_data / "parks.gpkg", layer="gaps")
    assert len(gaps)
    p = desktop.page
    _load(desktop, server)
    p.click("#artois-tab-parcs")
    p.wait_for_selector("#artois-scenario-gaps input[type=checkbox]")
    p.check(f"#artois-scenario-gaps input[value='{int(gaps['gap_id'].iloc[0])}']")
    p.click("#artois-scenario-run")
    p.wait_for_selector("#artois-scenario-result[data-newly-linked]")
    shown = float(p.get_attribute("#artois-scenario-result", "data-newly-linked") or "nan")
    assert shown == pytest.approx(float(gaps["population_newly_linked"].iloc[0]), abs=1e-6)
    assert p.is_visible("#artois-scenario-download")
    with p.expect_download() as dl:
        p.click("#artois-scenario-download")
    body = Path(dl.value.path()).read_text()
    assert '"FeatureCollection"' in body and '"population_newly_linked"' in body
    # draw a path with three clicks on the map, then compute it
    p.click("#artois-scenario-clear")
    p.click("#artois-scenario-draw")
    # three points east of the view's centre, as Leaflet map clicks (a real mouse click there may land on a
    # park or roof layer that stops the event)
    p.evaluate("""() => { const m = Artois.map, c = m.getCenter();
        [0, 0.0008, 0.0016].forEach(d => m.fire('click', {latlng: L.latLng(c.lat + d / 3, c.lng + d)})); }""")
    assert p.text_content("#artois-scenario-points") == "3 point(s) tracé(s)"
    p.click("#artois-scenario-draw")
    p.click("#artois-scenario-run")
    p.wait_for_function("document.querySelector('#artois-scenario-result').textContent.indexOf('Calcul') < 0")
    assert desktop.console_errors == [], desktop.console_errors
    desktop.screenshot("scenario")
