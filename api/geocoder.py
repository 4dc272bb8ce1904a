"""Address search over BAN addresses, tolerant of accents, case, typos and abbreviations.

Method (documented for the users of ``GET /api/geocode``):

1. Normalise text: lower case, accents removed (Unicode NFKD), punctuation to spaces, and common
   abbreviations expanded token by token (``bd`` → ``boulevard``, ``av`` → ``avenue``, ``r`` → ``rue``,
   ``st`` → ``saint``…; table in :data:`geo.config.GEOCODE_ABBREVIATIONS`).
2. Split the query into a house number (and its suffix ``bis``, ``ter``, ``a``…), a 5-digit postcode or
   INSEE code, and words.
3. Pre-select streets (one per street name × commune) in an SQLite FTS5 index built once from the
   addresses (:mod:`geo.products.addresses`): each query word is looked up in the index's vocabulary; a word
   absent from it is replaced by the closest indexed words (rapidfuzz ``ratio`` ≥
   :data:`geo.config.GEOCODE_TYPO_MIN_RATIO`) or used as a prefix. Streets holding every word (or
   correction) are taken, best bm25 first; when none does, streets holding any of them.
4. Score those streets against the words with rapidfuzz: the mean of ``token_set_ratio`` (every query word
   found → high) and ``token_sort_ratio`` (penalises extra or missing words), the better of "street" and
   "street postcode city" (the query may name the commune or not), plus a bonus when the postcode or INSEE
   code matches or a query word is the commune's name (typos allowed), times the share of the query's
   words (≥ 3 letters) found in the street, commune or codes.
5. On the best streets, pick the address with the asked number (exact suffix first), else the street
   itself (its median address point), slightly penalised. Scores are 0–1; no candidate above
   :data:`geo.config.GEOCODE_MIN_SCORE` means nothing matches (an empty list).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from geo import config
from geo.io.address_index import AddressStore
from geo.products import addresses as address_product

_PUNCT = re.compile(r"[^0-9a-z]+")
_STREET_COLUMNS = ("nom_voie", "code_postal", "code_insee", "nom_commune")
_SUFFIXES = {"bis", "ter", "quater", "quinquies", "a", "b", "c", "d", "e", "f"}


def normalize(text: str, abbreviations: Mapping[str, str] = config.GEOCODE_ABBREVIATIONS) -> str:
    """Lower-case, accent-free, punctuation-free text with abbreviations expanded.

    >>> normalize("12 bd Émile-Basly")
    '12 boulevard emile basly'
    """
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    text = text.replace("'", " ")
    tokens = _PUNCT.sub(" ", text).split()
    return " ".join(abbreviations.get(t, t) for t in tokens)


@dataclass(frozen=True)
class Query:
    """A parsed query: house number and suffix, postcode/INSEE code, remaining words."""

    housenumber: str | None
    suffix: str | None
    code: str | None
    words: str


def parse_query(q: str) -> Query:
    """Split a normalised query into number, suffix, 5-digit code and words."""
    tokens = normalize(q).split()
    number = suffix = code = None
    words: list[str] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.isdigit() and len(t) == 5 and code is None:
            code = t
        elif t.isdigit() and len(t) <= 4 and number is None and not words:
            number = str(int(t))
            if i + 1 < len(tokens) and tokens[i + 1] in _SUFFIXES and i + 2 < len(tokens):
                suffix = tokens[i + 1]
                i += 1
        elif re.fullmatch(r"\d{1,4}[a-f]", t) and number is None and not words:
            number, suffix = str(int(t[:-1])), t[-1]
        else:
            words.append(t)
        i += 1
    return Query(number, suffix, code, " ".join(words))


@dataclass(frozen=True)
class Candidate:
    """One result: the address (or street) found, its position and score."""

    label: str
    score: float  # 0–1
    type: str  # "housenumber" or "street"
    housenumber: str | None
    street: str
    postcode: str
    citycode: str
    city: str
    lon: float
    lat: float
    id: str | None


class AddressIndex:
    """Address search over an index file (:mod:`geo.products.addresses`), built once from BAN-like rows.

    Open one with :meth:`open_or_build` (reuses the file while its source key is unchanged) or
    :meth:`build`. ``size`` is the number of addresses, ``source`` where they come from (shown by the API).
    """

    def __init__(self, store: AddressStore, *, source: str = "") -> None:
        self.store = store
        self.source = source
        self.size = store.count("addresses")
        self._vocab = store.vocabulary()
        self._vocab_set = set(self._vocab)

    @classmethod
    def build(cls, addresses: pd.DataFrame, path: Path, *, source: str = "",
              key: Mapping[str, Any] | None = None) -> AddressIndex:
        """Index ``addresses`` into ``path`` and open it.

        ``addresses`` has one row per address with columns ``numero``, ``rep``, ``nom_voie``,
        ``code_postal``, ``code_insee``, ``nom_commune``, ``lon``, ``lat`` [°, WGS84] and optionally ``id``
        (BAN layout); rows without a street name or a position are left out.
        """
        df = _clean_addresses(addresses)
        groups = df.groupby(["nom_voie", "code_insee"], sort=False)
        first = groups[["code_postal", "nom_commune"]].first().reset_index()  # street ids = ngroup() order
        median = groups[["lon", "lat"]].median()
        streets = [(v, cp, insee, c, float(x), float(y), normalize(str(v)), normalize(str(c)))
                   for v, cp, insee, c, x, y in zip(*(first[k].tolist() for k in _STREET_COLUMNS),
                                                    median["lon"].tolist(), median["lat"].tolist(), strict=True)]
        has_number = (df["numero"] != "").to_numpy()
        sid = groups.ngroup().to_numpy()[has_number]
        num = df[has_number]
        # lists, not the Series: iterating Arrow-backed strings row by row costs seconds per 100,000 rows
        rows = zip(sid.tolist(), *(num[k].tolist() for k in ("numero", "rep", "lon", "lat", "id")), strict=True)
        address_product.write(path, streets, rows, {**(key or {}), "normalisation": _normalisation_key()})
        return cls(address_product.read(path), source=source)

    @classmethod
    def open_or_build(cls, path: Path, *, key: Mapping[str, Any], source: str,
                      load: Callable[[], pd.DataFrame]) -> AddressIndex:
        """The index in ``path`` when it was built from the source ``key`` identifies, else built from ``load()``."""
        wanted = json.loads(json.dumps({**key, "normalisation": _normalisation_key()}))  # as stored (JSON)
        if address_product.source_key(path) == wanted:
            return cls(address_product.read(path), source=source)
        return cls.build(load(), path, source=source, key=key)

    def codes(self) -> set[str]:
        """Postcodes and INSEE codes of the indexed addresses."""
        return self.store.codes()

    def _variants(self, word: str) -> list[str]:
        """FTS5 terms standing for one query word: itself if indexed, else its closest words or a prefix."""
        if word in self._vocab_set:
            return [f'"{word}"']
        if len(word) < 3:
            return []
        close = process.extract(word, self._vocab, scorer=fuzz.ratio, score_cutoff=config.GEOCODE_TYPO_MIN_RATIO,
                                limit=3)
        return [f'"{w}"' for w, _, _ in close] + [f'"{word}"*']

    def _streets(self, query: Query) -> list[tuple[Any, ...]]:
        groups = [v for v in (self._variants(w) for w in query.words.split()) if v]
        if query.code is not None:
            groups.append([f'"{query.code}"'])
        if not groups:
            return []
        n = config.GEOCODE_FTS_CANDIDATES
        rows = self.store.match(" AND ".join("(" + " OR ".join(g) + ")" for g in groups), n)
        if not rows and len(groups) > 1:  # a word matches nothing with the others: streets holding any
            seen = {r[0] for r in rows}
            anyword = " OR ".join(t for g in groups for t in g)
            rows += [r for r in self.store.match(anyword, n) if r[0] not in seen]
        return rows

    def _scores(self, query: Query, streets: list[tuple[Any, ...]]) -> np.ndarray:
        words = query.words
        only = [r[7] for r in streets]
        full = [f"{r[7]} {r[2]} {r[8]}" for r in streets]
        scores = np.zeros(len(streets))
        for texts in (full, only):
            set_scores = process.cdist([words], texts, scorer=fuzz.token_set_ratio, workers=1)[0]
            sort_scores = process.cdist([words], texts, scorer=fuzz.token_sort_ratio, workers=1)[0]
            scores = np.maximum(scores, (set_scores + sort_scores) / 200.0)
        qwords = [w for w in words.split() if len(w) >= 3]
        bonus = np.array([
            float(query.code in (r[2], r[3]) or any(
                fuzz.ratio(w, c) >= 85 for w in qwords for c in r[8].split() if len(c) >= 3))
            for r in streets
        ])
        if bonus.any():
            scores = scores * 0.85 + 0.15 * bonus
        return scores * np.array([_coverage(qwords, text.split()) for text in full])

    def search(self, q: str, *, limit: int = config.GEOCODE_MAX_RESULTS,
               min_score: float = config.GEOCODE_MIN_SCORE) -> list[Candidate]:
        """Candidates for the free-text query ``q``, best first (score ≥ ``min_score``); ``[]``: nothing matches."""
        query = parse_query(q)
        if not query.words:
            return []
        streets = self._streets(query)
        if not streets:
            return []
        scores = self._scores(query, streets)
        out: list[Candidate] = []
        for i in np.argsort(-scores, kind="stable")[:limit * 2]:
            street, s = streets[i], float(scores[i])
            if s < min_score:
                break
            if query.housenumber is not None:
                same = self.store.numbers(int(street[0]), query.housenumber)
                if same:
                    exact = [a for a in same if a[1] == (query.suffix or "")]
                    for a in exact or same:
                        out.append(_address(street, a, s * (1.0 if exact else 0.95)))
                    continue
                out.append(_street(street, s * 0.8))
            else:
                out.append(_street(street, s * 0.95))
        out = [c for c in out if c.score >= min_score]
        out.sort(key=lambda c: -c.score)
        return out[:limit]


def _coverage(qwords: list[str], words: list[str]) -> float:
    """Share of the query words (≥ 3 letters) found in a street's words, typos allowed: a street sharing only
    "boulevard" with "boulevard qwertyuiop" is not an answer to it."""
    if not qwords:
        return 1.0
    found = sum(any(w == c or fuzz.ratio(w, c) >= config.GEOCODE_TYPO_MIN_RATIO for c in words) for w in qwords)
    return found / len(qwords)


def _normalisation_key() -> str:
    """Changes when the text normalisation does (the abbreviation table): the index is then rebuilt."""
    table = json.dumps(sorted(config.GEOCODE_ABBREVIATIONS.items()))
    return hashlib.sha256(table.encode()).hexdigest()[:16]


def _clean_addresses(addresses: pd.DataFrame) -> pd.DataFrame:
    df = addresses.copy()
    for col in ("numero", "rep", "nom_voie", "code_postal", "code_insee", "nom_commune", "id"):
        if col not in df.columns:
            df[col] = ""
        df[col] = df[col].fillna("").astype(str).str.strip()
    df["numero"] = df["numero"].str.replace(r"\.0$", "", regex=True).str.replace(r"^0+(?=\d)", "", regex=True)
    df["rep"] = df["rep"].str.lower()
    df["code_postal"] = df["code_postal"].str.replace(r"\.0$", "", regex=True).str.zfill(5)
    df["lon"] = pd.to_numeric(df["lon"], errors="coerce")
    df["lat"] = pd.to_numeric(df["lat"], errors="coerce")
    return df[np.isfinite(df["lon"]) & np.isfinite(df["lat"]) & (df["nom_voie"] != "")].reset_index(drop=True)


def _address(street: tuple[Any, ...], a: tuple[Any, ...], score: float) -> Candidate:
    _, nom_voie, cp, insee, commune = street[:5]
    number = a[0] + (f" {a[1]}" if a[1] else "")
    return Candidate(f"{number} {nom_voie} {cp} {commune}", round(score, 4), "housenumber", number, nom_voie, cp,
                     insee, commune, float(a[2]), float(a[3]), a[4] or None)


def _street(street: tuple[Any, ...], score: float) -> Candidate:
    _, nom_voie, cp, insee, commune, lon, lat = street[:7]
    return Candidate(f"{nom_voie} {cp} {commune}", round(score, 4), "street", None, nom_voie, cp, insee, commune,
                     float(lon), float(lat), None)
