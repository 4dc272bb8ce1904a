"""Read-only access to GeoPackage layers through SQLite and their R-tree spatial indexes.

A GeoPackage is an SQLite database: each feature table ``t`` with geometry column ``g`` has an
R-tree ``rtree_t_g`` (id, minx, maxx, miny, maxy) holding each feature's envelope. Spatial queries
look up candidate fids in the R-tree and read only those rows, so a lookup or a tile costs
O(log n + k), never a scan of the layer. Geometries are GeoPackage blobs: a header (magic ``GP``,
version, flags, srs id, optional envelope) followed by standard WKB, decoded with shapely.

Connections are opened read-only and ``immutable`` (no locking: the pipeline replaces outputs
atomically by renaming a new file, so an open connection keeps reading the old, complete file), one
per thread, as :mod:`sqlite3` connections must not be shared between threads.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import shapely
from pyproj import CRS

from geo.errors import InputError
from geo.types import Bounds

#: Envelope size [bytes] by the envelope-contents indicator of the GeoPackage blob flags.
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_BOOL_TYPES = {"BOOLEAN"}
_INT_TYPES = {"INTEGER", "INT", "MEDIUMINT", "SMALLINT", "TINYINT", "BIGINT"}
_FLOAT_TYPES = {"REAL", "FLOAT", "DOUBLE"}


@dataclass(frozen=True)
class Column:
    """An attribute column: name, SQLite declared type and JSON kind (string, integer, number, boolean)."""

    name: str
    sql_type: str
    kind: str


@dataclass(frozen=True)
class LayerInfo:
    """Metadata of one feature table, read once when the GeoPackage is opened."""

    path: Path
    name: str
    title: str
    fid_column: str
    geom_column: str
    geometry_type: str
    crs: CRS
    columns: tuple[Column, ...]
    count: int
    bounds: Bounds | None  # in the layer's CRS; None for an empty layer
    rtree: str | None  # name of the R-tree table, None when the layer has no spatial index

    @cached_property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @cached_property
    def _by_name(self) -> dict[str, Column]:
        return {c.name: c for c in self.columns}

    def column(self, name: str) -> Column:
        """The column ``name``; KeyError if the layer has none."""
        return self._by_name[name]


@dataclass(frozen=True)
class Features:
    """Rows read from a layer: fids, attribute dicts and shapely geometries (layer CRS), aligned."""

    fids: np.ndarray  # int64
    properties: list[dict[str, Any]]
    geometries: np.ndarray  # object array of shapely geometries (None for a null geometry)

    def __len__(self) -> int:
        return len(self.fids)

    def take(self, mask: np.ndarray) -> Features:
        idx = np.flatnonzero(mask)
        return Features(self.fids[idx], [self.properties[i] for i in idx], self.geometries[idx])


@dataclass(frozen=True)
class SpatialFilter:
    """A query area in a layer's CRS.

    ``outer`` is a rectangle enclosing the area (R-tree candidates), ``inner`` a rectangle inside it
    (features whose envelope lies within it surely intersect the area; None when unknown) and
    ``polygon`` the exact area for the features in between.
    """

    outer: Bounds
    inner: Bounds | None = None
    polygon: shapely.Geometry | None = None

    @classmethod
    def from_rectangle(cls, bounds: Bounds) -> SpatialFilter:
        return cls(bounds, bounds, shapely.box(*bounds))


@functools.lru_cache(maxsize=4096)
def _q(identifier: str) -> str:
    """Quote an SQL identifier (table or column name); cached, as every read quotes each of its columns."""
    return '"' + identifier.replace('"', '""') + '"'


def gpkg_blob_to_wkb(blob: bytes | None) -> bytes | None:
    """Standard WKB of a GeoPackage geometry blob (the header stripped); None for NULL."""
    if blob is None:
        return None
    if blob[:2] != b"GP":  # not a GeoPackage blob: take it as plain WKB
        return bytes(blob)
    envelope = (blob[3] >> 1) & 0b111
    return bytes(blob[8 + _ENVELOPE_BYTES.get(envelope, 0):])


def decode_geometries(blobs: Sequence[bytes | None]) -> np.ndarray:
    """Shapely geometries of GeoPackage blobs (vectorised WKB parsing)."""
    wkb = [gpkg_blob_to_wkb(b) for b in blobs]
    return shapely.from_wkb(np.array(wkb, dtype=object), on_invalid="warn")


class GeoPackage:
    """A GeoPackage opened read-only: its layers' metadata, and indexed queries.

    Parameters
    ----------
    path
        The ``.gpkg`` file.

    Raises
    ------
    InputError
        The file is missing or is not a GeoPackage.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(self.path, "file not found")
        self._uri = f"file:{quote(str(self.path.resolve()))}?mode=ro&immutable=1"
        self._local = threading.local()
        self._plans: dict[tuple[str, tuple[str, ...] | None, bool], tuple[tuple[str, ...], str, tuple[str, ...]]] = {}
        try:
            self.layers = self._read_layers()
        except sqlite3.DatabaseError as exc:
            raise InputError(self.path, f"not a readable GeoPackage ({exc})") from exc

    # -- connections ---------------------------------------------------------------------------
    def connection(self) -> sqlite3.Connection:
        """This thread's read-only connection (opened on first use)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
            conn.execute("PRAGMA query_only = 1")
            self._local.conn = conn
        return conn

    # -- metadata -------------------------------------------------------------------------------
    def _read_layers(self) -> dict[str, LayerInfo]:
        conn = sqlite3.connect(self._uri, uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "gpkg_contents" not in tables or "gpkg_geometry_columns" not in tables:
                raise InputError(self.path, "not a GeoPackage (no gpkg_contents table)")
            rows = conn.execute(
                "SELECT c.table_name, COALESCE(c.identifier, c.table_name), g.column_name, g.geometry_type_name, "
                "g.srs_id, s.organization, s.organization_coordsys_id, s.definition, "
                "c.min_x, c.min_y, c.max_x, c.max_y "
                "FROM gpkg_contents c JOIN gpkg_geometry_columns g ON g.table_name = c.table_name "
                "LEFT JOIN gpkg_spatial_ref_sys s ON s.srs_id = g.srs_id WHERE c.data_type = 'features'"
            ).fetchall()
            counts: dict[str, int] = {}
            if "gpkg_ogr_contents" in tables:  # GDAL's feature counts, kept up to date by its triggers
                counts = {str(t): int(n) for t, n in conn.execute(
                    "SELECT table_name, feature_count FROM gpkg_ogr_contents WHERE feature_count IS NOT NULL")}
            layers: dict[str, LayerInfo] = {}
            for (table, title, geom_col, gtype, srs_id, org, org_id, definition, *_env) in rows:
                crs = self._crs(srs_id, org, org_id, definition)
                info = conn.execute(f"PRAGMA table_info({_q(table)})").fetchall()
                fid_col = next((r[1] for r in info if r[5] == 1), "fid")
                columns = tuple(
                    Column(r[1], (r[2] or "").upper(), _kind((r[2] or "").upper()))
                    for r in info if r[1] not in (fid_col, geom_col)
                )
                rtree: str | None = f"rtree_{table}_{geom_col}"
                if rtree not in tables:
                    rtree = None
                count = counts.get(table)
                if count is None:  # not recorded: count the rows (a scan of the table)
                    count = int(conn.execute(f"SELECT COUNT(*) FROM {_q(table)}").fetchone()[0])
                bounds: Bounds | None = None
                if count and all(v is not None for v in _env):
                    bounds = (float(_env[0]), float(_env[1]), float(_env[2]), float(_env[3]))
                elif rtree is not None and count:  # no recorded extent: a scan of the R-tree
                    b = conn.execute(f"SELECT MIN(minx), MIN(miny), MAX(maxx), MAX(maxy) FROM {_q(rtree)}").fetchone()
                    if b[0] is not None:
                        bounds = (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
                layers[table] = LayerInfo(
                    self.path, table, str(title), fid_col, geom_col, str(gtype).upper(), crs, columns, count,
                    bounds, rtree,
                )
            return layers
        finally:
            conn.close()

    def _crs(self, srs_id: int, org: str | None, org_id: int | None, definition: str | None) -> CRS:
        try:
            if org and org_id is not None and org.upper() == "EPSG" and int(org_id) > 0:
                return CRS.from_epsg(int(org_id))
            if definition and definition.strip() and definition.strip().lower() != "undefined":
                return CRS.from_wkt(definition)
        except Exception as exc:  # pyproj raises CRSError subclasses of several kinds
            raise InputError(self.path, f"unknown CRS for srs_id {srs_id} ({exc})") from exc
        raise InputError(self.path, f"layer without a CRS (srs_id {srs_id})")

    def layer(self, name: str) -> LayerInfo:
        try:
            return self.layers[name]
        except KeyError:
            raise InputError(self.path, f"no layer '{name}' (layers: {', '.join(self.layers) or 'none'})") from None

    # -- queries -------------------------------------------------------------------------------
    def _where(
        self, info: LayerInfo, spatial: SpatialFilter | None, equals: Mapping[str, Any] | None,
        fids: Iterable[int] | None,
    ) -> tuple[str, list[Any]]:
        """SQL WHERE clause (over table alias ``t``) and its parameters."""
        clauses: list[str] = []
        params: list[Any] = []
        if spatial is not None:
            ids = self.spatial_fids_sql(info, spatial)
            clauses.append(f"t.{_q(info.fid_column)} IN ({ids[0]})")
            params += ids[1]
        for col, value in (equals or {}).items():
            if col not in info.column_names and col != info.fid_column:
                raise KeyError(col)
            if isinstance(value, (list, tuple, set, frozenset)):
                clauses.append(f"t.{_q(col)} IN (SELECT value FROM json_each(?))")
                params.append(json.dumps(list(value)))
            else:
                clauses.append(f"t.{_q(col)} = ?")
                params.append(value)
        if fids is not None:
            clauses.append(f"t.{_q(info.fid_column)} IN (SELECT value FROM json_each(?))")
            params.append(json.dumps([int(f) for f in fids]))
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def spatial_fids_sql(self, info: LayerInfo, spatial: SpatialFilter) -> tuple[str, list[Any]]:
        """A sub-query selecting the fids of the features intersecting ``spatial``, via the R-tree.

        Features whose envelope is within ``spatial.inner`` are taken from the index alone; the few
        others whose envelope overlaps ``spatial.outer`` are tested exactly against ``spatial.polygon``.
        """
        if info.rtree is None:
            raise InputError(info.path, f"layer '{info.name}' has no spatial index (rtree)")
        xmin, ymin, xmax, ymax = spatial.outer
        conn = self.connection()
        if spatial.polygon is None:
            return (
                f"SELECT id FROM {_q(info.rtree)} WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?",
                [xmax, xmin, ymax, ymin],
            )
        inner = spatial.inner
        if inner is not None:
            ixmin, iymin, ixmax, iymax = inner
            edge_sql = (
                f"SELECT t.{_q(info.fid_column)}, t.{_q(info.geom_column)} FROM {_q(info.name)} AS t "
                f"WHERE t.{_q(info.fid_column)} IN (SELECT id FROM {_q(info.rtree)} "
                "WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ? "
                "AND NOT (minx >= ? AND maxx <= ? AND miny >= ? AND maxy <= ?))"
            )
            edge = conn.execute(edge_sql, [xmax, xmin, ymax, ymin, ixmin, ixmax, iymin, iymax]).fetchall()
        else:
            edge_sql = (
                f"SELECT t.{_q(info.fid_column)}, t.{_q(info.geom_column)} FROM {_q(info.name)} AS t "
                f"WHERE t.{_q(info.fid_column)} IN (SELECT id FROM {_q(info.rtree)} "
                "WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?)"
            )
            edge = conn.execute(edge_sql, [xmax, xmin, ymax, ymin]).fetchall()
        keep: list[int] = []
        if edge:
            geoms = decode_geometries([r[1] for r in edge])
            hit = shapely.intersects(geoms, spatial.polygon)
            keep = [int(r[0]) for r, h in zip(edge, hit, strict=True) if h]
        keep_json = json.dumps(keep)
        if inner is None:
            return "SELECT value FROM json_each(?)", [keep_json]
        ixmin, iymin, ixmax, iymax = inner
        return (
            f"SELECT id FROM {_q(info.rtree)} WHERE minx >= ? AND maxx <= ? AND miny >= ? AND maxy <= ? "
            "UNION ALL SELECT value FROM json_each(?)",
            [ixmin, ixmax, iymin, iymax, keep_json],
        )

    def count(
        self, layer: str, *, spatial: SpatialFilter | None = None, equals: Mapping[str, Any] | None = None,
    ) -> int:
        """Number of features matching the filters."""
        info = self.layer(layer)
        if spatial is None and not equals:
            return info.count
        where, params = self._where(info, spatial, equals, None)
        row = self.connection().execute(f"SELECT COUNT(*) FROM {_q(info.name)} AS t{where}", params).fetchone()
        return int(row[0])

    def read(
        self,
        layer: str,
        *,
        spatial: SpatialFilter | None = None,
        equals: Mapping[str, Any] | None = None,
        fids: Iterable[int] | None = None,
        columns: Sequence[str] | None = None,
        geometry: bool = True,
        limit: int | None = None,
        offset: int = 0,
    ) -> Features:
        """Features of ``layer`` matching all the filters, ordered by fid.

        Parameters
        ----------
        spatial
            Area in the layer's CRS (R-tree candidates, exact test at the edges).
        equals
            Attribute equality filters ``{column: value}`` (a list/tuple value means "in").
        fids
            Only these feature ids.
        columns
            Attributes to return (default all).
        geometry
            Decode and return the geometries (else the ``geometries`` array holds None).
        limit, offset
            Paging.
        """
        info = self.layer(layer)
        cols, select, booleans = self._select(info, None if columns is None else tuple(columns), geometry)
        exact: shapely.Geometry | None = None
        if (spatial is not None and spatial.polygon is not None and spatial.inner is None and geometry
                and limit is None and not offset):
            # a small area (a point): the R-tree candidates are read whole and tested here, one query not two
            exact, spatial = spatial.polygon, SpatialFilter(spatial.outer)
        where, params = self._where(info, spatial, equals, fids)
        sql = f"{select}{where} ORDER BY t.{_q(info.fid_column)}"
        if limit is not None or offset:
            sql += " LIMIT ? OFFSET ?"
            params += [-1 if limit is None else int(limit), int(offset)]
        rows = self.connection().execute(sql, params).fetchall()
        if geometry:
            geoms = decode_geometries([r[-1] for r in rows]) if rows else np.empty(0, dtype=object)
            if exact is not None and rows:
                hit = shapely.intersects(geoms, exact)
                if not hit.all():
                    rows = [r for r, h in zip(rows, hit.tolist(), strict=True) if h]
                    geoms = geoms[hit]
        else:
            geoms = np.full(len(rows), None, dtype=object)
        props = [dict(zip(cols, r[1:], strict=False)) for r in rows]  # strict=False: the geometry ends r
        for c in booleans:
            for p in props:
                if p[c] is not None:
                    p[c] = bool(p[c])
        fid_arr = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        return Features(fid_arr, props, geoms)

    def _select(
        self, info: LayerInfo, columns: tuple[str, ...] | None, geometry: bool,
    ) -> tuple[tuple[str, ...], str, tuple[str, ...]]:
        """(columns, ``SELECT … FROM … AS t``, boolean columns) of a read, prepared once per layer and columns."""
        key = (info.name, columns, geometry)
        plan = self._plans.get(key)
        if plan is None:
            cols = info.column_names if columns is None else columns
            for c in cols:
                info.column(c)  # KeyError for an unknown column
            select = [f"t.{_q(info.fid_column)}"] + [f"t.{_q(c)}" for c in cols]
            if geometry:
                select.append(f"t.{_q(info.geom_column)}")
            booleans = tuple(c for c in cols if info.column(c).kind == "boolean")
            plan = (tuple(cols), f"SELECT {', '.join(select)} FROM {_q(info.name)} AS t", booleans)
            if len(self._plans) < 1024:  # bounded: ad hoc column lists could otherwise grow it
                self._plans[key] = plan
        return plan

    def key_index(self, layer: str, column: str) -> dict[str, int]:
        """``{value: fid}`` of a key column, read once (for lookups by id without a scan per request)."""
        info = self.layer(layer)
        info.column(column)
        rows = self.connection().execute(
            f"SELECT {_q(column)}, {_q(info.fid_column)} FROM {_q(info.name)} WHERE {_q(column)} IS NOT NULL"
        )
        return {str(k): int(f) for k, f in rows}


def _kind(sql_type: str) -> str:
    base = sql_type.split("(")[0].strip()
    if base in _BOOL_TYPES:
        return "boolean"
    if base in _INT_TYPES:
        return "integer"
    if base in _FLOAT_TYPES:
        return "number"
    return "string"
