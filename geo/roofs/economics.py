"""Economics of a rooftop PV installation over the panels' life, for a household, a company or a public owner.

Model (parameters in :mod:`geo.config` section 5, dated, with sources; docs/economics.md)
-----------------------------------------------------------------------------------------
* Hourly production (8760 h, each face's monthly production spread with its orientation's profile,
  :mod:`geo.roofs.pv`) against an hourly load of a stated profile (:mod:`geo.roofs.loads`), with an
  optional energy-management system (EMS / hot-water diverter) and battery: self-consumed, exported.
* Investment: PV installed cost before VAT = fixed + per-kWp part (continuous, :func:`installed_cost_ht`),
  plus VAT at the owner's rate (:func:`vat_rate`: 5.5 % ≤ 9 kWp under conditions, 20 %, or recovered by a
  company), or the price the user gives; a battery at 20 % VAT.
* Year k = 1…N (N = analysis years, default 25, 20-30): production × (1 − degradation)^(k−1), the
  self-consumption rate kept; savings = self-consumed × retail price × (1 + escalation)^(k−1); surplus
  sold at the contract tariff for 20 years, then at :data:`geo.config.PV_POST_CONTRACT_SURPLUS_EUR_KWH`;
  self-consumption premium in year 1; O&M each year; inverter replacement in year
  :data:`geo.config.INVERTER_LIFE_YEARS` + 1; battery replacement after its life.
* Payback = first time the cumulated cash flow turns positive, interpolated within the year (None =
  "plus de N ans"); net gain = cumulated cash flow after N years (not discounted); NPV at
  :data:`geo.config.DISCOUNT_RATE`; a sensitivity band (yield ±10 %, escalation 0-3 %, cost ±15 %).
* CO₂: gross avoided = production × grid factor (method named), net = minus the panels' footprint.

:func:`simulate` returns a frozen :class:`Simulation` (with the monthly production); the API and the report
render it and never recompute.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from geo import config
from geo.errors import InvalidRequestError, NotFoundError
from geo.roofs.loads import cover, load_profile, profile_label
from geo.roofs.pv import PROFILE_HOURS, profile_months

OWNERS = ("menage", "entreprise", "collectivite")
OWNER_LABELS = {"menage": "un foyer", "entreprise": "une entreprise", "collectivite": "une collectivité"}
VAT_REGIMES = ("auto", "reduit", "normal", "recuperable")


# ---------------------------------------------------------------------------
# Dated tariffs
# ---------------------------------------------------------------------------


def quarter_of(day: dt.date) -> str:
    """Calendar quarter ``YYYY-Qn`` of a date (tariff quarters are calendar quarters since April 2025)."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def quarter_index(quarter: str) -> int:
    """Quarters since year 0 (``2026-Q1`` → 8104), to compare quarters."""
    year, q = quarter.split("-Q")
    return int(year) * 4 + int(q) - 1


def tariff_quarter_for(request_date: dt.date | None) -> tuple[str, bool]:
    """(quarter of the tariff table, is it the request's own quarter) for a grid-connection request date.

    The tariff is that of the quarter of the complete grid-connection request. A date after the latest
    quarter in :data:`geo.config.PV_TARIFFS` gets the latest one (flag False: not yet verified); a date
    before the first known quarter is refused.
    """
    if request_date is None:
        return config.PV_TARIFF_QUARTER, True
    q = quarter_of(request_date)
    if q in config.PV_TARIFFS:
        return q, True
    known = sorted(config.PV_TARIFFS, key=quarter_index)
    if quarter_index(q) > quarter_index(known[-1]):
        return known[-1], False
    raise InvalidRequestError(f"no tariff before {known[0]} in the table (request date {request_date})")


@dataclass(frozen=True)
class Tariffs:
    """Dated support tariffs and retail price (defaults: :meth:`default`, from config section 5)."""

    quarter: str
    surplus_eur_kwh: tuple[tuple[float, float], ...]
    premium_eur_kwp: tuple[tuple[float, float], ...]
    retail_eur_kwh: float
    retail_date: str
    valid_from: str = ""
    valid_to: str = ""
    source: str = ""
    verified_quarter: bool = True

    @classmethod
    def default(cls, quarter: str | None = None, *, verified_quarter: bool = True) -> Tariffs:
        """Tariffs of ``quarter`` (default :data:`geo.config.PV_TARIFF_QUARTER`) and the current TRVE Base."""
        q = quarter or config.PV_TARIFF_QUARTER
        if q not in config.PV_TARIFFS:
            raise InvalidRequestError(f"unknown tariff quarter {q!r} (known: {', '.join(config.PV_TARIFFS)})")
        t = config.PV_TARIFFS[q]
        return cls(
            quarter=q,
            surplus_eur_kwh=tuple(t["surplus_eur_kwh"]),  # type: ignore[arg-type]
            premium_eur_kwp=tuple(t["premium_eur_kwp"]),  # type: ignore[arg-type]
            retail_eur_kwh=config.RETAIL_PRICES_EUR_KWH[config.RETAIL_PRICE_DATE]["base"],
            retail_date=config.RETAIL_PRICE_DATE, valid_from=str(t["valid_from"]), valid_to=str(t["valid_to"]),
            source=str(t["source"]), verified_quarter=verified_quarter,
        )

    @classmethod
    def for_request_date(cls, request_date: dt.date | None) -> Tariffs:
        """Tariffs of the quarter of a grid-connection request (:func:`tariff_quarter_for`)."""
        q, own = tariff_quarter_for(request_date)
        return cls.default(q, verified_quarter=own)

    @staticmethod
    def _band(bands: Sequence[tuple[float, float]], kwp: float) -> float | None:
        for upper, value in bands:
            if kwp <= upper + 1e-9:
                return float(value)
        return None

    def surplus_tariff(self, kwp: float) -> float:
        """Price of the surplus [€/kWh] for an installation of ``kwp``: the obligation d'achat tariff up to
        100 kWp, beyond it the indicative tender value (:data:`geo.config.PV_TENDER_INDICATIVE_EUR_KWH`)."""
        v = self._band(self.surplus_eur_kwh, kwp)
        return config.PV_TENDER_INDICATIVE_EUR_KWH if v is None else v

    def premium_per_kwp(self, kwp: float) -> float:
        """Self-consumption premium [€/kWp]; 0 above 100 kWp."""
        v = self._band(self.premium_eur_kwp, kwp)
        return 0.0 if v is None else v

    def regime(self, kwp: float) -> str:
        """The support regime of an installation of ``kwp`` (French)."""
        if kwp <= config.VAT_REDUCED_MAX_KWP + 1e-9:
            return "obligation d'achat du surplus (≤ 9 kWc) et prime à l'autoconsommation"
        if kwp <= config.PV_OPEN_WINDOW_MAX_KWP + 1e-9:
            band = "9 à 36 kWc" if kwp <= 36 + 1e-9 else "36 à 100 kWc"
            return f"obligation d'achat du surplus et prime à l'autoconsommation ({band})"
        if kwp <= config.PV_SIMPLIFIED_TENDER_MAX_KWP + 1e-9:
            return ("appel d'offres simplifié (100 à 500 kWc, depuis le 22 septembre 2025) : pas de tarif "
                    "garanti, surplus compté à titre indicatif")
        return "appel d'offres de la CRE (plus de 500 kWc) : pas de tarif garanti, surplus compté à titre indicatif"


# ---------------------------------------------------------------------------
# Options a user can tune, costs and VAT
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    """What the owner and the adviser can change (defaults from config; validated by :meth:`checked`)."""

    annual_consumption_kwh: float = config.HOUSEHOLD_CONSUMPTION_KWH_YR
    load_profile: str = config.DEFAULT_LOAD_PROFILE
    owner: str = "menage"
    vat: str = "auto"
    installed_cost_eur: float | None = None  # price of the PV system as paid (TTC, or HT if VAT recovered)
    analysis_years: int = config.ANALYSIS_YEARS
    escalation: float = config.RETAIL_PRICE_ESCALATION_PER_YEAR
    discount_rate: float = config.DISCOUNT_RATE
    ems: bool = False
    battery_kwh: float = 0.0
    loan_rate: float = config.LOAN_RATE
    loan_years: int = config.LOAN_YEARS

    def checked(self) -> Options:
        """Self, or :class:`InvalidRequestError` naming the first bad value."""
        lo, hi = config.ANALYSIS_YEARS_RANGE
        checks = [
            (math.isfinite(self.annual_consumption_kwh) and self.annual_consumption_kwh > 0,
             "annual_consumption_kwh must be a positive number"),
            (self.owner in OWNERS, f"owner must be one of {', '.join(OWNERS)}"),
            (self.vat in VAT_REGIMES, f"vat must be one of {', '.join(VAT_REGIMES)}"),
            (self.installed_cost_eur is None or (math.isfinite(self.installed_cost_eur) and self.installed_cost_eur > 0),
             "installed_cost_eur must be a positive number"),
            (lo <= self.analysis_years <= hi, f"analysis_years must be between {lo} and {hi}"),
            (math.isfinite(self.escalation) and -0.05 <= self.escalation <= 0.10, "escalation must be in [-0.05, 0.10]"),
            (math.isfinite(self.discount_rate) and 0 <= self.discount_rate <= 0.15, "discount_rate must be in [0, 0.15]"),
            (math.isfinite(self.battery_kwh) and 0 <= self.battery_kwh <= 5000, "battery_kwh must be in [0, 5000]"),
            (math.isfinite(self.loan_rate) and 0 <= self.loan_rate <= 0.2, "loan_rate must be in [0, 0.2]"),
            (0 <= self.loan_years <= 25, "loan_years must be in [0, 25]"),
        ]
        for ok, message in checks:
            if not ok:
                raise InvalidRequestError(message)
        profile_label(self.load_profile)  # raises on an unknown profile
        return self


def installed_cost_ht(kwp: float) -> float:
    """Installed cost of a PV system before VAT [€]: fixed part + per-kWp parts by band (continuous in kWp)."""
    if kwp <= 0:
        return 0.0
    cost, lower = config.INSTALLED_COST_FIXED_EUR_HT, 0.0
    for upper, eur in config.INSTALLED_COST_EUR_PER_KWP_HT:
        cost += (min(kwp, upper) - lower) * eur
        if kwp <= upper:
            break
        lower = upper
    return float(cost)


def vat_rate(kwp: float, options: Options) -> float:
    """VAT the owner pays on the PV system (0 when a company recovers it).

    ``auto``: a household pays 5.5 % up to 9 kWp (conditions :data:`geo.config.VAT_REDUCED_CONDITIONS`
    assumed met) and 20 % above; a company recovers VAT; a public owner pays 20 %. ``reduit`` is 5.5 % only
    where it can apply (≤ 9 kWp), else 20 %.
    """
    if options.vat == "recuperable" or (options.vat == "auto" and options.owner == "entreprise"):
        return 0.0
    if options.vat == "normal":
        return config.VAT_NORMAL_RATE
    reduced_ok = kwp <= config.VAT_REDUCED_MAX_KWP + 1e-9 and (options.vat == "reduit" or options.owner == "menage")
    return config.VAT_REDUCED_RATE if reduced_ok else config.VAT_NORMAL_RATE


def _vat_recovered(options: Options) -> bool:
    return options.vat == "recuperable" or (options.vat == "auto" and options.owner == "entreprise")


# ---------------------------------------------------------------------------
# Year-by-year cash flow
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CashFlow:
    """Year-by-year figures (index 0 = year 1) and their summary; money in €, energy in kWh."""

    upfront_eur: float  # PV + battery paid at the start (after VAT, or before VAT if recovered)
    production_kwh: tuple[float, ...]
    savings_eur: tuple[float, ...]
    sales_eur: tuple[float, ...]
    premium_eur: tuple[float, ...]
    om_eur: tuple[float, ...]
    replacements_eur: tuple[float, ...]  # inverter, battery
    net_eur: tuple[float, ...]
    cumulative_eur: tuple[float, ...]
    payback_yr: float | None
    net_gain_eur: float
    npv_eur: float


@lru_cache(maxsize=64)
def _year_factors(n: int, escalation: float, discount_rate: float) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                              np.ndarray]:
    """Per-year factors of an analysis of ``n`` years (cached: every installation of a build shares them):
    year numbers k = 1…n, degradation (1 − d)^(k−1), price escalation (1 + e)^(k−1), discounting (1 + r)^k."""
    k = np.arange(1, n + 1)
    fade = (1.0 - config.MODULE_DEGRADATION_PER_YEAR) ** (k - 1)
    esc = (1.0 + escalation) ** (k - 1)
    disc = (1.0 + discount_rate) ** k
    for a in (k, fade, esc, disc):
        a.flags.writeable = False
    return k, fade, esc, disc


def _cash_flow_arrays(
    *, kwp: float, production_kwh_yr: float, self_consumed_kwh_yr: float, exported_kwh_yr: float,
    tariffs: Tariffs, options: Options, pv_cost_eur: float, battery_cost_eur: float = 0.0,
    yield_factor: float = 1.0, escalation: float | None = None,
) -> tuple[float, dict[str, np.ndarray]]:
    """(upfront [€], year-by-year arrays) of :func:`cash_flow`: ``production``, ``savings``, ``sales``,
    ``premium``, ``om``, ``replacements``, ``net``, ``cumulative`` (index 0 = year 1; € and kWh)."""
    n = options.analysis_years
    esc = options.escalation if escalation is None else escalation
    k, fade, esc_k, _ = _year_factors(n, esc, options.discount_rate)
    prod = production_kwh_yr * yield_factor * fade
    scr = self_consumed_kwh_yr / production_kwh_yr if production_kwh_yr > 0 else 0.0
    xr = exported_kwh_yr / production_kwh_yr if production_kwh_yr > 0 else 0.0
    recovered = _vat_recovered(options)
    retail = tariffs.retail_eur_kwh / (1.0 + config.VAT_ON_ELECTRICITY) if recovered else tariffs.retail_eur_kwh
    savings = prod * scr * retail * esc_k
    feed = np.where(k <= config.PV_CONTRACT_YEARS, tariffs.surplus_tariff(kwp), config.PV_POST_CONTRACT_SURPLUS_EUR_KWH)
    sales = prod * xr * feed
    premium = np.where(k == 1, kwp * tariffs.premium_per_kwp(kwp), 0.0) if kwp > 0 else np.zeros(n)
    om = np.full(n, config.OM_COST_SHARE_PER_YEAR * pv_cost_eur)
    vat_normal = 0.0 if recovered else config.VAT_NORMAL_RATE
    repl = np.zeros(n)
    if kwp > 0 and config.INVERTER_LIFE_YEARS < n:
        repl[config.INVERTER_LIFE_YEARS] += (config.INVERTER_COST_FIXED_EUR_HT
                                             + config.INVERTER_COST_EUR_PER_KWP_HT * kwp) * (1.0 + vat_normal)
    if battery_cost_eur > 0 and config.BATTERY_LIFE_YEARS < n:
        repl[config.BATTERY_LIFE_YEARS] += battery_cost_eur
    net = savings + sales + premium - om - repl
    upfront = pv_cost_eur + battery_cost_eur
    cum = -upfront + np.cumsum(net)
    return upfront, dict(production=prod, savings=savings, sales=sales, premium=premium, om=om, replacements=repl,
                         net=net, cumulative=cum)


def _payback(cum: np.ndarray, upfront: float) -> float | None:
    """First time the cumulated cash flow ``cum`` (after paying ``upfront``) turns positive [years],
    interpolated within the year; None if never within the analysis."""
    if upfront <= 0:
        return 0.0
    reached = np.flatnonzero(cum >= 0)
    if not reached.size:
        return None
    i = int(reached[0])
    before = -upfront if i == 0 else float(cum[i - 1])
    return float(i + (-before) / (float(cum[i]) - before))


def cash_flow(
    *, kwp: float, production_kwh_yr: float, self_consumed_kwh_yr: float, exported_kwh_yr: float,
    tariffs: Tariffs, options: Options, pv_cost_eur: float, battery_cost_eur: float = 0.0,
    yield_factor: float = 1.0, escalation: float | None = None,
) -> CashFlow:
    """The year-by-year cash flow of an installation (see the module docstring for the model).

    ``pv_cost_eur`` and ``battery_cost_eur`` are what the owner pays at the start; ``yield_factor`` and
    ``escalation`` override the production and price escalation for the sensitivity band.
    """
    upfront, a = _cash_flow_arrays(
        kwp=kwp, production_kwh_yr=production_kwh_yr, self_consumed_kwh_yr=self_consumed_kwh_yr,
        exported_kwh_yr=exported_kwh_yr, tariffs=tariffs, options=options, pv_cost_eur=pv_cost_eur,
        battery_cost_eur=battery_cost_eur, yield_factor=yield_factor, escalation=escalation)
    cum = a["cumulative"]
    payback = _payback(cum, upfront)
    disc = _year_factors(options.analysis_years, options.escalation if escalation is None else escalation,
                         options.discount_rate)[3]
    npv = -upfront + float((a["net"] / disc).sum())

    def t(v: np.ndarray) -> tuple[float, ...]:
        return tuple(v.tolist())  # Python floats, as float(v) of each element

    return CashFlow(
        upfront_eur=float(upfront), production_kwh=t(a["production"]), savings_eur=t(a["savings"]),
        sales_eur=t(a["sales"]), premium_eur=t(a["premium"]), om_eur=t(a["om"]), replacements_eur=t(a["replacements"]),
        net_eur=t(a["net"]), cumulative_eur=t(cum), payback_yr=payback, net_gain_eur=float(cum[-1]), npv_eur=npv,
    )


def payback_text(payback_yr: float | None, years: int) -> str:
    """French wording of a payback: ``rentabilisé en 19 ans`` or ``pas rentabilisé en 25 ans``."""
    if payback_yr is None:
        return f"pas rentabilisé en {years} ans (plus de {years} ans)"
    n = max(1, int(round(payback_yr)))
    return f"rentabilisé en {n} an{'s' if n > 1 else ''}"


def verdict(net_gain_eur: float, upfront_eur: float) -> str:
    """``rentable``, ``marginal`` (gain > 0 but below :data:`geo.config.MARGINAL_GAIN_SHARE` of the
    investment) or ``non rentable`` over the analysis."""
    if net_gain_eur <= 0:
        return "non rentable"
    return "marginal" if net_gain_eur < config.MARGINAL_GAIN_SHARE * upfront_eur else "rentable"


# ---------------------------------------------------------------------------
# The typed result
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Loan:
    """A loan of the whole investment (monthly annuity)."""

    rate: float
    years: int
    monthly_payment_eur: float
    interest_eur: float
    net_gain_after_interest_eur: float
    first_year_monthly_effort_eur: float  # payment minus the first year's benefit / 12


@dataclass(frozen=True)
class Sensitivity:
    """Pessimistic and optimistic bounds: yield −/+10 %, escalation 0/3 %, cost +/−15 % together."""

    payback_low_yr: float | None
    payback_high_yr: float | None
    net_gain_low_eur: float
    net_gain_high_eur: float


@dataclass(frozen=True)
class Simulation:
    """Economics of one installation: what ``POST /api/simulate``, the report and the panel show.

    Energy in kWh (per year: first year), money in € (after VAT unless ``vat_rate`` is 0 = recovered),
    rates 0-1. ``monthly_production_kwh`` sums to ``production_kwh_yr``.
    """

    owner: str
    load_profile: str
    load_profile_label: str
    annual_consumption_kwh: float
    ems: bool
    battery_kwh: float
    kwp: float
    n_modules: int
    faces: tuple[tuple[str, int], ...]
    capped: bool
    production_kwh_yr: float
    monthly_production_kwh: tuple[float, ...]
    self_consumed_kwh_yr: float
    surplus_kwh_yr: float
    battery_discharged_kwh_yr: float
    battery_losses_kwh_yr: float
    self_consumption_rate: float
    self_sufficiency_rate: float
    vat_regime: str
    vat_rate: float
    cost_ht_eur: float
    vat_eur: float
    cost_eur: float  # PV system as paid
    battery_cost_eur: float
    investment_eur: float  # cost_eur + battery_cost_eur
    premium_eur: float
    savings_eur_yr: float
    sales_eur_yr: float
    om_eur_yr: float
    benefit_eur_yr: float
    inverter_replacement_eur: float
    inverter_replacement_year: int | None
    analysis_years: int
    contract_years: int
    payback_yr: float | None
    payback_text: str
    net_gain_eur: float
    npv_eur: float
    discount_rate: float
    verdict: str
    sensitivity: Sensitivity
    loan: Loan | None
    escalation: float
    tariff_quarter: str
    tariff_quarter_verified: bool
    surplus_tariff_eur_kwh: float
    post_contract_surplus_eur_kwh: float
    premium_eur_kwp: float
    retail_price_eur_kwh: float
    retail_price_date: str
    regime: str
    co2_avoided_kg_yr: float
    co2_net_kg_yr: float
    co2_method: str
    cash_flow: CashFlow = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures (``faces`` as {face_id: modules}, nested records as objects)."""
        d = asdict(self)
        d["faces"] = {f: n for f, n in self.faces}
        d["monthly_production_kwh"] = list(self.monthly_production_kwh)
        return d


def _loan(options: Options, investment: float, net_gain: float, first_benefit: float) -> Loan | None:
    if options.loan_years <= 0 or investment <= 0:
        return None
    m, n = options.loan_rate / 12.0, options.loan_years * 12
    monthly = investment / n if m == 0 else investment * m / (1.0 - (1.0 + m) ** -n)
    interest = monthly * n - investment
    return Loan(rate=options.loan_rate, years=options.loan_years, monthly_payment_eur=float(monthly),
                interest_eur=float(interest), net_gain_after_interest_eur=float(net_gain - interest),
                first_year_monthly_effort_eur=float(monthly - first_benefit / 12.0))


def economics(
    *, kwp: float, n_modules: int, prod_h: np.ndarray, load: np.ndarray, tariffs: Tariffs, options: Options,
    faces: tuple[tuple[str, int], ...] = (), capped: bool = False,
) -> Simulation:
    """The full :class:`Simulation` of an installation of ``kwp`` producing ``prod_h`` (8760 values [kWh])."""
    production = float(prod_h.sum())
    monthly = np.bincount(profile_months(), weights=prod_h, minlength=12)
    cv = cover(prod_h, load, ems=options.ems, battery_kwh=options.battery_kwh)
    rate = vat_rate(kwp, options)
    if options.installed_cost_eur is not None:
        cost = float(options.installed_cost_eur)
        cost_ht = cost / (1.0 + rate)
    else:
        cost_ht = installed_cost_ht(kwp)
        cost = cost_ht * (1.0 + rate)
    battery_cost = options.battery_kwh * config.BATTERY_COST_EUR_PER_KWH_TTC
    if _vat_recovered(options):
        battery_cost /= 1.0 + config.VAT_NORMAL_RATE
    common = dict(kwp=kwp, production_kwh_yr=production, self_consumed_kwh_yr=cv.self_consumed_kwh,
                  exported_kwh_yr=cv.exported_kwh, tariffs=tariffs, options=options)
    cf = cash_flow(pv_cost_eur=cost, battery_cost_eur=battery_cost, **common)  # type: ignore[arg-type]
    lo_esc, hi_esc = config.SENSITIVITY_ESCALATION
    # the band needs only paybacks and net gains: the arrays, not the year-by-year tuples
    low_up, low = _cash_flow_arrays(pv_cost_eur=cost * (1 + config.SENSITIVITY_COST), battery_cost_eur=battery_cost,
                                    yield_factor=1 - config.SENSITIVITY_YIELD, escalation=lo_esc,
                                    **common)  # type: ignore[arg-type]
    high_up, high = _cash_flow_arrays(pv_cost_eur=cost * (1 - config.SENSITIVITY_COST), battery_cost_eur=battery_cost,
                                      yield_factor=1 + config.SENSITIVITY_YIELD, escalation=hi_esc,
                                      **common)  # type: ignore[arg-type]
    sensitivity = Sensitivity(_payback(low["cumulative"], low_up), _payback(high["cumulative"], high_up),
                              float(low["cumulative"][-1]), float(high["cumulative"][-1]))
    n = options.analysis_years
    inv_year = config.INVERTER_LIFE_YEARS + 1 if config.INVERTER_LIFE_YEARS < n and kwp > 0 else None
    savings1, sales1, om1 = cf.savings_eur[0], cf.sales_eur[0], cf.om_eur[0]
    load_total = float(load.sum())
    return Simulation(
        owner=options.owner, load_profile=options.load_profile, load_profile_label=profile_label(options.load_profile),
        annual_consumption_kwh=float(options.annual_consumption_kwh), ems=options.ems,
        battery_kwh=float(options.battery_kwh), kwp=float(kwp), n_modules=int(n_modules), faces=faces, capped=capped,
        production_kwh_yr=production, monthly_production_kwh=tuple(float(v) for v in monthly),
        self_consumed_kwh_yr=cv.self_consumed_kwh, surplus_kwh_yr=cv.exported_kwh,
        battery_discharged_kwh_yr=cv.battery_discharged_kwh, battery_losses_kwh_yr=cv.battery_losses_kwh,
        self_consumption_rate=cv.self_consumed_kwh / production if production > 0 else 0.0,
        self_sufficiency_rate=cv.self_consumed_kwh / load_total if load_total > 0 else 0.0,
        vat_regime=options.vat, vat_rate=rate, cost_ht_eur=float(cost_ht), vat_eur=float(cost - cost_ht),
        cost_eur=float(cost), battery_cost_eur=float(battery_cost), investment_eur=cf.upfront_eur,
        premium_eur=cf.premium_eur[0], savings_eur_yr=savings1, sales_eur_yr=sales1, om_eur_yr=om1,
        benefit_eur_yr=savings1 + sales1 - om1,
        inverter_replacement_eur=float(cf.replacements_eur[inv_year - 1]) if inv_year else 0.0,
        inverter_replacement_year=inv_year, analysis_years=n, contract_years=config.PV_CONTRACT_YEARS,
        payback_yr=cf.payback_yr, payback_text=payback_text(cf.payback_yr, n), net_gain_eur=cf.net_gain_eur,
        npv_eur=cf.npv_eur, discount_rate=options.discount_rate, verdict=verdict(cf.net_gain_eur, cf.upfront_eur),
        sensitivity=sensitivity,
        loan=_loan(options, cf.upfront_eur, cf.net_gain_eur, savings1 + sales1 - om1 + cf.premium_eur[0]),
        escalation=options.escalation, tariff_quarter=tariffs.quarter, tariff_quarter_verified=tariffs.verified_quarter,
        surplus_tariff_eur_kwh=tariffs.surplus_tariff(kwp),
        post_contract_surplus_eur_kwh=config.PV_POST_CONTRACT_SURPLUS_EUR_KWH,
        premium_eur_kwp=tariffs.premium_per_kwp(kwp), retail_price_eur_kwh=tariffs.retail_eur_kwh,
        retail_price_date=tariffs.retail_date, regime=tariffs.regime(kwp),
        co2_avoided_kg_yr=production * config.GRID_CO2_KG_PER_KWH,
        co2_net_kg_yr=production * (config.GRID_CO2_KG_PER_KWH - config.PV_FOOTPRINT_KG_PER_KWH),
        co2_method=config.GRID_CO2_METHOD, cash_flow=cf,
    )


def owner_of(usage_1: object, flat_suitable_m2: float = 0.0) -> str:
    """Owner kind of a building: from its BD TOPO ``usage_1`` (:data:`geo.config.NON_RESIDENTIAL_USAGES`),
    else ``entreprise`` when its suitable flat roofs exceed :data:`geo.config.NON_RESIDENTIAL_FLAT_ROOF_M2`,
    else ``menage``."""
    kind = config.NON_RESIDENTIAL_USAGES.get(str(usage_1)) if isinstance(usage_1, str) else None
    if kind:
        return kind
    return "entreprise" if flat_suitable_m2 > config.NON_RESIDENTIAL_FLAT_ROOF_M2 else "menage"


def default_options(owner: str, *, consumption_kwh: float | None = None) -> Options:
    """Default :class:`Options` of an owner kind (household: the average household; others: their profile)."""
    if owner == "menage":
        return Options(annual_consumption_kwh=consumption_kwh or config.HOUSEHOLD_CONSUMPTION_KWH_YR)
    return Options(owner=owner, load_profile=config.NON_RESIDENTIAL_DEFAULT_PROFILE[owner],
                   annual_consumption_kwh=consumption_kwh or config.HOUSEHOLD_CONSUMPTION_KWH_YR)


def assumptions(tariffs: Tariffs | None = None) -> list[dict[str, str]]:
    """The assumptions behind every figure, in French, each with its source (printed by the report and panel)."""
    t = tariffs or Tariffs.default()
    prices = config.RETAIL_PRICES_EUR_KWH[config.RETAIL_PRICE_DATE]
    fr = _fr
    surplus = " ; ".join(f"{fr(v, 4)} €/kWh jusqu'à {fr(b)} kWc" for b, v in t.surplus_eur_kwh)
    premium = " ; ".join(f"{fr(v)} €/kWc jusqu'à {fr(b)} kWc" for b, v in t.premium_eur_kwp)
    return [
        {"label": "Tarifs d'achat du surplus et prime", "value": (
            f"{t.quarter} (raccordement demandé du {_date_fr(t.valid_from)} au {_date_fr(t.valid_to)}) : surplus "
            f"{surplus}, {config.PV_CONTRACT_YEARS} ans, puis {fr(config.PV_POST_CONTRACT_SURPLUS_EUR_KWH, 2)} €/kWh ; "
            f"prime {premium} ; au-delà de 100 kWc (appel d'offres) "
            f"{fr(config.PV_TENDER_INDICATIVE_EUR_KWH, 4)} €/kWh indicatif"
            + ("" if t.verified_quarter else " ; trimestre le plus récent vérifié")), "source": t.source},
        {"label": "Prix de l'électricité", "value": (
            f"tarif bleu option Base {fr(prices['base'], 4)} €/kWh TTC au {_date_fr(config.RETAIL_PRICE_DATE)} (heures pleines "
            f"{fr(prices.get('hp', float('nan')), 4)}, heures creuses {fr(prices.get('hc', float('nan')), 4)}) ; "
            f"hausse de {fr(config.RETAIL_PRICE_ESCALATION_PER_YEAR * 100, 1)} % par an par défaut (0 à 3 % dans la "
            "fourchette)"), "source": "CRE, délibération TRVE, grille du 1er février 2026"},
        {"label": "TVA", "value": (
            f"{fr(config.VAT_REDUCED_RATE * 100, 1)} % jusqu'à {fr(config.VAT_REDUCED_MAX_KWP)} kWc si : "
            + " ; ".join(config.VAT_REDUCED_CONDITIONS) + f" ; sinon {fr(config.VAT_NORMAL_RATE * 100)} % (batterie "
            f"comprise) ; récupérée par une entreprise"),
         "source": "CGI art. 278-0 bis ; arrêté du 8 septembre 2025 (JO du 9 septembre 2025)"},
        {"label": "Coût installé", "value": (
            f"{fr(config.INSTALLED_COST_FIXED_EUR_HT)} € + {fr(config.INSTALLED_COST_EUR_PER_KWP_HT[0][1])} €/kWc hors "
            f"taxes (soit {fr(installed_cost_ht(3) * (1 + config.VAT_REDUCED_RATE))} € TTC à 3 kWc avec TVA 5,5 %) ; "
            f"batterie {fr(config.BATTERY_COST_EUR_PER_KWH_TTC)} €/kWh TTC"),
         "source": "prix de marché, potentielsolaire.com, janvier 2026"},
        {"label": "Durée de vie", "value": (
            f"{config.ANALYSIS_YEARS} ans par défaut (20 à 30) ; onduleur remplacé la "
            f"{config.INVERTER_LIFE_YEARS + 1}e année ({fr(config.INVERTER_COST_FIXED_EUR_HT)} € + "
            f"{fr(config.INVERTER_COST_EUR_PER_KWP_HT)} €/kWc HT) ; entretien "
            f"{fr(config.OM_COST_SHARE_PER_YEAR * 100, 1)} % du coût par an ; actualisation "
            f"{fr(config.DISCOUNT_RATE * 100, 1)} % ; fourchette : production ±10 %, hausse 0 à 3 %, coût ±15 %"),
         "source": "hypothèses du projet, docs/economics.md"},
        {"label": "Consommation", "value": (
            "profil horaire (forme des profils Enedis) comparé heure par heure à la production ; pilotage : "
            f"{fr(config.EMS_SHIFTABLE_SHARE * 100)} % de la consommation déplaçable ; batterie rendement "
            f"{fr(config.BATTERY_ROUND_TRIP_EFFICIENCY * 100)} %"), "source": "Enedis, profils de consommation"},
        {"label": "CO₂", "value": (
            f"évité (brut) : {fr(config.GRID_CO2_KG_PER_KWH * 1000)} g par kWh produit ({config.GRID_CO2_METHOD}, "
            "que l'ADEME réserve aux bilans d'émissions : ordre de grandeur) ; net : moins l'empreinte des "
            f"panneaux, {fr(config.PV_FOOTPRINT_KG_PER_KWH * 1000)} g/kWh (25 à 44 g)"),
         "source": "ADEME, Base Empreinte"},
    ]


_MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre")


def _date_fr(iso: str) -> str:
    d = dt.date.fromisoformat(iso)
    return f"{'1er' if d.day == 1 else d.day} {_MONTHS_FR[d.month - 1]} {d.year}"


def _fr(value: float, digits: int = 0) -> str:
    if not math.isfinite(value):
        return "–"
    s = f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")
    return s


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


def _allocation_order(faces: FaceSet) -> np.ndarray:
    """Face positions, best specific yield first (the order :func:`_allocation` fills them in)."""
    sy = faces.specific_yield
    key = np.where(np.isnan(sy), -1.0, sy)
    if not np.isfinite(key).all():  # infinities as nan_to_num bounds them
        key = np.nan_to_num(sy, nan=-1.0)
    return np.argsort(-key, kind="stable")


def _allocation(faces: FaceSet, n_modules: int, order: np.ndarray | None = None) -> np.ndarray:
    """Modules taken on each face, best specific yield first (``order``: :func:`_allocation_order`, if known)."""
    if order is None:
        order = _allocation_order(faces)
    take = np.zeros(len(faces), dtype=int)
    left = n_modules
    for i in order:
        t = min(int(faces.n_modules[i]), left)
        take[i] = t
        left -= t
        if left <= 0:
            break
    return take


def _production(faces: FaceSet, hourly: np.ndarray, take: np.ndarray) -> np.ndarray:
    n_total = faces.n_modules.astype(float)
    frac = np.divide(take, n_total, out=np.zeros(len(take)), where=n_total > 0)
    return np.asarray(frac @ hourly) if len(take) else np.zeros(PROFILE_HOURS)


def _kwp(n_modules: int) -> float:
    return n_modules * config.MODULE_PEAK_POWER_WP / 1000.0


def _net_gain(n: int, prod_h: np.ndarray, load: np.ndarray, tariffs: Tariffs, options: Options) -> float:
    """Net gain of ``n`` modules producing ``prod_h`` (the sizing criterion; no battery, no sensitivity)."""
    kwp = _kwp(n)
    cv = cover(prod_h, load, ems=options.ems)
    rate = vat_rate(kwp, options)
    # the cash flow reads no installed_cost_eur (the cost is pv_cost_eur): the options as they are
    _, cf = _cash_flow_arrays(kwp=kwp, production_kwh_yr=float(prod_h.sum()), self_consumed_kwh_yr=cv.self_consumed_kwh,
                              exported_kwh_yr=cv.exported_kwh, tariffs=tariffs, options=options,
                              pv_cost_eur=installed_cost_ht(kwp) * (1.0 + rate))
    return float(cf["cumulative"][-1])


def _by_id(faces: FaceSet) -> FaceSet:
    """The faces sorted by ``face_id``: sums over faces then run in one order whoever reads them (the build or
    the API), so the stored and the served figures are equal to the last bit."""
    return faces.take(np.argsort(faces.face_id, kind="stable"))


def recommend_modules(
    faces: FaceSet, hourly: np.ndarray, load: np.ndarray, tariffs: Tariffs, options: Options,
) -> int:
    """Number of modules with the best net gain over the analysis on the faces' suitable part.

    Households: between :data:`geo.config.RECO_KWP_MIN` and :data:`geo.config.RECO_KWP_MAX`; companies and
    public owners: from that minimum up to the whole suitable roof (at most 60 sizes tried). When less than
    the minimum fits, the whole suitable roof if it holds :data:`geo.config.SUITABLE_MIN_MODULES`, else 0.
    ``hourly`` is :func:`face_hourly_kwh` of ``faces``.
    """
    ok = faces.suitable
    sub, sub_h = faces.take(ok), hourly[ok]
    capacity = int(sub.n_modules.sum()) if len(sub) else 0
    if capacity < config.SUITABLE_MIN_MODULES:
        return 0
    wp = config.MODULE_PEAK_POWER_WP / 1000.0
    n_lo = min(int(math.ceil(config.RECO_KWP_MIN / wp - 1e-9)), capacity)
    n_hi = capacity if options.owner != "menage" else min(int(math.floor(config.RECO_KWP_MAX / wp + 1e-9)), capacity)
    sizes = np.unique(np.linspace(n_lo, n_hi, min(60, n_hi - n_lo + 1)).round().astype(int))
    best_n, best = 0, -math.inf
    order = _allocation_order(sub)
    for n in sizes:
        g = _net_gain(int(n), _production(sub, sub_h, _allocation(sub, int(n), order)), load, tariffs, options)
        if g > best + 1e-6:
            best_n, best = int(n), g
    return best_n


def simulate(
    building_faces: pd.DataFrame | FaceSet,
    *,
    profiles: Mapping[str, np.ndarray],
    options: Options | None = None,
    kwp: float | None = None,
    face_ids: Sequence[str] | None = None,
    tariffs: Tariffs | None = None,
    annual_consumption_kwh: float | None = None,
) -> Simulation:
    """Economics of a PV installation on some faces of a building (what ``POST /api/simulate`` returns).

    Parameters
    ----------
    building_faces
        The building's rows of the ``roof_faces`` layer (needs ``face_id``, ``n_modules``,
        ``specific_yield_kwh_kwp``, ``profile_id``, ``production_m01_kwh`` … ``production_m12_kwh``).
    profiles
        Hourly profiles by ``profile_id`` (:func:`geo.products.rooftops.read_pv_profiles`).
    options
        Owner, load profile and consumption, VAT, cost, analysis years, escalation, EMS, battery, loan
        (default :class:`Options`); ``annual_consumption_kwh`` overrides its consumption.
    kwp
        Peak power wanted [kWp]; rounded down to whole modules and capped by what fits on the chosen faces.
        Default: the recommended size (:func:`recommend_modules`).
    face_ids
        Faces to use (default: the building's suitable faces, or all when none is suitable; modules go on
        the best faces first).
    tariffs
        Dated tariffs (default :meth:`Tariffs.default`).
    """
    opts = options or Options()
    if annual_consumption_kwh is not None:
        opts = replace(opts, annual_consumption_kwh=annual_consumption_kwh)
    opts = opts.checked()
    tariffs = tariffs or Tariffs.default()
    faces = _by_id(building_faces if isinstance(building_faces, FaceSet) else FaceSet.from_frame(building_faces))
    if face_ids is not None:
        known = set(faces.face_id.tolist())
        unknown = [f for f in face_ids if f not in known]
        if unknown:
            raise NotFoundError(f"unknown face(s) for this building: {', '.join(unknown[:5])}")
        faces = faces.take(np.isin(faces.face_id, list(face_ids)))
    elif faces.suitable.any():
        faces = faces.take(faces.suitable)  # never put modules on an unsuitable face unless chosen
    if len(faces) == 0 or int(faces.n_modules.sum()) == 0:
        raise InvalidRequestError("no module fits on the chosen roof faces")
    load = load_profile(opts.load_profile, opts.annual_consumption_kwh)
    hourly = face_hourly_kwh(faces, profiles)
    capacity = int(faces.n_modules.sum())
    capped = False
    if kwp is None:
        n = recommend_modules(faces, hourly, load, tariffs, opts) or min(capacity, config.SUITABLE_MIN_MODULES)
    else:
        if not (kwp > 0 and math.isfinite(kwp)):
            raise InvalidRequestError("kwp must be a positive number")
        n = int(math.floor(kwp * 1000.0 / config.MODULE_PEAK_POWER_WP + 1e-9))
        if n < 1:
            raise InvalidRequestError(f"kwp must be at least one module ({config.MODULE_PEAK_POWER_WP / 1000:g} kWp)")
        if n > capacity:
            n, capped = capacity, True
    take = _allocation(faces, n)
    used = tuple((str(f), int(t)) for f, t in zip(faces.face_id, take, strict=True) if t > 0)
    return economics(kwp=_kwp(n), n_modules=n, prod_h=_production(faces, hourly, take), load=load, tariffs=tariffs,
                     options=opts, faces=used, capped=capped)


def recommend(
    faces: pd.DataFrame | FaceSet, *, hourly: np.ndarray, load: np.ndarray, tariffs: Tariffs,
    options: Options | None = None,
) -> Simulation | None:
    """The recommended installation on the faces' suitable part (None when none is advised), as the build
    stores it; equal to :func:`simulate` with the same options and no ``kwp``."""
    fs = faces if isinstance(faces, FaceSet) else FaceSet.from_frame(faces)
    order = np.argsort(fs.face_id, kind="stable")
    fs, hourly = fs.take(order), hourly[order]
    opts = options or Options()
    n = recommend_modules(fs, hourly, load, tariffs, opts)
    if n == 0:
        return None
    ok = fs.suitable
    sub, sub_h = fs.take(ok), hourly[ok]
    take = _allocation(sub, n)
    used = tuple((str(f), int(t)) for f, t in zip(sub.face_id, take, strict=True) if t > 0)
    return economics(kwp=_kwp(n), n_modules=n, prod_h=_production(sub, sub_h, take), load=load, tariffs=tariffs,
                     options=opts, faces=used)
