"""The analysed Chaîne des Parcs, as the API uses it at request time.

:func:`load_network` rebuilds a :class:`ParksModel` from ``build/parks.gpkg`` alone (layers
``network_nodes``, ``network_edges``, ``parks``, ``entrances``, ``greenways``, ``access_cells``,
``service_areas``, ``gaps``) and caches it per file and modification time, so the API never
re-reads the raw inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
from shapely.geometry.base import BaseGeometry

from geo.errors import NotFoundError
from geo.parks.connectivity import Connectivity, compute_connectivity, edge_park_pairs
from geo.parks.network import Network
from geo.products.parks import ParksProduct, read_parks_product


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
            raise NotFoundError(f"parc {park_id} introuvable")
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


def model_from_product(product: ParksProduct) -> ParksModel:
    """The model of an analysed network read by :func:`geo.products.parks.read_parks_product`."""
    net = Network(product.nodes_xy, product.edges, product.edges.crs)
    return ParksModel(net, product.parks, product.entrances, product.greenways, product.cells,
                      dict(product.service_areas_10min), product.gaps)


def load_network(path: str | Path) -> ParksModel:
    """The model of ``parks.gpkg`` (or of a build folder holding it), read through :mod:`geo.products.parks`.

    Not cached: a caller serving requests keeps the model (the API holds one per application).
    """
    return model_from_product(read_parks_product(path))
