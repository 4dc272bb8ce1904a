"""Per-building and per-commune / per-agglomeration (PCAET) figures of the solar cadastre."""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import config
from geo.products import rooftops
from geo.roofs.classes import SUITABLE_CODES
from geo.roofs.economics import FaceSet, Tariffs, default_options, face_hourly_kwh, owner_of, recommend
from geo.roofs.hotwater import collector_area_m2, solar_hot_water
from geo.roofs.loads import load_profile
from geo.roofs.pv import OrientationYield

#: BAN fields copied onto each building with its address: buildings column -> BAN column.
ADDRESS_FIELDS = {
    "address_housenumber": "numero", "address_suffix": "rep", "address_street": "nom_voie",
    "address_postcode": "code_postal", "address_city": "nom_commune",
}

#: Columns of the ``buildings`` layer :func:`building_table` makes, in order (plus geometry): those of
#: :data:`geo.products.rooftops.BUILDINGS` but the data-quality ones (:func:`geo.roofs.reconcile.with_quality`).
BUILDING_COLUMNS = tuple(c for c in rooftops.BUILDINGS.column_names if not c.startswith("dq_"))


def match_addresses(buildings: gpd.GeoDataFrame, addresses: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """BAN address of each building: a point inside the footprint (lowest number), else the nearest
    within :data:`geo.config.ADDRESS_MAX_DISTANCE_M`.

    Returns
    -------
    DataFrame
        Indexed like ``buildings``: ``address`` (BAN label or None), its parts as text or None
        (the keys of :data:`ADDRESS_FIELDS`: number, suffix ``bis``…, street, postcode, city) and
        ``ban_code_insee``.
    """
    ban = {"address": "label", **ADDRESS_FIELDS, "ban_code_insee": "code_insee"}
    out = pd.DataFrame({col: pd.Series([None] * len(buildings), dtype=object) for col in ban}, index=buildings.index)
    if addresses is None or addresses.empty or buildings.empty:
        return out
    pts = addresses.to_crs(buildings.crs)
    pts = pts[[*ban.values(), pts.geometry.name]]
    fps = buildings[[buildings.geometry.name]].copy()
    fps["_b"] = np.arange(len(fps))

    def assign(found: pd.DataFrame) -> None:
        rows = found["_b"].to_numpy()
        for k, src in enumerate(ban.values()):
            text = [None if pd.isna(v) or str(v) == "" else str(v) for v in found[src]]
            out.iloc[rows, k] = np.array(text, dtype=object)

    inside = gpd.sjoin(pts, fps, predicate="within", how="inner")
    if not inside.empty:
        assign(inside.sort_values(["_b", "numero"]).drop_duplicates("_b"))
    missing = out["address"].isna().to_numpy()
    if missing.any():
        near = gpd.sjoin_nearest(fps[missing], pts, how="inner", max_distance=config.ADDRESS_MAX_DISTANCE_M,
                                 distance_col="_d")
        if not near.empty:
            assign(near.sort_values(["_b", "_d"]).drop_duplicates("_b"))
    return out


def commune_of(buildings: gpd.GeoDataFrame, communes: gpd.GeoDataFrame | None) -> pd.Series:
    """INSEE code of the commune holding each building's representative point (None outside)."""
    codes = pd.Series([None] * len(buildings), index=buildings.index, dtype=object)
    if communes is None or communes.empty or buildings.empty:
        return codes
    pts = gpd.GeoDataFrame({"_b": np.arange(len(buildings))},
                           geometry=buildings.geometry.representative_point().values, crs=buildings.crs)
    j = gpd.sjoin(pts, communes.to_crs(buildings.crs)[["code_insee", communes.geometry.name]],
                  predicate="within", how="inner").drop_duplicates("_b")
    codes.iloc[j["_b"].to_numpy()] = j["code_insee"].to_numpy()
    return codes


def _plain(v: object) -> object:
    """numpy scalars as Python ones (so the rows can be stored as JSON and read back exactly)."""
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def building_economics(
    buildings: gpd.GeoDataFrame,
    faces: pd.DataFrame,
    profiles: Mapping[str, OrientationYield],
    *,
    temp_air_c: np.ndarray,
    tariffs: Tariffs | None = None,
    annual_consumption_kwh: float = config.HOUSEHOLD_CONSUMPTION_KWH_YR,
) -> dict[str, dict[str, object]]:
    """``building_id`` → owner, recommended installation and solar hot water of each building with faces.

    The per-building part of :func:`building_table` (see it); it depends only on the building
    (footprint area, ``usage_1``, ``nombre_d_etages``) and its own faces and their profiles, so the
    roofs stage computes it in each group's task. Values are plain Python scalars or strings.
    """
    tariffs = tariffs or Tariffs.default()
    household = default_options("menage", consumption_kwh=annual_consumption_kwh)
    load = load_profile(household.load_profile, household.annual_consumption_kwh)
    out: dict[str, dict[str, object]] = {}
    if not len(faces):
        return out
    usage = buildings["usage_1"].to_numpy(object) if "usage_1" in buildings.columns else np.full(len(buildings), None)
    floors = (pd.to_numeric(buildings["nombre_d_etages"], errors="coerce").fillna(1).clip(lower=1).to_numpy(float)
              if "nombre_d_etages" in buildings.columns else np.ones(len(buildings)))
    flat = faces["is_flat"].fillna(False).to_numpy(bool) if "is_flat" in faces.columns \
        else np.zeros(len(faces), dtype=bool)
    # the hourly profiles as stored in pv_profiles (float32), which the API reads: stored and served figures agree
    shares = {k: rooftops.decode_profile(rooftops.encode_profile(v.hourly_share)) for k, v in profiles.items()}
    groups = faces.groupby("building_id", sort=False).indices
    fs_all = FaceSet.from_frame(faces)
    usable = faces["usable_area_m2"].to_numpy(float)
    prod = faces["production_kwh_yr"].to_numpy(float)
    suitable = np.isin(faces["suitability"].astype(str).to_numpy(), list(SUITABLE_CODES))
    mod_irr = faces[[f"module_irradiation_m{m:02d}_kwh_m2" for m in range(1, 13)]].to_numpy(float)
    mod_irr_yr = np.nan_to_num(mod_irr.sum(axis=1), nan=-1.0)
    ids = buildings["building_id"].astype(str).to_numpy()
    geoms = buildings.geometry.to_numpy()
    for i, bid in enumerate(ids):
        found = groups.get(bid)
        if found is None or len(found) == 0:
            continue
        idx = np.asarray(found, dtype=np.int64)
        f = fs_all.take(idx)
        su = suitable[idx]
        owner = owner_of(usage[i], float(usable[idx][su & flat[idx]].sum()))
        opts, b_load = household, load
        if owner != "menage":
            floor_m2 = float(geoms[i].area) * floors[i]
            opts = default_options(owner, consumption_kwh=floor_m2 * config.NON_RESIDENTIAL_KWH_PER_M2_YR)
            b_load = load_profile(opts.load_profile, opts.annual_consumption_kwh)
        row: dict[str, object] = dict(
            owner=owner, load_profile=opts.load_profile, consumption_kwh_yr=opts.annual_consumption_kwh,
            analysis_years=opts.analysis_years, reco_kwp=0.0, reco_n_modules=0.0, reco_production_kwh_yr=0.0)
        valid = np.isfinite(prod[idx])
        reco = None
        if valid.any():
            fv = f.take(valid)
            reco = recommend(fv, hourly=face_hourly_kwh(fv, shares), load=b_load, tariffs=tariffs, options=opts)
        if reco is not None:
            row.update(
                reco_kwp=reco.kwp, reco_n_modules=reco.n_modules, reco_production_kwh_yr=reco.production_kwh_yr,
                reco_cost_eur=reco.cost_eur, reco_premium_eur=reco.premium_eur,
                reco_self_consumption_rate=reco.self_consumption_rate, reco_savings_eur_yr=reco.savings_eur_yr,
                reco_sales_eur_yr=reco.sales_eur_yr, reco_payback_yr=reco.payback_yr,
                reco_net_gain_eur=reco.net_gain_eur, co2_avoided_kg_yr=reco.co2_avoided_kg_yr,
            )
        # solar hot water on the best-irradiated face with room for the collector
        for k in np.argsort(-mod_irr_yr[idx], kind="stable"):
            j = idx[k]
            area = collector_area_m2(float(usable[j]))
            if area <= 0 or not np.isfinite(mod_irr[j]).all():
                continue
            swh = solar_hot_water(mod_irr[j], temp_air_c, collector_m2=area)
            row.update(swh_face_id=f.face_id[k], swh_collector_m2=swh["collector_m2"],
                       swh_heat_kwh_yr=swh["heat_kwh_yr"], swh_solar_fraction=swh["solar_fraction"])
            break
        out[str(bid)] = {k: _plain(v) for k, v in row.items()}
    return out


def building_table(
    buildings: gpd.GeoDataFrame,
    faces: pd.DataFrame,
    profiles: Mapping[str, OrientationYield],
    *,
    temp_air_c: np.ndarray,
    weather_source: str,
    addresses: gpd.GeoDataFrame | None = None,
    communes: gpd.GeoDataFrame | None = None,
    tariffs: Tariffs | None = None,
    annual_consumption_kwh: float = config.HOUSEHOLD_CONSUMPTION_KWH_YR,
    economics: Mapping[str, Mapping[str, object]] | None = None,
) -> gpd.GeoDataFrame:
    """One row per building: totals, best face, recommended installation, economics, solar hot water.

    ``kwp_max`` / ``production_kwh_yr_max`` / ``usable_area_m2`` count the faces that are not
    unsuitable (the full-roof potential); the recommendation is :func:`geo.roofs.economics.recommend`
    with the default options of the building's owner (:func:`geo.roofs.economics.owner_of`: a household using
    ``annual_consumption_kwh``, or a company / public owner whose consumption is its floor area times
    :data:`geo.config.NON_RESIDENTIAL_KWH_PER_M2_YR`); solar hot water goes on the face with the
    highest irradiation on its modules that has room for the collector (:func:`building_economics`,
    or ``economics`` when given: its rows, computed beforehand with the same arguments).
    """
    tariffs = tariffs or Tariffs.default()
    if economics is None:
        economics = building_economics(buildings, faces, profiles, temp_air_c=temp_air_c, tariffs=tariffs,
                                       annual_consumption_kwh=annual_consumption_kwh)
    addr = match_addresses(buildings, addresses)
    in_commune = commune_of(buildings, communes)
    codes = in_commune.where(in_commune.notna(), addr["ban_code_insee"]).to_numpy(object)
    addr_cols = {col: addr[col].to_numpy(object) for col in ("address", *ADDRESS_FIELDS)}
    ids = buildings["building_id"].astype(str).to_numpy()
    n = len(ids)
    table = pd.DataFrame({
        "building_id": ids,
        "cleabs": buildings["cleabs"].to_numpy(object) if "cleabs" in buildings.columns else np.full(n, None),
        **addr_cols, "code_insee": codes,
        "status": buildings["status"].to_numpy(object) if "status" in buildings.columns else np.full(n, "ok"),
        "weather_source": weather_source, "tariff_quarter": tariffs.quarter,
    })
    # per building, from its faces (vectorised: the Pôle has ~400,000 buildings): counts and sums over the
    # faces not unsuitable, and the best face, the highest specific yield among those with room for the
    # minimum installation (else among all; the first face on a tie)
    at = pd.Index(ids).get_indexer(faces["building_id"].astype(str)) if len(faces) else np.zeros(0, dtype=np.int64)
    mine = at >= 0
    suit_name = faces["suitability"].astype(str).to_numpy()[mine] if len(faces) else np.zeros(0, dtype=str)
    suitable = np.isin(suit_name, list(SUITABLE_CODES))
    at = at[mine]
    face_rows = faces[mine] if len(faces) else faces

    def suitable_sum(column: str, *, skip_nan: bool = False) -> np.ndarray:
        values = face_rows[column].to_numpy(float)[suitable] if len(at) else np.zeros(0)
        return np.bincount(at[suitable], weights=np.nan_to_num(values) if skip_nan else values, minlength=n)

    table["n_faces"] = np.bincount(at, minlength=n)
    table["n_suitable_faces"] = np.bincount(at[suitable], minlength=n)
    table["usable_area_m2"] = suitable_sum("usable_area_m2")
    table["kwp_max"] = suitable_sum("kwp")
    table["production_kwh_yr_max"] = suitable_sum("production_kwh_yr", skip_nan=True)
    best_face = np.full(n, np.nan, dtype=object)
    suitability = np.full(n, config.SUITABILITY_UNSUITABLE, dtype=object)
    if len(at):
        score = (np.nan_to_num(face_rows["specific_yield_kwh_kwp"].to_numpy(float), nan=-1.0)
                 + np.where(face_rows["n_modules"].fillna(0).to_numpy(int) >= config.SUITABLE_MIN_MODULES, 1e4, 0))
        order = np.lexsort((np.arange(len(at)), -score, at))  # by building, best score first, then face order
        first = order[np.r_[True, at[order][1:] != at[order][:-1]]]
        best_face[at[first]] = face_rows["face_id"].astype(str).to_numpy()[first]
        suitability[at[first]] = suit_name[first]
    table["best_face_id"] = best_face
    table["suitability"] = suitability
    if economics:
        econ = pd.DataFrame.from_dict(dict(economics), orient="index")
        with_faces = table["n_faces"].to_numpy() > 0
        econ = econ.reindex(ids[with_faces])
        for c in econ.columns:
            column = np.full(n, np.nan, dtype=object)
            column[with_faces] = econ[c].to_numpy(object)
            table[c] = column
    table = table.reindex(columns=list(BUILDING_COLUMNS))
    for c in BUILDING_COLUMNS:
        if c not in ("building_id", "cleabs", "address", *ADDRESS_FIELDS, "code_insee", "status", "best_face_id",
                     "suitability", "swh_face_id", "weather_source", "tariff_quarter", "owner", "load_profile"):
            table[c] = pd.to_numeric(table[c], errors="coerce").astype(float)
    for c in ("n_faces", "n_suitable_faces"):
        table[c] = table[c].fillna(0).astype(int)
    return gpd.GeoDataFrame(table, geometry=buildings.geometry.values, crs=buildings.crs)


def commune_table(
    buildings: gpd.GeoDataFrame, faces: pd.DataFrame, communes: gpd.GeoDataFrame | None,
) -> gpd.GeoDataFrame:
    """Potential per commune and per agglomeration (EPCI): buildings, suitable faces, usable area, kWp, MWh/yr.

    Only suitable faces (classes excellent, bon, moyen) count in the area, power and energy.
    Without communes, one row ``level = 'zone'`` totals the whole area.
    """
    suit = faces[faces["suitability"].isin(SUITABLE_CODES)] if len(faces) else faces
    per_b = pd.DataFrame({
        "n_suitable_faces": suit.groupby("building_id").size(),
        "usable_area_m2": suit.groupby("building_id")["usable_area_m2"].sum(),
        "kwp": suit.groupby("building_id")["kwp"].sum(),
        "production_mwh_yr": suit.groupby("building_id")["production_kwh_yr"].sum() / 1000.0,
    }) if len(suit) else pd.DataFrame(columns=["n_suitable_faces", "usable_area_m2", "kwp", "production_mwh_yr"])
    b = buildings[["building_id", "code_insee"]].merge(per_b, left_on="building_id", right_index=True, how="left")
    b = b.fillna({"n_suitable_faces": 0, "usable_area_m2": 0.0, "kwp": 0.0, "production_mwh_yr": 0.0})
    cols = ["level", "code", "nom", "epci_siren", "n_buildings", "n_suitable_faces", "usable_area_m2", "kwp",
            "production_mwh_yr"]
    if communes is None or communes.empty:
        geom = shapely.union_all(buildings.geometry.values) if len(buildings) else None
        row = {"level": "zone", "code": None, "nom": "zone", "epci_siren": None, "n_buildings": len(b),
               "n_suitable_faces": int(b["n_suitable_faces"].sum()), "usable_area_m2": float(b["usable_area_m2"].sum()),
               "kwp": float(b["kwp"].sum()), "production_mwh_yr": float(b["production_mwh_yr"].sum())}
        return gpd.GeoDataFrame([row], columns=cols, geometry=[geom], crs=buildings.crs)
    com = communes.to_crs(buildings.crs)
    agg = b.groupby("code_insee").agg(
        n_buildings=("building_id", "size"), n_suitable_faces=("n_suitable_faces", "sum"),
        usable_area_m2=("usable_area_m2", "sum"), kwp=("kwp", "sum"), production_mwh_yr=("production_mwh_yr", "sum"),
    )
    c = com[["code_insee", "nom", "epci_siren", com.geometry.name]].merge(agg, left_on="code_insee", right_index=True,
                                                                            how="left")
    c = c.fillna({"n_buildings": 0, "n_suitable_faces": 0, "usable_area_m2": 0.0, "kwp": 0.0,
                  "production_mwh_yr": 0.0})
    c["level"] = "commune"
    c = c.rename(columns={"code_insee": "code"})
    rows = [c]
    if c["epci_siren"].notna().any():
        e = c[c["epci_siren"].notna()].dissolve(by="epci_siren", aggfunc={
            "n_buildings": "sum", "n_suitable_faces": "sum", "usable_area_m2": "sum", "kwp": "sum",
            "production_mwh_yr": "sum",
        }).reset_index()
        e["code"] = e["epci_siren"]
        e["nom"] = [config.PMA_EPCI.get(str(s), str(s)) for s in e["epci_siren"]]
        e["level"] = "epci"
        rows.append(e)
    out = pd.concat(rows, ignore_index=True)
    out["n_buildings"] = out["n_buildings"].astype(int)
    out["n_suitable_faces"] = out["n_suitable_faces"].astype(int)
    gdf = gpd.GeoDataFrame(out[cols], geometry=out.geometry.values, crs=buildings.crs)
    return gdf
