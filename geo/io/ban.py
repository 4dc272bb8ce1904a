"""BAN (Base Adresse Nationale) address files: ``adresses-XX.csv`` (or ``.csv.gz``).

The files are ';'-separated UTF-8 with the columns of :data:`geo.config.BAN_COLUMNS`; ``x``/``y``
are Lambert-93 metres and ``lon``/``lat`` WGS84 degrees.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS, Transformer

from geo import config
from geo.errors import CRSError, InputError

log = logging.getLogger("artois.io")

#: Columns :func:`read_ban` needs (the others of the BAN layout are kept when present).
BAN_REQUIRED: tuple[str, ...] = (
    "id", "numero", "rep", "nom_voie", "code_postal", "code_insee", "nom_commune", "x", "y", "lon", "lat",
)


def read_ban(path: str | Path, *, crs: str = config.WORKING_CRS) -> gpd.GeoDataFrame:
    """Read a BAN address CSV into points.

    Parameters
    ----------
    path
        ``adresses-XX.csv`` or ``adresses-XX.csv.gz`` (';'-separated, UTF-8).
    crs
        CRS of the result (default Lambert-93); must be projected.

    Returns
    -------
    GeoDataFrame
        All the file's columns as text (``numero`` as an integer), a ``label`` such as
        ``"12 bis Rue Émile Zola 62300 Lens"``, and points built from ``x``/``y``
        (Lambert-93), or from ``lon``/``lat`` where ``x``/``y`` are empty. Rows with neither are
        dropped (logged).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    if not CRS.from_user_input(crs).is_projected:
        raise CRSError(None, f"target CRS {crs} is geographic; a projected CRS in metres is needed")
    try:
        df = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding="utf-8", quoting=csv.QUOTE_MINIMAL)
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError, EOFError) as exc:
        raise InputError(path, f"not a readable CSV ({str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__})") from exc
    missing = [c for c in BAN_REQUIRED if c not in df.columns]
    if missing:
        hint = " — is it ';'-separated?" if len(df.columns) == 1 else ""
        found = ", ".join(map(str, df.columns[:12])) + (", …" if len(df.columns) > 12 else "")
        raise InputError(path, f"not a BAN address file: missing column(s) {', '.join(missing)} (found: {found}){hint}")
    if df.empty:
        raise InputError(path, "no address (the file has a header only)")

    x, y = _num(df["x"]), _num(df["y"])
    lon, lat = _num(df["lon"]), _num(df["lat"])
    use_xy = np.isfinite(x) & np.isfinite(y)
    use_ll = ~use_xy & np.isfinite(lon) & np.isfinite(lat)
    px, py = np.where(use_xy, x, np.nan), np.where(use_xy, y, np.nan)
    if use_ll.any():
        tx, ty = Transformer.from_crs(config.WGS84, config.WORKING_CRS, always_xy=True).transform(
            lon[use_ll], lat[use_ll])
        px[use_ll], py[use_ll] = tx, ty
    ok = use_xy | use_ll
    if not ok.any():
        raise InputError(path, "no address has coordinates (x/y or lon/lat)")
    if (~ok).any():
        log.warning("%s: dropped %d address(es) without coordinates", path, int((~ok).sum()))
    df = df[ok].copy()
    numero = pd.to_numeric(df["numero"], errors="coerce")
    df["numero"] = numero.astype("Int64")
    df["label"] = [
        " ".join(part for part in (f"{n}" if pd.notna(n) else "", r, v, cp, c) if part)
        for n, r, v, cp, c in zip(df["numero"], df["rep"], df["nom_voie"], df["code_postal"], df["nom_commune"],
                                  strict=True)
    ]
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(px[ok], py[ok]), crs=config.WORKING_CRS)
    if CRS.from_user_input(crs) != CRS.from_user_input(config.WORKING_CRS):
        gdf = gdf.to_crs(crs)
    return gdf.reset_index(drop=True)


def _num(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s.str.replace(",", ".", regex=False).str.strip(), errors="coerce").to_numpy(dtype=float)
