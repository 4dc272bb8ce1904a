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
from geo.products.tiles import TILE_LAYERS, archive_path

log = logging.getLogger("artois.build")


def build_tiles(ctx: Any) -> list[Path]:
    """Pipeline stage (``ctx``: :class:`geo.pipeline.BuildContext`): the layers of ``out_dir/*.gpkg`` →
    ``out_dir/tiles/<collection>.pmtiles``.

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
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix=".tiles-", dir=out_dir) as scratch:
        for t in TILE_LAYERS:
            target = archive_path(out_dir, t.collection)
            if t.collection not in layers.get(t.file, set()):
                target.unlink(missing_ok=True)
                continue
            source = Path(scratch) / f"{t.collection}.fgb"
            n, ints = export_layer(out_dir / t.file, t.collection, t.attributes, source)
            if n == 0:
                target.unlink(missing_ok=True)
                continue
            lo, hi = t.zooms
            target.parent.mkdir(parents=True, exist_ok=True)
            written.append(run_tippecanoe(source, t.collection, target, t.options, minzoom=lo, maxzoom=hi,
                                          int_columns=ints, name=f"Artois Solaire & Parcs — {t.collection}"))
            log.info("tiled %s (z%d-%d) into %s", t.collection, lo, hi, target)
    return written
