"""Connectivity of the greenway network and routes between parks.

Definitions
-----------
* **Greenway component**: a connected part of the greenway edges of the network (networkx
  connected components), numbered 1, 2, … by decreasing length.
* **Loop**: greenway edges lying on a cycle (edges that are not bridges of the greenway graph,
  :func:`networkx.bridges`); a component's ``loop_length_m`` is the length of those edges — for
  a single ring, its length.
* A park **touches** a component when a greenway edge passes within
  :data:`geo.config.PARKS_GREENWAY_PARK_TOUCH_M` of it. Parks are walkable, so a park touched by
  two components joins them.
* **Linked system**: components and parks joined that way (a park touching no greenway is a
  system on its own). The **Chaîne** is the system with the greatest greenway length; a park is
  *linked* when it belongs to it.

Routes between parks are in :mod:`geo.parks.routes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from geo import config
from geo.parks.network import Network


@dataclass(frozen=True)
class System:
    """A linked system: greenway components and the parks that touch them."""

    system_id: int
    parks: list[int]
    components: list[int]
    ensembles: list[str]
    greenway_length_m: float
    loop_length_m: float

    @property
    def n_parks(self) -> int:
        return len(self.parks)


@dataclass
class Connectivity:
    """Greenway components, loops and linked systems for one state of the network."""

    edge_component: np.ndarray  # greenway component id per edge (0 = not a greenway edge)
    loop_edge: np.ndarray  # bool per edge: greenway edge on a cycle
    component_length_m: dict[int, float]
    component_loop_m: dict[int, float]
    park_components: dict[int, list[int]]  # park_id -> touching components (longest first)
    park_system: dict[int, int]  # park_id -> system id
    component_system: dict[int, int]
    systems: list[System] = field(repr=False)  # ordered: longest greenway first
    main_system: int | None = None

    def system(self, system_id: int) -> System:
        return next(s for s in self.systems if s.system_id == system_id)

    @property
    def n_components(self) -> int:
        return len(self.component_length_m)

    @property
    def loop_length_m(self) -> float:
        """Length [m] of the longest component's looped edges (0 without cycles)."""
        return max(self.component_loop_m.values(), default=0.0)

    def linked_parks(self) -> set[int]:
        """Parks belonging to the Chaîne (the main system)."""
        if self.main_system is None:
            return set()
        return {p for p, s in self.park_system.items() if s == self.main_system}


def edge_park_pairs(net: Network, parks: gpd.GeoDataFrame, *, touch_m: float = config.PARKS_GREENWAY_PARK_TOUCH_M) -> np.ndarray:
    """(edge row, park_id) pairs of edges passing within ``touch_m`` [m] of a park, shape (k, 2)."""
    if parks.empty or net.edges.empty:
        return np.zeros((0, 2), np.int64)
    tree = shapely.STRtree(parks.geometry.values)
    e_idx, p_idx = tree.query(net.edges.geometry.values, predicate="dwithin", distance=touch_m)
    return np.column_stack([e_idx, parks["park_id"].to_numpy(np.int64)[p_idx]]).astype(np.int64)


def compute_connectivity(
    net: Network,
    park_ids: list[int] | np.ndarray,
    edge_parks: np.ndarray,
    *,
    ensembles: dict[int, str | None] | None = None,
    is_greenway: np.ndarray | None = None,
) -> Connectivity:
    """Components, loops and linked systems of the greenway network.

    Parameters
    ----------
    net
        The network (``is_greenway`` flags, ``length_m`` [m]).
    park_ids
        All parks.
    edge_parks
        Pairs from :func:`edge_park_pairs`.
    ensembles
        park_id -> ensemble name, to list the ensembles each system links.
    is_greenway
        Override of the greenway flags (scenarios).
    """
    gw = net.edges["is_greenway"].to_numpy(bool) if is_greenway is None else np.asarray(is_greenway, bool)
    u = net.edges["u"].to_numpy(np.int64)
    v = net.edges["v"].to_numpy(np.int64)
    length = net.edges["length_m"].to_numpy(float)
    g = nx.MultiGraph()
    rows = np.flatnonzero(gw)
    g.add_edges_from((int(u[i]), int(v[i]), int(i)) for i in rows)
    comps = [list(c) for c in nx.connected_components(g)]
    edge_component = np.zeros(len(u), np.int64)
    node_comp: dict[int, int] = {}
    for k, nodes in enumerate(comps):
        for n in nodes:
            node_comp[n] = k
    comp_of_row = np.array([node_comp[int(u[i])] for i in rows], np.int64) if len(rows) else np.zeros(0, np.int64)
    tmp_len = np.bincount(comp_of_row, weights=length[rows], minlength=len(comps)) if len(comps) else np.zeros(0)
    order = np.argsort(-tmp_len, kind="stable")
    new_id = np.empty(len(comps), np.int64)
    new_id[order] = np.arange(1, len(comps) + 1)
    if len(rows):
        edge_component[rows] = new_id[comp_of_row]
    bridges = {frozenset(b) for b in nx.bridges(g)} if g.number_of_edges() else set()
    loop_edge = np.zeros(len(u), bool)
    for i in rows:
        loop_edge[i] = frozenset((int(u[i]), int(v[i]))) not in bridges and u[i] != v[i]
    comp_len = {int(c): float(length[edge_component == c].sum()) for c in range(1, len(comps) + 1)}
    comp_loop = {int(c): float(length[(edge_component == c) & loop_edge].sum()) for c in range(1, len(comps) + 1)}

    # Parks touching components.
    park_components: dict[int, list[int]] = {int(p): [] for p in park_ids}
    if len(edge_parks):
        ep = edge_parks[gw[edge_parks[:, 0]]]
        touch = pd.DataFrame({"park": ep[:, 1], "comp": edge_component[ep[:, 0]]}).drop_duplicates()
        for p, c in zip(touch["park"].to_numpy(np.int64), touch["comp"].to_numpy(np.int64), strict=True):
            park_components[int(p)].append(int(c))
        for p in park_components:
            park_components[p] = sorted(set(park_components[p]), key=lambda c: (-comp_len[c], c))
    # Systems: components and parks joined by parks.
    sg = nx.Graph()
    sg.add_nodes_from(("c", c) for c in comp_len)
    sg.add_nodes_from(("p", int(p)) for p in park_ids)
    for p, cs in park_components.items():
        for c in cs:
            sg.add_edge(("p", p), ("c", c))
    ensembles = ensembles or {}
    groups: list[tuple[list[int], list[int]]] = []
    for members in nx.connected_components(sg):
        cs = sorted(c for kind, c in members if kind == "c")
        ps = sorted(p for kind, p in members if kind == "p")
        groups.append((ps, cs))
    groups.sort(key=lambda g: (-sum(comp_len[c] for c in g[1]), -len(g[0]), g[0][:1], g[1][:1]))
    systems = [
        System(k + 1, ps, cs, sorted({e for p in ps if (e := ensembles.get(p))}),
               float(sum(comp_len[c] for c in cs)), float(sum(comp_loop[c] for c in cs)))
        for k, (ps, cs) in enumerate(groups)
    ]
    park_system = {p: s.system_id for s in systems for p in s.parks}
    comp_system = {c: s.system_id for s in systems for c in s.components}
    main = systems[0].system_id if systems and systems[0].greenway_length_m > 0 else None
    return Connectivity(edge_component, loop_edge, comp_len, comp_loop, park_components, park_system, comp_system,
                        systems, main)
