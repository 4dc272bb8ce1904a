"""Pydantic request and response models of the API (they document the OpenAPI spec, with examples)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# -- OGC API - Features --------------------------------------------------------------------------


class Link(BaseModel):
    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class LandingPage(BaseModel):
    title: str
    description: str
    links: list[Link]


class Conformance(BaseModel):
    conformsTo: list[str]


class SpatialExtent(BaseModel):
    bbox: list[list[float]] = Field(description="[[lon_min, lat_min, lon_max, lat_max]] in WGS84 (CRS84) [°]")
    crs: str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


class Extent(BaseModel):
    spatial: SpatialExtent


class CollectionInfo(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "buildings", "title": "Bâtiments", "description": "…", "itemType": "feature",
        "extent": {"spatial": {"bbox": [[2.82, 50.42, 2.84, 50.44]],
                               "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
        "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
        "storageCrs": "http://www.opengis.net/def/crs/EPSG/0/2154", "numberOfFeatures": 20,
        "links": [{"href": "http://127.0.0.1:8000/ogc/collections/buildings/items", "rel": "items",
                   "type": "application/geo+json"}],
    }]})

    id: str
    title: str
    description: str
    links: list[Link]
    extent: Extent | None = None
    itemType: str = "feature"
    crs: list[str]
    storageCrs: str | None = None
    numberOfFeatures: int | None = None


class Collections(BaseModel):
    links: list[Link]
    collections: list[CollectionInfo]


class Feature(BaseModel):
    """A GeoJSON Feature (RFC 7946), coordinates in WGS84 [°]."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "type": "Feature", "id": 1,
        "geometry": {"type": "Polygon", "coordinates": [[[2.83, 50.43], [2.831, 50.43], [2.831, 50.431],
                                                          [2.83, 50.43]]]},
        "properties": {"building_id": "BATIMENT0000000312345678", "kwp_max": 6.4},
    }]})

    type: Literal["Feature"] = "Feature"
    id: int | str | None = None
    geometry: dict[str, Any] | None
    properties: dict[str, Any]
    links: list[Link] | None = None


class FeatureCollection(BaseModel):
    """A GeoJSON FeatureCollection with the OGC API paging members."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]
    numberMatched: int | None = None
    numberReturned: int | None = None
    timeStamp: str | None = None
    links: list[Link] | None = None


# -- lookups --------------------------------------------------------------------------------------


class WeatherSource(BaseModel):
    """The weather data the irradiation was computed with."""

    source: str | None = Field(None, description="e.g. 'EPW … — Lille-Lesquin' or the offline climatology")
    location: str | None = None
    period: str | None = None
    approximate: bool | None = Field(None, description="true for the offline climatology (approximate)")


class DataQuality(BaseModel):
    """How well the building's footprint and the LiDAR agree (docs/solar-engine.md, "Footprints and LiDAR")."""

    offset_m: float | None = Field(None, description="offset found between the footprint and the roof [m]")
    outline_change_m: float | None = Field(
        None, description="outer walls moved out (+) or in (−) to the roof's edge [m]")
    roof_share: float | None = Field(None, description="share of the given footprint that is roof in the DSM (0–1)")
    plane_rms_m: float | None = Field(None, description="plane-fit RMS of the roof faces [m]")
    tree_share: float | None = Field(None, description="share of the roof under trees (0–1)")
    status: str | None = Field(None, description="ok, no_roof (footprint without a roof in the DSM), …")


class RoofResponse(BaseModel):
    """The building under a point: its figures and its roof faces (columns of docs/data-dictionary.md)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "building": {"type": "Feature", "id": 12, "geometry": None, "properties": {
            "building_id": "BATIMENT0000000312345678", "address": "12 Rue Émile Zola 62300 Lens", "kwp_max": 6.4,
            "reco_kwp": 3.0, "reco_payback_yr": 12.5, "swh_heat_kwh_yr": 1600.0, "suitability": "bon"}},
        "faces": [{"type": "Feature", "id": 31, "geometry": None, "properties": {
            "face_id": "BATIMENT0000000312345678-1", "orientation": "sud", "tilt_deg": 40.0, "kwp": 3.4,
            "production_kwh_yr": 3200.0, "suitability": "excellent"}}],
        "weather": {"source": "offline climatology (approximate)", "approximate": True},
    }]})

    building: Feature
    faces: list[Feature]
    weather: WeatherSource
    data_quality: DataQuality | None = None


class GeocodeCandidate(BaseModel):
    label: str = Field(description="address as written in the BAN, e.g. '12 Rue Émile Zola 62300 Lens'")
    score: float = Field(ge=0, le=1, description="match score 0–1")
    type: Literal["housenumber", "street"]
    housenumber: str | None = None
    street: str
    postcode: str
    citycode: str
    city: str
    lon: float
    lat: float
    id: str | None = Field(None, description="BAN id")


class GeocodeResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "query": "12 bd emile basly", "source": "BAN adresses-62.csv", "results": [{
            "label": "12 Boulevard Émile Basly 62300 Lens", "score": 0.95, "type": "housenumber",
            "housenumber": "12", "street": "Boulevard Émile Basly", "postcode": "62300", "citycode": "62498",
            "city": "Lens", "lon": 2.8312, "lat": 50.4321, "id": "62498_0123_00012"}],
    }]})

    query: str
    source: str
    results: list[GeocodeCandidate]


class SimulateRequest(BaseModel):
    """Economics of an installation on one building; every option defaults to the building's stored one
    (owner, load profile, consumption) or to geo/config.py section 5."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"building_id": "BATIMENT0000000312345678", "annual_consumption_kwh": 4500, "kwp": 3.0},
        {"building_id": "BATIMENT0000000312345678", "annual_consumption_kwh": 6000, "load_profile": "pompe_a_chaleur",
         "ems": True, "battery_kwh": 5, "analysis_years": 30, "vat": "normal", "loan_rate": 0.045, "loan_years": 10},
    ]})

    building_id: str = Field(min_length=1, max_length=200, description="id of the building (buildings.building_id)")
    annual_consumption_kwh: float | None = Field(
        None, gt=0, le=100_000_000, description="electricity use [kWh/yr]; default: the building's stored one")
    kwp: float | None = Field(None, gt=0, le=100_000, description="chosen peak power [kWp]; default: recommended")
    face_ids: list[str] | None = Field(
        None, max_length=200, description="faces to equip (roof_faces.face_id); default: the best faces"
    )
    load_profile: Literal["moyen", "sans_chauffage", "chauffage_electrique", "pompe_a_chaleur",
                          "vehicule_electrique", "presence_journee", "tertiaire", "ecole"] | None = Field(
        None, description="hourly load profile (geo/config.py LOAD_PROFILES)")
    owner: Literal["menage", "entreprise", "collectivite"] | None = Field(None, description="owner kind")
    vat: Literal["auto", "reduit", "normal", "recuperable"] | None = Field(
        None, description="VAT regime: auto (5.5 % ≤ 9 kWp household, recovered by companies), reduit, normal, recuperable")
    installed_cost_eur: float | None = Field(None, gt=0, le=100_000_000,
                                             description="price of the PV system as paid (quote) [€]")
    analysis_years: int | None = Field(None, ge=20, le=30, description="analysis length [yr] (default 25)")
    escalation: float | None = Field(None, ge=-0.05, le=0.10, description="yearly retail price escalation [1/yr]")
    ems: bool | None = Field(None, description="energy-management system / hot-water diverter")
    battery_kwh: float | None = Field(None, ge=0, le=5000, description="battery usable capacity [kWh]")
    loan_rate: float | None = Field(None, ge=0, le=0.2, description="loan rate [1/yr]")
    loan_years: int | None = Field(None, ge=0, le=25, description="loan length [yr]; 0 = paid cash")


class Assumption(BaseModel):
    label: str
    value: str
    source: str


class SimulateResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "building_id": "BATIMENT0000000312345678", "annual_consumption_kwh": 4500, "kwp": 3.0,
        "face_ids": ["BATIMENT0000000312345678-1"],
        "economics": {"production_kwh_yr": 3100, "cost_eur": 7200, "self_consumption_rate": 0.42,
                      "savings_eur_yr": 520, "payback_yr": 18.6, "payback_text": "rentabilisé en 19 ans",
                      "net_gain_eur": 2300, "analysis_years": 25, "verdict": "marginal",
                      "monthly_production_kwh": [90, 140, 250, 340, 390, 400, 400, 350, 280, 190, 100, 70],
                      "co2_avoided_kg_yr": 160},
        "assumptions": [{"label": "TVA", "value": "5,5 % jusqu'à 9 kWc si …", "source": "CGI art. 278-0 bis"}],
    }]})

    building_id: str
    annual_consumption_kwh: float | None = None
    kwp: float | None = None
    face_ids: list[str] | None = None
    economics: dict[str, Any] = Field(description="geo.roofs.economics.Simulation (units in the names; "
                                                  "monthly_production_kwh, cash_flow year by year)")
    whole_roof: dict[str, Any] | None = Field(
        None, description="companies and public owners: the same economics for the whole suitable roof")
    assumptions: list[Assumption] = Field(description="the assumptions behind the figures, with sources (French)")


class CommuneStats(BaseModel):
    """Solar potential, park access, friches and car parks of one commune or agglomeration (level = 'epci')."""

    level: str
    code: str
    nom: str | None = None
    epci_siren: str | None = None
    solar: dict[str, Any] | None = Field(None, description="row of communes_solar (without geometry)")
    access: dict[str, Any] | None = Field(None, description="row of communes_access (without geometry)")
    sites: dict[str, Any] | None = Field(
        None, description="row of communes_sites (without geometry): friches' ground PV, APER car parks")


class StatsResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"communes": [{
        "level": "commune", "code": "62498", "nom": "Lens", "epci_siren": "246200364",
        "solar": {"n_buildings": 12000, "kwp": 95000.0, "production_mwh_yr": 88000.0},
        "access": {"population": 31000, "share_within_10min": 0.71},
    }]}]})

    communes: list[CommuneStats]


class LegendStop(BaseModel):
    value: float
    color: str = Field(description="#rrggbb")


class Legend(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "title": "Irradiation annuelle", "unit": "kWh/m²/an", "colormap": "inferno", "min": 500, "max": 1250,
        "stops": [{"value": 500, "color": "#000004"}, {"value": 1250, "color": "#fcffa4"}],
    }]})

    title: str
    unit: str
    colormap: str
    min: float
    max: float
    stops: list[LegendStop]
    description: str


class ErrorBody(BaseModel):
    code: str
    detail: str = Field(description="message en français")


# -- roof suitability classes (geo.roofs.classes) --------------------------------------------------


class SuitabilityClassInfo(BaseModel):
    """One roof class, as the map legend and the printable report show it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "code": "excellent", "label": "Excellent", "colour": "#e31a1c", "min_share_of_optimum": 0.9,
        "suitable": True, "explanation": "Ce toit reçoit au moins 90 % du soleil…"}]})

    code: str = Field(description="value of the suitability column of roof_faces and buildings")
    label: str = Field(description="French label")
    colour: str = Field(description="#rrggbb")
    min_share_of_optimum: float | None = Field(
        description="lowest irradiation as a share (0–1) of the site's best plane; null for the unsuitable class")
    suitable: bool = Field(description="whether the class's faces count in a roof's potential")
    explanation: str = Field(description="what the class means (French)")
