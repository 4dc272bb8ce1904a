"""The economics a household can recompute agree with the stored recommendation.

``POST /api/simulate`` (and the printable report) call :func:`geo.roofs.economics.simulate`
at request time; the build stored the recommendation of :func:`geo.roofs.economics.recommend`.
With the building's stored owner and consumption and no kWp chosen, both must give the same
installation for every building of the built sample, households and companies alike.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from geo import config
from geo.products import BuildFolder, rooftops
from geo.products.rooftops import read_pv_profiles
from geo.roofs.economics import default_options, simulate


def test_simulate_at_default_consumption_equals_stored_recommendation(built_dir: Path) -> None:
    gpkg = BuildFolder(built_dir).rooftops
    buildings = rooftops.read_layer(gpkg, rooftops.BUILDINGS)
    faces = rooftops.read_layer(gpkg, rooftops.ROOF_FACES)
    profiles = read_pv_profiles(gpkg)
    recommended = buildings[buildings["reco_kwp"] > 0]
    assert len(recommended) >= 50 and set(recommended.owner) >= {"menage", "entreprise"}
    by_building = dict(tuple(faces.groupby("building_id")))
    for b in recommended.itertuples():
        if b.owner == "menage":
            assert b.consumption_kwh_yr == config.HOUSEHOLD_CONSUMPTION_KWH_YR
            assert b.load_profile == config.DEFAULT_LOAD_PROFILE
        options = default_options(b.owner, consumption_kwh=b.consumption_kwh_yr)
        out = simulate(by_building[b.building_id], options=options, profiles=profiles)
        assert out.kwp == pytest.approx(b.reco_kwp), b.building_id
        assert out.production_kwh_yr == pytest.approx(b.reco_production_kwh_yr, rel=1e-12), b.building_id
        assert out.cost_eur == pytest.approx(b.reco_cost_eur, rel=1e-9), b.building_id
        assert out.net_gain_eur == pytest.approx(b.reco_net_gain_eur, rel=1e-12), b.building_id
        assert out.analysis_years == b.analysis_years and out.load_profile == b.load_profile
        unsuitable = set(by_building[b.building_id].query("suitability == @config.SUITABILITY_UNSUITABLE").face_id)
        assert not unsuitable & set(dict(out.faces)), b.building_id
