"""Write a sample scene in the real formats, reproducibly (docs/formats.md gives the layout).

Same scene -> byte-identical files: GeoPackages get a fixed ``last_change`` time stamp
(GDAL's ``OGR_CURRENT_DATE``), GeoJSON and CSV are written by hand in a fixed order, and the
GeoTIFFs carry no date tag.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from affine import Affine
from shapely.geometry import mapping

from geo import config
from geo.io._atomic import write_text_atomic
from geo.io.rasters import lidar_tile_name, write_geotiff
from geo.io.vectors import write_gpkg
from geo.types import Bounds


@contextlib.contextmanager
def fixed_gpkg_timestamp(stamp: str = config.SAMPLE_GPKG_TIMESTAMP) -> Iterator[None]:
    """Make GDAL write ``stamp`` as the GeoPackage modification time while inside the block."""
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": stamp})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})


def write_layers(path: Path, layers: Mapping[str, gpd.GeoDataFrame]) -> Path:
    """GeoPackage with a fixed time stamp (byte-identical for identical data)."""
    with fixed_gpkg_timestamp():
        return write_gpkg(path, layers)


def write_tiles(
    lidar_dir: Path,
    dtm: np.ndarray,
    dsm: np.ndarray,
    transform: Affine,
    bounds: Bounds,
) -> list[Path]:
    """Cut the DTM and DSM into IGN LiDAR HD tiles named by their upper-left corner [km].

    A tile is 1 km x 1 km, or smaller when ``bounds`` is (the small sample is a cropped tile:
    one 500 m x 500 m file named after the 1 km tile whose upper-left corner it shares).
    """
    res = transform.a
    xmin, ymin, xmax, ymax = bounds
    size = config.LIDAR_TILE_SIZE_M
    paths: list[Path] = []
    x = xmin
    while x < xmax - 1e-6:
        y_top = ymax
        while y_top > ymin + 1e-6:
            x1, y0 = min(x + size, xmax), max(y_top - size, ymin)
            c0, c1 = int(round((x - transform.c) / res)), int(round((x1 - transform.c) / res))
            r0, r1 = int(round((transform.f - y_top) / res)), int(round((transform.f - y0) / res))
            tile_tr = Affine(res, 0.0, x, 0.0, -res, y_top)
            for kind, arr in (("MNS", dsm), ("MNT", dtm)):
                path = lidar_dir / lidar_tile_name(int(math.floor(x / 1000)), int(math.ceil(y_top / 1000)), kind)
                write_geotiff(path, arr[r0:r1, c0:c1], transform=tile_tr, crs=config.WORKING_CRS,
                              nodata=config.LIDAR_NODATA)
                paths.append(path)
            y_top -= size
        x += size
    return sorted(paths)


def _round_coords(obj: Any, nd: int) -> Any:
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], (int, float)):
            return [round(float(v), nd) for v in obj]
        return [_round_coords(o, nd) for o in obj]
    return obj


def _geojson(gdf: gpd.GeoDataFrame, properties: list[str], *, nd: int = 6) -> str:
    wgs = gdf.to_crs(config.WGS84)
    features = []
    for _, row in wgs.iterrows():
        geom = mapping(row.geometry)
        props = {}
        for k in properties:
            v = row[k]
            props[k] = v.item() if isinstance(v, np.generic) else v
        features.append({"type": "Feature",
                         "geometry": {"type": geom["type"], "coordinates": _round_coords(geom["coordinates"], nd)},
                         "properties": props})
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False) + "\n"


def write_communes_geojson(path: Path, communes: gpd.GeoDataFrame) -> Path:
    """Communes as geo.api.gouv.fr returns them (``?fields=nom,code,codeEpci,codeDepartement,population
    &format=geojson&geometry=contour``)."""
    gdf = communes.copy()
    gdf["codeDepartement"] = gdf["code"].str[:2]
    write_text_atomic(path, _geojson(gdf, ["nom", "code", "codeEpci", "codeDepartement", "population"]))
    return path


def write_stops_geojson(path: Path, stops: gpd.GeoDataFrame) -> Path:
    write_text_atomic(path, _geojson(stops, ["nom", "ligne"]))
    return path


def write_csv(path: Path, df: pd.DataFrame, *, sep: str) -> Path:
    write_text_atomic(path, df.to_csv(sep=sep, index=False, lineterminator="\n"))
    return path
