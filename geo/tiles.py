"""The ``tiles`` stage of ``artois build``: every layer of the built GeoPackages tiled with tippecanoe into one
PMTiles v3 archive per collection (the product :mod:`geo.products.tiles` says which layers, attributes, zooms
and tippecanoe options).
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from geo.errors import InputError
from geo.io.pmtiles import export_layer, run_tippecanoe
from geo.products.tiles import TILE_LAYERS, TileLayer, archive_path
from geo.types import TaskMap, serial_map

log = logging.getLogger("artois.build")


def tile_layer(out_dir: Path, layer: TileLayer, scratch: Path) -> Path | None:
    """One archive: ``layer`` of ``out_dir/<its file>`` exported to ``scratch`` and tiled into
    ``out_dir/tiles/<collection>.pmtiles`` (atomically); None, and the archive removed, when the layer is empty."""
    target = archive_path(out_dir, layer.collection)
    source = scratch / f"{layer.collection}.fgb"
    n, ints = export_layer(out_dir / layer.file, layer.collection, layer.attributes, source)
    if n == 0:
        target.unlink(missing_ok=True)
        return None
    lo, hi = layer.zooms
    target.parent.mkdir(parents=True, exist_ok=True)
    run_tippecanoe(source, layer.collection, target, layer.options, minzoom=lo, maxzoom=hi, int_columns=ints,
                   name=f"Artois Solaire & Parcs — {layer.collection}")
    log.info("tiled %s (z%d-%d) into %s", layer.collection, lo, hi, target)
    return target


def build_tiles(ctx: Any, map_tasks: TaskMap = serial_map) -> list[Path]:
    """Pipeline stage (``ctx``: :class:`geo.pipeline.BuildContext`): the layers of ``out_dir/*.gpkg`` →
    ``out_dir/tiles/<collection>.pmtiles``, one :func:`tile_layer` task per archive run by ``map_tasks``
    (the biggest layers first: on a cluster the others run beside them).

    ``ctx.data_dir`` is not read: tiles are made from what the other stages built, so
    ``artois build --out B --only tiles`` re-tiles B alone. The archive of a layer no longer built is
    removed (it would show stale data).
    """
    import pyogrio

    out_dir = Path(ctx.out_dir)
    present = [f for f in sorted({t.file for t in TILE_LAYERS}) if (out_dir / f).is_file()]
    if not present:
        raise InputError(out_dir, "no rooftops.gpkg nor parks.gpkg to tile: build the roofs or parks stage first")
    layers = {f: {str(name) for name, _ in pyogrio.list_layers(out_dir / f)} for f in present}
    todo = [t for t in TILE_LAYERS if t.collection in layers.get(t.file, set())]
    for t in set(TILE_LAYERS) - set(todo):
        archive_path(out_dir, t.collection).unlink(missing_ok=True)
    todo.sort(key=lambda t: -int(pyogrio.read_info(out_dir / t.file, layer=t.collection)["features"]))
    with tempfile.TemporaryDirectory(prefix=".tiles-", dir=out_dir) as scratch:
        written = {p for p in map_tasks(tile_layer, [(out_dir, t, Path(scratch)) for t in todo]) if p is not None}
    return [p for p in (archive_path(out_dir, t.collection) for t in TILE_LAYERS) if p in written]
