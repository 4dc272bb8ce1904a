"""``parks.gpkg``: the Chaîne des Parcs analysis written by the ``parks`` stage — layers, columns, I/O.

One GeoPackage in Lambert-93 (EPSG:2154); distances are along the walk network (methods in
docs/data-dictionary.md and the docstrings of :mod:`geo.parks`):

* :data:`PARKS` — park polygons with their ensemble, area, greenway link, population within 10 min;
* :data:`GREENWAYS` — greenway lines with their component and loop membership;
* :data:`ENTRANCES` — park entrances on the walk network;
* :data:`SERVICE_AREAS` — what can be reached on foot from each park (300 m, 10 min, ANGSt);
* :data:`ACCESS_CELLS` — Filosofi 200 m cells with their walk to the nearest park and priority;
* :data:`GAPS` — candidate links to build, ranked by people newly linked per km;
* :data:`COMMUNES_ACCESS` — population within 300 m / 10 min of a park, per commune and EPCI;
* :data:`STOPS_ACCESS` — BHNS stops and their walk to the nearest park (only when stops are given);
* :data:`NETWORK_NODES`, :data:`NETWORK_EDGES` — the walk network, so the API rebuilds the graph
  from this file alone.

Read a layer with :func:`read_layer`, write them all with :func:`write_parks`; what the
request-time parks model is rebuilt from is :func:`read_parks_product` (a :class:`ParksProduct`),
and :func:`network_layers` encodes the walk network into the two layers it is rebuilt from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.errors import InputError
from geo.io.gpkg import read_layer as _read_gpkg_layer
from geo.io.gpkg import write_layers
from geo.io.vectors import list_layers
from geo.products.schema import Column, Layer

#: File name in a build folder.
FILE = "parks.gpkg"

PARKS = Layer(
    "parks",
    (
        Column("park_id", "", "1…n"),
        Column("nom", "", "name"),
        Column("ensemble", "", "ensemble of the Chaîne des Parcs, or null"),
        Column("ensemble_published", "", "the ensemble is one of the published names"),
        Column("area_ha", "ha", "area"),
        Column("on_greenway", "", "a greenway passes within 20 m"),
        Column("component", "", "greenway component id or null"),
        Column("system", "", "linked system id"),
        Column("linked", "", "belongs to the Chaîne (the system with the longest greenways)"),
        Column("population_10min", "inhabitants", "people within a 10-minute walk"),
        Column("n_entrances", "", "entrances"),
        Column("on_main_network", "", "an entrance lies on the largest part of the walk network"),
        Column("who_eligible", "", "≥ 0.5 ha (WHO 300 m indicator)"),
        Column("angst_tiers", "", "ANGSt tiers its size qualifies for"),
    ),
    geometry="Polygon", key="park_id", description="parks and green spaces",
)
GREENWAYS = Layer(
    "greenways",
    (
        Column("greenway_id", "", "1…n"),
        Column("nom", "", "name"),
        Column("type", "", "cavalier, chemin_de_halage, voie_verte…"),
        Column("length_m", "m", "length"),
        Column("component", "", "greenway component holding most of its length"),
        Column("in_loop", "", "at least half of its length lies on a cycle"),
        Column("system", "", "linked system id"),
    ),
    geometry="LineString", key="greenway_id", description="greenways",
)
ENTRANCES = Layer(
    "entrances",
    (
        Column("entrance_id", "", "id"),
        Column("park_id", "", "park"),
        Column("kind", "", "path or pseudo"),
        Column("node", "", "node id in network_nodes"),
        Column("link_m", "m", "length of the virtual edge to the network"),
    ),
    geometry="Point", key="entrance_id", description="park entrances",
)
SERVICE_AREAS = Layer(
    "service_areas",
    (
        Column("park_id", "", "park"),
        Column("distance_m", "m", "walking distance"),
        Column("minutes", "min", "walking time"),
        Column("label", "", "300 m, 10 min, ANGSt 2 km…"),
        Column("population", "inhabitants", "people inside (areal weighting)"),
    ),
    geometry="Polygon", description="walking service areas of the parks",
)
ACCESS_CELLS = Layer(
    "access_cells",
    (
        Column("Idcar_200m", "", "Filosofi cell id"),
        Column("population", "inhabitants", "Ind"),
        Column("households", "", "Men"),
        Column("poor_households", "", "Men_pauv"),
        Column("poverty_rate", "0–1", "poor households / households"),
        Column("walk_m_to_park", "m", "network distance to the nearest entrance"),
        Column("within_300m", "", "half the cell within 300 m of a park ≥ 0.5 ha"),
        Column("within_10min", "", "half the cell within a 10-minute walk of a park"),
        Column("share_within_300m", "0–1", "area share within 300 m"),
        Column("share_within_10min", "0–1", "area share within 10 min"),
        Column("population_within_300m", "inhabitants", "population x share"),
        Column("population_within_10min", "inhabitants", "population x share"),
        Column("priority_score", "", "population x (1 − share) x (1 + poverty rate)"),
        Column("priority_rank", "", "1 = most urgent"),
    ),
    geometry="Polygon", key="Idcar_200m", description="population cells and their access to parks",
)
GAPS = Layer(
    "gaps",
    (
        Column("gap_id", "", "id"),
        Column("rank", "", "1 = best"),
        Column("length_m", "m", "length to build"),
        Column("links", "", "what it connects, in words"),
        Column("population_newly_linked", "inhabitants", "people newly within 10 min of a linked park"),
        Column("score_per_km", "inhabitants/km", "people per km to build"),
    ),
    geometry="LineString", key="gap_id", description="candidate links to build",
)
COMMUNES_ACCESS = Layer(
    "communes_access",
    (
        Column("level", "", "commune, epci or zone"),
        Column("code", "", "INSEE code or SIREN"),
        Column("nom", "", "name"),
        Column("epci_siren", "", "agglomeration of the commune"),
        Column("population", "inhabitants", "population of the cells in it"),
        Column("population_within_300m", "inhabitants", ""),
        Column("population_within_10min", "inhabitants", ""),
        Column("share_within_300m", "0–1", ""),
        Column("share_within_10min", "0–1", ""),
    ),
    geometry="Polygon", key="code", description="access to parks per commune and agglomeration",
)
STOPS_ACCESS = Layer(
    "stops_access",
    (
        Column("nom", "", "stop"),
        Column("ligne", "", "line"),
        Column("nearest_park_id", "", "nearest park by the network"),
        Column("nearest_park_nom", "", "its name"),
        Column("walk_m", "m", "network distance"),
        Column("walk_min", "min", "walking time"),
    ),
    geometry="Point", description="BHNS stops and their nearest park",
)
NETWORK_NODES = Layer("network_nodes", (Column("node_id", "", "0…n−1"),), geometry="Point", key="node_id",
                      description="nodes of the walk network")
NETWORK_EDGES = Layer(
    "network_edges",
    (
        Column("edge_id", "", "0…n−1"),
        Column("u", "", "start node id"),
        Column("v", "", "end node id"),
        Column("length_m", "m", "length"),
        Column("is_greenway", "", "greenway edge"),
        Column("highway", "", "OSM tag or null"),
        Column("kind", "", "street, greenway, virtual or entrance"),
        Column("greenway_id", "", "source greenway or null"),
    ),
    geometry="LineString", key="edge_id", description="edges of the walk network",
)

#: Every layer, in file order.
LAYERS: tuple[Layer, ...] = (PARKS, GREENWAYS, ENTRANCES, SERVICE_AREAS, ACCESS_CELLS, GAPS, COMMUNES_ACCESS,
                             STOPS_ACCESS, NETWORK_NODES, NETWORK_EDGES)
_BY_NAME = {layer.name: layer for layer in LAYERS}


def layer(name: str) -> Layer:
    """The layer called ``name``; KeyError when ``parks.gpkg`` has none."""
    return _BY_NAME[name]


def write_parks(path: str | Path, layers: Mapping[Layer, gpd.GeoDataFrame]) -> Path:
    """Write ``parks.gpkg`` atomically, the layers in :data:`LAYERS` order (ValueError if a contract column is missing)."""
    known = [lyr for lyr in LAYERS if lyr in layers]
    unknown = [lyr.name for lyr in layers if lyr not in known]
    if unknown:
        raise ValueError(f"not a layer of {FILE}: {', '.join(unknown)}")
    return write_layers(path, {lyr.name: lyr.select(layers[lyr], extra=True) for lyr in known})


_MISSING = "file not found (run 'artois build' or 'artois parks analyse' first)"


def read_layer(path: str | Path, layer: Layer, *, columns: Iterable[str] | None = None,
               strict: bool = True) -> pd.DataFrame:
    """One layer of ``parks.gpkg`` as a GeoDataFrame; :class:`~geo.errors.InputError` when missing or lacking
    a contract column (unless ``strict`` is False)."""
    df = _read_gpkg_layer(path, layer.name, columns=list(columns) if columns is not None else None,
                          missing=_MISSING)
    return layer.check(df, Path(path)) if strict and columns is None else df


# ---------------------------------------------------------------------------
# What the request-time parks model is rebuilt from
# ---------------------------------------------------------------------------

#: Layers :func:`read_parks_product` needs; greenways, access cells, service areas and gaps are
#: read when present.
PRODUCT_REQUIRED_LAYERS: tuple[Layer, ...] = (NETWORK_NODES, NETWORK_EDGES, PARKS, ENTRANCES)


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
    """The :data:`NETWORK_NODES` and :data:`NETWORK_EDGES` layers :func:`read_parks_product` rebuilds the network from.

    ``nodes_xy`` are the node coordinates (n, 2) [m]; ``edges`` the network's edge table
    (``u``, ``v`` node rows…). Nodes get ``node_id`` = row, edges ``edge_id`` = row.
    """
    nodes = gpd.GeoDataFrame({"node_id": np.arange(len(nodes_xy), dtype=np.int64)},
                             geometry=shapely.points(nodes_xy), crs=crs)
    out = edges.copy()
    out.insert(0, "edge_id", np.arange(len(out), dtype=np.int64))
    out["greenway_id"] = out["greenway_id"].astype("Int64")
    return {NETWORK_NODES.name: nodes, NETWORK_EDGES.name: out}


def read_parks_product(path: str | Path) -> ParksProduct:
    """Read the analysed Chaîne des Parcs from ``parks.gpkg`` (or a build folder holding it).

    Raises :class:`~geo.errors.InputError` naming the file when it is missing, unreadable or lacks
    one of :data:`PRODUCT_REQUIRED_LAYERS` (rebuild it with ``artois build``).
    """
    p = Path(path)
    if p.is_dir():
        p = p / FILE
    if not p.exists():
        raise InputError(p, _MISSING)
    layers = set(list_layers(p))
    if missing := {lyr.name for lyr in PRODUCT_REQUIRED_LAYERS} - layers:
        raise InputError(p, f"missing layer(s) {', '.join(sorted(missing))}: rebuild it with 'artois build'")

    def read(lyr: Layer) -> gpd.GeoDataFrame:  # as written: no repair, no reprojection
        gdf: gpd.GeoDataFrame = read_layer(p, lyr, strict=False)
        return gdf

    nodes = read(NETWORK_NODES).sort_values("node_id")
    edges = read(NETWORK_EDGES).sort_values("edge_id").drop(columns="edge_id").reset_index(drop=True)
    edges["u"] = edges["u"].astype(np.int64)
    edges["v"] = edges["v"].astype(np.int64)
    edges["is_greenway"] = edges["is_greenway"].astype(bool)
    edges["greenway_id"] = edges["greenway_id"].astype(object).where(edges["greenway_id"].notna(), None)
    parks = read(PARKS)
    parks["park_id"] = parks["park_id"].astype(np.int64)
    entrances = read(ENTRANCES)
    entrances["node"] = entrances["node"].astype(np.int64)
    empty = gpd.GeoDataFrame(geometry=[], crs=parks.crs)
    greenways = read(GREENWAYS) if GREENWAYS.name in layers else empty
    cells = (read(ACCESS_CELLS) if ACCESS_CELLS.name in layers
             else gpd.GeoDataFrame({"population": []}, geometry=[], crs=parks.crs))
    sa10: dict[int, BaseGeometry] = {}
    if SERVICE_AREAS.name in layers:
        sa = read(SERVICE_AREAS)
        for row in sa[sa["label"] == "10 min"].itertuples(index=False):
            sa10[int(row.park_id)] = row.geometry
    gaps = read(GAPS) if GAPS.name in layers else None
    return ParksProduct(p.resolve(), shapely.get_coordinates(nodes.geometry.values), edges, parks, entrances,
                        greenways, cells, sa10, gaps)
