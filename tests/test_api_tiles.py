"""Tiles: MVT decoded back to features at the right place, PNG opened and its colours checked."""

from __future__ import annotations

import warnings
from pathlib import Path

import api_fixtures as fx
import mapbox_vector_tile
import morecantile
import numpy as np
import pytest
import shapely
from api_fixtures import api_build, client  # noqa: F401
from fastapi.testclient import TestClient
from pyproj import Transformer
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rio_tiler.colormap import cmap

from geo import config

TMS = morecantile.tms.get("WebMercatorQuad")
L93_TO_WGS = Transformer.from_crs(fx.CRS, "EPSG:4326", always_xy=True)
L93_TO_MERC = Transformer.from_crs(fx.CRS, "EPSG:3857", always_xy=True)
WGS_TO_L93 = Transformer.from_crs("EPSG:4326", fx.CRS, always_xy=True)


def _tile_of_l93(x: float, y: float, z: int) -> morecantile.Tile:
    lon, lat = L93_TO_WGS.transform(x, y)
    return TMS.tile(lon, lat, z)


def test_vector_tile_roof_faces_decoded(client: TestClient) -> None:  # noqa: F811
    houses = fx.make_rooftops()["roof_faces"]
    x0, y0 = fx.house_origin(0, 0)
    t = _tile_of_l93(x0 + 5, y0 + 2, 18)
    r = client.get(f"/tiles/roof_faces/{t.z}/{t.x}/{t.y}.pbf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    tile = mapbox_vector_tile.decode(r.content)
    layer = tile["roof_faces"]
    assert layer["extent"] == config.TILE_MVT_EXTENT
    # expected features: the faces intersecting the tile (plus buffer), computed with shapely in Web Mercator
    b = TMS.xy_bounds(t)
    pad = (b.right - b.left) * config.TILE_MVT_BUFFER / config.TILE_MVT_EXTENT
    merc = shapely.transform(houses.geometry.values, lambda xy: np.column_stack(L93_TO_MERC.transform(*xy.T)))
    expected = set(houses.face_id[shapely.intersects(merc, shapely.box(b.left - pad, b.bottom - pad,
                                                                        b.right + pad, b.top + pad))])
    got = {f["properties"]["face_id"] for f in layer["features"]}
    assert got == expected and len(got) >= 2
    feat = next(f for f in layer["features"] if f["properties"]["face_id"] == fx.building_id(0, 0) + "-1")
    props = feat["properties"]
    assert props["suitability"] == "excellent" and props["orientation"] == "sud"
    assert props["irradiation_kwh_m2_yr"] == pytest.approx(1000.0)
    assert set(props) >= {"face_id", "building_id", "suitability", "irradiation_kwh_m2_yr"}
    assert isinstance(feat["id"], int)
    # the face's south-west corner, quantised independently to the tile grid (y up, as decode returns it)
    mx, my = L93_TO_MERC.transform(x0, y0)
    ex = (mx - b.left) / (b.right - b.left) * config.TILE_MVT_EXTENT
    ey = (my - b.bottom) / (b.top - b.bottom) * config.TILE_MVT_EXTENT
    ring = np.array(feat["geometry"]["coordinates"][0], dtype=float)
    assert np.min(np.hypot(ring[:, 0] - ex, ring[:, 1] - ey)) <= 1.5


def test_vector_tiles_other_layers(client: TestClient) -> None:  # noqa: F811
    t = _tile_of_l93(fx.X0 + 240, fx.Y0 + 70, 16)  # the greenway's middle
    gw = mapbox_vector_tile.decode(client.get(f"/tiles/greenways/{t.z}/{t.x}/{t.y}.pbf").content)["greenways"]
    assert gw["features"][0]["geometry"]["type"] == "LineString"
    assert gw["features"][0]["properties"]["in_loop"] is False
    for nom, (px, py) in (("Parc des Cytises", (fx.X0 + 50, fx.Y0 + 70)), ("Base 11/19", (fx.X0 + 440, fx.Y0 + 70))):
        t = _tile_of_l93(px, py, 17)
        parks = mapbox_vector_tile.decode(client.get(f"/tiles/parks/{t.z}/{t.x}/{t.y}.pbf").content)["parks"]
        feat = next(f for f in parks["features"] if f["properties"]["nom"] == nom)
        assert feat["properties"]["ensemble"] == nom and feat["geometry"]["type"] == "Polygon"


def test_vector_tile_statuses(client: TestClient) -> None:  # noqa: F811
    # between two rows of houses: inside the layer's extent, nothing to draw -> 204
    x0, y0 = fx.house_origin(1, 1)
    t = _tile_of_l93(x0 + 5, y0 - 15, 21)
    assert client.get(f"/tiles/roof_faces/{t.z}/{t.x}/{t.y}.pbf").status_code == 204
    # below the layer's minimum zoom -> 204
    t = _tile_of_l93(x0, y0, config.TILE_MIN_ZOOM["roof_faces"] - 1)
    assert client.get(f"/tiles/roof_faces/{t.z}/{t.x}/{t.y}.pbf").status_code == 204
    # far away -> 404; non-existent tile index -> 404; malformed -> 422; unknown layer -> 404
    for url, status in (("/tiles/roof_faces/16/0/0.pbf", 404), ("/tiles/roof_faces/3/8/1.pbf", 404),
                        ("/tiles/roof_faces/23/0/0.pbf", 422), ("/tiles/roof_faces/a/0/0.pbf", 422),
                        ("/tiles/nope/16/0/0.pbf", 404)):
        r = client.get(url)
        assert r.status_code == status, url
        assert r.headers["content-type"].startswith("application/json")


def _png_rgba(content: bytes) -> np.ndarray:
    with warnings.catch_warnings(), MemoryFile(content) as mem, mem.open() as ds:
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        assert ds.driver == "PNG"
        return ds.read()


def test_irradiation_png_colours(client: TestClient) -> None:  # noqa: F811
    lut = cmap.get(config.IRRADIATION_COLORMAP)
    palette = np.array([lut[i][:3] for i in range(256)], dtype=float)
    t = _tile_of_l93(fx.X0 + 250, fx.Y0 + 250, 17)
    r = client.get(f"/tiles/irradiation/{t.z}/{t.x}/{t.y}.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    img = _png_rgba(r.content)
    assert img.shape == (4, 256, 256)
    b = TMS.xy_bounds(t)
    merc_to_l93 = Transformer.from_crs("EPSG:3857", fx.CRS, always_xy=True)
    checked = 0
    for row, col in ((40, 40), (128, 128), (200, 60), (100, 230)):
        mx = b.left + (col + 0.5) / 256 * (b.right - b.left)
        my = b.top - (row + 0.5) / 256 * (b.top - b.bottom)
        x, y = merc_to_l93.transform(mx, my)
        if not (fx.X0 < x < fx.X0 + fx.SIZE and fx.Y0 + 30 < y < fx.Y0 + fx.SIZE):
            continue
        value = fx.irradiance_band1(np.floor((x - fx.X0) / 0.5))
        vmin, vmax = config.IRRADIATION_RANGE_KWH_M2_YR
        expected_idx = np.clip((value - vmin) / (vmax - vmin) * 255, 0, 255)
        rgb = img[:3, row, col].astype(float)
        got_idx = int(np.argmin(((palette - rgb) ** 2).sum(axis=1)))
        assert abs(got_idx - expected_idx) <= 3, (row, col, value, got_idx, expected_idx)
        assert img[3, row, col] == 255
        checked += 1
    assert checked >= 3
    # west is darker than east (irradiation rises eastwards)
    assert img[:3, 128, 10].sum() < img[:3, 128, 245].sum()


def test_irradiation_png_nodata_and_statuses(client: TestClient) -> None:  # noqa: F811
    # the south 25 m are nodata: a z22 tile (~6 m) inside that stripe is empty -> 204
    t = _tile_of_l93(fx.X0 + 250, fx.Y0 + 12, 22)
    assert client.get(f"/tiles/irradiation/{t.z}/{t.x}/{t.y}.png").status_code == 204
    # a tile across the stripe's edge is partly transparent
    t = _tile_of_l93(fx.X0 + 250, fx.Y0 + 25, 19)
    img = _png_rgba(client.get(f"/tiles/irradiation/{t.z}/{t.x}/{t.y}.png").content)
    assert (img[3] == 0).any() and (img[3] == 255).any()
    assert client.get("/tiles/irradiation/16/0/0.png").status_code == 404
    assert client.get("/tiles/irradiation/25/0/0.png").status_code == 422


def test_legend(client: TestClient) -> None:  # noqa: F811
    lg = client.get("/tiles/irradiation/legend").json()
    assert lg["unit"] == "kWh/m²/an"
    lut = cmap.get(config.IRRADIATION_COLORMAP)
    values = [s["value"] for s in lg["stops"]]
    assert values == sorted(values) and values[0] == lg["min"] and values[-1] == lg["max"]
    assert lg["stops"][0]["color"] == "#{:02x}{:02x}{:02x}".format(*lut[0][:3])
    assert lg["stops"][-1]["color"] == "#{:02x}{:02x}{:02x}".format(*lut[255][:3])
    img = _png_rgba(client.get("/tiles/irradiation/legend.png").content)
    assert tuple(img[:3, 0, 0]) == tuple(lut[0][:3]) and tuple(img[:3, 0, -1]) == tuple(lut[255][:3])


def test_tile_cache_serves_the_same_bytes(client: TestClient, api_build: Path) -> None:  # noqa: F811
    x0, y0 = fx.house_origin(2, 2)
    t = _tile_of_l93(x0, y0, 17)
    cache = client.app.state.tile_cache  # type: ignore[attr-defined]
    first = client.get(f"/tiles/buildings/{t.z}/{t.x}/{t.y}.pbf").content
    hits = cache.hits
    assert client.get(f"/tiles/buildings/{t.z}/{t.x}/{t.y}.pbf").content == first
    assert cache.hits == hits + 1
