"""The address index on disk: one SQLite file with an FTS5 full-text index of the streets.

Layout (``<build>/addresses.sqlite``, written once and reused while its source is unchanged):

* ``streets``: one row per street name × commune, with its postcode, INSEE code, commune and the median
  position of its addresses [° WGS84];
* ``streets_fts``: FTS5 table (tokenizer ``unicode61``) over the *normalised* street name, commune name
  and codes, rowid = street id; its vocabulary (``fts5vocab``) lists every indexed word, which the
  geocoder uses to correct misspelt query words;
* ``addresses``: one row per address (house number, suffix, position, BAN id), indexed by street and
  number;
* ``meta``: the key of the source the index was built from (file, size, modification time, format).

Normalising text is the caller's business (:func:`api.geocoder.normalize`): the index stores what it is
given. The file is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from geo.errors import InputError
from geo.io._atomic import atomic_path

#: Bump when the layout or the normalisation changes: older files are rebuilt.
FORMAT_VERSION = 1

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE streets(id INTEGER PRIMARY KEY, nom_voie TEXT, code_postal TEXT, code_insee TEXT,
                     nom_commune TEXT, lon REAL, lat REAL, name_norm TEXT, city_norm TEXT);
CREATE VIRTUAL TABLE streets_fts USING fts5(name, city, codes, tokenize = 'unicode61');
CREATE VIRTUAL TABLE vocab USING fts5vocab(streets_fts, 'row');
CREATE TABLE addresses(street_id INTEGER NOT NULL, numero TEXT, rep TEXT, lon REAL, lat REAL, id TEXT);
"""

StreetRow = tuple[str, str, str, str, float, float, str, str]  # nom_voie, cp, insee, commune, lon, lat, norms
AddressRow = tuple[int, str, str, float, float, str]  # street id, numero, rep, lon, lat, id


def write_index(target: Path, streets: Sequence[StreetRow], addresses: Iterable[AddressRow],
                key: dict[str, Any]) -> Path:
    """Write the index file ``target`` (atomically) from street and address rows; ``key`` says its source.

    Street ids are the positions in ``streets`` (0-based); address rows refer to them.
    """
    with atomic_path(target) as tmp:
        con = sqlite3.connect(tmp)
        try:
            con.executescript(_SCHEMA)
            con.executemany("INSERT INTO streets VALUES (?,?,?,?,?,?,?,?,?)",
                            ((i, *row) for i, row in enumerate(streets)))
            con.executemany("INSERT INTO streets_fts(rowid, name, city, codes) VALUES (?,?,?,?)",
                            ((i, s[6], s[7], f"{s[1]} {s[2]}") for i, s in enumerate(streets)))
            con.executemany("INSERT INTO addresses VALUES (?,?,?,?,?,?)", addresses)
            con.execute("CREATE INDEX addresses_street ON addresses(street_id, numero)")
            con.execute("INSERT INTO streets_fts(streets_fts) VALUES ('optimize')")
            con.execute("INSERT INTO meta VALUES ('key', ?)", (json.dumps({**key, "format": FORMAT_VERSION},
                                                                           sort_keys=True),))
            con.commit()
        finally:
            con.close()
    return target


def index_key(path: Path) -> dict[str, Any] | None:
    """The source key stored in an index file; ``None`` when absent, unreadable or of another format."""
    if not path.is_file():
        return None
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = con.execute("SELECT value FROM meta WHERE key = 'key'").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    key: dict[str, Any] | None = json.loads(row[0]) if row else None
    if key is None or key.get("format") != FORMAT_VERSION:
        return None
    key.pop("format")
    return key


class AddressStore:
    """Read access to an index file (one read-only connection per thread)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if index_key(self.path) is None:
            raise InputError(self.path, "not an address index of this version (delete it to rebuild it)")
        self._local = threading.local()

    def _con(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            self._local.con = con
        return con

    def vocabulary(self) -> list[str]:
        """Every word of the indexed street names, communes and codes."""
        return [str(r[0]) for r in self._con().execute("SELECT term FROM vocab")]

    def codes(self) -> set[str]:
        """Every postcode and INSEE code of the indexed streets."""
        rows = self._con().execute("SELECT DISTINCT code_postal, code_insee FROM streets").fetchall()
        return {str(c) for row in rows for c in row if c}

    def count(self, table: str) -> int:
        assert table in ("streets", "addresses")
        return int(self._con().execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def match(self, fts_query: str, limit: int) -> list[tuple[Any, ...]]:
        """Streets matching an FTS5 query, best bm25 first: (id, nom_voie, cp, insee, commune, lon, lat,
        name_norm, city_norm)."""
        return self._con().execute(
            "SELECT s.id, s.nom_voie, s.code_postal, s.code_insee, s.nom_commune, s.lon, s.lat, s.name_norm, "
            "s.city_norm FROM streets_fts JOIN streets s ON s.id = streets_fts.rowid "
            "WHERE streets_fts MATCH ? ORDER BY bm25(streets_fts, 4.0, 1.0, 1.0) LIMIT ?",
            (fts_query, limit),
        ).fetchall()

    def numbers(self, street_id: int, numero: str) -> list[tuple[Any, ...]]:
        """Addresses (numero, rep, lon, lat, id) of one street with that house number."""
        return self._con().execute(
            "SELECT numero, rep, lon, lat, id FROM addresses WHERE street_id = ? AND numero = ?", (street_id, numero)
        ).fetchall()
