"""Gaps worth building in the greenway network, and scenarios that build them.

Method
------
* **Linked population**: people (areal weighting of the 200 m cells) within a 10-minute walk
  of a park linked to the Chaîne — the union of the 10-minute service areas of the parks of the
  main linked system (see :mod:`geo.parks.connectivity`).
* **Candidate gap** between two greenway components, or between a component and a park touching
  no greenway, or two such parks: the street connection that needs the least length *to build*
  — a shortest path on the walk network where existing greenway edges cost almost nothing —
  kept when that length is at most :data:`geo.config.PARKS_GAP_MAX_LENGTH_M`. One candidate per
  pair. Two components already joined through a park they both touch get a candidate too (a
  continuous greenway), with no newly linked population.
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
               "parks_newly_linked", "joins", "edge_ids"]


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


def _unit_labels(model: ParksModel, conn: Connectivity) -> dict[str, str]:
    """French words for each greenway component (``c{id}``) and park (``p{id}``) (UI text)."""
    labels: dict[str, str] = {}
    gid = model.network.edges["greenway_id"].to_numpy(object)
    gw_names: dict[object, str] = {}
    if not model.greenways.empty and "greenway_id" in model.greenways and "nom" in model.greenways:
        gw_names = {k: str(n) for k, n in zip(model.greenways["greenway_id"], model.greenways["nom"], strict=True)
                    if isinstance(n, str) and n}
    for c in conn.component_length_m:
        ids = [g for g in dict.fromkeys(gid[conn.edge_component == c]) if g is not None]
        names = list(dict.fromkeys(gw_names[g] for g in ids if g in gw_names))
        txt = ("voie verte " + ", ".join(f"« {n} »" for n in names[:2]) + (" …" if len(names) > 2 else "")
               if names else f"voie verte n°{c}")
        if conn.main_system is not None and conn.component_system.get(c) == conn.main_system:
            txt += " (Chaîne)"
        labels[f"c{c}"] = txt
    for pid, nom in zip(model.parks["park_id"].astype(int), model.parks["nom"], strict=True):
        labels[f"p{pid}"] = f"« {nom if isinstance(nom, str) and nom else f'parc {pid}'} » (parc non relié)"
    return labels


def candidate_gaps(model: ParksModel, *, max_length_m: float = config.PARKS_GAP_MAX_LENGTH_M) -> gpd.GeoDataFrame:
    """Candidate links between greenway components and parks touching no greenway, ranked.

    See the module docstring for the method.

    Returns
    -------
    GeoDataFrame
        ``gap_id``, ``rank`` (1 = best), ``length_m`` [m] to build, ``links`` (French text),
        ``population_newly_linked`` [persons], ``score_per_km`` [persons/km],
        ``parks_newly_linked`` (count), ``joins`` (what it joins: ``c2`` = greenway component 2,
        ``p5`` = park 5, e.g. ``"c1,p5"``), ``edge_ids`` (network edge rows to turn into greenway,
        ``"12,13"``); line geometry (Lambert-93).
    """
    net = model.network
    conn = model.connectivity()
    crs = model.crs
    # Units: greenway components (their edges' ends) and parks touching no greenway (their entrances).
    u = net.edges["u"].to_numpy(np.int64)
    v = net.edges["v"].to_numpy(np.int64)
    node_unit = np.full(net.n_nodes, -1, np.int64)
    unit_name: list[str] = []
    for c in conn.component_length_m:
        rows = np.flatnonzero(conn.edge_component == c)
        node_unit[u[rows]] = len(unit_name)
        node_unit[v[rows]] = len(unit_name)
        unit_name.append(f"c{c}")
    for pid in model.park_ids():
        if conn.park_components.get(pid):
            continue
        nodes = model.entrance_nodes(pid)
        nodes = nodes[node_unit[nodes] < 0]
        if len(nodes) == 0:
            continue
        node_unit[nodes] = len(unit_name)
        unit_name.append(f"p{pid}")
    if len(unit_name) < 2:
        return _empty(crs)
    cost, _ = net.csr(gap_mode=True)
    best: dict[tuple[int, int], tuple[float, int, int]] = {}
    preds: dict[int, np.ndarray] = {}
    for unit in range(len(unit_name)):
        src = np.flatnonzero(node_unit == unit)
        dist, pred, _ = dijkstra(cost, directed=True, indices=src, min_only=True, limit=max_length_m,
                                 return_predecessors=True)
        preds[unit] = pred
        hit = np.flatnonzero(np.isfinite(dist) & (node_unit >= 0) & (node_unit != unit))
        if len(hit) == 0:
            continue
        order = np.lexsort((hit, dist[hit]))
        seen: set[int] = set()
        for h in hit[order]:
            t = int(node_unit[h])
            if t in seen:
                continue
            seen.add(t)
            key = (min(unit, t), max(unit, t))
            if key not in best or dist[h] < best[key][0] - 1e-9:
                best[key] = (float(dist[h]), unit, int(h))
    if not best:
        return _empty(crs)
    length = net.edges["length_m"].to_numpy(float)
    gw = net.edges["is_greenway"].to_numpy(bool)
    labels = _unit_labels(model, conn)
    base_parks = conn.linked_parks()
    base_union = linked_union(model, base_parks)
    rows_out = []
    for (a, b), (_, src_unit, target) in sorted(best.items()):
        path_nodes, path_rows = path_edges(net, preds[src_unit], target, gap_mode=True)
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
            "links": f"{labels[unit_name[a]]} ↔ {labels[unit_name[b]]}",
            "population_newly_linked": gain,
            "score_per_km": gain / (build_len / 1000.0),
            "parks_newly_linked": len(after.linked_parks() - base_parks),
            "joins": f"{unit_name[a]},{unit_name[b]}",
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
        raise InvalidRequestError("aucune liaison manquante indiquée")
    if gaps is None or gaps.empty:
        raise NotFoundError("cette construction ne contient aucune liaison manquante candidate")
    rows = gaps[gaps["gap_id"].astype(int).isin(ids)]
    if missing := sorted(set(ids) - set(rows["gap_id"].astype(int))):
        raise NotFoundError(f"liaison(s) manquante(s) {', '.join(map(str, missing))} introuvable(s)")
    net = model.network
    gw = net.edges["is_greenway"].to_numpy(bool)
    length = net.edges["length_m"].to_numpy(float)
    edges, flags = gap_flags(model, rows)
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


def gap_flags(model: ParksModel, rows: gpd.GeoDataFrame) -> tuple[list[int], np.ndarray]:
    """(network edge rows of the gaps ``rows``, greenway flags of the network once they are built)."""
    gw = model.network.edges["is_greenway"].to_numpy(bool)
    if "edge_ids" not in rows:
        raise InvalidRequestError("la couche des liaisons manquantes n'a pas de colonne edge_ids (reconstruire parks.gpkg)")
    edges = sorted({int(e) for s in rows["edge_ids"] for e in str(s).split(",") if e != ""})
    if any(e < 0 or e >= len(gw) for e in edges):
        raise InvalidRequestError("les liaisons manquantes ne correspondent pas à ce réseau (reconstruire parks.gpkg)")
    flags = gw.copy()
    flags[edges] = True
    return edges, flags
