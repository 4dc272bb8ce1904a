"""Readers of the Chaîne des Parcs inputs (parks, greenways, walk network, BHNS stops).

Each input reader accepts the sample formats (docs/formats.md: ``parcs.gpkg`` layer ``parcs``,
``voies_vertes.gpkg`` layer ``voies_vertes``, ``reseau_pietons.gpkg`` layer ``reseau``,
``arrets_bhns.geojson``) or any OGR vector file with the same columns, and OpenStreetMap files
(``.osm``, ``.osm.pbf``) through :mod:`geo.io.osm`. Layers are returned in Lambert-93; a layer in
another CRS is reprojected and the reprojection is logged.

The analysed product ``parks.gpkg`` is read and written by :mod:`geo.products.parks`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
from pyproj import CRS

from geo import config
from geo.errors import InputError
from geo.io import osm
from geo.io.vectors import list_layers, read_vector

log = logging.getLogger("artois.io")


def _pick_layer(path: Path, layer: str | None, default: str) -> str | None:
    if layer is not None:
        return layer
    layers = list_layers(path)
    if default in layers:
        return default
    if len(layers) == 1:
        return layers[0]
    raise InputError(path, f"no layer '{default}' and several layers ({', '.join(layers)}): say which one")


def _read(path: Path, layer: str | None, default: str, geometry: str, required: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    name = _pick_layer(path, layer, default)
    gdf = read_vector(path, layer=name, crs=None, geometry_types=(geometry,), required_columns=required)
    src = CRS.from_user_input(gdf.crs)
    if src != CRS.from_user_input(config.WORKING_CRS):
        log.info("%s: reprojected from %s to %s", path, src.to_string(), config.WORKING_CRS)
        gdf = gdf.to_crs(config.WORKING_CRS)
    return gdf


def read_parks(path: str | Path, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Park polygons: ``nom`` (or OSM ``name``), ``ensemble`` (may be null), polygons in Lambert-93."""
    path = Path(path)
    if osm.is_osm_file(path):
        gdf = osm.read_osm_parks(path)
        if gdf.empty:
            raise InputError(path, "no park or green space (leisure=park, landuse=forest…) in this OSM file")
        return gdf
    gdf = _read(path, layer, "parcs", "Polygon")
    if "nom" not in gdf.columns:
        gdf["nom"] = gdf["name"] if "name" in gdf.columns else None
    if "ensemble" not in gdf.columns:
        gdf["ensemble"] = None
    return gdf


def read_greenways(path: str | Path, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Greenway lines: ``nom``, ``type`` (``cavalier``, ``chemin_de_halage``, ``voie_verte``…) in Lambert-93."""
    path = Path(path)
    if osm.is_osm_file(path):
        return osm.read_osm_greenways(path)
    gdf = _read(path, layer, "voies_vertes", "LineString")
    for col in ("nom", "type"):
        if col not in gdf.columns:
            gdf[col] = None
    return gdf


def read_streets(path: str | Path, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Walkable streets and paths with their OSM ``highway`` tag, lines in Lambert-93."""
    path = Path(path)
    if osm.is_osm_file(path):
        gdf = osm.read_osm_network(path)
        if gdf.empty:
            raise InputError(path, "no walkable way (highway=…) in this OSM file")
        return gdf
    return _read(path, layer, "reseau", "LineString", required=("highway",))


def read_stops(path: str | Path, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """BHNS (bus rapid transit) stops: ``nom``, ``ligne``, points in Lambert-93."""
    path = Path(path)
    gdf = _read(path, layer, "arrets_bhns", "Point")
    for col in ("nom", "ligne"):
        if col not in gdf.columns:
            gdf[col] = None
    return gdf
