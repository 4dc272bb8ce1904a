"""The walk network of the Chaîne des Parcs: noding, greenway flags, park entrances, shortest paths.

A :class:`Network` is a planar-ish undirected graph held as arrays: node coordinates and an
edge table (``u``, ``v``, ``length_m``, ``is_greenway``, ``highway``, ``kind``, line geometry
running from ``u`` to ``v``). Shortest paths use :mod:`scipy.sparse.csgraph` (multi-source
Dijkstra with a distance limit, fast enough for service areas on 10⁵–10⁶ edges); cycle and
component questions use :mod:`networkx` (see :mod:`geo.parks.connectivity`).

How the graph is built (:func:`build_network`)
----------------------------------------------
1. Street lines are kept when their OSM ``highway`` is walkable
   (:data:`geo.config.PARKS_WALKABLE_HIGHWAYS`).
2. Greenway vertices within :data:`~geo.config.PARKS_GREENWAY_VERTEX_SNAP_M` of a street vertex
   are moved onto it (a greenway digitised over an existing path then merges with it), and a
   greenway end lying within :data:`~geo.config.PARKS_GREENWAY_SNAP_M` of another line
   without touching it is joined to it by a straight *virtual* edge (``kind = 'virtual'``).
3. All lines are noded together (GEOS union on a :data:`~geo.config.PARKS_NODE_GRID_M` grid):
   every crossing becomes a node, and a greenway drawn over an existing path merges with it.
   Known weakness: bridges and tunnels crossing a street are noded too.
4. A noded segment is a greenway edge when at least
   :data:`~geo.config.PARKS_GREENWAY_MATCH_SHARE` of its length lies within
   :data:`~geo.config.PARKS_GREENWAY_MATCH_M` of a greenway line.

Park entrances (:func:`add_entrances`)
--------------------------------------
* ``path`` entrances: where a network edge crosses a park's edge (the edge is split there).
* ``pseudo`` entrances: every :data:`~geo.config.PARKS_PSEUDO_ENTRANCE_SPACING_M` along the park
  edge, except near a path entrance, joined to the *nearest point of the network* (the edge is
  split there) by a straight virtual edge (``kind = 'entrance'``) when that point is within
  :data:`~geo.config.PARKS_PSEUDO_ENTRANCE_MAX_LINK_M`. This corrects the known weakness of
  nearest-node snapping, which misses parks bordered by streets but entered by no mapped path.

All coordinates are in the layers' projected CRS (Lambert-93, metres).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from geo import config
from geo.errors import InputError

log = logging.getLogger("artois.parks")

EDGE_COLUMNS = ("u", "v", "length_m", "is_greenway", "highway", "kind", "greenway_id")


@dataclass
class Network:
    """An undirected walk network in a projected CRS.

    Attributes
    ----------
    nodes
        Node coordinates, shape (n, 2) [m].
    edges
        One row per edge: ``u``, ``v`` (node indices), ``length_m`` [m], ``is_greenway`` (bool),
        ``highway`` (OSM tag or None), ``kind`` (``street``, ``greenway``, ``virtual`` for a
        greenway-end connector, ``entrance`` for a pseudo-entrance link, ``gap`` for a built
        candidate link), ``greenway_id`` (source greenway or None); geometry from ``u`` to ``v``.
    crs
        The CRS of ``nodes`` and of the edge geometries.
    """

    nodes: np.ndarray
    edges: gpd.GeoDataFrame
    crs: object = None
    _csr_cache: dict[tuple[str, float], tuple[csr_matrix, csr_matrix]] = field(default_factory=dict, repr=False)

    @property
    def n_nodes(self) -> int:
        return int(self.nodes.shape[0])

    def copy(self) -> Network:
        return Network(self.nodes.copy(), self.edges.copy(), self.crs)

    def weights(self, *, greenway_preference: float = 1.0, gap_mode: bool = False) -> np.ndarray:
        """Edge costs: length [m], non-greenway edges × ``greenway_preference``.

        With ``gap_mode`` greenway edges cost almost nothing (1/1000 of their length), so a
        shortest path minimises the length *still to build*.
        """
        length = self.edges["length_m"].to_numpy(float)
        gw = self.edges["is_greenway"].to_numpy(bool)
        if gap_mode:
            return np.where(gw, length * 1e-3, length)
        return np.where(gw, length, length * float(greenway_preference))

    def csr(self, *, greenway_preference: float = 1.0, gap_mode: bool = False) -> tuple[csr_matrix, csr_matrix]:
        """Symmetric cost matrix (minimum over parallel edges) and the matching edge-index matrix.

        The second matrix holds ``edge index + 1`` of the cheapest edge for each node pair, so a
        path found on the first can be turned back into edges. Cached per cost setting.
        """
        key = ("gap" if gap_mode else "pref", float(greenway_preference))
        if key not in self._csr_cache:
            w = np.maximum(self.weights(greenway_preference=greenway_preference, gap_mode=gap_mode), 1e-9)
            u = self.edges["u"].to_numpy(np.int64)
            v = self.edges["v"].to_numpy(np.int64)
            idx = np.arange(len(u), dtype=np.int64)
            a = np.concatenate([u, v])
            b = np.concatenate([v, u])
            ww = np.concatenate([w, w])
            ii = np.concatenate([idx, idx])
            order = np.lexsort((ww, b, a))  # by a, then b, then cost: first of each pair is cheapest
            a, b, ww, ii = a[order], b[order], ww[order], ii[order]
            keep = np.ones(len(a), bool)
            keep[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
            a, b, ww, ii = a[keep], b[keep], ww[keep], ii[keep]
            n = self.n_nodes
            cost = csr_matrix((ww, (a, b)), shape=(n, n))
            eidx = csr_matrix((ii + 1, (a, b)), shape=(n, n))
            self._csr_cache[key] = (cost, eidx)
        return self._csr_cache[key]

    def invalidate(self) -> None:
        """Forget cached matrices (call after editing ``edges``)."""
        self._csr_cache.clear()

    def components(self) -> np.ndarray:
        """Connected-component label of each node (0 = the component with the most edges' length)."""
        n = self.n_nodes
        if n == 0:
            return np.zeros(0, np.int64)
        u = self.edges["u"].to_numpy(np.int64)
        v = self.edges["v"].to_numpy(np.int64)
        g = csr_matrix((np.ones(len(u)), (u, v)), shape=(n, n))
        _, labels = connected_components(g, directed=False)
        totals = np.bincount(labels[u], weights=self.edges["length_m"].to_numpy(float), minlength=labels.max() + 1)
        rank = np.empty_like(totals, dtype=np.int64)
        rank[np.argsort(-totals, kind="stable")] = np.arange(len(totals))
        return rank[labels]


# ---------------------------------------------------------------------------
# Building the network
# ---------------------------------------------------------------------------


def _lines(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Explode to single LineStrings without Z and drop empty / zero-length ones."""
    if gdf.empty:
        return gdf
    out = gdf.explode(index_parts=False, ignore_index=True)
    out = out[out.geometry.geom_type == "LineString"]
    out = out.set_geometry(shapely.force_2d(out.geometry.values))
    return out[out.geometry.length > 0].reset_index(drop=True)


def _greenway_connectors(greenways: gpd.GeoDataFrame, others: np.ndarray, snap_m: float) -> list[shapely.LineString]:
    """Straight connectors from dangling greenway ends to the nearest other line within ``snap_m`` [m]."""
    if greenways.empty:
        return []
    g = greenways.geometry.values
    all_lines = np.concatenate([others, g]) if len(others) else g
    tree = shapely.STRtree(all_lines)
    n_others = len(others)
    connectors: list[shapely.LineString] = []
    for i, line in enumerate(g):
        own = n_others + i
        for end in (shapely.get_point(line, 0), shapely.get_point(line, -1)):
            cand = tree.query(end, predicate="dwithin", distance=snap_m)
            cand = cand[cand != own]
            if len(cand) == 0:
                continue
            d = shapely.distance(end, all_lines[cand])
            if (d <= 1e-6).any():
                continue  # already on a line: the noding joins it
            j = cand[int(np.argmin(d))]
            connectors.append(shapely.shortest_line(end, all_lines[j]))
    return connectors


def _snap_to(lines: np.ndarray, reference: np.ndarray, tol_m: float) -> np.ndarray:
    """Move the vertices of ``lines`` within ``tol_m`` [m] of a vertex of ``reference`` onto it."""
    tree = shapely.STRtree(reference)
    out = np.array(lines, dtype=object)
    for i, line in enumerate(out):
        near = tree.query(line, predicate="dwithin", distance=tol_m)
        if len(near):
            out[i] = shapely.snap(line, shapely.union_all(reference[near]), tol_m)
    return out


def build_network(
    streets: gpd.GeoDataFrame,
    greenways: gpd.GeoDataFrame | None = None,
    *,
    walkable: Sequence[str] | frozenset[str] | None = config.PARKS_WALKABLE_HIGHWAYS,
    greenway_snap_m: float = config.PARKS_GREENWAY_SNAP_M,
    greenway_match_m: float = config.PARKS_GREENWAY_MATCH_M,
    greenway_match_share: float = config.PARKS_GREENWAY_MATCH_SHARE,
    grid_m: float = config.PARKS_NODE_GRID_M,
    vertex_snap_m: float = config.PARKS_GREENWAY_VERTEX_SNAP_M,
) -> Network:
    """Node the street lines and the greenways into one walk network.

    Parameters
    ----------
    streets
        Walkable lines with an OSM ``highway`` column (optional ``name``); projected CRS [m].
    greenways
        Greenway lines (optional ``greenway_id``, ``nom``, ``type``), same CRS; may be None/empty.
    walkable
        ``highway`` values kept (None keeps every line).
    greenway_snap_m, greenway_match_m, greenway_match_share, grid_m, vertex_snap_m
        Tolerances [m] (and share 0–1) described in the module docstring.

    Returns
    -------
    Network
        Edges with ``kind`` ``street``, ``greenway`` (greenway not on any street) or ``virtual``.
    """
    streets = _lines(streets)
    if walkable is not None and "highway" in streets.columns and not streets.empty:
        ok = streets["highway"].isin(list(walkable))
        if (~ok).any():
            log.info("dropped %d non-walkable street line(s) (motorways, construction…)", int((~ok).sum()))
        streets = streets[ok].reset_index(drop=True)
    gw = _lines(greenways) if greenways is not None else gpd.GeoDataFrame(geometry=[], crs=streets.crs)
    if "greenway_id" not in gw.columns:
        gw["greenway_id"] = np.arange(1, len(gw) + 1)
    if streets.empty and gw.empty:
        raise InputError(None, "the walk network is empty: no walkable street and no greenway line")
    crs = streets.crs if not streets.empty else gw.crs
    street_geoms = streets.geometry.values if not streets.empty else np.array([], dtype=object)
    if len(street_geoms) and not gw.empty:
        gw = gw.copy()
        gw["geometry"] = _snap_to(gw.geometry.values, street_geoms, vertex_snap_m)
    connectors = _greenway_connectors(gw, street_geoms, greenway_snap_m)
    if connectors:
        log.info("joined %d greenway end(s) to the network by virtual edges", len(connectors))
    all_geoms = np.concatenate([street_geoms, gw.geometry.values, np.array(connectors, dtype=object)])
    noded = shapely.union_all(all_geoms, grid_size=grid_m)
    segs = np.asarray(shapely.get_parts(noded))
    segs = segs[shapely.get_type_id(segs) == 1]  # LineStrings only
    segs = segs[shapely.length(segs) > grid_m]
    n = len(segs)
    mids = shapely.line_interpolate_point(segs, 0.5, normalized=True)

    # Attributes: the street under the segment's midpoint, greenway coverage.
    highway = np.full(n, None, dtype=object)
    kind = np.full(n, "street", dtype=object)
    gw_id = np.full(n, None, dtype=object)
    is_gw = np.zeros(n, bool)
    if len(street_geoms):
        tree = shapely.STRtree(street_geoms)
        seg_i, src_i = tree.query_nearest(mids, max_distance=max(grid_m * 10, 0.05), all_matches=False)
        if "highway" in streets.columns:
            highway[seg_i] = streets["highway"].to_numpy(object)[src_i]
        on_street = np.zeros(n, bool)
        on_street[seg_i] = True
    else:
        on_street = np.zeros(n, bool)
    if not gw.empty:
        gw_geoms = gw.geometry.values
        tree = shapely.STRtree(gw_geoms)
        seg_i, src_i = tree.query(mids, predicate="dwithin", distance=greenway_match_m)
        if len(seg_i):
            bands = shapely.buffer(gw_geoms[src_i], greenway_match_m, cap_style="flat")
            share = shapely.length(shapely.intersection(segs[seg_i], bands)) / shapely.length(segs[seg_i])
            good = share >= greenway_match_share
            is_gw[seg_i[good]] = True
            gw_id[seg_i[good]] = gw["greenway_id"].to_numpy(object)[src_i[good]]
    if connectors:
        tree = shapely.STRtree(np.array(connectors, dtype=object))
        seg_i, _ = tree.query_nearest(mids, max_distance=max(grid_m * 10, 0.05), all_matches=False)
        virt = np.zeros(n, bool)
        virt[seg_i] = True
        virt &= ~on_street & ~is_gw
        kind[virt] = "virtual"
        is_gw[virt] = True  # a connector continues its greenway
    kind[is_gw & ~on_street & (kind == "street")] = "greenway"
    edges = gpd.GeoDataFrame(
        {"highway": highway, "kind": kind, "is_greenway": is_gw, "greenway_id": gw_id},
        geometry=segs, crs=crs,
    )
    return _index_nodes(edges, crs, grid_m)


def _index_nodes(edges: gpd.GeoDataFrame, crs: object, grid_m: float) -> Network:
    """Give the edges' end points node ids (coordinates rounded to ``grid_m``)."""
    geoms = edges.geometry.values
    a = shapely.get_coordinates(shapely.get_point(geoms, 0))
    b = shapely.get_coordinates(shapely.get_point(geoms, -1))
    pts = np.round(np.vstack([a, b]) / grid_m).astype(np.int64)
    uniq, inv = np.unique(pts, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    nodes = uniq.astype(float) * grid_m
    u, v = inv[: len(geoms)], inv[len(geoms):]
    out = edges.copy()
    out["u"] = u
    out["v"] = v
    out["length_m"] = shapely.length(geoms)
    out = out[out["u"] != out["v"]].reset_index(drop=True)
    return Network(nodes, out[[*EDGE_COLUMNS, "geometry"]], crs)


# ---------------------------------------------------------------------------
# Editing: split edges, add nodes and edges
# ---------------------------------------------------------------------------


def split_edges(net: Network, edge_index: np.ndarray, distance_m: np.ndarray, *, tol_m: float = 0.05) -> np.ndarray:
    """Insert nodes on edges at given distances along them; returns the node of each request.

    Parameters
    ----------
    net
        Modified in place (edges replaced by their pieces, nodes appended).
    edge_index
        Edge row of each request.
    distance_m
        Distance [m] from the edge's ``u`` end. Within ``tol_m`` of an end, that end's node is used.

    Returns
    -------
    numpy.ndarray
        Node index for each request (same order).
    """
    edge_index = np.asarray(edge_index, np.int64)
    distance_m = np.asarray(distance_m, float)
    result = np.full(len(edge_index), -1, np.int64)
    if len(edge_index) == 0:
        return result
    edges = net.edges
    new_nodes: list[tuple[float, float]] = []
    new_rows: list[dict[str, object]] = []
    drop: list[int] = []
    n0 = net.n_nodes
    order = np.lexsort((distance_m, edge_index))
    i = 0
    while i < len(order):
        e = int(edge_index[order[i]])
        j = i
        while j < len(order) and edge_index[order[j]] == e:
            j += 1
        reqs = order[i:j]
        i = j
        row = edges.iloc[e]
        line = row.geometry
        length = float(line.length)
        cuts: list[float] = []
        cut_node: list[int] = []
        for r in reqs:
            d = float(distance_m[r])
            if d <= tol_m:
                result[r] = int(row["u"])
            elif d >= length - tol_m:
                result[r] = int(row["v"])
            elif cuts and d - cuts[-1] <= tol_m:
                result[r] = cut_node[-1]
            else:
                p = line.interpolate(d)
                new_nodes.append((p.x, p.y))
                cuts.append(d)
                cut_node.append(n0 + len(new_nodes) - 1)
                result[r] = cut_node[-1]
        if not cuts:
            continue
        drop.append(e)
        bounds = [0.0, *cuts, length]
        ends = [int(row["u"]), *cut_node, int(row["v"])]
        base = row.to_dict()
        for k in range(len(bounds) - 1):
            piece = substring(line, bounds[k], bounds[k + 1])
            rec = dict(base)
            rec.update(u=ends[k], v=ends[k + 1], length_m=float(piece.length), geometry=piece)
            new_rows.append(rec)
    if drop:
        kept = edges.drop(index=edges.index[drop])
        added = gpd.GeoDataFrame(new_rows, geometry="geometry", crs=edges.crs)
        net.edges = gpd.GeoDataFrame(pd.concat([kept, added], ignore_index=True), geometry="geometry", crs=edges.crs)
    if new_nodes:
        net.nodes = np.vstack([net.nodes, np.array(new_nodes, float)])
    net.invalidate()
    return result


def add_nodes(net: Network, xy: np.ndarray) -> np.ndarray:
    """Append nodes at coordinates ``xy`` (n, 2) [m]; returns their indices."""
    xy = np.asarray(xy, float).reshape(-1, 2)
    start = net.n_nodes
    net.nodes = np.vstack([net.nodes, xy])
    return np.arange(start, start + len(xy), dtype=np.int64)


def add_edges(net: Network, u: np.ndarray, v: np.ndarray, *, kind: str, is_greenway: bool = False) -> None:
    """Append straight edges between existing nodes (virtual links)."""
    if len(u) == 0:
        return
    u = np.asarray(u, np.int64)
    v = np.asarray(v, np.int64)
    geoms = shapely.linestrings(np.stack([net.nodes[u], net.nodes[v]], axis=1))
    rows = gpd.GeoDataFrame(
        {"u": u, "v": v, "length_m": shapely.length(geoms), "is_greenway": is_greenway, "highway": None,
         "kind": kind, "greenway_id": None},
        geometry=geoms, crs=net.edges.crs,
    )
    net.edges = gpd.GeoDataFrame(pd.concat([net.edges, rows], ignore_index=True), geometry="geometry", crs=net.edges.crs)
    net.invalidate()


# ---------------------------------------------------------------------------
# Park entrances
# ---------------------------------------------------------------------------


def add_entrances(
    net: Network,
    parks: gpd.GeoDataFrame,
    *,
    spacing_m: float = config.PARKS_PSEUDO_ENTRANCE_SPACING_M,
    max_link_m: float = config.PARKS_PSEUDO_ENTRANCE_MAX_LINK_M,
) -> gpd.GeoDataFrame:
    """Find park entrances and wire them into ``net`` (modified in place).

    Parameters
    ----------
    net
        The walk network.
    parks
        Park polygons with a ``park_id`` column, same CRS.
    spacing_m
        Spacing [m] of pseudo-entrances along park edges where no path enters.
    max_link_m
        Longest virtual link [m] from a pseudo-entrance to the network.

    Returns
    -------
    GeoDataFrame
        ``entrance_id``, ``park_id``, ``kind`` (``path`` | ``pseudo``), ``node`` (network node),
        ``link_m`` (virtual link length [m], 0 for path entrances); point geometry.
    """
    rows: list[dict[str, object]] = []
    if parks.empty or net.edges.empty:
        return _entrances_frame(rows, parks.crs)
    boundaries = shapely.boundary(parks.geometry.values)
    park_ids = parks["park_id"].to_numpy()

    # 1. Path entrances: crossings of edges with park edges.
    edge_geoms = net.edges.geometry.values
    tree = shapely.STRtree(edge_geoms)
    b_idx, e_idx = tree.query(boundaries, predicate="intersects")
    req_edge: list[int] = []
    req_dist: list[float] = []
    req_park: list[int] = []
    req_pt: list[shapely.Point] = []
    for bi, ei in zip(b_idx, e_idx, strict=True):
        inter = shapely.intersection(edge_geoms[ei], boundaries[bi])
        for part in shapely.get_parts(inter):
            if part.geom_type != "Point":
                continue  # an edge running along the park edge: pseudo-entrances handle it
            req_edge.append(int(ei))
            req_dist.append(float(edge_geoms[ei].project(part)))
            req_park.append(int(bi))
            req_pt.append(part)
    nodes = split_edges(net, np.array(req_edge, np.int64), np.array(req_dist, float))
    seen: set[tuple[int, int]] = set()
    path_pts: dict[int, list[shapely.Point]] = {}
    for k, node in enumerate(nodes):
        key = (req_park[k], int(node))
        if key in seen:
            continue
        seen.add(key)
        rows.append({"park_id": park_ids[req_park[k]], "kind": "path", "node": int(node), "link_m": 0.0,
                     "geometry": shapely.Point(net.nodes[node])})
        path_pts.setdefault(req_park[k], []).append(req_pt[k])

    # 2. Pseudo-entrances every spacing_m along park edges away from path entrances.
    cand_pt: list[shapely.Point] = []
    cand_park: list[int] = []
    for bi, ring in enumerate(boundaries):
        entr = shapely.multipoints(path_pts[bi]) if bi in path_pts else None
        for line in shapely.get_parts(ring):
            length = line.length
            if length <= 0:
                continue
            k = max(int(np.floor(length / spacing_m)), 1)
            for d in (np.arange(k) + 0.5) * (length / k):
                p = line.interpolate(d)
                if entr is not None and p.distance(entr) <= spacing_m / 2:
                    continue
                cand_pt.append(p)
                cand_park.append(bi)
    if cand_pt and max_link_m > 0:
        pts = np.array(cand_pt, dtype=object)
        edge_geoms = net.edges.geometry.values
        tree = shapely.STRtree(edge_geoms)
        p_idx, e_idx = tree.query_nearest(pts, max_distance=max_link_m, all_matches=False)
        dist_along = shapely.line_locate_point(edge_geoms[e_idx], pts[p_idx])
        # A pseudo-entrance reaches the park from outside: skip links ending on a path inside it.
        proj = shapely.line_interpolate_point(edge_geoms[e_idx], dist_along)
        inner = shapely.buffer(parks.geometry.values[np.asarray(cand_park)[p_idx]], -0.5)
        outside = ~shapely.contains(inner, proj)
        p_idx, e_idx, dist_along = p_idx[outside], e_idx[outside], dist_along[outside]
        on_net = split_edges(net, e_idx, dist_along)
        # Skip a pseudo-entrance that would only duplicate an entrance of the same park.
        taken = {(park_ids[a], b) for a, b in seen}
        fresh = np.zeros(len(p_idx), bool)
        for k, (pi, nd) in enumerate(zip(p_idx, on_net, strict=True)):
            key = (park_ids[cand_park[pi]], int(nd))
            fresh[k] = key not in taken
            taken.add(key)
        p_idx, on_net = p_idx[fresh], on_net[fresh]
        snapped = shapely.points(net.nodes[on_net])
        link = shapely.distance(pts[p_idx], snapped)
        far = link > 0.05
        ent_nodes = on_net.copy()
        if far.any():
            new = add_nodes(net, shapely.get_coordinates(pts[p_idx][far]))
            add_edges(net, new, on_net[far], kind="entrance")
            ent_nodes[far] = new
        for k, pi in enumerate(p_idx):
            rows.append({"park_id": park_ids[cand_park[pi]], "kind": "pseudo", "node": int(ent_nodes[k]),
                         "link_m": float(link[k]) if far[k] else 0.0,
                         "geometry": shapely.Point(net.nodes[ent_nodes[k]])})
    return _entrances_frame(rows, parks.crs)


def _entrances_frame(rows: list[dict[str, object]], crs: object) -> gpd.GeoDataFrame:
    cols = ["park_id", "kind", "node", "link_m", "geometry"]
    df = gpd.GeoDataFrame(rows, columns=cols, geometry="geometry", crs=crs) if rows else gpd.GeoDataFrame(
        {c: [] for c in cols[:-1]}, geometry=[], crs=crs)
    df.insert(0, "entrance_id", np.arange(1, len(df) + 1, dtype=np.int64))
    df["node"] = df["node"].astype(np.int64)
    df["link_m"] = df["link_m"].astype(float)
    return df


# ---------------------------------------------------------------------------
# Distances
# ---------------------------------------------------------------------------


def node_distances(
    net: Network, sources: np.ndarray, *, limit_m: float = np.inf, greenway_preference: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Multi-source network distance from the nearest of ``sources`` to every node.

    Parameters
    ----------
    net
        The network.
    sources
        Source node indices (e.g. all entrances of one park).
    limit_m
        Stop the search beyond this cost [m] (nodes farther get ``inf``).
    greenway_preference
        Cost factor of non-greenway edges (1 = plain length).

    Returns
    -------
    (distance_m, nearest_source)
        Cost [m] to each node (``inf`` if unreachable) and the source node it comes from (-1 if none).
    """
    sources = np.unique(np.asarray(sources, np.int64))
    n = net.n_nodes
    if len(sources) == 0:
        return np.full(n, np.inf), np.full(n, -1, np.int64)
    cost, _ = net.csr(greenway_preference=greenway_preference)
    dist, _, src = dijkstra(cost, directed=True, indices=sources, min_only=True, limit=limit_m,
                            return_predecessors=True)
    return np.asarray(dist, float), np.asarray(src, np.int64)


def point_distances(
    net: Network, node_dist: np.ndarray, points: np.ndarray, *, max_snap_m: float = np.inf
) -> tuple[np.ndarray, np.ndarray]:
    """Network distance from arbitrary points to the sources of ``node_dist``.

    Each point is snapped to the nearest point of the nearest edge (straight access leg
    counted); along the edge the walk goes to whichever end is closer to a source.

    Parameters
    ----------
    net
        The network.
    node_dist
        Distance [m] of each node (from :func:`node_distances`).
    points
        Shapely points, same CRS.
    max_snap_m
        Points farther than this [m] from any edge get ``inf``.

    Returns
    -------
    (distance_m, snap_m)
        Distance [m] (``inf`` if unreachable) and the straight access leg [m].
    """
    points = np.asarray(points, dtype=object)
    out = np.full(len(points), np.inf)
    snap = np.full(len(points), np.inf)
    if len(points) == 0 or net.edges.empty:
        return out, snap
    geoms = net.edges.geometry.values
    tree = shapely.STRtree(geoms)
    if np.isfinite(max_snap_m):
        p_idx, e_idx = tree.query_nearest(points, max_distance=max_snap_m, all_matches=False)
    else:
        p_idx, e_idx = tree.query_nearest(points, all_matches=False)
    s = shapely.line_locate_point(geoms[e_idx], points[p_idx])
    off = shapely.distance(points[p_idx], geoms[e_idx])
    length = net.edges["length_m"].to_numpy(float)[e_idx]
    du = node_dist[net.edges["u"].to_numpy(np.int64)[e_idx]]
    dv = node_dist[net.edges["v"].to_numpy(np.int64)[e_idx]]
    d = off + np.minimum(du + s, dv + (length - s))
    np.minimum.at(out, p_idx, d)
    np.minimum.at(snap, p_idx, off)
    return out, snap


def reachable_lines(net: Network, node_dist: np.ndarray, radius_m: float) -> np.ndarray:
    """The parts of the edges within ``radius_m`` [m] of the sources of ``node_dist``.

    An edge (u, v) of length L is reached from u up to ``radius - d(u)`` and from v up to
    ``radius - d(v)``; when both reaches cover it, it is taken whole.

    Returns
    -------
    numpy.ndarray
        Shapely LineStrings (pieces of edges).
    """
    u = net.edges["u"].to_numpy(np.int64)
    v = net.edges["v"].to_numpy(np.int64)
    length = net.edges["length_m"].to_numpy(float)
    a = np.clip(radius_m - node_dist[u], 0.0, None)  # reach from u [m]
    b = np.clip(radius_m - node_dist[v], 0.0, None)
    a = np.where(np.isfinite(a), a, 0.0)
    b = np.where(np.isfinite(b), b, 0.0)
    touched = (a > 0) | (b > 0)
    geoms = net.edges.geometry.values
    whole = touched & (a + b >= length)
    out: list[BaseGeometry] = list(geoms[whole])
    for i in np.flatnonzero(touched & ~whole):
        line = geoms[i]
        if a[i] > 0:
            out.append(substring(line, 0.0, float(a[i])))
        if b[i] > 0:
            out.append(substring(line, float(length[i] - b[i]), float(length[i])))
    return np.array(out, dtype=object)


def path_edges(net: Network, predecessors: np.ndarray, target: int, *, gap_mode: bool = False,
               greenway_preference: float = 1.0) -> tuple[list[int], list[int]]:
    """Walk a predecessor tree back from ``target``: (node sequence source→target, edge rows)."""
    _, eidx = net.csr(greenway_preference=greenway_preference, gap_mode=gap_mode)
    seq = [int(target)]
    while predecessors[seq[-1]] >= 0:
        seq.append(int(predecessors[seq[-1]]))
    seq.reverse()
    edges = [int(eidx[seq[k], seq[k + 1]]) - 1 for k in range(len(seq) - 1)]
    return seq, edges


def path_geometry(net: Network, nodes_seq: Sequence[int], edge_rows: Sequence[int]) -> shapely.LineString:
    """One LineString following ``edge_rows`` in the direction of ``nodes_seq``."""
    if not edge_rows:
        return shapely.LineString([net.nodes[nodes_seq[0]], net.nodes[nodes_seq[0]]])
    coords: list[np.ndarray] = []
    u = net.edges["u"].to_numpy(np.int64)
    geoms = net.edges.geometry.values
    for k, e in enumerate(edge_rows):
        c = shapely.get_coordinates(geoms[e])
        if u[e] != nodes_seq[k]:
            c = c[::-1]
        coords.append(c if not coords else c[1:])
    return shapely.LineString(np.vstack(coords))
