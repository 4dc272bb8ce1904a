"""BAN address files for the geocoder."""

from __future__ import annotations

import importlib
from pathlib import Path

import pandas as pd

from geo import config
from geo.errors import InputError

#: Columns the geocoder needs from a BAN CSV.
NEEDED = ("numero", "rep", "nom_voie", "code_postal", "code_insee", "nom_commune", "lon", "lat")


def read_ban_csv(path: str | Path) -> pd.DataFrame:
    """Addresses of a BAN ``adresses-XX.csv`` (';'-separated, UTF-8) with WGS84 ``lon``/``lat`` [°].

    Uses the project's BAN reader (:func:`geo.io.ban.read_ban`) when it is available, else reads the
    columns it needs; rows without a position are dropped. :class:`InputError` names the file and
    the missing columns.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    try:
        ban = importlib.import_module("geo.io.ban")
    except ModuleNotFoundError:
        ban = None
    if ban is not None and hasattr(ban, "read_ban"):
        gdf = ban.read_ban(path)
        wgs = gdf.geometry.to_crs(config.WGS84)  # positions from x/y (or lon/lat) as the reader resolved them
        df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        df["lon"], df["lat"] = wgs.x.to_numpy(), wgs.y.to_numpy()
        return df
    try:
        df = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(path, f"not a readable BAN CSV ({exc})") from exc
    missing = [c for c in NEEDED if c not in df.columns]
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(missing)} (found: {', '.join(df.columns)})")
    return df
