"""Batch address lookups — geocode → building → figures — for ``artois solar lookup`` and ``POST /api/lookup``.

One row per input address, always: the building's id, class, recommended installation (kWp, kWh/yr)
and its economics — the ``buildings`` columns ``GET /api/roof`` shows, read, never recomputed — or a
status and a French reason:

``ok``
    One address found, a building at it (footprint containing the BAN point, else the nearest within
    :data:`geo.config.LOOKUP_BUILDING_MAX_DISTANCE_M`) with a recommended installation.
``aucun_pan_adapte``
    The building is found but no face holds the minimum number of modules on suitable faces
    (``reco_kwp`` = 0): its id and class are given, no installation.
``introuvable``
    No address scores at least :data:`geo.config.LOOKUP_MIN_SCORE`, only the street is known (the
    number is not in the BAN), or no building of the cadastre stands at the address.
``ambigue``
    Several different addresses score within :data:`geo.config.LOOKUP_AMBIGUITY_MARGIN` of the best:
    the candidates are listed (``candidates``), the adviser picks one.
``hors_territoire``
    The address carries a postcode / INSEE code that no address of the territory has, or the address
    found lies outside the communes of the cadastre.

The input is a CSV (``;``, ``,`` or tab separated; UTF-8, or Windows-1252 as Excel writes it): either a
column of free-text addresses (``adresse``, ``address``, ``label``… or the only column) or BAN-like
columns (``numero``, ``rep``, ``nom_voie``, ``code_postal``, ``nom_commune``). The output keeps the input
columns and appends :data:`RESULT_COLUMNS`.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely

from api.geocoder import AddressIndex, Candidate, parse_query
from api.geojson import clean_properties, clean_value
from api.io.gpkg import SpatialFilter
from api.layers import Catalog
from api.services import building_at
from geo import config
from geo.errors import InputError, NotFoundError
from geo.products import rooftops

OK, NO_SUITABLE_FACE, NOT_FOUND, AMBIGUOUS, OUTSIDE = (
    "ok", "aucun_pan_adapte", "introuvable", "ambigue", "hors_territoire")

#: Building columns copied into each answered row (docs/data-dictionary.md, ``buildings``).
BUILDING_COLUMNS = (
    "building_id", "address", "code_insee", "suitability", "n_suitable_faces", "usable_area_m2", "kwp_max",
    "production_kwh_yr_max", "reco_kwp", "reco_n_modules", "reco_production_kwh_yr", "reco_cost_eur",
    "reco_premium_eur", "reco_self_consumption_rate", "reco_savings_eur_yr", "reco_sales_eur_yr",
    "reco_payback_yr", "reco_net_gain_eur", "analysis_years", "owner", "co2_avoided_kg_yr", "tariff_quarter",
)
#: Columns appended to the input's, in this order.
RESULT_COLUMNS = ("status", "reason", "matched_address", "score", "candidates", "lon", "lat",
                  "distance_m", *BUILDING_COLUMNS)

#: Names of a free-text address column (compared without case and accents).
ADDRESS_COLUMN_NAMES = ("adresse", "address", "adresse_complete", "adresse complete", "label", "libelle", "q")
#: BAN-like columns, in the order they compose a query; ``nom_voie`` is required.
BAN_PARTS = ("numero", "rep", "nom_voie", "code_postal", "nom_commune")


@dataclass
class LookupResult:
    """The answer for one address (see the module docstring for ``status``)."""

    query: str
    status: str
    reason: str
    matched_address: str | None = None
    score: float | None = None
    candidates: list[str] = field(default_factory=list)
    lon: float | None = None
    lat: float | None = None
    distance_m: float | None = None
    building: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """Flat row of :data:`RESULT_COLUMNS` (candidates joined with `` | ``)."""
        out: dict[str, Any] = {
            "status": self.status, "reason": self.reason, "matched_address": self.matched_address,
            "score": self.score, "candidates": " | ".join(self.candidates) or None, "lon": self.lon,
            "lat": self.lat, "distance_m": self.distance_m,
        }
        out.update({c: self.building.get(c) for c in BUILDING_COLUMNS})
        return out

    def as_json(self) -> dict[str, Any]:
        """JSON-ready dict (NaN → null); ``building`` holds :data:`BUILDING_COLUMNS` or is null."""
        d = asdict(self)
        d["building"] = clean_properties({c: self.building.get(c) for c in BUILDING_COLUMNS}) if self.building else None
        return {k: clean_value(v) if not isinstance(v, (dict, list)) else v for k, v in d.items()}


# -- input ------------------------------------------------------------------------------------------


def _key(name: str) -> str:
    from api.geocoder import normalize

    return normalize(str(name)).replace(" ", "_")


def queries_from_table(df: pd.DataFrame, *, source: str | None = None) -> list[str]:
    """One free-text query per row of an address table (free-text column or BAN-like columns)."""
    keys = {_key(c): c for c in df.columns}
    if "nom_voie" in keys:
        parts = [df[keys[p]].fillna("").astype(str).str.strip() for p in BAN_PARTS if p in keys]
        joined = parts[0]
        for p in parts[1:]:
            joined = joined + " " + p
        return [" ".join(q.split()) for q in joined]
    col = next((keys[_key(n)] for n in ADDRESS_COLUMN_NAMES if _key(n) in keys), None)
    if col is None and len(df.columns) == 1:
        col = df.columns[0]
    if col is None:
        raise InputError(source, f"no address column: expected one of {', '.join(ADDRESS_COLUMN_NAMES[:3])}…, "
                         f"or the BAN columns {', '.join(BAN_PARTS)} (found: {', '.join(map(str, df.columns))})")
    return [" ".join(str(v).split()) for v in df[col].fillna("")]


def read_address_table(data: bytes, *, source: str | None = None,
                       max_rows: int | None = None) -> tuple[pd.DataFrame, list[str]]:
    """(the table as read, one query per row) of a CSV's bytes.

    Raises
    ------
    InputError
        Not decodable, no row, no address column, or more than ``max_rows`` rows (naming ``source``).
    """
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes almost anything
        raise InputError(source, "not a text file (UTF-8 or Windows-1252 expected)")
    if not text.strip():
        raise InputError(source, "empty file: a header line (e.g. 'adresse') and one address per line are expected")
    first = text.splitlines()[0]
    try:
        sep = csv.Sniffer().sniff(first, delimiters=";,\t").delimiter
    except csv.Error:
        sep = ";" if ";" in first else ","
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(source, f"unreadable CSV ({str(exc).splitlines()[0]})") from exc
    if df.empty:
        raise InputError(source, "no address under the header line")
    if max_rows is not None and len(df) > max_rows:
        raise InputError(source, f"{len(df)} addresses: at most {max_rows} per request")
    return df, queries_from_table(df, source=source)


# -- lookup ----------------------------------------------------------------------------------------


class BatchLookup:
    """Answers address queries against one build: its geocoder index, buildings and communes."""

    def __init__(self, catalog: Catalog, index: AddressIndex) -> None:
        self.catalog = catalog
        self.index = index
        self.buildings = catalog.collection(rooftops.BUILDINGS.name)
        addr = index.addresses
        self.codes = set(addr["code_postal"].astype(str)) | set(addr["code_insee"].astype(str))
        self.territory = self._territory()

    def _territory(self) -> shapely.Geometry | None:
        """The communes of the cadastre (their union, buildings' CRS), else the buildings' extent."""
        crs = self.buildings.info.crs
        if rooftops.COMMUNES_SOLAR.name in self.catalog.collections:
            c = self.catalog.collection(rooftops.COMMUNES_SOLAR.name)
            if c.info.crs == crs and "level" in c.info.column_names:
                feats = c.read(equals={"level": "commune"})
                if len(feats):
                    return shapely.union_all(feats.geometries)
        b = self.buildings.info.bounds
        return shapely.box(*b).buffer(config.LOOKUP_BUILDING_MAX_DISTANCE_M) if b is not None else None

    def lookup(self, query: str) -> LookupResult:
        """The answer for one free-text address."""
        q = " ".join(str(query).split())
        if len(q) < 3:
            return LookupResult(q, NOT_FOUND, "adresse vide ou trop courte")
        parsed = parse_query(q)
        if parsed.code is not None and parsed.code not in self.codes:
            return LookupResult(q, OUTSIDE, f"le code {parsed.code} n'est pas celui d'une commune du territoire "
                                            "couvert par le cadastre solaire")
        cands = self.index.search(q, limit=config.LOOKUP_CANDIDATES, min_score=config.LOOKUP_MIN_SCORE)
        if not cands:
            return LookupResult(q, NOT_FOUND, "aucune adresse ressemblante dans la Base Adresse Nationale du "
                                              "territoire (vérifiez l'orthographe, le numéro et la commune)")
        best = cands[0]
        close = _distinct([c for c in cands if c.score >= best.score - config.LOOKUP_AMBIGUITY_MARGIN])
        if len(close) > 1:
            return LookupResult(q, AMBIGUOUS, f"{len(close)} adresses correspondent : précisez le numéro, "
                                              "le code postal ou la commune",
                                score=best.score, candidates=[f"{c.label} ({c.score:.2f})" for c in close])
        found = LookupResult(q, NOT_FOUND, "", matched_address=best.label, score=best.score, lon=best.lon,
                             lat=best.lat)
        if best.type != "housenumber":
            found.reason = (f"numéro absent de la Base Adresse Nationale pour « {best.street} » à {best.city} : "
                            "seule la voie est connue")
            return found
        x, y = self.buildings.point_from_wgs84(best.lon, best.lat)
        if self.territory is not None and not shapely.intersects(self.territory, shapely.Point(x, y)):
            found.status, found.reason = OUTSIDE, "l'adresse est hors des communes couvertes par le cadastre solaire"
            return found
        hit = self._building_near(best, x, y)
        if hit is None:
            found.reason = (f"aucun bâtiment du cadastre solaire à moins de "
                            f"{config.LOOKUP_BUILDING_MAX_DISTANCE_M:g} m de l'adresse")
            return found
        found.building, found.distance_m = hit
        reco = found.building.get("reco_kwp")
        if reco is None or not (isinstance(reco, (int, float)) and math.isfinite(reco) and reco > 0):
            found.status = NO_SUITABLE_FACE
            found.reason = (f"aucun pan adapté : moins de {config.SUITABLE_MIN_MODULES} panneaux tiennent sur les "
                            "pans bien exposés de cette toiture")
            return found
        found.status, found.reason = OK, "bâtiment trouvé"
        return found

    def _building_near(self, cand: Candidate, x: float, y: float) -> tuple[dict[str, Any], float] | None:
        """(attributes, distance [m]) of the building under the address point, else the nearest one."""
        try:
            _, props, _ = building_at(self.buildings, cand.lon, cand.lat)
            return props, 0.0
        except NotFoundError:
            pass
        r = config.LOOKUP_BUILDING_MAX_DISTANCE_M
        feats = self.buildings.read(spatial=SpatialFilter((x - r, y - r, x + r, y + r)))
        if not len(feats):
            return None
        d = shapely.distance(feats.geometries, shapely.Point(x, y))
        i = int(np.argmin(d))
        return (feats.properties[i], round(float(d[i]), 1)) if d[i] <= r else None

    def run(self, queries: Iterable[str], *,
            progress: Callable[[Iterable[str]], Iterable[str]] | None = None) -> list[LookupResult]:
        """:meth:`lookup` of every query, in order (``progress`` wraps the iteration, e.g. ``tqdm``)."""
        it = progress(queries) if progress is not None else queries
        return [self.lookup(q) for q in it]


def _distinct(cands: Sequence[Candidate]) -> list[Candidate]:
    """Candidates naming different places (same label counted once)."""
    seen: dict[str, Candidate] = {}
    for c in cands:
        seen.setdefault(c.label, c)
    return list(seen.values())


# -- output ----------------------------------------------------------------------------------------


def results_table(table: pd.DataFrame, results: Sequence[LookupResult]) -> pd.DataFrame:
    """The input table with :data:`RESULT_COLUMNS` appended (an input column of the same name is replaced)."""
    out = table.drop(columns=[c for c in RESULT_COLUMNS if c in table.columns]).reset_index(drop=True)
    res = pd.DataFrame([r.row() for r in results], columns=list(RESULT_COLUMNS))
    return pd.concat([out, res], axis=1)


def to_csv(table: pd.DataFrame) -> bytes:
    """';'-separated UTF-8 CSV with BOM (opens in French spreadsheets), decimal point."""
    return table.to_csv(sep=";", index=False).encode("utf-8-sig")


def summary(results: Sequence[LookupResult]) -> dict[str, int]:
    """Number of rows per status."""
    counts = {s: 0 for s in (OK, NO_SUITABLE_FACE, AMBIGUOUS, NOT_FOUND, OUTSIDE)}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return counts


def to_json(results: Sequence[LookupResult]) -> dict[str, Any]:
    """``{"summary": {status: count}, "results": [...]}`` (the JSON answer of ``POST /api/lookup``)."""
    return {"summary": summary(results), "results": [r.as_json() for r in results]}
