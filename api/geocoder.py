"""Address search over BAN addresses, tolerant of accents, case, typos and abbreviations.

Method (documented for the users of ``GET /api/geocode``):

1. Normalise text: lower case, accents removed (Unicode NFKD), punctuation to spaces, and common
   abbreviations expanded token by token (``bd`` → ``boulevard``, ``av`` → ``avenue``, ``r`` → ``rue``,
   ``st`` → ``saint``…; table in :data:`geo.config.GEOCODE_ABBREVIATIONS`).
2. Split the query into a house number (and its suffix ``bis``, ``ter``, ``a``…), a 5-digit postcode or
   INSEE code, and words.
3. Score every street (one key per street name × commune) against the words with rapidfuzz: the mean of
   ``token_set_ratio`` (every query word found → high) and ``token_sort_ratio`` (penalises extra or
   missing words), the better of "street" and "street postcode city" (the query may name the commune or
   not), plus a bonus when the postcode or INSEE code matches.
4. On the best streets, pick the address with the asked number (exact suffix first), else the street
   itself (its median address point), slightly penalised. Scores are 0–1.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from geo import config

_PUNCT = re.compile(r"[^0-9a-z]+")
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
    """An in-memory index of addresses.

    Parameters
    ----------
    addresses
        One row per address with columns ``numero``, ``rep``, ``nom_voie``, ``code_postal``,
        ``code_insee``, ``nom_commune``, ``lon``, ``lat`` [°, WGS84] and optionally ``id`` (BAN layout).
    source
        Where they come from (shown by the API).
    """

    def __init__(self, addresses: pd.DataFrame, *, source: str = "") -> None:
        df = addresses.copy()
        for col in ("numero", "rep", "nom_voie", "code_postal", "code_insee", "nom_commune", "id"):
            if col not in df.columns:
                df[col] = ""
            df[col] = df[col].fillna("").astype(str).str.strip()
        df["numero"] = df["numero"].str.replace(r"\.0$", "", regex=True)
        df["rep"] = df["rep"].str.lower()
        df["code_postal"] = df["code_postal"].str.replace(r"\.0$", "", regex=True).str.zfill(5)
        df["lon"] = pd.to_numeric(df["lon"], errors="coerce")
        df["lat"] = pd.to_numeric(df["lat"], errors="coerce")
        df = df[np.isfinite(df["lon"]) & np.isfinite(df["lat"]) & (df["nom_voie"] != "")].reset_index(drop=True)
        self.source = source
        self.addresses = df
        self.size = len(df)
        keys = df["nom_voie"] + "|" + df["code_insee"]
        df["street_key"] = keys
        self._groups: dict[str, np.ndarray] = {k: np.asarray(v) for k, v in df.groupby("street_key").indices.items()}
        self._street_keys = list(self._groups)
        first = df.groupby("street_key").first()
        self._street_text = [
            normalize(f"{first.at[k, 'nom_voie']} {first.at[k, 'code_postal']} {first.at[k, 'nom_commune']}")
            for k in self._street_keys
        ]
        self._street_only = [normalize(str(first.at[k, "nom_voie"])) for k in self._street_keys]
        self._street_codes = [(first.at[k, "code_postal"], first.at[k, "code_insee"]) for k in self._street_keys]
        cities = [normalize(str(first.at[k, "nom_commune"])) for k in self._street_keys]
        self._city_names = sorted(set(cities))
        self._street_city = np.array([self._city_names.index(c) for c in cities], dtype=np.int64)

    def _street_scores(self, query: Query, limit: int) -> list[tuple[int, float]]:
        words = query.words
        if not words:
            return []
        scores = np.zeros(len(self._street_text))
        for texts in (self._street_text, self._street_only):
            set_scores = process.cdist([words], texts, scorer=fuzz.token_set_ratio, workers=1)[0]
            sort_scores = process.cdist([words], texts, scorer=fuzz.token_sort_ratio, workers=1)[0]
            scores = np.maximum(scores, (set_scores + sort_scores) / 200.0)
        bonus = np.zeros(len(scores))
        if query.code is not None:
            bonus = np.array([query.code in codes for codes in self._street_codes], dtype=float)
        city_hit = self._city_matches(words)
        if city_hit.any():
            bonus = np.maximum(bonus, city_hit[self._street_city])
        if bonus.any():
            scores = scores * 0.85 + 0.15 * bonus
        best = np.argsort(-scores, kind="stable")[:limit]
        return [(int(i), float(scores[i])) for i in best]

    def _city_matches(self, words: str) -> np.ndarray:
        """1.0 for each commune one of whose words (≥ 3 letters) the query contains (typos allowed)."""
        qwords = [w for w in words.split() if len(w) >= 3]
        hit = np.zeros(len(self._city_names))
        for i, city in enumerate(self._city_names):
            cwords = [w for w in city.split() if len(w) >= 3]
            if any(fuzz.ratio(w, c) >= 85 for w in qwords for c in cwords):
                hit[i] = 1.0
        return hit

    def search(self, q: str, *, limit: int = config.GEOCODE_MAX_RESULTS,
               min_score: float = config.GEOCODE_MIN_SCORE) -> list[Candidate]:
        """Candidates for the free-text query ``q``, best first (score ≥ ``min_score``)."""
        query = parse_query(q)
        out: list[Candidate] = []
        df = self.addresses
        for street_idx, s in self._street_scores(query, limit * 2):
            rows = df.iloc[self._groups[self._street_keys[street_idx]]]
            if query.housenumber is not None:
                same = rows[rows["numero"] == query.housenumber]
                if len(same):
                    exact = same[same["rep"] == (query.suffix or "")]
                    for _, r in (exact if len(exact) else same).iterrows():
                        penalty = 1.0 if len(exact) else 0.95
                        out.append(self._candidate(r, s * penalty, "housenumber"))
                    continue
                out.append(self._street_candidate(rows, s * 0.8))
            else:
                out.append(self._street_candidate(rows, s * 0.95))
        out = [c for c in out if c.score >= min_score]
        out.sort(key=lambda c: -c.score)
        return out[:limit]

    @staticmethod
    def _candidate(r: pd.Series, score: float, kind: str) -> Candidate:
        number = r["numero"] + (f" {r['rep']}" if r["rep"] else "")
        label = f"{number} {r['nom_voie']} {r['code_postal']} {r['nom_commune']}"
        return Candidate(
            label, round(score, 4), kind, number, r["nom_voie"], r["code_postal"], r["code_insee"],
            r["nom_commune"], float(r["lon"]), float(r["lat"]), r["id"] or None,
        )

    @staticmethod
    def _street_candidate(rows: pd.DataFrame, score: float) -> Candidate:
        r = rows.iloc[0]
        label = f"{r['nom_voie']} {r['code_postal']} {r['nom_commune']}"
        return Candidate(
            label, round(score, 4), "street", None, r["nom_voie"], r["code_postal"], r["code_insee"],
            r["nom_commune"], float(rows["lon"].median()), float(rows["lat"].median()), None,
        )
