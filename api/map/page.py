"""Build the map page: a folium map with our layers, a layer control, a scale bar and a side panel.

The page holds no data: its JavaScript (``api/map/static/artois-map.js``) asks the API for
layers and lookups, so one page serves any build. Every asset is served by this server
(:mod:`api.map.assets`); the default base map is drawn from our own layers, so nothing
leaves the server until a user picks an online base map (IGN, OpenStreetMap).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import folium
import jinja2

from api.map.assets import TEMPLATES_DIR
from api.map.elements import ArtoisLayer, ArtoisSetup, ArtoisStart, HeadHtml, LocalMap, add_body_html
from geo import config
from geo.products import parks, rooftops
from geo.roofs.classes import CLASSES

#: Paths of the API the page calls (served by api/app.py on the same server).
API_URLS: Mapping[str, str] = {
    "collections": "/ogc/collections",
    "items": "/ogc/collections/{collection}/items",
    "vectorTiles": "/tiles/{collection}/{z}/{x}/{y}.pbf",
    "irradiationTiles": "/tiles/irradiation/{z}/{x}/{y}.png",
    "irradiationLegend": "/tiles/irradiation/legend",
    "roof": "/api/roof",
    "geocode": "/api/geocode",
    "simulate": "/api/simulate",
    "route": "/api/parks/route",
    "serviceArea": "/api/parks/service-area",
    "communesStats": "/api/stats/communes",
    "scenario": "/api/parks/scenario",
}

PAGE_TITLE = "Artois Solaire & Parcs — carte"

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _fr(value: float, digits: int = 0) -> str:
    """A number written the French way: 1\u202f234,5."""
    text = f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")
    return text


def assumptions() -> list[str]:
    """The assumptions behind a roof's figures, in French, with sources (shown in the panel): the economics
    ones are :func:`geo.roofs.economics.assumptions`, as in the report and ``/api/simulate``."""
    from geo.roofs.economics import assumptions as economics_assumptions

    return [
        f"Panneaux de {_fr(config.MODULE_PEAK_POWER_WP)} Wc ({_fr(config.MODULE_LENGTH_M, 2)} × "
        f"{_fr(config.MODULE_WIDTH_M, 2)} m), pertes du système {_fr(config.PV_SYSTEM_LOSS * 100)} %.",
        *(f"{a['label']} : {a['value']} (source : {a['source']})." for a in economics_assumptions()),
        f"Eau chaude solaire : foyer de {config.SWH_PERSONS} personnes, "
        f"{_fr(config.SWH_LITRES_PER_PERSON_DAY)} litres par personne et par jour (méthode f-chart).",
    ]


def page_settings() -> dict[str, Any]:
    """Settings handed to the page's JavaScript (``Artois.setup``): URLs, classes, colours, limits."""
    return {
        "urls": dict(API_URLS),
        "suitability": [
            {"value": c.code, "label": c.label, "colour": c.colour, "explanation": c.explanation} for c in CLASSES
        ],
        "assumptions": assumptions(),
        "addressZoom": config.MAP_ADDRESS_ZOOM,
        "maxZoom": config.MAP_MAX_ZOOM,
        "tileMinZoom": dict(config.TILE_MIN_ZOOM),
        "tileMaxZoom": config.TILE_MAX_ZOOM,
        "irradiationRange": list(config.IRRADIATION_RANGE_KWH_M2_YR),
        "itemsLimit": config.API_ITEMS_MAX_LIMIT,
        "consumption": {
            "min": config.MAP_CONSUMPTION_MIN_KWH_YR,
            "max": config.MAP_CONSUMPTION_MAX_KWH_YR,
            "default": round(config.HOUSEHOLD_CONSUMPTION_KWH_YR),
        },
        "economics": economics_form(),
    }


def economics_form() -> dict[str, Any]:
    """Choices and defaults of the panel's economics options (those of ``POST /api/simulate``, from config)."""
    lo, hi = config.ANALYSIS_YEARS_RANGE
    return {
        "profiles": [{"value": k, "label": str(v["label"])} for k, v in config.LOAD_PROFILES.items()],
        "default_profile": config.DEFAULT_LOAD_PROFILE,
        "years": {"min": lo, "max": hi, "default": config.ANALYSIS_YEARS},
        "escalation_pct": round(config.RETAIL_PRICE_ESCALATION_PER_YEAR * 100, 1),
        "loan_rate_pct": round(config.LOAN_RATE * 100, 2),
        "vat": [{"value": "auto", "label": "selon le cas (5,5 % ≤ 9 kWc pour un foyer)"},
                {"value": "reduit", "label": "5,5 %"}, {"value": "normal", "label": "20 %"},
                {"value": "recuperable", "label": "récupérée (entreprise)"}],
    }


def _overlays(settings: Mapping[str, Any]) -> dict[str, ArtoisLayer]:
    """The data layers, by role, in drawing order (bottom first). Names are the layer control's."""
    colours = {c["value"]: c["colour"] for c in settings["suitability"]}
    return {
        "communesSolar": ArtoisLayer(
            "communesSolar", "Communes : potentiel solaire (MWh/an)",
            options={"collection": rooftops.COMMUNES_SOLAR.name, "field": "production_mwh_yr", "unit": "MWh/an"},
        ),
        "communesAccess": ArtoisLayer(
            "communesAccess", "Communes : habitants à 10 min à pied d'un parc (%)",
            options={"collection": parks.COMMUNES_ACCESS.name, "field": "share_within_10min", "unit": "%"},
        ),
        "irradiation": ArtoisLayer(
            "irradiation", "Ensoleillement annuel (kWh/m²/an)",
            options={"opacity": 0.75},
        ),
        "priority": ArtoisLayer(
            "priority", "Quartiers prioritaires (loin d'un parc)",
            options={"collection": parks.ACCESS_CELLS.name},
        ),
        "serviceAreas": ArtoisLayer(
            "serviceAreas", "Zones à 10 min à pied des parcs",
            options={"collection": parks.SERVICE_AREAS.name, "minutes": 10},
        ),
        "parks": ArtoisLayer(
            "parks", "Parcs (par ensemble)", show=True, options={"collection": parks.PARKS.name},
        ),
        "greenways": ArtoisLayer(
            "greenways", "Voies vertes (boucle en gras)", show=True, options={"collection": parks.GREENWAYS.name},
        ),
        "gaps": ArtoisLayer(
            "gaps", "Liens à créer (classés)", options={"collection": parks.GAPS.name},
        ),
        "roofFaces": ArtoisLayer(
            "roofFaces", "Toitures : potentiel solaire", show=True,
            options={"collection": rooftops.ROOF_FACES.name, "colours": colours},
        ),
        # ground PV and APER car parks (geo/sites/, artois-sites.js)
        "friches": ArtoisLayer(
            "friches", "Friches et terrils : solaire au sol", options={"collection": "friches"},
        ),
        "carParks": ArtoisLayer(
            "carParks", "Parkings : obligation d'ombrières (loi APER)",
            options={"collection": "car_parks", "deadlines": {"large": config.APER_DEADLINE_LARGE,
                                                              "medium": config.APER_DEADLINE_MEDIUM}},
        ),
    }


def build_map(*, online_basemaps: Sequence[Mapping[str, str | int]] = config.MAP_ONLINE_BASEMAPS) -> LocalMap:
    """The folium map of the page, with every layer, the layer control and the panel.

    Parameters
    ----------
    online_basemaps
        Online base maps offered besides the offline one (name, url, attribution, max_zoom);
        none of them is shown when the page opens.

    Returns
    -------
    LocalMap
        A ``folium.Map`` whose assets all come from this server.
    """
    settings = page_settings()
    fmap = LocalMap(
        location=[config.PMA_LATITUDE_DEG, config.PMA_LONGITUDE_DEG],
        zoom_start=12,
        tiles=None,
        control_scale=False,  # a metric-only scale bar is added by Artois.setup
        max_zoom=config.MAP_MAX_ZOOM,
        prefer_canvas=False,
        zoom_control=True,
    )
    fmap.get_root().title = PAGE_TITLE  # type: ignore[attr-defined]
    fmap.add_child(HeadHtml(
        '<link rel="icon" href="data:,">'
        '<meta name="description" content="Cadastre solaire et Chaîne des Parcs du Pôle Métropolitain de l\'Artois">'
    ))
    ArtoisSetup(settings).add_to(fmap)

    ArtoisLayer("localBase", "Fond local (hors ligne)", overlay=False, show=True,
                options={"communes": rooftops.COMMUNES_SOLAR.name, "greenways": parks.GREENWAYS.name,
                         "parks": parks.PARKS.name}).add_to(fmap)
    for base in online_basemaps:
        folium.TileLayer(
            tiles=str(base["url"]), attr=str(base["attribution"]), name=str(base["name"]),
            overlay=False, show=False, max_zoom=config.MAP_MAX_ZOOM, max_native_zoom=int(base["max_zoom"]),
        ).add_to(fmap)

    overlays = _overlays(settings)
    for layer in overlays.values():
        layer.add_to(fmap)
    control = folium.LayerControl(position="topright", collapsed=True)
    control.add_to(fmap)
    ArtoisStart(dict(overlays), control).add_to(fmap)

    panel = _templates.get_template("panel.html.j2").render(
        minutes=config.MAP_SERVICE_AREA_MINUTES,
        consumption=settings["consumption"],
        economics=settings["economics"],
        suitability=settings["suitability"],
        scenario_url=API_URLS["scenario"], gaps_url=API_URLS["items"].format(collection="gaps") + "?limit=1000",
    )
    add_body_html(fmap.get_root(), panel, name="artois_panel")  # type: ignore[arg-type]
    return fmap


@cache
def build_map_page() -> str:
    """The complete HTML of the map page (built once per process)."""
    return build_map().get_root().render()
