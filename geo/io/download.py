"""Downloaders of the real inputs of an area (like pvlib's ``iotools.get_*``), in the docs/formats.md layout.

Each ``get_*`` fetches one source through :mod:`geo.io._http`, checks the file with the project's own
reader before it gets its final name (so a bad answer leaves nothing on disk) and returns what it wrote:

============================  ==========================================================================
:func:`get_lidar_tiles`       ``rooftops/lidar/LHD_FXX_*_{MNS,MNT}_*.tif`` (IGN LiDAR HD, 1 km tiles)
:func:`get_buildings`         ``rooftops/batiment.gpkg`` layer ``batiment`` (BD TOPO v3, Lambert-93)
:func:`get_cadastre_buildings`  the same file from the cadastre's ``batiments`` (``--footprints cadastre``)
:func:`get_ban`               ``rooftops/adresses-XX.csv`` (BAN, optionally clipped to the area)
:func:`get_communes`          ``parks/communes.geojson`` (geo.api.gouv.fr, WGS84)
:func:`get_pvgis_tmy`         ``rooftops/weather.json`` (PVGIS typical meteorological year)
:func:`get_osm`               ``parks/osm.osm`` (Overpass XML) and, read from it with :mod:`geo.io.osm`,
                              ``parks/parcs.gpkg``, ``parks/voies_vertes.gpkg``, ``parks/reseau_pietons.gpkg``
============================  ==========================================================================

Sources (URLs in :mod:`geo.config`, section 10; all checked 2026-11):

* IGN LiDAR HD MNS/MNT: the Géoplateforme WFS tile indexes ``IGNF_MNS-LIDAR-HD:dalle`` and
  ``IGNF_MNT-LIDAR-HD:dalle`` (https://data.geopf.fr/wfs/ows; datasets IGNF_MNS-LIDAR-HD and
  IGNF_MNT-LIDAR-HD on cartes.gouv.fr) list each 1 km tile with ``name_download`` and the ``url`` of its
  GeoTIFF. With ``use_index=False`` the URL is built from :data:`geo.config.LIDAR_WMS_URL_TEMPLATE`
  (a WMS-R GetMap of the tile, a project-maintained template).
* BD TOPO v3: the same WFS, type ``BDTOPO_V3:batiment``, GeoJSON pages (``STARTINDEX``/``COUNT``,
  ``numberMatched``).
* Cadastre (Etalab export of the DGFiP PCI): https://cadastre.data.gouv.fr/data/etalab-cadastre/latest/geojson/
  communes/{dep}/{insee}/cadastre-{insee}-batiments.json.gz.
* BAN: https://adresse.data.gouv.fr/data/ban/adresses/latest/csv/adresses-XX.csv.gz (XX = 62, 2A, 2B…).
* Communes: https://geo.api.gouv.fr/communes (``format=geojson&geometry=contour``).
* PVGIS TMY: https://re.jrc.ec.europa.eu/api/v5_3/tmy (as pvlib's ``get_pvgis_tmy``, JSON output).
* OpenStreetMap: the Overpass API (XML output, ``out body;``; cycle routes clipped to the area).

Areas are Lambert-93 bounding boxes ``(xmin, ymin, xmax, ymax)`` [m].
"""

from __future__ import annotations

import csv
import logging
import math
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import geopandas as gpd
import httpx
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from geo import config
from geo.errors import ArtoisError, InputError, InvalidRequestError
from geo.io import _http
from geo.io._atomic import atomic_path
from geo.io._http import DownloadError
from geo.io.rasters import LidarTile, lidar_tile_name, parse_lidar_tile
from geo.types import Bounds

log = logging.getLogger("artois.io")


#: Sources `artois fetch` knows, in the order it fetches them.
SOURCES = ("communes", "lidar", "batiment", "ban", "pvgis", "osm")


# ---------------------------------------------------------------------------
# Areas
# ---------------------------------------------------------------------------

def check_bbox(bbox: Iterable[float], *, max_area_km2: float = config.FETCH_MAX_AREA_KM2) -> Bounds:
    """Validate a Lambert-93 bounding box [m] and return it as a tuple.

    Raises
    ------
    InvalidRequestError
        Not four finite numbers, empty, outside metropolitan France's Lambert-93 extent, or larger
        than ``max_area_km2`` [km²].
    """
    values = tuple(float(v) for v in bbox)
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise InvalidRequestError(f"bbox must be 4 numbers XMIN YMIN XMAX YMAX (Lambert-93 m), got {values}")
    xmin, ymin, xmax, ymax = values
    if xmax <= xmin or ymax <= ymin:
        raise InvalidRequestError(f"empty bbox {values}: XMAX must exceed XMIN and YMAX exceed YMIN")
    # EPSG:2154 area of use, rounded outwards (EPSG registry, checked 2026-11).
    if xmin < 0 or xmax > 1_300_000 or ymin < 6_000_000 or ymax > 7_200_000:
        raise InvalidRequestError(f"bbox {values} is not in Lambert-93 metres over metropolitan France "
                                  "(x 0–1,300,000, y 6,000,000–7,200,000)")
    area_km2 = (xmax - xmin) * (ymax - ymin) / 1e6
    if area_km2 > max_area_km2:
        raise InvalidRequestError(f"bbox of {area_km2:.1f} km² is larger than the {max_area_km2:g} km² limit "
                                  f"(about {2 * math.ceil(area_km2)} LiDAR tiles of 10–20 MB); split the area "
                                  "or raise the limit")
    return values


def tiles_for_bbox(bbox: Bounds) -> list[tuple[int, int]]:
    """LiDAR HD tiles ``(x_km, y_km)`` (upper-left corner [km]) whose 1 km square meets ``bbox``'s interior."""
    xmin, ymin, xmax, ymax = bbox
    size_km = config.LIDAR_TILE_SIZE_M / 1000.0
    xs = range(int(math.floor(xmin / 1000.0)), int(math.ceil(xmax / 1000.0)), int(size_km))
    ys = range(int(math.floor(ymin / 1000.0)) + 1, int(math.ceil(ymax / 1000.0)) + 1, int(size_km))
    return [(x, y) for y in reversed(ys) for x in xs]


def bbox_to_wgs84(bbox: Bounds) -> Bounds:
    """Lambert-93 bbox [m] → (west, south, east, north) [degrees] that contains it."""
    t = Transformer.from_crs(config.WORKING_CRS, config.WGS84, always_xy=True)
    return tuple(t.transform_bounds(*bbox, densify_pts=21))  # type: ignore[return-value]


def bbox_centre_wgs84(bbox: Bounds) -> tuple[float, float]:
    """(latitude, longitude) [degrees] of the bbox's centre."""
    t = Transformer.from_crs(config.WORKING_CRS, config.WGS84, always_xy=True)
    lon, lat = t.transform((bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2)
    return float(lat), float(lon)


def commune_bbox(code_insee: str, *, client: httpx.Client | None = None) -> tuple[str, Bounds]:
    """Name and Lambert-93 bbox [m] of a commune's contour, from geo.api.gouv.fr ``/communes/{code}``."""
    code = str(code_insee).strip().upper()
    if not (len(code) == 5 and (code.isdigit() or code[:2] in ("2A", "2B"))):
        raise InvalidRequestError(f"'{code_insee}' is not an INSEE commune code (5 characters, e.g. 62498)")
    url = f"{config.GEO_API_URL}/communes/{code}"
    params = {"fields": "nom,code", "format": "geojson", "geometry": "contour"}
    with _http.client_or_new(client) as c:
        feature = _http.get_json(c, url, params=params)
    try:
        geom = shapely.geometry.shape(feature["geometry"])
        name = str(feature["properties"]["nom"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DownloadError(_http._full_url(url, params), "the answer is not a GeoJSON commune contour") from exc
    t = Transformer.from_crs(config.WGS84, config.WORKING_CRS, always_xy=True)
    xmin, ymin, xmax, ymax = t.transform_bounds(*geom.bounds, densify_pts=21)
    return name, (float(xmin), float(ymin), float(xmax), float(ymax))


# ---------------------------------------------------------------------------
# IGN Géoplateforme WFS (BD TOPO, LiDAR HD indexes)
# ---------------------------------------------------------------------------

def _wfs_features(client: httpx.Client, typename: str, bbox: Bounds, *, page_size: int) -> tuple[list[dict], str]:
    """All features of ``typename`` meeting ``bbox`` (Lambert-93), following STARTINDEX/COUNT pages.

    Pages are sorted on the layer's stable key (:data:`geo.config.WFS_SORT_KEYS`, ``SORTBY``) so
    that they neither skip nor repeat features, and paging goes on while ``numberMatched`` says
    features remain, even after a short page (a server may return fewer than COUNT). Without
    ``numberMatched``, a short page is the last.

    Returns the features and the CRS of their coordinates.

    Raises
    ------
    DownloadError
        The server returns an empty page before ``numberMatched`` features came.
    """
    features: list[dict] = []
    crs = config.WORKING_CRS
    start = 0
    while True:
        params = {
            "SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature", "TYPENAMES": typename,
            "OUTPUTFORMAT": "application/json", "SRSNAME": config.WORKING_CRS,
            "BBOX": f"{bbox[0]:.2f},{bbox[1]:.2f},{bbox[2]:.2f},{bbox[3]:.2f},urn:ogc:def:crs:EPSG::2154",
            "STARTINDEX": start, "COUNT": page_size,
        }
        if typename in config.WFS_SORT_KEYS:
            params["SORTBY"] = f"{config.WFS_SORT_KEYS[typename]} ASC"
        page = _http.get_json(client, config.IGN_WFS_URL, params=params)
        if not isinstance(page, dict) or not isinstance(page.get("features"), list):
            raise DownloadError(_http._full_url(config.IGN_WFS_URL, params), "the answer is not a GeoJSON FeatureCollection")
        name = (page.get("crs") or {}).get("properties", {}).get("name")
        if name:
            crs = CRS.from_user_input(name).to_string()
        got = page["features"]
        features.extend(got)
        matched = page.get("numberMatched")
        start += len(got)
        total = int(matched) if isinstance(matched, int | str) and str(matched).isdigit() else None
        if total is None:
            if not got or len(got) < page_size:
                break
        elif start >= total:
            break
        elif not got:
            raise DownloadError(_http._full_url(config.IGN_WFS_URL, params),
                                f"the server sent {start} of the {total} {typename} features it matched, then none")
    return features, crs


def get_buildings(bbox: Bounds, data_dir: str | Path, *, client: httpx.Client | None = None,
                  page_size: int = config.IGN_WFS_PAGE_SIZE) -> Path:
    """BD TOPO v3 buildings meeting ``bbox`` [m, Lambert-93] → ``rooftops/batiment.gpkg`` (layer ``batiment``).

    Returns
    -------
    Path
        The GeoPackage, in Lambert-93, with the WFS properties (``cleabs``, ``hauteur``, ``usage_1``…),
        read back by :func:`geo.io.buildings.read_footprints` before it is kept.
    """
    from geo.io.buildings import read_footprints
    from geo.io.vectors import write_gpkg

    dest = Path(data_dir) / "rooftops" / "batiment.gpkg"
    with _http.client_or_new(client) as c:
        features, crs = _wfs_features(c, config.BDTOPO_WFS_TYPENAME, bbox, page_size=page_size)
    if not features:
        raise ArtoisError(f"{config.IGN_WFS_URL}: no BD TOPO building in bbox {tuple(round(v) for v in bbox)}")
    gdf = gpd.GeoDataFrame.from_features(features, crs=crs)
    if "cleabs" in gdf.columns:
        gdf = gdf.drop_duplicates("cleabs")
    if CRS.from_user_input(gdf.crs) != CRS.from_user_input(config.WORKING_CRS):
        gdf = gdf.to_crs(config.WORKING_CRS)
    with atomic_path(dest) as tmp:
        write_gpkg(tmp, {"batiment": gdf})
        read_footprints(tmp)
    log.info("%s: %d buildings", dest, len(gdf))
    return dest


def communes_in_bbox(bbox: Bounds, *, departement: str, client: httpx.Client | None = None) -> list[str]:
    """INSEE codes of the communes of ``departement`` whose contour meets ``bbox`` [m, Lambert-93]
    (geo.api.gouv.fr ``/communes?codeDepartement=…&geometry=contour``)."""
    params = {"codeDepartement": str(departement).strip().upper(), "fields": "nom,code", "format": "geojson",
              "geometry": "contour"}
    with _http.client_or_new(client) as c:
        doc = _http.get_json(c, f"{config.GEO_API_URL}/communes", params=params)
    try:
        gdf = gpd.GeoDataFrame.from_features(doc["features"], crs=config.WGS84).to_crs(config.WORKING_CRS)
        codes = gdf.loc[gdf.intersects(shapely.box(*bbox)), "code"].astype(str)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DownloadError(_http._full_url(f"{config.GEO_API_URL}/communes", params),
                            "the answer is not a GeoJSON of communes") from exc
    return sorted(codes)


def get_cadastre_buildings(bbox: Bounds, data_dir: str | Path, *, departement: str = config.FETCH_DEFAULT_DEPARTEMENT,
                           client: httpx.Client | None = None) -> Path:
    """The cadastre's buildings meeting ``bbox`` [m, Lambert-93] → ``rooftops/batiment.gpkg`` (layer ``batiment``).

    One ``cadastre-{insee}-batiments.json.gz`` (:data:`geo.config.CADASTRE_URL_TEMPLATE`) per commune
    of ``departement`` meeting the box, gunzipped, reprojected to Lambert-93, clipped to the
    buildings meeting the box, with the cadastre's own fields (``id``, ``commune``, ``nom``,
    ``type``, ``created``, ``updated``), so that :func:`geo.io.buildings.read_footprints` reads it
    as the cadastre. Buildings on a commune boundary listed by both communes are kept once.
    """
    from geo.io.buildings import read_footprints
    from geo.io.vectors import read_vector, write_gpkg

    dest = Path(data_dir) / "rooftops" / "batiment.gpkg"
    dest.parent.mkdir(parents=True, exist_ok=True)
    parts: list[gpd.GeoDataFrame] = []
    with _http.client_or_new(client) as c:
        codes = communes_in_bbox(bbox, departement=departement, client=c)
        if not codes:
            raise ArtoisError(f"{config.GEO_API_URL}: no commune of département {departement} meets bbox "
                              f"{tuple(round(v) for v in bbox)}")
        with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".cadastre-") as tmpdir:
            for code in codes:
                url = config.CADASTRE_URL_TEMPLATE.format(dep=code[:2], insee=code)
                raw = Path(tmpdir) / f"cadastre-{code}-batiments.json"
                _http.download(c, url, raw, gunzip=True)
                try:
                    gdf = read_vector(raw, crs=config.WORKING_CRS, geometry_types=("Polygon",), allow_empty=True)
                except ArtoisError as exc:
                    raise DownloadError(url, f"not a GeoJSON of buildings ({exc})") from exc
                parts.append(gdf[gdf.intersects(shapely.box(*bbox))])
    gdf = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=config.WORKING_CRS)
    if gdf.empty:
        raise ArtoisError(f"{config.CADASTRE_URL_TEMPLATE.split('/communes/')[0]}: no cadastre building in bbox "
                          f"{tuple(round(v) for v in bbox)} (communes {', '.join(codes)})")
    if "id" in gdf.columns and gdf["id"].notna().all():
        gdf = gdf.drop_duplicates("id")
    with atomic_path(dest) as tmp:
        write_gpkg(tmp, {"batiment": gdf})
        read_footprints(tmp)
    log.info("%s: %d cadastre buildings from %d commune(s)", dest, len(gdf), len(codes))
    return dest


def get_lidar_tiles(
    bbox: Bounds,
    data_dir: str | Path,
    *,
    kinds: Iterable[str] = ("MNS", "MNT"),
    client: httpx.Client | None = None,
    use_index: bool = True,
    overwrite: bool = False,
    on_file: Callable[[Path], None] | None = None,
) -> list[Path]:
    """IGN LiDAR HD tiles covering ``bbox`` [m, Lambert-93] → ``rooftops/lidar/LHD_FXX_…_{kind}_….tif``.

    Parameters
    ----------
    kinds
        ``"MNS"`` (surface model) and/or ``"MNT"`` (terrain).
    use_index
        Look the tiles up in the Géoplateforme WFS index (their published names and URLs; tiles not
        published yet are logged and skipped); else build each URL from
        :data:`geo.config.LIDAR_WMS_URL_TEMPLATE`.
    overwrite
        Download a tile again even when a file of that name is already there.

    Returns
    -------
    list of Path
        The tile files (existing ones included), each checked with :func:`geo.io.rasters.read_raster`.
    """
    from geo.io.rasters import read_raster

    folder = Path(data_dir) / "rooftops" / "lidar"
    wanted = tiles_for_bbox(bbox)
    out: list[Path] = []
    with _http.client_or_new(client) as c:
        for kind in kinds:
            kind = kind.upper()
            if kind not in config.LIDAR_WFS_TYPENAMES:
                raise InvalidRequestError(f"unknown LiDAR HD product '{kind}' (MNS or MNT)")
            urls: dict[tuple[int, int], str] = {}
            if use_index:
                feats, _ = _wfs_features(c, config.LIDAR_WFS_TYPENAMES[kind], bbox, page_size=config.IGN_WFS_PAGE_SIZE)
                for f in feats:
                    props = f.get("properties") or {}
                    tile = _index_tile(props)
                    if tile is not None and tile.kind == kind and props.get("url"):
                        urls[(tile.x_km, tile.y_km)] = str(props["url"])
                missing = [t for t in wanted if t not in urls]
                names = ", ".join(f"{x:04d}_{y:04d}" for x, y in missing)
                if len(missing) == len(wanted):
                    raise ArtoisError(f"{config.IGN_WFS_URL}: no IGN LiDAR HD {kind} tile in the index for bbox "
                                      f"{tuple(round(v) for v in bbox)} (tiles {names}): LiDAR HD is not "
                                      "published there yet; check https://cartes.gouv.fr (LiDAR HD coverage)")
                if missing:
                    log.warning("LiDAR HD %s: %d tile(s) of the area not in IGN's index (not published yet?): %s",
                                kind, len(missing), names)
            else:
                half = config.LIDAR_PIXEL_SIZE_M / 2
                for x, y in wanted:
                    urls[(x, y)] = config.LIDAR_WMS_URL_TEMPLATE.format(
                        kind=kind, xmin=x * 1000 - half, ymin=(y - 1) * 1000 + half, xmax=(x + 1) * 1000 - half,
                        ymax=y * 1000 + half, name=lidar_tile_name(x, y, kind))
            for x, y in wanted:
                if (x, y) not in urls:
                    continue
                dest = folder / lidar_tile_name(x, y, kind)
                if dest.exists() and not overwrite:
                    log.info("%s: already there, kept", dest)
                else:
                    _http.download(c, urls[(x, y)], dest, check=read_raster)
                out.append(dest)
                if on_file is not None:
                    on_file(dest)
    return out


def _index_tile(props: dict) -> LidarTile | None:
    """The tile of a LiDAR HD index feature, from ``name_download``, ``name`` or the ``url``'s file
    name; the index's ``name`` has no extension (LHD_FXX_0687_7038_MNS_O_0M50_LAMB93_IGN69)."""
    for value in (props.get("name_download"), props.get("name"), str(props.get("url") or "").rsplit("/", 1)[-1]):
        name = str(value or "").strip()
        if name and not name.lower().endswith((".tif", ".tiff")):
            name += ".tif"
        tile = parse_lidar_tile(name) if name else None
        if tile is not None:
            return tile
    return None


# ---------------------------------------------------------------------------
# BAN, communes, PVGIS
# ---------------------------------------------------------------------------

def get_ban(data_dir: str | Path, *, departement: str = config.FETCH_DEFAULT_DEPARTEMENT, bbox: Bounds | None = None,
            client: httpx.Client | None = None) -> Path:
    """BAN addresses of a département → ``rooftops/adresses-{dep}.csv``, clipped to ``bbox`` when given.

    The gzipped national file is streamed and decompressed; with ``bbox`` [m, Lambert-93] only the rows
    whose ``x``/``y`` (else ``lon``/``lat`` projected to Lambert-93) fall inside it are kept. The result
    is read back with :func:`geo.io.ban.read_ban`. Département codes are written as the BAN names its
    files: ``62``, ``2A``, ``2B`` (upper case: ``adresses-2A.csv.gz``).
    """
    from geo.io.ban import read_ban

    dep = str(departement).strip().upper()
    dest = Path(data_dir) / "rooftops" / f"adresses-{dep}.csv"
    url = config.BAN_CSV_URL_TEMPLATE.format(dep=dep)
    with _http.client_or_new(client) as c:
        if bbox is None:
            _http.download(c, url, dest, gunzip=True, check=read_ban)
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".ban-") as tmpdir:
            full = Path(tmpdir) / dest.name
            _http.download(c, url, full, gunzip=True)
            with atomic_path(dest) as tmp:
                kept = _clip_ban(full, tmp, bbox)
                if kept == 0:
                    raise ArtoisError(f"{url}: no address of département {dep} in bbox {tuple(round(v) for v in bbox)}")
                read_ban(tmp)
    log.info("%s: %d addresses in the area", dest, kept)
    return dest


def _clip_ban(src: Path, dest: Path, bbox: Bounds) -> int:
    """Copy the header and the rows of ``src`` whose x/y [m] fall in ``bbox``; return the rows kept.

    A row with empty ``x``/``y`` is placed by its ``lon``/``lat`` [degrees] projected to Lambert-93
    (as :func:`geo.io.ban.read_ban` does); a row with neither is dropped.
    """
    xmin, ymin, xmax, ymax = bbox
    kept = 0
    to_l93 = Transformer.from_crs(config.WGS84, config.WORKING_CRS, always_xy=True)
    with open(src, encoding="utf-8", newline="") as fin, open(dest, "w", encoding="utf-8", newline="") as fout:
        reader = csv.reader(fin, delimiter=";")
        writer = csv.writer(fout, delimiter=";", lineterminator="\n")
        try:
            header = next(reader)
        except StopIteration as exc:
            raise InputError(src, "empty file") from exc
        if "x" not in header or "y" not in header:
            raise InputError(src, f"not a BAN address file: no x/y columns (found: {', '.join(header[:12])})")
        ix, iy = header.index("x"), header.index("y")
        lonlat = (header.index("lon"), header.index("lat")) if {"lon", "lat"} <= set(header) else None
        writer.writerow(header)
        for row in reader:
            try:
                x, y = float(row[ix]), float(row[iy])
            except (ValueError, IndexError):
                try:
                    if lonlat is None:
                        continue
                    x, y = to_l93.transform(float(row[lonlat[0]]), float(row[lonlat[1]]))
                except (ValueError, IndexError):
                    continue
            if not (math.isfinite(x) and math.isfinite(y)):
                continue
            if xmin <= x <= xmax and ymin <= y <= ymax:
                writer.writerow(row)
                kept += 1
    return kept


def get_communes(data_dir: str | Path, *, departement: str = config.FETCH_DEFAULT_DEPARTEMENT,
                 client: httpx.Client | None = None) -> Path:
    """Communes of a département with their contours → ``parks/communes.geojson`` (as geo.api.gouv.fr sends it)."""
    from geo.io.communes import read_communes

    dest = Path(data_dir) / "parks" / "communes.geojson"
    params = {"codeDepartement": str(departement).strip().upper(), "fields": config.GEO_API_COMMUNE_FIELDS,
              "format": "geojson", "geometry": "contour"}
    with _http.client_or_new(client) as c:
        _http.download(c, f"{config.GEO_API_URL}/communes", dest, params=params, check=read_communes)
    return dest


def get_pvgis_tmy(latitude: float, longitude: float, data_dir: str | Path, *,
                  client: httpx.Client | None = None) -> Path:
    """PVGIS typical meteorological year at (``latitude``, ``longitude``) [degrees] → ``rooftops/weather.json``.

    The JSON is the PVGIS API's own (read by :func:`geo.io.weather.read_pvgis_tmy`, which the irradiance
    stage uses for ``rooftops/weather.json``). PVGIS's own horizon is turned off (``usehorizon=0``; the
    API's default 1 shades the beam with its coarse DEM horizon): the solar engine shades the beam with
    the horizon it computes from the DSM, and would otherwise shade it twice.
    """
    from geo.io.weather import read_pvgis_tmy

    dest = Path(data_dir) / "rooftops" / "weather.json"
    params = {"lat": f"{latitude:.5f}", "lon": f"{longitude:.5f}", "usehorizon": "0", "outputformat": "json"}
    with _http.client_or_new(client) as c:
        _http.download(c, config.PVGIS_API_URL + "tmy", dest, params=params, check=read_pvgis_tmy)
    return dest


# ---------------------------------------------------------------------------
# OpenStreetMap (Overpass)
# ---------------------------------------------------------------------------

def overpass_query(bbox: Bounds) -> str:
    """The Overpass QL query of the parks stage's OSM data in ``bbox`` [m, Lambert-93], as OSM XML.

    Every ``highway`` way and the green spaces of :data:`geo.config.PARKS_OSM_GREEN_TAGS` (ways and
    multipolygons) with their nodes and member ways (``(._;>;)``); the cycle route relations meeting
    the box with only their member ways that meet it (and those ways' nodes): recursing down a
    relation (``>``) would pull whole long-distance routes (a EuroVelo crosses countries).
    """
    west, south, east, north = bbox_to_wgs84(bbox)
    # 6 decimals (~0.1 m), rounded outwards so the box still contains the area
    south, west = (math.floor(v * 1e6) / 1e6 for v in (south, west))
    north, east = (math.ceil(v * 1e6) / 1e6 for v in (north, east))
    box = f"{south:.6f},{west:.6f},{north:.6f},{east:.6f}"
    parts = ['  way["highway"];']
    for key, values in sorted(config.PARKS_OSM_GREEN_TAGS.items()):
        regex = "|".join(sorted(values))
        parts.append(f'  way["{key}"~"^({regex})$"];')
        parts.append(f'  relation["type"="multipolygon"]["{key}"~"^({regex})$"];')
    return (f"[out:xml][timeout:{config.OVERPASS_TIMEOUT_S}][bbox:{box}];\n(\n" + "\n".join(parts)
            + "\n);\n(._;>;)->.main;\n"
            + 'relation["route"="bicycle"]->.routes;\n'
            + f"way(r.routes)({box})->.route_ways;\n"
            + "(.main; .routes; .route_ways; .route_ways >;);\nout body;\n")


def get_osm(bbox: Bounds, data_dir: str | Path, *, client: httpx.Client | None = None,
            on_file: Callable[[Path], None] | None = None) -> list[Path]:
    """OpenStreetMap data of ``bbox`` [m, Lambert-93] → ``parks/osm.osm`` and the parks stage's layers.

    The Overpass XML is kept as ``parks/osm.osm``; :mod:`geo.io.osm` then reads its parks and green
    spaces, greenway candidates and walk network, written as ``parks/parcs.gpkg`` (layer ``parcs``),
    ``parks/voies_vertes.gpkg`` (``voies_vertes``, when there is any) and ``parks/reseau_pietons.gpkg``
    (``reseau``), in Lambert-93, which ``artois build`` reads.
    """
    from geo.io import parks
    from geo.io.vectors import write_gpkg

    folder = Path(data_dir) / "parks"
    osm_path = folder / "osm.osm"
    with _http.client_or_new(client) as c:
        # The server may work up to OVERPASS_TIMEOUT_S on the query: wait for it, and do not send a
        # query that timed out again (busy servers answer 429/504, which are retried).
        _http.download(c, config.OVERPASS_URL, osm_path, method="POST", data={"data": overpass_query(bbox)},
                       check=_check_osm, timeout_s=config.OVERPASS_READ_TIMEOUT_S, retry_timeouts=False)
    written = [osm_path]
    if on_file is not None:
        on_file(osm_path)
    layers: list[tuple[str, str, Callable[[Path], gpd.GeoDataFrame], bool]] = [
        ("parcs.gpkg", "parcs", parks.read_parks, True),
        ("voies_vertes.gpkg", "voies_vertes", parks.read_greenways, False),
        ("reseau_pietons.gpkg", "reseau", parks.read_streets, True),
    ]
    for name, layer, reader, required in layers:
        gdf = reader(osm_path)
        if gdf.empty and not required:
            log.info("%s: no %s in the OSM data, not written", folder / name, layer)
            continue
        write_gpkg(folder / name, {layer: gdf})
        written.append(folder / name)
        if on_file is not None:
            on_file(folder / name)
    return written


def _check_osm(path: Path) -> None:
    body = path.read_bytes()
    head = body[:2000].lstrip()
    if not head.startswith(b"<?xml") and not head.startswith(b"<osm"):
        raise DownloadError(config.OVERPASS_URL, f"the answer is not OSM XML ({head[:60]!r}…)")
    if b"<remark>" in body[-4000:]:  # Overpass reports run-time errors (time-outs…) as a remark
        raise DownloadError(config.OVERPASS_URL, "Overpass stopped the query (see its <remark>): try a smaller bbox")
    from geo.io.osm import read_osm_network

    read_osm_network(path)


# ---------------------------------------------------------------------------
# Everything for an area
# ---------------------------------------------------------------------------

def fetch_area(
    out_dir: str | Path,
    bbox: Bounds,
    *,
    only: Iterable[str] = SOURCES,
    departement: str = config.FETCH_DEFAULT_DEPARTEMENT,
    clip_ban: bool = True,
    client: httpx.Client | None = None,
    max_area_km2: float = config.FETCH_MAX_AREA_KM2,
    on_file: Callable[[str, Path], None] | None = None,
    footprints: str = "bdtopo",
) -> dict[str, list[Path]]:
    """Download every source of ``only`` for ``bbox`` [m, Lambert-93] into ``out_dir`` (docs/formats.md layout).

    ``footprints`` says where ``rooftops/batiment.gpkg`` comes from: ``bdtopo`` (IGN BD TOPO, with
    heights and uses) or ``cadastre`` (the cadastre's buildings, the outlines of the land registry).

    Returns
    -------
    dict
        Source name → files written, in :data:`SOURCES` order.
    """
    bbox = check_bbox(bbox, max_area_km2=max_area_km2)
    wanted = list(dict.fromkeys(only))
    unknown = [s for s in wanted if s not in SOURCES]
    if unknown:
        raise InvalidRequestError(f"unknown source(s) {', '.join(unknown)} (choose from {', '.join(SOURCES)})")
    if footprints not in config.FETCH_FOOTPRINT_SOURCES:
        raise InvalidRequestError(f"unknown footprint source '{footprints}' "
                                  f"(choose from {', '.join(config.FETCH_FOOTPRINT_SOURCES)})")
    out = Path(out_dir)
    done: dict[str, list[Path]] = {}

    def note(source: str) -> Callable[[Path], None]:
        return lambda p: on_file(source, p) if on_file is not None else None

    with _http.client_or_new(client) as c:
        for source in SOURCES:
            if source not in wanted:
                continue
            files: list[Path]
            if source == "communes":
                files = [get_communes(out, departement=departement, client=c)]
            elif source == "lidar":
                files = get_lidar_tiles(bbox, out, client=c, on_file=note(source))
            elif source == "batiment" and footprints == "cadastre":
                files = [get_cadastre_buildings(bbox, out, departement=departement, client=c)]
            elif source == "batiment":
                files = [get_buildings(bbox, out, client=c)]
            elif source == "ban":
                files = [get_ban(out, departement=departement, bbox=bbox if clip_ban else None, client=c)]
            elif source == "pvgis":
                lat, lon = bbox_centre_wgs84(bbox)
                files = [get_pvgis_tmy(lat, lon, out, client=c)]
            else:
                files = get_osm(bbox, out, client=c, on_file=note(source))
            if source not in ("lidar", "osm"):
                for f in files:
                    note(source)(f)
            done[source] = files
    return done

