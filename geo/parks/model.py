"""The analysed Chaîne des Parcs, as the API uses it at request time.

:func:`load_network` rebuilds a :class:`ParksModel` from ``build/parks.gpkg`` alone (layers
``network_nodes``, ``network_edges``, ``parks``, ``entrances``, ``greenways``, ``access_cells``,
``service_areas``, ``gaps``) and caches it per file and modification time, so the API never
re-reads the raw inputs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.errors import InputError, NotFoundError
from geo.parks.connectivity import Connectivity, compute_connectivity, edge_park_pairs
from geo.parks.network import Network


@dataclass
class ParksModel:
    """Network, parks, entrances, population cells and the results the request-time calls need.

    Attributes
    ----------
    network
        The walk network with entrances wired in.
    parks
        ``park_id``, ``nom``, ``ensemble``, ``area_ha`` [ha], polygons.
    entrances
        ``entrance_id``, ``park_id``, ``kind``, ``node``, points.
    greenways
        The greenway lines (``greenway_id``, ``nom``, ``type``).
    cells
        Population cells (``population``…), possibly empty.
    sa10
        park_id -> 10-minute service-area polygon.
    gaps
        Candidate links (``gap_id``, ``edge_ids``…), possibly empty.
    warnings
        What was wrong with the inputs and how it was handled.
    """

    network: Network
    parks: gpd.GeoDataFrame
    entrances: gpd.GeoDataFrame
    greenways: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame
    sa10: dict[int, BaseGeometry] = field(default_factory=dict)
    gaps: gpd.GeoDataFrame | None = None
    warnings: list[str] = field(default_factory=list)
    _edge_parks: np.ndarray | None = field(default=None, repr=False)
    _connectivity: Connectivity | None = field(default=None, repr=False)
    _entrance_nodes: dict[int, np.ndarray] | None = field(default=None, repr=False)

    @property
    def crs(self) -> object:
        return self.parks.crs

    def park_ids(self) -> list[int]:
        return [int(p) for p in self.parks["park_id"]]

    def park(self, park_id: int) -> object:
        """The park's row; :class:`~geo.errors.NotFoundError` if unknown."""
        rows = self.parks[self.parks["park_id"] == int(park_id)]
        if rows.empty:
            raise NotFoundError(f"park {park_id} not found")
        return rows.iloc[0]

    def entrance_nodes(self, park_id: int) -> np.ndarray:
        """Network nodes of a park's entrances (empty if it has none)."""
        self.park(park_id)
        if self._entrance_nodes is None:
            self._entrance_nodes = {
                int(p): g.to_numpy(np.int64) for p, g in self.entrances.groupby("park_id")["node"]
            }
        return self._entrance_nodes.get(int(park_id), np.zeros(0, np.int64))

    @property
    def edge_parks(self) -> np.ndarray:
        if self._edge_parks is None:
            self._edge_parks = edge_park_pairs(self.network, self.parks)
        return self._edge_parks

    def ensembles(self) -> dict[int, str | None]:
        return {int(p): (e if isinstance(e, str) and e else None) for p, e in zip(self.parks["park_id"],
                                                                               self.parks["ensemble"], strict=True)}

    def connectivity(self, *, is_greenway: np.ndarray | None = None) -> Connectivity:
        """Connectivity of the current network (cached) or with overridden greenway flags."""
        if is_greenway is not None:
            return compute_connectivity(self.network, self.park_ids(), self.edge_parks, ensembles=self.ensembles(),
                                        is_greenway=is_greenway)
        if self._connectivity is None:
            self._connectivity = compute_connectivity(self.network, self.park_ids(), self.edge_parks,
                                                      ensembles=self.ensembles())
        return self._connectivity


def network_layers(net: Network) -> dict[str, gpd.GeoDataFrame]:
    """The ``network_nodes`` and ``network_edges`` layers that let :func:`load_network` rebuild the graph."""
    nodes = gpd.GeoDataFrame({"node_id": np.arange(net.n_nodes, dtype=np.int64)},
                             geometry=shapely.points(net.nodes), crs=net.crs)
    edges = net.edges.copy()
    edges.insert(0, "edge_id", np.arange(len(edges), dtype=np.int64))
    edges["greenway_id"] = edges["greenway_id"].astype("Int64")
    return {"network_nodes": nodes, "network_edges": edges}


def _read(path: Path, layer: str) -> gpd.GeoDataFrame:
    import pyogrio

    try:
        return pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:
        raise InputError(path, f"cannot read layer '{layer}' ({str(exc).splitlines()[0] if str(exc) else exc})") from exc


def _resolve(path: str | Path) -> Path:
    p = Path(path)
    if p.is_dir():
        p = p / "parks.gpkg"
    if not p.exists():
        raise InputError(p, "file not found (run 'artois build' or 'artois parks analyse' first)")
    return p.resolve()


def load_network(path: str | Path) -> ParksModel:
    """Load the analysed model from ``parks.gpkg`` (or a build folder holding it); cached.

    The cache key includes the file's modification time, so a rebuilt file is reloaded.
    """
    p = _resolve(path)
    return _load_cached(str(p), p.stat().st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _load_cached(path_str: str, mtime_ns: int) -> ParksModel:
    path = Path(path_str)
    import pyogrio

    layers = {name for name, _ in pyogrio.list_layers(path)}
    needed = {"network_nodes", "network_edges", "parks", "entrances"}
    if missing := needed - layers:
        raise InputError(path, f"missing layer(s) {', '.join(sorted(missing))}: rebuild it with 'artois build'")
    nodes_df = _read(path, "network_nodes").sort_values("node_id")
    nodes = shapely.get_coordinates(nodes_df.geometry.values)
    edges = _read(path, "network_edges").sort_values("edge_id").drop(columns="edge_id").reset_index(drop=True)
    edges["u"] = edges["u"].astype(np.int64)
    edges["v"] = edges["v"].astype(np.int64)
    edges["is_greenway"] = edges["is_greenway"].astype(bool)
    edges["greenway_id"] = edges["greenway_id"].astype(object).where(edges["greenway_id"].notna(), None)
    net = Network(nodes, edges, edges.crs)
    parks = _read(path, "parks")
    parks["park_id"] = parks["park_id"].astype(np.int64)
    entrances = _read(path, "entrances")
    entrances["node"] = entrances["node"].astype(np.int64)
    greenways = _read(path, "greenways") if "greenways" in layers else gpd.GeoDataFrame(geometry=[], crs=parks.crs)
    cells = _read(path, "access_cells") if "access_cells" in layers else gpd.GeoDataFrame(
        {"population": []}, geometry=[], crs=parks.crs)
    sa10: dict[int, BaseGeometry] = {}
    if "service_areas" in layers:
        sa = _read(path, "service_areas")
        for row in sa[sa["label"] == "10 min"].itertuples(index=False):
            sa10[int(row.park_id)] = row.geometry
    gaps = _read(path, "gaps") if "gaps" in layers else None
    return ParksModel(net, parks, entrances, greenways, cells, sa10, gaps)
