"""INSEE Filosofi gridded data (200 m cells, "données carroyées"), from GeoPackage or CSV.

INSEE ships the grid as a GeoPackage/Shapefile of squares in ETRS89-LAEA (EPSG:3035) and as a
CSV without geometry. Cell identifiers encode the square, ``CRS3035RES200mN3061200E3809600``
being the 200 m cell whose lower-left corner is at northing 3,061,200 m and easting
3,809,600 m: the CSV's squares are rebuilt from them. Column names differ between releases
(2015: ``Idcar_200m``, ``Ind``, ``Men``, ``Men_pauv``; 2019: ``idcar_200m``, ``ind``…): they are
matched case-insensitively and returned in the 2015 spelling of :data:`geo.config.FILOSOFI_COLUMNS`.
"""

from __future__ import annotations

import csv
import gzip
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo import config
from geo.errors import InputError
from geo.io.vectors import read_vector

_IDCAR_RE = re.compile(r"^CRS(?P<epsg>\d+)RES(?P<res>\d+)mN(?P<n>\d+)E(?P<e>\d+)$")
_NUMERIC = ("Ind", "Men", "Men_pauv")


def parse_idcar(idcar: str) -> tuple[int, float, float, float]:
    """``'CRS3035RES200mN3061200E3809600'`` -> (EPSG code, cell size [m], lower-left easting, northing [m])."""
    m = _IDCAR_RE.match(str(idcar).strip())
    if m is None:
        raise ValueError(f"not an INSEE grid cell identifier: {idcar!r}")
    return int(m["epsg"]), float(m["res"]), float(m["e"]), float(m["n"])


def cell_polygons(ids: pd.Series) -> tuple[np.ndarray, int]:
    """Squares of INSEE cell identifiers and their EPSG code (all ids must share one CRS)."""
    parsed = [parse_idcar(i) for i in ids]
    epsgs = {p[0] for p in parsed}
    if len(epsgs) != 1:
        raise ValueError(f"cell identifiers in several CRS: {sorted(epsgs)}")
    arr = np.array([p[1:] for p in parsed], dtype=float).reshape(-1, 3)
    res, e, n = arr[:, 0], arr[:, 1], arr[:, 2]
    return shapely.box(e, n, e + res, n + res), epsgs.pop()


def read_filosofi(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = config.FILOSOFI_CRS,
) -> gpd.GeoDataFrame:
    """Read Filosofi 200 m cells.

    Parameters
    ----------
    path
        GeoPackage (or any vector file) of cells, or a CSV (',' or ';' separated) whose cells
        are rebuilt from their identifiers.
    layer
        Layer of a multi-layer file (default: the first).
    crs
        CRS of the result: EPSG:3035 by default (the cells stay squares), e.g. ``"EPSG:2154"``
        to reproject; ``None`` keeps the file's.

    Returns
    -------
    GeoDataFrame
        ``Idcar_200m``, ``Ind`` [persons], ``Men`` [households], ``Men_pauv`` [poor households]
        as floats, the file's other columns, and the cell polygons.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    if path.suffix.lower() in (".csv", ".txt") or path.name.lower().endswith(".csv.gz"):
        gdf = _read_csv(path)
    else:
        gdf = read_vector(path, layer=layer, crs=None, geometry_types=("Polygon",))
        gdf = _normalise_columns(gdf, path)
    for col in _NUMERIC:
        values = gdf[col]
        if values.dtype == object:
            values = values.astype(str).str.replace(",", ".", regex=False)
        gdf[col] = pd.to_numeric(values, errors="coerce").astype(float)
    bad = gdf[list(_NUMERIC)].isna().any(axis=1)
    if bad.all():
        raise InputError(path, f"no cell has numeric {', '.join(_NUMERIC)}")
    if crs is not None and CRS.from_user_input(gdf.crs) != CRS.from_user_input(crs):
        gdf = gdf.to_crs(crs)
    return gdf.reset_index(drop=True)


def _normalise_columns(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    lower = {str(c).lower(): c for c in df.columns}
    renames = {}
    missing = []
    for want in config.FILOSOFI_COLUMNS:
        have = lower.get(want.lower())
        if have is None:
            missing.append(want)
        elif have != want:
            renames[have] = want
    if missing:
        geom = getattr(df, "_geometry_column_name", None)
        found = ", ".join(str(c) for c in df.columns if c != geom) or "none"
        raise InputError(path, f"not a Filosofi grid: missing column(s) {', '.join(missing)} (found: {found})")
    return df.rename(columns=renames)


def _first_line(path: Path) -> str:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", errors="replace") as fh:
        return str(fh.readline())


def _read_csv(path: Path) -> gpd.GeoDataFrame:
    try:
        header = _first_line(path)
        sep = ";" if header.count(";") > header.count(",") else ","
        df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                         quoting=csv.QUOTE_MINIMAL)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, EOFError) as exc:
        text = str(exc).strip()
        raise InputError(path, f"not a readable CSV ({text.splitlines()[0] if text else type(exc).__name__})") from exc
    df = _normalise_columns(df, path)
    if df.empty:
        raise InputError(path, "no cell (the file has a header only)")
    try:
        polys, epsg = cell_polygons(df["Idcar_200m"])
    except ValueError as exc:
        raise InputError(path, str(exc)) from exc
    return gpd.GeoDataFrame(df, geometry=polys, crs=f"EPSG:{epsg}")
