"""The APER car-park obligation: surface counted, status, deadline, canopy over half the car park.

Loi n° 2023-175 du 10 mars 2023, art. 40, and décret n° 2024-1023 du 13 novembre 2024 (constants
and their sources in :mod:`geo.config`, section 11): outdoor car parks over 1,500 m² carry
renewable-energy canopies over at least half of their surface, by 1 July 2026 above 10,000 m² and
1 July 2028 otherwise, unless trees shade at least half of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo import config

STATUS_CONCERNED = "concerned"
STATUS_EXEMPT_TREES = "exempt_trees"
STATUS_BELOW = "below_threshold"

#: French labels of the statuses (map, popups, exports).
STATUS_LABELS_FR: dict[str, str] = {
    STATUS_CONCERNED: "concerné",
    STATUS_EXEMPT_TREES: "exonéré (ombragé par des arbres)",
    STATUS_BELOW: "sous le seuil de 1 500 m²",
}

#: Canopy modules per m² of covered surface [kWp/m²]: the standard module with its gaps.
CANOPY_KWP_PER_M2 = (config.MODULE_PEAK_POWER_WP / 1000.0) / (
    (config.MODULE_LENGTH_M + config.MODULE_GAP_M) * (config.MODULE_WIDTH_M + config.MODULE_GAP_M))


def counted_surface(polygon: BaseGeometry, excluded: Iterable[BaseGeometry]) -> BaseGeometry:
    """The car park's surface that counts: its polygon less green areas and buildings inside it."""
    parts = [g for g in excluded if g is not None and not g.is_empty and g.intersects(polygon)]
    return polygon.difference(shapely.union_all(parts)) if parts else polygon


@dataclass(frozen=True)
class AperStatus:
    """Status of a car park: ``status`` (concerned | exempt_trees | below_threshold), ``deadline``
    (ISO date or None) and ``deadline_postponed`` (the later date panels meeting décret
    n° 2024-1104 allow above 10,000 m², or None)."""

    status: str
    deadline: str | None
    deadline_postponed: str | None


def aper_status(counted_m2: float, tree_share: float) -> AperStatus:
    """The obligation for a car park of ``counted_m2`` [m²] shaded by trees over ``tree_share`` [0–1].

    Over 1,500 m² ("supérieure à 1 500 m²": strictly), unless trees shade at least half of it.
    """
    if not counted_m2 > config.APER_MIN_AREA_M2:
        return AperStatus(STATUS_BELOW, None, None)
    if tree_share >= config.APER_TREE_EXEMPT_SHARE:
        return AperStatus(STATUS_EXEMPT_TREES, None, None)
    if counted_m2 > config.APER_LARGE_AREA_M2:
        return AperStatus(STATUS_CONCERNED, config.APER_DEADLINE_LARGE, config.APER_DEADLINE_LARGE_POSTPONED)
    return AperStatus(STATUS_CONCERNED, config.APER_DEADLINE_MEDIUM, None)


def canopy_pixels(counted: np.ndarray, trees: np.ndarray, annual_kwh_m2: np.ndarray,
                  target_px: int) -> np.ndarray:
    """Where the canopy goes: the ``target_px`` best-irradiated pixels of the car park outside tree crowns.

    Fewer when the car park has fewer such pixels (trees are kept, not felled).
    """
    cand = counted & ~trees & np.isfinite(annual_kwh_m2)
    idx = np.flatnonzero(cand.ravel())
    if idx.size > target_px:
        best = np.argsort(-annual_kwh_m2.ravel()[idx], kind="stable")[:target_px]
        idx = idx[best]
    out = np.zeros(counted.shape, bool)
    out.ravel()[idx] = True
    return out


def tradeoff_fr(status: str, tree_share: float, canopy_kwp: float, canopy_mwh_yr: float) -> str:
    """The shade and cooling trade-off between trees and canopies, in plain French."""
    pct = f"{100 * tree_share:.0f} %"
    if status == STATUS_EXEMPT_TREES:
        return (f"Les arbres ombragent {pct} du parking : il est exonéré. Ils rafraîchissent l'air par "
                "évapotranspiration et laissent le sol s'infiltrer, ce qu'une ombrière ne fait pas. Les abattre "
                f"pour poser des ombrières ({canopy_kwp:.0f} kWc, {canopy_mwh_yr:.0f} MWh/an) ferait perdre "
                "cette fraîcheur et des décennies de croissance : à conserver.")
    if status == STATUS_BELOW:
        return (f"Parking de moins de 1 500 m² : pas d'obligation. Des ombrières ({canopy_kwp:.0f} kWc, "
                f"{canopy_mwh_yr:.0f} MWh/an) restent possibles ; planter des arbres apporterait l'ombre et la "
                "fraîcheur sans production.")
    return (f"Ombrières sur la moitié du parking : {canopy_kwp:.0f} kWc, {canopy_mwh_yr:.0f} MWh/an, posées hors "
            f"des arbres existants ({pct} du parking ombragé). Elles ombragent les voitures mais ne rafraîchissent "
            "pas l'air comme des arbres, qui évaporent l'eau du sol ; des arbres plantés sur l'autre moitié "
            "combinent les deux.")
