"""The FastAPI application: OGC API – Features, tiles, lookups, exports and the map.

``create_app(settings)`` opens the build folder once (layer metadata, extents, CRS, counts are read at
start-up) and wires the routers, the exception → status table, ``Cache-Control`` and gzip middleware; roof
lookups take a lean path before that stack (:mod:`api.fastpath`).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from api.errors import install_error_handlers
from api.fastpath import GZIP_LEVEL, ArtoisAPI
from api.layers import Catalog
from api.map import routes as map_routes
from api.middleware import CacheControlMiddleware
from api.routers import batch, exports, lookups, ogc, parks, report, stats, tiles
from api.settings import Settings
from api.tiles import LRUCache
from geo import __version__

DESCRIPTION = """
Service des couches d'**Artois Solaire & Parcs** (Pôle Métropolitain de l'Artois) :

* **OGC API – Features** sous `/ogc` (ajoutez `http://HOTE:PORT/ogc` dans QGIS : *Couche → Ajouter une couche WFS /
  OGC API – Features*) ;
* **tuiles** Web Mercator : vectorielles (`/tiles/{couche}/{z}/{x}/{y}.pbf`) et raster d'irradiation
  (`/tiles/irradiation/{z}/{x}/{y}.png`, légende `/tiles/irradiation/legend`) ;
* **recherches** : toit sous un point, adresse, simulation économique, itinéraires entre parcs, zones de desserte,
  statistiques par commune ;
* **exports** CSV, GeoJSON et GeoPackage par commune.

Units are in the field names (kWh/m²/yr, kWp, m…); azimuth clockwise from north, 180 = south.
"""

OPENAPI_TAGS = [
    {"name": "OGC API – Features", "description": "Couches au format OGC API – Features (GeoJSON, WGS84)."},
    {"name": "Tuiles", "description": "Tuiles vectorielles (MVT) et raster (PNG) en Web Mercator."},
    {"name": "Recherches", "description": "Toit sous un point, adresse, simulation, statistiques."},
    {"name": "Chaîne des Parcs", "description": "Itinéraires entre parcs et zones de desserte."},
    {"name": "Exports", "description": "Téléchargement des couches d'une commune."},
    {"name": "Rapport", "description": "Rapport imprimable d'une toiture pour un foyer (HTML, A4)."},
    {"name": "carte", "description": "La carte interactive."},
]


def create_app(settings: Settings | None = None) -> FastAPI:
    """The application serving ``settings.data_dir`` (default ``build/``).

    Raises
    ------
    geo.errors.InputError
        The folder does not exist or holds neither rooftops.gpkg nor parks.gpkg ("run artois build first").
    """
    settings = settings or Settings()
    catalog = Catalog(settings.data_dir)
    app = ArtoisAPI(
        title="Artois Solaire & Parcs — API des couches",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=OPENAPI_TAGS,
    )
    app.state.settings = settings
    app.state.catalog = catalog
    app.state.tile_cache = LRUCache(settings.tile_cache_size)
    install_error_handlers(app)
    for router in (ogc.router, tiles.router, lookups.router, parks.router, exports.router, report.router,
                   batch.router, stats.router, map_routes.router):
        app.include_router(router)
    app.add_middleware(GZipMiddleware, minimum_size=settings.gzip_min_bytes, compresslevel=GZIP_LEVEL)
    app.add_middleware(
        CacheControlMiddleware, max_age=settings.cache_max_age_s, tile_max_age=settings.tile_cache_max_age_s,
    )
    return app

