"""What the lookup, parks, statistics and export routes do, delegating to :mod:`geo` and the readers.

Routers parse and render; the functions here find the features through the spatial index and call
the computation modules (:mod:`geo.roofs.economics`, :mod:`geo.parks`), with French messages for
the errors a user can cause.
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import logging
import math
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from api.geocoder import AddressIndex
from api.geojson import clean_properties, clean_value, features_to_geojson
from api.io.gpkg import SpatialFilter
from api.layers import Catalog, Collection
from api.settings import Settings
from geo import config
from geo.errors import InputError, InvalidRequestError, NotFoundError
from geo.parks import ParksModel, load_network, route, service_area
from geo.products import BuildFolder, rooftops
from geo.products import parks as parks_product
from geo.products import sites as sites_product
from geo.roofs.economics import FaceSet, Options, Simulation, Tariffs, assumptions, default_options
from geo.roofs.economics import simulate as economics_simulate
from geo.types import WeatherInfo

log = logging.getLogger("artois.api")

# -- roof lookup -----------------------------------------------------------------------------------


def weather_info(catalog: Catalog, building_props: dict[str, Any] | None = None) -> dict[str, Any]:
    """The weather of the irradiation: the raster's, else the ``site`` table's, else the building's ``weather_source``."""
    info = catalog.raster.weather if catalog.raster is not None else None
    if info is None:
        info = site_weather(catalog)
    if info is None:
        return {"source": (building_props or {}).get("weather_source"), "location": None, "period": None,
                "approximate": None}
    return {"source": info.source, "location": info.location or None, "period": info.period or None,
            "approximate": info.approximate}


def site_weather(catalog: Catalog) -> WeatherInfo | None:
    """The weather recorded in the ``site`` table of the solar cadastre (read once), None without it."""
    store = catalog.stores.get(rooftops.FILE)
    if store is None:
        return None
    path = store.path

    def read() -> WeatherInfo | None:
        try:
            return rooftops.read_site(path).weather
        except InputError:
            return None

    info: WeatherInfo | None = catalog.cached(f"{rooftops.SITE.name}_weather", read)
    return info


def building_at(buildings: Collection, lon: float, lat: float) -> tuple[int, dict[str, Any], shapely.Geometry]:
    """(fid, attributes, footprint) of the building under a WGS84 point; :class:`NotFoundError` if none."""
    x, y = buildings.point_from_wgs84(lon, lat)
    if not (np.isfinite(x) and np.isfinite(y)):
        raise NotFoundError(f"Aucun bâtiment à ce point ({lon:.6f}, {lat:.6f}).")
    pt = shapely.Point(x, y)
    feats = buildings.read(spatial=SpatialFilter((x, y, x, y), None, pt))
    if not len(feats):
        raise NotFoundError(
            f"Aucun bâtiment du cadastre solaire à ce point ({lon:.6f}, {lat:.6f}). "
            "Cliquez sur un toit ou cherchez une adresse."
        )
    i = int(np.argmin(shapely.area(feats.geometries))) if len(feats) > 1 else 0  # the innermost one
    return int(feats.fids[i]), feats.properties[i], feats.geometries[i]


def roof_faces_of(catalog: Catalog, building_id: str, footprint: shapely.Geometry) -> Any:
    """Features of the roof faces of one building (found through the index by its footprint)."""
    faces = catalog.collection(rooftops.ROOF_FACES.name)
    return faces.read(
        spatial=SpatialFilter(_bounds(footprint)),
        equals={"building_id": building_id},
    )


def _bounds(geom: shapely.Geometry) -> tuple[float, float, float, float]:
    b = shapely.bounds(geom).tolist()
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))


def roof_at(catalog: Catalog, lon: float, lat: float) -> dict[str, Any]:
    """The building under (lon, lat) [°] with its faces (best production first) and the weather source: the
    body of ``GET /api/roof`` (api.models.RoofResponse), JSON-ready."""
    buildings = catalog.collection(rooftops.BUILDINGS.name)
    fid, props, footprint = building_at(buildings, lon, lat)
    faces_out: list[dict[str, Any]] = []
    if rooftops.ROOF_FACES.name in catalog.collections and props.get("building_id") is not None:
        faces = roof_faces_of(catalog, str(props["building_id"]), footprint)
        faces_layer = catalog.collection(rooftops.ROOF_FACES.name)
        if _same_crs(catalog, buildings, faces_layer):  # the building and its faces reprojected in one call
            from api.io.gpkg import Features

            both = Features(np.concatenate([[fid], faces.fids]), [props, *faces.properties],
                            np.concatenate([np.array([footprint], dtype=object), faces.geometries]))
            building, *faces_out = features_to_geojson(buildings, both)
        else:
            building = features_to_geojson(buildings, _one(fid, props, footprint))[0]
            faces_out = features_to_geojson(faces_layer, faces)
        faces_out.sort(key=lambda f: -(f["properties"].get("production_kwh_yr") or 0.0))
    else:
        building = features_to_geojson(buildings, _one(fid, props, footprint))[0]
    for feature in (building, *faces_out):
        feature["links"] = None  # as api.models.Feature renders it: the body is sent without a model pass
    return {"building": building, "faces": faces_out, "weather": weather_info(catalog, props),
            "data_quality": data_quality(props)}


def _same_crs(catalog: Catalog, a: Collection, b: Collection) -> bool:
    """Whether two collections share their CRS (compared once)."""
    same: bool = catalog.cached(f"same_crs:{a.id}:{b.id}", lambda: a.info.crs == b.info.crs)
    return same


# -- data quality (issue 13) ------------------------------------------------------------------------

#: buildings layer column → key of the ``data_quality`` block (docs/data-dictionary.md).
_DATA_QUALITY = {"dq_offset_m": "offset_m", "dq_outline_change_m": "outline_change_m",
                 "dq_roof_share": "roof_share", "dq_plane_rms_m": "plane_rms_m", "dq_tree_share": "tree_share"}


def data_quality(props: dict[str, Any]) -> dict[str, Any] | None:
    """How well the building's footprint and the LiDAR agree (``dq_*`` columns), or None for a build
    without them."""
    if not any(k in props for k in _DATA_QUALITY):
        return None
    out: dict[str, Any] = {}
    for col, key in _DATA_QUALITY.items():
        v = props.get(col)
        out[key] = None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
    out["status"] = props.get("status")
    return out


def _one(fid: int, props: dict[str, Any], geom: shapely.Geometry) -> Any:
    from api.io.gpkg import Features

    return Features(np.array([fid], np.int64), [props], np.array([geom], dtype=object))


# -- simulation -------------------------------------------------------------------------------------


def building_by_id(catalog: Catalog, building_id: str) -> tuple[int, dict[str, Any], shapely.Geometry]:
    """(fid, attributes, footprint) of a building by its ``building_id``; :class:`NotFoundError` if unknown."""
    buildings = catalog.collection(rooftops.BUILDINGS.name)
    fid = buildings.fid_of(building_id)
    feats = buildings.read(fids=[fid])
    return fid, feats.properties[0], feats.geometries[0]


@dataclass(frozen=True)
class SimulateOptions:
    """What a request may set (None = the building's default: its stored owner, profile and consumption)."""

    annual_consumption_kwh: float | None = None
    load_profile: str | None = None
    owner: str | None = None
    vat: str | None = None
    installed_cost_eur: float | None = None
    analysis_years: int | None = None
    escalation: float | None = None
    ems: bool | None = None
    battery_kwh: float | None = None
    loan_rate: float | None = None
    loan_years: int | None = None


def economics_options(props: dict[str, Any], req: SimulateOptions) -> Options:
    """The :class:`geo.roofs.economics.Options` of a request on a building: the building's stored owner,
    load profile and consumption (those of its stored recommendation), overridden by the request."""
    owner = req.owner or str(props.get("owner") or "menage")
    stored_profile = props.get("load_profile") if owner == str(props.get("owner") or "menage") else None
    base = default_options(owner, consumption_kwh=clean_value(props.get("consumption_kwh_yr")) or None)
    if stored_profile:
        base = replace(base, load_profile=str(stored_profile))
    changes = {k: v for k, v in vars(req).items() if v is not None and k != "owner"}
    try:
        return replace(base, **changes).checked()
    except InvalidRequestError as exc:
        raise InvalidRequestError(f"Simulation impossible : {exc}") from exc


def simulate_faces(catalog: Catalog, building_id: str, faces: Any, *, options: Options,
                   kwp: float | None, face_ids: list[str] | None) -> Simulation:
    """:func:`geo.roofs.economics.simulate` on the already read roof faces (``Features``) of ``building_id``."""
    if not len(faces):
        raise NotFoundError(f"Le bâtiment {building_id} n'a aucun pan de toiture dans le cadastre.")
    try:
        return economics_simulate(pd.DataFrame(faces.properties), profiles=pv_profiles(catalog), options=options,
                                  kwp=kwp, face_ids=face_ids)
    except NotFoundError as exc:
        raise NotFoundError(f"Pan(s) de toiture inconnu(s) : {exc}") from exc
    except InvalidRequestError as exc:
        raise InvalidRequestError(f"Simulation impossible : {exc}") from exc


def simulate_with_whole_roof(catalog: Catalog, building_id: str, *, options: SimulateOptions, kwp: float | None,
                             face_ids: list[str] | None) -> tuple[Simulation, Simulation | None]:
    """Economics of an installation on ``building_id`` (:func:`geo.roofs.economics.simulate` with the building's
    options overridden by the request), and for a company or a public owner with no kWp asked, the whole suitable
    roof too."""
    _, props, footprint = building_by_id(catalog, building_id)
    faces = roof_faces_of(catalog, building_id, footprint)
    opts = economics_options(props, options)
    result = simulate_faces(catalog, building_id, faces, options=opts, kwp=kwp, face_ids=face_ids)
    whole = None
    if opts.owner != "menage" and kwp is None and face_ids is None:
        fs = FaceSet.from_frame(pd.DataFrame(faces.properties))
        n = int(fs.n_modules[fs.suitable].sum()) or int(fs.n_modules.sum())
        capacity = n * config.MODULE_PEAK_POWER_WP / 1000.0
        if capacity > result.kwp + 1e-9:
            whole = simulate_faces(catalog, building_id, faces, options=opts, kwp=capacity, face_ids=None)
    return result, whole


def economics_assumptions(result: Simulation) -> list[dict[str, str]]:
    """The assumptions of a simulation with their sources (French), as the report and panel print them."""
    return assumptions(Tariffs.default(result.tariff_quarter))


def simulation_json(result: Simulation) -> dict[str, Any]:
    """The JSON figures of a :class:`geo.roofs.economics.Simulation` (no NaN)."""
    return {k: _jsonable(v) for k, v in result.to_dict().items()}


def pv_profiles(catalog: Catalog) -> dict[str, np.ndarray]:
    """Hourly production profiles by orientation bin (``pv_profiles`` of rooftops.gpkg), read once."""
    store = catalog.stores.get(rooftops.FILE)
    if store is None:
        raise NotFoundError(f"Pas de cadastre solaire dans ce dossier ({rooftops.FILE}).")
    path = store.path
    profiles: dict[str, np.ndarray] = catalog.cached(rooftops.PV_PROFILES.name,
                                                     lambda: rooftops.read_pv_profiles(path))
    return profiles


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [clean_value(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return clean_value(value)


# -- addresses -------------------------------------------------------------------------------------


def find_addresses_file(settings: Settings) -> Path | None:
    """The BAN CSV to use: the configured one, else ``adresses-*.csv`` in the build folder, its
    ``rooftops/`` sub-folder, or the sibling ``data/rooftops/`` folder (``artois build --data data --out build``)."""
    if settings.addresses_path is not None:
        if not settings.addresses_path.is_file():
            raise InputError(settings.addresses_path, "addresses file not found")
        return settings.addresses_path
    d = settings.data_dir
    for folder in (d, d / "rooftops", d.parent / "data" / "rooftops", d.parent / "data"):
        found = sorted(glob.glob(str(folder / "adresses-*.csv")))
        if found:
            return Path(found[0])
    return None


def load_address_index(catalog: Catalog, settings: Settings) -> AddressIndex:
    """The geocoder's index: an ``addresses`` layer of rooftops.gpkg, a BAN CSV, else the buildings' addresses.

    Built once into ``<build>/addresses.sqlite`` (a temporary folder when the build is read-only) and reused
    while the source file's size and modification time are unchanged.
    """
    store = catalog.stores.get(rooftops.FILE)
    load: Callable[[], pd.DataFrame]
    if store is not None and rooftops.ADDRESSES_LAYER in store.layers:
        source, origin = f"{store.path.name}:addresses", store.path

        def load() -> pd.DataFrame:
            info = store.layers[rooftops.ADDRESSES_LAYER]
            feats = store.read(rooftops.ADDRESSES_LAYER)
            df = pd.DataFrame(feats.properties)
            if not {"lon", "lat"} <= set(df.columns):
                from pyproj import Transformer

                pts = shapely.get_coordinates(shapely.centroid(feats.geometries))
                lon, lat = Transformer.from_crs(info.crs, config.WGS84, always_xy=True).transform(pts[:, 0], pts[:, 1])
                df["lon"], df["lat"] = lon, lat
            return df
    elif (path := find_addresses_file(settings)) is not None:
        from api.io.addresses import read_ban_csv

        source, origin = f"BAN {path.name}", path

        def load() -> pd.DataFrame:
            return read_ban_csv(path)
    elif "buildings" in catalog.collections:
        source, origin = "adresses des bâtiments", catalog.collection("buildings").store.path

        def load() -> pd.DataFrame:
            return _building_addresses(catalog.collection("buildings"))
    else:
        source, origin = "aucune adresse", None

        def load() -> pd.DataFrame:
            return pd.DataFrame(columns=["nom_voie", "lon", "lat"])
    key: dict[str, Any] = {"source": source}
    if origin is not None:
        st = origin.stat()
        key |= {"file": str(origin.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    return AddressIndex.open_or_build(address_index_path(settings), key=key, source=source, load=load)


def address_index_path(settings: Settings) -> Path:
    """``<build>/addresses.sqlite``, or a file in the temporary folder named after the build when the build
    folder is not writable."""
    target = BuildFolder(settings.data_dir).addresses
    if os.access(settings.data_dir, os.W_OK):
        return target
    digest = hashlib.sha256(str(settings.data_dir.resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"artois-addresses-{digest}.sqlite"


def _building_addresses(buildings: Collection) -> pd.DataFrame:
    """The BAN fields the build stored on each building (``address_*`` columns), in the geocoder's layout."""
    from geo.roofs.aggregate import ADDRESS_FIELDS as fields

    columns = [*fields.values(), "code_insee", "lon", "lat"]
    if not set(fields) <= set(buildings.info.column_names):
        return pd.DataFrame(columns=columns)
    feats = buildings.read(columns=[*fields, *(c for c in ("code_insee",) if c in buildings.info.column_names)])
    pts = shapely.get_coordinates(shapely.point_on_surface(feats.geometries))
    lon, lat = buildings.to_wgs84.transform(pts[:, 0], pts[:, 1])
    rows = [{**{ban: p.get(col) or "" for col, ban in fields.items()}, "code_insee": p.get("code_insee") or "",
             "lon": x, "lat": y}
            for p, x, y in zip(feats.properties, lon, lat, strict=True) if p.get("address_street")]
    return pd.DataFrame(rows, columns=columns)


# -- parks -----------------------------------------------------------------------------------------


def parks_model(catalog: Catalog) -> ParksModel:
    """The analysed parks network, read once per application from parks.gpkg (:func:`geo.parks.load_network`)."""
    store = catalog.stores.get(parks_product.FILE)
    if store is None:
        raise NotFoundError(f"Pas de couche des parcs dans ce dossier ({parks_product.FILE}).")
    if parks_product.NETWORK_EDGES.name not in store.layers:
        raise NotFoundError(f"Le réseau piéton n'a pas été enregistré (couche {parks_product.NETWORK_EDGES.name}) : "
                            "relancez « artois build ».")
    model: ParksModel = catalog.cached("parks_model", lambda: load_network(store.path))
    return model


def resolve_park(model: ParksModel, ref: str) -> int:
    """Park id of ``ref``: an id, or a park name (accents and case ignored)."""
    parks = model.parks
    ref = ref.strip()
    if re.fullmatch(r"\d{1,12}", ref) and int(ref) in set(parks["park_id"].astype(int)):
        return int(ref)
    from api.geocoder import normalize

    target = normalize(ref)
    matches = [int(p) for p, n in zip(parks["park_id"], parks["nom"], strict=True) if normalize(str(n)) == target]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise InvalidRequestError(f"Plusieurs parcs s'appellent « {ref} » : donnez leur identifiant (park_id).")
    raise NotFoundError(f"Parc inconnu : « {ref} » (identifiant park_id ou nom exact).")


def _geometry_wgs84(model: ParksModel, geom: shapely.Geometry | None) -> dict[str, Any] | None:
    from pyproj import Transformer

    if geom is None or shapely.is_empty(geom):
        return None
    tr = Transformer.from_crs(model.crs, config.WGS84, always_xy=True)
    g = shapely.transform(geom, lambda xy: np.round(np.column_stack(tr.transform(xy[:, 0], xy[:, 1])), 7))
    out: dict[str, Any] = json.loads(shapely.to_geojson(g))
    return out


def park_route(catalog: Catalog, from_ref: str, to_ref: str, *, greenway_preference: float | None) -> dict[str, Any]:
    """GeoJSON Feature of the route between two parks (:func:`geo.parks.routes.route`)."""
    model = parks_model(catalog)
    a, b = resolve_park(model, from_ref), resolve_park(model, to_ref)
    if a == b:
        raise InvalidRequestError("Le parc de départ et le parc d'arrivée sont le même parc.")
    kwargs = {} if greenway_preference is None else {"greenway_preference": greenway_preference}
    try:
        r = route(model, a, b, **kwargs)
    except NotFoundError as exc:
        raise NotFoundError(f"Aucun itinéraire entre ces deux parcs ({exc}).") from exc
    names = dict(zip(model.parks["park_id"].astype(int), model.parks["nom"], strict=True))
    return {
        "type": "Feature", "geometry": _geometry_wgs84(model, r.geometry),
        "properties": clean_properties({
            "from_park": a, "from_nom": names.get(a), "to_park": b, "to_nom": names.get(b),
            "length_m": r.length_m, "greenway_m": r.greenway_m, "share_greenway": r.share_greenway,
            "walk_min": r.walk_min, "bike_min": r.bike_min, "greenway_preference": r.greenway_preference,
        }),
    }


def park_service_area(catalog: Catalog, park_ref: str, *, minutes: float) -> dict[str, Any]:
    """GeoJSON Feature of a park's walking service area (:func:`geo.parks.access.service_area`)."""
    model = parks_model(catalog)
    pid = resolve_park(model, park_ref)
    try:
        sa = service_area(model, pid, minutes=minutes)
    except NotFoundError as exc:
        raise NotFoundError(f"Zone de desserte impossible pour ce parc ({exc}).") from exc
    return {
        "type": "Feature", "geometry": _geometry_wgs84(model, sa.polygon),
        "properties": clean_properties({
            "park_id": pid, "minutes": sa.minutes, "distance_m": sa.distance_m, "population": sa.population,
            "area_ha": float(shapely.area(sa.polygon)) / 1e4 if sa.polygon is not None else None,
        }),
    }


# -- statistics -------------------------------------------------------------------------------------


def commune_stats(catalog: Catalog) -> list[dict[str, Any]]:
    """Per commune and per agglomeration: the row of communes_solar, communes_access and communes_sites."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for layer, key in ((rooftops.COMMUNES_SOLAR.name, "solar"), (parks_product.COMMUNES_ACCESS.name, "access"),
                       (sites_product.COMMUNES_SITES.name, "sites")):
        if layer not in catalog.collections:
            continue
        feats = catalog.collection(layer).read(geometry=False)
        for p in feats.properties:
            level, code = str(p.get("level") or "commune"), str(p.get("code"))
            row = rows.setdefault((level, code), {"level": level, "code": code, "nom": p.get("nom"),
                                                  "epci_siren": p.get("epci_siren"), "solar": None, "access": None,
                                                  "sites": None})
            row[key] = {k: v for k, v in clean_properties(p).items()
                        if k not in ("level", "code", "nom", "epci_siren")}
            row["nom"] = row["nom"] or p.get("nom")
    order = {"epci": 0, "commune": 1}
    return sorted(rows.values(), key=lambda r: (order.get(r["level"], 2), str(r["nom"] or ""), r["code"]))


# -- exports ---------------------------------------------------------------------------------------

EXPORT_LAYERS = (rooftops.ROOF_FACES.name, rooftops.BUILDINGS.name, sites_product.FRICHES.name,
                 sites_product.CAR_PARKS.name)
#: Exported layers that carry their commune's INSEE code themselves (geo/sites/): layer -> column.
_SITE_COMMUNE_COLUMN = {sites_product.FRICHES.name: "comm_insee", sites_product.CAR_PARKS.name: "code_insee"}
EXPORT_FORMATS = {"csv": "text/csv; charset=utf-8", "geojson": "application/geo+json",
                  "gpkg": "application/geopackage+sqlite3"}


def commune_features(catalog: Catalog, layer: str, commune: str, *, max_features: int) -> tuple[Collection, Any]:
    """The features of ``layer`` (roof_faces, buildings, friches or car_parks) of one commune (INSEE code)."""
    if layer in _SITE_COMMUNE_COLUMN:
        sites = catalog.collection(layer)
        col = _SITE_COMMUNE_COLUMN[layer]
        n_sites = sites.count(equals={col: commune})
        if n_sites == 0:
            raise NotFoundError(f"Aucun objet « {layer} » pour la commune {commune}.")
        if n_sites > max_features:
            raise InvalidRequestError(f"Export trop volumineux ({n_sites} objets, maximum {max_features}).")
        return sites, sites.read(equals={col: commune})
    buildings = catalog.collection(rooftops.BUILDINGS.name)
    if "code_insee" not in buildings.info.column_names:
        raise NotFoundError("Les bâtiments n'ont pas de code commune (code_insee).")
    area = _commune_area(catalog, commune)
    spatial = SpatialFilter(area) if area is not None else None
    n = buildings.count(spatial=spatial, equals={"code_insee": commune})
    if n == 0:
        raise NotFoundError(f"Aucun bâtiment pour la commune {commune}.")
    if layer == rooftops.BUILDINGS.name:
        if n > max_features:
            raise InvalidRequestError(f"Export trop volumineux ({n} objets, maximum {max_features}).")
        return buildings, buildings.read(spatial=spatial, equals={"code_insee": commune})
    ids = [str(p["building_id"]) for p in buildings.read(spatial=spatial, equals={"code_insee": commune},
                                                         columns=["building_id"], geometry=False).properties]
    faces = catalog.collection(rooftops.ROOF_FACES.name)
    count = faces.count(spatial=spatial, equals={"building_id": ids})
    if count > max_features:
        raise InvalidRequestError(f"Export trop volumineux ({count} objets, maximum {max_features}).")
    return faces, faces.read(spatial=spatial, equals={"building_id": ids})


def _commune_area(catalog: Catalog, commune: str) -> tuple[float, float, float, float] | None:
    """Bounds of the commune's polygon (communes_solar or communes_access), in the buildings' CRS."""
    for layer in (rooftops.COMMUNES_SOLAR.name, parks_product.COMMUNES_ACCESS.name):
        if layer in catalog.collections:
            c = catalog.collection(layer)
            feats = c.read(equals={"code": commune})
            if len(feats) and catalog.collection(rooftops.BUILDINGS.name).info.crs == c.info.crs:
                return tuple(shapely.total_bounds(feats.geometries).tolist())  # type: ignore[return-value]
    return None


def export(catalog: Catalog, settings: Settings, layer: str, commune: str, fmt: str) -> tuple[bytes, str, str]:
    """(content, media type, file name) of a commune's roof faces or buildings as CSV, GeoJSON or GeoPackage.

    CSV: ';'-separated, UTF-8 with BOM (opens in French spreadsheets), one row per feature, the
    attributes plus ``lon``/``lat`` [°] of a point inside the feature. GeoJSON: WGS84. GeoPackage: the
    layer's CRS (Lambert-93), written by :func:`geo.io.vectors.write_gpkg`.
    """
    if layer not in EXPORT_LAYERS:
        raise NotFoundError(f"Export impossible pour la couche « {layer} » (possibles : {', '.join(EXPORT_LAYERS)}).")
    coll, feats = commune_features(catalog, layer, commune, max_features=settings.export_max_features)
    filename = f"{layer}_{commune}.{fmt}"
    if fmt == "geojson":
        body = {"type": "FeatureCollection", "name": f"{layer}_{commune}", "features": features_to_geojson(coll, feats)}
        return json.dumps(body, ensure_ascii=False).encode("utf-8"), EXPORT_FORMATS[fmt], filename
    df = pd.DataFrame([clean_properties(p) for p in feats.properties])
    if fmt == "csv":
        pts = shapely.get_coordinates(shapely.point_on_surface(feats.geometries))
        lon, lat = coll.to_wgs84.transform(pts[:, 0], pts[:, 1])
        df["lon"], df["lat"] = np.round(lon, 7), np.round(lat, 7)
        buf = io.StringIO()
        df.to_csv(buf, sep=";", index=False)
        return buf.getvalue().encode("utf-8-sig"), EXPORT_FORMATS[fmt], filename
    if fmt == "gpkg":
        import geopandas as gpd

        from geo.io.vectors import write_gpkg

        gdf = gpd.GeoDataFrame(df, geometry=list(feats.geometries), crs=coll.info.crs)
        with tempfile.TemporaryDirectory(prefix="artois-export-") as tmp:
            path = write_gpkg(Path(tmp) / filename, {layer: gdf})
            return path.read_bytes(), EXPORT_FORMATS[fmt], filename
    raise InvalidRequestError(f"Format inconnu : {fmt}")


# -- planner scenarios (issue 15) -------------------------------------------------------------------


def park_scenario(catalog: Catalog, *, gaps: list[str] | None, line: dict[str, Any] | None) -> dict[str, Any]:
    """GeoJSON FeatureCollection of a planner scenario (:mod:`geo.parks.scenario`): the link built, the changed
    routes and the new loop as features, the gains in ``properties`` (a GeoJSON foreign member)."""
    from pyproj import Transformer

    from geo.parks.scenario import gaps_scenario, line_scenario

    model = parks_model(catalog)
    try:
        if gaps:
            ids = [int(g) for g in gaps]
            effect = gaps_scenario(model, ids)
        else:
            assert line is not None
            geom = shapely.from_geojson(json.dumps(line))
            tr = Transformer.from_crs(config.WGS84, model.crs, always_xy=True)
            geom = shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
            effect = line_scenario(model, geom)
    except shapely.errors.GEOSException as exc:
        raise InvalidRequestError(f"Scénario impossible : tracé hors de la zone projetable ({exc}).") from exc
    except ValueError as exc:
        raise InvalidRequestError(f"Scénario impossible : identifiant de lien invalide ({exc}).") from exc
    except NotFoundError as exc:
        raise NotFoundError(f"Scénario impossible : {exc}.") from exc
    except InvalidRequestError as exc:
        raise InvalidRequestError(f"Scénario impossible : {exc}.") from exc
    sc = effect.scenario
    names = {int(p): str(n) for p, n in zip(model.parks["park_id"], model.parks["nom"], strict=True)}
    features: list[dict[str, Any]] = [{
        "type": "Feature", "geometry": _geometry_wgs84(model, sc.geometry),
        "properties": {"role": "lien", "gap_ids": list(sc.gap_ids), "length_m": sc.length_built_m},
    }]
    for r in effect.routes:
        features.append({"type": "Feature", "geometry": _geometry_wgs84(model, r.geometry), "properties": clean_properties({
            "role": "itineraire", "from_park": r.from_park, "from_nom": names.get(r.from_park), "to_park": r.to_park,
            "to_nom": names.get(r.to_park), "length_before_m": r.length_before_m, "length_after_m": r.length_after_m,
            "greenway_before_m": r.greenway_before_m, "greenway_after_m": r.greenway_after_m})})
    if not effect.new_loop.is_empty:
        features.append({"type": "Feature", "geometry": _geometry_wgs84(model, effect.new_loop),
                         "properties": {"role": "boucle", "length_m": float(shapely.length(effect.new_loop))}})
    props = clean_properties({
        "gap_ids": list(sc.gap_ids), "length_built_m": sc.length_built_m,
        "population_newly_linked": effect.population_newly_linked,
        "population_newly_within_10min": effect.population_newly_within_10min,
        "linked_population_before": sc.linked_population_before, "linked_population_after": sc.linked_population_after,
        "parks_newly_linked": [names.get(p, str(p)) for p in sc.parks_linked_after if p not in sc.parks_linked_before],
        "n_components_before": sc.n_components_before, "n_components_after": sc.n_components_after,
        "greenway_length_before_m": sc.greenway_length_before_m, "greenway_length_after_m": sc.greenway_length_after_m,
        "loop_length_before_m": effect.loop_length_before_m, "loop_length_after_m": effect.loop_length_after_m,
        "routes_changed": len(effect.routes),
    })
    return {"type": "FeatureCollection", "name": "scenario", "properties": props, "features": features}
