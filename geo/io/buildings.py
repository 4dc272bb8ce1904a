"""Building footprints from any polygon layer: IGN BD TOPO ``batiment`` (GeoPackage or Shapefile), OSM
buildings (GeoJSON), the cadastre's ``batiments`` (cadastre.data.gouv.fr, GeoJSON by commune, ``.json``
or ``.json.gz``), or any Shapefile / GeoPackage / GeoJSON of polygons (e.g. a municipal layer).

All come out as one normalised table in the working CRS:

==========================  =====  ==========================================================
column                      unit   meaning
==========================  =====  ==========================================================
``building_id``             –      unique identifier: BD TOPO ``cleabs``, ``osm-way-123``, the
                                   cadastre's ``id``, the identifier column of another layer,
                                   else one generated from the outline (``bat-`` + 16 hex)
``cleabs``                  –      BD TOPO identifier (null for the other sources)
``hauteur``                 m      height ground -> gutter/parapet (BD TOPO), OSM ``height``
``nombre_d_etages``         –      storeys (OSM ``building:levels``)
``usage_1``                 –      BD TOPO usage (OSM ``building=*`` and cadastre ``type`` mapped onto it)
``altitude_minimale_sol``   m      lowest ground altitude (BD TOPO only)
``altitude_maximale_toit``  m      highest roof altitude (BD TOPO only)
``source``                  –      ``bdtopo``, ``osm``, ``cadastre`` or ``other``
==========================  =====  ==========================================================

Which source a layer is comes from its columns (:func:`footprint_source`); the identifier used is
logged and kept in ``gdf.attrs["id_column"]`` (``None`` when generated). Generated identifiers are
stable: a hash of the outline (coordinates rounded to 1 cm), so the same file gives the same
identifiers whatever the order of its rows. Geometries are 2-D polygons (BD TOPO ships
MultiPolygon Z; the Z is dropped).
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import config
from geo.errors import InputError
from geo.io._gzip import read_gzipped
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


#: Column names (lower case) taken as a layer's identifier, in this order, when unique and non-null.
_ID_NAMES = ("id", "identifiant", "id_bat", "id_bati", "id_batiment", "batiment_id", "building_id", "objectid",
             "fid", "gid", "ogc_fid", "uid")
#: Other identifier-like names (``NUM_BAT``, ``code_bati``, ``ref``, ``*_id``), tried after those.
_ID_LIKE = re.compile(r"^(id|num|code|ref)|_id$|ident", re.IGNORECASE)
#: Columns of other layers mapped onto the output (lower-case names, first found).
_OTHER_HEIGHT = ("hauteur", "height", "haut", "h_bati", "hauteur_m", "haut_m")
_OTHER_STOREYS = ("nombre_d_etages", "nb_etages", "etages", "niveaux", "nb_niveaux", "levels", "building:levels")
_OTHER_USAGE = ("usage_1", "usage1", "usage", "nature")
#: BD TOPO Shapefile columns besides ``ID`` (which alone would be any layer's identifier).
_BDTOPO_SHP_MARKERS = ("usage1", "nb_etages", "z_min_sol", "z_max_toit", "nb_logts", "mat_murs", "leger")


def footprint_source(columns: list[str], values: gpd.GeoDataFrame | None = None) -> str:
    """What a footprint layer is, from its column names: ``bdtopo``, ``cadastre``, ``osm`` or ``other``.

    BD TOPO has ``cleabs`` (GeoPackage, WFS) or ``ID`` with its other DBF names (Shapefile); the
    cadastre's ``batiments`` has ``commune``, ``type`` ("01"/"02") and ``created``/``updated``; OSM has
    ``building``. Anything else is another polygon layer.
    """
    lower = {c.lower() for c in columns}
    if "cleabs" in lower or ("id" in lower and lower & set(_BDTOPO_SHP_MARKERS)):
        return "bdtopo"
    if {"commune", "type"} <= lower and lower & {"created", "updated"}:
        if values is None:
            return "cadastre"
        col = next(c for c in columns if c.lower() == "type")
        types = set(values[col].dropna().astype(str))
        if types <= set(config.CADASTRE_TYPE_USAGE):
            return "cadastre"
    if "building" in lower:
        return "osm"
    return "other"


def read_footprints(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str = config.WORKING_CRS,
    id_column: str | None = None,
) -> gpd.GeoDataFrame:
    """Read building footprints from any polygon layer (BD TOPO, OSM, cadastre, or another).

    Parameters
    ----------
    path
        BD TOPO ``batiment`` GeoPackage or Shapefile, a GeoJSON of OSM buildings (features with a
        ``building`` property, e.g. an Overpass export), the cadastre's ``cadastre-XXXXX-batiments.json``
        (or ``.json.gz``), or any Shapefile / GeoPackage / GeoJSON / FlatGeobuf of polygons.
    layer
        Layer to read; default ``batiment`` when the file has one (any case), else the first.
    crs
        Working CRS of the result; must be projected (metres).
    id_column
        Identifier column of a layer that is neither BD TOPO, OSM nor the cadastre (must be unique and
        non-null); by default the first unique, non-null column among :data:`_ID_NAMES`, then among
        identifier-like names (``NUM_BAT``, ``code_*``, ``*_id``); else identifiers are generated
        from the outlines.

    Returns
    -------
    GeoDataFrame
        Columns :data:`FOOTPRINT_COLUMNS` and geometry (2-D polygons) in ``crs``; one row per
        building, ``building_id`` unique. ``attrs["id_column"]`` names the identifier column used
        (``None``: generated).

    Raises
    ------
    InputError
        Missing or unreadable file, no CRS, an empty layer, a layer without polygons, duplicate
        identifiers in BD TOPO or OSM, an ``id_column`` that is missing or not unique.
    """
    path = Path(path)
    if path.suffix.lower() == ".gz":
        return read_gzipped(path, lambda plain: read_footprints(plain, layer=layer, crs=crs, id_column=id_column))
    layers = list_layers(path)
    if layer is None:
        layer = next((name for name in layers if name.lower() == "batiment"), layers[0] if layers else None)
    gdf = read_vector(path, layer=layer, crs=crs)
    types = gdf.geometry.geom_type
    polygons = types.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if not polygons.any():
        raise InputError(path, f"not a polygon layer ({', '.join(sorted(set(types)))}): building footprints "
                               "are polygons")
    if not polygons.all():
        log.warning("%s: dropped %d feature(s) that are not polygons", path, int((~polygons).sum()))
        gdf = gdf[polygons].reset_index(drop=True)
    require_projected(gdf, path)
    lower = {c.lower(): c for c in gdf.columns if c != gdf.geometry.name}
    source = footprint_source(list(lower.values()), gdf)
    if source == "bdtopo":
        out, used = _from_bdtopo(gdf, lower), "cleabs" if "cleabs" in lower else lower.get("id")
    elif source == "osm":
        out, used = _from_osm(gdf, lower, path)
    elif source == "cadastre":
        out, used = _from_cadastre(gdf, lower, path)
    else:
        out, used = _from_other(gdf, lower, path, id_column)
    out["geometry"] = shapely.force_2d(out.geometry.values)
    dup = out["building_id"].duplicated()
    if dup.any():
        raise InputError(path, f"{int(dup.sum())} duplicate building identifier(s), e.g. {out.loc[dup, 'building_id'].iloc[0]}")
    if out.empty:
        raise InputError(path, "no building footprint")
    out = out.reset_index(drop=True)
    out.attrs["id_column"] = used
    log.info("%s: %d footprints (%s), identifier %s", path, len(out), source,
             f"column '{used}'" if used else "generated from the outlines (stable)")
    return out


def _outline_ids(geoms: gpd.GeoSeries, prefix: str = "bat-") -> pd.Series:
    """Identifiers from the outlines: ``prefix`` + 16 hex of a SHA-1 of the normalised geometry with
    coordinates rounded to 1 cm (stable across row order and reprojection noise below 1 cm); twins
    get ``-2``, ``-3``… in file order."""
    norm = shapely.normalize(shapely.set_precision(shapely.force_2d(geoms.values), 0.01))
    digests = [prefix + hashlib.sha1(shapely.to_wkb(g, hex=False), usedforsecurity=False).hexdigest()[:16]
               for g in norm]
    ids = pd.Series(digests, index=geoms.index, dtype=object)
    rank = ids.groupby(ids).cumcount()
    return ids.where(rank == 0, ids + "-" + (rank + 1).astype(str))


def _unique_ids(values: pd.Series) -> bool:
    text = values.astype("string").str.strip()
    return bool(text.notna().all() and (text != "").all() and not text.duplicated().any())


def _pick(gdf: gpd.GeoDataFrame, lower: dict[str, str], names: tuple[str, ...]) -> pd.Series | None:
    return next((gdf[lower[n]] for n in names if n in lower), None)


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


def _from_osm(gdf: gpd.GeoDataFrame, lower: dict[str, str], path: Path) -> tuple[gpd.GeoDataFrame, str | None]:
    building = gdf[lower["building"]].astype("string")
    keep = building.notna() & (building.str.lower() != "no")
    gdf = gdf[keep.to_numpy()]
    building = building[keep]
    used = next((lower[key] for key in ("@id", "id", "osm_id", "osm_way_id") if key in lower), None)
    ids = gdf[used].astype("string") if used else None
    if ids is None:
        log.warning("%s: no OSM id column (@id, id, osm_id); identifiers generated from the outlines", path)
        ids = _outline_ids(gdf.geometry, prefix="").astype("string")
    bid = "osm-" + ids.fillna("").str.replace("/", "-", regex=False).str.strip()
    bid = bid.where(~bid.str.fullmatch(r"osm-\d+"), "osm-way-" + bid.str[4:])
    return _table(gdf, bid, hauteur=_pick(gdf, lower, ("height",)), storeys=_pick(gdf, lower, ("building:levels",)),
                  usage=building.str.lower().map(lambda v: OSM_BUILDING_USAGE.get(v, "Indifférencié")),
                  source="osm"), used


def _table(gdf: gpd.GeoDataFrame, ids: pd.Series, *, hauteur: pd.Series | None, storeys: pd.Series | None,
           usage: pd.Series | None, source: str) -> gpd.GeoDataFrame:
    """The output table of a source without BD TOPO's altitudes nor ``cleabs``."""
    def numeric(values: pd.Series | None) -> pd.Series:
        if values is None:
            return pd.Series(np.nan, index=gdf.index)
        return values.map(_to_number).astype(float)

    return gpd.GeoDataFrame({
        "building_id": ids.astype(str),
        "cleabs": pd.Series(pd.NA, index=gdf.index, dtype="string"),
        "hauteur": numeric(hauteur),
        "nombre_d_etages": numeric(storeys).round().astype("Int64"),
        "usage_1": (usage if usage is not None else pd.Series(pd.NA, index=gdf.index)).astype("string"),
        "altitude_minimale_sol": np.nan,
        "altitude_maximale_toit": np.nan,
        "source": source,
    }, geometry=gdf.geometry.values, crs=gdf.crs, index=gdf.index)


def _from_cadastre(gdf: gpd.GeoDataFrame, lower: dict[str, str], path: Path) -> tuple[gpd.GeoDataFrame, str | None]:
    """The cadastre's ``batiments``: ``type`` "01" bâti dur / "02" bâti léger onto ``usage_1``; ``id`` as
    the identifier when unique, else one generated from the outline."""
    if "id" in lower and _unique_ids(gdf[lower["id"]]):
        ids, used = gdf[lower["id"]].astype("string").str.strip(), lower["id"]
    else:
        log.warning("%s: the cadastre 'id' is missing or not unique; identifiers generated from the outlines", path)
        ids, used = _outline_ids(gdf.geometry), None
    kind = gdf[lower["type"]].astype("string")
    usage = kind.map(lambda v: config.CADASTRE_TYPE_USAGE.get(str(v), "Indifférencié") if pd.notna(v) else pd.NA)
    return _table(gdf, ids, hauteur=None, storeys=None, usage=usage, source="cadastre"), used


def _from_other(gdf: gpd.GeoDataFrame, lower: dict[str, str], path: Path,
                id_column: str | None) -> tuple[gpd.GeoDataFrame, str | None]:
    """Any other polygon layer: its identifier column (``id_column``, else the first unique and
    non-null one of the usual names), else identifiers generated from the outlines."""
    used: str | None = None
    if id_column is not None:
        col = lower.get(id_column.lower())
        if col is None:
            raise InputError(path, f"no identifier column '{id_column}' (found: {', '.join(lower.values())})")
        if not _unique_ids(gdf[col]):
            raise InputError(path, f"identifier column '{col}' has empty or repeated values")
        used = col
    else:
        candidates = [lower[n] for n in _ID_NAMES if n in lower]
        candidates += [c for n, c in lower.items() if _ID_LIKE.search(n) and c not in candidates]
        used = next((c for c in candidates if _unique_ids(gdf[c])), None)
    ids = gdf[used].astype("string").str.strip() if used else _outline_ids(gdf.geometry)
    return _table(gdf, ids, hauteur=_pick(gdf, lower, _OTHER_HEIGHT), storeys=_pick(gdf, lower, _OTHER_STOREYS),
                  usage=_pick(gdf, lower, _OTHER_USAGE), source="other"), used

