"""Planner scenarios: build candidate gaps, or a new path drawn by the planner, and see what changes.

* **Gaps** (:func:`gaps_scenario`): :func:`geo.parks.gaps.apply_scenario` turns the gaps' street edges into
  greenway; the walk network is unchanged, so nobody is newly within a 10-minute walk of a park (0 by
  construction).
* **A drawn line** (:func:`line_scenario`): a new greenway path is added to the walk network. Each vertex of the
  line, and each point where it crosses an existing edge (an at-grade crossing), is attached to the network: to
  the node within :data:`geo.config.PARKS_SCENARIO_SNAP_M` if any, else to the nearest edge within that
  distance (split there), else it is a new node; consecutive points are joined by straight greenway edges
  (``kind = 'scenario'``). Connectivity is recomputed, and the 10-minute service areas of the parks whose area
  the line reaches are recomputed on the new network (the others cannot change: a shorter path must pass
  through one of the line's nodes).
* **What changes** (:class:`ScenarioEffect`): people newly linked (within a 10-minute walk of a park of the
  Chaîne), people newly within a 10-minute walk of any park (the union of the parks' 10-minute areas, areal
  weighting of the 200 m cells), the routes between parks (:func:`geo.parks.routes.route`, default
  greenway preference) whose length or greenway share changes, and the loop (greenway edges on a cycle).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo import config
from geo.errors import InvalidRequestError, NotFoundError
from geo.parks.access import covered_share, union_service_area
from geo.parks.connectivity import Connectivity
from geo.parks.gaps import Scenario, apply_scenario, gap_flags, linked_population
from geo.parks.model import ParksModel
from geo.parks.network import Network, add_edges, add_nodes, split_edges
from geo.parks.routes import route

#: A route is "changed" when its length or its greenway length moves by more than this [m].
_ROUTE_TOLERANCE_M = 1.0


@dataclass(frozen=True)
class RouteChange:
    """A route between two parks that the scenario changes (lengths [m]; geometry after, Lambert-93)."""

    from_park: int
    to_park: int
    length_before_m: float
    length_after_m: float
    greenway_before_m: float
    greenway_after_m: float
    geometry: BaseGeometry


@dataclass(frozen=True)
class ScenarioEffect:
    """What a scenario changes.

    Attributes
    ----------
    scenario
        Connectivity, linked parks and linked population before/after (:class:`geo.parks.gaps.Scenario`).
    population_newly_within_10min
        People [persons] newly within a 10-minute walk of any park.
    loop_length_before_m, loop_length_after_m
        Length [m] of the looped greenway edges of the longest component.
    new_loop
        Greenway edges on a cycle after and not before (Lambert-93), possibly empty.
    routes
        Routes between parks whose length or greenway length changes.
    """

    scenario: Scenario
    population_newly_within_10min: float
    loop_length_before_m: float
    loop_length_after_m: float
    new_loop: BaseGeometry
    routes: tuple[RouteChange, ...]

    @property
    def population_newly_linked(self) -> float:
        return self.scenario.linked_population_gain


def _with_network(model: ParksModel, net: Network, sa10: dict[int, BaseGeometry] | None = None) -> ParksModel:
    """The model on another network (same parks, entrances, cells), caches reset."""
    return dataclasses.replace(model, network=net, sa10=model.sa10 if sa10 is None else sa10, _edge_parks=None,
                               _connectivity=None, _entrance_nodes=None)


def _route_changes(before: ParksModel, after: ParksModel) -> tuple[RouteChange, ...]:
    parks = [p for p in before.park_ids() if len(before.entrance_nodes(p))]
    out = []
    for i, a in enumerate(parks):
        for b in parks[i + 1:]:
            try:
                r0, r1 = route(before, a, b), route(after, a, b)
            except NotFoundError:
                continue
            if (abs(r1.length_m - r0.length_m) > _ROUTE_TOLERANCE_M
                    or abs(r1.greenway_m - r0.greenway_m) > _ROUTE_TOLERANCE_M):
                out.append(RouteChange(a, b, r0.length_m, r1.length_m, r0.greenway_m, r1.greenway_m, r1.geometry))
    return tuple(out)


def _effect(before: ParksModel, after: ParksModel, scenario: Scenario, newly_10min: float,
            conn0: Connectivity, conn1: Connectivity) -> ScenarioEffect:
    loop0 = shapely.union_all(before.network.edges.geometry.values[conn0.loop_edge])
    loop1 = shapely.union_all(after.network.edges.geometry.values[conn1.loop_edge])
    new_loop = shapely.line_merge(shapely.difference(loop1, shapely.buffer(loop0, 0.5))) if not loop1.is_empty \
        else shapely.MultiLineString()
    return ScenarioEffect(
        scenario=scenario, population_newly_within_10min=newly_10min,
        loop_length_before_m=conn0.loop_length_m, loop_length_after_m=conn1.loop_length_m,
        new_loop=new_loop,
        routes=_route_changes(before, after),
    )


def gaps_scenario(model: ParksModel, gap_ids: list[int] | tuple[int, ...]) -> ScenarioEffect:
    """Build the candidate gaps ``gap_ids`` (:func:`geo.parks.gaps.apply_scenario`) and what changes."""
    scenario = apply_scenario(model, gap_ids)
    rows = model.gaps[model.gaps["gap_id"].astype(int).isin(scenario.gap_ids)]  # type: ignore[index]
    _, flags = gap_flags(model, rows)
    net = model.network.copy()
    net.edges["is_greenway"] = flags
    after = _with_network(model, net)
    after._edge_parks = model.edge_parks  # same edges, same parks
    return _effect(model, after, scenario, 0.0, model.connectivity(), after.connectivity())


def _attach(net: Network, pt: shapely.Point, snap_m: float) -> int:
    """Node for a point of the drawn line: a node within ``snap_m``, else a split of the nearest edge, else new."""
    xy = np.array([pt.x, pt.y])
    d_nodes = np.hypot(*(net.nodes - xy).T)
    k = int(np.argmin(d_nodes)) if len(d_nodes) else -1
    if k >= 0 and d_nodes[k] <= snap_m:
        return k
    geoms = net.edges.geometry.values
    d_edges = shapely.distance(geoms, pt)
    e = int(np.argmin(d_edges)) if len(d_edges) else -1
    if e >= 0 and d_edges[e] <= snap_m:
        return int(split_edges(net, np.array([e]), np.array([shapely.line_locate_point(geoms[e], pt)]))[0])
    return int(add_nodes(net, xy[None, :])[0])


def line_scenario(model: ParksModel, line: BaseGeometry, *,
                  snap_m: float = config.PARKS_SCENARIO_SNAP_M) -> ScenarioEffect:
    """Add ``line`` (in the model's CRS) to the network as a new greenway path, and what changes.

    Raises :class:`~geo.errors.InvalidRequestError` for an empty or too short line, or one longer than
    :data:`geo.config.PARKS_SCENARIO_MAX_LENGTH_M`.
    """
    if not isinstance(line, shapely.LineString) or not np.isfinite(shapely.get_coordinates(line)).all():
        raise InvalidRequestError("le tracé doit être une ligne (LineString) aux coordonnées finies")
    if line.is_empty or line.length < 1.0:
        raise InvalidRequestError("le tracé est vide ou mesure moins de 1 m")
    if line.length > config.PARKS_SCENARIO_MAX_LENGTH_M:
        raise InvalidRequestError(f"le tracé mesure {line.length:.0f} m (au plus "
                                  f"{config.PARKS_SCENARIO_MAX_LENGTH_M:.0f} m)")
    net = model.network.copy()
    # The line's vertices and its proper crossings with existing edges, in order along it.
    crossings = shapely.intersection(net.edges.geometry.values[shapely.STRtree(net.edges.geometry.values).query(
        line, predicate="crosses")], line)
    pts = [shapely.Point(xy) for xy in shapely.get_coordinates(line)]
    pts += [p for g in crossings for p in shapely.get_parts(g) if isinstance(p, shapely.Point)]
    pts.sort(key=lambda p: line.project(p))
    nodes: list[int] = []
    for p in pts:
        n = _attach(net, p, snap_m)
        if not nodes or nodes[-1] != n:
            nodes.append(n)
    if len(nodes) < 2:
        raise InvalidRequestError("le tracé ne relie rien : ses deux extrémités tombent sur le même point du réseau")
    add_edges(net, np.array(nodes[:-1]), np.array(nodes[1:]), kind="scenario", is_greenway=True)
    new_rows = np.flatnonzero(net.edges["kind"].to_numpy(object) == "scenario")
    built = shapely.union_all(net.edges.geometry.values[new_rows])

    # Service areas: recomputed for the parks whose 10-minute area the line reaches.
    reach = shapely.buffer(line, snap_m)
    sa10 = dict(model.sa10)
    before_nodes = {p: model.entrance_nodes(p) for p in model.park_ids()}
    for pid, nodes_p in before_nodes.items():
        if len(nodes_p) and (pid not in sa10 or shapely.intersects(sa10[pid], reach)):
            sa10[pid] = union_service_area(net, nodes_p, config.PARKS_WALK_10MIN_M)
    after = _with_network(model, net, sa10)
    conn0, conn1 = model.connectivity(), after.connectivity()
    lp0, lp1 = linked_population(model, conn0), linked_population(after, conn1)
    newly = 0.0
    if not model.cells.empty:
        cells = model.cells.geometry.values
        pop = model.cells["population"].to_numpy(float)
        u0 = shapely.union_all([g for g in model.sa10.values() if g is not None])
        u1 = shapely.union_all([g for g in sa10.values() if g is not None])
        newly = float(np.sum(pop * (covered_share(cells, u1) - covered_share(cells, u0))))
    length0 = model.network.edges["length_m"].to_numpy(float)
    gw0 = model.network.edges["is_greenway"].to_numpy(bool)
    gw1 = net.edges["is_greenway"].to_numpy(bool)
    length1 = net.edges["length_m"].to_numpy(float)
    served = float(np.sum(pop * covered_share(cells, u1))) if not model.cells.empty else 0.0
    scenario = Scenario(
        gap_ids=(), length_built_m=float(length1[new_rows].sum()),
        n_components_before=conn0.n_components, n_components_after=conn1.n_components,
        parks_linked_before=tuple(sorted(conn0.linked_parks())), parks_linked_after=tuple(sorted(conn1.linked_parks())),
        linked_population_before=lp0, linked_population_after=lp1, linked_population_gain=lp1 - lp0,
        greenway_length_before_m=float(length0[gw0].sum()), greenway_length_after_m=float(length1[gw1].sum()),
        served_population_10min=served, geometry=built,
    )
    return _effect(model, after, scenario, newly, conn0, conn1)
