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

Read a layer with :func:`read_layer`, write them all with :func:`write_parks`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.io.gpkg import read_layer as _read_gpkg_layer
from geo.io.gpkg import write_layers
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
