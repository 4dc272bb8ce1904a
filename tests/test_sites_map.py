"""The friches and APER car-park layers of the map, in headless Chromium (fixtures of test_map_browser)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from shapely.geometry import shape
from test_map_browser import (  # noqa: F401  (pytest fixtures, used by name)
    CHROMIUM,
    Session,
    _click_map,
    _load,
    _view,
    api,
    desktop,
    map_data,
    playwright_instance,
    server,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (install it: make browser)"),
]


def _show(page: Any, label: str) -> None:
    page.hover(".leaflet-control-layers")
    page.locator(".leaflet-control-layers-overlays label", has_text=label).locator("input").check()
    page.mouse.move(5, 400)


def test_car_parks_and_friches_layers(desktop: Session, server: str, api: httpx.Client) -> None:  # noqa: F811
    if "car_parks" not in {c["id"] for c in api.get("/ogc/collections").json()["collections"]}:
        pytest.skip("the served build has no sites.gpkg")
    gym = next(f for f in api.get("/ogc/collections/car_parks/items").json()["features"]
               if f["properties"]["car_park_id"] == "osm-w-102")
    x0, y0, x1, y1 = shape(gym["geometry"]).bounds
    lon, lat = (x0 + x1) / 2, y0 + 0.3 * (y1 - y0)  # south of the grass island in its middle
    _load(desktop, server)
    page = desktop.page
    _show(page, "Parkings")
    _show(page, "Friches")
    page.wait_for_selector(".leaflet-artoisParks-pane path.leaflet-interactive", state="attached")
    page.wait_for_function("() => !document.querySelector('#artois-legend').innerText.includes('chargement')")
    legend = page.locator("#artois-legend").inner_text()
    assert "loi APER" in legend and "exonéré : ombragé par des arbres" in legend and "01/07/2026" in legend
    assert "Solaire au sol" in legend and "terril" in legend and "non servies" not in legend
    _view(desktop, lat, lon, 18)
    _click_map(desktop, lat, lon, "artoisParks")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert "Parking du gymnase" in text and "concerné" in text and "avant le 01/07/2028" in text
    assert "kWc" in text and "MWh/an" in text and "Ombrières sur la moitié du parking" in text
    desktop.screenshot("map_sites_car_park_popup")
    assert desktop.console_errors == []
    assert desktop.external_requests() == []
