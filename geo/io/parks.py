"""Readers of the Chaîne des Parcs inputs (parks, greenways, walk network, BHNS stops) and of the
analysed product ``parks.gpkg``.

Each input reader accepts the sample formats (docs/formats.md: ``parcs.gpkg`` layer ``parcs``,
``voies_vertes.gpkg`` layer ``voies_vertes``, ``reseau_pietons.gpkg`` layer ``reseau``,
``arrets_bhns.geojson``) or any OGR vector file with the same columns, and OpenStreetMap files
(``.osm``, ``.osm.pbf``) through :mod:`geo.io.osm`. Layers are returned in Lambert-93; a layer in
another CRS is reprojected and the reprojection is logged.

:func:`read_parks_product` reads back what the request-time model needs from ``parks.gpkg``
(:class:`ParksProduct`, plain data); :func:`network_layers` encodes the walk network into the two
layers it is rebuilt from. :func:`geo.parks.model.load_network` turns the product into a model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

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


# -- the analysed product: parks.gpkg ---------------------------------------------------------------

#: Layers :func:`read_parks_product` needs; ``greenways``, ``access_cells``, ``service_areas`` and
#: ``gaps`` are read when present.
PRODUCT_REQUIRED_LAYERS = ("network_nodes", "network_edges", "parks", "entrances")


@dataclass(frozen=True)
class ParksProduct:
    """What the request-time parks model is rebuilt from, as stored in ``parks.gpkg``.

    Attributes
    ----------
    path
        The GeoPackage read.
    nodes_xy
        Walk-network node coordinates, shape (n, 2) [m], row i = ``node_id`` i.
    edges
        Network edges in ``edge_id`` order: ``u``, ``v`` (node rows, int64), ``length_m`` [m],
        ``is_greenway`` (bool), ``highway``, ``kind``, ``greenway_id`` (int or None), lines.
    parks
        ``park_id`` (int64), ``nom``, ``ensemble``, ``area_ha`` [ha]…, polygons.
    entrances
        ``entrance_id``, ``park_id``, ``kind``, ``node`` (int64), points.
    greenways
        Greenway lines (``greenway_id``, ``nom``, ``type``…), possibly empty.
    cells
        Population cells (``population``…), possibly empty.
    service_areas_10min
        park_id -> 10-minute walking service-area polygon.
    gaps
        Candidate links (``gap_id``, ``edge_ids``…), None when the layer is absent.
    """

    path: Path
    nodes_xy: np.ndarray
    edges: gpd.GeoDataFrame
    parks: gpd.GeoDataFrame
    entrances: gpd.GeoDataFrame
    greenways: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame
    service_areas_10min: dict[int, BaseGeometry] = field(default_factory=dict)
    gaps: gpd.GeoDataFrame | None = None


def network_layers(nodes_xy: np.ndarray, edges: gpd.GeoDataFrame, crs: object) -> dict[str, gpd.GeoDataFrame]:
    """The ``network_nodes`` and ``network_edges`` layers :func:`read_parks_product` rebuilds the network from.

    ``nodes_xy`` are the node coordinates (n, 2) [m]; ``edges`` the network's edge table
    (``u``, ``v`` node rows…). Nodes get ``node_id`` = row, edges ``edge_id`` = row.
    """
    nodes = gpd.GeoDataFrame({"node_id": np.arange(len(nodes_xy), dtype=np.int64)},
                             geometry=shapely.points(nodes_xy), crs=crs)
    out = edges.copy()
    out.insert(0, "edge_id", np.arange(len(out), dtype=np.int64))
    out["greenway_id"] = out["greenway_id"].astype("Int64")
    return {"network_nodes": nodes, "network_edges": out}


def read_parks_product(path: str | Path) -> ParksProduct:
    """Read the analysed Chaîne des Parcs from ``parks.gpkg`` (or a build folder holding it).

    Raises :class:`~geo.errors.InputError` naming the file when it is missing, unreadable or lacks
    one of :data:`PRODUCT_REQUIRED_LAYERS` (rebuild it with ``artois build``).
    """
    p = Path(path)
    if p.is_dir():
        p = p / "parks.gpkg"
    if not p.exists():
        raise InputError(p, "file not found (run 'artois build' or 'artois parks analyse' first)")
    layers = set(list_layers(p))
    if missing := set(PRODUCT_REQUIRED_LAYERS) - layers:
        raise InputError(p, f"missing layer(s) {', '.join(sorted(missing))}: rebuild it with 'artois build'")
    nodes = _read_product_layer(p, "network_nodes").sort_values("node_id")
    edges = _read_product_layer(p, "network_edges").sort_values("edge_id").drop(columns="edge_id")
    edges = edges.reset_index(drop=True)
    edges["u"] = edges["u"].astype(np.int64)
    edges["v"] = edges["v"].astype(np.int64)
    edges["is_greenway"] = edges["is_greenway"].astype(bool)
    edges["greenway_id"] = edges["greenway_id"].astype(object).where(edges["greenway_id"].notna(), None)
    parks = _read_product_layer(p, "parks")
    parks["park_id"] = parks["park_id"].astype(np.int64)
    entrances = _read_product_layer(p, "entrances")
    entrances["node"] = entrances["node"].astype(np.int64)
    empty = gpd.GeoDataFrame(geometry=[], crs=parks.crs)
    greenways = _read_product_layer(p, "greenways") if "greenways" in layers else empty
    cells = (_read_product_layer(p, "access_cells") if "access_cells" in layers
             else gpd.GeoDataFrame({"population": []}, geometry=[], crs=parks.crs))
    sa10: dict[int, BaseGeometry] = {}
    if "service_areas" in layers:
        sa = _read_product_layer(p, "service_areas")
        for row in sa[sa["label"] == "10 min"].itertuples(index=False):
            sa10[int(row.park_id)] = row.geometry
    gaps = _read_product_layer(p, "gaps") if "gaps" in layers else None
    return ParksProduct(p.resolve(), shapely.get_coordinates(nodes.geometry.values), edges, parks, entrances,
                        greenways, cells, sa10, gaps)


def _read_product_layer(path: Path, layer: str) -> gpd.GeoDataFrame:
    """One layer of a built GeoPackage as written (no repair, no reprojection)."""
    try:
        gdf: gpd.GeoDataFrame = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # pyogrio raises DataSourceError and plain errors alike
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(path, f"cannot read layer '{layer}' ({first})") from exc
    return gdf
