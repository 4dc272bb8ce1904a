"""Solar hot water (chauffe-eau solaire individuel, CESI) on a roof face: the f-chart method.

Model (parameters in :mod:`geo.config` section 6): the f-chart correlation for liquid solar water
heating of Klein, Beckman & Duffie (1976), as given by Duffie & Beckman, "Solar Engineering of Thermal
Processes" (4th ed., 2013, §20.2-20.3, eq. 20.3.1 and the hot-water correction 20.3.3). For each month
(Δt seconds, load L = the household's hot-water heat):

* X = A · F_R'U_L · (100 °C − T_air) · Δt / L, times (11.6 + 1.18 T_hot + 3.86 T_mains − 2.32 T_air)
  / (100 − T_air) for hot water;
* Y = A · F_R'(τα)_n · (τα)/(τα)_n · H · / L, H the month's irradiation on the collector [J/m²];
* L includes the store's standing losses (:data:`geo.config.SWH_TANK_LOSS_KWH_DAY`), which the
  system must also cover;
* f = 1.029 Y − 0.065 X − 0.245 Y² + 0.0018 X² + 0.0215 Y³, clipped to [0, 1].

F_R(τα)_n and F_R U_L are taken as the collector's η0 and a1 (EN ISO 9806), times the heat-exchanger
factor F_R'/F_R and the monthly-mean incidence factor (τα)/(τα)_n of config. Solar fraction = Σ f L / Σ L.
The f-chart was fitted on systems with 75 L of storage per m² of collector, which a household CESI has.
Northern France reference: a 3-4 m² CESI covers 40-60 % of the hot water (ADEME, "Le chauffe-eau solaire",
2023); tests/test_economics.py checks Lens against that band.
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
    temp_air_c: Sequence[float] | np.ndarray,
    *,
    collector_m2: float,
    persons: int = config.SWH_PERSONS,
) -> dict[str, object]:
    """Useful heat and solar fraction of a CESI (f-chart, see the module docstring).

    Parameters
    ----------
    irradiation_kwh_m2
        Monthly irradiation on the collector plane [kWh/m²] (12 values).
    temp_air_c
        Monthly mean air temperature [°C] (12 values).
    collector_m2
        Aperture area [m²].
    persons
        Household size.

    Returns
    -------
    dict
        ``collector_m2``, ``heat_kwh_yr`` (useful), ``demand_kwh_yr`` (hot water + store losses), ``solar_fraction`` (0-1),
        ``heat_monthly_kwh`` and ``fraction_monthly`` (12 values each).
    """
    h = np.nan_to_num(np.asarray(irradiation_kwh_m2, float))
    ta = np.asarray(temp_air_c, float)
    demand = hot_water_demand_kwh(persons=persons) + config.SWH_TANK_LOSS_KWH_DAY * _DAYS
    tw = np.asarray(config.SWH_COLD_WATER_TEMP_C, float)
    dt_s = _DAYS * 86400.0
    load_j = demand * 3.6e6
    exch = config.SWH_EXCHANGER_FACTOR
    x = collector_m2 * config.SWH_A1_W_M2K * exch * (100.0 - ta) * dt_s / load_j
    x = x * (11.6 + 1.18 * config.SWH_HOT_WATER_TEMP_C + 3.86 * tw - 2.32 * ta) / (100.0 - ta)
    y = collector_m2 * config.SWH_ETA0 * exch * config.SWH_INCIDENCE_FACTOR * h * 3.6e6 / load_j
    f = 1.029 * y - 0.065 * x - 0.245 * y**2 + 0.0018 * x**2 + 0.0215 * y**3
    f = np.clip(np.nan_to_num(f), 0.0, 1.0) if collector_m2 > 0 else np.zeros(12)
    useful = f * demand
    return {
        "collector_m2": float(collector_m2),
        "heat_kwh_yr": float(useful.sum()),
        "demand_kwh_yr": float(demand.sum()),
        "solar_fraction": float(useful.sum() / demand.sum()) if collector_m2 > 0 else 0.0,
        "heat_monthly_kwh": useful,
        "fraction_monthly": f,
    }
