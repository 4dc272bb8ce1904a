"""The sites stage: friches and car parks + irradiation raster + DSM/DTM → ``sites.gpkg``.

Layers (docs/data-dictionary.md): ``friches`` (ground PV on brownfields and slag heaps),
``car_parks`` (the APER obligation and the canopy over half of each car park) and
``communes_sites`` (totals per commune and agglomeration). Each site is read through windows of the
DSM, DTM and irradiation raster around it. Every site gets figures or a stated reason (``note``):
a site outside the DSM, or whose ground the irradiation raster does not cover, gets approximate
figures (pvlib, no shading, flagged ``approximate``); a friche known only by its point gets an
area from its cadastral surface (also ``approximate``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio.features
import shapely
from shapely.geometry.base import BaseGeometry

from geo import config
from geo.errors import InputError
from geo.io.rasters import RasterGrid, read_grid, read_raster
from geo.products import sites as product
from geo.roofs.pv import SiteModel, rack_ground_cover_ratio
from geo.sites import aper
from geo.sites.canopy import tree_mask
from geo.sites.economics import band_price, cre_reference, lcoe_eur_mwh
from geo.sites.ground import EXCLUSIONS, KWP_PER_MODULE, row_groups, usable_ground
from geo.solar.surface import surface_normals, tilt_azimuth

if TYPE_CHECKING:
    from geo.pipeline import BuildContext

log = logging.getLogger("artois.sites")

MONTH_COLS = product.MONTH_COLUMNS
FRICHE_COLUMNS = product.FRICHES.column_names
CAR_PARK_COLUMNS = product.CAR_PARKS.column_names
COMMUNE_COLUMNS = product.COMMUNES_SITES.column_names


@dataclass
class SitesReport:
    """What :func:`run_sites` did."""

    path: Path
    n_friches: int
    n_car_parks: int
    n_approximate: int
    n_aper_concerned: int
    seconds: float = 0.0

    def line(self) -> str:
        return (f"{self.path}: {self.n_friches} friche(s), {self.n_car_parks} car park(s) "
                f"({self.n_aper_concerned} under the APER obligation), {self.n_approximate} approximate, "
                f"in {self.seconds:.1f} s")


@dataclass
class _Inputs:
    dsm: RasterGrid
    dtm: RasterGrid | None
    irradiance: Path
    buildings: gpd.GeoDataFrame | None
    water: gpd.GeoDataFrame | None
    site: SiteModel


@dataclass
class _Window:
    """Rasters of one site's window."""

    transform: Any
    res: float
    dsm: np.ndarray
    bands: np.ndarray  # (15, rows, cols) irradiation, NaN where not computed
    buildings: np.ndarray
    water: np.ndarray
    trees: np.ndarray
    slope: np.ndarray
    aspect: np.ndarray
    has_dtm: bool

    def mask(self, geom: BaseGeometry, *, all_touched: bool = False) -> np.ndarray:
        if geom.is_empty:
            return np.zeros(self.dsm.shape, bool)
        return rasterio.features.rasterize([(geom, 1)], out_shape=self.dsm.shape, transform=self.transform,
                                           fill=0, all_touched=all_touched, dtype="uint8").astype(bool)


def _polygons(gdf: gpd.GeoDataFrame | None, bounds: tuple[float, float, float, float]) -> list[BaseGeometry]:
    if gdf is None or gdf.empty:
        return []
    idx = gdf.sindex.query(shapely.box(*bounds), predicate="intersects")
    return list(gdf.geometry.values[idx])


def _window(inp: _Inputs, geom: BaseGeometry) -> _Window | None:
    """The rasters around ``geom``; None when no DSM covers it."""
    from geo.products.irradiance import read_irradiance

    margin = config.GROUND_PV_OBSTACLE_CLEARANCE_M + config.GROUND_PV_PERIMETER_SETBACK_M + 4 * inp.dsm.res_m
    x0, y0, x1, y1 = geom.bounds
    gx0, gy0, gx1, gy1 = inp.dsm.bounds
    b = (max(x0 - margin, gx0), max(y0 - margin, gy0), min(x1 + margin, gx1), min(y1 + margin, gy1))
    if not (b[2] > b[0] and b[3] > b[1]):
        return None
    files = inp.dsm.files_intersecting(b)
    if not files:
        return None
    dsm = read_raster(files, bounds=b)
    bands = read_irradiance(inp.irradiance, like=dsm)
    ground = dsm.data
    dtm = None
    if inp.dtm is not None and inp.dtm.files_intersecting(b):
        dtm = read_raster(inp.dtm.files_intersecting(b), bounds=b)
        if dtm.shape != dsm.shape:
            raise InputError(dtm.sources[0] if dtm.sources else None,
                             f"DTM window {dtm.shape} does not match the DSM's {dsm.shape}")
        ground = dtm.data
    w = _Window(dsm.transform, dsm.res_m, dsm.data, bands, np.zeros(dsm.shape, bool), np.zeros(dsm.shape, bool),
                np.zeros(dsm.shape, bool), np.full(dsm.shape, np.nan), np.full(dsm.shape, np.nan), dtm is not None)
    bl = _polygons(inp.buildings, b)
    if bl:
        w.buildings = w.mask(shapely.union_all(bl), all_touched=True)
    wl = _polygons(inp.water, b)
    if wl:
        w.water = w.mask(shapely.union_all(wl), all_touched=True)
    if dtm is not None:
        w.trees = tree_mask(dsm.data, dtm.data, w.buildings)
    w.slope, w.aspect = tilt_azimuth(surface_normals(ground, dsm.res_m))
    return w


# -- economics --------------------------------------------------------------------------------------


def _economics(kwp: float, first_year_kwh: float, bands: Sequence[tuple[float, float]],
               om_per_kwp: float) -> tuple[float, float]:
    if not kwp > 0:
        return 0.0, math.nan
    capex = kwp * band_price(kwp, bands)
    return capex, lcoe_eur_mwh(capex, kwp * om_per_kwp, first_year_kwh)


def _rack_kwp_per_m2(site: SiteModel) -> float:
    """Peak power per m² of usable flat ground with winter-noon rack rows [kWp/m²] (analytic, no edges)."""
    pitch, _ = rack_ground_cover_ratio(config.FLAT_ROOF_RACK_TILT_DEG, config.MODULE_WIDTH_M,
                                       site.winter_noon_elevation_deg())
    return KWP_PER_MODULE / (pitch * (config.MODULE_LENGTH_M + config.MODULE_GAP_M))


def _unshaded_monthly_kwh(site: SiteModel, kwp: float, tilt: float, az: float, pid: str) -> np.ndarray:
    o = site.orientation(tilt, az, rack=True, profile_id=pid)
    return np.asarray(kwp * o.poa_kwh_m2 * o.performance, float)


# -- friches ----------------------------------------------------------------------------------------


def _friche(rec: dict[str, Any], geom: BaseGeometry | None, inp: _Inputs) -> tuple[dict[str, Any], BaseGeometry]:
    row: dict[str, Any] = {c: rec.get(c) for c in FRICHE_COLUMNS if c in rec}
    row.update({
        "is_terril": "terril" in f"{rec.get('activite_libelle', '')} {rec.get('site_nom', '')}".lower(),
        "pollution_flag": rec.get("sol_pollution_existe") in config.FRICHES_POLLUTION_FLAG,
        "heritage_flag": rec.get("bati_patrimoine") in config.FRICHES_HERITAGE_FLAG,
        "approximate": False, "layout": "", "n_modules": 0, "kwp": 0.0, "production_mwh_yr": 0.0,
        "usable_area_m2": 0.0, "shading_loss": math.nan,
    })
    for c in MONTH_COLS:
        row[c] = 0.0
    notes = [str(rec["read_note"])] if rec.get("read_note") else []
    uf = float(rec.get("unite_fonciere_surface") or math.nan)
    row["area_m2"] = geom.area if geom is not None and geom.geom_type.endswith("Polygon") else uf
    if geom is None:
        row["note"] = "; ".join([*notes, "no usable geometry: no figures"])
        return _finish_friche(row), shapely.Polygon()
    monthly = np.zeros(12)
    w = _window(inp, geom) if geom.geom_type.endswith("Polygon") else None
    exact = False
    if w is not None:
        inside = w.mask(geom)
        covered = inside & np.isfinite(w.dsm)
        irradiated = np.isfinite(w.bands[0])
        if inside.sum() and covered.sum() >= 0.5 * inside.sum() and (inside & irradiated).any():
            exact = True
            if not w.has_dtm:
                notes.append("no DTM: trees not detected, slope from the DSM")
            usable, excluded = usable_ground(inside, res_m=w.res, buildings=w.buildings, trees=w.trees,
                                             water=w.water, slope_deg=w.slope, irradiated=irradiated)
            for k, v in excluded.items():
                row[f"excluded_{k}_m2"] = v
            row["usable_area_m2"] = float(usable.sum()) * w.res * w.res
            groups = row_groups(usable, w.transform, slope_deg=w.slope, aspect_deg=w.aspect,
                                monthly_kwh_m2=w.bands[1:13], shading_loss=w.bands[13], site=inp.site)
            row["n_modules"] = sum(g.n_modules for g in groups)
            row["kwp"] = sum(g.kwp for g in groups)
            for g in groups:
                monthly += g.production_kwh
            row["layout"] = ", ".join(f"{g.profile_id}:{g.n_modules}" for g in groups)
            wsum = sum(g.ground_m2 for g in groups)
            row["shading_loss"] = (sum(g.shading_loss * g.ground_m2 for g in groups) / wsum) if wsum else math.nan
            if row["is_terril"] and any(g.profile_id != "rack" for g in groups):
                notes.append("flanc de terril : étude de stabilité et de terrassement nécessaire")
        elif inside.sum() and covered.sum() < 0.5 * inside.sum():
            notes.append("site mostly outside the DSM")
        elif inside.sum():
            notes.append("irradiation not computed on this site's ground (run the irradiance stage with the sites)")
    elif geom.geom_type.endswith("Polygon"):
        notes.append("site outside the DSM")
    if not exact:
        area = geom.area if geom.geom_type.endswith("Polygon") else uf
        if not area > 0:
            row["note"] = "; ".join([*notes, "known by its point only and no unite_fonciere_surface: no figures"])
            return _finish_friche(row), geom
        if not geom.geom_type.endswith("Polygon"):
            notes.append("area from the cadastral surface (unite_fonciere_surface)")
            geom = geom.buffer(math.sqrt(area / math.pi), 32)
        row["approximate"] = True
        row["usable_area_m2"] = area * config.FRICHES_POINT_USABLE_SHARE
        row["kwp"] = row["usable_area_m2"] * _rack_kwp_per_m2(inp.site)
        row["n_modules"] = int(row["kwp"] / KWP_PER_MODULE)
        row["kwp"] = row["n_modules"] * KWP_PER_MODULE
        row["layout"] = f"rack:{row['n_modules']}"
        monthly = _unshaded_monthly_kwh(inp.site, row["kwp"], config.FLAT_ROOF_RACK_TILT_DEG,
                                        config.FLAT_ROOF_RACK_AZIMUTH_DEG, "rack")
        notes.append(f"approximate: {100 * config.FRICHES_POINT_USABLE_SHARE:.0f} % of the area usable, "
                     "unshaded pvlib yield")
    for c, v in zip(MONTH_COLS, monthly, strict=True):
        row[c] = float(v)
    row["production_mwh_yr"] = float(monthly.sum()) / 1000.0
    row["note"] = "; ".join(notes)
    return _finish_friche(row), geom


def _finish_friche(row: dict[str, Any]) -> dict[str, Any]:
    kwh = row["production_mwh_yr"] * 1000.0
    row["specific_yield_kwh_kwp"] = kwh / row["kwp"] if row["kwp"] > 0 else math.nan
    row["cost_eur"], row["lcoe_eur_mwh"] = _economics(row["kwp"], kwh, config.GROUND_PV_COST_EUR_PER_KWP,
                                                      config.GROUND_PV_OM_EUR_PER_KWP_YR)
    tender, _, price = cre_reference()
    row["cre_reference"], row["cre_price_eur_mwh"] = tender, price
    for k in EXCLUSIONS:
        row.setdefault(f"excluded_{k}_m2", math.nan)
    return row


# -- car parks --------------------------------------------------------------------------------------


def _car_park(rec: dict[str, Any], geom: BaseGeometry, green: list[BaseGeometry], inp: _Inputs) -> dict[str, Any]:
    notes = [str(rec["read_note"])] if rec.get("read_note") else []
    buildings = _polygons(inp.buildings, geom.bounds)
    counted = aper.counted_surface(geom, [*green, *buildings])
    row: dict[str, Any] = {k: rec.get(k) for k in ("car_park_id", "nom", "source")}
    row.update({"area_m2": geom.area, "counted_area_m2": counted.area, "approximate": False})
    w = _window(inp, geom)
    px_m2 = inp.dsm.res_m ** 2
    target_m2 = config.APER_COVER_SHARE * counted.area
    monthly = np.zeros(12)
    shading = math.nan
    cm = w.mask(counted) if w is not None else None
    if w is not None and cm is not None and cm.any() and (cm & np.isfinite(w.bands[0])).sum() >= 0.5 * cm.sum():
        tree_share = float((w.trees & cm).sum()) / float(cm.sum()) if w.has_dtm else math.nan
        if not w.has_dtm:
            notes.append("no DTM: trees not detected")
        pix = aper.canopy_pixels(cm, w.trees, w.bands[0], int(round(target_m2 / px_m2)))
        canopy_m2 = float(pix.sum()) * px_m2
        if canopy_m2 < target_m2 - px_m2:
            notes.append("less than half of the car park is free of trees: canopy over the free part only")
        kwp = canopy_m2 * aper.CANOPY_KWP_PER_M2
        if pix.any():
            o = inp.site.orientation(config.CANOPY_TILT_DEG, config.CANOPY_AZIMUTH_DEG, rack=True,
                                     profile_id="canopy")
            ghi = inp.site.ghi_kwh_m2()
            module = w.bands[1:13][:, pix].mean(axis=1) * np.where(ghi > 0, o.poa_kwh_m2 / np.maximum(ghi, 1e-9), 0)
            monthly = kwp * module * o.performance
            shading = float(np.nanmean(w.bands[13][pix]))
    else:
        notes.append("outside the DSM or its irradiation: trees unknown, unshaded pvlib yield" if w is None or
                     cm is None or not cm.any() else
                     "irradiation not computed on this car park (run the irradiance stage with the sites)")
        row["approximate"] = True
        tree_share = math.nan
        canopy_m2 = target_m2
        kwp = canopy_m2 * aper.CANOPY_KWP_PER_M2
        monthly = _unshaded_monthly_kwh(inp.site, kwp, config.CANOPY_TILT_DEG, config.CANOPY_AZIMUTH_DEG, "canopy")
    st = aper.aper_status(counted.area, 0.0 if math.isnan(tree_share) else tree_share)
    mwh = float(monthly.sum()) / 1000.0
    cost, lcoe = _economics(kwp, mwh * 1000.0, config.CANOPY_COST_EUR_PER_KWP, config.CANOPY_OM_EUR_PER_KWP_YR)
    row.update({
        "tree_share": tree_share, "aper_status": st.status, "aper_status_fr": aper.STATUS_LABELS_FR[st.status],
        "aper_deadline": st.deadline, "aper_deadline_postponed": st.deadline_postponed,
        "canopy_area_m2": canopy_m2, "canopy_kwp": kwp, "canopy_production_mwh_yr": mwh,
        "canopy_shading_loss": shading, "canopy_cost_eur": cost, "canopy_lcoe_eur_mwh": lcoe,
        "tradeoff_fr": aper.tradeoff_fr(st.status, 0.0 if math.isnan(tree_share) else tree_share, kwp, mwh),
        "note": "; ".join(notes),
    })
    for c, v in zip(MONTH_COLS, monthly, strict=True):
        row[c] = float(v)
    return row


# -- communes ---------------------------------------------------------------------------------------


def commune_totals(friches: pd.DataFrame, car_parks: pd.DataFrame, communes: gpd.GeoDataFrame | None,
                   crs: Any) -> gpd.GeoDataFrame:
    """Totals per commune and agglomeration (EPCI); one ``zone`` row without communes.

    Friches count their usable area, kWp and MWh/yr; car parks their APER status counts and, for
    those concerned, the counted area and the canopy's kWp and MWh/yr.
    """
    f = pd.DataFrame({"code": friches["comm_insee"].astype(str) if len(friches) else pd.Series(dtype=str),
                      "usable": friches.get("usable_area_m2", pd.Series(dtype=float)),
                      "kwp": friches.get("kwp", pd.Series(dtype=float)),
                      "mwh": friches.get("production_mwh_yr", pd.Series(dtype=float))})
    c = car_parks
    concerned = c["aper_status"] == aper.STATUS_CONCERNED if len(c) else pd.Series(dtype=bool)
    p = pd.DataFrame({
        "code": c["code_insee"].astype(str) if len(c) else pd.Series(dtype=str),
        "concerned": concerned.astype(int),
        "exempt": (c["aper_status"] == aper.STATUS_EXEMPT_TREES).astype(int) if len(c) else pd.Series(dtype=int),
        "below": (c["aper_status"] == aper.STATUS_BELOW).astype(int) if len(c) else pd.Series(dtype=int),
        "area": c["counted_area_m2"].where(concerned, 0.0) if len(c) else pd.Series(dtype=float),
        "kwp": c["canopy_kwp"].where(concerned, 0.0) if len(c) else pd.Series(dtype=float),
        "mwh": c["canopy_production_mwh_yr"].where(concerned, 0.0) if len(c) else pd.Series(dtype=float),
    })

    def totals(fs: pd.DataFrame, ps: pd.DataFrame) -> dict[str, Any]:
        return {"n_friches": len(fs), "friches_usable_area_m2": float(fs["usable"].sum()),
                "friches_kwp": float(fs["kwp"].sum()), "friches_production_mwh_yr": float(fs["mwh"].sum()),
                "n_car_parks": len(ps), "n_aper_concerned": int(ps["concerned"].sum()),
                "n_aper_exempt_trees": int(ps["exempt"].sum()), "n_aper_below_threshold": int(ps["below"].sum()),
                "aper_counted_area_m2": float(ps["area"].sum()), "aper_canopy_kwp": float(ps["kwp"].sum()),
                "aper_canopy_production_mwh_yr": float(ps["mwh"].sum())}

    if communes is None or communes.empty:
        row = {"level": "zone", "code": None, "nom": "zone", "epci_siren": None, **totals(f, p)}
        return gpd.GeoDataFrame([row], columns=list(COMMUNE_COLUMNS), geometry=[None], crs=crs)
    rows, geoms = [], []
    com = communes.to_crs(crs)
    for _, r in com.iterrows():
        code = str(r["code_insee"])
        rows.append({"level": "commune", "code": code, "nom": r["nom"], "epci_siren": r.get("epci_siren"),
                     **totals(f[f["code"] == code], p[p["code"] == code])})
        geoms.append(r.geometry)
    if "epci_siren" in com and com["epci_siren"].notna().any():
        for siren, grp in com[com["epci_siren"].notna()].groupby("epci_siren"):
            codes = set(grp["code_insee"].astype(str))
            rows.append({"level": "epci", "code": str(siren), "nom": config.PMA_EPCI.get(str(siren), str(siren)),
                         "epci_siren": str(siren),
                         **totals(f[f["code"].isin(codes)], p[p["code"].isin(codes)])})
            geoms.append(shapely.union_all(grp.geometry.values))
    return gpd.GeoDataFrame(rows, columns=list(COMMUNE_COLUMNS), geometry=geoms, crs=crs)


# -- the stage --------------------------------------------------------------------------------------


def run_sites(
    *,
    irradiance: Path,
    dsm: Sequence[Path],
    out: Path,
    friches: Path | None = None,
    friche_surfaces: Path | None = None,
    car_parks: Path | None = None,
    dtm: Sequence[Path] | None = None,
    footprints: Path | None = None,
    water: Path | None = None,
    communes: Path | None = None,
    epci_table: Path | None = None,
    weather: Path | None = None,
) -> SitesReport:
    """Compute ground PV on the friches and the APER obligation of the car parks; write ``out``.

    Parameters
    ----------
    irradiance
        The engine's raster, computed on the sites' ground (``artois solar irradiance --sites``).
    dsm, dtm
        Surface and terrain model tiles (the DTM gives the ground's slope and, with the DSM, trees).
    out
        Output GeoPackage (layers ``friches``, ``car_parks``, ``communes_sites``), written atomically.
    friches, friche_surfaces
        Cartofriches export (CNIG CSV or GeoPackage) and its optional surfaces GeoPackage.
    car_parks
        OpenStreetMap car parks (``.osm``/``.pbf``/GeoJSON/GeoPackage) or BD TOPO
        ``equipement_de_transport``.
    footprints, water
        Buildings (BD TOPO ``batiment``) and water surfaces (any polygon file); optional.
    communes, epci_table
        Commune polygons and the commune → EPCI table, for the totals; optional.
    weather
        The weather file the irradiation used (default: the offline climatology).
    """
    from geo.io.buildings import read_footprints
    from geo.io.car_parks import read_car_parks
    from geo.io.communes import read_communes
    from geo.io.friches import read_friches
    from geo.io.vectors import read_vector
    from geo.io.weather import load_weather

    t0 = time.perf_counter()
    if friches is None and car_parks is None:
        raise InputError(None, "give --friches and/or --car-parks")
    grid = read_grid(list(dsm))
    crs = grid.crs.to_string()
    fr = read_friches(friches, surfaces=friche_surfaces) if friches is not None else None
    cp, green = read_car_parks(car_parks) if car_parks is not None else (None, None)
    inp = _Inputs(
        dsm=grid, dtm=read_grid(list(dtm)) if dtm else None, irradiance=Path(irradiance),
        buildings=read_footprints(footprints, crs=crs) if footprints is not None else None,
        water=read_vector(water, crs=crs, geometry_types=("Polygon",)) if water is not None else None,
        site=SiteModel(load_weather(weather)),
    )
    if not Path(irradiance).is_file():
        raise InputError(irradiance, "file not found (run the irradiance stage first: artois build --only irradiance)")
    com = read_communes(communes, epci_table=epci_table, crs=crs) if communes is not None else None

    f_rows, f_geoms = [], []
    for rec, geom in zip(fr.drop(columns="geometry").to_dict("records") if fr is not None else [],
                         fr.geometry.values if fr is not None else [], strict=True):
        row, g = _friche(rec, None if geom is None or geom.is_empty else geom, inp)
        f_rows.append(row)
        f_geoms.append(g)
    friche_layer = gpd.GeoDataFrame(pd.DataFrame(f_rows, columns=list(FRICHE_COLUMNS)), geometry=f_geoms, crs=crs)

    c_rows, c_geoms = [], []
    green_list = list(green.to_crs(crs).geometry.values) if green is not None and not green.empty else []
    if cp is not None:
        cp = cp.to_crs(crs)
        for rec, geom in zip(cp.drop(columns="geometry").to_dict("records"), cp.geometry.values, strict=True):
            c_rows.append(_car_park(rec, geom, green_list, inp))
            c_geoms.append(geom)
    park_layer = gpd.GeoDataFrame(pd.DataFrame(c_rows, columns=list(CAR_PARK_COLUMNS)), geometry=c_geoms, crs=crs)
    if com is not None and len(park_layer):
        pts = gpd.GeoDataFrame(geometry=park_layer.geometry.representative_point(), crs=crs)
        joined = gpd.sjoin(pts, com[["code_insee", com.geometry.name]], how="left", predicate="within")
        park_layer["code_insee"] = joined.groupby(level=0)["code_insee"].first().reindex(park_layer.index).to_numpy()
    communes_layer = commune_totals(friche_layer, park_layer, com, crs)
    product.write_sites(out, friches=friche_layer, car_parks=park_layer, communes=communes_layer)
    n_approx = int(friche_layer["approximate"].fillna(False).astype(bool).sum()
                   + park_layer["approximate"].fillna(False).astype(bool).sum())
    return SitesReport(Path(out), len(friche_layer), len(park_layer), n_approx,
                       int((park_layer["aper_status"] == aper.STATUS_CONCERNED).sum()), time.perf_counter() - t0)


def _inputs_of(data_dir: Path) -> tuple[Path | None, Path | None]:
    sites = Path(data_dir) / "sites"
    fr = next((p for p in (sites / "friches.csv", sites / "friches.gpkg") if p.is_file()), None)
    cp = next((p for p in (sites / "parkings.osm", sites / "parkings.osm.pbf", sites / "parkings.geojson",
                           sites / "parkings.gpkg") if p.is_file()), None)
    return fr, cp


def site_polygons(data_dir: Path) -> list[BaseGeometry]:
    """The polygons of the sites under ``data_dir/sites`` (Lambert-93), for the irradiance stage's mask."""
    from geo.io.car_parks import read_car_parks
    from geo.io.friches import read_friches

    fr, cp = _inputs_of(data_dir)
    out: list[BaseGeometry] = []
    if fr is not None:
        out += [g for g in read_friches(fr).geometry.values if g is not None and g.geom_type.endswith("Polygon")]
    if cp is not None:
        out += list(read_car_parks(cp)[0].geometry.values)
    return out


def build_sites(ctx: BuildContext) -> list[Path]:
    """Pipeline stage: ``DATA/sites`` + the DSM/DTM tiles + the irradiance mosaic → ``sites.gpkg`` (:mod:`geo.products.sites`).

    Reads ``sites/friches.csv`` (or ``.gpkg``) and ``sites/parkings.osm`` (or ``.osm.pbf``,
    ``.geojson``, ``.gpkg``), the LiDAR HD tiles and buildings under ``rooftops/``, and the
    communes under ``parks/``. Writes nothing (and says so) when ``DATA/sites`` has neither file.
    """
    from geo.io.rasters import find_lidar_tiles
    from geo.pipeline import find_weather_file

    data_dir = ctx.data_dir
    fr, cp = _inputs_of(data_dir)
    if fr is None and cp is None:
        log.info("sites: %s has no friches.csv and no parkings.osm: nothing to compute", data_dir / "sites")
        return []
    roof = data_dir / "rooftops"
    dsm = find_lidar_tiles(roof / "lidar", "MNS")
    try:
        dtm: list[Path] | None = find_lidar_tiles(roof / "lidar", "MNT")
    except InputError:
        dtm = None
    fp = roof / "batiment.gpkg"
    communes = data_dir / "parks" / "communes.geojson"
    epci = data_dir / "parks" / "pma-communes-epci.csv"
    report = run_sites(
        irradiance=ctx.products.irradiance, dsm=dsm, dtm=dtm, out=ctx.products.sites, friches=fr,
        car_parks=cp, footprints=fp if fp.is_file() else None,
        communes=communes if communes.is_file() else None,
        epci_table=epci if communes.is_file() and epci.is_file() else None, weather=find_weather_file(roof),
    )
    log.info("sites: %s", report.line())
    return [report.path]
