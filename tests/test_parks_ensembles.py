"""Tagging parks by ensemble of the Chaîne des Parcs."""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import box

from geo.parks.build import prepare_parks
from geo.parks.ensembles import ENSEMBLES, N_ENSEMBLES_PUBLISHED, match_ensemble, normalise, tag_ensemble


def test_published_names_and_sources() -> None:
    assert N_ENSEMBLES_PUBLISHED == 11
    assert len(ENSEMBLES) == 6  # the names found in a published source; the five others are not invented
    assert len({e.name for e in ENSEMBLES}) == len(ENSEMBLES)
    assert all("polemetropolitainartois.fr" in e.source for e in ENSEMBLES)


def test_matching_is_accent_and_case_insensitive() -> None:
    assert normalise("  Parc  d’Olhain ") == "parc d'olhain"
    assert match_ensemble("Parc d'Olhain") == "Contreforts de l'Artois"
    assert match_ensemble("BERGES DE LA SOUCHEZ") == "Berges de la Souchez"
    assert match_ensemble("Parc du canal de la Deule") == "Canal de la Deûle"
    assert match_ensemble("Parc Centralité (Louvre-Lens)") == "Centralité"
    assert match_ensemble("Parc des Cytises") is None
    assert match_ensemble(None) is None


def test_tag_prefers_the_given_ensemble_and_keeps_unknown_names() -> None:
    assert tag_ensemble("Parc d'Olhain", None) == ("Contreforts de l'Artois", True)
    assert tag_ensemble("Base 11/19", "deux vallees") == ("Deux Vallées", True)
    assert tag_ensemble("Parc des Cytises", "Parc des Cytises") == ("Parc des Cytises", False)
    assert tag_ensemble("Square", "") == (None, False)
    parks = prepare_parks(gpd.GeoDataFrame({"nom": ["Parc d'Olhain", "Square"], "ensemble": [None, None]},
                                           geometry=[box(0, 0, 100, 100), box(200, 0, 250, 50)], crs="EPSG:2154"))
    assert parks["ensemble"].iloc[0] == "Contreforts de l'Artois" and parks["ensemble"].isna().iloc[1]
    assert parks["park_id"].tolist() == [1, 2]
    assert parks["area_ha"].tolist() == [1.0, 0.25]
