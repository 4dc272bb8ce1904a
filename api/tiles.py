"""Vector tiles (MVT) from the prebuilt PMTiles archives or the GeoPackages, raster tiles (PNG) from the COG.

A collection tiled by ``artois build`` (stage ``tiles``, product :mod:`geo.products.tiles`) is served from
its archive ``<build>/tiles/<collection>.pmtiles`` within the archive's zooms: a byte range of a memory-mapped
file, sent gzip-compressed as stored. Tiles are encoded live only where no archive answers: a build without the
stage, zooms beyond the archive's maximum, or an archive older than its GeoPackage (stale).

Tiles are in Web Mercator (OGC ``WebMercatorQuad``, :mod:`morecantile`). A vector tile reads the
features whose envelope meets the tile (plus a buffer) through the R-tree, reprojects them, clips
them to the buffered tile, simplifies them below a tile unit and lets :mod:`mapbox_vector_tile`
quantise them to the tile's integer grid. A raster tile is read with :mod:`rio_tiler`, rescaled from
a documented range of kWh/m²/yr to 0–255 and coloured with a colour map.
"""

from __future__ import annotations

import gzip
import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import morecantile
import numpy as np
import shapely
from rio_tiler.colormap import cmap as colormaps
from rio_tiler.errors import TileOutsideBounds
from rio_tiler.io import Reader
from rio_tiler.utils import render

from api.errors import TileEmpty
from api.io.gpkg import Bounds
from api.layers import Catalog, Collection
from geo import config
from geo.errors import NotFoundError
from geo.io.pmtiles import PMTilesArchive
from geo.products.tiles import TILE_LAYERS, archive_path, read_archive

log = logging.getLogger("artois.api")

TMS = morecantile.tms.get(config.TILE_MATRIX_SET)


class LRUCache:
    """A small thread-safe least-recently-used cache of encoded tiles."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[Hashable, bytes | None] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> tuple[bool, bytes | None]:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return True, self._data[key]
            self.misses += 1
            return False, None

    def put(self, key: Hashable, value: bytes | None) -> None:
        if self.maxsize <= 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)


def check_tile(z: int, x: int, y: int) -> None:
    """:class:`NotFoundError` for tile indices that do not exist at zoom ``z``."""
    if not 0 <= z <= config.TILE_MAX_ZOOM:
        raise NotFoundError(f"Niveau de zoom {z} hors de la plage servie (0 à {config.TILE_MAX_ZOOM}).")
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        raise NotFoundError(f"Tuile {z}/{x}/{y} inexistante (x et y vont de 0 à {n - 1} au zoom {z}).")


def tile_bounds_mercator(z: int, x: int, y: int) -> Bounds:
    """Bounds of tile z/x/y in Web Mercator [m]."""
    b = TMS.xy_bounds(morecantile.Tile(x, y, z))
    return (float(b.left), float(b.bottom), float(b.right), float(b.top))


def _intersects(a: Bounds, b: Bounds) -> bool:
    return a[0] <= b[2] and a[2] >= b[0] and a[1] <= b[3] and a[3] >= b[1]


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def vector_tile(
    collection: Collection, z: int, x: int, y: int, *,
    extent: int = config.TILE_MVT_EXTENT, buffer: int = config.TILE_MVT_BUFFER,
    max_features: int = config.TILE_MAX_FEATURES,
) -> bytes:
    """The MVT tile z/x/y of a collection: one layer named after it, the map's attributes, ``id`` = fid.

    Raises
    ------
    NotFoundError
        The tile does not exist or lies outside the layer's extent (404).
    TileEmpty
        Inside the extent but nothing to draw, or below the layer's minimum zoom (204).
    """
    check_tile(z, x, y)
    bounds = tile_bounds_mercator(z, x, y)
    layer_bounds = collection.bounds_mercator
    if layer_bounds is None:
        raise TileEmpty()
    if not _intersects(bounds, layer_bounds):
        raise NotFoundError(f"Tuile {z}/{x}/{y} hors de l'emprise de la couche {collection.defn.title}.")
    if z < config.TILE_MIN_ZOOM.get(collection.id, 0):
        raise TileEmpty()
    unit = (bounds[2] - bounds[0]) / extent  # one tile unit [m]
    pad = buffer * unit
    clip = (bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad)
    feats = collection.read(spatial=collection.mercator_filter(clip), columns=collection.tile_attributes)
    if not len(feats):
        raise TileEmpty()
    geoms = collection.geometries_to_mercator(feats.geometries)
    geoms = shapely.clip_by_rect(geoms, *clip)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not keep.any():
        raise TileEmpty()
    idx = np.flatnonzero(keep)
    geoms = geoms[idx]
    lines_or_polys = shapely.get_type_id(geoms) != 0  # not a point
    if lines_or_polys.any():
        geoms[lines_or_polys] = shapely.simplify(geoms[lines_or_polys], unit * 0.5, preserve_topology=True)
    # quantise to the tile grid here, vectorised (y up; the encoder flips it), rather than per vertex in Python
    sx, sy = extent / (bounds[2] - bounds[0]), extent / (bounds[3] - bounds[1])
    origin = np.array([bounds[0], bounds[1]])
    scale = np.array([sx, sy])
    geoms = shapely.transform(geoms, lambda xy: np.round((xy - origin) * scale))
    polys = np.isin(shapely.get_type_id(geoms), (3, 6))
    keep = ~shapely.is_empty(geoms) & ~(polys & (shapely.area(geoms) <= 0))
    idx, geoms = idx[keep], geoms[keep]
    if len(idx) > max_features:  # keep the largest features
        size = shapely.area(geoms) + shapely.length(geoms)
        order = np.sort(np.argsort(-size, kind="stable")[:max_features])
        idx, geoms = idx[order], geoms[order]
    features = []
    for i, g in zip(idx, geoms, strict=True):
        props = {k: _clean(v) for k, v in feats.properties[i].items()}
        features.append({"geometry": g, "properties": {k: v for k, v in props.items() if v is not None},
                         "id": int(feats.fids[i])})
    if not features:
        raise TileEmpty()
    data: bytes = mapbox_vector_tile.encode(
        {"name": collection.id, "features": features},
        default_options={"extents": extent, "check_winding_order": True},
    )
    return data


# -- prebuilt vector tiles -------------------------------------------------------------------------

class TileArchives:
    """The PMTiles archives of a build folder, opened once, by collection id.

    An archive older than the GeoPackage it was made from (the layers were rebuilt without the ``tiles``
    stage) is not used: its collection's tiles are encoded live, with a warning at start-up.
    """

    def __init__(self, catalog: Catalog) -> None:
        self.archives: dict[str, PMTilesArchive] = {}
        for t in TILE_LAYERS:
            path = archive_path(catalog.data_dir, t.collection)
            source = catalog.data_dir / t.file
            if not path.is_file() or t.collection not in catalog.collections:
                continue
            if source.is_file() and path.stat().st_mtime < source.stat().st_mtime:
                log.warning("%s is older than %s: its tiles are encoded live (run 'artois build --only tiles')",
                            path, source.name)
                continue
            self.archives[t.collection] = read_archive(path)

    def tile(self, collection: Collection, z: int, x: int, y: int) -> bytes | None:
        """The gzip-compressed MVT tile z/x/y from the collection's archive; ``None`` when no archive covers z.

        Raises
        ------
        NotFoundError
            Outside the layer's extent (404).
        TileEmpty
            Inside it but nothing there, or below the archive's minimum zoom (204).
        """
        archive = self.archives.get(collection.id)
        if archive is None or z > archive.maxzoom:
            return None
        check_tile(z, x, y)
        layer_bounds = collection.bounds_mercator
        if layer_bounds is None:
            raise TileEmpty()
        if not _intersects(tile_bounds_mercator(z, x, y), layer_bounds):
            raise NotFoundError(f"Tuile {z}/{x}/{y} hors de l'emprise de la couche {collection.defn.title}.")
        data = archive.get(z, x, y)
        if data is None:
            raise TileEmpty()
        if archive.compression != "gzip":
            data = gzip.compress(data, compresslevel=5)
        return data


# -- raster tiles ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ColorScale:
    """A colour map over a range of values [kWh/m²/yr]."""

    name: str
    vmin: float
    vmax: float

    @property
    def lut(self) -> dict[int, tuple[int, int, int, int]]:
        lut: dict[int, tuple[int, int, int, int]] = colormaps.get(self.name)  # type: ignore[assignment]
        return lut

    def color_at(self, value: float) -> str:
        """Hex colour ``#rrggbb`` of ``value`` (clipped to the range)."""
        idx = int(round(255 * min(max((value - self.vmin) / (self.vmax - self.vmin), 0.0), 1.0)))
        r, g, b, _ = self.lut[idx]
        return f"#{r:02x}{g:02x}{b:02x}"

    def stops(self, n: int) -> list[tuple[float, str]]:
        """``n`` evenly spaced (value, colour) pairs from vmin to vmax."""
        values = np.linspace(self.vmin, self.vmax, n)
        return [(float(v), self.color_at(float(v))) for v in values]


IRRADIATION_SCALE = ColorScale(config.IRRADIATION_COLORMAP, *config.IRRADIATION_RANGE_KWH_M2_YR)

_readers = threading.local()


def _reader(path: Path) -> Reader:
    """This thread's open rio-tiler Reader of ``path`` (opening a COG costs a few ms)."""
    cache: dict[Path, Reader] | None = getattr(_readers, "cache", None)
    if cache is None:
        cache = _readers.cache = {}
    reader = cache.get(path)
    if reader is None:
        reader = Reader(str(path), options={"unscale": True})  # stored integers → kWh/m²/yr
        cache[path] = reader
    return reader


def irradiation_tile(path: Path, z: int, x: int, y: int, *, scale: ColorScale = IRRADIATION_SCALE) -> bytes:
    """PNG tile z/x/y of band 1 (annual irradiation [kWh/m²/yr]) coloured with ``scale``; nodata transparent.

    Raises
    ------
    NotFoundError
        Tile outside the raster (404).
    TileEmpty
        Only nodata in the tile, or a zoom more than :data:`geo.config.IRRADIATION_ZOOM_BELOW_MIN` levels
        below the raster's minimum zoom (the zoom of its coarsest overview, rio-tiler's ``minzoom``) (204).
    """
    check_tile(z, x, y)
    reader = _reader(path)
    if not reader.tile_exists(x, y, z):
        raise NotFoundError(f"Tuile {z}/{x}/{y} hors de l'emprise du raster d'irradiation.")
    if z < reader.minzoom - config.IRRADIATION_ZOOM_BELOW_MIN:
        # far coarser than the raster's last overview: warping it would read the whole raster for a few pixels
        raise TileEmpty()
    try:
        img = reader.tile(x, y, z, indexes=1, tilesize=config.IRRADIATION_TILE_SIZE_PX)
    except TileOutsideBounds as exc:
        raise NotFoundError(f"Tuile {z}/{x}/{y} hors de l'emprise du raster d'irradiation.") from exc
    if not np.any(~np.ma.getmaskarray(img.array)):
        raise TileEmpty()
    img = img.rescale(in_range=((scale.vmin, scale.vmax),))
    png: bytes = img.render(img_format="PNG", colormap=scale.lut)
    return png


def legend_png(scale: ColorScale = IRRADIATION_SCALE, *, width: int = 256, height: int = 16) -> bytes:
    """A horizontal colour bar of ``scale`` (left = vmin, right = vmax) as PNG."""
    ramp = np.round(np.linspace(0, 255, width)).astype(np.uint8)
    data = np.broadcast_to(ramp, (1, height, width)).copy()
    png: bytes = render(data, img_format="PNG", colormap=scale.lut)
    return png
