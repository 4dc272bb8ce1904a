"""Vector layers: read any OGR format with checks, reproject, write GeoPackages atomically."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely
from pyproj import CRS

from geo import config
from geo.errors import CRSError, InputError
from geo.io._atomic import atomic_path

log = logging.getLogger("artois.io")
logging.getLogger("pyogrio").setLevel(logging.WARNING)  # not "Created N records" for every layer written


def list_layers(path: str | Path) -> list[str]:
    """Names of the layers of a vector file; :class:`InputError` if it cannot be opened."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises DataSourceError and plain errors alike
        raise InputError(path, f"not a readable vector file ({_first_line(exc)})") from exc


def read_vector(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = config.WORKING_CRS,
    required_columns: Iterable[str] = (),
    geometry_types: Iterable[str] | None = None,
    allow_empty: bool = False,
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Read a vector layer, check it and reproject it.

    Parameters
    ----------
    path, layer
        File (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, …) and optional layer name.
    crs
        Target CRS (default Lambert-93); ``None`` keeps the file's CRS. A file without CRS is
        an error, except GeoJSON, which is WGS84 by definition (RFC 7946).
    required_columns
        Columns that must exist; the error lists the ones missing and the ones found.
    geometry_types
        Accepted geometry families, e.g. ``("Polygon",)`` also accepts MultiPolygon.
    allow_empty
        When False (default) an empty layer is an error.
    bbox
        Optional filter (xmin, ymin, xmax, ymax) in the file's CRS.

    Returns
    -------
    GeoDataFrame
        In ``crs``; null and empty geometries dropped and invalid polygons repaired, both
        logged with their count.
    """
    path = Path(path)
    layers = list_layers(path)
    if layer is not None and layer not in layers:
        raise InputError(path, f"no layer '{layer}' (layers: {', '.join(layers) or 'none'})")
    try:
        gdf = pyogrio.read_dataframe(path, layer=layer, bbox=bbox)
    except Exception as exc:
        raise InputError(path, f"cannot read layer {layer or layers[0] if layers else ''} ({_first_line(exc)})") from exc
    where = f"layer '{layer}'" if layer else "layer"
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry is None:
        raise InputError(path, f"{where} has no geometry")
    missing = [c for c in required_columns if c not in gdf.columns]
    if missing:
        found = [c for c in gdf.columns if c != gdf.geometry.name]
        raise InputError(path, f"missing column(s) {', '.join(missing)} (found: {', '.join(found) or 'none'})")
    if gdf.crs is None:
        if path.suffix.lower() in (".geojson", ".json"):
            gdf = gdf.set_crs(config.WGS84)
        else:
            raise CRSError(path, "layer has no CRS; set one (e.g. EPSG:2154) before using it")
    n0 = len(gdf)
    gdf = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    if len(gdf) < n0:
        log.warning("%s: dropped %d feature(s) with no geometry", path, n0 - len(gdf))
    if geometry_types is not None:
        families = tuple(geometry_types)
        ok = gdf.geometry.geom_type.isin(families + tuple("Multi" + f for f in families))
        if not ok.all():
            log.warning("%s: dropped %d feature(s) that are not %s", path, int((~ok).sum()), "/".join(families))
            gdf = gdf[ok]
    if gdf.empty and not allow_empty:
        raise InputError(path, f"{where} is empty" if n0 == 0 else f"{where} has no usable feature")
    if not gdf.empty and gdf.geometry.geom_type.str.contains("Polygon").any():
        invalid = ~gdf.geometry.is_valid
        if invalid.any():
            log.warning("%s: repaired %d invalid polygon(s)", path, int(invalid.sum()))
            gdf = gdf.copy()
            gdf.loc[invalid, gdf.geometry.name] = shapely.make_valid(gdf.geometry[invalid].values)
    if crs is not None and CRS.from_user_input(gdf.crs) != CRS.from_user_input(crs):
        gdf = gdf.to_crs(crs)
    return gdf.reset_index(drop=True)


def require_projected(gdf: gpd.GeoDataFrame, path: str | Path | None = None) -> None:
    """Raise :class:`CRSError` unless ``gdf`` has a projected (metric) CRS."""
    if gdf.crs is None:
        raise CRSError(path, "layer has no CRS; a projected CRS in metres is needed")
    if not CRS.from_user_input(gdf.crs).is_projected:
        raise CRSError(path, f"CRS {gdf.crs.to_string()} is geographic (degrees); a projected CRS in metres is needed")


def write_gpkg(path: str | Path, layers: Mapping[str, gpd.GeoDataFrame]) -> Path:
    """Write several layers into one GeoPackage, atomically (all layers or nothing).

    Each layer gets an R-tree spatial index (GeoPackage default), which the API's lookups and
    tiles rely on.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        for name, gdf in layers.items():
            pyogrio.write_dataframe(gdf, tmp, layer=name, driver="GPKG", spatial_index=True)
    return path


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
