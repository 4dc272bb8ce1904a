"""Installed cost and levelised cost of energy (LCOE) of ground PV and car-park canopies."""

from __future__ import annotations

import math
from collections.abc import Sequence

from geo import config


def band_price(kwp: float, bands: Sequence[tuple[float, float]]) -> float:
    """Price [€/kWp] of the first band whose upper bound [kWp] is ≥ ``kwp``."""
    for upper, price in bands:
        if kwp <= upper:
            return price
    return bands[-1][1]


def lcoe_eur_mwh(
    capex_eur: float,
    om_eur_yr: float,
    first_year_kwh: float,
    *,
    years: int = config.SITES_LCOE_YEARS,
    rate: float = config.SITES_DISCOUNT_RATE,
    degradation: float = config.MODULE_DEGRADATION_PER_YEAR,
) -> float:
    """Levelised cost [€/MWh]: discounted costs over discounted energy.

    LCOE = (CAPEX + Σ_t O&M/(1+r)^t) / Σ_t E_1 (1−d)^(t−1)/(1+r)^t, t = 1…years; NaN without energy.
    """
    if not first_year_kwh > 0:
        return math.nan
    disc = [(1.0 + rate) ** -t for t in range(1, years + 1)]
    cost = capex_eur + om_eur_yr * sum(disc)
    energy_kwh = sum(first_year_kwh * (1.0 - degradation) ** (t - 1) * d for t, d in enumerate(disc, start=1))
    return 1000.0 * cost / energy_kwh


def cre_reference() -> tuple[str, str, float]:
    """(tender, date, weighted mean price [€/MWh]) of :data:`geo.config.CRE_TENDER_REFERENCE`."""
    date, price = config.CRE_TENDER_PRICES_EUR_MWH[config.CRE_TENDER_REFERENCE]
    return config.CRE_TENDER_REFERENCE, date, price
