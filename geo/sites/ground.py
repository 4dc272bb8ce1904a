"""Ground-mounted PV on a site: usable ground, module rows and yield.

Usable ground (pixels of the DSM's grid, each excluded pixel counted under the first reason met):
the site's perimeter less a setback (:data:`geo.config.GROUND_PV_PERIMETER_SETBACK_M`), buildings and
tree crowns with a clearance, water, ground steeper than :data:`geo.config.GROUND_PV_MAX_SLOPE_DEG`,
pixels without irradiation; parts smaller than :data:`geo.config.GROUND_PV_MIN_PART_M2` are dropped.

Rows: flat ground (≤ :data:`geo.config.GROUND_PV_FLAT_MAX_SLOPE_DEG`) takes south-facing racked rows
spaced for no self-shading at winter-solstice noon, laid out by the roofs' code
(:func:`geo.roofs.pv.count_modules` with ``rack=True``). On a slope (a terril's flank) the modules lie
along the slope, parallel to the ground, in rows along the contour lines — a row then casts no
shadow on the next one (the horizontal pitch of rows of depth L at the ground's own tilt s is
L cos s, their footprint) — laid out as a pitched roof face per orientation bin
(:func:`geo.roofs.pv.orientation_bin`).

Yield: the irradiation raster gives each pixel's monthly irradiation on the ground's own plane,
with shading by the terrain and neighbours. Modules parallel to the ground receive it as is; racks
on flat ground receive it times the monthly transposition ratio POA(rack)/GHI (pvlib), as flat
roofs. AC energy = kWp x module irradiation x the pvlib performance factor of the orientation
(:class:`geo.roofs.pv.SiteModel`), as for roofs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import rasterio.features
import shapely
from affine import Affine
from scipy import ndimage
from shapely.geometry import MultiPolygon, Polygon

from geo import config
from geo.roofs.pv import SiteModel, count_modules, orientation_bin, rack_ground_cover_ratio
from geo.sites.canopy import grow, shrink

#: Exclusion reasons, in the order they are applied (docs/data-dictionary.md, ``excluded_*_m2``).
EXCLUSIONS = ("setback", "buildings", "water", "trees", "steep", "no_irradiation", "small_parts")

KWP_PER_MODULE = config.MODULE_PEAK_POWER_WP / 1000.0


def usable_ground(
    inside: np.ndarray,
    *,
    res_m: float,
    buildings: np.ndarray,
    trees: np.ndarray,
    water: np.ndarray,
    slope_deg: np.ndarray,
    irradiated: np.ndarray,
) -> tuple[np.ndarray, dict[str, float]]:
    """Usable pixels of a site and the area excluded for each reason [m²].

    Parameters
    ----------
    inside
        Pixels of the site (centre inside its perimeter).
    res_m
        Pixel size [m].
    buildings, trees, water
        Obstacle pixels (anywhere in the window: an obstacle just outside the site still needs its
        clearance inside).
    slope_deg
        Ground slope [°] (from the DTM; NaN = unknown, counted as steep).
    irradiated
        Pixels with a computed irradiation.

    Returns
    -------
    usable, excluded
        The mask and {reason: m²} over :data:`EXCLUSIONS`.
    """
    px = res_m * res_m
    clearance = config.GROUND_PV_OBSTACLE_CLEARANCE_M
    with np.errstate(invalid="ignore"):
        steep = ~(slope_deg <= config.GROUND_PV_MAX_SLOPE_DEG)
    steps = (
        ("setback", ~shrink(inside, config.GROUND_PV_PERIMETER_SETBACK_M, res_m)),
        ("buildings", grow(buildings, clearance, res_m)),
        ("water", water),
        ("trees", grow(trees, clearance, res_m)),
        ("steep", steep),
        ("no_irradiation", ~irradiated),
    )
    left = inside.copy()
    excluded: dict[str, float] = {}
    for name, out in steps:
        hit = left & out
        excluded[name] = float(hit.sum()) * px
        left &= ~hit
    labels, n = ndimage.label(left)
    if n:
        sizes = np.bincount(labels.ravel(), minlength=n + 1) * px
        small = (sizes < config.GROUND_PV_MIN_PART_M2)
        small[0] = False
        drop = small[labels]
        excluded["small_parts"] = float(drop.sum()) * px
        left &= ~drop
    else:
        excluded["small_parts"] = 0.0
    return left, excluded


def mask_polygon(mask: np.ndarray, transform: Affine) -> Polygon | MultiPolygon:
    """The pixels of ``mask`` as a (multi)polygon in the grid's CRS."""
    polys = [shapely.geometry.shape(g) for g, v in rasterio.features.shapes(
        mask.astype(np.uint8), mask=mask, transform=transform, connectivity=4) if v == 1]
    merged = shapely.union_all(polys) if polys else Polygon()
    return merged if isinstance(merged, (Polygon, MultiPolygon)) else MultiPolygon(
        [g for g in getattr(merged, "geoms", []) if isinstance(g, Polygon)])


@dataclass
class RowGroup:
    """Modules of one orientation on a site.

    Attributes
    ----------
    profile_id
        ``rack`` (flat ground) or the orientation bin (e.g. ``t30a180``).
    tilt_deg, azimuth_deg
        Module plane [°] (azimuth 180 = south).
    ground_m2
        Usable ground of the group [m²] (horizontal).
    n_modules, kwp
        Modules laid out and their peak power [kWp].
    module_kwh_m2
        Monthly irradiation on the modules with shading [kWh/m²] (12 values).
    production_kwh
        Monthly AC energy [kWh] (12 values).
    shading_loss
        Mean annual shading loss of the group's ground [0–1].
    """

    profile_id: str
    tilt_deg: float
    azimuth_deg: float
    ground_m2: float
    n_modules: int
    kwp: float
    module_kwh_m2: np.ndarray = field(repr=False)
    production_kwh: np.ndarray = field(repr=False)
    shading_loss: float = math.nan


def rack_pitch_m(site: SiteModel) -> tuple[float, float]:
    """Pitch [m] and ground-cover ratio of the flat-ground racks at the site (winter-solstice noon)."""
    return rack_ground_cover_ratio(config.FLAT_ROOF_RACK_TILT_DEG, config.MODULE_WIDTH_M,
                                   site.winter_noon_elevation_deg())


def row_groups(
    usable: np.ndarray,
    transform: Affine,
    *,
    slope_deg: np.ndarray,
    aspect_deg: np.ndarray,
    monthly_kwh_m2: np.ndarray,
    shading_loss: np.ndarray,
    site: SiteModel,
) -> list[RowGroup]:
    """Lay out the rows on the usable ground and compute each group's monthly yield.

    Parameters
    ----------
    usable
        Usable pixels (:func:`usable_ground`).
    transform
        The pixels' grid.
    slope_deg, aspect_deg
        Ground tilt [°] and the direction it faces [°, 180 = south] per pixel.
    monthly_kwh_m2
        (12, rows, cols) irradiation on the ground's plane with shading (the engine's bands 2–13).
    shading_loss
        The engine's annual shading loss per pixel [0–1] (band 14).
    site
        pvlib model of the site (weather).
    """
    res = abs(transform.a)
    flat = usable & (slope_deg <= config.GROUND_PV_FLAT_MAX_SLOPE_DEG)
    groups: list[tuple[str, float, float, bool, np.ndarray]] = []
    if flat.any():
        groups.append(("rack", config.FLAT_ROOF_RACK_TILT_DEG, config.FLAT_ROOF_RACK_AZIMUTH_DEG, True, flat))
    sloped = usable & ~flat
    if sloped.any():
        keys: dict[tuple[str, float, float], list[int]] = {}
        idx = np.flatnonzero(sloped.ravel())
        for i, t, a in zip(idx, slope_deg.ravel()[idx], aspect_deg.ravel()[idx], strict=True):
            keys.setdefault(orientation_bin(float(t), float(a)), []).append(int(i))
        for (pid, t, a), pix in sorted(keys.items()):
            m = np.zeros(usable.shape, bool)
            m.ravel()[pix] = True
            groups.append((pid, t, a, False, m))
    pitch, _ = rack_pitch_m(site)
    ghi = site.ghi_kwh_m2()
    out = []
    for pid, tilt, az, rack, m in groups:
        poly = mask_polygon(m, transform)
        n, _ = count_modules(poly, tilt, az, rack=rack, rack_pitch_m=pitch if rack else None,
                             cell_m=max(0.05, res / 5.0))
        ground = monthly_kwh_m2[:, m].mean(axis=1)
        orient = site.orientation(tilt, az, rack=True, profile_id=pid)
        if rack:  # horizontal ground -> rack plane, as flat roofs
            module = ground * np.where(ghi > 0, orient.poa_kwh_m2 / np.maximum(ghi, 1e-9), 0.0)
        else:  # modules parallel to the ground
            module = ground
        kwp = n * KWP_PER_MODULE
        out.append(RowGroup(pid, tilt, az, float(m.sum()) * res * res, int(n), kwp, module,
                            kwp * module * orient.performance, float(np.nanmean(shading_loss[m]))))
    return out
