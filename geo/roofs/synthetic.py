"""Known-truth synthetic roofs: a DSM, a DTM, footprints and the exact faces, for tests and benchmarks.

Every roof is the lower envelope of planes clipped by a rectangular footprint (gable, hip, shed,
flat), so each face is exactly ``footprint ∩ {its plane is the lowest}``; obstacles (chimneys,
HVAC boxes) stand on faces. The DSM samples the roofs at pixel centres, as LiDAR-derived
surface models do, with optional Gaussian noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from geo.solar.surface import gradient_normal, tilt_azimuth

ROOF_TYPES = ("gable", "hip", "shed", "flat")


@dataclass(frozen=True)
class SyntheticScene:
    """A synthetic urban tile.

    Attributes
    ----------
    dsm, dtm
        Surface and terrain heights [m], float32, NaN = nodata; north-up grid ``transform``.
    footprints
        One row per building: ``cleabs``, ``roof_type``, geometry (polygon).
    truth
        One row per face: ``cleabs``, ``face_id``, ``tilt_deg``, ``azimuth_deg`` (NaN when flat),
        ``area_m2`` (3-D), ``footprint_area_m2``, ``roof_type``, ``has_chimney``, ``has_hvac``,
        ``obstacle_area_m2``, geometry (horizontal face polygon).
    """

    dsm: np.ndarray
    dtm: np.ndarray
    transform: Affine
    crs: str
    footprints: gpd.GeoDataFrame
    truth: gpd.GeoDataFrame


def _plane_through_eave(ex: float, ey: float, ux: float, uy: float, h0: float, tan_t: float) -> np.ndarray:
    """Plane z = a x + b y + c rising with slope ``tan_t`` from the eave point (ex, ey) along (ux, uy)."""
    a, b = tan_t * ux, tan_t * uy
    return np.array([a, b, h0 - a * ex - b * ey])


def _roof_planes(
    cx: float, cy: float, length: float, width: float, theta: float, h0: float, tilt_deg: float, kind: str,
) -> np.ndarray:
    """Planes (k, 3) of a roof on a length x width rectangle whose long axis makes ``theta`` [rad] with east."""
    t = math.tan(math.radians(tilt_deg))
    ux, uy = math.cos(theta), math.sin(theta)  # along the ridge
    vx, vy = -uy, ux  # across
    hw, hl = width / 2.0, length / 2.0
    if kind == "flat":
        return np.array([[0.0, 0.0, h0]])
    if kind == "shed":  # rises from the +v eave towards -v
        return np.array([_plane_through_eave(cx + vx * hw, cy + vy * hw, -vx, -vy, h0, t)])
    planes = [
        _plane_through_eave(cx + vx * hw, cy + vy * hw, -vx, -vy, h0, t),
        _plane_through_eave(cx - vx * hw, cy - vy * hw, vx, vy, h0, t),
    ]
    if kind == "hip":
        planes += [
            _plane_through_eave(cx + ux * hl, cy + uy * hl, -ux, -uy, h0, t),
            _plane_through_eave(cx - ux * hl, cy - uy * hl, ux, uy, h0, t),
        ]
    return np.array(planes)


def _face_polygons(footprint: Polygon, planes: np.ndarray) -> list[BaseGeometry]:
    """Part of ``footprint`` where each plane is the lowest (analytic half-plane clipping)."""
    big = 1e4
    x0, y0, x1, y1 = footprint.bounds
    frame = box(x0 - 1, y0 - 1, x1 + 1, y1 + 1)
    out: list[BaseGeometry] = []
    for i in range(len(planes)):
        poly: BaseGeometry = footprint
        for j in range(len(planes)):
            if i == j:
                continue
            da, db, dc = planes[i] - planes[j]  # keep where P_i - P_j <= 0
            norm = math.hypot(da, db)
            if norm < 1e-12:
                continue
            nx, ny = da / norm, db / norm
            # point on the line closest to the frame centre
            mx, my = (x0 + x1) / 2, (y0 + y1) / 2
            s = (da * mx + db * my + dc) / norm
            px, py = mx - nx * s, my - ny * s
            tx, ty = -ny, nx
            half = Polygon([
                (px + tx * big, py + ty * big), (px - tx * big, py - ty * big),
                (px - tx * big - nx * big, py - ty * big - ny * big),
                (px + tx * big - nx * big, py + ty * big - ny * big),
            ])
            poly = poly.intersection(half.intersection(frame))
        out.append(poly)
    return out


def make_scene(
    *,
    size_m: float = 200.0,
    res_m: float = 0.5,
    n_buildings: int | None = None,
    spacing_m: float = 22.0,
    noise_m: float = 0.0,
    chimney_share: float = 0.4,
    n_trees: int = 0,
    seed: int = 0,
    origin: tuple[float, float] = (686000.0, 7038000.0),
    crs: str = "EPSG:2154",
) -> SyntheticScene:
    """Generate a tile of houses on a regular street grid with random roofs.

    Parameters
    ----------
    size_m
        Tile side [m].
    res_m
        Pixel size [m].
    n_buildings
        Maximum number of buildings (default: as many as the grid holds).
    spacing_m
        Distance between building centres [m].
    noise_m
        Standard deviation of the Gaussian height noise added to the DSM [m].
    chimney_share
        Share of pitched roofs with a 0.6 m x 0.6 m chimney standing 1.2 m above the face.
    n_trees
        Number of round trees (irregular crowns, 6-12 m) planted in the streets.
    seed
        Random seed.
    origin
        Upper-left corner (x, y) [m] in ``crs``.

    Returns
    -------
    SyntheticScene
    """
    rng = np.random.default_rng(seed)
    n = int(round(size_m / res_m))
    transform = Affine(res_m, 0.0, origin[0], 0.0, -res_m, origin[1])
    cols = origin[0] + (np.arange(n) + 0.5) * res_m
    rows = origin[1] - (np.arange(n) + 0.5) * res_m
    # gentle terrain: 0.5 % slope plus a long wave
    xx, yy = np.meshgrid(cols - origin[0], origin[1] - rows)
    dtm = (40.0 + 0.005 * xx + 0.3 * np.sin(yy / 60.0)).astype(np.float64)
    dsm = dtm.copy()
    fps: list[dict[str, object]] = []
    faces: list[dict[str, object]] = []
    centres = np.arange(spacing_m / 2, size_m - spacing_m / 2 + 1e-9, spacing_m)
    k = 0
    for cy_off in centres:
        for cx_off in centres:
            if n_buildings is not None and k >= n_buildings:
                break
            kind = ROOF_TYPES[int(rng.integers(len(ROOF_TYPES)))]
            length = float(rng.uniform(9.0, min(16.0, spacing_m - 4.0)))
            width = float(rng.uniform(6.5, min(length, spacing_m - 6.0, 10.0)))
            theta = float(rng.uniform(0, math.pi))
            tilt = 0.0 if kind == "flat" else float(rng.uniform(20.0, 45.0))
            if kind == "shed":
                tilt = float(rng.uniform(8.0, 25.0))
            cx, cy = origin[0] + cx_off + rng.uniform(-1, 1), origin[1] - cy_off + rng.uniform(-1, 1)
            ground = 40.0 + 0.005 * (cx - origin[0]) + 0.3 * math.sin((origin[1] - cy) / 60.0)
            h0 = ground + float(rng.uniform(5.0, 8.0))
            ux, uy = math.cos(theta), math.sin(theta)
            vx, vy = -uy, ux
            corners = [
                (cx + sx * ux * length / 2 + sy * vx * width / 2, cy + sx * uy * length / 2 + sy * vy * width / 2)
                for sx, sy in ((1, 1), (-1, 1), (-1, -1), (1, -1))
            ]
            fp = Polygon(corners)
            planes = _roof_planes(cx, cy, length, width, theta, h0, tilt, kind)
            cleabs = f"BATIMENT{k:016d}"
            # render the roof at pixel centres inside the footprint
            x0, y0, x1, y1 = fp.bounds
            c0, c1 = int((x0 - origin[0]) / res_m), int(math.ceil((x1 - origin[0]) / res_m))
            r0, r1 = int((origin[1] - y1) / res_m), int(math.ceil((origin[1] - y0) / res_m))
            c0, r0, c1, r1 = max(c0, 0), max(r0, 0), min(c1, n), min(r1, n)
            px, py = np.meshgrid(cols[c0:c1], rows[r0:r1])
            inside = shapely.contains_xy(fp, px, py)
            zr = np.min(planes[:, 0, None, None] * px + planes[:, 1, None, None] * py + planes[:, 2, None, None], axis=0)
            sub = dsm[r0:r1, c0:c1]
            sub[inside] = zr[inside]
            polys = _face_polygons(fp, planes)
            chimney = None
            if kind != "flat" and rng.random() < chimney_share:
                # chimney centred 1.5 m inside the first face, clear of its edges
                inner = polys[0].buffer(-1.0)
                if not inner.is_empty:
                    pt = inner.representative_point()
                    chimney = box(pt.x - 0.3, pt.y - 0.3, pt.x + 0.3, pt.y + 0.3)
            elif kind == "flat" and rng.random() < chimney_share:
                inner = fp.buffer(-2.0)
                if not inner.is_empty:
                    pt = inner.representative_point()
                    chimney = box(pt.x - 0.75, pt.y - 0.5, pt.x + 0.75, pt.y + 0.5)  # HVAC box
            if chimney is not None:
                cin = shapely.contains_xy(chimney, px, py) & inside
                sub[cin] = zr[cin] + 1.2
            fps.append({"cleabs": cleabs, "roof_type": kind, "geometry": fp})
            for i, (plane, poly) in enumerate(zip(planes, polys, strict=True)):
                if poly.is_empty or poly.area < 1e-6:
                    continue
                t, az = (float(v) for v in tilt_azimuth(gradient_normal(plane[0], plane[1]), flat_tilt_deg=1e-7))
                obst = chimney.intersection(poly).area if chimney is not None else 0.0
                faces.append({
                    "cleabs": cleabs, "face_id": f"{cleabs}-{i + 1}", "tilt_deg": t, "azimuth_deg": az,
                    "area_m2": poly.area / math.cos(math.radians(t)), "footprint_area_m2": poly.area,
                    "roof_type": kind, "has_chimney": bool(obst > 0 and kind != "flat"),
                    "has_hvac": bool(obst > 0 and kind == "flat"), "obstacle_area_m2": obst, "geometry": poly,
                })
            k += 1
    for _ in range(n_trees):  # trees in the streets: rough crowns
        tx, ty = rng.uniform(0, size_m), rng.uniform(0, size_m)
        tx = float(np.round(tx / spacing_m) * spacing_m)  # on a street line
        rad, hgt = rng.uniform(2.5, 4.5), rng.uniform(6.0, 12.0)
        d = np.hypot(xx - tx, yy - ty)
        crown = d < rad
        zc = dtm + hgt * np.sqrt(np.clip(1 - (d / rad) ** 2, 0, 1)) + rng.normal(0, 0.6, dsm.shape)
        dsm = np.where(crown, np.maximum(dsm, zc), dsm)
    if noise_m > 0:
        dsm = dsm + rng.normal(0.0, noise_m, dsm.shape)
    footprints = gpd.GeoDataFrame(fps, geometry="geometry", crs=crs)
    truth = gpd.GeoDataFrame(faces, geometry="geometry", crs=crs)
    return SyntheticScene(dsm.astype(np.float32), dtm.astype(np.float32), transform, crs, footprints, truth)
