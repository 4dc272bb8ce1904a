"""The objects of a sample territory and the builder that places them without overlaps.

:class:`Scene` is what the rasteriser and the table writers consume; :class:`SceneBuilder`
offers placement helpers (a row of miners' houses, a semi-detached pair, a flat-roofed
school, a shed, trees…) that check every new object against the ones already placed, so a
layout error fails loudly instead of producing overlapping buildings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from geo.sample.geometry import Building, Frame, Obstacle, Roof, Terrain, Tree, Water
from geo.types import Bounds


@dataclass(frozen=True)
class Way:
    """A line of the walkable network, OSM-style: ``highway`` tag, ``name`` (may be empty)."""

    highway: str
    name: str
    coords: tuple[tuple[float, float], ...]

    def line(self) -> LineString:
        return LineString(self.coords)


@dataclass(frozen=True)
class Park:
    nom: str
    ensemble: str
    polygon: Polygon


@dataclass(frozen=True)
class Greenway:
    nom: str
    type: str  # cavalier | chemin_de_halage | voie_verte
    coords: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Stop:
    nom: str
    ligne: str
    x: float
    y: float


@dataclass
class Scene:
    """Everything the sample writers need, in Lambert-93 metres."""

    bounds: Bounds
    terrain: Terrain
    roofs: list[Roof]
    buildings: list[Building]
    trees: list[Tree]
    parks: list[Park]
    greenways: list[Greenway]
    ways: list[Way]
    stops: list[Stop]
    commune_boundary: tuple[tuple[float, float], ...]  # west: Loos-en-Gohelle, east: Lens

    @property
    def water(self) -> tuple[Water, ...]:
        return self.terrain.water


#: Clearance kept between building footprints and the axis of roads / paths [m].
ROAD_CLEARANCE_M = 3.0
PATH_CLEARANCE_M = 1.0
PATH_HIGHWAYS = ("footway", "path", "cycleway", "track")


@dataclass
class SceneBuilder:
    """Places objects on a terrain, with overlap checks, from one numpy Generator."""

    bounds: Bounds
    terrain: Terrain
    rng: np.random.Generator
    roofs: list[Roof] = field(default_factory=list)
    buildings: list[Building] = field(default_factory=list)
    trees: list[Tree] = field(default_factory=list)
    parks: list[Park] = field(default_factory=list)
    greenways: list[Greenway] = field(default_factory=list)
    ways: list[Way] = field(default_factory=list)
    stops: list[Stop] = field(default_factory=list)
    _outlines: list[Polygon] = field(default_factory=list)

    # -- helpers -------------------------------------------------------------
    def ground(self, x: float, y: float) -> float:
        """Ground altitude at (x, y) [m], rounded to the centimetre."""
        return round(float(self.terrain.ground(np.array(x), np.array(y))), 2)

    def _claim(self, outline: Polygon, what: str) -> None:
        xmin, ymin, xmax, ymax = self.bounds
        if not shapely.box(xmin + 1, ymin + 1, xmax - 1, ymax - 1).contains(outline):
            raise ValueError(f"sample layout: {what} at {outline.centroid} leaves the area {self.bounds}")
        for other in self._outlines:
            if other.intersects(outline) and other.intersection(outline).area > 1e-6:
                raise ValueError(f"sample layout: {what} at {outline.centroid} overlaps another building")
        for t in self.terrain.terrils:
            if t.footprint().intersects(outline):
                raise ValueError(f"sample layout: {what} at {outline.centroid} stands on slag heap {t.name}")
        for w in self.terrain.water:
            if w.polygon.intersects(outline):
                raise ValueError(f"sample layout: {what} at {outline.centroid} stands in {w.name}")
        for e in self.terrain.embankments:
            if LineString(e.coords).distance(outline) < e.reach_m:
                raise ValueError(f"sample layout: {what} at {outline.centroid} stands on embankment {e.name}")
        self._outlines.append(outline)

    def _add_building(self, roof: Roof, u0: float, u1: float, ground: float, **kw: object) -> Building:
        b = Building(index=len(self.buildings), roof=roof, u0=u0, u1=u1, ground_m=ground, **kw)  # type: ignore[arg-type]
        self.buildings.append(b)
        return b

    def _address_point(self, frame: Frame, u: float, front: int) -> tuple[float, float]:
        x, y = frame.to_world(np.array(u), np.array(front * (frame.width / 2 - 1.0)))
        return (round(float(x), 2), round(float(y), 2))

    # -- houses --------------------------------------------------------------
    def house_row(
        self,
        cx: float,
        cy: float,
        ridge_az_deg: float,
        n: int,
        *,
        kind: str = "gable",
        house_w: float = 6.0,
        depth: float = 9.0,
        tilt_deg: float | None = None,
        eave_h: float | None = None,
        front: int = 1,
        street: str | None = None,
        first_number: int = 1,
        number_step: int = 2,
        category: str = "coron",
        p_chimney: float = 0.6,
        p_dormer: float = 0.25,
        p_skylight: float = 0.2,
    ) -> list[Building]:
        """A row of ``n`` terraced houses under one roof, centred on (cx, cy).

        ``front`` (+1 or -1) is the side of the frame (``±v``) facing the street; addresses are
        numbered from ``first_number`` by ``number_step`` in the ``+u`` direction. ``kind`` is
        ``gable`` (gable ends) or ``hip`` (hipped ends; a semi-detached pair is a hip row of 2).
        """
        rng = self.rng
        tilt = float(round(rng.uniform(35.0, 45.0), 1)) if tilt_deg is None else tilt_deg
        eh = float(round(rng.uniform(6.0, 7.0), 2)) if eave_h is None else eave_h
        length = n * house_w
        frame = Frame(cx, cy, length, depth, ridge_az_deg)
        ground = self.ground(cx, cy)
        roof = Roof(frame, kind, eave_m=ground + eh, tilt_deg=tilt, end_tilt_deg=tilt if kind == "hip" else 0.0)
        self._claim(frame.outline(), f"{category} row")
        hw = depth / 2
        t = math.tan(math.radians(tilt))
        ridge = roof.max_height
        # where the ridge runs (hip ends shorten it)
        d_end = hw if kind == "hip" else 0.0
        out = []
        for i in range(n):
            u0 = -length / 2 + i * house_w
            uc = u0 + house_w / 2
            obstacles: list[Obstacle] = []
            if rng.random() < p_chimney:
                # on the party wall (between houses) or mid-house, astride the ridge
                uch = u0 if (i > 0 and rng.random() < 0.5) else uc
                uch = min(max(uch, -length / 2 + d_end + 0.6), length / 2 - d_end - 0.6)
                top = round(ridge + float(rng.uniform(0.7, 1.3)), 2)
                obstacles.append(Obstacle("chimney", uch - 0.45, uch + 0.45, -0.45, 0.45, top))
            if rng.random() < p_dormer and house_w >= 5.0:
                w = float(round(rng.uniform(1.6, 2.2), 1))
                v_out, v_in = hw - 1.0, hw - 2.8
                top = round(roof.eave_m + t * (hw - v_in), 3)
                if front > 0:
                    obstacles.append(Obstacle("dormer", uc - w / 2, uc + w / 2, v_in, v_out, top))
                else:
                    obstacles.append(Obstacle("dormer", uc - w / 2, uc + w / 2, -v_out, -v_in, top))
            if rng.random() < p_skylight:
                vs = -front * (hw / 2)
                obstacles.append(Obstacle("skylight", uc - 0.4, uc + 0.4, vs - 0.6, vs + 0.6))
            roof.obstacles.extend(obstacles)
            addr = None
            if street is not None:
                addr = (street, first_number + i * number_step, "", self._address_point(frame, uc, front))
            floors = 2 if eh >= 5.5 else 1
            out.append(self._add_building(
                roof, u0, u0 + house_w, ground, usage="Résidentiel", category=category, floors=floors,
                dwellings=1, address=addr,
            ))
        self.roofs.append(roof)
        return out

    def semi_pair(self, cx: float, cy: float, ridge_az_deg: float, **kw: object) -> list[Building]:
        """Two semi-detached houses under one hip roof (8 m x 9 m each)."""
        kw.setdefault("house_w", float(round(self.rng.uniform(7.5, 9.0), 1)))
        kw.setdefault("depth", 9.0)
        kw.setdefault("tilt_deg", float(round(self.rng.uniform(30.0, 40.0), 1)))
        return self.house_row(cx, cy, ridge_az_deg, 2, kind="hip", category="semi", **kw)  # type: ignore[arg-type]

    # -- large buildings -----------------------------------------------------
    def flat_building(
        self,
        cx: float,
        cy: float,
        az_deg: float,
        length: float,
        width: float,
        *,
        eave_h: float,
        usage: str,
        category: str,
        floors: int,
        n_hvac: int = 0,
        tilt_deg: float = 0.0,
        street: str | None = None,
        number: int = 0,
        front: int = 1,
        dwellings: int = 0,
    ) -> Building:
        """A flat-roofed building with a parapet and ``n_hvac`` rooftop units."""
        frame = Frame(cx, cy, length, width, az_deg)
        ground = self.ground(cx, cy)
        roof = Roof(frame, "flat", eave_m=ground + eave_h, tilt_deg=tilt_deg, parapet_w_m=0.4, parapet_h_m=0.6)
        self._claim(frame.outline(), category)
        placed: list[Polygon] = []
        tries = 0
        while len(placed) < n_hvac and tries < 200:
            tries += 1
            lu, lv = float(round(self.rng.uniform(2.0, 4.0), 1)), float(round(self.rng.uniform(1.5, 2.5), 1))
            uc = float(round(self.rng.uniform(-length / 2 + 3 + lu / 2, length / 2 - 3 - lu / 2), 1))
            vc = float(round(self.rng.uniform(-width / 2 + 3 + lv / 2, width / 2 - 3 - lv / 2), 1))
            cand = shapely.box(uc - lu / 2, vc - lv / 2, uc + lu / 2, vc + lv / 2)
            if any(cand.buffer(1.5).intersects(p) for p in placed):
                continue
            placed.append(cand)
            top = round(roof.max_height + float(self.rng.uniform(1.2, 2.0)), 2)
            roof.obstacles.append(Obstacle("hvac", uc - lu / 2, uc + lu / 2, vc - lv / 2, vc + lv / 2, top))
        addr = None
        if street is not None:
            addr = (street, number, "", self._address_point(frame, 0.0, front))
        self.roofs.append(roof)
        return self._add_building(
            roof, -length / 2, length / 2, ground, usage=usage, category=category, floors=floors,
            dwellings=dwellings, address=addr,
        )

    def shed_building(
        self,
        cx: float,
        cy: float,
        az_deg: float,
        length: float,
        width: float,
        *,
        eave_h: float,
        tilt_deg: float,
        usage: str = "Industriel",
        category: str = "shed",
        street: str | None = None,
        number: int = 0,
        front: int = 1,
        n_skylights: int = 0,
    ) -> Building:
        """A mono-pitch (shed) roof sloping down towards ``az_deg + 90``; ``eave_h`` is the low side."""
        frame = Frame(cx, cy, length, width, az_deg)
        ground = self.ground(cx, cy)
        roof = Roof(frame, "shed", eave_m=ground + eave_h, tilt_deg=tilt_deg)
        self._claim(frame.outline(), category)
        for k in range(n_skylights):
            uc = -length / 2 + (k + 1) * length / (n_skylights + 1)
            roof.obstacles.append(Obstacle("skylight", uc - 1.0, uc + 1.0, -1.5, 1.5))
        addr = None
        if street is not None:
            addr = (street, number, "", self._address_point(frame, 0.0, front))
        self.roofs.append(roof)
        return self._add_building(
            roof, -length / 2, length / 2, ground, usage=usage, category=category, floors=1, dwellings=0,
            address=addr,
        )

    def gable_building(
        self,
        cx: float,
        cy: float,
        ridge_az_deg: float,
        length: float,
        width: float,
        *,
        eave_h: float,
        tilt_deg: float,
        usage: str,
        category: str,
        floors: int = 1,
        street: str | None = None,
        number: int = 0,
        front: int = 1,
    ) -> Building:
        """One building under a plain gable roof (a church nave, a hall)."""
        frame = Frame(cx, cy, length, width, ridge_az_deg)
        ground = self.ground(cx, cy)
        roof = Roof(frame, "gable", eave_m=ground + eave_h, tilt_deg=tilt_deg)
        self._claim(frame.outline(), category)
        addr = None
        if street is not None:
            addr = (street, number, "", self._address_point(frame, 0.0, front))
        self.roofs.append(roof)
        return self._add_building(
            roof, -length / 2, length / 2, ground, usage=usage, category=category, floors=floors, dwellings=0,
            address=addr,
        )

    def annexes_in(self, area: BaseGeometry, n: int, *, az_deg: float = 0.0, max_tries: int | None = None) -> int:
        """Up to ``n`` garages / garden sheds (BD TOPO usage 'Annexe', mono-pitch 8°) in ``area``.

        They keep 1.5 m from other buildings and clear of roads and paths. Returns how many.
        """
        xmin, ymin, xmax, ymax = area.bounds
        roads = [w.line().buffer((PATH_CLEARANCE_M if w.highway in PATH_HIGHWAYS else ROAD_CLEARANCE_M) + 0.5)
                 for w in self.ways]
        road_index = shapely.STRtree(roads) if roads else None
        placed = 0
        for _ in range(max_tries if max_tries is not None else 20 * n):
            if placed >= n:
                break
            lu, lv = float(round(self.rng.uniform(5.5, 6.5), 1)), float(round(self.rng.uniform(3.0, 3.5), 1))
            cx, cy = float(round(self.rng.uniform(xmin, xmax), 2)), float(round(self.rng.uniform(ymin, ymax), 2))
            outline = Frame(cx, cy, lu, lv, az_deg).outline()
            if not area.contains(outline):
                continue
            if any(o.distance(outline) < 1.5 for o in self._outlines):
                continue
            if road_index is not None and len(road_index.query(outline, predicate="intersects")):
                continue
            self.shed_building(cx, cy, az_deg, lu, lv, eave_h=2.4, tilt_deg=8.0, usage="Annexe", category="annexe")
            placed += 1
        return placed

    # -- vegetation, parks, network ---------------------------------------------
    def trees_in(
        self,
        area: BaseGeometry,
        n: int,
        *,
        radius: tuple[float, float] = (2.5, 5.0),
        height: tuple[float, float] = (8.0, 16.0),
        max_tries: int | None = None,
    ) -> int:
        """Scatter up to ``n`` trees in ``area``, away from buildings, water, roads and each other."""
        obstacles = [o.buffer(1.0) for o in self._outlines]
        obstacles += [w.polygon.buffer(1.0) for w in self.terrain.water]
        obstacles += [w.line().buffer(3.5 if w.highway not in PATH_HIGHWAYS else 1.5) for w in self.ways]
        tree_index = shapely.STRtree(obstacles) if obstacles else None
        xmin, ymin, xmax, ymax = area.bounds
        placed = 0
        tries = 0
        limit = max_tries if max_tries is not None else 30 * n
        bx0, by0, bx1, by1 = self.bounds
        while placed < n and tries < limit:
            tries += 1
            x, y = float(self.rng.uniform(xmin, xmax)), float(self.rng.uniform(ymin, ymax))
            r = float(round(self.rng.uniform(*radius), 1))
            h = float(round(self.rng.uniform(*height), 1))
            p = Point(x, y)
            if not area.contains(p) or not (bx0 + r < x < bx1 - r and by0 + r < y < by1 - r):
                continue
            if tree_index is not None:
                idx, dist = tree_index.query_nearest(p, return_distance=True)
                if len(dist) and dist[0] < r:
                    continue
            if any(math.hypot(t.x - x, t.y - y) < 0.9 * (t.radius_m + r) for t in self.trees[-400:]):
                continue
            self.trees.append(Tree(round(x, 2), round(y, 2), r, h))
            placed += 1
        return placed

    def park(self, nom: str, ensemble: str, coords: Sequence[tuple[float, float]]) -> Polygon:
        poly = Polygon(coords)
        self.parks.append(Park(nom, ensemble, poly))
        return poly

    def way(self, highway: str, name: str, coords: Sequence[tuple[float, float]]) -> None:
        self.ways.append(Way(highway, name, tuple((float(x), float(y)) for x, y in coords)))

    # -- final checks ------------------------------------------------------------
    def build(self, commune_boundary: Sequence[tuple[float, float]]) -> Scene:
        """Check roads against buildings, node the network, and return the scene."""
        if self._outlines:
            index = shapely.STRtree(self._outlines)
            for w in self.ways:
                clearance = PATH_CLEARANCE_M if w.highway in PATH_HIGHWAYS else ROAD_CLEARANCE_M
                hits = index.query(w.line().buffer(clearance), predicate="intersects")
                if len(hits):
                    c = self._outlines[int(hits[0])].centroid
                    raise ValueError(f"sample layout: {w.highway} '{w.name}' runs through a building at {c}")
        for i, b in enumerate(self.buildings):
            b.index = i
        ways = node_ways(self.ways)
        return Scene(self.bounds, self.terrain, self.roofs, self.buildings, self.trees, self.parks,
                     self.greenways, ways, self.stops, tuple(commune_boundary))


def node_ways(ways: Sequence[Way], *, snap_m: float = 0.05) -> list[Way]:
    """Insert a shared vertex wherever two ways cross or one ends on another (as OSM ways share nodes)."""
    lines = [w.line() for w in ways]
    extra: list[list[tuple[float, float]]] = [[] for _ in ways]
    index = shapely.STRtree(lines)
    for i, li in enumerate(lines):
        # endpoints touching another way's interior -> vertex on that way
        for end in (li.coords[0], li.coords[-1]):
            pt = Point(end)
            for j in index.query(pt.buffer(snap_m), predicate="intersects"):
                j = int(j)
                if j != i and lines[j].distance(pt) <= snap_m:
                    extra[j].append((float(end[0]), float(end[1])))
        for j in index.query(li, predicate="crosses"):
            j = int(j)
            if j <= i:
                continue
            inter = li.intersection(lines[j])
            for g in getattr(inter, "geoms", [inter]):
                if isinstance(g, Point):
                    p = (round(g.x, 3), round(g.y, 3))
                    extra[i].append(p)
                    extra[j].append(p)
    out = []
    for w, li, pts in zip(ways, lines, extra, strict=True):
        if not pts:
            out.append(w)
            continue
        known = list(w.coords)
        dists = [li.project(Point(c)) for c in known]
        for p in pts:
            if min(math.hypot(p[0] - c[0], p[1] - c[1]) for c in known) > 1e-3:
                known.append(p)
                dists.append(li.project(Point(p)))
        order = np.argsort(np.array(dists), kind="stable")
        out.append(Way(w.highway, w.name, tuple(known[k] for k in order)))
    return out
