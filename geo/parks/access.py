"""Who lives within reach of a park: network service areas, served population, priority areas.

Method (documented for the data dictionary)
-------------------------------------------
* **Service area** of a park for a distance R [m]: multi-source Dijkstra from all its entrances
  along the walk network; every edge piece within R is kept (partial edges cut at the exact
  distance) and the pieces are buffered by :data:`geo.config.PARKS_SERVICE_AREA_BUFFER_M`
  (lateral access from the street to the door). Distances: 300 m (WHO), 800 m = 10-minute walk
  at 4.8 km/h (TPL ParkServe), and the ANGSt tiers the park's size qualifies for.
* **Population served** by a polygon: *areal weighting* of the Filosofi 200 m cells — a cell's
  population counts in proportion to the share of the cell's area inside the polygon (the
  population is assumed uniform within a cell). Communes: cells are first split by the commune
  boundaries, each piece carrying the population of its area share.
* **WHO 300 m**: only parks of at least :data:`geo.config.PARKS_WHO_MIN_AREA_HA` count.
* **Cell flags**: ``walk_m_to_park`` is the network distance from the cell's centre (snapped to
  the nearest edge, straight access leg included) to the nearest entrance; ``within_300m`` /
  ``within_10min`` say that at least half of the cell's area lies in the union of the service
  areas (the same areal weighting as the totals).
* **Priority areas** (ParkServe's idea): populated cells not within a 10-minute walk, ranked by
  ``priority_score = unserved population × (1 + poverty_rate)``, where ``poverty_rate`` =
  ``Men_pauv / Men`` (so a cell of poor households weighs up to twice its population).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo import config
from geo.errors import InvalidRequestError, NotFoundError
from geo.parks.model import ParksModel
from geo.parks.network import Network, node_distances, point_distances, reachable_lines

#: Service-area polygons are drawn with this many segments per quarter circle.
_QUAD_SEGS = 8


def walk_minutes(distance_m: float | np.ndarray, *, speed_kmh: float = config.PARKS_WALK_SPEED_KMH) -> float | np.ndarray:
    """Walking time [min] for a distance [m] at ``speed_kmh`` [km/h] (float in, float out; array in, array out)."""
    minutes = np.asarray(distance_m, float) / (speed_kmh * 1000.0 / 60.0)
    return float(minutes) if minutes.ndim == 0 else minutes


def service_area_polygon(
    net: Network, node_dist: np.ndarray, radius_m: float, *, buffer_m: float = config.PARKS_SERVICE_AREA_BUFFER_M
) -> BaseGeometry:
    """Polygon of the network within ``radius_m`` [m] of the sources of ``node_dist``, buffered by ``buffer_m`` [m].

    Returns an empty polygon when nothing is reachable.
    """
    pieces = reachable_lines(net, node_dist, radius_m)
    if len(pieces) == 0:
        return shapely.Polygon()
    # Buffering each piece then one union is ~10x faster than buffering a MultiLineString of them.
    poly: BaseGeometry = shapely.union_all(shapely.buffer(pieces, buffer_m, quad_segs=_QUAD_SEGS))
    return poly


def covered_share(cells: np.ndarray, polygon: BaseGeometry, *, tree: shapely.STRtree | None = None) -> np.ndarray:
    """Share (0–1) of each cell's area lying inside ``polygon``."""
    cells = np.asarray(cells, dtype=object)
    share = np.zeros(len(cells))
    if polygon is None or polygon.is_empty or len(cells) == 0:
        return share
    tree = tree or shapely.STRtree(cells)
    idx = tree.query(polygon, predicate="intersects")
    if len(idx):
        shapely.prepare(polygon)
        inside = shapely.contains(polygon, cells[idx])
        area = shapely.area(cells[idx])
        inter = np.where(inside, area, 0.0)
        part = ~inside
        if part.any():
            inter[part] = shapely.area(shapely.intersection(cells[idx][part], polygon))
        share[idx] = np.where(area > 0, inter / np.where(area > 0, area, 1.0), 0.0)
    return np.clip(share, 0.0, 1.0)


def areal_population(cells: gpd.GeoDataFrame, polygon: BaseGeometry, *, column: str = "population") -> float:
    """People [persons] inside ``polygon`` by areal weighting of ``cells[column]``."""
    if cells.empty:
        return 0.0
    return float(np.sum(cells[column].to_numpy(float) * covered_share(cells.geometry.values, polygon)))


def service_distances(area_ha: float) -> list[tuple[float, str]]:
    """Service-area distances [m] and labels a park of ``area_ha`` [ha] gets.

    300 m and 10 min for every park, plus each ANGSt tier beyond 800 m whose minimum size the
    park reaches (the ANGSt 300 m tier coincides with the 300 m area).
    """
    out = [(config.PARKS_WHO_DISTANCE_M, "300 m"), (config.PARKS_WALK_10MIN_M, "10 min")]
    for min_ha, dist, label in config.PARKS_ANGST_TIERS:
        if dist > config.PARKS_WALK_10MIN_M and area_ha >= min_ha:
            out.append((dist, label))
    return out


def park_service_areas(
    net: Network, parks: gpd.GeoDataFrame, entrances: gpd.GeoDataFrame, cells: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    """Service areas of every park (see :func:`service_distances`).

    Returns
    -------
    GeoDataFrame
        ``park_id``, ``distance_m`` [m], ``minutes`` (walking time [min] at 4.8 km/h), ``label``,
        ``population`` (areal-weighted people inside, null without cells); polygon geometry.
        Parks without an entrance get no row.
    """
    rows: list[dict[str, object]] = []
    tree = shapely.STRtree(cells.geometry.values) if cells is not None and not cells.empty else None
    pop = cells["population"].to_numpy(float) if tree is not None and cells is not None else None
    by_park = entrances.groupby("park_id")["node"].apply(lambda s: s.to_numpy(np.int64))
    for park in parks.itertuples(index=False):
        pid = park.park_id
        if pid not in by_park.index:
            continue
        tiers = service_distances(float(park.area_ha))
        node_dist, _ = node_distances(net, by_park[pid], limit_m=max(d for d, _ in tiers))
        for dist, label in tiers:
            poly = service_area_polygon(net, node_dist, dist)
            people = None
            if tree is not None and cells is not None and pop is not None:
                people = float(np.sum(pop * covered_share(cells.geometry.values, poly, tree=tree)))
            rows.append({"park_id": pid, "distance_m": dist, "minutes": float(walk_minutes(dist)), "label": label,
                         "population": people, "geometry": poly})
    cols = ["park_id", "distance_m", "minutes", "label", "population"]
    if not rows:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=parks.crs)
    return gpd.GeoDataFrame(rows, columns=[*cols, "geometry"], geometry="geometry", crs=parks.crs)


def union_service_area(net: Network, entrance_nodes: np.ndarray, radius_m: float) -> BaseGeometry:
    """Union of the service areas of radius ``radius_m`` [m] from all ``entrance_nodes`` (one Dijkstra)."""
    if len(entrance_nodes) == 0:
        return shapely.Polygon()
    node_dist, _ = node_distances(net, entrance_nodes, limit_m=radius_m)
    return service_area_polygon(net, node_dist, radius_m)


def cell_access(
    net: Network,
    cells: gpd.GeoDataFrame,
    entrances: gpd.GeoDataFrame,
    parks: gpd.GeoDataFrame,
) -> tuple[gpd.GeoDataFrame, dict[str, BaseGeometry]]:
    """Access indicators of each population cell.

    Parameters
    ----------
    net, entrances, parks
        The network with the entrances wired in, and the parks (``park_id``, ``area_ha``).
    cells
        Population cells: ``Idcar_200m``, ``population``, ``households``, ``poor_households``.

    Returns
    -------
    (GeoDataFrame, dict)
        The cells with ``poverty_rate`` (0–1), ``walk_m_to_park`` [m], ``share_within_300m``,
        ``share_within_10min`` (0–1, area share in the union of service areas),
        ``population_within_300m``, ``population_within_10min`` [persons], ``within_300m``,
        ``within_10min`` (share ≥ 0.5), ``priority_score`` and ``priority_rank``; and the union
        polygons ``{"300m": …, "10min": …}``.
    """
    out = cells.copy()
    hh = out["households"].to_numpy(float)
    poor = out["poor_households"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["poverty_rate"] = np.where(hh > 0, poor / np.where(hh > 0, hh, 1.0), np.nan)
    area = parks.set_index("park_id")["area_ha"]
    who_parks = set(area.index[area >= config.PARKS_WHO_MIN_AREA_HA])
    all_nodes = entrances["node"].to_numpy(np.int64)
    who_nodes = entrances.loc[entrances["park_id"].isin(who_parks), "node"].to_numpy(np.int64)
    unions = {
        "300m": union_service_area(net, who_nodes, config.PARKS_WHO_DISTANCE_M),
        "10min": union_service_area(net, all_nodes, config.PARKS_WALK_10MIN_M),
    }
    geoms = out.geometry.values
    tree = shapely.STRtree(geoms) if len(geoms) else None
    pop = out["population"].to_numpy(float)
    for key, col in (("300m", "300m"), ("10min", "10min")):
        share = covered_share(geoms, unions[key], tree=tree) if tree is not None else np.zeros(0)
        out[f"share_within_{col}"] = share
        out[f"population_within_{col}"] = pop * share
        out[f"within_{col}"] = share >= 0.5
    node_dist, _ = node_distances(net, all_nodes)
    walk, _ = point_distances(net, node_dist, shapely.centroid(geoms))
    out["walk_m_to_park"] = np.where(np.isfinite(walk), walk, np.nan)
    unserved = pop * (1.0 - out["share_within_10min"].to_numpy(float))
    rate = np.nan_to_num(out["poverty_rate"].to_numpy(float), nan=0.0)
    candidates = (pop > 0) & ~out["within_10min"].to_numpy(bool)
    score = np.where(candidates, unserved * (1.0 + rate), np.nan)
    out["priority_score"] = score
    rank = pd.Series(score).rank(ascending=False, method="first")
    out["priority_rank"] = pd.array(np.where(candidates, rank.to_numpy(), np.nan), dtype="Int64")
    return out, unions


def communes_access(
    cells: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame | None,
    unions: dict[str, BaseGeometry],
) -> gpd.GeoDataFrame:
    """Population within 300 m / 10 min per commune and per agglomeration (EPCI).

    Parameters
    ----------
    cells
        Population cells (``population``), same CRS as ``communes``.
    communes
        ``code``, ``nom``, ``epci_siren`` (optional ``epci_nom``) and polygons; None gives one
        row for the whole area (``level = 'zone'``).
    unions
        The union polygons from :func:`cell_access`.

    Returns
    -------
    GeoDataFrame
        ``level`` (``commune`` | ``epci`` | ``zone``), ``code``, ``nom``, ``epci_siren``,
        ``population``, ``population_within_300m``, ``population_within_10min`` [persons],
        ``share_within_300m``, ``share_within_10min`` (0–1, null without population).
    """
    crs = cells.crs
    pop = cells["population"].to_numpy(float)
    cgeoms = cells.geometry.values
    cell_area = shapely.area(cgeoms)
    rows: list[dict[str, object]] = []
    if communes is None or communes.empty:
        zone = shapely.union_all(cgeoms) if len(cgeoms) else shapely.Polygon()
        totals = {"population": float(pop.sum())}
        for key in ("300m", "10min"):
            totals[f"population_within_{key}"] = float(np.sum(pop * covered_share(cgeoms, unions[key])))
        rows.append({"level": "zone", "code": "zone", "nom": "Zone étudiée", "epci_siren": None, **totals,
                     "geometry": zone})
    else:
        tree = shapely.STRtree(cgeoms)
        for com in communes.itertuples(index=False):
            geom = com.geometry
            idx = tree.query(geom, predicate="intersects")
            pieces = shapely.intersection(cgeoms[idx], geom)
            w = np.where(cell_area[idx] > 0, pop[idx] / np.where(cell_area[idx] > 0, cell_area[idx], 1.0), 0.0)
            rec: dict[str, object] = {"level": "commune", "code": com.code, "nom": com.nom,
                                      "epci_siren": getattr(com, "epci_siren", None),
                                      "population": float(np.sum(w * shapely.area(pieces)))}
            for key in ("300m", "10min"):
                u = unions[key]
                inside = shapely.area(shapely.intersection(pieces, u)) if not u.is_empty else np.zeros(len(idx))
                rec[f"population_within_{key}"] = float(np.sum(w * inside))
            rec["geometry"] = geom
            rows.append(rec)
        df = pd.DataFrame(rows)
        if "epci_siren" in df and df["epci_siren"].notna().any():
            names = dict(config.PMA_EPCI)
            if "epci_nom" in communes:
                names.update({str(k): str(v) for k, v in zip(communes["epci_siren"], communes["epci_nom"], strict=True)
                              if isinstance(v, str) and v and k is not None})
            for siren, grp in df[df["epci_siren"].notna()].groupby("epci_siren"):
                rows.append({
                    "level": "epci", "code": str(siren), "nom": names.get(str(siren), str(siren)),
                    "epci_siren": str(siren),
                    "population": float(grp["population"].sum()),
                    "population_within_300m": float(grp["population_within_300m"].sum()),
                    "population_within_10min": float(grp["population_within_10min"].sum()),
                    "geometry": shapely.union_all(grp["geometry"].to_numpy()),
                })
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    with np.errstate(invalid="ignore", divide="ignore"):
        for key in ("300m", "10min"):
            p = out["population"].to_numpy(float)
            out[f"share_within_{key}"] = np.where(p > 0, out[f"population_within_{key}"] / np.where(p > 0, p, 1), np.nan)
    cols = ["level", "code", "nom", "epci_siren", "population", "population_within_300m", "population_within_10min",
            "share_within_300m", "share_within_10min", "geometry"]
    return out[cols]


def stops_access(
    net: Network, stops: gpd.GeoDataFrame, entrances: gpd.GeoDataFrame, parks: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Walk from each BHNS stop to the nearest park entrance.

    Returns
    -------
    GeoDataFrame
        The stops with ``nearest_park_id``, ``nearest_park_nom``, ``walk_m`` [m] and ``walk_min``
        [min] (null when no park is reachable).
    """
    out = stops.copy()
    if entrances.empty or stops.empty:
        out["nearest_park_id"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["nearest_park_nom"] = None
        out["walk_m"] = np.nan
        out["walk_min"] = np.nan
        return out
    node_dist, src = node_distances(net, entrances["node"].to_numpy(np.int64))
    walk, _ = point_distances(net, node_dist, out.geometry.values)
    # Which park: the source node of the best end of the snapped edge.
    geoms = net.edges.geometry.values
    tree = shapely.STRtree(geoms)
    p_idx, e_idx = tree.query_nearest(out.geometry.values, all_matches=False)
    s = shapely.line_locate_point(geoms[e_idx], out.geometry.values[p_idx])
    u = net.edges["u"].to_numpy(np.int64)[e_idx]
    v = net.edges["v"].to_numpy(np.int64)[e_idx]
    length = net.edges["length_m"].to_numpy(float)[e_idx]
    best = np.where(node_dist[u] + s <= node_dist[v] + (length - s), u, v)
    node_park = dict(zip(entrances["node"].to_numpy(np.int64), entrances["park_id"], strict=False))
    names = parks.set_index("park_id")["nom"]
    pid = np.full(len(out), None, dtype=object)
    pid[p_idx] = [node_park.get(int(src[b])) if src[b] >= 0 else None for b in best]
    reachable = np.isfinite(walk)
    pid[~reachable] = None
    out["nearest_park_id"] = pd.array(pid, dtype="Int64")
    out["nearest_park_nom"] = [names.get(p) if p is not None else None for p in pid]
    out["walk_m"] = np.where(reachable, walk, np.nan)
    out["walk_min"] = walk_minutes(out["walk_m"].to_numpy(float))
    return out


@dataclass(frozen=True)
class ServiceArea:
    """A park's service area computed at request time."""

    park_id: int
    distance_m: float
    minutes: float
    polygon: BaseGeometry
    population: float | None


def service_area(model: ParksModel, park_id: int, *, minutes: float | None = None, distance_m: float | None = None) -> ServiceArea:
    """Service area of one park for a walking time [min] or a distance [m] (default 10 min).

    Parameters
    ----------
    model
        The analysed network (:func:`geo.parks.model.load_network`).
    park_id
        The park.
    minutes, distance_m
        Walking time [min] at :data:`geo.config.PARKS_WALK_SPEED_KMH`, or network distance [m].

    Returns
    -------
    ServiceArea
        Polygon (Lambert-93) and the areal-weighted population inside (None without population).
    """
    if minutes is not None and distance_m is not None:
        raise InvalidRequestError("donnez soit minutes, soit distance_m, pas les deux")
    if distance_m is None:
        minutes = config.PARKS_WALK_10MIN_M / (config.PARKS_WALK_SPEED_KMH * 1000 / 60) if minutes is None else minutes
        distance_m = float(minutes) * config.PARKS_WALK_SPEED_KMH * 1000.0 / 60.0
    if not (0 < distance_m <= 20000):
        raise InvalidRequestError(f"distance {distance_m:g} m hors limites (0 à 20 000 m)")
    nodes = model.entrance_nodes(park_id)
    if len(nodes) == 0:
        raise NotFoundError(f"le parc {park_id} n'a aucune entrée sur le réseau piéton")
    node_dist, _ = node_distances(model.network, nodes, limit_m=distance_m)
    poly = service_area_polygon(model.network, node_dist, distance_m)
    people = areal_population(model.cells, poly) if not model.cells.empty else None
    return ServiceArea(int(park_id), float(distance_m), float(walk_minutes(distance_m)), poly, people)
