"""Score roof faces: irradiation from the engine's raster, modules, production, suitability.

Takes the faces of :func:`geo.roofs.segmentation.segment_roofs`, the irradiation raster's
bands in the DSM's grid and a :class:`geo.roofs.pv.SiteModel`; returns the ``roof_faces``
columns of docs/data-dictionary.md and the hourly profiles the faces refer to.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np

from geo import config
from geo.roofs.classes import classify
from geo.roofs.pv import (
    OrientationYield,
    SiteModel,
    count_modules_many,
    orientation_bin,
    orientation_word,
    rack_ground_cover_ratio,
)

log = logging.getLogger("artois.roofs")

MONTHS = range(1, 13)
IRR_MONTH_COLS = [f"irradiation_m{m:02d}_kwh_m2" for m in MONTHS]
PROD_MONTH_COLS = [f"production_m{m:02d}_kwh" for m in MONTHS]


@dataclass(frozen=True)
class SiteSummary:
    """Site-wide figures used by every face."""

    optimum_tilt_deg: float
    optimum_azimuth_deg: float
    optimum_irradiation_kwh_m2_yr: float
    rack_pitch_m: float
    rack_gcr: float
    winter_noon_elevation_deg: float


def face_means(labels: np.ndarray, bands: np.ndarray, n_faces: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of each band over each face's pixels, ignoring NaN.

    Parameters
    ----------
    labels
        int, 1 + face row (0 = none): a raster in the bands' grid, or the labels of some pixels.
    bands
        (n_bands, *labels.shape) float, NaN = nodata: the bands at those pixels.
    n_faces
        Number of faces.

    Returns
    -------
    means
        (n_faces, n_bands), NaN where a face has no valid pixel.
    counts
        (n_faces,) valid pixels of band 0 per face.
    """
    lab = labels.ravel()
    sel = lab > 0
    lab = lab[sel] - 1
    means = np.full((n_faces, bands.shape[0]), np.nan)
    counts = np.zeros(n_faces)
    for b in range(bands.shape[0]):
        v = bands[b].ravel()[sel].astype(np.float64)
        ok = np.isfinite(v)
        s = np.bincount(lab[ok], weights=v[ok], minlength=n_faces)[:n_faces]
        c = np.bincount(lab[ok], minlength=n_faces)[:n_faces].astype(float)
        means[:, b] = np.where(c > 0, s / np.maximum(c, 1), np.nan)
        if b == 0:
            counts = c
    return means, counts


def site_summary(site: SiteModel) -> SiteSummary:
    """Best plane and flat-roof rack spacing at the site."""
    tilt, az, h_opt = site.optimum()
    elev = site.winter_noon_elevation_deg()
    pitch, gcr = rack_ground_cover_ratio(config.FLAT_ROOF_RACK_TILT_DEG, config.MODULE_WIDTH_M, elev)
    return SiteSummary(tilt, az, h_opt, pitch, gcr, elev)


def score_faces(
    faces: gpd.GeoDataFrame,
    sample_pixels: np.ndarray,
    irradiance: np.ndarray,
    site: SiteModel,
) -> tuple[gpd.GeoDataFrame, dict[str, OrientationYield], SiteSummary]:
    """Irradiation, modules, production and class of every face.

    Parameters
    ----------
    faces
        Output of the segmentation (``faces`` of :class:`~geo.roofs.segmentation.RoofSegmentation`).
    sample_pixels
        Its ``sample_pixels`` raster (interior, obstacle-free pixels of each face: 1 + face row, 0 = none),
        or those labels at some pixels (e.g. the non-zero ones, in row-major order).
    irradiance
        The engine's bands at the same pixels, (15, *sample_pixels.shape): 1 annual [kWh/m²/yr], 2-13
        monthly [kWh/m²], 14 shading loss, 15 sky view factor; NaN = nodata.
    site
        pvlib model of the site for the engine's weather.

    Returns
    -------
    faces
        With the ``roof_faces`` columns added (docs/data-dictionary.md), plus ``profile_id``,
        ``module_irradiation_kwh_m2_yr``, ``module_irradiation_mMM_kwh_m2``, ``ratio_to_optimum``,
        ``module_layout``, ``sky_view_factor``.
    profiles
        :class:`~geo.roofs.pv.OrientationYield` by ``profile_id`` (those used).
    summary
        Site-wide figures.
    """
    summary = site_summary(site)
    n = len(faces)
    out = faces.copy()
    means, counts = face_means(sample_pixels, irradiance, n)
    no_irr = int((counts == 0).sum())
    if no_irr:
        log.warning("roofs: %d face(s) without irradiation pixels (nodata in the raster)", no_irr)
    ghi = site.ghi_kwh_m2()
    rack = site.orientation(config.FLAT_ROOF_RACK_TILT_DEG, config.FLAT_ROOF_RACK_AZIMUTH_DEG, rack=True,
                            profile_id="rack")
    rack_ratio = np.where(ghi > 0, rack.poa_kwh_m2 / np.maximum(ghi, 1e-9), 1.0)
    profiles: dict[str, OrientationYield] = {}
    irr_m = means[:, 1:13]
    cols: dict[str, list[object]] = {k: [] for k in (
        "orientation", "profile_id", "n_modules", "kwp", "module_layout", "production_kwh_yr",
        "specific_yield_kwh_kwp", "suitability", "ratio_to_optimum", "module_irradiation_kwh_m2_yr",
    )}
    prod_rows = np.full((n, 12), np.nan)
    mod_irr_rows = np.full((n, 12), np.nan)
    n_modules, layouts = count_modules_many(
        out["usable_geometry"].to_numpy(object), out["tilt_deg"].to_numpy(float), out["azimuth_deg"].to_numpy(float),
        out["is_flat"].to_numpy(bool), rack_pitch_m=summary.rack_pitch_m) if n else (np.zeros(0, dtype=int), [])
    for i, row in enumerate(out.itertuples(index=False)):
        is_flat = bool(row.is_flat)
        pid, bt, ba = orientation_bin(float(row.tilt_deg), float(row.azimuth_deg), is_flat=is_flat)
        if pid not in profiles:
            profiles[pid] = rack if pid == "rack" else site.orientation(bt, ba, profile_id=pid)
        prof = profiles[pid]
        mod_irr = irr_m[i] * (rack_ratio if is_flat else 1.0)
        n_mod, layout = int(n_modules[i]), layouts[i]
        kwp = n_mod * config.MODULE_PEAK_POWER_WP / 1000.0
        per_kwp = mod_irr * prof.performance  # kWh/kWp per month
        prod = kwp * per_kwp
        annual_mod = float(np.sum(mod_irr)) if np.isfinite(mod_irr).all() else math.nan
        ratio = annual_mod / summary.optimum_irradiation_kwh_m2_yr if summary.optimum_irradiation_kwh_m2_yr > 0 else math.nan
        prod_rows[i] = prod
        mod_irr_rows[i] = mod_irr
        cols["orientation"].append(orientation_word(float(row.azimuth_deg), is_flat))
        cols["profile_id"].append(pid)
        cols["n_modules"].append(int(n_mod))
        cols["kwp"].append(kwp)
        cols["module_layout"].append(layout)
        cols["production_kwh_yr"].append(float(np.sum(prod)) if np.isfinite(prod).all() else math.nan)
        cols["specific_yield_kwh_kwp"].append(float(np.sum(per_kwp)) if np.isfinite(per_kwp).all() else math.nan)
        cols["suitability"].append(classify(ratio, n_mod))
        cols["ratio_to_optimum"].append(ratio)
        cols["module_irradiation_kwh_m2_yr"].append(annual_mod)
    out["irradiation_kwh_m2_yr"] = means[:, 0] if n else []
    for m, c in enumerate(IRR_MONTH_COLS):
        out[c] = irr_m[:, m] if n else []
    out["shading_loss"] = means[:, 13] if n else []
    out["sky_view_factor"] = means[:, 14] if n else []
    for k, v in cols.items():
        out[k] = v
    for m, c in enumerate(PROD_MONTH_COLS):
        out[c] = prod_rows[:, m] if n else []
    for m in range(12):
        out[f"module_irradiation_m{m + 1:02d}_kwh_m2"] = mod_irr_rows[:, m] if n else []
    return out, profiles, summary
