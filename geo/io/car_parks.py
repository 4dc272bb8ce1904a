"""Outdoor car parks: OpenStreetMap (``amenity=parking`` areas) and IGN BD TOPO, with green islands.

OpenStreetMap: closed ways and multipolygons tagged ``amenity=parking``; only surface car parks
count (``parking=surface``; an area without ``parking=*`` is taken as surface, the tag's documented
default, and noted). Multi-storey, underground, rooftop, street-side, carports and garage boxes are
not outdoor car parks in the sense of the APER law. Green islands inside them (``landuse=grass``,
``leisure=garden``…) are returned separately: they do not count in the surface. Accepted files:
``.osm``/``.osm.pbf`` (GDAL's OSM driver), or GeoJSON/GeoPackage exports with the tags as columns
(Overpass turbo, QuickOSM).

BD TOPO v3: layer ``equipement_de_transport`` with ``nature = 'Parking'`` (IGN, "BD TOPO v3 -
Descriptif de contenu", 2024), polygons; underground or multi-storey ones (``nature_detaillee``)
are dropped.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo import config
from geo.errors import InputError
from geo.io.osm import _read, _tags, is_osm_file
from geo.io.vectors import list_layers, read_vector

log = logging.getLogger("artois.io")

#: ``parking=*`` values of outdoor surface car parks (OSM wiki "Key:parking", checked 2026-11).
OSM_SURFACE_VALUES = ("surface",)
#: Tags of green areas inside a car park (key -> values); OSM wiki "Key:landuse", "Key:leisure".
OSM_GREEN_TAGS: dict[str, tuple[str, ...]] = {
    "landuse": ("grass", "flowerbed", "meadow", "forest"),
    "leisure": ("garden", "park"),
    "natural": ("scrub", "wood", "grassland"),
}
BDTOPO_LAYER = "equipement_de_transport"
#: Columns of :func:`read_car_parks`'s car parks (plus geometry).
CAR_PARK_COLUMNS = ("car_park_id", "nom", "source", "parking", "access", "read_note")


def _empty_green() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"kind": pd.Series(dtype=str)}, geometry=gpd.GeoSeries([], crs=config.WORKING_CRS))


def _osm_frame(path: Path) -> gpd.GeoDataFrame:
    """Polygons of an OSM source with the tag columns amenity, parking, access, name, landuse, leisure, natural."""
    keys = ("amenity", "parking", "access", "name", "landuse", "leisure", "natural")
    if is_osm_file(path):
        gdf = _read(path, "multipolygons")
        tags = _tags(gdf, keys)
        rel = gdf["osm_id"] if "osm_id" in gdf else pd.Series([None] * len(gdf), index=gdf.index)
        way = gdf["osm_way_id"] if "osm_way_id" in gdf else pd.Series([None] * len(gdf), index=gdf.index)
        ids = [f"r-{r}" if pd.notna(r) else f"w-{w}" for r, w in zip(rel, way, strict=True)]
    else:
        gdf = read_vector(path, crs=None)
        tags = pd.DataFrame({k: gdf[k] if k in gdf else None for k in keys}, index=gdf.index)
        idcol = next((c for c in ("@id", "id", "osm_id", "full_id") if c in gdf.columns), None)
        ids = [str(v) for v in gdf[idcol]] if idcol else [f"f{i}" for i in range(len(gdf))]
    out = gpd.GeoDataFrame(tags.reset_index(drop=True), geometry=gdf.geometry.reset_index(drop=True), crs=gdf.crs)
    out["osm_id"] = ids
    out = out[out.geometry.notna() & out.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    return out.to_crs(config.WORKING_CRS).reset_index(drop=True)


def _read_osm(path: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    gdf = _osm_frame(path)
    if "amenity" not in gdf.columns:
        raise InputError(path, "no amenity tag: not an OpenStreetMap export of car parks")
    parking = gdf[gdf["amenity"] == "parking"]
    kind = parking["parking"].where(parking["parking"].notna(), "")
    keep = kind.isin([*OSM_SURFACE_VALUES, ""])
    dropped = int((~keep).sum())
    if dropped:
        log.info("%s: %d car park(s) not at ground level (parking=%s) left out", path, dropped,
                 ",".join(sorted(set(kind[~keep]))))
    parking = parking[keep]
    note = ["parking=* missing: taken as surface" if k == "" else "" for k in kind[keep]]
    parks = gpd.GeoDataFrame({
        "car_park_id": ["osm-" + str(i) for i in parking["osm_id"]],
        "nom": parking["name"].fillna("").astype(str).to_numpy(),
        "source": "OpenStreetMap",
        "parking": kind[keep].replace("", "surface").to_numpy(),
        "access": parking["access"].fillna("").astype(str).to_numpy(),
        "read_note": note,
    }, geometry=parking.geometry.to_numpy(), crs=config.WORKING_CRS)
    is_green = pd.Series(False, index=gdf.index)
    for k, values in OSM_GREEN_TAGS.items():
        if k in gdf:
            is_green |= gdf[k].isin(list(values))
    green = gpd.GeoDataFrame({"kind": ["green"] * int(is_green.sum())}, geometry=gdf.geometry[is_green].to_numpy(),
                             crs=config.WORKING_CRS)
    return parks, green if not green.empty else _empty_green()


def _read_bdtopo(path: Path) -> gpd.GeoDataFrame:
    gdf = read_vector(path, layer=BDTOPO_LAYER, required_columns=("nature",), geometry_types=("Polygon",))
    park = gdf["nature"].astype(str).str.lower() == "parking"
    detail = gdf["nature_detaillee"].fillna("").astype(str).str.lower() if "nature_detaillee" in gdf else \
        pd.Series("", index=gdf.index)
    covered = detail.str.contains("souterrain|silo|étages|etages")
    sel = gdf[park & ~covered]
    ids = sel["cleabs"].astype(str) if "cleabs" in sel else pd.Series([f"bdtopo-{i}" for i in sel.index])
    return gpd.GeoDataFrame({
        "car_park_id": ids.to_numpy(), "nom": sel["toponyme"].fillna("").astype(str).to_numpy()
        if "toponyme" in sel else "", "source": "BD TOPO", "parking": "surface", "access": "",
        "read_note": "BD TOPO: surface car park assumed (no level information)",
    }, geometry=sel.geometry.to_numpy(), crs=config.WORKING_CRS)


def read_car_parks(path: str | Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Outdoor surface car parks and the green areas that do not count in their surface.

    Returns
    -------
    car_parks
        :data:`CAR_PARK_COLUMNS` + polygons, Lambert-93.
    green
        Green areas (``kind``) + polygons, Lambert-93 (empty for BD TOPO).

    Raises
    ------
    InputError
        Missing or unreadable file, no car park in it.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    if not is_osm_file(path) and BDTOPO_LAYER in list_layers(path):
        parks, green = _read_bdtopo(path), _empty_green()
    else:
        parks, green = _read_osm(path)
    if parks.empty:
        raise InputError(path, "no outdoor car park (amenity=parking area with parking=surface, or BD TOPO "
                               "equipement_de_transport nature 'Parking')")
    dup = parks["car_park_id"].duplicated()
    if dup.any():
        parks.loc[dup, "car_park_id"] = [f"{v}-{i}" for i, v in zip(parks.index[dup], parks["car_park_id"][dup],
                                                                     strict=True)]
    return parks.reset_index(drop=True), green.reset_index(drop=True)
