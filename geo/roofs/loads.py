"""Hourly electricity use of a household or a non-residential owner, and what PV covers of it.

* :func:`load_profile` — 8760 hourly values [kWh] of one of the profiles of
  :data:`geo.config.LOAD_PROFILES` (households by heating / car / presence, businesses, schools),
  scaled to an annual consumption.
* :func:`cover` — hour by hour, the part of the load PV covers directly, through an energy-management
  system (EMS, hot-water diverter) that moves the flexible part of each day's load into that day's
  surplus, and through a battery (round-trip efficiency, power limit). Energy is conserved: production =
  self-consumed + exported + battery losses (+ what is left in the battery); self-consumed ≤ load.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo import config
from geo.errors import InvalidRequestError
from geo.roofs.pv import PROFILE_HOURS, PROFILE_YEAR, profile_months


def profile_label(key: str) -> str:
    """French label of a load profile; :class:`InvalidRequestError` for an unknown key."""
    return str(_profile(key)["label"])


def _profile(key: str) -> dict[str, object]:
    if key not in config.LOAD_PROFILES:
        raise InvalidRequestError(f"unknown load profile {key!r} (known: {', '.join(config.LOAD_PROFILES)})")
    return config.LOAD_PROFILES[key]


def _shape(key: str) -> np.ndarray:
    p = _profile(key)
    if "blend" in p:
        blend: tuple[tuple[str, float], ...] = p["blend"]  # type: ignore[assignment]
        return np.sum([w * _shape(k) for k, w in blend], axis=0)
    days = pd.date_range(f"{PROFILE_YEAR}-01-01", periods=365, freq="D")
    weekend = days.day_of_week.to_numpy() >= 5
    wd = np.asarray(p["weekday"], float)
    we = np.asarray(p["weekend"], float)
    hourly = np.where(weekend[:, None], we[None, :], wd[None, :]).ravel()
    hourly = hourly * np.asarray(p["monthly"], float)[profile_months()]
    return hourly / hourly.sum()


def load_profile(key: str, annual_kwh: float) -> np.ndarray:
    """Hourly consumption over the canonical year [kWh]: 8760 values summing to ``annual_kwh``.

    Shape: the profile's hourly weights for working days and weekends (2023 calendar) times its
    monthly factor, normalised; ``moyen`` blends two household shapes (see :data:`geo.config.LOAD_PROFILES`).
    """
    return _shape(key) * float(annual_kwh)


@dataclass(frozen=True)
class Cover:
    """Yearly energy balance of PV against a load [kWh/yr]."""

    self_consumed_kwh: float  # PV used on site, directly or through the battery
    exported_kwh: float  # surplus sold to the grid
    battery_discharged_kwh: float  # part of self_consumed that went through the battery
    battery_losses_kwh: float
    shifted_kwh: float  # flexible load the EMS moved into surplus hours


def cover(
    production_kwh: np.ndarray, load_kwh: np.ndarray, *, ems: bool = False, battery_kwh: float = 0.0,
) -> Cover:
    """Hour by hour, what ``production_kwh`` covers of ``load_kwh`` (both 8760 values [kWh]).

    ``ems``: :data:`geo.config.EMS_SHIFTABLE_SHARE` of each day's load is flexible; it is placed in that
    day's surplus hours (proportionally to the surplus, at most the surplus), the rest at night.
    ``battery_kwh``: usable capacity; charged from the surplus and discharged to cover the load, with the
    round-trip efficiency split evenly between charge and discharge and a power limit of
    :data:`geo.config.BATTERY_POWER_KW_PER_KWH` per kWh. It starts empty.
    """
    p = np.asarray(production_kwh, float)
    load = np.asarray(load_kwh, float)
    if p.shape != (PROFILE_HOURS,) or load.shape != (PROFILE_HOURS,):
        raise InvalidRequestError("production and load must have 8760 hourly values")
    shifted = 0.0
    if ems:
        s = config.EMS_SHIFTABLE_SHARE
        fixed = load * (1.0 - s)
        flex_day = (load * s).reshape(365, 24).sum(axis=1)
        spare = np.maximum(p - fixed, 0.0).reshape(365, 24)
        spare_day = spare.sum(axis=1)
        placed_day = np.minimum(flex_day, spare_day)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(spare_day[:, None] > 0, spare / spare_day[:, None], 0.0)
        placed = share * placed_day[:, None]
        night = np.zeros(24)
        night[:6] = 1.0 / 6.0  # what does not fit is heated at night (heures creuses)
        rest = (flex_day - placed_day)[:, None] * night[None, :]
        load = fixed + (placed + rest).ravel()
        shifted = float(placed_day.sum())
    direct = np.minimum(p, load)
    surplus = p - direct
    deficit = load - direct
    discharged = losses = 0.0
    if battery_kwh > 0:
        eta = float(np.sqrt(config.BATTERY_ROUND_TRIP_EFFICIENCY))
        power = battery_kwh * config.BATTERY_POWER_KW_PER_KWH
        soc = 0.0
        sur = surplus.copy()
        for h in range(PROFILE_HOURS):
            if sur[h] > 0:
                charge = min(sur[h], power, (battery_kwh - soc) / eta)
                soc += charge * eta
                sur[h] -= charge
                losses += charge * (1.0 - eta)
            elif deficit[h] > 0 and soc > 0:
                out = min(deficit[h], power, soc * eta)
                soc -= out / eta
                discharged += out
                losses += out / eta - out
        surplus = sur
    return Cover(
        self_consumed_kwh=float(direct.sum()) + discharged, exported_kwh=float(surplus.sum()),
        battery_discharged_kwh=discharged, battery_losses_kwh=losses, shifted_kwh=shifted,
    )
