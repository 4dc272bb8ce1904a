"""Prebuilt vector tiles: which features, attributes, zooms and simplification each served layer gets.

The ``tiles`` stage of ``artois build`` tiles every layer of the built GeoPackages with tippecanoe into one
PMTiles v3 archive per collection, ``<build>/tiles/<collection>.pmtiles``; the API serves
``/tiles/<collection>/{z}/{x}/{y}.pbf`` from it by byte ranges, and the files work as they are with any
PMTiles client (MapLibre + pmtiles.js, static hosting). Each archive holds one MVT layer named after the
collection, extent 4096, the GeoPackage fid as feature id.

Per-zoom choices (zoom ranges in :data:`geo.config.TILE_ARCHIVE_ZOOMS`):

* roof faces from z16, only the attributes the map draws or looks up (face id, building id, suitability),
  every face kept (never dropped to fit a size), simplified below one tile unit (tippecanoe's default);
* buildings at z13–16 (where faces are too small to see) with their suitability; at the lowest zooms the
  densest are dropped as needed to keep tiles under tippecanoe's 500 KB;
* commune totals (communes_solar, communes_access) from z6, shared borders detected so that neighbouring
  communes stay seamless when simplified;
* the parks layers with the attributes the map's popups show.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geo import config
from geo.errors import InputError
from geo.io.pmtiles import export_layer, run_tippecanoe
from geo.products import parks, rooftops
from geo.products.schema import Layer

log = logging.getLogger("artois.build")

#: Never drop a feature to fit a tile size or count: every roof face must be clickable.
KEEP_ALL = ("--no-feature-limit", "--no-tile-size-limit", "--no-tiny-polygon-reduction")
#: Thin out the densest features at low zooms rather than exceed 500 KB per tile.
THIN_DENSE = ("--drop-densest-as-needed",)


@dataclass(frozen=True)
class TileLayer:
    """One served collection tiled into its own archive."""

    layer: Layer  # the product layer: its name is the MVT layer name and URL segment
    file: str  # GeoPackage of the build holding it
    attributes: tuple[str, ...]
    options: tuple[str, ...] = ()

    @property
    def collection(self) -> str:
        return self.layer.name

    @property
    def zooms(self) -> tuple[int, int]:
        return config.TILE_ARCHIVE_ZOOMS[self.collection]


TILE_LAYERS: tuple[TileLayer, ...] = (
    TileLayer(rooftops.ROOF_FACES, rooftops.FILE, ("face_id", "building_id", "suitability"), KEEP_ALL),
    TileLayer(rooftops.BUILDINGS, rooftops.FILE, ("building_id", "suitability"), THIN_DENSE),
    TileLayer(rooftops.COMMUNES_SOLAR, rooftops.FILE, ("code", "nom", "level", "n_buildings", "kwp",
                                                 "production_mwh_yr"), ("--detect-shared-borders", *KEEP_ALL)),
    TileLayer(parks.PARKS, parks.FILE, ("park_id", "nom", "ensemble", "area_ha", "on_greenway", "population_10min"),
              KEEP_ALL),
    TileLayer(parks.GREENWAYS, parks.FILE, ("greenway_id", "nom", "type", "length_m", "component", "in_loop"),
              KEEP_ALL),
    TileLayer(parks.SERVICE_AREAS, parks.FILE, ("park_id", "minutes", "distance_m", "label"), KEEP_ALL),
    TileLayer(parks.GAPS, parks.FILE, ("gap_id", "rank", "length_m", "links", "population_newly_linked",
                                     "score_per_km"), KEEP_ALL),
    TileLayer(parks.COMMUNES_ACCESS, parks.FILE, ("code", "nom", "level", "population", "share_within_300m",
                                                "share_within_10min"), ("--detect-shared-borders", *KEEP_ALL)),
    TileLayer(parks.ACCESS_CELLS, parks.FILE, ("Idcar_200m", "population", "poverty_rate", "walk_m_to_park",
                                             "within_300m", "within_10min", "priority_rank"), THIN_DENSE),
    TileLayer(parks.ENTRANCES, parks.FILE, ("entrance_id", "park_id", "kind"), KEEP_ALL),
)


def archive_path(build_dir: str | Path, collection: str) -> Path:
    """Where the archive of ``collection`` lives in a build folder."""
    return Path(build_dir) / config.TILE_ARCHIVE_DIR / f"{collection}.pmtiles"


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
