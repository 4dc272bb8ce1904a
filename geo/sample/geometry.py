"""Analytic objects of the sample territory: terrain, slag heaps, water, roofs, trees.

Everything here is a pure function of coordinates so that the rasters are exact samples of
known surfaces: a roof face is a true plane, a slag heap a true truncated cone. Coordinates
are Lambert-93 metres (x east, y north); heights are altitudes [m] (IGN69).

Roof frames
-----------
A roof (and every building under it) lives in an oriented rectangle, its :class:`Frame`:
``u`` runs along the ridge, towards ``ridge_az_deg`` (clockwise from north), ``v`` across it,
towards ``ridge_az_deg + 90``. A gable face on the ``+v`` side therefore looks towards
``ridge_az_deg + 90``; with an east-west ridge (``ridge_az_deg = 90``) that is 180 = south.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.affinity import affine_transform
from shapely.geometry import Polygon, box

FloatArray = np.ndarray


# ---------------------------------------------------------------------------
# Terrain
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Terril:
    """A slag heap: a truncated cone standing on the terrain.

    Parameters are the centre (x, y) [m], the height above the surrounding ground [m], the
    radius of the flat top [m] and the slope of the flanks [degrees from horizontal].
    """

    name: str
    x: float
    y: float
    height_m: float
    top_radius_m: float
    slope_deg: float

    @property
    def base_radius_m(self) -> float:
        """Radius of the foot of the cone [m]."""
        return self.top_radius_m + self.height_m / math.tan(math.radians(self.slope_deg))

    def height(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Height of the heap above the ground at (x, y) [m] (0 beyond its foot)."""
        r = np.hypot(np.asarray(x, dtype=float) - self.x, np.asarray(y, dtype=float) - self.y)
        h = self.height_m - np.maximum(r - self.top_radius_m, 0.0) * math.tan(math.radians(self.slope_deg))
        return np.clip(h, 0.0, None)

    def footprint(self) -> Polygon:
        """Foot of the heap as a polygon."""
        return shapely.Point(self.x, self.y).buffer(self.base_radius_m, quad_segs=32)


@dataclass(frozen=True)
class Embankment:
    """A railway embankment (cavalier): a trapezoidal ridge along a polyline.

    ``height_m`` [m] over a crest of ``crest_half_width_m`` [m] each side of the axis, then
    flanks of ``flank_m`` [m] horizontal run down to the ground.
    """

    name: str
    coords: tuple[tuple[float, float], ...]
    height_m: float = 2.0
    crest_half_width_m: float = 3.0
    flank_m: float = 4.0

    def height(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Height of the embankment above the ground at (x, y) [m]."""
        d = _distance_to_polyline(np.asarray(x, dtype=float), np.asarray(y, dtype=float), self.coords)
        h = self.height_m * (1.0 - (d - self.crest_half_width_m) / self.flank_m)
        return np.clip(h, 0.0, self.height_m)

    @property
    def reach_m(self) -> float:
        return self.crest_half_width_m + self.flank_m


def _distance_to_polyline(x: FloatArray, y: FloatArray, coords: tuple[tuple[float, float], ...]) -> FloatArray:
    out = np.full(np.broadcast(x, y).shape, np.inf)
    for (x0, y0), (x1, y1) in zip(coords[:-1], coords[1:], strict=True):
        dx, dy = x1 - x0, y1 - y0
        t = np.clip(((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
        out = np.minimum(out, np.hypot(x - (x0 + t * dx), y - (y0 + t * dy)))
    return out


@dataclass(frozen=True)
class Water:
    """A lake or canal: flat water at ``level_m`` [m altitude] inside ``polygon``."""

    name: str
    kind: str  # "lac" or "canal"
    polygon: Polygon
    level_m: float


@dataclass(frozen=True)
class Terrain:
    """The ground: gentle relief (a tilted plane plus long waves), heaps and embankments.

    ``waves`` holds (amplitude [m], wavelength [m], direction [rad], phase [rad]).
    """

    base_m: float
    gradient: tuple[float, float]  # dz/dx, dz/dy [m/m]
    origin: tuple[float, float]
    waves: tuple[tuple[float, float, float, float], ...]
    terrils: tuple[Terril, ...] = ()
    embankments: tuple[Embankment, ...] = ()
    water: tuple[Water, ...] = ()

    def natural(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Natural ground altitude [m], without heaps, embankments or water."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        dx, dy = x - self.origin[0], y - self.origin[1]
        z = self.base_m + self.gradient[0] * dx + self.gradient[1] * dy
        for amp, wavelength, direction, phase in self.waves:
            z = z + amp * np.sin(2 * np.pi * (dx * math.cos(direction) + dy * math.sin(direction)) / wavelength + phase)
        return z

    def heaps(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Height of the slag heaps above the natural ground [m] (twin heaps merge by max)."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        h = np.zeros(np.broadcast(x, y).shape)
        for t in self.terrils:
            h = np.maximum(h, t.height(x, y))
        return h

    def ground(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Ground altitude [m] as a DTM shows it (heaps and embankments included, water not)."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        h = self.heaps(x, y)
        for e in self.embankments:
            h = np.maximum(h, e.height(x, y))
        return self.natural(x, y) + h


# ---------------------------------------------------------------------------
# Roofs
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """An oriented rectangle: centre (cx, cy) [m], ``length`` along the ridge, ``width`` across [m]."""

    cx: float
    cy: float
    length: float
    width: float
    ridge_az_deg: float

    @property
    def _sc(self) -> tuple[float, float]:
        a = math.radians(self.ridge_az_deg)
        return math.sin(a), math.cos(a)

    def to_local(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        """World (x, y) -> frame (u, v) [m]."""
        s, c = self._sc
        dx, dy = np.asarray(x, dtype=float) - self.cx, np.asarray(y, dtype=float) - self.cy
        return dx * s + dy * c, dx * c - dy * s

    def to_world(self, u: FloatArray, v: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Frame (u, v) -> world (x, y) [m]."""
        s, c = self._sc
        u, v = np.asarray(u, dtype=float), np.asarray(v, dtype=float)
        return self.cx + u * s + v * c, self.cy + u * c - v * s

    def polygon_to_world(self, poly: Polygon) -> Polygon:
        s, c = self._sc
        out: Polygon = affine_transform(poly, [s, c, c, -s, self.cx, self.cy])
        return out

    def rect(self, u0: float, u1: float, v0: float, v1: float) -> Polygon:
        """World polygon of the local rectangle [u0, u1] x [v0, v1]."""
        return self.polygon_to_world(box(u0, v0, u1, v1))

    def outline(self) -> Polygon:
        return self.rect(-self.length / 2, self.length / 2, -self.width / 2, self.width / 2)


@dataclass(frozen=True)
class Obstacle:
    """Something standing on a roof, as a local rectangle of the roof's frame.

    ``kind`` is ``chimney``, ``dormer``, ``hvac`` (flat top at ``top_m`` altitude) or
    ``skylight`` (a window raised ``SKYLIGHT_RAISE_M`` above the roof plane).
    """

    kind: str
    u0: float
    u1: float
    v0: float
    v1: float
    top_m: float = math.nan

    @property
    def local_polygon(self) -> Polygon:
        return box(self.u0, self.v0, self.u1, self.v1)


#: Height of a roof window's frame above the roof plane [m] (generator's choice).
SKYLIGHT_RAISE_M = 0.12


@dataclass(frozen=True)
class RoofFaceGeom:
    """One planar face of a roof in the roof's frame."""

    local_polygon: Polygon
    tilt_deg: float
    azimuth_deg: float  # NaN for flat roofs


@dataclass
class Roof:
    """A roof over one frame: ``gable``, ``hip``, ``shed`` (mono-pitch) or ``flat``.

    ``eave_m`` is the altitude of the eaves [m] (for flat roofs, of the roof deck);
    ``tilt_deg`` the slope of the long faces, ``end_tilt_deg`` that of the hip ends.
    Shed roofs slope down towards ``+v``. Flat roofs have a parapet ``parapet_w_m`` wide and
    ``parapet_h_m`` high along their edge.
    """

    frame: Frame
    kind: str
    eave_m: float
    tilt_deg: float = 0.0
    end_tilt_deg: float = 0.0
    parapet_w_m: float = 0.0
    parapet_h_m: float = 0.0
    obstacles: list[Obstacle] = field(default_factory=list)

    # -- heights -----------------------------------------------------------
    def surface(self, u: FloatArray, v: FloatArray) -> FloatArray:
        """Altitude of the roof planes at local (u, v) [m], without obstacles or parapets."""
        f = self.frame
        u, v = np.asarray(u, dtype=float), np.asarray(v, dtype=float)
        t = math.tan(math.radians(self.tilt_deg))
        if self.kind == "gable":
            return self.eave_m + t * (f.width / 2 - np.abs(v))
        if self.kind == "hip":
            te = math.tan(math.radians(self.end_tilt_deg))
            return self.eave_m + np.minimum(t * (f.width / 2 - np.abs(v)), te * (f.length / 2 - np.abs(u)))
        if self.kind == "shed":
            return self.eave_m + t * (f.width / 2 - v)
        if self.kind == "flat":
            return self.eave_m + t * (f.width / 2 - v)  # tilt 0 for a truly flat deck
        raise ValueError(f"unknown roof kind {self.kind!r}")

    def height(self, u: FloatArray, v: FloatArray) -> FloatArray:
        """Altitude of the top of the roof at local (u, v) [m]: planes, parapets and obstacles."""
        f = self.frame
        u, v = np.asarray(u, dtype=float), np.asarray(v, dtype=float)
        z = self.surface(u, v)
        if self.kind == "flat" and self.parapet_w_m > 0:
            edge = (np.abs(u) > f.length / 2 - self.parapet_w_m) | (np.abs(v) > f.width / 2 - self.parapet_w_m)
            z = np.where(edge, self.max_height + self.parapet_h_m, z)
        for ob in self.obstacles:
            inside = (u >= ob.u0) & (u < ob.u1) & (v >= ob.v0) & (v < ob.v1)
            if not inside.any():
                continue
            top = z + SKYLIGHT_RAISE_M if ob.kind == "skylight" else np.maximum(z, ob.top_m)
            z = np.where(inside, top, z)
        return z

    @property
    def max_height(self) -> float:
        """Highest altitude of the roof planes [m] (ridge)."""
        f = self.frame
        t = math.tan(math.radians(self.tilt_deg))
        if self.kind == "gable":
            return self.eave_m + t * f.width / 2
        if self.kind == "hip":
            te = math.tan(math.radians(self.end_tilt_deg))
            return self.eave_m + min(t * f.width / 2, te * f.length / 2)
        return self.eave_m + t * f.width

    def top_altitude(self) -> float:
        """Highest point including parapets and obstacles [m]."""
        z = self.max_height + (self.parapet_h_m if self.kind == "flat" else 0.0)
        tops = [ob.top_m for ob in self.obstacles if ob.kind != "skylight"]
        return max([z, *tops])

    # -- faces -------------------------------------------------------------
    def faces(self) -> list[RoofFaceGeom]:
        """The planar faces of the roof, in the frame (before cutting by buildings)."""
        f = self.frame
        hl, hw = f.length / 2, f.width / 2
        a = self.frame.ridge_az_deg
        front, back = (a + 90) % 360, (a - 90) % 360
        if self.kind == "gable":
            return [
                RoofFaceGeom(box(-hl, 0, hl, hw), self.tilt_deg, front),
                RoofFaceGeom(box(-hl, -hw, hl, 0), self.tilt_deg, back),
            ]
        if self.kind == "hip":
            d = hw * math.tan(math.radians(self.tilt_deg)) / math.tan(math.radians(self.end_tilt_deg))
            if d > hl:
                raise ValueError("hip roof too short for its width: no ridge")
            return [
                RoofFaceGeom(Polygon([(-hl, hw), (hl, hw), (hl - d, 0), (-hl + d, 0)]), self.tilt_deg, front),
                RoofFaceGeom(Polygon([(-hl, -hw), (-hl + d, 0), (hl - d, 0), (hl, -hw)]), self.tilt_deg, back),
                RoofFaceGeom(Polygon([(hl, hw), (hl, -hw), (hl - d, 0)]), self.end_tilt_deg, a % 360),
                RoofFaceGeom(Polygon([(-hl, hw), (-hl + d, 0), (-hl, -hw)]), self.end_tilt_deg, (a + 180) % 360),
            ]
        if self.kind == "shed":
            return [RoofFaceGeom(box(-hl, -hw, hl, hw), self.tilt_deg, front)]
        if self.kind == "flat":
            p = self.parapet_w_m
            return [RoofFaceGeom(box(-hl + p, -hw + p, hl - p, hw - p), self.tilt_deg, math.nan)]
        raise ValueError(f"unknown roof kind {self.kind!r}")


@dataclass
class Building:
    """A BD TOPO building: the slice ``[u0, u1]`` of its roof's frame (terraced houses share a roof)."""

    index: int
    roof: Roof
    u0: float
    u1: float
    ground_m: float
    usage: str  # BD TOPO usage_1
    category: str  # coron, semi, house, school, gym, shop, shed, church, annexe
    floors: int
    dwellings: int
    address: tuple[str, int, str, tuple[float, float]] | None = None  # street, number, rep, (x, y)
    cleabs: str = ""
    _footprint: Polygon | None = field(default=None, init=False, repr=False, compare=False)

    def footprint(self) -> Polygon:
        """The building's outline (computed once: the tables and the defects all ask for it)."""
        if self._footprint is None:
            f = self.roof.frame
            self._footprint = f.rect(self.u0, self.u1, -f.width / 2, f.width / 2)
        return self._footprint

    def local_box(self) -> Polygon:
        f = self.roof.frame
        return box(self.u0, -f.width / 2, self.u1, f.width / 2)

    @property
    def eave_height_m(self) -> float:
        """BD TOPO ``hauteur``: ground to gutter or parapet top [m]."""
        r = self.roof
        top = r.eave_m + (r.parapet_h_m if r.kind == "flat" else 0.0)
        if r.kind in ("shed", "flat"):
            top = max(top, r.eave_m)
        return top - self.ground_m


@dataclass(frozen=True)
class Tree:
    """A tree: a Gaussian crown of radius ``radius_m`` [m] peaking ``height_m`` [m] above ground."""

    x: float
    y: float
    radius_m: float
    height_m: float

    def height(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Crown height above the ground [m] at (x, y); NaN outside the crown."""
        r = np.hypot(np.asarray(x, dtype=float) - self.x, np.asarray(y, dtype=float) - self.y)
        sigma = self.radius_m / 2.0
        h = self.height_m * np.exp(-0.5 * (r / sigma) ** 2)
        return np.where(r <= self.radius_m, h, np.nan)
