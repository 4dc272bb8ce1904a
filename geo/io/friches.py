"""Brownfields (friches): Cartofriches exports in the CNIG friches standard, and their surfaces.

The CSV (:data:`geo.config.CNIG_FRICHES_COLUMNS`; ';'-separated; UTF-8 with or without BOM, or
Windows-1252/latin-1) has one row per site with ``geompoint`` (WKT centroid, WGS84, mandatory) and
``geomsurf`` (WKT perimeter, optional). The surfaces GeoPackage of Cartofriches (one polygon layer
with ``site_id``) fills in the perimeters the CSV lacks. A GeoPackage alone can also be read.

Every row comes back, with a ``read_note`` saying what could not be read, so that each site ends
with figures or a stated reason; only a file that is not a friches table at all is an error.
"""

from __future__ import annotations

import io
import logging
import math
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from geo import config
from geo.errors import InputError
from geo.io.vectors import list_layers, read_vector

log = logging.getLogger("artois.io")

#: Columns of the table :func:`read_friches` returns (plus ``geometry``: the perimeter, or the point
#: when no perimeter is known; Lambert-93).
FRICHES_COLUMNS = (*[c for c in config.CNIG_FRICHES_COLUMNS if c not in ("geompoint", "geomsurf")],
                   "geom_source", "read_note")

#: Metropolitan France in WGS84 (lon, lat) [°], to tell WKT axis orders apart.
_LON_RANGE, _LAT_RANGE = (-5.5, 10.0), (41.0, 51.5)


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    for enc in config.FRICHES_CSV_ENCODINGS:
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")  # every byte decodes: never reached with cp1252 first, kept as a guard


def _to_lonlat(geom: BaseGeometry) -> tuple[BaseGeometry, bool]:
    """The geometry with (lon, lat) axes: swapped when written (lat, lon) as in the CNIG example."""
    x0, y0, x1, y1 = geom.bounds
    lonlat = _LON_RANGE[0] <= x0 and x1 <= _LON_RANGE[1] and _LAT_RANGE[0] <= y0 and y1 <= _LAT_RANGE[1]
    latlon = _LAT_RANGE[0] <= x0 and x1 <= _LAT_RANGE[1] and _LON_RANGE[0] <= y0 and y1 <= _LON_RANGE[1]
    if latlon and not lonlat:
        return shapely.transform(geom, lambda xy: xy[:, ::-1]), True
    if not lonlat:
        raise ValueError("coordinates outside metropolitan France in WGS84")
    return geom, False


def _parse_wkt(text: object, kinds: tuple[str, ...], to_l93: Transformer) -> tuple[BaseGeometry | None, str]:
    """(geometry in Lambert-93, note): None and a reason when missing or unreadable."""
    if not isinstance(text, str) or text.strip() in config.CNIG_MISSING_VALUES:
        return None, "missing"
    try:
        g = shapely.from_wkt(text.strip())
    except Exception as exc:  # shapely.errors.GEOSException and friends
        return None, f"unreadable WKT ({str(exc).splitlines()[0][:60]})"
    if g is None or g.is_empty or not any(g.geom_type.endswith(k) for k in kinds):
        return None, f"not a {'/'.join(kinds)}"
    try:
        g, _ = _to_lonlat(g)
    except ValueError as exc:
        return None, str(exc)
    g = shapely.transform(g, lambda xy: np.column_stack(to_l93.transform(xy[:, 0], xy[:, 1])))
    if g.geom_type.endswith("Polygon") and not g.is_valid:
        g = shapely.make_valid(g)
    return g, ""


def _read_csv(path: Path) -> pd.DataFrame:
    text = _decode(path)
    first = text.split("\n", 1)[0]
    if not first.strip():
        raise InputError(path, "empty file, or no header line")
    if ";" not in first:
        other = next((s for s in (",", "\t", "|") if s in first), None)
        raise InputError(path, "not a ';'-separated CNIG friches CSV (" + (
            f"header separated by {other!r})" if other else "no ';' in the header line)"))
    try:
        df = pd.read_csv(io.StringIO(text), sep=";", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(path, f"not a readable CSV ({str(exc).splitlines()[0] if str(exc) else 'empty'})") from exc
    df.columns = [str(c).strip() for c in df.columns]
    return df


def read_friche_surfaces(path: str | Path) -> gpd.GeoDataFrame:
    """The perimeters of a Cartofriches surfaces GeoPackage: ``site_id`` and polygons (Lambert-93)."""
    path = Path(path)
    layers = list_layers(path)
    for layer in layers:
        gdf = read_vector(path, layer=layer, geometry_types=("Polygon",), allow_empty=True)
        if "site_id" in gdf.columns:
            return gdf
    raise InputError(path, f"no polygon layer with a site_id column (layers: {', '.join(layers) or 'none'})")


def read_friches(path: str | Path, *, surfaces: str | Path | None = None) -> gpd.GeoDataFrame:
    """Read a Cartofriches export (CNIG CSV, or GeoPackage) into one row per site.

    Parameters
    ----------
    path
        ``;``-separated CSV in the CNIG friches layout, or a GeoPackage layer with its columns.
    surfaces
        Optional Cartofriches surfaces GeoPackage: perimeters joined on ``site_id`` where the CSV's
        ``geomsurf`` is missing.

    Returns
    -------
    GeoDataFrame
        :data:`FRICHES_COLUMNS` in Lambert-93; ``geom_source`` is ``geomsurf``, ``surfaces``,
        ``geompoint`` or ``none``; ``unite_fonciere_surface`` [m²] is a float (NaN if missing);
        ``read_note`` says what was missing or unreadable (empty when all was read).

    Raises
    ------
    InputError
        Missing file, not a CSV/GeoPackage, another separator, missing mandatory columns, no row.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    if path.suffix.lower() in (".gpkg", ".geojson", ".json", ".fgb", ".shp"):
        gdf = read_vector(path, allow_empty=True)
        df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).astype(object)
        df["geomsurf"] = [shapely.to_wkt(g) if g is not None and g.geom_type.endswith("Polygon") else ""
                          for g in gdf.to_crs(config.WGS84).geometry]
        if "geompoint" not in df:
            df["geompoint"] = [shapely.to_wkt(g.representative_point()) if g is not None else ""
                               for g in gdf.to_crs(config.WGS84).geometry]
    else:
        df = _read_csv(path)
    missing = [c for c in config.CNIG_FRICHES_REQUIRED if c not in df.columns]
    if missing:
        found = ", ".join(list(df.columns)[:8]) + (", …" if len(df.columns) > 8 else "")
        raise InputError(path, f"missing CNIG friches column(s) {', '.join(missing)} (found: {found or 'none'})")
    if df.empty:
        raise InputError(path, "no site in the file")
    for c in config.CNIG_FRICHES_COLUMNS:
        if c not in df.columns:
            df[c] = ""
    to_l93 = Transformer.from_crs(config.WGS84, config.WORKING_CRS, always_xy=True)
    surf_index: dict[str, BaseGeometry] = {}
    if surfaces is not None:
        sgdf = read_friche_surfaces(surfaces)
        surf_index = {str(k): g for k, g in zip(sgdf["site_id"], sgdf.geometry, strict=True)}
    rows, geoms = [], []
    for rec in df.to_dict("records"):
        notes = []
        surf, why_surf = _parse_wkt(rec.get("geomsurf"), ("Polygon",), to_l93)
        point, why_point = _parse_wkt(rec.get("geompoint"), ("Point",), to_l93)
        source = "geomsurf"
        if surf is None:
            if str(rec["site_id"]) in surf_index:
                surf, source = surf_index[str(rec["site_id"])], "surfaces"
            elif why_surf != "missing":
                notes.append(f"geomsurf {why_surf}")
        if surf is None:
            if point is None:
                source = "none"
                notes.append(f"geompoint {why_point}")
            else:
                source = "geompoint"
        elif point is None and why_point != "missing":
            notes.append(f"geompoint {why_point}")
        area = re.sub(r"\s", "", str(rec.get("unite_fonciere_surface") or "")).replace(",", ".")  # "6 532,5"
        try:
            uf = float(area) if area not in config.CNIG_MISSING_VALUES else math.nan
        except ValueError:
            uf = math.nan
            notes.append(f"unite_fonciere_surface unreadable ({area[:20]})")
        out: dict[str, object] = {c: ("" if str(rec.get(c, "")).strip() in config.CNIG_MISSING_VALUES
                                     else str(rec.get(c, "")).strip())
               for c in FRICHES_COLUMNS if c not in ("unite_fonciere_surface", "geom_source", "read_note")}
        out.update({"unite_fonciere_surface": uf if uf > 0 else math.nan, "geom_source": source,
                    "read_note": "; ".join(notes)})
        rows.append(out)
        geoms.append(surf if surf is not None else point)
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs=config.WORKING_CRS)[[*FRICHES_COLUMNS, "geometry"]]
    bad = int((gdf["read_note"] != "").sum())
    if bad:
        log.warning("%s: %d of %d site(s) with unreadable or missing geometry/fields (see read_note)",
                    path, bad, len(gdf))
    return gdf
