"""Cadastral parcels: the cadastre's ``parcelles`` layer (cadastre.data.gouv.fr, Etalab's export of the
PCI vecteur, GeoJSON by commune ``cadastre-XXXXX-parcelles.json[.gz]``), or any polygon layer with the
same ``id`` column.

Fields of the source (https://cadastre.data.gouv.fr/datasets/cadastre-etalab): ``id`` (14 characters:
commune INSEE code, prefix, section, number), ``commune``, ``prefixe``, ``section``, ``numero``,
``contenance`` (area on the deed [m²]), ``arpente``, ``created``, ``updated``. Only ``id`` and the
polygons are needed (the roofs stage cuts buildings detected without footprints along parcel
boundaries, :func:`geo.roofs.rows.split_by_parcels`).

==================  =====  =====================================================
column              unit   meaning
==================  =====  =====================================================
``parcel_id``       –      the cadastre's ``id`` (unique)
``commune``         –      INSEE code of the commune (null when absent)
``contenance_m2``   m²     area on the deed (NaN when absent)
==================  =====  =====================================================
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo import config
from geo.errors import InputError
from geo.io._gzip import read_gzipped
from geo.io.vectors import read_vector, require_projected

log = logging.getLogger("artois.io")

#: Output columns, in order (plus geometry).
PARCEL_COLUMNS = ("parcel_id", "commune", "contenance_m2")


def read_parcels(path: str | Path, *, crs: str = config.WORKING_CRS) -> gpd.GeoDataFrame:
    """Read cadastral parcels (GeoJSON, ``.json.gz``, GeoPackage, Shapefile…) into :data:`PARCEL_COLUMNS`.

    Raises
    ------
    InputError
        Missing or unreadable file (or gzip), no polygon, no ``id`` column, null or duplicate
        identifiers, a geographic ``crs``; the message names the file.
    """
    path = Path(path)
    if path.suffix.lower() == ".gz":
        return read_gzipped(path, lambda plain: read_parcels(plain, crs=crs))
    gdf = read_vector(path, crs=crs)
    polygons = gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if not polygons.any():
        raise InputError(path, "not a parcel layer: no polygon")
    if not polygons.all():
        log.warning("%s: dropped %d feature(s) that are not polygons", path, int((~polygons).sum()))
        gdf = gdf[polygons].reset_index(drop=True)
    require_projected(gdf, path)
    lower = {c.lower(): c for c in gdf.columns if c != gdf.geometry.name}
    if "id" not in lower:
        found = ", ".join(lower.values()) or "none"
        raise InputError(path, f"not a cadastre parcel layer: no 'id' column (found: {found})")
    ids = gdf[lower["id"]].astype("string").str.strip()
    if ids.isna().any() or (ids == "").any():
        raise InputError(path, f"{int((ids.isna() | (ids == '')).sum())} parcel(s) without an 'id'")
    dup = ids.duplicated()
    if dup.any():
        raise InputError(path, f"{int(dup.sum())} duplicate parcel id(s), e.g. {ids[dup].iloc[0]}")
    commune = gdf[lower["commune"]].astype("string") if "commune" in lower else pd.Series(pd.NA, index=gdf.index)
    area = (pd.to_numeric(gdf[lower["contenance"]], errors="coerce") if "contenance" in lower
            else pd.Series(float("nan"), index=gdf.index))
    out = gpd.GeoDataFrame({"parcel_id": ids.astype(object), "commune": commune.astype(object),
                            "contenance_m2": area.astype(float)},
                           geometry=shapely.force_2d(gdf.geometry.values), crs=gdf.crs)
    log.info("%s: %d cadastral parcels", path, len(out))
    return out
