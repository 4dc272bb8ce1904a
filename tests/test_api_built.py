"""The API on the real build of the small sample (session fixture ``built_dir``: the whole pipeline).

Every route must answer 200 with real content, checked against the built layers read independently
(pyogrio, rasterio) and the sample's BAN file: a stage that did not build fails here, it is not skipped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import mapbox_vector_tile
import morecantile
import numpy as np
import pyogrio
import pytest
import rasterio
import shapely
from fastapi.testclient import TestClient
from PIL import Image
from pyproj import Transformer
from rio_tiler.colormap import cmap

from api.app import create_app
from api.settings import Settings
from geo import config
from geo.products.tiles import TILE_LAYERS

TMS = morecantile.tms.get("WebMercatorQuad")
BUILT = ("rooftops.gpkg", "parks.gpkg", "irradiance.vrt")


@pytest.fixture(scope="module")
def built(built_dir: Path, sample_dir: Path) -> Iterator[tuple[TestClient, Path, Path]]:
    missing = [name for name in BUILT if not (built_dir / name).is_file()]
    assert not missing, f"the pipeline did not build {', '.join(missing)}"
    addresses = next((sample_dir / "rooftops").glob("adresses-*.csv"))
    with TestClient(create_app(Settings(data_dir=built_dir, addresses_path=addresses))) as c:
        yield c, built_dir, addresses


def _wgs84(crs: object) -> Transformer:
    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


def test_roof_lookup_and_simulation(built: tuple[TestClient, Path, Path]) -> None:
    client, d, _ = built
    bld = pyogrio.read_dataframe(d / "rooftops.gpkg", layer="buildings")
    faces = pyogrio.read_dataframe(d / "rooftops.gpkg", layer="roof_faces", read_geometry=False)
    to_wgs = _wgs84(bld.crs)
    checked = 0
    for i in range(0, len(bld), max(1, len(bld) // 10)):
        p = shapely.point_on_surface(bld.geometry.values[i])
        lon, lat = to_wgs.transform(p.x, p.y)
        r = client.get("/api/roof", params={"lon": lon, "lat": lat})
        assert r.status_code == 200, r.text
        body = r.json()
        bid = bld.building_id.iloc[i]
        props = body["building"]["properties"]
        assert props["building_id"] == bid
        assert props["kwp_max"] == pytest.approx(bld.kwp_max.iloc[i], rel=1e-9)
        expected = faces[faces.building_id == bid]
        assert {f["properties"]["face_id"] for f in body["faces"]} == set(expected.face_id)
        production = [f["properties"]["production_kwh_yr"] or 0.0 for f in body["faces"]]
        assert production == sorted(production, reverse=True)
        assert body["weather"]["source"] == bld.weather_source.iloc[i]
        checked += 1
    assert checked >= 5
    best = bld.sort_values("kwp_max", ascending=False).iloc[0]
    r = client.post("/api/simulate", json={"building_id": best.building_id, "annual_consumption_kwh": 4500})
    assert r.status_code == 200, r.text
    eco = r.json()["economics"]
    assert eco["production_kwh_yr"] > 0 and 0 <= eco["self_consumption_rate"] <= 1


def test_buildings_carry_the_parts_of_their_ban_address(built: tuple[TestClient, Path, Path]) -> None:
    """The address_* columns are the BAN file's fields of the building's address (read here with csv)."""
    _, d, addresses = built
    bld = pyogrio.read_dataframe(d / "rooftops.gpkg", layer="buildings", read_geometry=False)
    with addresses.open(encoding="utf-8") as f:
        ban = list(csv.DictReader(f, delimiter=";"))
    by_label = {" ".join(p for p in (r["numero"], r["rep"], r["nom_voie"], r["code_postal"], r["nom_commune"]) if p): r
                for r in ban}
    with_address = bld[bld.address.notna()]
    assert len(with_address) >= 0.5 * len(bld)
    for row in with_address.itertuples():
        src = by_label[row.address]
        assert (row.address_housenumber, row.address_street, row.address_postcode, row.address_city) == (
            src["numero"], src["nom_voie"], src["code_postal"], src["nom_commune"])
        assert (row.address_suffix or "") == src["rep"]
    assert bld.loc[bld.address.isna(), "address_street"].isna().all()


def test_geocode_a_real_address(built: tuple[TestClient, Path, Path]) -> None:
    client, d, _ = built
    bld = pyogrio.read_dataframe(d / "rooftops.gpkg", layer="buildings", read_geometry=False)
    row = bld.dropna(subset=["address"]).iloc[0]
    r = client.get("/api/geocode", params={"q": row.address.lower()})
    assert r.status_code == 200
    top = r.json()["results"][0]
    assert top["label"] == row.address and top["score"] > 0.9
    assert (top["housenumber"], top["street"], top["postcode"], top["city"]) == (
        row.address_housenumber, row.address_street, row.address_postcode, row.address_city)


def test_ogc_items_are_the_built_features(built: tuple[TestClient, Path, Path]) -> None:
    client, d, _ = built
    r = client.get("/ogc/collections")
    assert r.status_code == 200
    colls = {c["id"] for c in r.json()["collections"]}
    stores = {"rooftops.gpkg": ("roof_faces", "buildings", "communes_solar"),
              "parks.gpkg": ("parks", "greenways", "entrances", "gaps", "communes_access")}
    assert {name for names in stores.values() for name in names} <= colls
    for store, names in stores.items():
        for name in names:
            gdf = pyogrio.read_dataframe(d / store, layer=name, fid_as_index=True)
            r = client.get(f"/ogc/collections/{name}/items", params={"limit": 5})
            assert r.status_code == 200, (name, r.text)
            body = r.json()
            assert body["numberMatched"] == len(gdf) and body["numberReturned"] == min(5, len(gdf)) > 0, name
            to_wgs = _wgs84(gdf.crs)
            for feat in body["features"]:
                row = gdf.loc[feat["id"]]
                for key, value in feat["properties"].items():
                    want = row[key]
                    if isinstance(value, float):
                        assert value == pytest.approx(float(want), rel=1e-9), (name, key)
                    elif value is not None and not isinstance(value, bool):
                        assert str(value) == str(want), (name, key)
                xy = shapely.get_coordinates(row.geometry)
                lon, lat = to_wgs.transform(xy[:, 0], xy[:, 1])
                got = shapely.get_coordinates(shapely.geometry.shape(feat["geometry"]))
                assert np.abs(got - np.column_stack([lon, lat])).max() < 1e-6, name  # WGS84, 7 decimals


def test_vector_tiles_hold_the_faces_they_cover(built: tuple[TestClient, Path, Path]) -> None:
    """Every z17 tile over the roofs answers 200 with the faces whose inner point it holds; the others 204."""
    client, d, _ = built
    faces = pyogrio.read_dataframe(d / "rooftops.gpkg", layer="roof_faces", fid_as_index=True)
    merc = faces.to_crs(3857)
    inner = shapely.get_coordinates(shapely.point_on_surface(merc.geometry.values))
    lon_min, lat_min, lon_max, lat_max = faces.to_crs(4326).total_bounds
    tiled = next(t for t in TILE_LAYERS if t.collection == "roof_faces")
    n_full = 0
    for t in TMS.tiles(lon_min, lat_min, lon_max, lat_max, [17]):
        b = TMS.xy_bounds(t)
        inside = (inner[:, 0] >= b.left) & (inner[:, 0] < b.right) & (inner[:, 1] >= b.bottom) & (inner[:, 1] < b.top)
        near = merc.geometry.intersects(shapely.box(b.left - 50, b.bottom - 50, b.right + 50, b.top + 50)).to_numpy()
        r = client.get(f"/tiles/roof_faces/{t.z}/{t.x}/{t.y}.pbf")
        if not near.any():
            assert r.status_code == 204, (t, r.status_code)
            continue
        if not inside.any():
            continue
        assert r.status_code == 200, (t, r.status_code)
        layer = mapbox_vector_tile.decode(r.content)["roof_faces"]
        got = {int(f["id"]): f["properties"] for f in layer["features"]}
        assert set(faces.index[inside]) <= set(got) <= set(faces.index[near])
        for fid, props in got.items():  # the prebuilt tiles carry the attributes the map draws or looks up
            assert set(props) == set(tiled.attributes), props
            for col, value in props.items():
                assert value == faces.at[fid, col], (fid, col)
        n_full += 1
    assert n_full >= 1


def test_irradiation_tile_colours_the_raster_values(built: tuple[TestClient, Path, Path]) -> None:
    """A z18 PNG tile over the raster: each pixel is the colour of the raster value under its centre."""
    client, d, _ = built
    with rasterio.open(d / "irradiance.vrt") as src:
        band = src.read(1, masked=True) * src.scales[0] + src.offsets[0]  # stored integers -> kWh/m²/yr
        to_raster = Transformer.from_crs("EPSG:3857", src.crs, always_xy=True)
        transform, crs = src.transform, src.crs
    valid_rc = np.argwhere(~np.ma.getmaskarray(band))  # the raster has values on the roofs and the sites only
    med = np.median(valid_rc, axis=0)
    cx, cy = rasterio.transform.xy(transform, *valid_rc[np.argmin(((valid_rc - med) ** 2).sum(axis=1))])
    lon, lat = _wgs84(crs).transform(cx, cy)
    t = TMS.tile(lon, lat, 18)
    r = client.get(f"/tiles/irradiation/{t.z}/{t.x}/{t.y}.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    img = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGBA"))
    size = config.IRRADIATION_TILE_SIZE_PX
    assert img.shape == (size, size, 4)
    b = TMS.xy_bounds(t)
    px = (np.arange(size) + 0.5) / size
    xs, ys = np.meshgrid(b.left + px * (b.right - b.left), b.top - px * (b.top - b.bottom))
    rx, ry = to_raster.transform(xs.ravel(), ys.ravel())
    rows, cols = rasterio.transform.rowcol(transform, rx, ry)
    rows, cols = np.asarray(rows), np.asarray(cols)
    ok = (rows >= 0) & (rows < band.shape[0]) & (cols >= 0) & (cols < band.shape[1])
    values = np.ma.masked_all(rows.shape)
    values[ok] = band[rows[ok], cols[ok]]
    vmin, vmax = config.IRRADIATION_RANGE_KWH_M2_YR
    lut = np.array([cmap.get(config.IRRADIATION_COLORMAP)[i][:3] for i in range(256)], float)
    idx = np.clip((values.filled(vmin) - vmin) / (vmax - vmin) * 255, 0, 255).astype(int)
    rgba = img.reshape(-1, 4).astype(float)
    valid = ~np.ma.getmaskarray(values)
    assert valid.sum() > 1000
    assert (rgba[valid, 3] == 255).mean() > 0.98 and (rgba[~valid, 3] == 0).mean() > 0.98
    close = np.abs(rgba[valid, :3] - lut[idx[valid]]).max(axis=1) <= 6  # one or two colour-map steps
    assert close.mean() > 0.95, close.mean()


def test_park_route_service_area_and_stats(built: tuple[TestClient, Path, Path]) -> None:
    client, d, _ = built
    parks = pyogrio.read_dataframe(d / "parks.gpkg", layer="parks")
    entrances = pyogrio.read_dataframe(d / "parks.gpkg", layer="entrances")
    to_wgs = _wgs84(parks.crs)
    ids = parks.park_id.astype(int).tolist()
    assert len(ids) >= 2
    r = client.get("/api/parks/route", params={"from": str(ids[0]), "to": parks.nom.iloc[1]})
    assert r.status_code == 200, r.text
    route = r.json()
    line = shapely.geometry.shape(route["geometry"])
    props = route["properties"]
    assert (props["from_park"], props["to_park"]) == (ids[0], ids[1])
    for end, pid in ((line.coords[0], ids[0]), (line.coords[-1], ids[1])):
        ent = entrances[entrances.park_id == pid]
        lon, lat = to_wgs.transform(ent.geometry.x.to_numpy(), ent.geometry.y.to_numpy())
        assert np.hypot(lon - end[0], lat - end[1]).min() < 1e-6  # starts and ends on an entrance
    gap = shapely.distance(parks.geometry.values[0], parks.geometry.values[1])
    assert props["length_m"] >= gap and props["walk_min"] == pytest.approx(props["length_m"] / 80.0)
    assert 0 <= props["share_greenway"] <= 1
    r = client.get("/api/parks/service-area", params={"park": str(ids[0]), "minutes": 10})
    assert r.status_code == 200, r.text
    sa = r.json()["properties"]
    assert sa["distance_m"] == pytest.approx(800.0)
    assert sa["population"] == pytest.approx(parks.population_10min.iloc[0], rel=1e-9)
    r = client.get("/api/stats/communes")
    assert r.status_code == 200
    stats = {(s["level"], s["code"]): s for s in r.json()["communes"]}
    solar = pyogrio.read_dataframe(d / "rooftops.gpkg", layer="communes_solar", read_geometry=False)
    access = pyogrio.read_dataframe(d / "parks.gpkg", layer="communes_access", read_geometry=False)
    assert set(stats) == set(zip(solar.level, solar.code, strict=True)) == set(zip(access.level, access.code,
                                                                                    strict=True))
    assert any(level == "epci" for level, _ in stats)
    for row in solar.itertuples():
        assert stats[(row.level, row.code)]["solar"]["kwp"] == pytest.approx(row.kwp, rel=1e-9)
    for row in access.itertuples():
        assert stats[(row.level, row.code)]["access"]["population"] == pytest.approx(row.population, rel=1e-9)
