"""The sky: Perez diffuse terms per time step (pvlib) and the cumulative sky of binned sun positions.

For a surface with unit normal ``n`` and a time step with sun direction ``s``, pvlib's
``get_total_irradiance(model='perez')`` is

    G = DNI·max(n·s, 0)                              beam
      + DHI·F1·max(n·s, 0)/max(cos Z, cos 85°)       circumsolar (goes with the beam)
      + DHI·(1 − F1)·(1 + cos β)/2                    isotropic sky
      + DHI·F2·sin β                                 horizon brightening
      + albedo·GHI·(1 − cos β)/2                     ground-reflected

with F1, F2 the Perez brightness coefficients of the step (sky terms 0 when the sun is below the
horizon). Only the first two depend on the sun's direction; :func:`perez_terms` gets F1 and F2 by
calling ``pvlib.irradiance.perez`` itself (on a horizontal and a vertical plane), so the
coefficients are pvlib's. :func:`bin_sky` then sums the diffuse and ground terms per month (they
only need monthly totals) and groups the directional term into bins of similar sun positions, each
represented by the energy-weighted **vector** sum Σ E·s: for every plane that sees the whole bin,
Σ E·max(n·s, 0) = n·Σ E·s exactly, so unshaded planes keep pvlib's annual sum to well within 1 %.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo import config
from geo.solar.sun import solar_geometry
from geo.types import Weather


def perez_terms(weather: Weather, geometry: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per-step irradiance terms of the Perez model, from pvlib.

    Parameters
    ----------
    weather
        Weather series (index at interval middles).
    geometry
        Output of :func:`geo.solar.sun.solar_geometry` (computed when not given).

    Returns
    -------
    DataFrame
        Columns ``directional`` [W/m²]: DNI + DHI·F1/max(cos Z, cos 85°), to be multiplied by
        max(cos AOI, 0); ``isotropic`` [W/m²]: DHI·(1 − F1); ``horizon`` [W/m²]: DHI·F2;
        ``ghi`` [W/m²]; plus the geometry columns (``apparent_zenith``, ``apparent_elevation``,
        ``azimuth``).
    """
    import pvlib

    geo = solar_geometry(weather) if geometry is None else geometry
    d = weather.data
    dni, dhi, ghi = (d[c].to_numpy(dtype=float) for c in ("dni", "dhi", "ghi"))
    zen, azi = geo["apparent_zenith"].to_numpy(), geo["azimuth"].to_numpy()
    am, extra = geo["airmass"].to_numpy(), geo["dni_extra"].to_numpy()
    kw = {"model": config.SOLAR_PEREZ_COEFFICIENTS, "return_components": True}
    with np.errstate(invalid="ignore", divide="ignore"):
        flat = pvlib.irradiance.perez(0.0, 180.0, dhi, dni, extra, zen, azi, am, **kw)
        # A vertical plane turned away from the sun: its horizon term is DHI·F2·sin 90°.
        vert = pvlib.irradiance.perez(90.0, (azi + 180.0) % 360.0, dhi, dni, extra, zen, azi, am, **kw)
    iso = np.nan_to_num(np.asarray(flat["poa_isotropic"], dtype=float))  # DHI·(1 − F1)·(1 + 1)/2
    sky_on = np.asarray(flat["poa_sky_diffuse"], dtype=float) > 0
    dhi_f1 = np.where(sky_on, dhi - iso, 0.0)
    horizon = np.nan_to_num(np.asarray(vert["poa_horizon"], dtype=float))
    b = np.maximum(np.cos(np.radians(zen)), np.cos(np.radians(85.0)))
    out = pd.DataFrame(index=d.index)
    out["directional"] = dni + dhi_f1 / b
    out["isotropic"] = np.where(sky_on, iso, 0.0)
    out["horizon"] = horizon
    out["ghi"] = ghi
    out["apparent_zenith"] = zen
    out["apparent_elevation"] = geo["apparent_elevation"].to_numpy()
    out["azimuth"] = azi
    return out


@dataclass(frozen=True)
class SkyBins:
    """The cumulative sky of a weather series, ready for the per-pixel kernel.

    Attributes
    ----------
    month
        (n_bins,) month index 0–11 of each sun bin, sorted ascending.
    vector
        (n_bins, 3) unit vector towards the bin's mean sun position (east, north, up).
    azimuth_deg, elevation_deg
        (n_bins,) the same direction as azimuth [°, clockwise from north] and elevation [°].
    energy_wh_m2
        (n_bins,) |Σ E·s| [Wh/m²]: the bin's directional (beam + circumsolar) energy, so that a
        plane with normal n unshaded receives energy·max(n·vector, 0).
    isotropic_wh_m2, horizon_wh_m2, ghi_wh_m2
        (12,) monthly sums of DHI·(1 − F1), DHI·F2 and GHI [Wh/m²].
    n_steps
        Number of weather time steps summarised.
    """

    month: np.ndarray
    vector: np.ndarray
    azimuth_deg: np.ndarray
    elevation_deg: np.ndarray
    energy_wh_m2: np.ndarray
    isotropic_wh_m2: np.ndarray
    horizon_wh_m2: np.ndarray
    ghi_wh_m2: np.ndarray
    n_steps: int

    @property
    def n_bins(self) -> int:
        return int(self.month.size)


def sun_vectors(azimuth_deg: np.ndarray, elevation_deg: np.ndarray) -> np.ndarray:
    """Unit vectors (east, north, up) towards the sun; azimuth clockwise from north [°]."""
    az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
    return np.stack([np.sin(az) * np.cos(el), np.cos(az) * np.cos(el), np.sin(el)], axis=-1)


def bin_sky(
    weather: Weather,
    *,
    bin_minutes: float = config.SUN_BIN_MINUTES,
    month_parts: int = config.SUN_BIN_MONTH_PARTS,
    terms: pd.DataFrame | None = None,
) -> SkyBins:
    """Bin the sun positions of a weather series into a cumulative sky.

    Parameters
    ----------
    weather
        Weather series (index at interval middles).
    bin_minutes
        Width of the time-of-day slots [min] (at least the weather's time step is used).
    month_parts
        Each month is split into this many parts (1–31) by day of month.
    terms
        Output of :func:`perez_terms` (computed when not given).

    Returns
    -------
    SkyBins
        Bins sorted by month; bins with no directional energy are dropped.
    """
    t = perez_terms(weather) if terms is None else terms
    dt_h = float(weather.interval_h)
    idx = pd.DatetimeIndex(t.index)
    idx = idx.tz_convert("UTC") if idx.tz is not None else idx
    month = idx.month.to_numpy() - 1
    e = t["directional"].to_numpy() * dt_h  # Wh/m² per unit cos(AOI)
    vec = sun_vectors(t["azimuth"].to_numpy(), t["apparent_elevation"].to_numpy())
    slot_min = max(float(bin_minutes), dt_h * 60.0)
    minute = idx.hour.to_numpy() * 60 + idx.minute.to_numpy() + idx.second.to_numpy() / 60.0
    slot = np.floor(minute / slot_min).astype(np.int64)
    days_in_month = idx.days_in_month.to_numpy()
    part = np.minimum((idx.day.to_numpy() - 1) * month_parts // days_in_month, month_parts - 1)
    on = e > 0
    key = (month * max(month_parts, 1) + part) * 100000 + slot
    ukey, inv = np.unique(key[on], return_inverse=True)
    sums = np.zeros((ukey.size, 3))
    np.add.at(sums, inv, vec[on] * e[on, None])
    energy = np.linalg.norm(sums, axis=1)
    keep = energy > 0
    ukey, sums, energy = ukey[keep], sums[keep], energy[keep]
    unit = sums / energy[:, None]
    bmonth = (ukey // 100000) // max(month_parts, 1)
    order = np.argsort(bmonth, kind="stable")
    unit, energy, bmonth = unit[order], energy[order], bmonth[order]
    az = np.degrees(np.arctan2(unit[:, 0], unit[:, 1])) % 360.0
    el = np.degrees(np.arcsin(np.clip(unit[:, 2], -1.0, 1.0)))

    def monthly(col: str) -> np.ndarray:
        return np.bincount(month, weights=t[col].to_numpy() * dt_h, minlength=12)[:12]

    return SkyBins(
        month=bmonth.astype(np.int64),
        vector=unit.astype(np.float64),
        azimuth_deg=az,
        elevation_deg=el,
        energy_wh_m2=energy,
        isotropic_wh_m2=monthly("isotropic"),
        horizon_wh_m2=monthly("horizon"),
        ghi_wh_m2=monthly("ghi"),
        n_steps=len(t),
    )


def unshaded_plane_wh_m2(
    sky: SkyBins, tilt_deg: float, azimuth_deg: float, *, albedo: float = config.SOLAR_ALBEDO
) -> np.ndarray:
    """Monthly irradiation [Wh/m²] of an unshaded plane from the binned sky (12 values).

    A convenience for checks: the per-pixel kernel computes the same thing for every pixel.
    """
    beta, az = np.radians(tilt_deg), np.radians(azimuth_deg)
    n = np.array([np.sin(beta) * np.sin(az), np.sin(beta) * np.cos(az), np.cos(beta)])
    direct = sky.energy_wh_m2 * np.maximum(sky.vector @ n, 0.0)
    out = np.bincount(sky.month, weights=direct, minlength=12)[:12].astype(float)
    out += sky.isotropic_wh_m2 * (1 + np.cos(beta)) / 2 + sky.horizon_wh_m2 * np.sin(beta)
    out += albedo * sky.ghi_wh_m2 * (1 - np.cos(beta)) / 2
    return out
