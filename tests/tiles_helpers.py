"""Reading PMTiles archives back in tests: every stored tile, and two archives compared tile by tile."""

from __future__ import annotations

import gzip
from pathlib import Path

import mapbox_vector_tile
from pmtiles.reader import MmapSource, all_tiles


def stored_tiles(path: Path) -> dict[tuple[int, int, int], bytes]:
    """Every tile of the archive as stored, by (z, x, y), read with the ``pmtiles`` package's own reader."""
    with path.open("rb") as f:
        return dict(all_tiles(MmapSource(f)))


def assert_same_tiles(a: Path, b: Path) -> int:
    """The two archives hold the same tiles, each the same bytes or decoding to the same features (tippecanoe
    may encode equal tiles differently); returns how many."""
    tiles_a, tiles_b = stored_tiles(a), stored_tiles(b)
    assert set(tiles_a) == set(tiles_b) and tiles_a, a.name
    for zxy, data in tiles_a.items():
        if tiles_b[zxy] != data:
            assert (mapbox_vector_tile.decode(gzip.decompress(data))
                    == mapbox_vector_tile.decode(gzip.decompress(tiles_b[zxy]))), (a.name, zxy)
    return len(tiles_a)
