"""BAN address files for the geocoder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo import config
from geo.io.ban import read_ban


def read_ban_csv(path: str | Path) -> pd.DataFrame:
    """Addresses of a BAN ``adresses-XX.csv`` with WGS84 ``lon``/``lat`` [°] for the geocoder.

    Reads through the project's BAN reader (:func:`geo.io.ban.read_ban`, which checks the columns
    and raises :class:`~geo.errors.InputError` naming the file), then adds the WGS84 position of
    each address as the reader resolved it (from x/y, or lon/lat when x/y are empty).
    """
    gdf = read_ban(path)
    wgs = gdf.geometry.to_crs(config.WGS84)
    df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    df["lon"], df["lat"] = wgs.x.to_numpy(), wgs.y.to_numpy()
    return df
