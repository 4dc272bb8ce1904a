"""The build products: what ``artois build`` writes, and the only way to read or write it.

=====================  ====================================  =========================================
file                   module                                written by (stage)
=====================  ====================================  =========================================
``irradiance.vrt``     :mod:`geo.products.irradiance`        ``irradiance`` (:mod:`geo.solar.build`)
``irradiance/*.tif``   (its tiles, read through the VRT)
``rooftops.gpkg``      :mod:`geo.products.rooftops`          ``roofs`` (:mod:`geo.roofs.build`)
``parks.gpkg``         :mod:`geo.products.parks`             ``parks`` (:mod:`geo.parks.build`)
``sites.gpkg``         :mod:`geo.products.sites`             ``sites`` (:mod:`geo.sites.build`)
``tiles/*.pmtiles``    :mod:`geo.products.tiles`             ``tiles`` (:mod:`geo.tiles`)
``addresses.sqlite``   :mod:`geo.products.addresses`         ``artois serve``, first start (:mod:`api.geocoder`)
=====================  ====================================  =========================================

Each module gives the file name (``FILE``), the layers or bands with their columns and units
(:mod:`geo.products.schema`), the tags, and a writer and readers; the stages, the API, the tests,
the benchmarks and the notebooks go through them, so a file or layer name is spelled once, here.
:class:`BuildFolder` gives the paths of a build folder. Like :mod:`geo.io`, this package imports
nothing from the computation packages (:mod:`geo.solar`, :mod:`geo.roofs`, :mod:`geo.parks`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from geo.products import addresses, irradiance, parks, rooftops, sites, tiles


@dataclass(frozen=True)
class BuildFolder:
    """The products of one build folder (``artois build --out ROOT``)."""

    root: Path

    @property
    def irradiance(self) -> Path:
        """The irradiation mosaic (a VRT over the tile COGs of :attr:`irradiance_tiles`)."""
        return Path(self.root) / irradiance.FILE

    @property
    def irradiance_tiles(self) -> Path:
        """The folder of the irradiation tiles (one COG per 1 km tile)."""
        return Path(self.root) / irradiance.TILE_FOLDER

    @property
    def rooftops(self) -> Path:
        return Path(self.root) / rooftops.FILE

    @property
    def parks(self) -> Path:
        return Path(self.root) / parks.FILE

    @property
    def sites(self) -> Path:
        return Path(self.root) / sites.FILE

    def tiles(self, collection: str) -> Path:
        """The PMTiles archive of one collection."""
        return tiles.archive_path(self.root, collection)

    @property
    def addresses(self) -> Path:
        return Path(self.root) / addresses.FILE


__all__ = ["BuildFolder", "addresses", "irradiance", "parks", "rooftops", "sites", "tiles"]
