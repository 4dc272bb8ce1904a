"""The catalogue of served layers: which collection lives in which GeoPackage, with cached metadata.

Everything that does not change between requests (layer extents, CRS, columns, counts, the
coordinate transformers, id → fid indexes) is read once when the app starts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Geod, Transformer

from api.io.gpkg import Bounds, Features, GeoPackage, LayerInfo, SpatialFilter
from geo import config
from geo.errors import InputError, InvalidRequestError, NotFoundError
from geo.products import BuildFolder, irradiance, parks, rooftops, sites
from geo.types import WeatherInfo

log = logging.getLogger("artois.api")

WEB_MERCATOR = "EPSG:3857"
CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class CollectionDef:
    """A served layer: its file, French title and description, key column and vector-tile attributes."""

    id: str
    file: str
    title: str
    description: str
    key: str | None
    tile_attributes: tuple[str, ...]


#: The collections, in the order the OGC API lists them. Titles and descriptions are shown to users (French).
COLLECTIONS: tuple[CollectionDef, ...] = (
    CollectionDef(
        rooftops.ROOF_FACES.name, rooftops.FILE, "Pans de toiture",
        "Un polygone par pan de toit : orientation, inclinaison, irradiation annuelle (kWh/m²/an), surface utile, "
        "puissance installable (kWc), production (kWh/an) et classe de potentiel.",
        rooftops.ROOF_FACES.key,
        ("face_id", "building_id", "suitability", "irradiation_kwh_m2_yr", "orientation", "tilt_deg", "kwp",
         "production_kwh_yr"),
    ),
    CollectionDef(
        rooftops.BUILDINGS.name, rooftops.FILE, "Bâtiments",
        "Emprise des bâtiments avec le potentiel solaire total, l'installation recommandée, son économie et le "
        "chauffe-eau solaire.",
        "building_id",
        ("building_id", "suitability", "kwp_max", "production_kwh_yr_max", "reco_kwp", "address"),
    ),
    CollectionDef(
        rooftops.COMMUNES_SOLAR.name, rooftops.FILE, "Potentiel solaire par commune",
        "Totaux du cadastre solaire par commune et par agglomération (level = epci).",
        "code", ("code", "nom", "level", "n_buildings", "kwp", "production_mwh_yr"),
    ),
    CollectionDef(
        parks.PARKS.name, parks.FILE, "Parcs", "Parcs et espaces verts, ensemble de la Chaîne des Parcs, surface (ha), "
        "population à 10 minutes à pied.",
        "park_id", ("park_id", "nom", "ensemble", "area_ha", "on_greenway", "population_10min"),
    ),
    CollectionDef(
        parks.GREENWAYS.name, parks.FILE, "Voies vertes", "Cavaliers, chemins de halage et voies vertes ; in_loop indique "
        "la boucle.", "greenway_id", ("greenway_id", "nom", "type", "length_m", "component", "in_loop"),
    ),
    CollectionDef(
        parks.SERVICE_AREAS.name, parks.FILE, "Zones de desserte des parcs",
        "Secteurs atteignables à pied depuis les entrées des parcs (300 m, 10 minutes…).",
        None, ("park_id", "minutes", "distance_m", "label"),
    ),
    CollectionDef(
        parks.GAPS.name, parks.FILE, "Liaisons manquantes",
        "Liaisons à créer classées par population nouvellement reliée par km à construire.",
        "gap_id", ("gap_id", "rank", "length_m", "links", "population_newly_linked", "score_per_km"),
    ),
    CollectionDef(
        parks.COMMUNES_ACCESS.name, parks.FILE, "Accès aux parcs par commune",
        "Population à moins de 300 m et à moins de 10 minutes à pied d'un parc, par commune et par agglomération.",
        "code", ("code", "nom", "level", "population", "share_within_300m", "share_within_10min"),
    ),
    CollectionDef(
        parks.ACCESS_CELLS.name, parks.FILE, "Carreaux de population et accès",
        "Carreaux INSEE de 200 m : population, distance à pied au parc le plus proche, rang de priorité.",
        "Idcar_200m", ("Idcar_200m", "population", "poverty_rate", "walk_m_to_park", "within_300m", "within_10min",
                       "priority_rank"),
    ),
    CollectionDef(
        parks.ENTRANCES.name, parks.FILE, "Entrées des parcs", "Entrées des parcs (chemins, entrées virtuelles).",
        "entrance_id", ("entrance_id", "park_id", "kind"),
    ),
    # -- ground PV and APER car parks (geo/sites/, sites.gpkg) --
    CollectionDef(
        sites.FRICHES.name, sites.FILE, "Friches et terrils : photovoltaïque au sol",
        "Friches (Cartofriches, standard CNIG) et flancs de terrils : surface utilisable (m²), puissance (kWc), "
        "production (MWh/an), coût et coût de production (€/MWh) comparé aux appels d'offres de la CRE ; "
        "drapeaux pollution et patrimoine ; approximate = estimation sans périmètre ou hors du MNS.",
        "site_id", ("site_id", "site_nom", "site_type", "usable_area_m2", "kwp", "production_mwh_yr", "lcoe_eur_mwh",
                    "pollution_flag", "heritage_flag", "approximate"),
    ),
    CollectionDef(
        sites.CAR_PARKS.name, sites.FILE, "Parkings et obligation d'ombrières (loi APER)",
        "Parkings extérieurs : surface comptée (places, voies ; sans espaces verts), part ombragée par les "
        "arbres, statut au regard de l'article 40 de la loi APER et échéance, potentiel des ombrières sur la "
        "moitié du parking (kWc, MWh/an, coût).",
        "car_park_id", ("car_park_id", "nom", "counted_area_m2", "tree_share", "aper_status", "aper_deadline",
                        "canopy_kwp", "canopy_production_mwh_yr"),
    ),
    CollectionDef(
        sites.COMMUNES_SITES.name, sites.FILE, "Friches et parkings par commune",
        "Totaux par commune et par agglomération (level = epci) : friches (kWc, MWh/an) et parkings concernés "
        "par l'obligation APER (surface, ombrières).",
        "code", ("code", "nom", "level", "n_friches", "friches_kwp", "n_aper_concerned", "aper_canopy_kwp"),
    ),
)


def _xy_transform(transformer: Transformer) -> Callable[[np.ndarray], np.ndarray]:
    def fn(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return fn


@dataclass
class Collection:
    """A served layer: definition, store, metadata and transformers (thread-safe, pyproj ≥ 3.1)."""

    defn: CollectionDef
    store: GeoPackage
    info: LayerInfo
    to_wgs84: Transformer = field(init=False)
    from_wgs84: Transformer = field(init=False)
    to_mercator: Transformer = field(init=False)
    from_mercator: Transformer = field(init=False)

    def __post_init__(self) -> None:
        crs = self.info.crs
        self.to_wgs84 = Transformer.from_crs(crs, config.WGS84, always_xy=True)
        self.from_wgs84 = Transformer.from_crs(config.WGS84, crs, always_xy=True)
        self.to_mercator = Transformer.from_crs(crs, WEB_MERCATOR, always_xy=True)
        self.from_mercator = Transformer.from_crs(WEB_MERCATOR, crs, always_xy=True)

    @property
    def id(self) -> str:
        return self.defn.id

    @cached_property
    def bounds_wgs84(self) -> Bounds | None:
        """Extent (lon_min, lat_min, lon_max, lat_max) [°]."""
        if self.info.bounds is None:
            return None
        b = self.to_wgs84.transform_bounds(*self.info.bounds, densify_pts=21)
        return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))

    @cached_property
    def bounds_mercator(self) -> Bounds | None:
        """Extent in Web Mercator [m]."""
        if self.info.bounds is None:
            return None
        b = self.to_mercator.transform_bounds(*self.info.bounds, densify_pts=21)
        return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))

    @cached_property
    def tile_attributes(self) -> tuple[str, ...]:
        """The vector-tile attributes that exist in this layer."""
        return tuple(a for a in self.defn.tile_attributes if a in self.info.column_names)

    @cached_property
    def key_index(self) -> dict[str, int]:
        """``{key value: fid}`` (built on first use)."""
        if self.defn.key is None or self.defn.key not in self.info.column_names:
            return {}
        return self.store.key_index(self.info.name, self.defn.key)

    def fid_of(self, key: str) -> int:
        """fid of the feature whose key column equals ``key``; :class:`NotFoundError` if none."""
        try:
            return self.key_index[key]
        except KeyError:
            raise NotFoundError(f"« {key} » : identifiant inconnu dans la couche {self.defn.title}") from None

    # -- coordinates ----------------------------------------------------------------------------
    def geometries_to_wgs84(self, geoms: np.ndarray) -> np.ndarray:
        return shapely.transform(geoms, _xy_transform(self.to_wgs84))

    def geometries_to_mercator(self, geoms: np.ndarray) -> np.ndarray:
        return shapely.transform(geoms, _xy_transform(self.to_mercator))

    def point_from_wgs84(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = self.from_wgs84.transform(lon, lat)
        return float(x), float(y)

    def wgs84_filter(self, bbox: Bounds) -> SpatialFilter:
        """The native-CRS :class:`SpatialFilter` of a WGS84 bbox (lon_min, lat_min, lon_max, lat_max) [°]."""
        return _projected_filter(bbox, self.from_wgs84)

    def mercator_filter(self, bounds: Bounds) -> SpatialFilter:
        """The native-CRS :class:`SpatialFilter` (candidates only) of Web Mercator bounds [m]."""
        b = self.from_mercator.transform_bounds(*bounds, densify_pts=11)
        return SpatialFilter((float(b[0]), float(b[1]), float(b[2]), float(b[3])))

    def read(self, **kwargs: Any) -> Features:
        return self.store.read(self.info.name, **kwargs)

    def count(self, **kwargs: Any) -> int:
        return self.store.count(self.info.name, **kwargs)


def _projected_filter(bbox: Bounds, transformer: Transformer, n: int = 21) -> SpatialFilter:
    """A rectangle in one CRS turned into outer/inner rectangles and an exact polygon in another."""
    xmin, ymin, xmax, ymax = bbox
    t = np.linspace(0.0, 1.0, n)
    xs, ys = xmin + (xmax - xmin) * t, ymin + (ymax - ymin) * t
    edges = {
        "bottom": (xs, np.full(n, ymin)), "right": (np.full(n, xmax), ys),
        "top": (xs[::-1], np.full(n, ymax)), "left": (np.full(n, xmin), ys[::-1]),
    }
    out = {k: transformer.transform(*v) for k, v in edges.items()}
    ring = np.concatenate([np.column_stack(out[k]) for k in ("bottom", "right", "top", "left")])
    if not np.isfinite(ring).all():
        raise InvalidRequestError("La zone demandée ne peut pas être projetée dans le système de la couche.")
    polygon = shapely.Polygon(ring)
    outer = tuple(float(v) for v in polygon.bounds)
    inner = (
        float(np.max(out["left"][0])), float(np.max(out["bottom"][1])),
        float(np.min(out["right"][0])), float(np.min(out["top"][1])),
    )
    inner_ok = inner[0] < inner[2] and inner[1] < inner[3]
    return SpatialFilter(outer, inner if inner_ok else None, polygon)  # type: ignore[arg-type]


def bbox_area_km2(bbox: Bounds) -> float:
    """Geodesic area [km²] of a WGS84 bbox (lon_min, lat_min, lon_max, lat_max) [°]."""
    area, _ = _GEOD.geometry_area_perimeter(shapely.box(*bbox).segmentize(1.0))
    return abs(area) / 1e6


@dataclass(frozen=True)
class RasterInfo:
    """The irradiation COG: path, extent and the weather it was computed with."""

    path: Path
    bounds_wgs84: Bounds
    weather: WeatherInfo | None


class Catalog:
    """All the layers of a build folder, opened once.

    Raises
    ------
    InputError
        ``data_dir`` holds neither of the GeoPackage products (:mod:`geo.products`).
    """

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        if not self.data_dir.is_dir():
            raise InputError(self.data_dir, "build folder not found (run 'artois build' first)")
        self.stores: dict[str, GeoPackage] = {}
        for name in sorted({c.file for c in COLLECTIONS}):
            path = self.data_dir / name
            if path.is_file():
                self.stores[name] = GeoPackage(path)
        if not self.stores:
            raise InputError(
                self.data_dir, f"no {rooftops.FILE} nor {parks.FILE} in this folder (run 'artois build' first)"
            )
        self.collections: dict[str, Collection] = {}
        for defn in COLLECTIONS:
            store = self.stores.get(defn.file)
            if store is not None and defn.id in store.layers:
                self.collections[defn.id] = Collection(defn, store, store.layers[defn.id])
        missing = [c.id for c in COLLECTIONS if c.id not in self.collections]
        if missing:
            log.warning("%s: layers not found (not served): %s", self.data_dir, ", ".join(missing))
        self.raster = self._raster_info(BuildFolder(self.data_dir).irradiance)
        self._lock = threading.Lock()
        self._cache: dict[str, Any] = {}

    @staticmethod
    def _raster_info(path: Path) -> RasterInfo | None:
        if not path.is_file():
            return None
        from rasterio.warp import transform_bounds

        header = irradiance.read_header(path)
        missing = irradiance.missing_tiles(path)
        if missing:
            raise InputError(missing[0], f"tile of {path.name} not found ({len(missing)} missing): "
                                         "run 'artois build' again")
        if header.crs is None:
            raise InputError(path, "raster has no CRS")
        rows, cols = header.shape
        t = header.transform
        b = transform_bounds(header.crs, config.WGS84, t.c, t.f + rows * t.e, t.c + cols * t.a, t.f, densify_pts=21)
        return RasterInfo(path, (b[0], b[1], b[2], b[3]), header.weather)

    def collection(self, collection_id: str) -> Collection:
        """The served collection ``collection_id``; :class:`NotFoundError` (404) otherwise."""
        try:
            return self.collections[collection_id]
        except KeyError:
            known = ", ".join(self.collections) or "aucune"
            raise NotFoundError(f"Couche inconnue : « {collection_id} » (couches disponibles : {known})") from None

    def cached(self, key: str, build: Callable[[], Any]) -> Any:
        """A value built once (thread-safe), e.g. the parks model or the address index."""
        with self._lock:
            if key not in self._cache:
                self._cache[key] = build()
            return self._cache[key]
