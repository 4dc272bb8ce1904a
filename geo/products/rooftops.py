"""``rooftops.gpkg``: the solar cadastre written by the ``roofs`` stage — what is in it and how to read it.

One GeoPackage in the DSM's CRS (Lambert-93 for IGN data) with three spatial layers and two
attribute tables (every column with its unit below; methods in docs/data-dictionary.md):

* :data:`ROOF_FACES` (``roof_faces``) — one polygon per planar roof face: orientation, areas,
  irradiation with shading, modules, kWp, production, suitability class, orientation bin;
* :data:`BUILDINGS` (``buildings``) — one footprint per building: totals, best face, the
  recommended household installation and its economics, solar hot water, address, commune;
* :data:`COMMUNES_SOLAR` (``communes_solar``) — totals per commune and per agglomeration (EPCI);
* :data:`PV_PROFILES` (``pv_profiles``) — one row per orientation bin: monthly performance and
  the 8760 hourly shares of production (encoded by :func:`encode_profile`);
* :data:`SITE` (``site``) — one row: best plane, flat-roof racks, weather, monthly air
  temperature, input problems met (read as a :class:`Site`).

Reading::

    from geo.products import rooftops
    faces = rooftops.read_layer(path, rooftops.ROOF_FACES)       # GeoDataFrame
    profiles = rooftops.read_pv_profiles(path)                   # {profile_id: 8760 shares}
    site = rooftops.read_site(path)                              # Site

Writing: :func:`write_rooftops` (atomic; checks every contract column is there).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.io.gpkg import read_layer as _read_gpkg_layer
from geo.io.gpkg import write_layers
from geo.products.schema import Column, Layer, monthly
from geo.types import PROFILE_HOURS, WeatherInfo

#: File name in a build folder.
FILE = "rooftops.gpkg"

# ---------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------

#: Monthly irradiation of a face (raster bands 2–13) [kWh/m²].
IRRADIATION_MONTH_COLUMNS = tuple(f"irradiation_m{m:02d}_kwh_m2" for m in range(1, 13))
#: Monthly irradiation on the modules [kWh/m²].
MODULE_IRRADIATION_MONTH_COLUMNS = tuple(f"module_irradiation_m{m:02d}_kwh_m2" for m in range(1, 13))
#: Monthly AC production of a face [kWh].
PRODUCTION_MONTH_COLUMNS = tuple(f"production_m{m:02d}_kwh" for m in range(1, 13))

ROOF_FACES = Layer(
    "roof_faces",
    (
        Column("face_id", "", "unique id {building_id}-{n}"),
        Column("building_id", "", "building of the face"),
        Column("tilt_deg", "°", "tilt from horizontal of the fitted plane"),
        Column("azimuth_deg", "°", "direction the face looks to, clockwise from north, 180 = south; NaN when flat"),
        Column("orientation", "", "French word for the azimuth (8 sectors) or 'plat'"),
        Column("is_flat", "", "flat roof (tilt < FLAT_ROOF_MAX_TILT_DEG)"),
        Column("area_m2", "m²", "3-D (sloped) area"),
        Column("footprint_area_m2", "m²", "horizontal area of the face polygon"),
        Column("obstacle_area_m2", "m²", "horizontal area of the obstacles on the face"),
        Column("usable_area_m2", "m²", "3-D area left after the edge setback and the obstacles"),
        Column("irradiation_kwh_m2_yr", "kWh/m²/yr", "mean annual irradiation on the roof, with shading"),
        *monthly("irradiation_m{m:02d}_kwh_m2", "kWh/m²", "irradiation on the roof"),
        Column("shading_loss", "0–1", "mean annual shading loss"),
        Column("sky_view_factor", "0–1", "mean sky view factor"),
        Column("module_irradiation_kwh_m2_yr", "kWh/m²/yr", "irradiation on the modules (rack tilt on flat roofs)"),
        *monthly("module_irradiation_m{m:02d}_kwh_m2", "kWh/m²", "irradiation on the modules"),
        Column("ratio_to_optimum", "0–1", "module irradiation / unshaded irradiation of the site's best plane"),
        Column("module_layout", "", "portrait, landscape, rack or none"),
        Column("n_modules", "", "standard modules that fit in the usable area"),
        Column("kwp", "kWp", "n_modules x module power"),
        Column("production_kwh_yr", "kWh/yr", "annual AC production after losses (NaN without irradiation)"),
        *monthly("production_m{m:02d}_kwh", "kWh", "AC production"),
        Column("specific_yield_kwh_kwp", "kWh/kWp/yr", "production per kWp"),
        Column("suitability", "", "class: excellent, bon, moyen, inadapté"),
        Column("profile_id", "", "orientation bin: its row in pv_profiles"),
        Column("plane_rms_m", "m", "RMS residual of the DSM pixels about the face's plane"),
    ),
    geometry="Polygon", key="face_id", description="one polygon per planar roof face",
)

BUILDINGS = Layer(
    "buildings",
    (
        Column("building_id", "", "BD TOPO cleabs, or dsm-{n} for buildings detected from the DSM"),
        Column("cleabs", "", "BD TOPO id or null"),
        Column("address", "", "BAN label of the building"),
        Column("address_housenumber", "", "BAN numero of that address"),
        Column("address_suffix", "", "BAN rep (bis, ter…)"),
        Column("address_street", "", "BAN nom_voie"),
        Column("address_postcode", "", "BAN code_postal"),
        Column("address_city", "", "BAN nom_commune"),
        Column("code_insee", "", "commune of the building"),
        Column("status", "", "ok, outside_dsm, no_valid_pixel, no_face"),
        Column("n_faces", "", "roof faces"),
        Column("n_suitable_faces", "", "faces classed excellent, bon or moyen"),
        Column("usable_area_m2", "m²", "usable area of the suitable faces"),
        Column("kwp_max", "kWp", "all modules on the suitable faces"),
        Column("production_kwh_yr_max", "kWh/yr", "their production"),
        Column("best_face_id", "", "face with the best specific yield holding enough modules"),
        Column("suitability", "", "class of the best face"),
        Column("reco_kwp", "kWp", "recommended installation (household, company or public owner: owner)"),
        Column("reco_n_modules", "", "its modules"),
        Column("reco_production_kwh_yr", "kWh/yr", "its production"),
        Column("reco_cost_eur", "€", "its installed cost as paid (after VAT, or before VAT when a company recovers it)"),
        Column("reco_premium_eur", "€", "prime à l'autoconsommation"),
        Column("reco_self_consumption_rate", "0–1", "self-consumed / produced, hour by hour"),
        Column("reco_savings_eur_yr", "€/yr", "first-year bill saving"),
        Column("reco_sales_eur_yr", "€/yr", "first-year sale of the surplus"),
        Column("reco_payback_yr", "yr", "years until the cumulated cash flow turns positive (NaN: beyond analysis_years)"),
        Column("reco_net_gain_eur", "€", "cumulated cash flow after analysis_years (docs/economics.md)"),
        Column("analysis_years", "yr", "length of the economic analysis (the panels' life)"),
        Column("owner", "", "menage, entreprise or collectivite (BD TOPO usage_1, or a large flat roof)"),
        Column("load_profile", "", "load profile of the recommendation (geo/config.py LOAD_PROFILES)"),
        Column("consumption_kwh_yr", "kWh/yr", "annual electricity use of the recommendation"),
        Column("co2_avoided_kg_yr", "kg CO2e/yr", "first-year production x grid factor (gross)"),
        Column("swh_face_id", "", "face chosen for solar hot water"),
        Column("swh_collector_m2", "m²", "collector area"),
        Column("swh_heat_kwh_yr", "kWh/yr", "useful solar heat"),
        Column("swh_solar_fraction", "0–1", "useful solar heat / (hot water demand + store losses), f-chart"),
        Column("weather_source", "", "weather of the irradiation, with '(approximate)' for the offline default"),
        Column("tariff_quarter", "", "validity quarter of the tariffs used"),
        Column("dq_offset_m", "m", "offset found between the given footprint and the roof in the DSM"),
        Column("dq_outline_change_m", "m", "outer walls moved out (+) or in (−) to the roof's edge, on average"),
        Column("dq_roof_share", "0–1", "share of the given footprint's pixels that are roof in the DSM"),
        Column("dq_plane_rms_m", "m", "plane-fit RMS of the roof faces, area-weighted"),
        Column("dq_tree_share", "0–1", "share of the roof under tree crowns"),
    ),
    geometry="Polygon", key="building_id", description="one footprint per building",
)

COMMUNES_SOLAR = Layer(
    "communes_solar",
    (
        Column("level", "", "commune, epci, or zone when no communes were given"),
        Column("code", "", "INSEE code (commune) or SIREN (EPCI)"),
        Column("nom", "", "name"),
        Column("epci_siren", "", "agglomeration of the commune"),
        Column("n_buildings", "", "buildings in it"),
        Column("n_suitable_faces", "", "faces classed excellent, bon or moyen"),
        Column("usable_area_m2", "m²", "usable area of those faces"),
        Column("kwp", "kWp", "modules that fit on them"),
        Column("production_mwh_yr", "MWh/yr", "their production"),
    ),
    geometry="MultiPolygon", key="code", description="totals per commune and per agglomeration",
)

PV_PROFILES = Layer(
    "pv_profiles",
    (
        Column("profile_id", "", "orientation bin, e.g. t30a180, or rack"),
        Column("tilt_deg", "°", "bin tilt"),
        Column("azimuth_deg", "°", "bin azimuth, 180 = south"),
        *(c for m in range(1, 13) for c in (
            Column(f"poa_m{m:02d}_kwh_m2", "kWh/m²", f"unshaded plane irradiation, month {m:02d}"),
            Column(f"ac_m{m:02d}_kwh_kwp", "kWh/kWp", f"AC energy per kWp, month {m:02d}"),
            Column(f"performance_m{m:02d}", "kWh/kWp per kWh/m²", f"ac / poa, month {m:02d}"),
            Column(f"g_eff_m{m:02d}_w_m2", "W/m²", f"energy-weighted mean plane irradiance, month {m:02d}"),
        )),
        Column("hourly_share", "", "base64 of 8760 little-endian float32: share of its month's production "
                                   "in each local clock hour of the canonical year"),
    ),
    key="profile_id", description="one row per orientation bin used",
)

SITE = Layer(
    "site",
    (
        Column("optimum_tilt_deg", "°", "tilt of the best unshaded plane"),
        Column("optimum_azimuth_deg", "°", "its azimuth"),
        Column("optimum_irradiation_kwh_m2_yr", "kWh/m²/yr", "its annual irradiation"),
        Column("rack_tilt_deg", "°", "flat-roof rack tilt"),
        Column("rack_pitch_m", "m", "rack row pitch"),
        Column("rack_gcr", "0–1", "rack ground-cover ratio"),
        Column("winter_noon_elevation_deg", "°", "sun elevation at winter-solstice noon"),
        Column("weather_source", "", "weather source (with '(approximate)' for the offline default)"),
        Column("weather_approximate", "", "the weather is the approximate offline default"),
        Column("weather_location", "", "place of the weather"),
        Column("weather_period", "", "period of the weather"),
        Column("household_consumption_kwh_yr", "kWh/yr", "consumption of the recommendations"),
        Column("tariff_quarter", "", "validity quarter of the tariffs"),
        Column("n_buildings", "", "buildings"),
        Column("n_faces", "", "roof faces"),
        *monthly("temp_air_m{m:02d}_c", "°C", "mean air temperature"),
    ),
    description="one row: best plane, flat-roof racks, weather, monthly air temperature, issue_* counts",
)

#: The spatial layers (what the API serves) and the attribute tables, in file order.
SPATIAL_LAYERS: tuple[Layer, ...] = (ROOF_FACES, BUILDINGS, COMMUNES_SOLAR)
TABLES: tuple[Layer, ...] = (PV_PROFILES, SITE)
LAYERS: tuple[Layer, ...] = SPATIAL_LAYERS + TABLES
#: Optional layer of BAN addresses the API's geocoder uses when present (written by no stage yet).
ADDRESSES_LAYER = "addresses"

# ---------------------------------------------------------------------------
# Hourly profiles
# ---------------------------------------------------------------------------

def encode_profile(share: np.ndarray) -> str:
    """8760 hourly shares as base64 of little-endian float32 (the ``hourly_share`` column)."""
    return base64.b64encode(np.asarray(share, dtype="<f4").tobytes()).decode("ascii")


def decode_profile(text: str) -> np.ndarray:
    """Inverse of :func:`encode_profile` (float64 array of 8760 values); ValueError on a bad length."""
    arr = np.frombuffer(base64.b64decode(text), dtype="<f4").astype(np.float64)
    if arr.size != PROFILE_HOURS:
        raise ValueError(f"profile has {arr.size} values, expected {PROFILE_HOURS}")
    return arr


class Profile(Protocol):
    """What a ``pv_profiles`` row is made from (:class:`geo.roofs.pv.OrientationYield` is one)."""

    @property
    def profile_id(self) -> str: ...
    @property
    def tilt_deg(self) -> float: ...
    @property
    def azimuth_deg(self) -> float: ...
    @property
    def poa_kwh_m2(self) -> np.ndarray: ...  # 12 months [kWh/m²]
    @property
    def ac_kwh_kwp(self) -> np.ndarray: ...  # 12 months [kWh/kWp]
    @property
    def performance(self) -> np.ndarray: ...  # 12 months [kWh/kWp per kWh/m²]
    @property
    def g_eff_w_m2(self) -> np.ndarray: ...  # 12 months [W/m²]
    @property
    def hourly_share(self) -> np.ndarray: ...  # 8760 shares


def profiles_table(profiles: Iterable[Profile]) -> pd.DataFrame:
    """The ``pv_profiles`` table of some orientation bins."""
    rows = []
    for p in profiles:
        row: dict[str, object] = {"profile_id": p.profile_id, "tilt_deg": p.tilt_deg, "azimuth_deg": p.azimuth_deg}
        for m in range(12):
            row[f"poa_m{m + 1:02d}_kwh_m2"] = float(p.poa_kwh_m2[m])
            row[f"ac_m{m + 1:02d}_kwh_kwp"] = float(p.ac_kwh_kwp[m])
            row[f"performance_m{m + 1:02d}"] = float(p.performance[m])
            row[f"g_eff_m{m + 1:02d}_w_m2"] = float(p.g_eff_w_m2[m])
        row["hourly_share"] = encode_profile(p.hourly_share)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(PV_PROFILES.column_names))


# ---------------------------------------------------------------------------
# The site row
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """The one row of the ``site`` table."""

    optimum_tilt_deg: float
    optimum_azimuth_deg: float
    optimum_irradiation_kwh_m2_yr: float
    rack_tilt_deg: float
    rack_pitch_m: float
    rack_gcr: float
    winter_noon_elevation_deg: float
    weather: WeatherInfo
    household_consumption_kwh_yr: float
    tariff_quarter: str
    n_buildings: int
    n_faces: int
    temp_air_c: np.ndarray  # 12 monthly means [°C]
    issues: Mapping[str, int] = field(default_factory=dict)  # input problems met, by kind

    def table(self) -> pd.DataFrame:
        """The one-row ``site`` table (``issue_<kind>`` columns after the contract ones)."""
        row: dict[str, object] = {
            "optimum_tilt_deg": self.optimum_tilt_deg, "optimum_azimuth_deg": self.optimum_azimuth_deg,
            "optimum_irradiation_kwh_m2_yr": self.optimum_irradiation_kwh_m2_yr,
            "rack_tilt_deg": self.rack_tilt_deg, "rack_pitch_m": self.rack_pitch_m, "rack_gcr": self.rack_gcr,
            "winter_noon_elevation_deg": self.winter_noon_elevation_deg,
            "weather_source": self.weather.label(), "weather_approximate": bool(self.weather.approximate),
            "weather_location": self.weather.location, "weather_period": self.weather.period,
            "household_consumption_kwh_yr": self.household_consumption_kwh_yr,
            "tariff_quarter": self.tariff_quarter, "n_buildings": self.n_buildings, "n_faces": self.n_faces,
            **{f"temp_air_m{m + 1:02d}_c": float(self.temp_air_c[m]) for m in range(12)},
            **{f"issue_{k}": int(v) for k, v in self.issues.items()},
        }
        return pd.DataFrame([row])

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> Site:
        def num(k: str) -> float:
            v = row[k]
            return float(v) if v is not None else math.nan  # type: ignore[arg-type]

        source = str(row["weather_source"])
        weather = WeatherInfo(source, str(row.get("weather_location") or ""), str(row.get("weather_period") or ""),
                              bool(row["weather_approximate"]))
        return cls(
            num("optimum_tilt_deg"), num("optimum_azimuth_deg"), num("optimum_irradiation_kwh_m2_yr"),
            num("rack_tilt_deg"), num("rack_pitch_m"), num("rack_gcr"), num("winter_noon_elevation_deg"), weather,
            num("household_consumption_kwh_yr"), str(row["tariff_quarter"]), int(row["n_buildings"]),  # type: ignore[call-overload]
            int(row["n_faces"]),  # type: ignore[call-overload]
            np.array([num(f"temp_air_m{m:02d}_c") for m in range(1, 13)]),
            {str(k)[6:]: int(v) for k, v in row.items() if str(k).startswith("issue_")},  # type: ignore[call-overload]
        )


# ---------------------------------------------------------------------------
# Writer and readers
# ---------------------------------------------------------------------------


def write_rooftops(
    path: str | Path,
    *,
    faces: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    profiles: Iterable[Profile],
    site: Site,
) -> Path:
    """Write ``rooftops.gpkg`` atomically: each layer with its contract columns in order (ValueError if one is missing)."""
    layers = {
        ROOF_FACES.name: ROOF_FACES.select(faces),
        BUILDINGS.name: BUILDINGS.select(buildings),
        COMMUNES_SOLAR.name: COMMUNES_SOLAR.select(communes),
    }
    tables = {PV_PROFILES.name: profiles_table(profiles), SITE.name: SITE.select(site.table(), extra=True)}
    return write_layers(path, layers, tables)


_MISSING = "file not found (run the roofs stage first: artois build --only roofs)"


def read_layer(path: str | Path, layer: Layer, *, columns: Iterable[str] | None = None,
               strict: bool = True) -> pd.DataFrame:
    """One layer of ``rooftops.gpkg`` (GeoDataFrame for spatial layers, DataFrame for tables).

    Raises :class:`InputError` when the file or layer is missing, unreadable, or (unless
    ``strict`` is False or ``columns`` are chosen) lacks a contract column.
    """
    df = _read_gpkg_layer(path, layer.name, geometry=layer.geometry is not None,
                          columns=list(columns) if columns is not None else None, missing=_MISSING)
    return layer.check(df, Path(path)) if strict and columns is None else df


def read_pv_profiles(path: str | Path) -> dict[str, np.ndarray]:
    """Hourly production profiles of ``rooftops.gpkg`` by ``profile_id`` (8760 shares each, each month sums to 1)."""
    path = Path(path)
    df = _read_gpkg_layer(path, PV_PROFILES.name, geometry=False, columns=["profile_id", "hourly_share"],
                          missing=_MISSING)
    if "profile_id" not in df.columns or "hourly_share" not in df.columns:
        raise InputError(path, f"layer '{PV_PROFILES.name}' lacks profile_id / hourly_share")
    try:
        return {str(r.profile_id): decode_profile(str(r.hourly_share)) for r in df.itertuples(index=False)}
    except (ValueError, TypeError) as exc:
        raise InputError(path, f"layer '{PV_PROFILES.name}': bad profile ({exc})") from exc


def read_site(path: str | Path) -> Site:
    """The ``site`` row of ``rooftops.gpkg``."""
    df = read_layer(path, SITE, strict=False)  # builds before weather_location / weather_period
    if df.empty:
        raise InputError(path, f"layer '{SITE.name}' is empty")  # type: ignore[arg-type]
    try:
        return Site.from_row({str(k): v for k, v in df.iloc[0].to_dict().items()})
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(path, f"layer '{SITE.name}': bad value ({exc})") from exc  # type: ignore[arg-type]
