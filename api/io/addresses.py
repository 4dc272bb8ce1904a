"""BAN address files for the geocoder: only the columns the address index needs, read in one pass.

:func:`geo.io.ban.read_ban` builds points and labels for the build's address matching; the geocoder needs
neither, and on a département's file (300,000 to 750,000 rows) they cost most of the reading time, so the
index reads the file here: the index columns as text, the WGS84 position from ``lon``/``lat``, else from the
Lambert-93 ``x``/``y`` (as the BAN reader does, the other way round).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer

from geo import config
from geo.errors import InputError

#: The columns the index is built from (:meth:`api.geocoder.AddressIndex.build`).
INDEX_COLUMNS: tuple[str, ...] = ("id", "numero", "rep", "nom_voie", "code_postal", "code_insee", "nom_commune",
                                  "x", "y", "lon", "lat")


def read_ban_csv(path: str | Path) -> pd.DataFrame:
    """The addresses of a BAN ``adresses-XX.csv`` (or ``.csv.gz``): :data:`INDEX_COLUMNS` as text,
    ``lon``/``lat`` [° WGS84] as numbers (NaN when the row has no position).

    Raises :class:`~geo.errors.InputError` naming the file when it is missing, not UTF-8 CSV, or lacks a column.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    try:
        header = pd.read_csv(path, sep=";", nrows=0, encoding="utf-8").columns
        missing = [c for c in INDEX_COLUMNS if c not in header]
        if missing:
            hint = " — is it ';'-separated?" if len(header) == 1 else ""
            raise InputError(path, f"not a BAN address file: missing column(s) {', '.join(missing)}{hint}")
        df = pd.read_csv(path, sep=";", usecols=list(INDEX_COLUMNS), dtype=str, keep_default_na=False,
                         encoding="utf-8", engine="pyarrow")  # multi-threaded, 5x less CPU than the C parser
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError, EOFError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(path, f"not a readable CSV ({first})") from exc
    lon, lat = _number(df["lon"]), _number(df["lat"])
    x, y = _number(df["x"]), _number(df["y"])
    from_xy = ~(np.isfinite(lon) & np.isfinite(lat)) & np.isfinite(x) & np.isfinite(y)
    if from_xy.any():
        to_wgs84 = Transformer.from_crs(config.WORKING_CRS, config.WGS84, always_xy=True)
        lon[from_xy], lat[from_xy] = to_wgs84.transform(x[from_xy], y[from_xy])
    out = df.drop(columns=["x", "y"])
    out["lon"], out["lat"] = lon, lat
    return out


def _number(s: pd.Series) -> np.ndarray:
    """Decimal numbers written with a point or a comma; NaN where empty or not a number."""
    values = pd.to_numeric(s.str.replace(",", ".", regex=False).str.strip(), errors="coerce")
    return values.to_numpy(dtype=float, copy=True)  # writable: positions from x/y are filled in
