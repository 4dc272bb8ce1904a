"""Building footprints: IGN BD TOPO ``batiment`` (GeoPackage or Shapefile) and OSM GeoJSON buildings.

Both come out as one normalised table in the working CRS:

==========================  =====  ==========================================================
column                      unit   meaning
==========================  =====  ==========================================================
``building_id``             –      BD TOPO ``cleabs``, or ``osm-way-123`` for OSM buildings
``cleabs``                  –      BD TOPO identifier (null for OSM)
``hauteur``                 m      height ground -> gutter/parapet (BD TOPO), OSM ``height``
``nombre_d_etages``         –      storeys (OSM ``building:levels``)
``usage_1``                 –      BD TOPO usage (OSM ``building=*`` mapped onto it)
``altitude_minimale_sol``   m      lowest ground altitude (BD TOPO only)
``altitude_maximale_toit``  m      highest roof altitude (BD TOPO only)
``source``                  –      ``bdtopo`` or ``osm``
==========================  =====  ==========================================================

Geometries are 2-D polygons (BD TOPO ships MultiPolygon Z; the Z is dropped).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import config
from geo.errors import InputError
from geo.io.vectors import list_layers, read_vector, require_projected

log = logging.getLogger("artois.io")

#: Output columns, in order (plus geometry).
FOOTPRINT_COLUMNS = (
    "building_id", "cleabs", "hauteur", "nombre_d_etages", "usage_1",
    "altitude_minimale_sol", "altitude_maximale_toit", "source",
)

#: BD TOPO v3 Shapefile field names (10-character DBF names) -> GeoPackage names.
_BDTOPO_SHP_ALIASES = {
    "id": "cleabs", "usage1": "usage_1", "nb_etages": "nombre_d_etages", "z_min_sol": "altitude_minimale_sol",
    "z_max_toit": "altitude_maximale_toit",
}

#: OSM ``building=*`` values -> BD TOPO ``usage_1`` (anything else: "Indifférencié").
OSM_BUILDING_USAGE: dict[str, str] = {
    **dict.fromkeys(("house", "residential", "terrace", "detached", "semidetached_house", "apartments",
                     "bungalow", "dormitory", "farm"), "Résidentiel"),
    **dict.fromkeys(("commercial", "retail", "supermarket", "office", "school", "kindergarten", "college",
                     "university", "hospital", "public", "civic", "government", "townhall", "train_station",
                     "hotel"), "Commercial et services"),
    **dict.fromkeys(("industrial", "warehouse", "factory", "manufacture", "hangar"), "Industriel"),
    **dict.fromkeys(("church", "chapel", "cathedral", "mosque", "synagogue", "temple", "religious"), "Religieux"),
    **dict.fromkeys(("sports_hall", "sports_centre", "stadium", "grandstand", "pavilion"), "Sportif"),
    **dict.fromkeys(("garage", "garages", "shed", "carport", "roof", "hut", "cabin", "outbuilding"), "Annexe"),
    **dict.fromkeys(("barn", "cowshed", "farm_auxiliary", "greenhouse", "stable", "silo"), "Agricole"),
}

_NUMBER_RE = re.compile(r"^\s*([0-9]+(?:[.,][0-9]+)?)")


def _to_number(value: object) -> float:
    """``'12'``, ``'12.5 m'``, ``'7,5'`` -> float; anything else -> NaN."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return float("nan")
    if isinstance(value, (int, float, np.number)):
        return float(value)
    match = _NUMBER_RE.match(str(value))
    return float(match.group(1).replace(",", ".")) if match else float("nan")


def read_footprints(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str = config.WORKING_CRS,
) -> gpd.GeoDataFrame:
    """Read building footprints from BD TOPO (GeoPackage/Shapefile) or OSM GeoJSON.

    Parameters
    ----------
    path
        BD TOPO ``batiment`` GeoPackage or Shapefile, or a GeoJSON of OSM buildings
        (features with a ``building`` property, e.g. an Overpass export).
    layer
        Layer to read; default ``batiment`` when the file has one (any case), else the first.
    crs
        Working CRS of the result; must be projected (metres).

    Returns
    -------
    GeoDataFrame
        Columns :data:`FOOTPRINT_COLUMNS` and geometry (2-D polygons) in ``crs``; one row per
        building, ``building_id`` unique.
    """
    path = Path(path)
    layers = list_layers(path)
    if layer is None:
        layer = next((name for name in layers if name.lower() == "batiment"), layers[0] if layers else None)
    gdf = read_vector(path, layer=layer, crs=crs, geometry_types=("Polygon",))
    require_projected(gdf, path)
    lower = {c.lower(): c for c in gdf.columns if c != gdf.geometry.name}
    if "cleabs" in lower or ("id" in lower and "building" not in lower):
        out = _from_bdtopo(gdf, lower)
    elif "building" in lower:
        out = _from_osm(gdf, lower, path)
    else:
        found = ", ".join(c for c in gdf.columns if c != gdf.geometry.name) or "none"
        raise InputError(path, f"not a building layer: no 'cleabs' (BD TOPO) nor 'building' (OSM) column (found: {found})")
    out["geometry"] = shapely.force_2d(out.geometry.values)
    dup = out["building_id"].duplicated()
    if dup.any():
        raise InputError(path, f"{int(dup.sum())} duplicate building identifier(s), e.g. {out.loc[dup, 'building_id'].iloc[0]}")
    if out.empty:
        raise InputError(path, "no building footprint")
    return out.reset_index(drop=True)


def _from_bdtopo(gdf: gpd.GeoDataFrame, lower: dict[str, str]) -> gpd.GeoDataFrame:
    def col(name: str) -> pd.Series:
        for key in (name, *(k for k, v in _BDTOPO_SHP_ALIASES.items() if v == name)):
            if key in lower:
                return gdf[lower[key]]
        return pd.Series([None] * len(gdf), index=gdf.index, dtype=object)

    cleabs = col("cleabs").astype("string")
    missing_id = cleabs.isna()
    if missing_id.any():
        cleabs = cleabs.where(~missing_id, pd.Series([f"row-{i}" for i in range(len(gdf))], index=gdf.index))
    out = gpd.GeoDataFrame({
        "building_id": cleabs.astype(str),
        "cleabs": col("cleabs").astype("string"),
        "hauteur": pd.to_numeric(col("hauteur"), errors="coerce").astype(float),
        "nombre_d_etages": pd.to_numeric(col("nombre_d_etages"), errors="coerce").astype("Int64"),
        "usage_1": col("usage_1").astype("string"),
        "altitude_minimale_sol": pd.to_numeric(col("altitude_minimale_sol"), errors="coerce").astype(float),
        "altitude_maximale_toit": pd.to_numeric(col("altitude_maximale_toit"), errors="coerce").astype(float),
        "source": "bdtopo",
    }, geometry=gdf.geometry.values, crs=gdf.crs, index=gdf.index)
    return out


def _from_osm(gdf: gpd.GeoDataFrame, lower: dict[str, str], path: Path) -> gpd.GeoDataFrame:
    building = gdf[lower["building"]].astype("string")
    keep = building.notna() & (building.str.lower() != "no")
    gdf = gdf[keep.to_numpy()]
    building = building[keep]
    ids = None
    for key in ("@id", "id", "osm_id", "osm_way_id"):
        if key in lower:
            ids = gdf[lower[key]].astype("string")
            break
    if ids is None:
        log.warning("%s: no OSM id column (@id, id, osm_id); numbering buildings in file order", path)
        ids = pd.Series([str(i) for i in range(len(gdf))], index=gdf.index, dtype="string")
    bid = "osm-" + ids.fillna("").str.replace("/", "-", regex=False).str.strip()
    bid = bid.where(~bid.str.fullmatch(r"osm-\d+"), "osm-way-" + bid.str[4:])

    def num(key: str) -> pd.Series:
        if key not in lower:
            return pd.Series(np.nan, index=gdf.index)
        return gdf[lower[key]].map(_to_number).astype(float)

    levels = num("building:levels")
    return gpd.GeoDataFrame({
        "building_id": bid.astype(str),
        "cleabs": pd.Series(pd.NA, index=gdf.index, dtype="string"),
        "hauteur": num("height"),
        "nombre_d_etages": levels.round().astype("Int64"),
        "usage_1": building.str.lower().map(lambda v: OSM_BUILDING_USAGE.get(v, "Indifférencié")).astype("string"),
        "altitude_minimale_sol": np.nan,
        "altitude_maximale_toit": np.nan,
        "source": "osm",
    }, geometry=gdf.geometry.values, crs=gdf.crs, index=gdf.index)
