"""``addresses.sqlite``: the geocoder's address index (SQLite FTS5), written by ``artois serve`` at its first
start and reused by the next ones while its source is unchanged (:mod:`api.geocoder`).

Its source is, in order: an ``addresses`` layer of ``rooftops.gpkg``
(:data:`geo.products.rooftops.ADDRESSES_LAYER`), a BAN file ``adresses-*.csv`` beside the build, else the
addresses the build stored on the buildings. Tables (layout and on-disk format in
:mod:`geo.io.address_index`):

* ``streets``: one row per street name × commune — ``nom_voie``, ``code_postal``, ``code_insee``,
  ``nom_commune``, ``lon``/``lat`` [° WGS84] (median of its addresses) and the normalised name and commune;
* ``streets_fts``: FTS5 index (tokenizer ``unicode61``) over the normalised street name, commune and codes;
* ``addresses``: one row per address — street id, ``numero``, ``rep`` (bis, ter…), ``lon``/``lat`` [°], BAN id;
* ``meta``: the key of the source (file, size, modification time, normalisation, format version).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from geo.io.address_index import AddressRow, AddressStore, StreetRow, index_key, write_index

FILE = "addresses.sqlite"


def write(target: Path, streets: Sequence[StreetRow], addresses: Iterable[AddressRow], key: dict[str, Any]) -> Path:
    """Write the index ``target`` atomically (street ids are the positions in ``streets``); ``key`` names its
    source."""
    return write_index(target, streets, addresses, key)


def source_key(path: Path) -> dict[str, Any] | None:
    """The source key of an index file; ``None`` when absent, unreadable or of another format (rebuild it)."""
    return index_key(path)


def read(path: Path) -> AddressStore:
    """The index opened for reading (:class:`~geo.errors.InputError` when not an index of this format)."""
    return AddressStore(path)
