"""The printable roof report an adviser hands to a household (``GET /rapport/{building_id}``).

:func:`build_report` assembles a typed :class:`Report` from the data ``GET /api/roof`` and
``POST /api/simulate`` use, through the same service functions (:func:`api.services.building_by_id`,
:func:`api.services.roof_faces_of`, :func:`api.services.simulate_faces`, :func:`api.services.weather_info`);
:func:`render_report` turns it into one self-contained HTML page (Jinja2 template
``api/templates/report.html.j2``, inline CSS ``api/static/report.css``, inline SVG from :mod:`api.report_svg`).
Templates only format: every figure comes from :mod:`geo.roofs.economics` or the built layers.

Which economics the report shows
--------------------------------
:func:`api.services.simulate_with_whole_roof` — the function of ``POST /api/simulate`` — with the building's
stored owner, load profile and consumption unless the request changes them: at the defaults its figures are the
building's stored ``reco_*`` (tests check it). The report renders the typed
:class:`geo.roofs.economics.Simulation` as is (monthly production included) and never recomputes. A building
without recommendation and no ``kwp``: no installation, and the report says why. A company or a public owner
gets the self-consumption sizing and the whole suitable roof.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import numpy as np
import shapely
from markupsafe import Markup
from pyproj import CRS, Transformer

from api import services
from api.layers import Catalog
from api.report_svg import MONTH_NAMES_FR, NBSP, PlanFace, bar_chart_svg, format_number, plan_svg
from geo import config
from geo.products import rooftops
from geo.roofs.classes import CLASSES, SuitabilityClass, suitability_class
from geo.roofs.economics import OWNER_LABELS, Simulation, Tariffs, assumptions

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
CSS_PATH = Path(__file__).resolve().parent / "static" / "report.css"

#: Colour of a face without class.
_NO_CLASS_COLOUR = "#d9d9d9"


# ---------------------------------------------------------------------------------------------------
# The report model
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFace:
    """One roof face as the report shows it (row of ``roof_faces``; number = position in the report).

    ``geometry_m`` is the face polygon in local metres (x east, y north, origin at the building), and
    ``modules_used`` the modules the report's installation puts on it.
    """

    number: int
    face_id: str
    orientation: str
    azimuth_deg: float | None
    tilt_deg: float | None
    is_flat: bool
    usable_area_m2: float | None
    irradiation_kwh_m2_yr: float | None
    suitability: str | None
    suitability_label: str
    colour: str
    n_modules: int | None
    kwp: float | None
    production_kwh_yr: float | None
    modules_used: int
    geometry_m: shapely.Geometry | None


@dataclass(frozen=True)
class Installation:
    """The installation of the report: :func:`geo.roofs.economics.simulate`'s typed result, rendered as is.

    ``recommended``: the size was chosen by the recommendation (else asked with ``kwp``); ``whole_roof``: for a
    company or a public owner, the same economics for the whole suitable roof.
    """

    recommended: bool
    requested_kwp: float | None
    e: Simulation
    whole_roof: Simulation | None = None


@dataclass(frozen=True)
class Potential:
    """Full-roof potential of the building (``buildings`` columns): all modules on the suitable faces."""

    kwp_max: float | None
    production_kwh_yr_max: float | None
    usable_area_m2: float | None
    n_faces: int
    n_suitable_faces: int
    suitability: str | None
    suitability_label: str
    suitability_colour: str


@dataclass(frozen=True)
class HotWater:
    """Solar hot water (``swh_*`` columns of the building); ``face_number`` refers to :attr:`ReportFace.number`."""

    collector_m2: float | None
    heat_kwh_yr: float | None
    solar_fraction: float | None
    face_number: int | None


@dataclass(frozen=True)
class Assumptions:
    """The dated parameters behind the figures (from :mod:`geo.config` and the weather tags).

    ``economics``: :func:`geo.roofs.economics.assumptions` (label, value, source), the same list the API and
    the map panel print.
    """

    tariff_quarter: str
    economics: tuple[dict[str, str], ...]
    system_loss: float
    module_peak_power_wp: float
    module_length_m: float
    module_width_m: float
    degradation_per_year: float
    reco_kwp_min: float
    reco_kwp_max: float
    swh_persons: int
    swh_litres_per_person_day: float
    swh_hot_water_temp_c: float
    weather_source: str | None
    weather_location: str | None
    weather_period: str | None
    weather_approximate: bool


@dataclass(frozen=True)
class Report:
    """Everything the printable report shows about one building."""

    building_id: str
    cleabs: str | None
    address: str | None
    commune: str | None
    code_insee: str | None
    generated_on: dt.date
    consumption_kwh_yr: float
    consumption_is_default: bool
    requested_kwp: float | None
    faces: tuple[ReportFace, ...]
    footprint_m: shapely.Geometry | None
    installation: Installation | None
    no_installation_reason: str | None
    potential: Potential
    hot_water: HotWater
    assumptions: Assumptions
    classes: tuple[SuitabilityClass, ...]
    notes: tuple[str, ...]
    #: How well the footprint and the LiDAR agree (:func:`api.services.data_quality`), None without.
    data_quality: dict[str, Any] | None = None
    #: The economics options asked (those of ``/api/simulate``), carried into the PDF link.
    options: services.SimulateOptions = services.SimulateOptions()


# ---------------------------------------------------------------------------------------------------
# Assembling it
# ---------------------------------------------------------------------------------------------------


def project_local(geoms: np.ndarray, crs: CRS | str, *, lon0: float, lat0: float) -> np.ndarray:
    """Geometries in ``crs`` → metres in an azimuthal equidistant projection centred on (lon0, lat0) [°].

    Distances from the centre are true and north is straight up at the centre, so a plan drawn from
    these coordinates has north up and one scale (to < 0.01 % across a building).

    Returns
    -------
    numpy.ndarray
        The geometries, x to the east and y to the north [m], origin at (lon0, lat0).
    """
    local = f"+proj=aeqd +lat_0={float(lat0)!r} +lon_0={float(lon0)!r} +datum=WGS84 +units=m +no_defs"
    tr = Transformer.from_crs(crs, local, always_xy=True)

    def fn(xy: np.ndarray) -> np.ndarray:
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return np.asarray(shapely.transform(np.asarray(geoms, dtype=object), fn), dtype=object)


def _num(v: Any) -> float | None:
    if v is None:
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None


def _commune_name(catalog: Catalog, code: str | None, city: str | None) -> str | None:
    """Name of the commune ``code`` (layer communes_solar), else the city of the building's BAN address."""
    if code and rooftops.COMMUNES_SOLAR.name in catalog.collections:
        feats = catalog.collection(rooftops.COMMUNES_SOLAR.name).read(equals={"code": str(code)}, geometry=False)
        for p in feats.properties:
            if str(p.get("level") or "commune") == "commune" and p.get("nom"):
                return str(p["nom"])
    return city or None


def _class_label_colour(code: object) -> tuple[str, str]:
    """French label and colour of a ``suitability`` value (a dash and grey without class)."""
    c = suitability_class(code)
    return (c.label, c.colour) if c is not None else ("–", _NO_CLASS_COLOUR)


def _orientation(p: dict[str, Any]) -> str:
    if p.get("is_flat") or p.get("orientation") == "plat":
        return "toit plat"
    return str(p.get("orientation") or "–")


def _assumptions(quarter: str, weather: dict[str, Any]) -> Assumptions:
    return Assumptions(
        tariff_quarter=quarter, economics=tuple(assumptions(Tariffs.default(quarter))),
        system_loss=config.PV_SYSTEM_LOSS, module_peak_power_wp=config.MODULE_PEAK_POWER_WP,
        module_length_m=config.MODULE_LENGTH_M, module_width_m=config.MODULE_WIDTH_M,
        degradation_per_year=config.MODULE_DEGRADATION_PER_YEAR,
        reco_kwp_min=config.RECO_KWP_MIN, reco_kwp_max=config.RECO_KWP_MAX,
        swh_persons=config.SWH_PERSONS, swh_litres_per_person_day=config.SWH_LITRES_PER_PERSON_DAY,
        swh_hot_water_temp_c=config.SWH_HOT_WATER_TEMP_C,
        weather_source=weather.get("source"), weather_location=weather.get("location"),
        weather_period=weather.get("period"),
        weather_approximate=bool(weather.get("approximate")),
    )


def build_report(
    catalog: Catalog,
    building_id: str,
    *,
    annual_consumption_kwh: float | None = None,
    kwp: float | None = None,
    options: services.SimulateOptions | None = None,
    today: dt.date | None = None,
) -> Report:
    """The report of one building.

    Parameters
    ----------
    catalog
        The served build.
    building_id
        ``buildings.building_id`` (the BD TOPO ``cleabs`` for IGN footprints).
    annual_consumption_kwh
        Household electricity use [kWh/yr]; default :data:`geo.config.HOUSEHOLD_CONSUMPTION_KWH_YR`
        (the figures of ``/api/roof``).
    kwp
        Peak power wanted [kWp] (as ``/api/simulate``); default: the recommended size.
    options
        The other options of ``/api/simulate`` (load profile, EMS, battery, VAT, cost, years, escalation, loan).
    today
        Date printed on the report (default: today in Paris).

    Raises
    ------
    geo.errors.NotFoundError
        Unknown building (French message).
    geo.errors.InvalidRequestError
        The simulation is impossible (French message).
    """
    buildings = catalog.collection(rooftops.BUILDINGS.name)
    _, props, footprint = services.building_by_id(catalog, building_id)
    if rooftops.ROOF_FACES.name in catalog.collections:
        feats = services.roof_faces_of(catalog, building_id, footprint)
        face_props = list(feats.properties)
        face_geoms = list(feats.geometries)
        faces_crs = catalog.collection(rooftops.ROOF_FACES.name).info.crs
    else:
        feats, face_props, face_geoms, faces_crs = None, [], [], buildings.info.crs
    order = sorted(range(len(face_props)), key=lambda i: -(_num(face_props[i].get("production_kwh_yr")) or 0.0))
    face_props = [face_props[i] for i in order]
    face_geoms = [face_geoms[i] for i in order]

    req = replace(options or services.SimulateOptions(), annual_consumption_kwh=annual_consumption_kwh)
    opts = services.economics_options(props, req)
    consumption = opts.annual_consumption_kwh
    stored = services.economics_options(props, services.SimulateOptions()).annual_consumption_kwh
    is_default = abs(consumption - stored) < 1e-6
    weather = services.weather_info(catalog, props)
    notes: list[str] = []

    # -- the installation and its economics (the functions of /api/roof and /api/simulate)
    installation: Installation | None = None
    reason: str | None = None
    used: dict[str, int] = {}
    capacity = sum(int(_num(p.get("n_modules")) or 0) for p in face_props)
    recommendable = (_num(props.get("reco_kwp")) or 0.0) > 0
    if not face_props:
        reason = "Aucun pan de toiture n'a été reconnu sur ce bâtiment dans le cadastre solaire."
    elif capacity == 0:
        reason = "Aucun panneau standard ne tient sur les pans de ce toit (surface utile trop petite ou encombrée)."
    elif kwp is None and not recommendable and props.get("reco_kwp") is not None:
        reason = (f"Moins de {config.SUITABLE_MIN_MODULES} panneaux tiennent sur les pans adaptés de ce toit : "
                  "aucune installation n'est conseillée.")
    else:
        eco, whole = services.simulate_with_whole_roof(catalog, building_id, options=req, kwp=kwp, face_ids=None)
        used = dict(eco.faces)
        installation = Installation(recommended=kwp is None, requested_kwp=kwp, e=eco, whole_roof=whole)
        if installation.e.capped:
            notes.append(f"La puissance demandée ({format_number(kwp, 1)}{NBSP}kWc) ne tient pas sur ce toit : "
                         f"le rapport retient le maximum possible, {format_number(installation.e.kwp, 2)}{NBSP}kWc.")

    quarter = installation.e.tariff_quarter if installation else config.PV_TARIFF_QUARTER
    built_quarter = props.get("tariff_quarter")
    if installation and built_quarter and built_quarter != quarter:
        notes.append(f"Le cadastre a été calculé avec les tarifs {built_quarter} ; ce rapport applique ceux de "
                     f"{quarter}.")

    # -- geometry for the plan: local metres around the building
    centre = shapely.centroid(footprint) if footprint is not None else None
    geoms_m: list[shapely.Geometry | None] = [None] * len(face_geoms)
    footprint_m = None
    if centre is not None and not shapely.is_empty(centre):
        lon0, lat0 = buildings.to_wgs84.transform(centre.x, centre.y)
        footprint_m = project_local(np.array([footprint], dtype=object), buildings.info.crs,
                                    lon0=float(lon0), lat0=float(lat0))[0]
        if face_geoms:
            geoms_m = list(project_local(np.array(face_geoms, dtype=object), faces_crs, lon0=float(lon0),
                                         lat0=float(lat0)))

    faces = tuple(
        ReportFace(
            number=i + 1, face_id=str(p.get("face_id")), orientation=_orientation(p),
            azimuth_deg=_num(p.get("azimuth_deg")), tilt_deg=_num(p.get("tilt_deg")), is_flat=bool(p.get("is_flat")),
            usable_area_m2=_num(p.get("usable_area_m2")), irradiation_kwh_m2_yr=_num(p.get("irradiation_kwh_m2_yr")),
            suitability=p.get("suitability"), suitability_label=_class_label_colour(p.get("suitability"))[0],
            colour=_class_label_colour(p.get("suitability"))[1],
            n_modules=None if _num(p.get("n_modules")) is None else int(_num(p.get("n_modules")) or 0),
            kwp=_num(p.get("kwp")), production_kwh_yr=_num(p.get("production_kwh_yr")),
            modules_used=int(used.get(str(p.get("face_id")), 0)), geometry_m=g,
        )
        for i, (p, g) in enumerate(zip(face_props, geoms_m, strict=True))
    )
    numbers = {f.face_id: f.number for f in faces}
    suit = props.get("suitability")
    if weather.get("approximate"):
        notes.append("Météo approchée (climatologie hors ligne) : les chiffres sont des ordres de grandeur.")
    address = props.get("address")
    code = props.get("code_insee")
    return Report(
        building_id=str(props.get("building_id") or building_id), cleabs=props.get("cleabs"), address=address,
        commune=_commune_name(catalog, code, props.get("address_city")), code_insee=code,
        generated_on=today or dt.datetime.now(ZoneInfo(config.PMA_TIMEZONE)).date(),
        consumption_kwh_yr=consumption, consumption_is_default=is_default, requested_kwp=kwp, options=req,
        faces=faces, footprint_m=footprint_m, installation=installation, no_installation_reason=reason,
        potential=Potential(
            kwp_max=_num(props.get("kwp_max")), production_kwh_yr_max=_num(props.get("production_kwh_yr_max")),
            usable_area_m2=_num(props.get("usable_area_m2")), n_faces=int(_num(props.get("n_faces")) or len(faces)),
            n_suitable_faces=int(_num(props.get("n_suitable_faces")) or 0), suitability=suit,
            suitability_label=_class_label_colour(suit)[0], suitability_colour=_class_label_colour(suit)[1],
        ),
        hot_water=HotWater(
            collector_m2=_num(props.get("swh_collector_m2")), heat_kwh_yr=_num(props.get("swh_heat_kwh_yr")),
            solar_fraction=_num(props.get("swh_solar_fraction")),
            face_number=numbers.get(str(props.get("swh_face_id"))),
        ),
        assumptions=_assumptions(quarter, weather),
        classes=CLASSES,
        notes=tuple(notes),
        data_quality=services.data_quality(props),
    )


# ---------------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------------


def date_fr(d: dt.date) -> str:
    """``1er mars 2026``, ``12 novembre 2026``."""
    return f"{'1er' if d.day == 1 else d.day} {MONTH_NAMES_FR[d.month - 1]} {d.year}"


def _iso_fr(text: str) -> str:
    try:
        return date_fr(dt.date.fromisoformat(text))
    except ValueError:
        return text


def _pct(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{format_number(value * 100, digits)}{NBSP}%"


def _data_value(value: float | int | str | None) -> str:
    """Raw value for a ``data-value`` attribute (empty when missing)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if np.isfinite(value) else ""
    return str(value)


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = format_number
    env.filters["pct"] = _pct
    env.filters["dv"] = _data_value
    env.filters["date_fr"] = date_fr
    env.filters["iso_fr"] = _iso_fr
    return env


@cache
def _css() -> str:
    return CSS_PATH.read_text(encoding="utf-8")


def plan_of(report: Report) -> str:
    """The SVG plan of the report's roof (faces numbered as in its table)."""
    faces = [
        PlanFace(label=str(f.number), geometry=f.geometry_m, colour=f.colour, face_id=f.face_id,
                 title=f"Pan {f.number} : {f.orientation}, classe {f.suitability_label}")
        for f in report.faces if f.geometry_m is not None
    ]
    return plan_svg(faces, footprint=report.footprint_m, title=f"Plan de la toiture du bâtiment {report.building_id}")


def chart_of(report: Report) -> str | None:
    """The SVG bar chart of the installation's monthly production (None without installation)."""
    if report.installation is None:
        return None
    return bar_chart_svg(report.installation.e.monthly_production_kwh, unit="kWh",
                         title="Production mensuelle estimée de l'installation, en kWh")


def render_report(report: Report) -> str:
    """The report as one self-contained HTML page (French, A4 print-ready, no external asset)."""
    chart = chart_of(report)
    return _environment().get_template("report.html.j2").render(
        r=report, a=report.assumptions, i=report.installation, e=report.installation.e if report.installation else None,
        plan=Markup(plan_of(report)), chart=None if chart is None else Markup(chart), css=Markup(_css()),
        france_renov_phone=config.REPORT_FRANCE_RENOV_PHONE, owner_labels=OWNER_LABELS, pdf_query=pdf_query(report),
    )


def pdf_query(report: Report) -> str:
    """The query string (``?consommation=…&kwp=…&profil=…`` or empty) of the report's PDF link: the same figures."""
    from urllib.parse import urlencode

    params: dict[str, str] = {}
    if not report.consumption_is_default:
        params["consommation"] = f"{report.consumption_kwh_yr:g}"
    if report.requested_kwp is not None:
        params["kwp"] = f"{report.requested_kwp:g}"
    o = report.options
    for name, value in (("profil", o.load_profile), ("pilotage", o.ems), ("batterie", o.battery_kwh), ("tva", o.vat),
                        ("cout", o.installed_cost_eur), ("duree", o.analysis_years), ("hausse", o.escalation),
                        ("pret_duree", o.loan_years), ("pret_taux", o.loan_rate)):
        if value is not None:
            params[name] = str(value).lower() if isinstance(value, bool) else f"{value:g}" \
                if isinstance(value, float) else str(value)
    return "?" + urlencode(params) if params else ""


def render_error(status: int, message: str) -> str:
    """A small French HTML page for an error of the report route."""
    return _environment().get_template("report_error.html.j2").render(status=status, message=message, css=Markup(_css()))
