"""Communes and their agglomerations (EPCI).

* Commune polygons: GeoJSON as geo.api.gouv.fr returns it (properties ``nom``, ``code``,
  ``codeEpci``, ``population``…) or any vector file with an INSEE code and a name.
* The commune -> EPCI table (``pma-communes-epci.csv``: ``epci_siren``, ``epci_nom``,
  ``insee_com``, ``nom_com``, ``population_municipale_2025``).
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo import config
from geo.errors import InputError
from geo.io.vectors import read_vector

log = logging.getLogger("artois.io")

#: Columns of the result of :func:`read_communes` (plus geometry).
COMMUNE_COLUMNS = ("code_insee", "nom", "epci_siren", "epci_nom", "population")

_CODE_KEYS = ("code_insee", "code", "insee_com", "insee", "codgeo", "com")
_NAME_KEYS = ("nom", "nom_com", "nom_commune", "libgeo", "name")
_EPCI_KEYS = ("epci_siren", "codeepci", "siren_epci", "code_epci", "epci")
_POP_KEYS = ("population", "population_municipale_2025", "population_municipale", "pmun", "pop")


def _pick(columns: list[str], keys: tuple[str, ...]) -> str | None:
    lower = {c.lower(): c for c in columns}
    for k in keys:
        if k in lower:
            return lower[k]
    for c in columns:  # e.g. population_municipale_2024
        if any(c.lower().startswith(k) for k in keys):
            return c
    return None


def _code(series: pd.Series) -> pd.Series:
    s = series.astype("string").str.strip()
    return s.where(~s.str.fullmatch(r"\d{1,4}"), s.str.zfill(5))


def read_epci_table(path: str | Path) -> pd.DataFrame:
    """Read a commune -> EPCI table such as ``pma-communes-epci.csv``.

    Returns
    -------
    DataFrame
        ``code_insee`` (5 characters), ``nom``, ``epci_siren``, ``epci_nom``, ``population``
        [inhabitants, nullable integer], one row per commune.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    try:
        with open(path, encoding="utf-8-sig") as fh:
            header = fh.readline()
        sep = ";" if header.count(";") > header.count(",") else ","
        df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                         quoting=csv.QUOTE_MINIMAL)
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as exc:
        text = str(exc).strip()
        raise InputError(path, f"not a readable CSV ({text.splitlines()[0] if text else type(exc).__name__})") from exc
    cols = list(df.columns)
    code_c, epci_c = _pick(cols, ("insee_com", "code_insee", "codgeo", "code")), _pick(cols, ("epci_siren", "siren_epci", "epci"))
    epci_nom_c = _pick(cols, ("epci_nom", "nom_epci", "libepci"))
    missing = [n for n, c in (("insee_com", code_c), ("epci_siren", epci_c), ("epci_nom", epci_nom_c)) if c is None]
    if missing:
        raise InputError(path, f"not a commune -> EPCI table: missing column(s) {', '.join(missing)} (found: {', '.join(cols) or 'none'})")
    assert code_c is not None and epci_c is not None and epci_nom_c is not None
    name_c = _pick(cols, ("nom_com", "nom_commune", "libgeo", "nom"))
    pop_c = _pick(cols, ("population_municipale_2025", "population", "pmun"))
    out = pd.DataFrame({
        "code_insee": _code(df[code_c]),
        "nom": df[name_c].astype("string") if name_c else pd.Series(pd.NA, index=df.index, dtype="string"),
        "epci_siren": df[epci_c].astype("string").str.strip(),
        "epci_nom": df[epci_nom_c].astype("string"),
        "population": pd.to_numeric(df[pop_c], errors="coerce").astype("Int64") if pop_c else pd.Series(
            pd.NA, index=df.index, dtype="Int64"),
    })
    if out.empty:
        raise InputError(path, "no commune (the file has a header only)")
    dup = out["code_insee"].duplicated()
    if dup.any():
        raise InputError(path, f"commune {out.loc[dup, 'code_insee'].iloc[0]} listed twice")
    return out


def read_communes(
    path: str | Path,
    *,
    epci_table: str | Path | pd.DataFrame | None = None,
    crs: str = config.WORKING_CRS,
) -> gpd.GeoDataFrame:
    """Read commune polygons, optionally restricted to and joined with an EPCI table.

    Parameters
    ----------
    path
        geo.api.gouv.fr GeoJSON (``code``, ``nom``, optional ``codeEpci``, ``population``) or
        any vector file with an INSEE code and a name column.
    epci_table
        A table path (see :func:`read_epci_table`) or its DataFrame: the territory. The one rule
        every stage uses: the communes both in the file and in the table are kept, with their
        EPCI (SIREN, name) and population from the table. The file may hold more (a whole
        department: they are outside the territory) and the table may list communes the file
        lacks (a part of the territory); a file with no commune of the table is an error.
    crs
        CRS of the result (default Lambert-93).

    Returns
    -------
    GeoDataFrame
        Columns :data:`COMMUNE_COLUMNS` and polygons in ``crs``; ``epci_nom`` is filled from
        :data:`geo.config.PMA_EPCI` when the file only gives the SIREN.
    """
    path = Path(path)
    gdf = read_vector(path, crs=crs, geometry_types=("Polygon",))
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    code_c, name_c = _pick(cols, _CODE_KEYS), _pick(cols, _NAME_KEYS)
    if code_c is None or name_c is None:
        missing = [n for n, c in (("code", code_c), ("nom", name_c)) if c is None]
        raise InputError(path, f"not a commune layer: missing property {', '.join(missing)} (found: {', '.join(cols) or 'none'})")
    epci_c, pop_c = _pick(cols, _EPCI_KEYS), _pick(cols, _POP_KEYS)
    out = gpd.GeoDataFrame({
        "code_insee": _code(gdf[code_c]),
        "nom": gdf[name_c].astype("string"),
        "epci_siren": gdf[epci_c].astype("string") if epci_c else pd.Series(pd.NA, index=gdf.index, dtype="string"),
        "population": pd.to_numeric(gdf[pop_c], errors="coerce").astype("Int64") if pop_c else pd.Series(
            pd.NA, index=gdf.index, dtype="Int64"),
    }, geometry=gdf.geometry.values, crs=gdf.crs, index=gdf.index)
    if out["code_insee"].duplicated().any():  # a commune in several pieces
        out = out.dissolve(by="code_insee", as_index=False, aggfunc="first")
    if epci_table is not None:
        table = epci_table if isinstance(epci_table, pd.DataFrame) else read_epci_table(epci_table)
        where = "the EPCI table" if isinstance(epci_table, pd.DataFrame) else str(epci_table)
        inside = out["code_insee"].isin(set(table["code_insee"]))
        if not inside.any():
            raise InputError(path, f"none of its {len(out)} commune(s) is in {where}")
        absent = len(set(table["code_insee"]) - set(out["code_insee"]))
        if absent:  # the area is a part of the territory the table lists
            log.info("%s: %d commune(s) of %s are outside this area", path, absent, where)
        out = out[inside].drop(columns=["epci_siren", "population"]).merge(
            table[["code_insee", "epci_siren", "epci_nom", "population"]], on="code_insee", how="inner")
        out = out.rename(columns={"nom_x": "nom"}) if "nom_x" in out.columns else out
    else:
        out["epci_nom"] = out["epci_siren"].map(lambda s: config.PMA_EPCI.get(str(s)) if pd.notna(s) else None)
        out["epci_nom"] = out["epci_nom"].astype("string")
    out = gpd.GeoDataFrame(out[[*COMMUNE_COLUMNS, "geometry"]], geometry="geometry", crs=gdf.crs)
    return out.sort_values("code_insee", kind="stable").reset_index(drop=True)
