"""OpenStreetMap files (.osm XML, .osm.pbf) through GDAL's OSM driver (via pyogrio).

GDAL exposes an OSM file as layers ``points``, ``lines``, ``multilinestrings`` (route
relations…), ``multipolygons`` (closed ways with area tags and multipolygon relations) and
``other_relations``. A few tags become columns (``name``, ``highway``, ``leisure``…); every other
tag is packed into the ``other_tags`` column as an hstore string
(``"bicycle"=>"designated","surface"=>"gravel"``), which :func:`parse_other_tags` unpacks.

Readers return layers in Lambert-93 (EPSG:2154) in the same shape as the sample readers of
:mod:`geo.io.parks`: parks (``nom``, ``ensemble``, ``osm_tag``, ``osm_id``), greenways (``nom``,
``type``, ``osm_id``) and the walk network (``highway``, ``name``, ``osm_id``).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo import config
from geo.errors import InputError

log = logging.getLogger("artois.io")

_HSTORE = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')
OSM_SUFFIXES = (".osm", ".pbf")


def is_osm_file(path: str | Path) -> bool:
    """True for ``.osm`` / ``.osm.pbf`` / ``.pbf`` files."""
    return Path(path).suffix.lower() in OSM_SUFFIXES


def parse_other_tags(text: object) -> dict[str, str]:
    """Unpack GDAL's ``other_tags`` hstore string into a dict (empty for null)."""
    if not isinstance(text, str) or not text:
        return {}
    return {_unescape(k): _unescape(v) for k, v in _HSTORE.findall(text)}


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)


def _read(path: Path, layer: str) -> gpd.GeoDataFrame:
    if not path.exists():
        raise InputError(path, "file not found")
    try:
        gdf = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(path, f"not a readable OpenStreetMap file ({msg})") from exc
    if gdf.crs is None:
        gdf = gdf.set_crs(config.WGS84)
    return gdf


def _tags(gdf: gpd.GeoDataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """Columns ``keys`` from the frame's own columns or its ``other_tags``."""
    other = gdf["other_tags"].map(parse_other_tags) if "other_tags" in gdf else pd.Series([{}] * len(gdf))
    out = {}
    for k in keys:
        from_other = other.map(lambda d, k=k: d.get(k))
        out[k] = gdf[k].where(gdf[k].notna(), from_other) if k in gdf else from_other
    return pd.DataFrame(out, index=gdf.index)


def _finish(gdf: gpd.GeoDataFrame, path: Path, what: str) -> gpd.GeoDataFrame:
    gdf = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    if gdf.empty:
        log.warning("%s: no %s found", path, what)
    return gdf.to_crs(config.WORKING_CRS).reset_index(drop=True)


def read_osm_parks(path: str | Path) -> gpd.GeoDataFrame:
    """Parks and green spaces of an OSM file (tags in :data:`geo.config.PARKS_OSM_GREEN_TAGS`).

    Returns
    -------
    GeoDataFrame
        ``nom`` (OSM ``name``), ``ensemble`` (None), ``osm_tag`` (e.g. ``leisure=park``),
        ``osm_id``; polygons in Lambert-93.
    """
    path = Path(path)
    gdf = _read(path, "multipolygons")
    keys = tuple(config.PARKS_OSM_GREEN_TAGS)
    tags = _tags(gdf, keys)
    tag = pd.Series([None] * len(gdf), index=gdf.index, dtype=object)
    for k, values in config.PARKS_OSM_GREEN_TAGS.items():
        hit = tags[k].isin(list(values)) & tag.isna()
        tag[hit] = k + "=" + tags.loc[hit, k].astype(str)
    keep = tag.notna()
    osm_id = gdf["osm_id"].where(gdf["osm_id"].notna(), "w" + gdf["osm_way_id"].astype(str)) if "osm_way_id" in gdf \
        else gdf["osm_id"]
    out = gpd.GeoDataFrame({
        "nom": gdf.loc[keep, "name"] if "name" in gdf else None,
        "ensemble": None,
        "osm_tag": tag[keep],
        "osm_id": osm_id[keep].astype(str),
    }, geometry=gdf.geometry[keep], crs=gdf.crs)
    # man_made is not an area key for GDAL's default osmconf.ini: a closed spoil-heap way comes out
    # in the ``lines`` layer, so close it into a polygon here.
    lines = _read(path, "lines")
    if not lines.empty:
        mm = _tags(lines, ("man_made",))["man_made"]
        closed = lines.geometry.is_closed & (lines.geometry.geom_type == "LineString")
        heaps = lines[(mm == "spoil_heap").to_numpy(bool) & closed.to_numpy(bool)]
        if not heaps.empty:
            polys = np.array([shapely.Polygon(g.coords) for g in heaps.geometry.values], dtype=object)
            extra = gpd.GeoDataFrame({
                "nom": heaps["name"] if "name" in heaps else None, "ensemble": None,
                "osm_tag": "man_made=spoil_heap", "osm_id": "w" + heaps["osm_id"].astype(str),
            }, geometry=polys, crs=heaps.crs)
            out = gpd.GeoDataFrame(pd.concat([out, extra], ignore_index=True), geometry="geometry", crs=gdf.crs)
    return _finish(out, path, "park or green space")


def read_osm_network(path: str | Path) -> gpd.GeoDataFrame:
    """The walk network of an OSM file: ways whose ``highway`` is walkable and open to walkers.

    Ways tagged ``foot=no`` or ``access=no|private`` (without ``foot=yes|designated``) are dropped.

    Returns
    -------
    GeoDataFrame
        ``highway``, ``name``, ``osm_id``; lines in Lambert-93.
    """
    path = Path(path)
    gdf = _read(path, "lines")
    tags = _tags(gdf, ("highway", "foot", "access"))
    walkable = tags["highway"].isin(list(config.PARKS_WALKABLE_HIGHWAYS))
    foot_ok = tags["foot"].isin(["yes", "designated", "permissive"])
    closed = (tags["foot"] == "no") | (tags["access"].isin(["no", "private"]) & ~foot_ok)
    keep = walkable & ~closed
    out = gpd.GeoDataFrame({
        "highway": tags.loc[keep, "highway"],
        "name": gdf.loc[keep, "name"] if "name" in gdf else None,
        "osm_id": gdf.loc[keep, "osm_id"].astype(str),
    }, geometry=gdf.geometry[keep], crs=gdf.crs)
    return _finish(out, path, "walkable way")


def read_osm_greenways(path: str | Path) -> gpd.GeoDataFrame:
    """Greenway candidates of an OSM file.

    ``highway=cycleway``; ``highway=path|track|footway`` with ``bicycle=designated``; and any
    walkable way that is a member of a cycle route relation (``type=route`` + ``route=bicycle``;
    GDAL gives the relation as one multi-line, so a way counts as a member when its geometry
    lies on it).

    Returns
    -------
    GeoDataFrame
        ``nom``, ``type`` (``voie_verte`` for cycleways and designated paths,
        ``itineraire_cyclable`` for other members of a cycle route), ``osm_id``; lines in Lambert-93.
    """
    path = Path(path)
    gdf = _read(path, "lines")
    tags = _tags(gdf, ("highway", "bicycle"))
    cycleway = tags["highway"] == "cycleway"
    designated = tags["highway"].isin(["path", "track", "footway"]) & (tags["bicycle"] == "designated")
    green = (cycleway | designated).to_numpy(bool)
    in_route = np.zeros(len(gdf), bool)
    rel = _read(path, "multilinestrings")
    if not rel.empty:
        rtags = _tags(rel, ("type", "route"))
        cyc = rel[(rtags["route"] == "bicycle").to_numpy(bool)]
        if not cyc.empty:
            lines_m = gdf.to_crs(config.WORKING_CRS).geometry.values
            routes_m = shapely.buffer(cyc.to_crs(config.WORKING_CRS).geometry.values, 0.5)
            tree = shapely.STRtree(routes_m)
            li, ri = tree.query(lines_m, predicate="covered_by")
            in_route[np.unique(li)] = True
    walk = tags["highway"].isin(list(config.PARKS_WALKABLE_HIGHWAYS)).to_numpy(bool)
    keep = green | (in_route & walk)
    kind = np.where(green, "voie_verte", "itineraire_cyclable")
    out = gpd.GeoDataFrame({
        "nom": gdf.loc[keep, "name"] if "name" in gdf else None,
        "type": kind[keep],
        "osm_id": gdf.loc[keep, "osm_id"].astype(str),
    }, geometry=gdf.geometry[keep], crs=gdf.crs)
    return _finish(out, path, "greenway candidate")
