"""The roofs stage: DSM (+ DTM, footprints, BAN, communes, weather) + irradiation raster → ``rooftops.gpkg``."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS

from geo import config
from geo.errors import InputError
from geo.io.rasters import find_lidar_tiles, read_raster
from geo.io.rooftops import read_irradiance, write_rooftops
from geo.roofs.aggregate import building_table, commune_table
from geo.roofs.pv import SiteModel, encode_profile
from geo.roofs.scoring import IRR_MONTH_COLS, PROD_MONTH_COLS, score_faces
from geo.roofs.segmentation import ISSUE_KEYS, detect_buildings, segment_roofs

log = logging.getLogger("artois.roofs")

#: Columns of the ``roof_faces`` layer, in order (plus geometry); see docs/data-dictionary.md.
FACE_COLUMNS = (
    "face_id", "building_id", "tilt_deg", "azimuth_deg", "orientation", "is_flat", "area_m2",
    "footprint_area_m2", "obstacle_area_m2", "usable_area_m2", "irradiation_kwh_m2_yr", *IRR_MONTH_COLS,
    "shading_loss", "sky_view_factor", "module_irradiation_kwh_m2_yr",
    *[f"module_irradiation_m{m:02d}_kwh_m2" for m in range(1, 13)], "ratio_to_optimum", "module_layout",
    "n_modules", "kwp", "production_kwh_yr", *PROD_MONTH_COLS, "specific_yield_kwh_kwp", "suitability",
    "profile_id", "plane_rms_m",
)


@dataclass
class RoofsReport:
    """What :func:`run_roofs` did."""

    path: Path
    n_buildings: int
    n_faces: int
    n_suitable_faces: int
    issues: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def line(self) -> str:
        problems = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in self.issues.items() if v)
        return (f"{self.path}: {self.n_buildings} buildings, {self.n_faces} faces ({self.n_suitable_faces} suitable)"
                f" in {self.seconds:.1f} s" + (f"; warnings: {problems}" if problems else ""))


def _read_footprints(path: Path, crs: CRS) -> tuple[gpd.GeoDataFrame, int]:
    from geo.io.buildings import read_footprints

    try:
        file_crs = pyogrio.read_info(path, layer="batiment" if "batiment" in [
            n for n, _ in pyogrio.list_layers(path)] else None).get("crs")
    except Exception:  # the reader below reports unreadable files with their name
        file_crs = None
    fps = read_footprints(path, crs=crs.to_string())
    moved = len(fps) if file_crs and CRS.from_user_input(file_crs) != crs else 0
    if moved:
        log.warning("%s: %d footprint(s) reprojected from %s to the DSM's CRS %s", path, moved,
                    CRS.from_user_input(file_crs).to_string(), crs.to_string())
    return fps, moved


def run_roofs(
    *,
    irradiance: Path,
    dsm: Sequence[Path],
    out: Path,
    dtm: Sequence[Path] | None = None,
    footprints: Path | None = None,
    addresses: Path | None = None,
    communes: Path | None = None,
    epci_table: Path | None = None,
    weather: Path | None = None,
    annual_consumption_kwh: float = config.HOUSEHOLD_CONSUMPTION_KWH_YR,
) -> RoofsReport:
    """Segment, score and aggregate the roofs, and write ``out`` (a GeoPackage).

    Parameters
    ----------
    irradiance
        The engine's raster (``irradiance.tif``), in the DSM's grid.
    dsm, dtm
        Surface model files (IGN LiDAR HD MNS tiles or any GeoTIFF) and, optionally, terrain
        model files (needed when no footprints are given: buildings are then detected from the
        height above the terrain).
    footprints
        BD TOPO ``batiment`` (or OSM buildings); optional.
    addresses
        BAN ``adresses-XX.csv``; optional.
    communes, epci_table
        Commune polygons (geo.api.gouv.fr GeoJSON) and the commune → EPCI table; optional.
    weather
        The weather file the irradiation was computed with (default: the offline climatology).
    annual_consumption_kwh
        Household consumption for the recommended installations [kWh/yr].

    Returns
    -------
    RoofsReport
    """
    from geo.io.ban import read_ban
    from geo.io.communes import read_communes
    from geo.io.weather import load_weather

    t0 = time.perf_counter()
    dsm_r = read_raster(list(dsm))
    bands, tags = read_irradiance(irradiance, dsm_r)
    moved = 0
    if footprints is not None:
        fps, moved = _read_footprints(Path(footprints), dsm_r.crs)
        id_column = "building_id"
    else:
        if not dtm:
            raise InputError(None, "no footprints and no DTM: give --footprints or --dtm to find the buildings")
        dtm_r = read_raster(list(dtm), bounds=dsm_r.bounds)
        if dtm_r.shape != dsm_r.shape:
            raise InputError(Path(dtm[0]), f"DTM grid {dtm_r.shape} differs from the DSM's {dsm_r.shape}")
        fps = detect_buildings(dsm_r.data, dtm_r.data, dsm_r.transform, crs=dsm_r.crs)
        fps["cleabs"] = None
        id_column = "building_id"
        log.info("roofs: %d building(s) detected from DSM − DTM", len(fps))
    seg = segment_roofs(dsm_r.data, dsm_r.transform, fps, crs=dsm_r.crs, id_column=id_column)
    seg.issues["reprojected_footprints"] += moved
    w = load_weather(weather)
    if tags.get("WEATHER_SOURCE") and tags["WEATHER_SOURCE"] != w.source:
        log.warning("roofs: weather %r differs from the irradiation raster's %r", w.source, tags["WEATHER_SOURCE"])
    albedo = float(tags.get("ALBEDO", config.SOLAR_ALBEDO))
    site = SiteModel(w, albedo=albedo)
    faces, profiles, summary = score_faces(seg.faces, seg.sample_pixels, bands, site)
    crs_text = dsm_r.crs.to_string()
    addr = read_ban(addresses, crs=crs_text) if addresses is not None else None
    com = read_communes(communes, epci_table=epci_table, crs=crs_text) if communes is not None else None
    source = tags.get("WEATHER_SOURCE", w.source)
    if tags.get("WEATHER_APPROXIMATE", "false" if not w.approximate else "true") == "true" and "approximate" not in source:
        source += " (approximate)"
    buildings = building_table(
        seg.buildings, faces, profiles, temp_air_c=site.monthly_temp_air_c, weather_source=source,
        addresses=addr, communes=com, annual_consumption_kwh=annual_consumption_kwh,
    )
    communes_solar = commune_table(buildings, faces, com)
    face_layer = gpd.GeoDataFrame(faces[list(FACE_COLUMNS)], geometry=faces.geometry.values, crs=dsm_r.crs)
    prof_rows = []
    for pid, p in profiles.items():
        row: dict[str, object] = {"profile_id": pid, "tilt_deg": p.tilt_deg, "azimuth_deg": p.azimuth_deg}
        for m in range(12):
            row[f"poa_m{m + 1:02d}_kwh_m2"] = float(p.poa_kwh_m2[m])
            row[f"ac_m{m + 1:02d}_kwh_kwp"] = float(p.ac_kwh_kwp[m])
            row[f"performance_m{m + 1:02d}"] = float(p.performance[m])
            row[f"g_eff_m{m + 1:02d}_w_m2"] = float(p.g_eff_w_m2[m])
        row["hourly_share"] = encode_profile(p.hourly_share)
        prof_rows.append(row)
    site_row: dict[str, object] = {
        "optimum_tilt_deg": summary.optimum_tilt_deg, "optimum_azimuth_deg": summary.optimum_azimuth_deg,
        "optimum_irradiation_kwh_m2_yr": summary.optimum_irradiation_kwh_m2_yr,
        "rack_tilt_deg": config.FLAT_ROOF_RACK_TILT_DEG, "rack_pitch_m": summary.rack_pitch_m,
        "rack_gcr": summary.rack_gcr, "winter_noon_elevation_deg": summary.winter_noon_elevation_deg,
        "weather_source": source, "weather_approximate": bool(w.approximate),
        "household_consumption_kwh_yr": annual_consumption_kwh, "tariff_quarter": config.PV_TARIFF_QUARTER,
        "n_buildings": len(buildings), "n_faces": len(face_layer),
        **{f"temp_air_m{m + 1:02d}_c": float(site.monthly_temp_air_c[m]) for m in range(12)},
        **{f"issue_{k}": int(seg.issues.get(k, 0)) for k in ISSUE_KEYS},
    }
    path = write_rooftops(
        out, {"roof_faces": face_layer, "buildings": buildings, "communes_solar": communes_solar},
        {"pv_profiles": pd.DataFrame(prof_rows), "site": pd.DataFrame([site_row])},
    )
    n_suit = int((face_layer["suitability"] != config.SUITABILITY_UNSUITABLE).sum()) if len(face_layer) else 0
    report = RoofsReport(Path(path), len(buildings), len(face_layer), n_suit, dict(seg.issues),
                         time.perf_counter() - t0)
    log.info("roofs: %s", report.line())
    return report


def _first(folder: Path, patterns: Sequence[str]) -> Path | None:
    for pat in patterns:
        found = sorted(folder.glob(pat))
        if found:
            return found[0]
    return None


def build_roofs(data_dir: Path, out_dir: Path) -> list[Path]:
    """Pipeline stage: ``data_dir/rooftops`` + ``out_dir/irradiance.tif`` → ``out_dir/rooftops.gpkg``.

    Reads the LiDAR HD MNS (and MNT) tiles under ``rooftops/lidar``, ``rooftops/batiment.gpkg``
    (else buildings are detected from DSM − DTM), ``rooftops/adresses-*.csv``, the weather file
    the irradiance stage used (``rooftops/weather.{epw,json,csv}``, else the offline default), and
    ``parks/communes.geojson`` + ``parks/pma-communes-epci.csv`` when present.
    """
    from geo.solar.build import find_weather_file

    data_dir, out_dir = Path(data_dir), Path(out_dir)
    roof = data_dir / "rooftops"
    lidar = roof / "lidar"
    dsm = find_lidar_tiles(lidar, "MNS")
    try:
        dtm: list[Path] | None = find_lidar_tiles(lidar, "MNT")
    except InputError:
        dtm = None
    fp = roof / "batiment.gpkg"
    communes = data_dir / "parks" / "communes.geojson"
    epci = data_dir / "parks" / "pma-communes-epci.csv"
    report = run_roofs(
        irradiance=out_dir / "irradiance.tif", dsm=dsm, dtm=dtm, out=out_dir / "rooftops.gpkg",
        footprints=fp if fp.exists() else None,
        addresses=_first(roof, ("adresses-*.csv", "adresses-*.csv.gz")),
        communes=communes if communes.exists() else None,
        epci_table=epci if (communes.exists() and epci.exists()) else None,
        weather=find_weather_file(roof),
    )
    return [report.path]


def summary_figures(faces: pd.DataFrame) -> dict[str, float]:
    """A few totals for logs and benchmarks."""
    ok = faces["suitability"] != config.SUITABILITY_UNSUITABLE
    return {
        "faces": float(len(faces)), "suitable_faces": float(ok.sum()),
        "kwp": float(faces.loc[ok, "kwp"].sum()), "mwh_yr": float(np.nansum(faces.loc[ok, "production_kwh_yr"])) / 1e3,
    }
