"""Solar hot water (chauffe-eau solaire individuel, CESI) on a roof face: a monthly efficiency-curve model.

Model (parameters in :mod:`geo.config` section 6)
-------------------------------------------------
For each month m (d_m days):

* demand  Q_m = persons · litres · d_m · (T_hot − T_cold,m) · c_water            [kWh]
* collector efficiency  η_m = max(0, η0 − a1 · (T_m − T_air,m) / G_m), with the mean collector
  temperature T_m = (T_hot + T_cold,m) / 2 [°C], the month's mean air temperature T_air,m [°C]
  and G_m the energy-weighted mean irradiance on the collector's plane [W/m²] (Σ G² / Σ G over
  the weather's hours)
* collected  C_m = A · H_m · η_m · (1 − losses), H_m the face's monthly irradiation [kWh/m²]
  (with shading, from the irradiation raster)
* useful heat  U_m = min(C_m, Q_m) (the store cannot use more than the demand)

Solar fraction = Σ U_m / Σ Q_m. A simple first-order model (no stratification, no f-chart
storage correction); it reproduces the 40-60 % solar fractions quoted for northern France.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from geo import config

_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)


def collector_area_m2(usable_area_m2: float, *, persons: int = config.SWH_PERSONS) -> float:
    """Collector area for a household [m²]: 1 m² per person within 2-4 m², if the face has room (else 0)."""
    want = min(max(persons * config.SWH_COLLECTOR_M2_PER_PERSON, config.SWH_COLLECTOR_MIN_M2),
               config.SWH_COLLECTOR_MAX_M2)
    if not math.isfinite(usable_area_m2) or usable_area_m2 < config.SWH_COLLECTOR_MIN_M2:
        return 0.0
    return float(min(want, usable_area_m2))


def hot_water_demand_kwh(*, persons: int = config.SWH_PERSONS) -> np.ndarray:
    """Monthly heat needed for the household's hot water [kWh] (12 values)."""
    dt = config.SWH_HOT_WATER_TEMP_C - np.asarray(config.SWH_COLD_WATER_TEMP_C)
    return persons * config.SWH_LITRES_PER_PERSON_DAY * _DAYS * dt * config.WATER_HEAT_KWH_PER_L_K


def solar_hot_water(
    irradiation_kwh_m2: Sequence[float] | np.ndarray,
    g_eff_w_m2: Sequence[float] | np.ndarray,
    temp_air_c: Sequence[float] | np.ndarray,
    *,
    collector_m2: float,
    persons: int = config.SWH_PERSONS,
) -> dict[str, object]:
    """Useful heat and solar fraction of a CESI.

    Parameters
    ----------
    irradiation_kwh_m2
        Monthly irradiation on the collector plane [kWh/m²] (12 values).
    g_eff_w_m2
        Monthly energy-weighted mean irradiance on that plane [W/m²] (12 values).
    temp_air_c
        Monthly mean air temperature [°C] (12 values).
    collector_m2
        Aperture area [m²].
    persons
        Household size.

    Returns
    -------
    dict
        ``collector_m2``, ``heat_kwh_yr`` (useful), ``demand_kwh_yr``, ``solar_fraction`` (0-1),
        ``heat_monthly_kwh`` and ``efficiency_monthly`` (12 values each).
    """
    h = np.asarray(irradiation_kwh_m2, float)
    g = np.asarray(g_eff_w_m2, float)
    ta = np.asarray(temp_air_c, float)
    demand = hot_water_demand_kwh(persons=persons)
    tm = (config.SWH_HOT_WATER_TEMP_C + np.asarray(config.SWH_COLD_WATER_TEMP_C)) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.where(g > 0, config.SWH_ETA0 - config.SWH_A1_W_M2K * (tm - ta) / g, 0.0)
    eta = np.clip(np.nan_to_num(eta), 0.0, None)
    collected = collector_m2 * h * eta * (1.0 - config.SWH_SYSTEM_LOSS)
    useful = np.minimum(collected, demand)
    return {
        "collector_m2": float(collector_m2),
        "heat_kwh_yr": float(useful.sum()),
        "demand_kwh_yr": float(demand.sum()),
        "solar_fraction": float(useful.sum() / demand.sum()) if collector_m2 > 0 else 0.0,
        "heat_monthly_kwh": useful,
        "efficiency_monthly": eta,
    }
