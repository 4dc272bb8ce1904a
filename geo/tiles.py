"""The ``tiles`` stage of ``artois build``: every layer of the built GeoPackages tiled with tippecanoe into one
PMTiles v3 archive per collection (the product :mod:`geo.products.tiles` says which layers, attributes, zooms
and tippecanoe options).

A ``partitioned`` layer (the roof faces: a million on the Pôle's territory) is tiled in blocks of tiles of its
lowest zoom, each from the features meeting the block, in tasks that run side by side on a cluster; the
blocks' tiles are then gathered into one archive (:func:`geo.io.pmtiles.merge_archives`). A tile of such a
layer depends only on the features meeting it, so the archive holds the tiles of one run over the whole layer.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import Transformer

from geo import config
from geo.errors import InputError
from geo.io._atomic import atomic_tempdir
from geo.io.gpkg import feature_bounds, layer_info
from geo.io.pmtiles import export_layer, merge_archives, run_tippecanoe
from geo.io.vectors import list_layers
from geo.products.tiles import DIR, TILE_LAYERS, TileLayer, archive_path, part_archive_path
from geo.types import TaskMap, serial_map

log = logging.getLogger("artois.build")


@dataclass(frozen=True)
class TileBlock:
    """The tiles x0 <= x < x1, y0 <= y < y1 of ``zoom`` (Web Mercator, XYZ numbering) and those below them."""

    zoom: int
    x0: int
    x1: int
    y0: int
    y1: int

    def contains(self, z: int, x: int, y: int) -> bool:
        """Whether tile z/x/y (z >= :attr:`zoom`) lies in the block."""
        if z < self.zoom:
            return False
        s = z - self.zoom
        return self.x0 <= x >> s < self.x1 and self.y0 <= y >> s < self.y1

    def bounds(self, margin: float = 0.0) -> tuple[float, float, float, float]:
        """(west, south, east, north) [°, WGS84] of the block widened by ``margin`` tiles of :attr:`zoom`."""
        n = 2 ** self.zoom
        west, east = ((x / n) * 360.0 - 180.0 for x in (self.x0 - margin, self.x1 + margin))
        north, south = (math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))
                        for y in (self.y0 - margin, self.y1 + margin))
        return west, south, east, north


def tile_xy(lon: np.ndarray, lat: np.ndarray, zoom: int, *, fraction: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The tile numbers (x, y) of ``zoom`` holding the points ``lon``, ``lat`` [°, WGS84] (the slippy-map
    formulas of Web Mercator: OpenStreetMap wiki, "Slippy map tilenames"); ``fraction``: where in the tile
    grid, in fractional tiles, not clipped to it."""
    n = 2 ** zoom
    lat_r = np.radians(np.clip(lat, -85.05112878, 85.05112878))
    x = (np.asarray(lon) + 180.0) / 360.0 * n
    y = (1.0 - np.arcsinh(np.tan(lat_r)) / np.pi) / 2.0 * n
    if fraction:
        return x, y
    return np.clip(np.floor(x), 0, n - 1).astype("int64"), np.clip(np.floor(y), 0, n - 1).astype("int64")


def plan_blocks(bounds: np.ndarray, zoom: int, parts: int, margin: float = 0.0) -> list[tuple[TileBlock, int]]:
    """Split the tiles of ``zoom`` under features of ``bounds`` ((n, 4) west, south, east, north [°]) into
    at most ``parts`` blocks of about as many features (by their bounds' centre), halving the longer side of
    the largest part of the work in turn; returns each block with its number of features.

    The blocks cover every tile any feature comes within ``margin`` tiles of (tippecanoe puts a feature in
    the tiles whose buffer it meets)."""
    west, north = tile_xy(bounds[:, 0], bounds[:, 3], zoom, fraction=True)
    east, south = tile_xy(bounds[:, 2], bounds[:, 1], zoom, fraction=True)
    n = 2 ** zoom
    root = TileBlock(zoom, max(int(np.floor(west.min() - margin)), 0), min(int(np.floor(east.max() + margin)) + 1, n),
                     max(int(np.floor(north.min() - margin)), 0), min(int(np.floor(south.max() + margin)) + 1, n))
    cx, cy = tile_xy((bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2, zoom)

    def split(block: TileBlock, idx: np.ndarray, k: int) -> list[tuple[TileBlock, int]]:
        wide, tall = block.x1 - block.x0, block.y1 - block.y0
        if k <= 1 or wide == tall == 1:
            return [(block, len(idx))]
        along_x = wide >= tall if min(wide, tall) > 1 else wide > 1
        coord, lo, hi = (cx[idx], block.x0, block.x1) if along_x else (cy[idx], block.y0, block.y1)
        k_first = k // 2
        at = int(np.sort(coord)[len(idx) * k_first // k]) if len(idx) else (lo + hi) // 2
        at = min(max(at, lo + 1), hi - 1)  # both halves at least one tile wide
        first, second = ((TileBlock(zoom, block.x0, at, block.y0, block.y1), TileBlock(zoom, at, block.x1, block.y0, block.y1))
                         if along_x else
                         (TileBlock(zoom, block.x0, block.x1, block.y0, at), TileBlock(zoom, block.x0, block.x1, at, block.y1)))
        return split(first, idx[coord < at], k_first) + split(second, idx[coord >= at], k - k_first)

    return split(root, np.arange(len(bounds)), max(1, parts))


def layer_blocks(gpkg: Path, layer: TileLayer) -> list[tuple[TileBlock, int]]:
    """The blocks of a ``partitioned`` layer's lowest zoom to tile apart (:data:`geo.config.TILE_PART_FEATURES`
    features each), from its features' bounds in the GeoPackage's spatial index; one block for a small layer."""
    bounds, crs = feature_bounds(gpkg, layer.collection)
    if len(bounds) == 0:
        return []
    to_wgs84 = Transformer.from_crs(crs, config.WGS84, always_xy=True)
    west, south = to_wgs84.transform(bounds[:, 0], bounds[:, 1])
    east, north = to_wgs84.transform(bounds[:, 2], bounds[:, 3])
    lonlat = np.column_stack([np.minimum(west, east), np.minimum(south, north),
                              np.maximum(west, east), np.maximum(south, north)])
    return plan_blocks(lonlat, layer.zooms[0], math.ceil(len(bounds) / config.TILE_PART_FEATURES),
                       margin=config.TILE_PART_MARGIN_TILES)


def tile_layer(out_dir: Path, layer: TileLayer, scratch: Path, block: TileBlock | None = None,
               part: int = 0) -> tuple[str, Path | None]:
    """One archive: ``layer`` of ``out_dir/<its file>`` exported to ``scratch`` and tiled into
    ``out_dir/tiles/<collection>.pmtiles`` (atomically); None, and the archive removed, when the layer is empty.
    With a ``block``: only the features meeting it, tiled into ``scratch/<collection>-<part>.pmtiles``
    (None when none meets it). Returns the collection and the archive."""
    t0 = time.perf_counter()
    if block is None:
        target, source, within = archive_path(out_dir, layer.collection), scratch / f"{layer.collection}.fgb", None
    else:
        target = part_archive_path(scratch, layer.collection, part)
        source, within = target.with_suffix(".fgb"), block.bounds(config.TILE_PART_MARGIN_TILES)
    n, ints = export_layer(out_dir / layer.file, layer.collection, layer.attributes, source, within=within)
    if n == 0:
        if block is None:
            target.unlink(missing_ok=True)
        return layer.collection, None
    lo, hi = layer.zooms
    target.parent.mkdir(parents=True, exist_ok=True)
    run_tippecanoe(source, layer.collection, target, layer.options, minzoom=lo, maxzoom=hi, int_columns=ints,
                   name=f"Artois Solaire & Parcs — {layer.collection}")
    if block is None:  # (the seconds: benchmarks/bench_territory.py reads them)
        log.info("tiled %s (z%d-%d) in %.1f s into %s", layer.collection, lo, hi, time.perf_counter() - t0, target)
    return layer.collection, target


def _scratch_folder(out_dir: Path) -> contextlib.AbstractContextManager[Path]:
    """A temporary folder of the build for the exported layers (removed on exit; a killed build's is removed
    by the next, :func:`geo.io._atomic.remove_stale_temporaries`)."""
    return atomic_tempdir(Path(out_dir) / DIR)


def _layers_present(out_dir: Path, files: Collection[str]) -> list[TileLayer]:
    """The layers of :data:`TILE_LAYERS` found in the GeoPackages ``files`` (names in ``out_dir``)."""
    present = {f: set(list_layers(out_dir / f))
               for f in set(files) & {t.file for t in TILE_LAYERS} if (out_dir / f).is_file()}
    return [t for t in TILE_LAYERS if t.collection in present.get(t.file, set())]


def layers_in(out_dir: Path, files: Collection[str]) -> list[TileLayer]:
    """The layers of the GeoPackages ``files`` (names in ``out_dir``) tiled in one task each (not partitioned):
    those a build may tile as soon as their file is written, before the stage (:func:`tile_layer_alone`,
    :func:`build_tiles` ``done``)."""
    return [t for t in _layers_present(out_dir, files) if not t.partitioned]


def tile_layer_alone(out_dir: Path, layer: TileLayer) -> tuple[str, Path | None]:
    """:func:`tile_layer` in a scratch folder of its own: a task submitted before the stage."""
    with _scratch_folder(out_dir) as scratch:
        return tile_layer(out_dir, layer, scratch)


def build_tiles(ctx: Any, map_tasks: TaskMap = serial_map, done: Mapping[str, Path | None] | None = None) -> list[Path]:
    """Pipeline stage (``ctx``: :class:`geo.pipeline.BuildContext`): the layers of ``out_dir/*.gpkg`` →
    ``out_dir/tiles/<collection>.pmtiles``, one :func:`tile_layer` task per archive, or per block of a
    partitioned layer, run by ``map_tasks`` (the biggest first: on a cluster the others run beside them).
    ``done``: the archives of collections this build has already tiled (:func:`layers_in`; None: empty).

    ``ctx.data_dir`` is not read: tiles are made from what the other stages built, so
    ``artois build --out B --only tiles`` re-tiles B alone. The archive of a layer no longer built is
    removed (it would show stale data).
    """
    out_dir = Path(ctx.out_dir)
    done = done or {}
    files = {t.file for t in TILE_LAYERS}
    if not any((out_dir / f).is_file() for f in files):
        raise InputError(out_dir, "no rooftops.gpkg nor parks.gpkg to tile: build the roofs or parks stage first")
    todo = _layers_present(out_dir, files)
    for t in set(TILE_LAYERS) - set(todo):
        archive_path(out_dir, t.collection).unlink(missing_ok=True)
    written = {p for c, p in done.items() if p is not None}
    todo = [t for t in todo if t.collection not in done]
    blocks = {t.collection: b for t in todo if t.partitioned and len(b := layer_blocks(out_dir / t.file, t)) > 1}
    tasks: list[tuple[int, tuple[Any, ...]]] = []  # (features, arguments of tile_layer)
    with _scratch_folder(out_dir) as scratch:
        for t in todo:
            if t.collection in blocks:
                tasks += [(n, (out_dir, t, scratch, b, i)) for i, (b, n) in enumerate(blocks[t.collection])]
            else:
                tasks.append((int(layer_info(out_dir / t.file, t.collection)["features"]), (out_dir, t, scratch)))
        tasks.sort(key=lambda task: -task[0])
        parts: dict[str, list[Path]] = defaultdict(list)
        for collection, path in map_tasks(tile_layer, [args for _, args in tasks]):
            if path is not None and collection in blocks:
                parts[collection].append(path)
            elif path is not None:
                written.add(path)
        for t in todo:
            if t.collection in blocks:
                written |= _merge_parts(out_dir, t, blocks[t.collection], parts[t.collection], scratch)
    return [p for p in (archive_path(out_dir, t.collection) for t in TILE_LAYERS) if p in written]


def _merge_parts(out_dir: Path, layer: TileLayer, blocks: list[tuple[TileBlock, int]], archives: list[Path],
                 scratch: Path) -> set[Path]:
    """The archive of a partitioned ``layer`` from its blocks' ``archives`` (none: the layer's archive removed)."""
    target = archive_path(out_dir, layer.collection)
    if not archives:
        target.unlink(missing_ok=True)
        return set()
    target.parent.mkdir(parents=True, exist_ok=True)
    block_of = {part_archive_path(scratch, layer.collection, i): b for i, (b, _) in enumerate(blocks)}
    merge_archives([(a, block_of[a].contains) for a in sorted(archives)], target, features=sum(n for _, n in blocks))
    lo, hi = layer.zooms
    log.info("tiled %s (z%d-%d) in %d blocks into %s", layer.collection, lo, hi, len(archives), target)
    return {target}
