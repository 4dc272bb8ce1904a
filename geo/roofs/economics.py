"""Economics of a rooftop PV installation for a French household (self-consumption + surplus sale).

Model (all parameters in :mod:`geo.config` section 5, dated, with sources)
---------------------------------------------------------------------------
* Hourly production (8760 h, the face's monthly production spread with its orientation's
  profile, see :mod:`geo.roofs.pv`) against an hourly household load (documented shape,
  :func:`household_load_profile`): self-consumed = Σ min(P, L), surplus = Σ max(P − L, 0).
* Installed cost = kWp × price of the kWp's size band (TTC); self-consumption premium =
  kWp × €/kWp of the band, paid at commissioning (≤ 9 kWp) or in 5 yearly parts (> 9 kWp).
* Year k = 1…N (N = contract length, 20 years): production × (1 − degradation)^(k−1); the
  self-consumption rate is kept; savings = self-consumed × retail price × (1 + escalation)^(k−1);
  surplus sold at the contract's fixed tariff; O&M = share of the cost each year.
* Payback = first time the cumulated cash flow (− cost + premium + savings + sales − O&M)
  turns positive, interpolated within the year (None beyond N years); 20-year net gain = the
  cumulated cash flow after N years (no discounting). CO₂ avoided = first-year production ×
  grid factor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo import config
from geo.errors import InvalidRequestError
from geo.roofs.pv import PROFILE_HOURS, PROFILE_YEAR, profile_months


@dataclass(frozen=True)
class Tariffs:
    """Dated economic parameters (defaults: :func:`Tariffs.default`, from config section 5)."""

    quarter: str
    surplus_eur_kwh: tuple[tuple[float, float], ...]
    premium_eur_kwp: tuple[tuple[float, float], ...]
    retail_eur_kwh: float
    retail_date: str
    installed_cost_eur_kwp: tuple[tuple[float, float], ...]
    om_share_per_year: float = config.OM_COST_SHARE_PER_YEAR
    degradation_per_year: float = config.MODULE_DEGRADATION_PER_YEAR
    retail_escalation_per_year: float = config.RETAIL_PRICE_ESCALATION_PER_YEAR
    years: int = config.ANALYSIS_YEARS
    co2_kg_kwh: float = config.GRID_CO2_KG_PER_KWH

    @classmethod
    def default(cls, quarter: str | None = None) -> Tariffs:
        """Tariffs of ``quarter`` (default :data:`geo.config.PV_TARIFF_QUARTER`) and current prices."""
        q = quarter or config.PV_TARIFF_QUARTER
        if q not in config.PV_TARIFFS:
            raise InvalidRequestError(f"unknown tariff quarter {q!r} (known: {', '.join(config.PV_TARIFFS)})")
        t = config.PV_TARIFFS[q]
        return cls(
            quarter=q,
            surplus_eur_kwh=tuple(t["surplus_eur_kwh"]),  # type: ignore[arg-type]
            premium_eur_kwp=tuple(t["premium_eur_kwp"]),  # type: ignore[arg-type]
            retail_eur_kwh=config.RETAIL_PRICES_EUR_KWH[config.RETAIL_PRICE_DATE],
            retail_date=config.RETAIL_PRICE_DATE,
            installed_cost_eur_kwp=config.INSTALLED_COST_EUR_PER_KWP,
        )

    @staticmethod
    def _band(bands: Sequence[tuple[float, float]], kwp: float, *, beyond: float | None) -> float:
        for upper, value in bands:
            if kwp <= upper + 1e-9:
                return float(value)
        return float(bands[-1][1]) if beyond is None else beyond

    def surplus_tariff(self, kwp: float) -> float:
        """Feed-in tariff of the surplus [€/kWh] for an installation of ``kwp``; 0 above 100 kWp."""
        return self._band(self.surplus_eur_kwh, kwp, beyond=0.0)

    def premium_per_kwp(self, kwp: float) -> float:
        """Self-consumption premium [€/kWp]; 0 above 100 kWp."""
        return self._band(self.premium_eur_kwp, kwp, beyond=0.0)

    def installed_cost_per_kwp(self, kwp: float) -> float:
        """Installed cost TTC [€/kWp] of the size band of ``kwp``."""
        return self._band(self.installed_cost_eur_kwp, kwp, beyond=None)


def household_load_profile(annual_kwh: float) -> np.ndarray:
    """Hourly household consumption over the canonical year [kWh], 8760 values summing to ``annual_kwh``.

    Shape: the config's hourly weights for working days and weekends (2023 calendar), times the
    monthly factor, normalised (see :data:`geo.config.LOAD_HOURLY_WEEKDAY`).
    """
    days = pd.date_range(f"{PROFILE_YEAR}-01-01", periods=365, freq="D")
    weekend = days.day_of_week.to_numpy() >= 5
    wd = np.asarray(config.LOAD_HOURLY_WEEKDAY)
    we = np.asarray(config.LOAD_HOURLY_WEEKEND)
    hourly = np.where(weekend[:, None], we[None, :], wd[None, :]).ravel()
    hourly = hourly * np.asarray(config.LOAD_MONTHLY_FACTOR)[profile_months()]
    return hourly / hourly.sum() * float(annual_kwh)


def self_consumption(production_kwh: np.ndarray, load_kwh: np.ndarray) -> tuple[float, float]:
    """Self-consumed and surplus energy [kWh] of hourly production against hourly load."""
    p, load = np.asarray(production_kwh, float), np.asarray(load_kwh, float)
    sc = float(np.minimum(p, load).sum())
    return sc, float(p.sum()) - sc


def cash_flows(
    kwp: float, production_kwh_yr: float, self_consumed_kwh_yr: float, tariffs: Tariffs,
) -> dict[str, float | None]:
    """Investment, yearly flows, payback and net gain of an installation.

    Parameters
    ----------
    kwp
        Peak power [kWp].
    production_kwh_yr
        First-year AC production [kWh/yr].
    self_consumed_kwh_yr
        First-year self-consumed part [kWh/yr].
    tariffs
        Economic parameters.

    Returns
    -------
    dict
        ``cost_eur`` (TTC), ``premium_eur``, ``savings_eur_yr`` (first-year bill saving),
        ``sales_eur_yr`` (first-year surplus sale), ``om_eur_yr``, ``benefit_eur_yr``
        (savings + sales − O&M, first year), ``payback_yr`` (None if beyond the contract),
        ``net_gain_eur`` (cumulated after ``tariffs.years``), ``co2_avoided_kg_yr``.
    """
    if kwp <= 0 or production_kwh_yr <= 0:
        return {"cost_eur": 0.0, "premium_eur": 0.0, "savings_eur_yr": 0.0, "sales_eur_yr": 0.0,
                "om_eur_yr": 0.0, "benefit_eur_yr": 0.0, "payback_yr": None, "net_gain_eur": 0.0,
                "co2_avoided_kg_yr": 0.0}
    cost = kwp * tariffs.installed_cost_per_kwp(kwp)
    premium = kwp * tariffs.premium_per_kwp(kwp)
    feed_in = tariffs.surplus_tariff(kwp)
    scr = self_consumed_kwh_yr / production_kwh_yr
    om = tariffs.om_share_per_year * cost
    n = tariffs.years
    k = np.arange(1, n + 1)
    prod = production_kwh_yr * (1.0 - tariffs.degradation_per_year) ** (k - 1)
    price = tariffs.retail_eur_kwh * (1.0 + tariffs.retail_escalation_per_year) ** (k - 1)
    flows = prod * scr * price + prod * (1.0 - scr) * feed_in - om
    prem = np.zeros(n)
    if kwp <= 9.0 + 1e-9:
        prem[0] = premium
    else:
        prem[: min(5, n)] = premium / 5.0
    flows = flows + prem
    cum = -cost + np.cumsum(flows)
    payback: float | None = None
    if cum[-1] >= 0:
        i = int(np.argmax(cum >= 0))
        before = -cost if i == 0 else cum[i - 1]
        payback = float(i + (-before) / (cum[i] - before))
    savings1 = float(prod[0] * scr * price[0])
    sales1 = float(prod[0] * (1.0 - scr) * feed_in)
    return {
        "cost_eur": float(cost), "premium_eur": float(premium), "savings_eur_yr": savings1,
        "sales_eur_yr": sales1, "om_eur_yr": float(om), "benefit_eur_yr": savings1 + sales1 - float(om),
        "payback_yr": payback, "net_gain_eur": float(cum[-1]),
        "co2_avoided_kg_yr": float(production_kwh_yr * tariffs.co2_kg_kwh),
    }


# ---------------------------------------------------------------------------
# Faces -> installation
# ---------------------------------------------------------------------------

_MONTH_COLS = [f"production_m{m:02d}_kwh" for m in range(1, 13)]


@dataclass(frozen=True)
class FaceSet:
    """The figures of some faces that the economics need, as arrays (one entry per face).

    Build it with :meth:`from_frame` from rows of the ``roof_faces`` layer.
    """

    face_id: np.ndarray  # str
    n_modules: np.ndarray  # int
    specific_yield: np.ndarray  # kWh/kWp/yr
    monthly_kwh: np.ndarray  # (n, 12) production of all the face's modules [kWh]
    profile_id: np.ndarray  # str
    suitable: np.ndarray  # bool: class is not unsuitable

    @classmethod
    def from_frame(cls, faces: pd.DataFrame) -> FaceSet:
        """From ``roof_faces`` rows (``face_id``, ``n_modules``, ``specific_yield_kwh_kwp``,
        ``profile_id``, ``production_m01_kwh`` … ``production_m12_kwh``, optional ``suitability``)."""
        missing = [c for c in ("face_id", "n_modules", "specific_yield_kwh_kwp", "profile_id", *_MONTH_COLS)
                   if c not in faces.columns]
        if missing:
            raise InvalidRequestError(f"roof faces lack column(s) {', '.join(missing)}")
        suit = (faces["suitability"] != config.SUITABILITY_UNSUITABLE).to_numpy() if "suitability" in faces.columns \
            else np.ones(len(faces), dtype=bool)
        return cls(
            faces["face_id"].astype(str).to_numpy(), faces["n_modules"].fillna(0).to_numpy(int),
            faces["specific_yield_kwh_kwp"].to_numpy(float), np.nan_to_num(faces[_MONTH_COLS].to_numpy(float)),
            faces["profile_id"].astype(str).to_numpy(), suit,
        )

    def take(self, idx: np.ndarray) -> FaceSet:
        """The faces at positions (or boolean mask) ``idx``."""
        return FaceSet(self.face_id[idx], self.n_modules[idx], self.specific_yield[idx], self.monthly_kwh[idx],
                       self.profile_id[idx], self.suitable[idx])

    def __len__(self) -> int:
        return int(self.face_id.size)


def face_hourly_kwh(faces: FaceSet | pd.DataFrame, profiles: Mapping[str, np.ndarray]) -> np.ndarray:
    """Hourly production of each face over the canonical year [kWh], shape (n_faces, 8760).

    Each face's monthly production (``production_mMM_kwh``) is spread over its month with the
    profile of its orientation bin (``profile_id``).
    """
    fs = faces if isinstance(faces, FaceSet) else FaceSet.from_frame(faces)
    months = profile_months()
    out = np.zeros((len(fs), PROFILE_HOURS))
    for i, pid in enumerate(fs.profile_id):
        if pid not in profiles:
            raise InvalidRequestError(f"no hourly profile {pid!r} for face {fs.face_id[i]}")
        out[i] = profiles[pid] * fs.monthly_kwh[i, months]
    return out


def _allocation(faces: FaceSet, n_modules: int) -> np.ndarray:
    """Modules taken on each face, best specific yield first."""
    order = np.argsort(-np.nan_to_num(faces.specific_yield, nan=-1.0), kind="stable")
    take = np.zeros(len(faces), dtype=int)
    left = n_modules
    for i in order:
        t = min(int(faces.n_modules[i]), left)
        take[i] = t
        left -= t
        if left <= 0:
            break
    return take


def _install(
    faces: FaceSet, hourly: np.ndarray, take: np.ndarray, load: np.ndarray, tariffs: Tariffs,
) -> dict[str, float | None]:
    n_total = faces.n_modules.astype(float)
    frac = np.divide(take, n_total, out=np.zeros(len(take)), where=n_total > 0)
    prod_h = frac @ hourly
    production = float(prod_h.sum())
    kwp = float(take.sum()) * config.MODULE_PEAK_POWER_WP / 1000.0
    sc, surplus = self_consumption(prod_h, load)
    out: dict[str, float | None] = {
        "kwp": kwp, "n_modules": float(take.sum()), "production_kwh_yr": production,
        "self_consumed_kwh_yr": sc, "surplus_kwh_yr": surplus,
        "self_consumption_rate": sc / production if production > 0 else 0.0,
        "self_sufficiency_rate": sc / float(load.sum()) if load.sum() > 0 else 0.0,
    }
    out.update(cash_flows(kwp, production, sc, tariffs))
    return out


def simulate(
    building_faces: pd.DataFrame | FaceSet,
    *,
    annual_consumption_kwh: float,
    profiles: Mapping[str, np.ndarray],
    kwp: float | None = None,
    face_ids: Sequence[str] | None = None,
    tariffs: Tariffs | None = None,
) -> dict[str, object]:
    """Economics of a PV installation on some faces of a building (what ``POST /api/simulate`` returns).

    Parameters
    ----------
    building_faces
        The building's rows of the ``roof_faces`` layer (needs ``face_id``, ``n_modules``,
        ``specific_yield_kwh_kwp``, ``profile_id``, ``production_m01_kwh`` … ``production_m12_kwh``).
    annual_consumption_kwh
        Household electricity use [kWh/yr] (> 0).
    profiles
        Hourly profiles by ``profile_id`` (the ``pv_profiles`` layer, read with
        :func:`geo.products.rooftops.read_pv_profiles`).
    kwp
        Peak power wanted [kWp]; rounded down to whole modules and capped by what fits on the
        chosen faces. Default: the recommended size (:func:`recommend`).
    face_ids
        Faces to use (default: the building's suitable faces — those :func:`recommend` uses —
        or all its faces when none is suitable; modules go on the best faces first).
    tariffs
        Economic parameters (default :meth:`Tariffs.default`).

    Returns
    -------
    dict
        ``kwp``, ``n_modules``, ``production_kwh_yr``, ``self_consumed_kwh_yr``, ``surplus_kwh_yr``,
        ``self_consumption_rate`` (0-1), ``self_sufficiency_rate`` (0-1), ``cost_eur``,
        ``premium_eur``, ``savings_eur_yr``, ``sales_eur_yr``, ``om_eur_yr``, ``benefit_eur_yr``,
        ``payback_yr`` (None beyond the contract), ``net_gain_eur`` (over ``years``),
        ``co2_avoided_kg_yr``, ``faces`` ({face_id: modules used}), ``tariff_quarter``,
        ``retail_price_eur_kwh``, ``surplus_tariff_eur_kwh``, ``years``, ``capped`` (bool: the
        wanted kWp did not fit).
    """
    tariffs = tariffs or Tariffs.default()
    if not (annual_consumption_kwh > 0 and math.isfinite(annual_consumption_kwh)):
        raise InvalidRequestError("annual_consumption_kwh must be a positive number")
    faces = building_faces if isinstance(building_faces, FaceSet) else FaceSet.from_frame(building_faces)
    if face_ids is not None:
        known = set(faces.face_id.tolist())
        unknown = [f for f in face_ids if f not in known]
        if unknown:
            raise InvalidRequestError(f"unknown face(s) for this building: {', '.join(unknown)}")
        faces = faces.take(np.isin(faces.face_id, list(face_ids)))
    elif faces.suitable.any():
        # Same faces as the stored recommendation: never put modules on an unsuitable face
        # unless the user chose it.
        faces = faces.take(faces.suitable)
    if len(faces) == 0 or int(faces.n_modules.sum()) == 0:
        raise InvalidRequestError("no module fits on the chosen roof faces")
    load = household_load_profile(annual_consumption_kwh)
    hourly = face_hourly_kwh(faces, profiles)
    capacity = int(faces.n_modules.sum())
    capped = False
    if kwp is None:
        reco = recommend(faces, hourly=hourly, load=load, tariffs=tariffs)
        n = int(reco["n_modules"] or 0) or min(capacity, config.SUITABLE_MIN_MODULES)
    else:
        if not (kwp > 0 and math.isfinite(kwp)):
            raise InvalidRequestError("kwp must be a positive number")
        n = int(math.floor(kwp * 1000.0 / config.MODULE_PEAK_POWER_WP + 1e-9))
        if n < 1:
            raise InvalidRequestError(f"kwp must be at least one module ({config.MODULE_PEAK_POWER_WP / 1000:g} kWp)")
        if n > capacity:
            n, capped = capacity, True
    take = _allocation(faces, n)
    out: dict[str, object] = dict(_install(faces, hourly, take, load, tariffs))
    out["faces"] = {str(f): int(t) for f, t in zip(faces.face_id, take, strict=True) if t > 0}
    out["capped"] = capped
    out["tariff_quarter"] = tariffs.quarter
    out["retail_price_eur_kwh"] = tariffs.retail_eur_kwh
    out["surplus_tariff_eur_kwh"] = tariffs.surplus_tariff(float(out["kwp"]))  # type: ignore[arg-type]
    out["years"] = tariffs.years
    return out


def recommend(
    faces: pd.DataFrame | FaceSet,
    *,
    hourly: np.ndarray,
    load: np.ndarray,
    tariffs: Tariffs,
    kwp_min: float = config.RECO_KWP_MIN,
    kwp_max: float = config.RECO_KWP_MAX,
) -> dict[str, float | None]:
    """Household installation with the best 20-year net gain between ``kwp_min`` and ``kwp_max``.

    Only faces whose class is not unsuitable are used. Sizes go by whole modules, best faces
    first. When less than ``kwp_min`` fits, the whole suitable roof is the recommendation if it
    holds at least :data:`geo.config.SUITABLE_MIN_MODULES` modules; otherwise nothing (``kwp`` = 0).
    ``hourly`` is :func:`face_hourly_kwh` of ``faces``; ``load`` the household's hourly load [kWh].
    """
    fs = faces if isinstance(faces, FaceSet) else FaceSet.from_frame(faces)
    ok = fs.suitable
    sub = fs.take(ok)
    sub_h = hourly[ok]
    capacity = int(sub.n_modules.sum()) if len(sub) else 0
    wp = config.MODULE_PEAK_POWER_WP / 1000.0
    n_lo = int(math.ceil(kwp_min / wp - 1e-9))
    n_hi = int(math.floor(kwp_max / wp + 1e-9))
    if capacity < config.SUITABLE_MIN_MODULES:
        return _install(fs, hourly, np.zeros(len(fs), dtype=int), load, tariffs)
    best: dict[str, float | None] | None = None
    best_take = np.zeros(len(sub), dtype=int)
    for n in range(min(n_lo, capacity), min(n_hi, capacity) + 1):
        take = _allocation(sub, n)
        r = _install(sub, sub_h, take, load, tariffs)
        if best is None or float(r["net_gain_eur"] or 0) > float(best["net_gain_eur"] or 0) + 1e-6:
            best, best_take = r, take
    full = np.zeros(len(fs), dtype=int)
    full[np.flatnonzero(ok)] = best_take
    return _install(fs, hourly, full, load, tariffs)
