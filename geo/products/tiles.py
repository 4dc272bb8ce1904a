"""``tiles/<collection>.pmtiles``: prebuilt vector tiles, one PMTiles v3 archive per collection (stage ``tiles``,
:mod:`geo.tiles`).

Each archive holds one MVT layer named after the collection (extent 4096, the GeoPackage fid as feature
id, gzip-compressed tiles) with the attributes listed here, within the zooms of
:data:`geo.config.TILE_ARCHIVE_ZOOMS`. The API serves ``/tiles/<collection>/{z}/{x}/{y}.pbf`` from it by
byte ranges; the files work as they are with any PMTiles client (MapLibre + pmtiles.js, static hosting).

Per-zoom choices:

* roof faces from z16, only the attributes the map draws or looks up (face id, building id, suitability),
  every face kept (never dropped to fit a size), simplified below one tile unit (tippecanoe's default);
* buildings at z13–16 (where faces are too small to see) with their suitability; at the lowest zooms the
  densest are dropped as needed to keep tiles under tippecanoe's 500 KB;
* commune totals (communes_solar, communes_access) from z6, shared borders detected so that neighbouring
  communes stay seamless when simplified;
* the parks layers with the attributes the map's popups show.

The ground-PV and car-park layers of ``sites.gpkg`` are not tiled: the map loads them as GeoJSON pages
(``/ogc/collections/{friches,car_parks}/items``), a few thousand features for the whole territory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from geo import config
from geo.io.pmtiles import PMTilesArchive
from geo.products import parks, rooftops
from geo.products.schema import Layer

#: Folder of the build holding the archives, and the archives' file suffix.
DIR = "tiles"
SUFFIX = ".pmtiles"

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
    options: tuple[str, ...] = ()  # tippecanoe flags
    #: Tiled in blocks of tiles merged into one archive (geo.tiles, config.TILE_PART_FEATURES): only for a
    #: layer whose tiles depend on nothing but the features meeting them (every feature kept, tippecanoe's
    #: default buffer), so that the merged archive holds the same tiles as one run over the whole layer.
    partitioned: bool = False

    def __post_init__(self) -> None:
        if self.partitioned and (not set(KEEP_ALL) <= set(self.options)
                                 or any(o.startswith(("--buffer", "-b")) for o in self.options)):
            raise ValueError(f"{self.collection}: a partitioned layer keeps every feature, with the default buffer")

    @property
    def collection(self) -> str:
        return self.layer.name

    @property
    def zooms(self) -> tuple[int, int]:
        return config.TILE_ARCHIVE_ZOOMS[self.collection]


TILE_LAYERS: tuple[TileLayer, ...] = (
    TileLayer(rooftops.ROOF_FACES, rooftops.FILE, ("face_id", "building_id", "suitability"), KEEP_ALL,
              partitioned=True),
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


def archive_path(root: str | Path, collection: str) -> Path:
    """Where the archive of ``collection`` lives in the build folder ``root``."""
    return Path(root) / DIR / f"{collection}{SUFFIX}"


def part_archive_path(scratch: str | Path, collection: str, part: int) -> Path:
    """The archive of block ``part`` of a partitioned collection in the tiles stage's ``scratch`` folder (merged
    into :func:`archive_path`'s, then deleted)."""
    return Path(scratch) / f"{collection}-{part}{SUFFIX}"


def read_archive(path: str | Path) -> PMTilesArchive:
    """An archive opened for reading (memory-mapped; :class:`~geo.errors.InputError` when not PMTiles v3)."""
    return PMTilesArchive(path)
