"""`artois fetch` and geo.io.download: every source served by a fake HTTP layer (httpx.MockTransport) in the
real formats, read back with the project's own readers. Never touches the network."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from test_osm import OSM_XML
from test_weather import _tmy_rows, _write_pvgis_json

from geo import config
from geo.errors import ArtoisError, InvalidRequestError
from geo.io import _http, download
from geo.io._http import DownloadError
from geo.io.ban import read_ban
from geo.io.buildings import read_footprints
from geo.io.communes import read_communes
from geo.io.parks import read_greenways, read_parks, read_streets
from geo.io.rasters import find_lidar_tiles, lidar_tile_name, read_raster
from geo.io.weather import load_weather

# 1 km² around the OSM test data of test_osm.py (Lens, lon 2.830-2.842, lat 50.430-50.438).
BBOX = (687_800.0, 7_036_900.0, 688_800.0, 7_037_900.0)
TILES = [(687, 7038), (688, 7038), (687, 7037), (688, 7037)]


# ---------------------------------------------------------------------------
# Files in the real formats
# ---------------------------------------------------------------------------

def geotiff_bytes(x_km: int, y_km: int) -> bytes:
    """A small Lambert-93 float32 GeoTIFF covering the 1 km tile (x_km, y_km): 8 x 8 px of 125 m."""
    data = (np.arange(64, dtype=np.float32).reshape(8, 8) + 30.0)
    data[0, 0] = config.LIDAR_NODATA
    buf = rasterio.io.MemoryFile()
    with buf.open(driver="GTiff", width=8, height=8, count=1, dtype="float32", crs="EPSG:2154",
                  transform=from_origin(x_km * 1000.0, y_km * 1000.0, 125.0, 125.0),
                  nodata=config.LIDAR_NODATA) as ds:
        ds.write(data, 1)
    return buf.read()


def building(i: int) -> dict:
    """A BD TOPO v3 building feature as the Géoplateforme WFS sends it (MultiPolygon Z, Lambert-93)."""
    x0, y0 = 688_000.0 + 30 * i, 7_037_400.0
    ring = [[x0, y0, 40.0], [x0 + 10, y0, 40.0], [x0 + 10, y0 + 8, 40.0], [x0, y0 + 8, 40.0], [x0, y0, 40.0]]
    return {
        "type": "Feature", "id": f"batiment.{i}", "geometry_name": "geometrie",
        "geometry": {"type": "MultiPolygon", "coordinates": [[ring]]},
        "properties": {"cleabs": f"BATIMENT00000000{i:04d}", "nature": "Indifférenciée", "usage_1": "Résidentiel",
                       "nombre_de_logements": 1, "nombre_d_etages": 2, "hauteur": 6.5 + i,
                       "altitude_minimale_sol": 40.0, "altitude_maximale_toit": 48.0 + i},
    }


def wfs_page(features: list[dict], matched: int) -> dict:
    return {"type": "FeatureCollection", "features": features, "totalFeatures": matched,
            "numberMatched": matched, "numberReturned": len(features), "timeStamp": "2026-11-22T09:00:00.000Z",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}}}


def lidar_index(kind: str) -> dict:
    """The WFS LiDAR HD tile index: the area's tiles plus a neighbour outside it (touching the bbox's box)."""
    feats = []
    for x, y in [*TILES, (689, 7038)]:
        name = lidar_tile_name(x, y, kind)
        feats.append({"type": "Feature", "id": f"dalle.{x}{y}",
                      "geometry": {"type": "Polygon", "coordinates": [[[x * 1000, y * 1000], [x * 1000 + 1000, y * 1000],
                                                                       [x * 1000 + 1000, y * 1000 - 1000],
                                                                       [x * 1000, y * 1000 - 1000], [x * 1000, y * 1000]]]},
                      "properties": {"name_download": name, "url": f"https://data.geopf.fr/telechargement/{kind}/{name}"}})
    return wfs_page(feats, len(feats))


def ban_csv() -> str:
    """A BAN file with the real header: 3 addresses in BBOX, 2 outside (one in Arras, one far east)."""
    rows = [
        ("62498_1234_00012", "62498_1234", "12", "", "Rue Émile Zola", "62300", "62498", "Lens", "", "", "688100.5",
         "7037400.2", "2.8380", "50.4340", "entrée", "", "", "LENS", "RUE EMILE ZOLA", "commune", "commune", "1",
         "62498000AB0012"),
        ("62498_1234_00012_bis", "62498_1234", "12", "bis", "Rue Émile Zola", "62300", "62498", "Lens", "", "", "688110.0",
         "7037405.0", "2.8381", "50.4341", "entrée", "", "", "LENS", "RUE EMILE ZOLA", "commune", "commune", "1", ""),
        ("62498_0420_00003", "62498_0420", "3", "", "Rue des Terrils", "62300", "62498", "Lens", "", "", "687900.0",
         "7037800.0", "2.8320", "50.4370", "bâtiment", "", "", "LENS", "RUE DES TERRILS", "cadastre", "cadastre", "0", ""),
        ("62041_0001_00001", "62041_0001", "1", "", "Place des Héros", "62000", "62041", "Arras", "", "", "684500.0",
         "7022000.0", "2.7800", "50.2900", "entrée", "", "", "ARRAS", "PLACE DES HEROS", "commune", "commune", "1", ""),
        ("62498_9999_00001", "62498_9999", "1", "", "Rue Loin", "62300", "62498", "Lens", "", "", "700000.0",
         "7037400.0", "2.99", "50.43", "entrée", "", "", "LENS", "RUE LOIN", "commune", "commune", "1", ""),
    ]
    lines = [";".join(config.BAN_COLUMNS)] + [";".join(r) for r in rows]
    return "\n".join(lines) + "\n"


def communes_geojson() -> dict:
    def square(lon0: float, lat0: float) -> dict:
        return {"type": "Polygon", "coordinates": [[[lon0, lat0], [lon0 + 0.05, lat0], [lon0 + 0.05, lat0 + 0.03],
                                                    [lon0, lat0 + 0.03], [lon0, lat0]]]}
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": square(2.80, 50.41),
         "properties": {"nom": "Lens", "code": "62498", "codeEpci": "246200364", "codeDepartement": "62",
                        "population": 32697}},
        {"type": "Feature", "geometry": square(2.75, 50.44),
         "properties": {"nom": "Loos-en-Gohelle", "code": "62528", "codeEpci": "246200364", "codeDepartement": "62",
                        "population": 6850}},
    ]}


def cadastre_batiments(insee: str) -> dict:
    """cadastre-{insee}-batiments.json as cadastre.data.gouv.fr serves it (WGS84): three 12 x 8 m buildings
    in BBOX (the second "02", bâti léger) and one 11 km east of it."""
    from pyproj import Transformer

    to_wgs = Transformer.from_crs(config.WORKING_CRS, config.WGS84, always_xy=True)
    feats = []
    for k, x in enumerate([688_100.0, 688_120.0, 688_140.0, 699_000.0]):
        y = 7_037_100.0
        ring = [list(to_wgs.transform(px, py)) for px, py in [(x, y), (x + 12, y), (x + 12, y + 8), (x, y + 8), (x, y)]]
        feats.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                      "properties": {"id": f"{insee}000AB{k:04d}", "commune": insee, "nom": None,
                                     "type": "02" if k == 1 else "01", "created": "2008-11-03",
                                     "updated": "2024-06-12"}})
    return {"type": "FeatureCollection", "features": feats}


@pytest.fixture(scope="module")
def pvgis_json(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return _write_pvgis_json(tmp_path_factory.mktemp("pvgis") / "tmy.json", _tmy_rows()).read_bytes()


# ---------------------------------------------------------------------------
# The fake services
# ---------------------------------------------------------------------------

class FakeServices:
    """Routes requests to the real formats above and records them; ``fail`` injects answers per path."""

    def __init__(self, pvgis: bytes) -> None:
        self.pvgis = pvgis
        self.requests: list[httpx.Request] = []
        self.fail: dict[str, list[Callable[[httpx.Request], httpx.Response]]] = {}
        self.buildings = [building(i) for i in range(5)]
        self.wfs_max_count = 10_000  # the server's own page limit (it answers min(COUNT, this))
        self.cadastre = {"62498": cadastre_batiments("62498")}

    def __call__(self, req: httpx.Request) -> httpx.Response:
        self.requests.append(req)
        path = req.url.path
        if self.fail.get(path):
            return self.fail[path].pop(0)(req)
        q = dict(req.url.params)
        if req.url.host == "data.geopf.fr" and path == "/wfs/ows":
            typename = q["TYPENAMES"]
            if typename == config.BDTOPO_WFS_TYPENAME:
                start, count = int(q["STARTINDEX"]), min(int(q["COUNT"]), self.wfs_max_count)
                feats = list(self.buildings)
                if q.get("SORTBY") == "cleabs ASC":
                    feats.sort(key=lambda f: f["properties"]["cleabs"])
                else:  # no defined order without SORTBY: each request may see another one
                    np.random.default_rng(len(self.requests)).shuffle(feats)
                return httpx.Response(200, json=wfs_page(feats[start:start + count], len(self.buildings)))
            kind = "MNS" if "MNS" in typename else "MNT"
            return httpx.Response(200, json=lidar_index(kind))
        if req.url.host == "data.geopf.fr" and path.startswith("/telechargement/"):
            name = path.rsplit("/", 1)[1]
            x, y = int(name[8:12]), int(name[13:17])
            return httpx.Response(200, content=geotiff_bytes(x, y), headers={"content-type": "image/geotiff"})
        if req.url.host == "cadastre.data.gouv.fr":
            insee = path.rsplit("/", 1)[1].split("-")[1]
            if insee not in self.cadastre:
                return httpx.Response(404, text="Not Found")
            return httpx.Response(200, content=gzip.compress(json.dumps(self.cadastre[insee]).encode()),
                                  headers={"content-type": "application/gzip"})
        if req.url.host == "adresse.data.gouv.fr":
            return httpx.Response(200, content=gzip.compress(ban_csv().encode("utf-8")),
                                  headers={"content-type": "application/gzip"})
        if req.url.host == "geo.api.gouv.fr" and path == "/communes":
            return httpx.Response(200, json=communes_geojson())
        if req.url.host == "geo.api.gouv.fr" and path.startswith("/communes/"):
            feat = communes_geojson()["features"][0]
            return httpx.Response(200, json=feat) if path.endswith("62498") else httpx.Response(
                404, json={"code": 404, "message": "Commune non trouvée"})
        if req.url.host == "re.jrc.ec.europa.eu":
            return httpx.Response(200, content=self.pvgis, headers={"content-type": "application/json"})
        if req.url.host == "overpass-api.de":
            return httpx.Response(200, content=OSM_XML.encode("utf-8"), headers={"content-type": "application/osm3s+xml"})
        return httpx.Response(404, text="no such fake service")

    def client(self) -> httpx.Client:
        return _http.make_client(transport=httpx.MockTransport(self))


@pytest.fixture
def services(pvgis_json: bytes, monkeypatch: pytest.MonkeyPatch) -> FakeServices:
    slept: list[float] = []
    monkeypatch.setattr(_http, "_sleep", slept.append)
    fake = FakeServices(pvgis_json)
    fake.slept = slept  # type: ignore[attr-defined]
    return fake


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# ---------------------------------------------------------------------------
# Each source, read back by the project's readers
# ---------------------------------------------------------------------------

def test_tiles_for_bbox_and_limits() -> None:
    assert download.tiles_for_bbox(BBOX) == TILES
    # exactly one tile: edges on the km grid do not pull in the neighbours
    assert download.tiles_for_bbox((686_000, 7_037_000, 687_000, 7_038_000)) == [(686, 7038)]
    assert download.check_bbox(BBOX) == BBOX
    with pytest.raises(InvalidRequestError, match=r"100\.0 km² is larger than the 36 km² limit"):
        download.check_bbox((680_000, 7_030_000, 690_000, 7_040_000))
    with pytest.raises(InvalidRequestError, match="empty bbox"):
        download.check_bbox((688_000, 7_037_000, 687_000, 7_038_000))
    with pytest.raises(InvalidRequestError, match="not in Lambert-93"):
        download.check_bbox((2.8, 50.4, 2.9, 50.5))  # degrees by mistake


def test_buildings_paging_and_reader(services: FakeServices, tmp_path: Path) -> None:
    with services.client() as c:
        path = download.get_buildings(BBOX, tmp_path, client=c, page_size=2)
    assert path == tmp_path / "rooftops" / "batiment.gpkg"
    wfs = [r for r in services.requests if r.url.path == "/wfs/ows"]
    assert [int(r.url.params["STARTINDEX"]) for r in wfs] == [0, 2, 4]  # 5 matched, pages of 2
    q = wfs[0].url.params
    assert q["SERVICE"] == "WFS" and q["VERSION"] == "2.0.0" and q["REQUEST"] == "GetFeature"
    assert q["TYPENAMES"] == "BDTOPO_V3:batiment" and q["OUTPUTFORMAT"] == "application/json"
    assert q["COUNT"] == "2" and q["SRSNAME"] == "EPSG:2154"
    assert q["BBOX"] == "687800.00,7036900.00,688800.00,7037900.00,urn:ogc:def:crs:EPSG::2154"
    fp = read_footprints(path)
    assert fp.crs.to_epsg() == 2154 and len(fp) == 5
    assert sorted(fp["building_id"]) == [f"BATIMENT00000000{i:04d}" for i in range(5)]
    assert fp.set_index("building_id").loc["BATIMENT000000000003", "hauteur"] == pytest.approx(9.5)
    assert np.allclose(fp.area, 80.0)  # 10 m x 8 m, the Lambert-93 coordinates kept as they are
    assert leftovers(tmp_path) == ["batiment.gpkg"]


def test_lidar_tiles_from_index(services: FakeServices, tmp_path: Path) -> None:
    seen: list[Path] = []
    with services.client() as c:
        paths = download.get_lidar_tiles(BBOX, tmp_path, client=c, on_file=seen.append)
    assert paths == seen and len(paths) == 8
    index = [r for r in services.requests if r.url.path == "/wfs/ows"]
    assert sorted(r.url.params["TYPENAMES"] for r in index) == ["IGNF_MNS-LIDAR-HD:dalle", "IGNF_MNT-LIDAR-HD:dalle"]
    got = [r.url.path.rsplit("/", 1)[1] for r in services.requests if r.url.path.startswith("/telechargement/")]
    assert "LHD_FXX_0689_7038_MNS_O_0M50_LAMB93_IGN69.tif" not in got  # the index's neighbour is not fetched
    for kind in ("MNS", "MNT"):
        tiles = find_lidar_tiles(tmp_path / "rooftops" / "lidar", kind)
        assert [p.name for p in tiles] == sorted(lidar_tile_name(x, y, kind) for x, y in TILES)
        r = read_raster(tiles[0])
        assert r.crs.to_epsg() == 2154 and r.shape == (8, 8) and np.isnan(r.data[0, 0])
        x, y = int(tiles[0].name[8:12]), int(tiles[0].name[13:17])
        assert r.bounds == pytest.approx((x * 1000.0, y * 1000.0 - 1000.0, x * 1000.0 + 1000.0, y * 1000.0))
    # a second run keeps the tiles already there and downloads nothing
    n = len(services.requests)
    with services.client() as c:
        download.get_lidar_tiles(BBOX, tmp_path, client=c)
    assert not [r for r in services.requests[n:] if r.url.path.startswith("/telechargement/")]


def test_lidar_tiles_from_wms_template(services: FakeServices, tmp_path: Path) -> None:
    def wms(req: httpx.Request) -> httpx.Response:
        x, y = int(req.url.params["FILENAME"][8:12]), int(req.url.params["FILENAME"][13:17])
        return httpx.Response(200, content=geotiff_bytes(x, y))
    services.fail["/wms-r"] = [wms] * 4
    with services.client() as c:
        paths = download.get_lidar_tiles(BBOX, tmp_path, kinds=["MNS"], client=c, use_index=False)
    assert len(paths) == 4
    first = [r for r in services.requests if r.url.path == "/wms-r"][0].url.params
    assert first["LAYERS"] == "IGNF_LIDAR-HD_MNS_ELEVATION.ELEVATIONGRIDCOVERAGE.LAMB93"
    assert first["FORMAT"] == "image/geotiff" and first["CRS"] == "EPSG:2154"
    assert first["WIDTH"] == first["HEIGHT"] == "2000"
    # 1 km plus the half-pixel shift of the 0.5 m grid: pixel centres on whole kilometres
    assert first["BBOX"] == "686999.75,7037000.25,687999.75,7038000.25"
    assert first["FILENAME"] == "LHD_FXX_0687_7038_MNS_O_0M50_LAMB93_IGN69.tif"


@pytest.mark.parametrize("encoded", [False, True], ids=["gzip-file", "content-encoding"])
def test_ban_gzip_clipped(services: FakeServices, tmp_path: Path, encoded: bool) -> None:
    if encoded:  # the server compresses on the fly instead of serving the .gz: httpx decodes it
        body = gzip.compress(ban_csv().encode("utf-8"))
        services.fail["/data/ban/adresses/latest/csv/adresses-62.csv.gz"] = [
            lambda req: httpx.Response(200, content=body, headers={"content-encoding": "gzip",
                                                                   "content-type": "text/csv"})]
    with services.client() as c:
        path = download.get_ban(tmp_path, departement="62", bbox=BBOX, client=c)
    assert services.requests[-1].url == "https://adresse.data.gouv.fr/data/ban/adresses/latest/csv/adresses-62.csv.gz"
    assert path == tmp_path / "rooftops" / "adresses-62.csv"
    ban = read_ban(path)
    assert ban.crs.to_epsg() == 2154 and len(ban) == 3
    assert list(ban.columns[:len(config.BAN_COLUMNS)]) == list(config.BAN_COLUMNS)
    assert set(ban["label"]) == {"12 Rue Émile Zola 62300 Lens", "12 bis Rue Émile Zola 62300 Lens",
                                 "3 Rue des Terrils 62300 Lens"}
    assert leftovers(tmp_path) == ["adresses-62.csv"]  # the whole département's file is gone
    # without a bbox: the whole file, decompressed
    with services.client() as c:
        whole = download.get_ban(tmp_path / "all", client=c)
    assert len(read_ban(whole)) == 5 and whole.read_text(encoding="utf-8") == ban_csv()


def test_communes(services: FakeServices, tmp_path: Path) -> None:
    with services.client() as c:
        path = download.get_communes(tmp_path, departement="62", client=c)
        name, bbox = download.commune_bbox("62498", client=c)
    req = [r for r in services.requests if r.url.path == "/communes"][0]
    assert dict(req.url.params) == {"codeDepartement": "62", "fields": "nom,code,codeEpci,codeDepartement,population",
                                    "format": "geojson", "geometry": "contour"}
    communes = read_communes(path)
    assert communes.crs.to_epsg() == 2154 and list(communes["code_insee"]) == ["62498", "62528"]
    assert list(communes["population"]) == [32697, 6850] and communes["epci_nom"].iloc[0] == config.PMA_EPCI["246200364"]
    assert name == "Lens"
    # the commune's bbox is its contour's (2.80-2.85 °E, 50.41-50.44 °N) in Lambert-93
    from pyproj import Transformer
    t = Transformer.from_crs(config.WGS84, config.WORKING_CRS, always_xy=True)
    corners = [t.transform(lon, lat) for lon in (2.80, 2.85) for lat in (50.41, 50.44)]
    assert bbox[0] == pytest.approx(min(c[0] for c in corners), abs=1.0)
    assert bbox[3] == pytest.approx(max(c[1] for c in corners), abs=1.0)
    with services.client() as c, pytest.raises(DownloadError, match=r"/communes/62999.*HTTP 404.*Commune non trouvée"):
        download.commune_bbox("62999", client=c)
    with pytest.raises(InvalidRequestError, match="not an INSEE commune code"):
        download.commune_bbox("Lens")


def test_pvgis(services: FakeServices, tmp_path: Path) -> None:
    lat, lon = download.bbox_centre_wgs84(BBOX)
    assert (lat, lon) == pytest.approx((50.434, 2.836), abs=0.002)
    with services.client() as c:
        path = download.get_pvgis_tmy(lat, lon, tmp_path, client=c)
    req = services.requests[-1]
    assert str(req.url).startswith("https://re.jrc.ec.europa.eu/api/v5_3/tmy?")
    assert req.url.params["outputformat"] == "json"
    assert req.url.params["usehorizon"] == "0"  # our DSM horizon shades the beam, not PVGIS's as well
    assert float(req.url.params["lat"]) == pytest.approx(lat, abs=1e-5)
    assert float(req.url.params["lon"]) == pytest.approx(lon, abs=1e-5)
    assert path == tmp_path / "rooftops" / "weather.json"
    w = load_weather(path)
    assert len(w.data) == 8760 and w.source.startswith("PVGIS TMY weather.json")


def test_osm(services: FakeServices, tmp_path: Path) -> None:
    with services.client() as c:
        paths = download.get_osm(BBOX, tmp_path, client=c)
    req = services.requests[-1]
    assert req.method == "POST"
    query = parse_qs(req.content.decode())["data"][0]
    assert query.startswith("[out:xml][timeout:180][bbox:")
    south, west, north, east = map(float, query.split("[bbox:")[1].split("]")[0].split(","))
    from pyproj import Transformer
    t = Transformer.from_crs(config.WORKING_CRS, config.WGS84, always_xy=True)
    corners = [t.transform(x, y) for x in BBOX[0::2] for y in BBOX[1::2]]  # (lon, lat), Lambert-93 corners
    assert west <= min(c[0] for c in corners) and east >= max(c[0] for c in corners)
    assert south <= min(c[1] for c in corners) and north >= max(c[1] for c in corners)
    assert (north - south) * 111_000 == pytest.approx(1000.0, rel=0.02)  # ~1 km of latitude, no more
    assert 'way["highway"];' in query and 'way["leisure"~"^(garden|nature_reserve|park)$"];' in query
    assert query.rstrip().endswith("out body;")
    parks_dir = tmp_path / "parks"
    assert paths == [parks_dir / n for n in ("osm.osm", "parcs.gpkg", "voies_vertes.gpkg", "reseau_pietons.gpkg")]
    parks = read_parks(parks_dir / "parcs.gpkg")
    assert parks.crs.to_epsg() == 2154
    assert {"Parc de la Glissoire", "Bois de Riaumont", "Terril 94"} <= set(parks["nom"])
    streets = read_streets(parks_dir / "reseau_pietons.gpkg")
    assert "A21" not in set(streets["name"].dropna()) and "residential" in set(streets["highway"])
    assert len(streets) == len(read_streets(parks_dir / "osm.osm"))
    greenways = read_greenways(parks_dir / "voies_vertes.gpkg")
    assert "Cavalier de Liévin" in set(greenways["nom"])
    # the parks stage of `artois build` runs on the fetched folder
    from geo.parks.build import build_parks
    from geo.pipeline import BuildContext
    from geo.products import parks as parks_product
    built = build_parks(BuildContext(tmp_path, tmp_path / "build"))
    parks_out = parks_product.read_layer(built[0], parks_product.PARKS)
    assert {"Parc de la Glissoire", "Terril 94"} <= set(parks_out["nom"])


# ---------------------------------------------------------------------------
# Failures: retries, one-line errors, nothing partial on disk
# ---------------------------------------------------------------------------

def test_503_then_200_is_retried(services: FakeServices, tmp_path: Path) -> None:
    services.fail["/communes"] = [lambda r: httpx.Response(503, text="busy"),
                                  lambda r: httpx.Response(429, headers={"retry-after": "7"})]
    with services.client() as c:
        path = download.get_communes(tmp_path, client=c)
    assert len(read_communes(path)) == 2
    assert len([r for r in services.requests if r.url.path == "/communes"]) == 3
    assert services.slept == [config.FETCH_BACKOFF_S, 7.0]  # type: ignore[attr-defined]


def test_404_is_one_line_naming_the_url(services: FakeServices, tmp_path: Path) -> None:
    services.fail["/data/ban/adresses/latest/csv/adresses-99.csv.gz"] = [lambda r: httpx.Response(404, text="nope")]
    with services.client() as c, pytest.raises(DownloadError) as err:
        download.get_ban(tmp_path, departement="99", client=c)
    msg = str(err.value)
    assert msg == "https://adresse.data.gouv.fr/data/ban/adresses/latest/csv/adresses-99.csv.gz: HTTP 404 Not Found (nope)"
    assert isinstance(err.value, ArtoisError) and "\n" not in msg
    assert services.slept == []  # type: ignore[attr-defined]  # a 404 is not retried
    assert leftovers(tmp_path) == []


def test_timeout_after_retries(services: FakeServices, tmp_path: Path) -> None:
    def timeout(req: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=req)
    services.fail["/api/v5_3/tmy"] = [timeout] * config.FETCH_ATTEMPTS
    with services.client() as c, pytest.raises(DownloadError) as err:
        download.get_pvgis_tmy(50.43, 2.83, tmp_path, client=c)
    assert str(err.value) == (f"https://re.jrc.ec.europa.eu/api/v5_3/tmy?lat=50.43000&lon=2.83000&usehorizon=0&outputformat=json: "
                              f"timed out after {config.FETCH_TIMEOUT_S:g} s")
    assert len(services.slept) == config.FETCH_ATTEMPTS - 1  # type: ignore[attr-defined]
    assert services.slept == sorted(services.slept)  # type: ignore[attr-defined]  # growing back-off
    assert leftovers(tmp_path) == []


def test_broken_body_and_bad_content_leave_nothing(services: FakeServices, tmp_path: Path) -> None:
    class Broken(httpx.SyncByteStream):
        def __iter__(self):  # type: ignore[no-untyped-def]
            yield b"\x1f\x8b\x08\x00" + b"x" * 100
            raise httpx.ReadError("connection reset")

    # a body that breaks off is retried from the start; the retry succeeds
    services.fail["/data/ban/adresses/latest/csv/adresses-62.csv.gz"] = [lambda r: httpx.Response(200, stream=Broken())]
    with services.client() as c:
        download.get_ban(tmp_path / "ok", bbox=BBOX, client=c)
    assert leftovers(tmp_path / "ok") == ["adresses-62.csv"]
    # a truncated gzip file
    data = gzip.compress(ban_csv().encode())
    services.fail["/data/ban/adresses/latest/csv/adresses-62.csv.gz"] = [lambda r: httpx.Response(200, content=data[:-30])]
    with services.client() as c, pytest.raises(DownloadError, match=r"adresses-62\.csv\.gz: truncated gzip file"):
        download.get_ban(tmp_path / "trunc", client=c)
    assert leftovers(tmp_path / "trunc") == []
    # a PVGIS error page served as 200, refused by the reader before it takes the final name
    services.fail["/api/v5_3/tmy"] = [lambda r: httpx.Response(200, json={"message": "Location over the sea"})]
    with services.client() as c, pytest.raises(ArtoisError, match="not a readable PVGIS TMY JSON file"):
        download.get_pvgis_tmy(50.43, 2.83, tmp_path / "pv", client=c)
    assert leftovers(tmp_path / "pv") == []
    # a previous good file is kept when the new download fails
    good = download.get_communes(tmp_path / "keep", client=services.client())
    before = good.read_bytes()
    services.fail["/communes"] = [lambda r: httpx.Response(500)] * config.FETCH_ATTEMPTS
    with pytest.raises(DownloadError, match=r"/communes\?codeDepartement=62.*: HTTP 500 Internal Server Error"):
        download.get_communes(tmp_path / "keep", client=services.client())
    assert good.read_bytes() == before and leftovers(tmp_path / "keep") == ["communes.geojson"]


def test_overpass_remark_is_an_error(services: FakeServices, tmp_path: Path) -> None:
    body = OSM_XML.replace("</osm>", '<remark> runtime error: Query timed out in "query" at line 3 </remark>\n</osm>')
    services.fail["/api/interpreter"] = [lambda r: httpx.Response(200, content=body.encode())]
    with services.client() as c, pytest.raises(DownloadError, match="Overpass stopped the query"):
        download.get_osm(BBOX, tmp_path, client=c)
    assert leftovers(tmp_path) == []


# ---------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------

def test_cli_fetch_then_check(services: FakeServices, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    from geo.cli import main

    make = _http.make_client
    monkeypatch.setattr(_http, "make_client", lambda **kw: make(transport=httpx.MockTransport(services)))
    out = tmp_path / "data"
    assert main(["fetch", "--commune", "62498", "--out", str(out), "--only", "batiment,ban,communes",
                 "--max-area-km2", "40"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].startswith("commune 62498 (Lens): bbox ")
    assert "batiment  rooftops/batiment.gpkg" in text and "ban       rooftops/adresses-62.csv" in text
    assert "communes  parks/communes.geojson" in text and "LHD_FXX" not in text
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "parks/communes.geojson", "rooftops/adresses-62.csv", "rooftops/batiment.gpkg"]

    out2 = tmp_path / "all"
    assert main(["fetch", "--bbox", *map(str, BBOX), "--out", str(out2)]) == 0
    text = capsys.readouterr().out
    assert text.count("lidar ") == 8 and "pvgis     rooftops/weather.json" in text and "osm       parks/osm.osm" in text
    assert main(["check", "--data", str(out2)]) == 0
    checked = capsys.readouterr().out
    assert "batiment.gpkg: 5 building" in checked and "LHD_FXX_0687_7038_MNS" in checked
    assert "adresses-62.csv: 3 " in checked and "communes.geojson: 2 " in checked

    # errors: one line on stderr, exit status 2, nothing written
    assert main(["fetch", "--bbox", "680000", "7030000", "690000", "7040000", "--out", str(tmp_path / "big")]) == 2
    err = capsys.readouterr().err
    assert err == ("artois: error: bbox of 100.0 km² is larger than the 36 km² limit (about 200 LiDAR tiles of "
                   "10–20 MB); split the area or raise the limit\n")
    assert main(["fetch", "--commune", "62999", "--out", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("artois: error: https://geo.api.gouv.fr/communes/62999?") and err.count("\n") == 1
    assert not (tmp_path / "big").exists() and not (tmp_path / "none").exists()


def test_requests_name_the_project(services: FakeServices, tmp_path: Path) -> None:
    """Every request carries the project's User-Agent (Overpass and others ask for one); an unknown URL
    gets the fake's 404, never the network."""
    with services.client() as c:
        download.get_communes(tmp_path, client=c)
        with pytest.raises(DownloadError, match="HTTP 404"):
            _http.get_json(c, "https://example.invalid/x")
    assert {r.headers["user-agent"] for r in services.requests} == {config.FETCH_USER_AGENT}
    assert config.FETCH_USER_AGENT.isascii()


# ---------------------------------------------------------------------------
# Bugs a first real run would hit (each on the fake services)
# ---------------------------------------------------------------------------

def test_corsican_ban_file_names_are_upper_case(services: FakeServices, tmp_path: Path) -> None:
    """The BAN names Corsica's files adresses-2A.csv.gz / adresses-2B.csv.gz (upper case)."""
    for dep in ("2a", "2B"):
        services.fail[f"/data/ban/adresses/latest/csv/adresses-{dep.lower()}.csv.gz"] = [
            lambda r: httpx.Response(404, text="Not Found")]
        with services.client() as c:
            path = download.get_ban(tmp_path, departement=dep, client=c)
        assert services.requests[-1].url.path == f"/data/ban/adresses/latest/csv/adresses-{dep.upper()}.csv.gz"
        assert path == tmp_path / "rooftops" / f"adresses-{dep.upper()}.csv" and len(read_ban(path)) == 5


def test_wfs_paging_goes_on_after_short_pages_in_a_stable_order(services: FakeServices, tmp_path: Path) -> None:
    services.wfs_max_count = 2  # the server sends 2 features whatever COUNT asks (numberMatched = 5)
    with services.client() as c:
        path = download.get_buildings(BBOX, tmp_path, client=c, page_size=4)
    wfs = [r for r in services.requests if r.url.path == "/wfs/ows"]
    assert [int(r.url.params["STARTINDEX"]) for r in wfs] == [0, 2, 4]
    assert {r.url.params["SORTBY"] for r in wfs} == {"cleabs ASC"}
    assert sorted(read_footprints(path)["building_id"]) == [f"BATIMENT00000000{i:04d}" for i in range(5)]
    # a server that stops sending before numberMatched: an error, not a silently partial layer
    services.fail["/wfs/ows"] = [lambda r: httpx.Response(200, json=wfs_page([building(0), building(1)], 5)),
                                 lambda r: httpx.Response(200, json=wfs_page([], 5))]
    with services.client() as c, pytest.raises(DownloadError, match="sent 2 of the 5 BDTOPO_V3:batiment features"):
        download.get_buildings(BBOX, tmp_path / "partial", client=c, page_size=2)
    assert leftovers(tmp_path / "partial") == []


def test_no_lidar_tile_for_the_area_is_an_error(services: FakeServices, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    services.fail["/wfs/ows"] = [lambda r: httpx.Response(200, json=wfs_page([], 0))] * 4
    with services.client() as c, pytest.raises(ArtoisError) as err:
        download.get_lidar_tiles(BBOX, tmp_path, kinds=["MNS"], client=c)
    msg = str(err.value)
    assert "no IGN LiDAR HD MNS tile" in msg and "(687800, 7036900, 688800, 7037900)" in msg
    assert "0687_7038" in msg and "\n" not in msg and leftovers(tmp_path) == []
    # `artois fetch` fails with that line and exit status 2 instead of reporting success
    from geo.cli import main

    make = _http.make_client
    monkeypatch.setattr(_http, "make_client", lambda **kw: make(transport=httpx.MockTransport(services)))
    capsys.readouterr()
    assert main(["fetch", "--bbox", *map(str, BBOX), "--out", str(tmp_path / "out"), "--only", "lidar"]) == 2
    assert "no IGN LiDAR HD MNS tile" in capsys.readouterr().err


def test_lidar_index_names_without_extension(services: FakeServices, tmp_path: Path) -> None:
    """The index's ``name`` is LHD_FXX_0687_7038_MNS_O_0M50_LAMB93_IGN69, without .tif."""
    def index(req: httpx.Request) -> httpx.Response:
        page = lidar_index("MNS")
        for f in page["features"]:
            props = f["properties"]
            props["name"] = props.pop("name_download").removesuffix(".tif")
        return httpx.Response(200, json=page)
    services.fail["/wfs/ows"] = [index]
    with services.client() as c:
        paths = download.get_lidar_tiles(BBOX, tmp_path, kinds=["MNS"], client=c)
    assert sorted(p.name for p in paths) == sorted(lidar_tile_name(x, y, "MNS") for x, y in TILES)
    assert services.requests[0].url.params["SORTBY"] == "name ASC"


def test_ban_rows_without_xy_are_placed_by_lon_lat(services: FakeServices, tmp_path: Path) -> None:
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(config.WORKING_CRS, config.WGS84, always_xy=True).transform(688_300.0, 7_037_300.0)
    far_lon, far_lat = 2.99, 50.43  # ~11 km east: outside
    extra = [";".join(["62498_5555_00007", "62498_5555", "7", "", "Rue Sans XY", "62300", "62498", "Lens", "", "", "", "",
                       f"{lon:.7f}", f"{lat:.7f}", "entrée", "", "", "LENS", "RUE SANS XY", "commune", "commune", "1", ""]),
             ";".join(["62498_5555_00009", "62498_5555", "9", "", "Rue Sans XY", "62300", "62498", "Lens", "", "", "", "",
                       f"{far_lon}", f"{far_lat}", "entrée", "", "", "LENS", "RUE SANS XY", "commune", "commune", "1", ""])]
    body = gzip.compress((ban_csv() + "\n".join(extra) + "\n").encode("utf-8"))
    services.fail["/data/ban/adresses/latest/csv/adresses-62.csv.gz"] = [lambda r: httpx.Response(200, content=body)]
    with services.client() as c:
        path = download.get_ban(tmp_path, bbox=BBOX, client=c)
    ban = read_ban(path)
    assert len(ban) == 4 and "7 Rue Sans XY 62300 Lens" in set(ban["label"])
    pt = ban.loc[ban["label"] == "7 Rue Sans XY 62300 Lens"].geometry.iloc[0]
    assert (pt.x, pt.y) == pytest.approx((688_300.0, 7_037_300.0), abs=0.01)


def test_overpass_waits_for_the_server_and_does_not_resend_a_timed_out_query(services: FakeServices,
                                                                              tmp_path: Path) -> None:
    with services.client() as c:
        download.get_osm(BBOX, tmp_path / "ok", client=c)
    req = services.requests[-1]
    assert req.extensions["timeout"]["read"] == config.OVERPASS_READ_TIMEOUT_S > config.OVERPASS_TIMEOUT_S
    assert f"[timeout:{config.OVERPASS_TIMEOUT_S}]" in parse_qs(req.content.decode())["data"][0]

    def timeout(req: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=req)
    services.fail["/api/interpreter"] = [timeout] * config.FETCH_ATTEMPTS
    n = len(services.requests)
    with services.client() as c, pytest.raises(DownloadError, match=f"timed out after {config.OVERPASS_READ_TIMEOUT_S} s"):
        download.get_osm(BBOX, tmp_path / "slow", client=c)
    assert len(services.requests) == n + 1 and services.slept == []  # type: ignore[attr-defined]
    assert leftovers(tmp_path / "slow") == []
    # a busy server (429, then 504) is still retried
    services.fail["/api/interpreter"] = [lambda r: httpx.Response(429), lambda r: httpx.Response(504)]
    with services.client() as c:
        download.get_osm(BBOX, tmp_path / "busy", client=c)
    assert len(services.slept) == 2  # type: ignore[attr-defined]


def test_cycle_routes_are_clipped_to_the_box(services: FakeServices, tmp_path: Path) -> None:
    """Route relations are output without recursing into their members; only their member ways that
    meet the box come, with their nodes. GDAL builds the route from the members present."""
    query = download.overpass_query(BBOX)
    box = query.split("[bbox:")[1].split("]")[0]
    assert '(._;>;)->.main;' in query and 'relation["route"="bicycle"]->.routes;' in query
    assert f"way(r.routes)({box})->.route_ways;" in query
    assert "(.main; .routes; .route_ways; .route_ways >;);" in query
    main_set = query.split("(._;>;)->.main;")[0]
    assert "route" not in main_set  # the relations are never recursed down (no whole EuroVelo)
    # what such a query returns: the relation lists members outside the box that are not in the file
    clipped = OSM_XML.replace('<member type="way" ref="302" role=""/>',
                              '<member type="way" ref="90001" role=""/><member type="way" ref="302" role=""/>'
                              '<member type="way" ref="90002" role=""/>')
    services.fail["/api/interpreter"] = [lambda r: httpx.Response(200, content=clipped.encode())]
    with services.client() as c:
        download.get_osm(BBOX, tmp_path, client=c)
    greenways = read_greenways(tmp_path / "parks" / "voies_vertes.gpkg")
    assert 'Rue "des Terrils"' in set(greenways["nom"])  # the member way in the box is a cycle-route way


def test_cadastre_footprints(services: FakeServices, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    with services.client() as c:
        path = download.get_cadastre_buildings(BBOX, tmp_path, departement="62", client=c)
    urls = [str(r.url) for r in services.requests if r.url.host == "cadastre.data.gouv.fr"]
    assert urls == ["https://cadastre.data.gouv.fr/data/etalab-cadastre/latest/geojson/communes/62/62498/"
                    "cadastre-62498-batiments.json.gz"]  # Lens only: Loos-en-Gohelle does not meet BBOX
    fp = read_footprints(path)
    assert path == tmp_path / "rooftops" / "batiment.gpkg" and (fp["source"] == "cadastre").all()
    assert list(fp["building_id"]) == ["62498000AB0000", "62498000AB0001", "62498000AB0002"]  # not the far one
    assert list(fp["usage_1"]) == ["Indifférencié", "Annexe", "Indifférencié"]
    np.testing.assert_allclose(fp.area, 96.0, rtol=1e-4)
    assert leftovers(tmp_path) == ["batiment.gpkg"]
    # through the command
    from geo.cli import main

    make = _http.make_client
    monkeypatch.setattr(_http, "make_client", lambda **kw: make(transport=httpx.MockTransport(services)))
    capsys.readouterr()
    out = tmp_path / "cli"
    assert main(["fetch", "--bbox", *map(str, BBOX), "--out", str(out), "--only", "batiment",
                 "--footprints", "cadastre"]) == 0
    assert "batiment  rooftops/batiment.gpkg" in capsys.readouterr().out
    assert main(["check", str(out / "rooftops" / "batiment.gpkg")]) == 0
    assert "3 building footprints (cadastre, identifier column 'id')" in capsys.readouterr().out
