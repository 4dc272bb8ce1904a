"""Chaîne des Parcs: greenway network, routes between parks, gaps worth building, access to parks.

Request-time API (on a model loaded from ``build/parks.gpkg``)::

    from geo.parks import load_network, route, service_area, apply_scenario
    model = load_network("build/parks.gpkg")        # read through geo.io.parks; keep it
    r = route(model, 1, 2, greenway_preference=1.5)  # geometry, length_m, share_greenway, walk_min, bike_min
    sa = service_area(model, 1, minutes=10)          # polygon, population
    sc = apply_scenario(model, [1])                  # connectivity and linked population after building gap 1

Modules: :mod:`~geo.parks.network` (graph, entrances, distances), :mod:`~geo.parks.access`,
:mod:`~geo.parks.connectivity`, :mod:`~geo.parks.routes`, :mod:`~geo.parks.gaps`, :mod:`~geo.parks.ensembles`,
:mod:`~geo.parks.model`, :mod:`~geo.parks.build` (pipeline stage).
"""

from __future__ import annotations

from geo.parks.access import ServiceArea, service_area
from geo.parks.gaps import Scenario, apply_scenario
from geo.parks.model import ParksModel, load_network
from geo.parks.routes import Route, route

__all__ = ["ParksModel", "Route", "Scenario", "ServiceArea", "apply_scenario", "load_network", "route", "service_area"]
