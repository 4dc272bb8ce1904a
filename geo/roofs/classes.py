"""The roof suitability classes: what ``roof_faces.suitability`` and ``buildings.suitability`` hold.

One home for the class concept: the rule giving a face its class (:func:`classify`), and for each
class its code (the value stored in the layers), its French label, its colour and the explanation a
homeowner reads. The map, the printable report and the API all take them from :data:`CLASSES`.

The thresholds (:data:`geo.config.SUITABILITY_THRESHOLDS`: the face's annual irradiation on the
modules as a share of the best possible plane at the site) and the colours
(:data:`geo.config.MAP_SUITABILITY_COLOURS`, ColorBrewer) are dated, sourced constants of
:mod:`geo.config`; this module only refers to them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from geo import config


@dataclass(frozen=True)
class SuitabilityClass:
    """One roof class.

    Attributes
    ----------
    code
        The value of the ``suitability`` column (``excellent``, ``bon``, ``moyen``, ``inadapté``).
    label
        French label shown to people (``Excellent``…).
    colour
        Fill colour ``#rrggbb`` on the map and in the report.
    min_share_of_optimum
        Lowest annual irradiation on the modules as a share (0–1) of the site's best plane that
        earns the class; None for the unsuitable class (below every threshold, or too small).
    explanation
        What the class means, in words a homeowner reads (French).
    """

    code: str
    label: str
    colour: str
    min_share_of_optimum: float | None
    explanation: str

    @property
    def suitable(self) -> bool:
        """True for the classes whose faces count in the roof's potential (all but unsuitable)."""
        return self.min_share_of_optimum is not None


_LABELS = {"excellent": "Excellent", "bon": "Bon", "moyen": "Moyen", config.SUITABILITY_UNSUITABLE: "Inadapté"}

_ADVICE = {
    "excellent": "Exposition idéale (plein sud ou proche, peu d'ombre) : un des meilleurs emplacements possibles "
                 "pour des panneaux. La rentabilité dépend aussi du coût, de votre consommation et des tarifs : "
                 "voir le bilan économique.",
    "bon": "Bonne exposition (sud-est à sud-ouest, ombre limitée) : la production reste proche du maximum "
           "possible ; voir le bilan économique.",
    "moyen": "Exposition moins favorable (est, ouest ou ombre partielle) : la production est plus faible "
             "et le retour sur investissement plus long.",
}


def _pct(share: float) -> str:
    return f"{round(share * 100)}\u00a0%"


def _classes() -> tuple[SuitabilityClass, ...]:
    thresholds = config.SUITABILITY_THRESHOLDS
    out = []
    for i, (code, share) in enumerate(thresholds):
        span = f"entre {_pct(share)} et {_pct(thresholds[i - 1][1])}" if i else f"au moins {_pct(share)}"
        text = f"Ce toit reçoit {span} du soleil que recevrait le meilleur pan possible au même endroit. "
        out.append(SuitabilityClass(code, _LABELS[code], config.MAP_SUITABILITY_COLOURS[code], share,
                                    text + _ADVICE[code]))
    unsuitable = config.SUITABILITY_UNSUITABLE
    out.append(SuitabilityClass(
        unsuitable, _LABELS[unsuitable], config.MAP_SUITABILITY_COLOURS[unsuitable], None,
        f"Ce toit reçoit moins de {_pct(thresholds[-1][1])} du soleil du meilleur pan possible, ou n'a pas la "
        f"place pour {config.SUITABLE_MIN_MODULES} panneaux : trop ombragé, orienté au nord ou trop petit."))
    return tuple(out)


#: Every class, best first, the unsuitable class last.
CLASSES: tuple[SuitabilityClass, ...] = _classes()

#: Codes of the classes whose faces count in a roof's potential.
SUITABLE_CODES: frozenset[str] = frozenset(c.code for c in CLASSES if c.suitable)

_BY_CODE = {c.code: c for c in CLASSES}


def suitability_class(code: object) -> SuitabilityClass | None:
    """The class of a ``suitability`` value; None for a missing or unknown value."""
    return _BY_CODE.get(code) if isinstance(code, str) else None


def classify(ratio_to_optimum: float, n_modules: int) -> str:
    """Class code of a face from its irradiation as a share of the site's best plane and its module count."""
    if n_modules < config.SUITABLE_MIN_MODULES or not math.isfinite(ratio_to_optimum):
        return config.SUITABILITY_UNSUITABLE
    for code, threshold in config.SUITABILITY_THRESHOLDS:
        if ratio_to_optimum >= threshold:
            return code
    return config.SUITABILITY_UNSUITABLE
