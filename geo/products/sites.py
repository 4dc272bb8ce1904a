"""``sites.gpkg``: ground PV on friches and terrils, and the APER car parks (stage ``sites``, :mod:`geo.sites`).

Layers ``friches``, ``car_parks`` and ``communes_sites``; columns, units and sources in
docs/data-dictionary.md (section ``sites.gpkg``).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.io.gpkg import read_layer as _read_gpkg_layer
from geo.io.gpkg import write_layers
from geo.products.schema import Column, Layer, monthly

FILE = "sites.gpkg"

_EXCLUSIONS = ("setback", "buildings", "water", "trees", "steep", "no_irradiation", "small_parts")
_MONTHS = monthly("production_m{m:02d}_kwh", "kWh", "AC energy")
MONTH_COLUMNS = tuple(c.name for c in _MONTHS)

FRICHES = Layer(
    "friches",
    (
        Column("site_id", "", "CNIG site identifier"), Column("site_nom", "", "name"),
        Column("site_type", "", "CNIG site type"), Column("site_statut", "", "CNIG status"),
        Column("comm_insee", "", "INSEE code of the commune"), Column("comm_nom", "", "commune"),
        Column("activite_libelle", "", "former activities"),
        Column("is_terril", "", "a slag heap: rows along the slope"),
        Column("pollution_flag", "", "soil pollution to manage"), Column("heritage_flag", "", "heritage review"),
        Column("sol_pollution_existe", "", "CNIG soil pollution"), Column("bati_patrimoine", "", "CNIG heritage"),
        Column("urba_zone_type", "", "CNIG zoning type"),
        Column("area_m2", "m²", "perimeter area (cadastral surface for a point-only site)"),
        Column("unite_fonciere_surface", "m²", "cadastral surface from the export"),
        Column("usable_area_m2", "m²", "ground left for modules"),
        *[Column(f"excluded_{k}_m2", "m²", f"ground excluded: {k}") for k in _EXCLUSIONS],
        Column("layout", "", "module groups profile:count"), Column("n_modules", "", "modules"),
        Column("kwp", "kWp", "peak power"), Column("production_mwh_yr", "MWh/yr", "AC energy"),
        *_MONTHS,
        Column("specific_yield_kwh_kwp", "kWh/kWp/yr", "production per kWp"),
        Column("shading_loss", "0–1", "mean annual shading loss of the ground used"),
        Column("cost_eur", "€", "installed cost, HT"), Column("lcoe_eur_mwh", "€/MWh", "levelised cost"),
        Column("cre_reference", "", "CRE tender compared with"),
        Column("cre_price_eur_mwh", "€/MWh", "its weighted mean price"),
        Column("approximate", "", "figures without the site's ground"),
        Column("geom_source", "", "geomsurf, surfaces, geompoint or none"),
        Column("note", "", "what was missing, assumed or excluded"),
    ),
    geometry="Polygon", key="site_id", description="ground PV on brownfields and slag heaps",
)

CAR_PARKS = Layer(
    "car_parks",
    (
        Column("car_park_id", "", "osm-w-…/osm-r-… or BD TOPO cleabs"), Column("nom", "", "name"),
        Column("source", "", "OpenStreetMap or BD TOPO"), Column("code_insee", "", "commune"),
        Column("area_m2", "m²", "polygon area"),
        Column("counted_area_m2", "m²", "surface the APER law counts (no green islands, no buildings)"),
        Column("tree_share", "0–1", "share under tree crowns"),
        Column("aper_status", "", "concerned, exempt_trees or below_threshold"),
        Column("aper_status_fr", "", "the status in French"),
        Column("aper_deadline", "", "ISO date"), Column("aper_deadline_postponed", "", "ISO date"),
        Column("canopy_area_m2", "m²", "canopy over half the counted surface"),
        Column("canopy_kwp", "kWp", "canopy peak power"),
        Column("canopy_production_mwh_yr", "MWh/yr", "canopy AC energy"),
        *_MONTHS,
        Column("canopy_shading_loss", "0–1", "mean annual shading loss under the canopy"),
        Column("canopy_cost_eur", "€", "installed cost, HT"), Column("canopy_lcoe_eur_mwh", "€/MWh", "levelised cost"),
        Column("tradeoff_fr", "", "shade and cooling trade-off, French"),
        Column("approximate", "", "figures without the car park's ground"), Column("note", "", "notes"),
    ),
    geometry="Polygon", key="car_park_id", description="outdoor car parks and the APER canopy obligation",
)

COMMUNES_SITES = Layer(
    "communes_sites",
    (
        Column("level", "", "commune, epci, or zone"), Column("code", "", "INSEE code or SIREN"),
        Column("nom", "", "name"), Column("epci_siren", "", "agglomeration"),
        Column("n_friches", "", "friches"), Column("friches_usable_area_m2", "m²", "usable ground"),
        Column("friches_kwp", "kWp", "ground PV"), Column("friches_production_mwh_yr", "MWh/yr", "ground PV energy"),
        Column("n_car_parks", "", "car parks"), Column("n_aper_concerned", "", "under the obligation"),
        Column("n_aper_exempt_trees", "", "exempt by trees"), Column("n_aper_below_threshold", "", "≤ 1,500 m²"),
        Column("aper_counted_area_m2", "m²", "counted surface of those concerned"),
        Column("aper_canopy_kwp", "kWp", "their canopies"),
        Column("aper_canopy_production_mwh_yr", "MWh/yr", "their canopies' energy"),
    ),
    geometry="MultiPolygon", key="code", description="friches and car parks per commune and agglomeration",
)

_MISSING = "file not found (run the sites stage first: artois build --only sites)"


def write_sites(path: str | Path, *, friches: gpd.GeoDataFrame, car_parks: gpd.GeoDataFrame,
                communes: gpd.GeoDataFrame) -> Path:
    """Write ``sites.gpkg`` atomically, each layer with its contract columns in order."""
    return write_layers(path, {FRICHES.name: FRICHES.select(friches), CAR_PARKS.name: CAR_PARKS.select(car_parks),
                               COMMUNES_SITES.name: COMMUNES_SITES.select(communes)}, {})


def read_layer(path: str | Path, layer: Layer) -> pd.DataFrame:
    """One layer of ``sites.gpkg``; :class:`geo.errors.InputError` when missing or lacking a contract column."""
    df = _read_gpkg_layer(path, layer.name, geometry=layer.geometry is not None, columns=None, missing=_MISSING)
    return layer.check(df, Path(path))
