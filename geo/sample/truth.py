"""Ground truth of the sample: every roof face with its tilt, azimuth, areas and obstacles.

The slag-heap shadow flag comes from a simple ray test documented in
:func:`terril_shadow_flags`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pvlib
import shapely
from pyproj import Transformer
from shapely.geometry import Polygon

from geo import config
from geo.sample.geometry import Building, Frame, RoofFaceGeom, Terrain
from geo.sample.scene import Scene

#: A face is "in the heap's winter shadow" when shaded at this many of the 9 winter instants.
SHADOW_MIN_INSTANTS = 3

_OBSTACLE_FLAGS = {"chimney": "has_chimney", "dormer": "has_dormer", "hvac": "has_hvac", "skylight": "has_skylight"}


@dataclass(frozen=True)
class FaceTruth:
    cleabs: str
    face_id: str
    tilt_deg: float
    azimuth_deg: float
    area_m2: float
    footprint_area_m2: float
    roof_type: str
    has_chimney: bool
    has_dormer: bool
    has_hvac: bool
    has_skylight: bool
    obstacle_area_m2: float
    centroid_x: float
    centroid_y: float
    centroid_z: float  # altitude of the face plane at its centroid [m]
    polygon: Polygon


def building_faces(b: Building, faces: list[RoofFaceGeom] | None = None,
                   obstacles: list[tuple[str, Polygon]] | None = None, *, world: bool = True) -> list[FaceTruth]:
    """The roof faces over building ``b`` (its roof's faces cut to its slice), in order.

    ``faces`` and ``obstacles`` (kind, local polygon): those of ``b.roof`` when already computed
    (the houses of a terraced row share them). ``world=False``: polygons left in the roof's frame
    (:func:`faces_truth` moves them all at once).
    """
    roof = b.roof
    cut = b.local_box()
    if faces is None:
        faces = roof.faces()
    if obstacles is None:
        obstacles = [(ob.kind, ob.local_polygon) for ob in roof.obstacles]
    out: list[FaceTruth] = []
    for geom in faces:
        local = geom.local_polygon.intersection(cut)
        if local.is_empty or local.area < 0.5:
            continue
        if not isinstance(local, Polygon):  # a face cut into pieces stays one face
            local = local.buffer(0)
            if not isinstance(local, Polygon):
                continue
        flags = dict.fromkeys(_OBSTACLE_FLAGS.values(), False)
        obstacle_area = 0.0
        lx0, ly0, lx1, ly1 = local.bounds
        for kind, poly in obstacles:
            ox0, oy0, ox1, oy1 = poly.bounds
            if ox0 >= lx1 or ox1 <= lx0 or oy0 >= ly1 or oy1 <= ly0:
                continue  # boxes apart or touching: no common area
            inter = poly.intersection(local).area
            if inter > 1e-6:
                flags[_OBSTACLE_FLAGS[kind]] = True
                obstacle_area += inter
        c = local.centroid
        cz = float(roof.surface(np.array(c.x), np.array(c.y)))
        cx, cy = roof.frame.to_world(np.array(c.x), np.array(c.y))
        tilt = geom.tilt_deg
        flat = roof.kind == "flat"
        n = len(out) + 1
        out.append(FaceTruth(
            cleabs=b.cleabs, face_id=f"{b.cleabs}-{n}", tilt_deg=round(tilt, 3),
            azimuth_deg=math.nan if flat else round(geom.azimuth_deg % 360.0, 3),
            area_m2=round(local.area / math.cos(math.radians(tilt)), 3),
            footprint_area_m2=round(local.area, 3), roof_type=roof.kind,
            obstacle_area_m2=round(obstacle_area, 3), centroid_x=float(cx), centroid_y=float(cy),
            centroid_z=round(cz, 3), polygon=roof.frame.polygon_to_world(local) if world else local, **flags,
        ))
    return out


def winter_sun_positions(lat_deg: float, lon_deg: float, *, year: int = 2025) -> pd.DataFrame:
    """Sun azimuth and elevation [degrees] on 21 December, every 30 min from solar noon - 2 h to + 2 h.

    Solar noon is found as the time of maximum elevation at 1-minute steps; positions come
    from pvlib (NREL SPA).
    """
    day = pd.date_range(f"{year}-12-21 09:00", f"{year}-12-21 15:00", freq="1min", tz="UTC")
    pos = pvlib.solarposition.get_solarposition(day, lat_deg, lon_deg)
    noon = pos["apparent_elevation"].idxmax()
    times = pd.DatetimeIndex([noon + pd.Timedelta(minutes=30 * k) for k in range(-4, 5)])
    sel = pvlib.solarposition.get_solarposition(times, lat_deg, lon_deg)
    return pd.DataFrame({"azimuth_deg": sel["azimuth"], "elevation_deg": sel["apparent_elevation"]})


def terril_shadow_flags(
    terrain: Terrain,
    xs: np.ndarray,
    ys: np.ndarray,
    zs: np.ndarray,
    sun: pd.DataFrame,
    *,
    step_m: float = 1.0,
) -> np.ndarray:
    """Share of the ``sun`` instants at which each point is in a slag heap's shadow (0–1).

    Ray test: from the point (x, y, z) [m] a ray goes towards the sun; it is blocked when, at
    some horizontal distance ``s`` (sampled every ``step_m`` [m]) where a heap stands
    (heap height > 0), the ground including the heap rises above the ray
    ``z + s·tan(elevation)``. Only heaps are considered (not buildings or trees). With
    :func:`winter_sun_positions` the instants are 21 December from solar noon − 2 h to + 2 h
    every 30 min; the ground truth calls a face "in the heap's winter shadow" when its centroid
    is shaded at ``SHADOW_MIN_INSTANTS`` (3) of those 9 instants or more, i.e. about an hour or
    more of the four middle hours of the shortest day.
    """
    xs, ys, zs = (np.asarray(a, dtype=float) for a in (xs, ys, zs))
    blocked = np.zeros((len(sun), len(xs)), dtype=bool)
    if not terrain.terrils or len(xs) == 0:
        return np.zeros(len(xs))
    for k, (az, el) in enumerate(zip(sun["azimuth_deg"], sun["elevation_deg"], strict=True)):
        dx, dy = math.sin(math.radians(az)), math.cos(math.radians(az))
        tan_el = math.tan(math.radians(el))
        for t in terrain.terrils:
            # distance along the ray to the heap's centre, and miss distance
            along = (t.x - xs) * dx + (t.y - ys) * dy
            miss = np.abs((t.x - xs) * dy - (t.y - ys) * dx)
            cand = np.nonzero((miss < t.base_radius_m) & (along + t.base_radius_m > 0) & ~blocked[k])[0]
            if len(cand) == 0:
                continue
            s_max = float((along[cand] + t.base_radius_m).max())
            s = np.arange(step_m, s_max + step_m, step_m)
            for chunk in np.array_split(cand, max(1, len(cand) * len(s) // 2_000_000 + 1)):
                px = xs[chunk, None] + s[None, :] * dx
                py = ys[chunk, None] + s[None, :] * dy
                heap = t.height(px, py)
                ground = terrain.natural(px, py) + heap
                ray = zs[chunk, None] + s[None, :] * tan_el
                blocked[k, chunk] |= ((heap > 0) & (ground > ray)).any(axis=1)
    return blocked.mean(axis=0)


def faces_truth(scene: Scene) -> list[FaceTruth]:
    """All faces of all buildings of the scene (buildings must have their ``cleabs``)."""
    faces: list[FaceTruth] = []
    frames: list[Frame] = []
    shared: dict[int, tuple[list[RoofFaceGeom], list[tuple[str, Polygon]]]] = {}
    for b in scene.buildings:
        roof = b.roof
        if id(roof) not in shared:
            shared[id(roof)] = (roof.faces(), [(ob.kind, ob.local_polygon) for ob in roof.obstacles])
        mine = building_faces(b, *shared[id(roof)], world=False)
        faces.extend(mine)
        frames.extend([roof.frame] * len(mine))
    world = _frames_to_world(np.array([f.polygon for f in faces], dtype=object), frames)
    return [replace(f, polygon=w) for f, w in zip(faces, world, strict=True)]


def _frames_to_world(polygons: np.ndarray, frames: list[Frame]) -> np.ndarray:
    """``frames[k].polygon_to_world(polygons[k])`` for every k, in one pass over the coordinates
    (the same arithmetic as shapely's ``affine_transform``, coordinate by coordinate)."""
    if len(polygons) == 0:
        return polygons
    n = shapely.get_num_coordinates(polygons)
    sc = np.array([f._sc for f in frames]).reshape(-1, 2)
    s, c = np.repeat(sc[:, 0], n), np.repeat(sc[:, 1], n)
    cx, cy = np.repeat([f.cx for f in frames], n), np.repeat([f.cy for f in frames], n)

    def move(coords: np.ndarray) -> np.ndarray:
        x, y = coords.T
        return np.stack([s * x + c * y + cx, c * x + -s * y + cy]).T

    out: np.ndarray = shapely.transform(polygons, move)
    return out


def scene_sun(scene: Scene) -> pd.DataFrame:
    """Winter sun positions at the centre of the scene."""
    xmin, ymin, xmax, ymax = scene.bounds
    lon, lat = Transformer.from_crs(config.WORKING_CRS, config.WGS84, always_xy=True).transform(
        (xmin + xmax) / 2, (ymin + ymax) / 2)
    return winter_sun_positions(lat, lon)


