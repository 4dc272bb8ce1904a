"""Routes between parks on the walk network, preferring greenways.

A **route** park → park is the least-cost path between any entrance of one and any entrance of
the other, with cost = length [m] for greenway edges and length × ``greenway_preference`` otherwise
(Dijkstra, :func:`scipy.sparse.csgraph.dijkstra`, from all source entrances at once).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra

from geo import config
from geo.errors import InvalidRequestError, NotFoundError
from geo.parks.model import ParksModel
from geo.parks.network import Network, path_edges, path_geometry


@dataclass(frozen=True)
class Route:
    """A route between two parks.

    Attributes
    ----------
    geometry
        LineString (Lambert-93) from an entrance of ``from_park`` to one of ``to_park``.
    length_m
        Length [m].
    greenway_m, share_greenway
        Length [m] and share (0–1) on greenway edges.
    walk_min, bike_min
        Travel time [min] at :data:`geo.config.PARKS_WALK_SPEED_KMH` / :data:`~geo.config.PARKS_BIKE_SPEED_KMH`.
    cost_m
        The minimised cost [m] (length with non-greenway edges × ``greenway_preference``).
    """

    from_park: int
    to_park: int
    geometry: shapely.LineString
    length_m: float
    greenway_m: float
    share_greenway: float
    walk_min: float
    bike_min: float
    cost_m: float
    greenway_preference: float
    edge_rows: tuple[int, ...] = ()


def shortest_route(
    net: Network, sources: np.ndarray, targets: np.ndarray, *, greenway_preference: float = config.PARKS_GREENWAY_PREFERENCE
) -> tuple[float, list[int], list[int]] | None:
    """Least-cost path from any of ``sources`` to any of ``targets``: (cost [m], nodes, edge rows) or None."""
    cost, _ = net.csr(greenway_preference=greenway_preference)
    dist, pred, _ = dijkstra(cost, directed=True, indices=np.unique(sources), min_only=True, return_predecessors=True)
    targets = np.unique(np.asarray(targets, np.int64))
    best = targets[np.argmin(dist[targets])]
    if not np.isfinite(dist[best]):
        return None
    nodes, edges = path_edges(net, pred, int(best), greenway_preference=greenway_preference)
    return float(dist[best]), nodes, edges


def route(
    model: ParksModel, from_park: int, to_park: int, *, greenway_preference: float = config.PARKS_GREENWAY_PREFERENCE
) -> Route:
    """Route from one park to another, preferring greenways.

    Parameters
    ----------
    model
        The analysed network (:func:`geo.parks.model.load_network`).
    from_park, to_park
        Park ids.
    greenway_preference
        Cost factor (≥ 1) of non-greenway edges: 1 = plain shortest path.

    Returns
    -------
    Route
        Raises :class:`~geo.errors.NotFoundError` for an unknown park, a park without entrance or
        parks on disconnected parts of the network.
    """
    if not (1.0 <= float(greenway_preference) <= 10.0):
        raise InvalidRequestError(f"greenway_preference {greenway_preference:g} hors limites (1 à 10)")
    if int(from_park) == int(to_park):
        raise InvalidRequestError("les deux parcs sont identiques")
    src = model.entrance_nodes(from_park)
    dst = model.entrance_nodes(to_park)
    for pid, nodes in ((from_park, src), (to_park, dst)):
        if len(nodes) == 0:
            raise NotFoundError(f"le parc {pid} n'a aucune entrée sur le réseau piéton")
    net = model.network
    found = shortest_route(net, src, dst, greenway_preference=greenway_preference)
    if found is None:
        raise NotFoundError(f"aucun itinéraire du parc {from_park} au parc {to_park} : ils sont sur des parties non reliées du réseau")
    cost, path_nodes, path_rows = found
    length = net.edges["length_m"].to_numpy(float)[path_rows]
    gw = net.edges["is_greenway"].to_numpy(bool)[path_rows]
    total = float(length.sum())
    green = float(length[gw].sum())
    return Route(
        from_park=int(from_park), to_park=int(to_park), geometry=path_geometry(net, path_nodes, path_rows),
        length_m=total, greenway_m=green, share_greenway=green / total if total > 0 else 0.0,
        walk_min=total / (config.PARKS_WALK_SPEED_KMH * 1000 / 60),
        bike_min=total / (config.PARKS_BIKE_SPEED_KMH * 1000 / 60),
        cost_m=cost, greenway_preference=float(greenway_preference), edge_rows=tuple(path_rows),
    )
