"""The park ensembles of the Chaîne des Parcs, and tagging parks by ensemble from their names.

The Pôle Métropolitain de l'Artois (PMA) groups its parks into **11 ensembles** (4,200 ha,
420 km of greenways; the 2015 Euralens master plan by Michel Desvigne had 7 ensembles and
2,200 ha, extended to 11 ensembles when the Béthune-Bruay agglomeration joined — Innovapresse,
"Bassin minier du Pas-de-Calais : la chaîne des parcs s'étend", 20 March 2019).

Names as published
------------------
Only **six** of the eleven names could be found in a published source while writing this
module; they are listed in :data:`ENSEMBLES` with the parks the source names in them:

* Pôle Métropolitain de l'Artois, "La Chaîne des parcs en été : fraîcheur et découvertes
  garanties !", polemetropolitainartois.fr, summer 2023 (checked 2026-11): *Centralité* (Parc
  du Louvre-Lens, Avion plage), *Contreforts de l'Artois* (Parc d'Olhain), *Berges de la
  Souchez* (Loison-sous-Lens to Courrières), *Canal d'Aire* (Gare d'eau de Béthune),
  *Deux Vallées* (Calonnix, Calonne-Ricouart), *Canal de la Deûle* (Wingles).

The five others are **not invented here**: a park whose ``ensemble`` column names another
ensemble keeps that name as given (it is reported as not in the published table), and
:func:`match_ensemble` returns None for a name it cannot place.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Total number of ensembles the PMA publishes (Innovapresse, 20 March 2019; PMA, 2023).
N_ENSEMBLES_PUBLISHED = 11


@dataclass(frozen=True)
class Ensemble:
    """One ensemble of the Chaîne des Parcs."""

    name: str  # as published (French)
    keywords: tuple[str, ...]  # place / park names the source puts in it (matched accent- and case-insensitively)
    source: str


_PMA_2023 = ("Pôle Métropolitain de l'Artois, « La Chaîne des parcs en été : fraîcheur et découvertes "
             "garanties ! », polemetropolitainartois.fr, 2023 (checked 2026-11)")

#: The ensembles whose published names were found (6 of 11; see the module docstring).
ENSEMBLES: tuple[Ensemble, ...] = (
    Ensemble("Centralité", ("centralite", "louvre-lens", "louvre lens", "avion plage"), _PMA_2023),
    Ensemble("Contreforts de l'Artois", ("contreforts de l'artois", "olhain"), _PMA_2023),
    Ensemble("Berges de la Souchez", ("berges de la souchez", "souchez"), _PMA_2023),
    Ensemble("Canal d'Aire", ("canal d'aire", "gare d'eau de bethune"), _PMA_2023),
    Ensemble("Deux Vallées", ("deux vallees", "calonnix"), _PMA_2023),
    Ensemble("Canal de la Deûle", ("canal de la deule", "wingles"), _PMA_2023),
)


def normalise(text: str) -> str:
    """Lower case, no accents, straight apostrophes, single spaces (for name matching)."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.lower().replace("’", "'").replace("`", "'")
    return re.sub(r"\s+", " ", text).strip()


def match_ensemble(text: str | None) -> str | None:
    """The published ensemble a park or ensemble name refers to, or None.

    Matches the ensemble's own name first, then the place names the source puts in it.

    Examples
    --------
    >>> match_ensemble("Parc d'Olhain")
    "Contreforts de l'Artois"
    >>> match_ensemble("BERGES DE LA SOUCHEZ")
    'Berges de la Souchez'
    """
    if not text or not isinstance(text, str):
        return None
    t = normalise(text)
    for ens in ENSEMBLES:
        if normalise(ens.name) in t:
            return ens.name
    for ens in ENSEMBLES:
        if any(k in t for k in ens.keywords):
            return ens.name
    return None


def tag_ensemble(nom: str | None, ensemble: str | None) -> tuple[str | None, bool]:
    """Ensemble of a park from its ``ensemble`` column, else from its name.

    Returns
    -------
    (name, published)
        The ensemble name (the published spelling when it matches one) and whether it is in
        :data:`ENSEMBLES`. A given ensemble that matches nothing is kept as given.
    """
    if isinstance(ensemble, str) and ensemble.strip():
        m = match_ensemble(ensemble)
        return (m, True) if m else (ensemble.strip(), False)
    m = match_ensemble(nom)
    return (m, m is not None)
