"""Gaps worth building in the greenway network, and scenarios that build them.

Method
------
* **Linked population**: people (areal weighting of the 200 m cells) within a 10-minute walk
  of a park linked to the Chaîne — the union of the 10-minute service areas of the parks of the
  main linked system (see :mod:`geo.parks.connectivity`).
* **Candidate gap** between two linked systems (greenway components with the parks they touch,
  or a park touching no greenway): the street connection that needs the least length *to build*
  — a shortest path on the walk network where existing greenway edges cost almost nothing —
  kept when that length is at most :data:`geo.config.PARKS_GAP_MAX_LENGTH_M`. One candidate per
  pair of systems.
* **Building a gap** turns its street edges into greenway edges (a cycle lane or a greenway
  along an existing street): connectivity changes, the walk network does not, so the population
  within a 10-minute walk of a park is unchanged by construction.
* **Ranking**: ``population_newly_linked`` = linked population with the gap − without it;
  ``score_per_km`` = that gain per km to build. Ranked by score, then by gain.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.geometry.base import BaseGeometry

from geo import config
from geo.errors import InvalidRequestError, NotFoundError
from geo.parks.access import covered_share
from geo.parks.connectivity import Connectivity
from geo.parks.model import ParksModel
from geo.parks.network import path_edges, path_geometry

GAP_COLUMNS = ["gap_id", "rank", "length_m", "links", "population_newly_linked", "score_per_km",
               "parks_newly_linked", "systems", "edge_ids"]


def linked_union(model: ParksModel, parks: set[int]) -> BaseGeometry:
    """Union of the 10-minute service areas of ``parks``."""
    polys = [model.sa10[p] for p in sorted(parks) if p in model.sa10 and not model.sa10[p].is_empty]
    return shapely.union_all(polys) if polys else shapely.Polygon()


def linked_population(model: ParksModel, conn: Connectivity | None = None) -> float:
    """People [persons] within a 10-minute walk of a park linked to the Chaîne."""
    conn = conn or model.connectivity()
    if model.cells.empty:
        return 0.0
    poly = linked_union(model, conn.linked_parks())
    return float(np.sum(model.cells["population"].to_numpy(float) * covered_share(model.cells.geometry.values, poly)))


def _gain(model: ParksModel, base_parks: set[int], base_union: BaseGeometry, after: Connectivity) -> float:
    """Linked population after − before, computed on the cells the change touches."""
    if model.cells.empty:
        return 0.0
    after_parks = after.linked_parks()
    pop = model.cells["population"].to_numpy(float)
    geoms = model.cells.geometry.values
    if base_parks <= after_parks:
        new = after_parks - base_parks
        added = linked_union(model, new)
        if added.is_empty:
            return 0.0
        tree = shapely.STRtree(geoms)
        idx = tree.query(added, predicate="intersects")
        if len(idx) == 0:
            return 0.0
        merged = shapely.union(base_union, added)
        return float(np.sum(pop[idx] * (covered_share(geoms[idx], merged) - covered_share(geoms[idx], base_union))))
    before = float(np.sum(pop * covered_share(geoms, base_union)))
    return float(np.sum(pop * covered_share(geoms, linked_union(model, after_parks)))) - before


def _system_label(conn: Connectivity, system_id: int, names: dict[int, str]) -> str:
    """French words for a linked system (UI text)."""
    sy = conn.system(system_id)
    if conn.main_system == system_id:
        return "la Chaîne (réseau principal)"
    parks = [names.get(p) or f"parc {p}" for p in sy.parks]
    if parks:
        txt = ", ".join(f"« {n} »" for n in parks[:3]) + (f" et {len(parks) - 3} autres" if len(parks) > 3 else "")
        return txt if sy.greenway_length_m > 0 else f"{txt} (non relié)"
    return f"voie verte isolée n°{sy.components[0]}" if sy.components else f"système {system_id}"


def candidate_gaps(model: ParksModel, *, max_length_m: float = config.PARKS_GAP_MAX_LENGTH_M) -> gpd.GeoDataFrame:
    """Candidate links between linked systems, ranked (see the module docstring).

    Returns
    -------
    GeoDataFrame
        ``gap_id``, ``rank`` (1 = best), ``length_m`` [m] to build, ``links`` (French text),
        ``population_newly_linked`` [persons], ``score_per_km`` [persons/km],
        ``parks_newly_linked`` (count), ``systems`` (ids joined, "3,7"), ``edge_ids`` (network edge
        rows to turn into greenway, "12,13"); line geometry (Lambert-93).
    """
    net = model.network
    conn = model.connectivity()
    crs = model.crs
    systems = conn.systems
    if len(systems) < 2:
        return _empty(crs)
    # Nodes of each system: its greenway edges' ends and its parks' entrances.
    node_system = np.full(net.n_nodes, 0, np.int64)
    u = net.edges["u"].to_numpy(np.int64)
    v = net.edges["v"].to_numpy(np.int64)
    for sy in systems:
        for c in sy.components:
            rows = np.flatnonzero(conn.edge_component == c)
            node_system[u[rows]] = sy.system_id
            node_system[v[rows]] = sy.system_id
        for p in sy.parks:
            nodes = model.entrance_nodes(p)
            free = nodes[node_system[nodes] == 0]
            node_system[free] = sy.system_id
    cost, _ = net.csr(gap_mode=True)
    best: dict[tuple[int, int], tuple[float, int, int]] = {}
    preds: dict[int, np.ndarray] = {}
    for sid in (sy.system_id for sy in systems):
        src = np.flatnonzero(node_system == sid)
        if len(src) == 0:
            continue
        dist, pred, _ = dijkstra(cost, directed=True, indices=src, min_only=True, limit=max_length_m,
                                 return_predecessors=True)
        preds[int(sid)] = pred
        hit = np.flatnonzero(np.isfinite(dist) & (node_system > 0) & (node_system != sid))
        if len(hit) == 0:
            continue
        order = np.lexsort((hit, dist[hit]))
        seen: set[int] = set()
        for h in hit[order]:
            t = int(node_system[h])
            if t in seen:
                continue
            seen.add(t)
            key = (min(int(sid), t), max(int(sid), t))
            if key not in best or dist[h] < best[key][0] - 1e-9:
                best[key] = (float(dist[h]), int(sid), int(h))
    if not best:
        return _empty(crs)
    length = net.edges["length_m"].to_numpy(float)
    gw = net.edges["is_greenway"].to_numpy(bool)
    names = dict(zip(model.parks["park_id"].astype(int), model.parks["nom"], strict=True))
    base_parks = conn.linked_parks()
    base_union = linked_union(model, base_parks)
    rows_out = []
    for (a, b), (_, src_sys, target) in sorted(best.items()):
        path_nodes, path_rows = path_edges(net, preds[src_sys], target, gap_mode=True)
        build = [e for e in path_rows if not gw[e]]
        build_len = float(length[build].sum()) if build else 0.0
        if build_len <= 0 or build_len > max_length_m:
            continue
        flags = gw.copy()
        flags[build] = True
        after = model.connectivity(is_greenway=flags)
        gain = _gain(model, base_parks, base_union, after)
        rows_out.append({
            "length_m": build_len,
            "links": f"{_system_label(conn, a, names)} ↔ {_system_label(conn, b, names)}",
            "population_newly_linked": gain,
            "score_per_km": gain / (build_len / 1000.0),
            "parks_newly_linked": len(after.linked_parks() - base_parks),
            "systems": f"{a},{b}",
            "edge_ids": ",".join(str(e) for e in build),
            "geometry": path_geometry(net, path_nodes, path_rows),
        })
    if not rows_out:
        return _empty(crs)
    out = gpd.GeoDataFrame(rows_out, geometry="geometry", crs=crs)
    out = out.sort_values(["score_per_km", "population_newly_linked", "length_m"], ascending=[False, False, True],
                          kind="stable").reset_index(drop=True)
    out.insert(0, "gap_id", np.arange(1, len(out) + 1, dtype=np.int64))
    out.insert(1, "rank", np.arange(1, len(out) + 1, dtype=np.int64))
    return out[[*GAP_COLUMNS, "geometry"]]


def _empty(crs: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in GAP_COLUMNS}, geometry=[], crs=crs)


@dataclass(frozen=True)
class Scenario:
    """Effect of building some candidate gaps.

    Attributes
    ----------
    gap_ids
        The gaps built.
    length_built_m
        Street length [m] turned into greenway.
    n_components_before, n_components_after
        Greenway components.
    parks_linked_before, parks_linked_after
        Parks linked to the Chaîne (ids).
    linked_population_before, linked_population_after, linked_population_gain
        People [persons] within a 10-minute walk of a linked park.
    greenway_length_before_m, greenway_length_after_m
        Greenway length [m] of the network.
    served_population_10min
        People within a 10-minute walk of any park (unchanged: gaps follow existing streets).
    geometry
        The gaps (MultiLineString, Lambert-93).
    """

    gap_ids: tuple[int, ...]
    length_built_m: float
    n_components_before: int
    n_components_after: int
    parks_linked_before: tuple[int, ...]
    parks_linked_after: tuple[int, ...]
    linked_population_before: float
    linked_population_after: float
    linked_population_gain: float
    greenway_length_before_m: float
    greenway_length_after_m: float
    served_population_10min: float
    geometry: BaseGeometry


def apply_scenario(model: ParksModel, gap_ids: list[int] | tuple[int, ...]) -> Scenario:
    """Build the candidate gaps ``gap_ids`` and recompute connectivity and linked population.

    Raises :class:`~geo.errors.NotFoundError` for an unknown gap id.
    """
    gaps = model.gaps
    ids = tuple(int(g) for g in gap_ids)
    if not ids:
        raise InvalidRequestError("no gap given")
    if gaps is None or gaps.empty:
        raise NotFoundError("there is no candidate gap in this build")
    rows = gaps[gaps["gap_id"].astype(int).isin(ids)]
    if missing := sorted(set(ids) - set(rows["gap_id"].astype(int))):
        raise NotFoundError(f"gap(s) {', '.join(map(str, missing))} not found")
    net = model.network
    gw = net.edges["is_greenway"].to_numpy(bool)
    length = net.edges["length_m"].to_numpy(float)
    edges = sorted({int(e) for s in rows["edge_ids"] for e in str(s).split(",") if e != ""})
    if any(e < 0 or e >= len(gw) for e in edges):
        raise InvalidRequestError("the gaps do not match this network (rebuild parks.gpkg)")
    flags = gw.copy()
    flags[edges] = True
    before = model.connectivity()
    after = model.connectivity(is_greenway=flags)
    lp_before = linked_population(model, before)
    lp_after = linked_population(model, after)
    served = 0.0
    if not model.cells.empty and "population_within_10min" in model.cells:
        served = float(model.cells["population_within_10min"].astype(float).sum())
    return Scenario(
        gap_ids=ids,
        length_built_m=float(length[[e for e in edges if not gw[e]]].sum()) if edges else 0.0,
        n_components_before=before.n_components, n_components_after=after.n_components,
        parks_linked_before=tuple(sorted(before.linked_parks())), parks_linked_after=tuple(sorted(after.linked_parks())),
        linked_population_before=lp_before, linked_population_after=lp_after,
        linked_population_gain=lp_after - lp_before,
        greenway_length_before_m=float(length[gw].sum()), greenway_length_after_m=float(length[flags].sum()),
        served_population_10min=served,
        geometry=shapely.union_all(rows.geometry.values),
    )
