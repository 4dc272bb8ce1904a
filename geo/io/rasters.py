"""Surface models (IGN LiDAR HD MNS/MNT tiles or any GeoTIFF) and raster outputs.

Reading: find the tiles covering an area, mosaic them, read a window with a halo, with
nodata turned into NaN. Writing: Cloud-Optimized GeoTIFF, atomically. The in-memory types
(:class:`~geo.types.Raster`, :class:`~geo.types.RasterGrid`, :data:`~geo.types.Bounds`) live in
:mod:`geo.types` and are re-exported here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
import xml.etree.ElementTree as ET
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import rasterio.merge
import rasterio.shutil
import rasterio.windows
from affine import Affine
from rasterio.crs import CRS
from rasterio.errors import RasterioError, RasterioIOError
from rasterio.io import MemoryFile

from geo import config
from geo.errors import CRSError, InputError
from geo.io._atomic import atomic_path, atomic_tempdir
from geo.types import Bounds, Raster, RasterGrid

_TILE_RE = re.compile(config.LIDAR_TILE_PATTERN, re.IGNORECASE)
log = logging.getLogger("artois.io")


@dataclass(frozen=True)
class LidarTile:
    """One IGN LiDAR HD tile identified by its file name."""

    path: Path
    kind: str  # "MNS" (surface model, DSM), "MNT" (terrain, DTM) or "MNH" (height)
    x_km: int  # upper-left corner easting [km], Lambert-93
    y_km: int  # upper-left corner northing [km], Lambert-93

    @property
    def bounds(self) -> Bounds:
        """Nominal tile extent (xmin, ymin, xmax, ymax) [m] in Lambert-93."""
        size = config.LIDAR_TILE_SIZE_M
        x0, y1 = self.x_km * 1000.0, self.y_km * 1000.0
        return (x0, y1 - size, x0 + size, y1)


def lidar_tile_name(x_km: int, y_km: int, kind: str) -> str:
    """IGN file name of the tile whose upper-left corner is (x_km, y_km) [km]."""
    return f"LHD_FXX_{x_km:04d}_{y_km:04d}_{kind}_O_0M50_LAMB93_IGN69.tif"


def parse_lidar_tile(path: str | Path) -> LidarTile | None:
    """Identify an IGN LiDAR HD tile from its name; ``None`` for any other file name."""
    path = Path(path)
    match = _TILE_RE.search(path.name)
    if match is None:
        return None
    return LidarTile(path, match["kind"].upper(), int(match["x"]), int(match["y"]))


def find_lidar_tiles(directory: str | Path, kind: str = "MNS", bounds: Bounds | None = None) -> list[Path]:
    """Tiles of ``kind`` ("MNS" or "MNT") under ``directory`` that intersect ``bounds`` [m, Lambert-93].

    Returns them sorted by name. Raises :class:`InputError` when the folder does not exist
    or holds no tile of that kind.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(directory, "folder not found")
    tiles = [t for p in sorted(directory.rglob("*.tif")) if (t := parse_lidar_tile(p)) and t.kind == kind]
    if bounds is not None:
        xmin, ymin, xmax, ymax = bounds
        tiles = [
            t for t in tiles
            if t.bounds[0] < xmax and t.bounds[2] > xmin and t.bounds[1] < ymax and t.bounds[3] > ymin
        ]
    if not tiles:
        where = "" if bounds is None else f" intersecting {tuple(round(b) for b in bounds)}"
        raise InputError(directory, f"no IGN LiDAR HD {kind} tile (LHD_FXX_..._{kind}_...tif){where}")
    return [t.path for t in tiles]


def _check_square_pixels(path: Path, width_m: float, height_m: float) -> None:
    """Accept pixels square within :data:`geo.config.RASTER_SQUARE_PIXEL_TOLERANCE` (saying that they
    are resampled onto square pixels of ``width_m``, as :func:`read_raster` does); refuse the others."""
    diff = abs(width_m - height_m) / width_m
    if diff > config.RASTER_SQUARE_PIXEL_TOLERANCE:
        raise InputError(path, f"pixels of {width_m:g} x {height_m:g} m are not square ({100 * diff:.2f} % apart, "
                               f"more than the {100 * config.RASTER_SQUARE_PIXEL_TOLERANCE:g} % tolerance): "
                               f"resample the raster onto square pixels first (e.g. gdalwarp -tr {width_m:g} {width_m:g})")
    if diff > 1e-9:
        log.info("%s: pixels of %g x %g m are not exactly square (%.3f %% apart, within the %g %% tolerance): "
                 "read on square pixels of %g m (nearest neighbour)", path, width_m, height_m, 100 * diff,
                 100 * config.RASTER_SQUARE_PIXEL_TOLERANCE, width_m)


def _on_square_pixels(ds: rasterio.io.DatasetReader) -> rasterio.io.DatasetReader:
    """``ds``, or a nearest-neighbour view of it on square pixels of its width when its pixels are only
    nearly square (GDAL's warper places every output pixel by its centre: each value moves by at most
    half a source pixel; a plain resampled read drifts further over thousands of rows)."""
    width_m, height_m = abs(ds.transform.a), abs(ds.transform.e)
    if abs(width_m - height_m) <= 1e-9 * width_m:
        return ds
    from rasterio.vrt import WarpedVRT

    rows = int(np.ceil(ds.height * height_m / width_m - 1e-9))
    return WarpedVRT(ds, crs=ds.crs, transform=Affine(width_m, 0.0, ds.transform.c, 0.0, -width_m, ds.transform.f),
                     width=ds.width, height=rows, resampling=rasterio.enums.Resampling.nearest,
                     nodata=ds.nodata)


def _open_checked(path: Path) -> rasterio.io.DatasetReader:
    if not path.exists():
        raise InputError(path, "file not found")
    try:
        ds = rasterio.open(path)
    except RasterioIOError as exc:
        raise InputError(path, f"not a readable raster ({str(exc).splitlines()[0]})") from exc
    try:
        if ds.crs is None:
            raise CRSError(path, "raster has no CRS; a projected CRS in metres is needed (e.g. Lambert-93 EPSG:2154)")
        if not ds.crs.is_projected:
            raise CRSError(path, f"raster CRS {ds.crs.to_string()} is geographic (degrees); a projected CRS in metres is needed")
        if ds.transform.b or ds.transform.d:
            raise InputError(path, "pixels must be north-up (the transform is rotated or sheared)")
        _check_square_pixels(path, abs(ds.transform.a), abs(ds.transform.e))
        # Touch the first block so a truncated file fails here, with its name, not deep in the merge.
        ds.read(1, window=((0, min(1, ds.height)), (0, min(1, ds.width))))
    except (CRSError, InputError):
        ds.close()
        raise
    except RasterioError as exc:
        ds.close()
        raise InputError(path, f"corrupt raster ({str(exc).splitlines()[0]})") from exc
    return ds


def read_raster(
    paths: str | Path | Sequence[str | Path],
    *,
    bounds: Bounds | None = None,
    halo_m: float = 0.0,
    cache: bool = False,
) -> Raster:
    """Read and mosaic one or more single-band GeoTIFFs (e.g. LiDAR HD tiles).

    Parameters
    ----------
    paths
        One file or several adjacent tiles sharing a CRS and a pixel size.
    bounds
        Area to read (xmin, ymin, xmax, ymax) [m] in the rasters' CRS; default their union.
    halo_m
        Margin [m] added around ``bounds`` (e.g. the horizon search distance), read where data
        exists and NaN beyond.
    cache
        Keep the files read over most of their pixels decoded in this process (a small LRU, see
        :data:`geo.config.RASTER_DECODED_CACHE_MB`, keyed by path, size and modification time), for
        overlapping reads such as the haloed DSM of neighbouring irradiance tiles. Same values.

    Returns
    -------
    Raster
        float32 values with NaN for nodata, its transform and CRS.
    """
    path_list = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    paths = path_list
    if not paths:
        raise InputError(None, "no raster file given")
    opened = [_open_checked(p) for p in paths]
    datasets = [_on_square_pixels(ds) for ds in opened]
    try:
        crs0, res0 = datasets[0].crs, abs(datasets[0].transform.a)
        for p, ds in zip(paths[1:], datasets[1:], strict=True):
            if ds.crs != crs0:
                raise CRSError(p, f"CRS {ds.crs.to_string()} differs from {paths[0].name} ({crs0.to_string()})")
            if abs(abs(ds.transform.a) - res0) > 1e-9:
                raise InputError(p, f"pixel size {abs(ds.transform.a)} m differs from {paths[0].name} ({res0} m)")
        if bounds is None:
            bounds = _union_bounds(ds.bounds for ds in datasets)
        xmin, ymin, xmax, ymax = bounds
        if not (xmax > xmin and ymax > ymin):
            raise InputError(None, f"empty area {bounds}")
        read_bounds = (xmin - halo_m, ymin - halo_m, xmax + halo_m, ymax + halo_m)
        # Snap to the pixel grid of the first raster so mosaics of tiles line up exactly.
        gt = datasets[0].transform
        x0 = gt.c + np.floor((read_bounds[0] - gt.c) / res0 + 1e-9) * res0
        y1 = gt.f - np.floor((gt.f - read_bounds[3]) / res0 + 1e-9) * res0
        x1 = gt.c + np.ceil((read_bounds[2] - gt.c) / res0 - 1e-9) * res0
        y0 = gt.f - np.ceil((gt.f - read_bounds[1]) / res0 - 1e-9) * res0
        try:
            aligned = _mosaic_on_grid(datasets, (x0, y0, x1, y1), res0, cache=cache)
            if aligned is not None:
                out, transform = aligned
            else:
                data, transform = rasterio.merge.merge(
                    datasets, bounds=(x0, y0, x1, y1), res=res0, nodata=np.nan, dtype="float32", indexes=[1],
                    resampling=rasterio.enums.Resampling.nearest,
                )
                out = data[0].astype(np.float32, copy=False)
        except RasterioError as exc:
            raise InputError(paths[0], f"cannot mosaic ({str(exc).splitlines()[0]})") from exc
        # Nodata declared in the files -> NaN (merge only masks it), each value once.
        for nd in dict.fromkeys(np.float32(ds.nodata) for ds in datasets
                                if ds.nodata is not None and not np.isnan(ds.nodata)):
            out[out == nd] = np.nan
        return Raster(out, transform, crs0, tuple(str(p) for p in paths))
    finally:
        for ds in [*datasets, *opened]:
            ds.close()


class _DecodedCache:
    """Whole decoded band-1 files (values, nodata mask or None), least recently used dropped first
    beyond ``max_bytes``; keyed by (path, size, mtime) so a rewritten file is decoded again."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[str, int, int], tuple[np.ndarray, np.ndarray | None]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    @staticmethod
    def _key(ds: rasterio.io.DatasetReader) -> tuple[str, int, int] | None:
        try:
            st = os.stat(ds.name)
        except OSError:  # not a local file (e.g. /vsicurl/): not cached
            return None
        return (os.path.realpath(ds.name), st.st_size, st.st_mtime_ns)

    def get(self, ds: rasterio.io.DatasetReader, max_bytes: int) -> tuple[np.ndarray, np.ndarray | None] | None:
        """The whole decoded file, from the cache or read now (and kept); None for a file not cached."""
        key = self._key(ds)
        if key is None:
            return None
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return item
        data = ds.read(1, masked=True)
        values = np.ma.getdata(data)
        mask = np.ma.getmaskarray(data) if np.ma.is_masked(data) else None
        values.flags.writeable = False
        if mask is not None:
            mask.flags.writeable = False
        item = (values, mask)
        size = values.nbytes + (mask.nbytes if mask is not None else 0)
        with self._lock:
            self.misses += 1
            if size <= max_bytes:
                self._items[key] = item
                self._items.move_to_end(key)
                while sum(v.nbytes + (m.nbytes if m is not None else 0) for v, m in self._items.values()) > max_bytes:
                    self._items.popitem(last=False)
        return item

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0


_DECODED = _DecodedCache()


def clear_decoded_cache() -> None:
    """Drop the files kept decoded by ``read_raster(..., cache=True)`` in this process."""
    _DECODED.clear()


def _mosaic_on_grid(datasets: Sequence[rasterio.io.DatasetReader], bounds: Bounds,
                    res: float, *, cache: bool = False) -> tuple[np.ndarray, Affine] | None:
    """What ``rasterio.merge.merge(datasets, bounds=bounds, res=res, nodata=NaN, dtype="float32", indexes=[1])``
    returns (band 1; the first file with data wins, its nodata mask as GDAL gives it), for float32 files
    whose pixels lie exactly on the output grid: each file's window is read once, straight into the
    output (no resampling, no temporaries of the output's size). None when a file is not such a file.
    """
    x0, y0, x1, y1 = bounds
    width, height = int(round((x1 - x0) / res)), int(round((y1 - y0) / res))
    transform = Affine.translation(x0, y1) @ Affine.scale(res, -res)
    parts = []
    for ds in datasets:
        t = ds.transform
        if type(ds) is not rasterio.io.DatasetReader or ds.dtypes[0] != "float32" or t.a != res or t.e != -res:
            return None
        fc, fr = (t.c - x0) / res, (y1 - t.f) / res
        c, r = int(round(fc)), int(round(fr))
        if abs(fc - c) > 1e-6 or abs(fr - r) > 1e-6:
            return None
        oc0, or0 = max(c, 0), max(r, 0)
        oc1, or1 = min(c + ds.width, width), min(r + ds.height, height)
        if oc1 > oc0 and or1 > or0:
            parts.append((ds, or0, or1, oc0, oc1, r, c))
    out = np.full((height, width), np.nan, dtype=np.float32)
    max_bytes = config.RASTER_DECODED_CACHE_MB * 1_000_000 if cache else 0
    for ds, or0, or1, oc0, oc1, r, c in parts:
        region = out[or0:or1, oc0:oc1]
        take = np.isnan(region)
        cached = (_DECODED.get(ds, max_bytes) if max_bytes and region.size >=
                  config.RASTER_DECODED_CACHE_MIN_FRACTION * ds.width * ds.height else None)
        if cached is not None:
            # Slices of the whole decoded file: the values and mask a windowed read gives.
            whole, whole_mask = cached
            src = (slice(or0 - r, or1 - r), slice(oc0 - c, oc1 - c))
            values = whole[src]
            if whole_mask is not None:
                take &= ~whole_mask[src]
        else:
            data = ds.read(1, window=rasterio.windows.Window(oc0 - c, or0 - r, oc1 - oc0, or1 - or0), masked=True)
            take &= ~np.ma.getmaskarray(data)
            values = np.ma.getdata(data)
        np.copyto(region, values, where=take)
    return out, transform


def _union_bounds(bounds: Iterable[Sequence[float]]) -> Bounds:
    arr = np.array([tuple(b) for b in bounds], dtype=float)
    return (float(arr[:, 0].min()), float(arr[:, 1].min()), float(arr[:, 2].max()), float(arr[:, 3].max()))


def read_grid(paths: str | Path | Sequence[str | Path]) -> RasterGrid:
    """Grid, CRS and file extents of a mosaic of single-band GeoTIFFs, from their headers only.

    The files are checked as by :func:`read_raster` (existence, projected CRS in metres, square
    north-up pixels, one CRS and one pixel size), so a bad file fails here with its name.
    Memory does not depend on the rasters' size: a whole territory's tiles can be listed.
    """
    path_list = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    if not path_list:
        raise InputError(None, "no raster file given")
    files: list[tuple[Path, Bounds]] = []
    crs0: CRS | None = None
    gt0: Affine | None = None
    for p in path_list:
        ds = _open_checked(p)
        with ds:
            if crs0 is None or gt0 is None:
                crs0, gt0 = ds.crs, ds.transform
            elif ds.crs != crs0:
                raise CRSError(p, f"CRS {ds.crs.to_string()} differs from {path_list[0].name} ({crs0.to_string()})")
            elif abs(abs(ds.transform.a) - abs(gt0.a)) > 1e-9:
                raise InputError(p, f"pixel size {abs(ds.transform.a)} m differs from {path_list[0].name} "
                                    f"({abs(gt0.a)} m)")
            files.append((p, (float(ds.bounds.left), float(ds.bounds.bottom), float(ds.bounds.right),
                              float(ds.bounds.top))))
    assert crs0 is not None and gt0 is not None
    res0 = abs(gt0.a)
    xmin, ymin, xmax, ymax = _union_bounds(b for _, b in files)
    # The same snapping as read_raster: on the first file's pixel grid.
    x0 = gt0.c + np.floor((xmin - gt0.c) / res0 + 1e-9) * res0
    y1 = gt0.f - np.floor((gt0.f - ymax) / res0 + 1e-9) * res0
    x1 = gt0.c + np.ceil((xmax - gt0.c) / res0 - 1e-9) * res0
    y0 = gt0.f - np.ceil((gt0.f - ymin) / res0 - 1e-9) * res0
    shape = (int(round((y1 - y0) / res0)), int(round((x1 - x0) / res0)))
    return RasterGrid(Affine(res0, 0.0, float(x0), 0.0, -res0, float(y1)), crs0, shape, tuple(files))


def write_geotiff(
    path: str | Path,
    data: np.ndarray,
    *,
    transform: Affine,
    crs: CRS | str,
    nodata: float | None = None,
    descriptions: Sequence[str] | None = None,
    tags: Mapping[str, str] | None = None,
    band_tags: Sequence[Mapping[str, str]] | None = None,
    scales: Sequence[float] | None = None,
    offsets: Sequence[float] | None = None,
    cog: bool = False,
    overviews: bool = True,
    compress: str = "DEFLATE",
    overview_factors: Sequence[int] | None = None,
    level: int | None = None,
    block: int = 512,
) -> Path:
    """Write a 2-D (one band) or 3-D (bands, rows, cols) array to a GeoTIFF, atomically.

    With ``cog=True`` the file is a Cloud-Optimized GeoTIFF: 512 px internal tiles, internal
    overviews (average, down to < 512 px) unless ``overviews=False``, IFDs first, and
    **band-interleaved** so that a tiler reading one band of a multi-band raster decompresses
    only that band (GDAL's COG driver before 3.11 only writes pixel interleave, hence the GTiff
    driver with ``COPY_SRC_OVERVIEWS``, the classic COG recipe). NaN values are written as
    ``nodata`` when one is given. ``scales``/``offsets`` (one per band) are the GeoTIFF's band
    scale and offset: physical value = stored × scale + offset (GDAL, QGIS and
    :func:`read_bands_on_grid` apply them). ``overview_factors`` overrides the default overview
    levels (e.g. the same levels for every tile of a mosaic, whatever its size); ``level`` is the
    compression level (DEFLATE 1–12, ZSTD 1–22; None = GDAL's default); ``block`` the COG's internal tile side.
    """
    path = Path(path)
    arr = np.asarray(data)
    if arr.ndim == 2:
        arr = arr[np.newaxis]
    if arr.ndim != 3:
        raise ValueError(f"expected a 2-D or 3-D array, got shape {arr.shape}")
    if nodata is not None and np.issubdtype(arr.dtype, np.floating) and not np.isnan(nodata):
        arr = np.where(np.isnan(arr), np.asarray(nodata, dtype=arr.dtype), arr)
    count, height, width = arr.shape
    profile = {
        "driver": "GTiff", "height": height, "width": width, "count": count, "dtype": arr.dtype.name,
        "crs": CRS.from_user_input(crs), "transform": transform, "nodata": nodata,
    }
    with MemoryFile() as mem:
        with mem.open(**profile) as dst:
            dst.write(arr)
            _set_metadata(dst, descriptions, tags, band_tags, scales, offsets)
            if cog and overviews:
                factors = (list(overview_factors) if overview_factors is not None
                           else _overview_factors(height, width, block=512))
                if factors:
                    dst.build_overviews(factors, rasterio.enums.Resampling.average)
        with mem.open() as src, atomic_path(path) as tmp:
            if cog:
                _copy_as_cog(src, tmp, compress=compress, level=level, block=block)
            else:
                rasterio.shutil.copy(
                    src, tmp, driver="GTiff", COMPRESS=compress, TILED="YES", BLOCKXSIZE=256, BLOCKYSIZE=256,
                )
    return path


def _predictor(dtype: str, compress: str) -> int:
    if compress.upper() not in ("DEFLATE", "LZW", "ZSTD"):
        return 1
    return 3 if np.issubdtype(np.dtype(dtype), np.floating) else 2


def _level_option(compress: str, level: int | None) -> dict[str, int]:
    """The GTiff creation option of a compression level (none for the default)."""
    if level is None:
        return {}
    return {"ZSTD_LEVEL": level} if compress.upper() == "ZSTD" else {"ZLEVEL": level}


def _copy_as_cog(src: rasterio.io.DatasetReader, dst_path: Path, *, compress: str, level: int | None = None,
                 block: int = 512) -> None:
    """Copy an open dataset (with its overviews, if any) to ``dst_path`` in the COG layout.

    ``block`` px (default 512) tiles, band-interleaved, overviews copied after the full resolution with the IFDs
    first (``COPY_SRC_OVERVIEWS``); descriptions, dataset and band tags and nodata are kept.
    GDAL copies block by block: memory does not depend on the raster's size.
    """
    rasterio.shutil.copy(
        src, dst_path, driver="GTiff", COMPRESS=compress, TILED="YES", BLOCKXSIZE=block, BLOCKYSIZE=block,
        INTERLEAVE="BAND", COPY_SRC_OVERVIEWS="YES", BIGTIFF="IF_SAFER",
        PREDICTOR=_predictor(src.dtypes[0], compress), **_level_option(compress, level),
    )


def to_cog(src_path: str | Path, dst_path: str | Path, *, overviews: bool = True, compress: str = "DEFLATE") -> Path:
    """Convert an existing GeoTIFF into the Cloud-Optimized layout of ``write_geotiff(cog=True)``.

    Streaming (GDAL works block by block) and atomic: ``dst_path`` appears only once complete.
    The overviews (average, down to < 512 px) are built on a temporary VRT of ``src_path``
    (an external ``.ovr``), so ``src_path`` itself is never modified; band descriptions,
    dataset and band tags and nodata are carried over.
    """
    src_path, dst_path = Path(src_path), Path(dst_path)
    with rasterio.open(src_path) as src:
        height, width, dtype = src.height, src.width, src.dtypes[0]
    dst_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_tempdir(dst_path) as tmpdir:
        vrt = tmpdir / "source.vrt"
        rasterio.shutil.copy(src_path, vrt, driver="VRT")
        factors = _overview_factors(height, width, block=512) if overviews else []
        if factors:
            with rasterio.Env(COMPRESS_OVERVIEW=compress, PREDICTOR_OVERVIEW=_predictor(dtype, compress),
                              INTERLEAVE_OVERVIEW="BAND", BIGTIFF_OVERVIEW="IF_SAFER"), \
                    rasterio.open(vrt, "r+") as ds:
                ds.build_overviews(factors, rasterio.enums.Resampling.average)
        with rasterio.open(vrt) as src, atomic_path(dst_path) as tmp:
            _copy_as_cog(src, tmp, compress=compress)
    return dst_path


class WindowWriter:
    """A GeoTIFF open for writing, filled window by window (see :func:`cog_writer`)."""

    def __init__(self, dataset: rasterio.io.DatasetWriter, nodata: float | None) -> None:
        self._ds = dataset
        self._nodata = nodata

    def write(self, data: np.ndarray, row_off: int, col_off: int) -> None:
        """Write ``data`` (bands, rows, cols) with its upper-left pixel at (``row_off``, ``col_off``).

        NaN values are written as the nodata value.
        """
        arr = np.asarray(data, dtype=self._ds.dtypes[0])
        if arr.ndim == 2:
            arr = arr[np.newaxis]
        if self._nodata is not None and np.issubdtype(arr.dtype, np.floating) and not np.isnan(self._nodata):
            arr = np.where(np.isnan(arr), np.asarray(self._nodata, dtype=arr.dtype), arr)
        window = rasterio.windows.Window(col_off, row_off, arr.shape[2], arr.shape[1])
        self._ds.write(arr, window=window)


def read_values(path: str | Path) -> np.ndarray:
    """Every band of one GeoTIFF as physical values: float32 (bands, rows, cols), the bands' scales and
    offsets applied, NaN for nodata."""
    with rasterio.open(path) as src:
        return _physical(src, src.read(out_dtype="float32"))


def _physical(ds: rasterio.io.DatasetReader, data: np.ndarray) -> np.ndarray:
    """Stored values read as float32 (bands 1…len(data)) → physical: nodata → NaN, then × scale + offset."""
    if ds.nodata is not None and np.isfinite(ds.nodata):
        data[data == np.float32(ds.nodata)] = np.nan
    n = len(data)
    scales, offsets = ds.scales[:n], ds.offsets[:n]
    if any(s != 1.0 for s in scales) or any(o != 0.0 for o in offsets):
        # float64 arithmetic, then float32: the stored integer times the scale, correctly rounded
        scaled = data * np.asarray(scales, dtype=np.float64)[:, None, None]
        scaled += np.asarray(offsets, dtype=np.float64)[:, None, None]
        data = scaled.astype(np.float32)
    return data


@contextlib.contextmanager
def cog_writer(
    path: str | Path,
    *,
    count: int,
    shape: tuple[int, int],
    transform: Affine,
    crs: CRS | str,
    nodata: float | None = None,
    dtype: str = "float32",
    descriptions: Sequence[str] | None = None,
    tags: Mapping[str, str] | None = None,
    band_tags: Sequence[Mapping[str, str]] | None = None,
    scales: Sequence[float] | None = None,
    offsets: Sequence[float] | None = None,
    block: int = 512,
    compress: str = "DEFLATE",
) -> Iterator[WindowWriter]:
    """Write a large raster window by window, then turn it into a COG, atomically.

    Yields a :class:`WindowWriter` on a temporary tiled, band-interleaved, sparse GeoTIFF
    beside ``path`` (``block``-px tiles: choose a divisor of the windows' size so that no tile is
    written twice); windows never written read as ``nodata``. On a clean exit the file becomes
    the Cloud-Optimized GeoTIFF ``path`` (:func:`to_cog`); on an error nothing is written and
    ``path`` is left untouched. Memory is one window plus GDAL's block cache, whatever the size.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "GTiff", "height": shape[0], "width": shape[1], "count": count, "dtype": dtype,
        "crs": CRS.from_user_input(crs), "transform": transform, "nodata": nodata,
        "tiled": True, "blockxsize": block, "blockysize": block, "interleave": "band",
        "compress": compress, "predictor": _predictor(dtype, compress), "zlevel": 1, "sparse_ok": True,
        "bigtiff": "IF_SAFER",
    }
    with atomic_tempdir(path) as tmpdir:
        tmp = tmpdir / "stream.tif"
        with rasterio.open(tmp, "w", **profile) as dst:
            _set_metadata(dst, descriptions, tags, band_tags, scales, offsets)
            yield WindowWriter(dst, nodata)
        to_cog(tmp, path, compress=compress)


def _set_metadata(
    dst: rasterio.io.DatasetWriter,
    descriptions: Sequence[str] | None,
    tags: Mapping[str, str] | None,
    band_tags: Sequence[Mapping[str, str]] | None,
    scales: Sequence[float] | None = None,
    offsets: Sequence[float] | None = None,
) -> None:
    """Band descriptions, dataset tags, per-band tags and scales/offsets of a raster being written."""
    for i, d in enumerate(descriptions or (), start=1):
        dst.set_band_description(i, d)
    if tags:
        dst.update_tags(**{k: str(v) for k, v in tags.items()})
    for i, bt in enumerate(band_tags or (), start=1):
        dst.update_tags(i, **{k: str(v) for k, v in bt.items()})
    if scales is not None:
        dst.scales = tuple(float(v) for v in scales)
    if offsets is not None:
        dst.offsets = tuple(float(v) for v in offsets)


def _overview_factors(height: int, width: int, *, block: int) -> list[int]:
    """Overview decimation factors 2, 4, 8, … until the smallest level fits in one block."""
    factors, f = [], 2
    while max(height, width) / (f // 2) > block:
        factors.append(f)
        f *= 2
    return factors


# ---------------------------------------------------------------------------
# Multi-band products read on another raster's grid
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RasterHeader:
    """What a raster file says about itself, without reading a pixel."""

    path: Path
    crs: CRS | None
    transform: Affine
    shape: tuple[int, int]  # (rows, cols)
    count: int  # bands
    nodata: float | None
    tags: dict[str, str]  # dataset tags
    descriptions: tuple[str | None, ...]  # band descriptions


def read_header(path: str | Path, *, missing: str = "file not found") -> RasterHeader:
    """The header of a raster file; :class:`InputError` (``missing`` as the message) when absent or unreadable."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, missing)
    try:
        with rasterio.open(path) as ds:
            return RasterHeader(path, ds.crs, ds.transform, (ds.height, ds.width), ds.count, ds.nodata,
                                {str(k): str(v) for k, v in ds.tags().items()}, tuple(ds.descriptions))
    except RasterioIOError as exc:
        raise InputError(path, f"not a readable raster ({str(exc).splitlines()[0]})") from exc


def read_layout(path: str | Path) -> dict[str, object]:
    """How a raster file stores its bands: ``count``, ``dtype`` (of band 1), ``nodata``, ``scales``,
    ``offsets``, ``descriptions`` (tuples, one per band) and ``overviews`` (band 1's decimation factors)."""
    with rasterio.open(path) as ds:
        return {"count": ds.count, "dtype": ds.dtypes[0], "nodata": ds.nodata, "scales": tuple(ds.scales),
                "offsets": tuple(ds.offsets), "descriptions": tuple(ds.descriptions), "overviews": ds.overviews(1)}


@contextlib.contextmanager
def _open_on_lattice(path: Path, bands: int, crs: CRS, res_m: float,
                     missing: str) -> Iterator[rasterio.io.DatasetReader]:
    """The raster at ``path``, opened once (a mosaic VRT of the Pôle's 1,100 tiles takes ~0.2 s to open);
    :class:`InputError` (``missing`` as the message when absent) / :class:`CRSError` unless it has ``bands``
    bands or more, the CRS ``crs`` and pixels of ``res_m`` [m] (:func:`read_bands_on_grid`,
    :func:`read_bands_at`)."""
    if not path.exists():
        raise InputError(path, missing)
    try:
        ds = rasterio.open(path)
    except RasterioIOError as exc:
        raise InputError(path, f"not a readable raster ({str(exc).splitlines()[0]})") from exc
    with ds:
        if ds.count < bands:
            raise InputError(path, f"{ds.count} band(s); {bands} expected")
        if ds.crs is None or ds.crs != crs:
            raise CRSError(path, f"CRS {ds.crs.to_string() if ds.crs else 'none'} differs from the DSM's "
                                 f"({CRS.from_user_input(crs).to_string()})")
        if abs(abs(ds.transform.a) - res_m) > 1e-6:
            raise InputError(path, f"pixel size {abs(ds.transform.a)} m differs from the DSM's ({res_m} m)")
        yield ds


def _grid_offset(ds: rasterio.io.DatasetReader, transform: Affine) -> tuple[int, int]:
    """(row, col) in the file's pixels of the upper-left pixel of the grid ``transform`` (same pixel size)."""
    res = abs(transform.a)
    return int(round((ds.transform.f - transform.f) / res)), int(round((transform.c - ds.transform.c) / res))


def _read_stored(path: Path, ds: rasterio.io.DatasetReader, bands: int, window: rasterio.windows.Window,
                 small_ints: bool) -> np.ndarray:
    try:
        return ds.read(list(range(1, bands + 1)), window=window, out_dtype=None if small_ints else "float32")
    except RasterioError as exc:
        raise InputError(path, f"corrupt raster ({str(exc).splitlines()[0]})") from exc


def read_bands_on_grid(path: str | Path, bands: int, *, crs: CRS, transform: Affine,
                       shape: tuple[int, int], missing: str = "file not found") -> np.ndarray:
    """Bands 1…``bands`` of a raster over the grid (``crs``, north-up ``transform``, ``shape``) of another.

    The file must have that CRS and pixel size and lie on the same pixel lattice (its window is
    rounded to whole pixels). Returns physical values (the bands' scales and offsets applied), float32
    (bands, rows, cols), NaN for nodata and outside the file.

    Raises
    ------
    InputError
        Missing (``missing`` as the message), unreadable or corrupt file, fewer bands, another CRS or pixel
        size.
    """
    path = Path(path)
    rows, cols = shape
    with _open_on_lattice(path, bands, crs, abs(transform.a), missing) as ds:
        row0, col0 = _grid_offset(ds, transform)
        # the part of the grid inside the file; the rest stays NaN
        r_lo, r_hi = max(row0, 0), min(row0 + rows, ds.height)
        c_lo, c_hi = max(col0, 0), min(col0 + cols, ds.width)
        data = np.full((bands, rows, cols), np.nan, dtype=np.float32)
        if r_lo < r_hi and c_lo < c_hi:
            win = rasterio.windows.Window(c_lo, r_lo, c_hi - c_lo, r_hi - r_lo)
            small_ints = all(t in ("uint8", "uint16") for t in ds.dtypes[:bands])
            part = _read_stored(path, ds, bands, win, small_ints)
            dst = data[:, r_lo - row0:r_hi - row0, c_lo - col0:c_hi - col0]
            if small_ints:  # one table look-up per pixel instead of float64 arithmetic: the same values
                for b, table in enumerate(_physical_tables(ds, bands)):
                    np.take(table, part[b], out=dst[b])
            else:
                dst[...] = _physical(ds, part)
    return data


def read_bands_at(path: str | Path, bands: int, *, crs: CRS, transform: Affine, rows: np.ndarray,
                  cols: np.ndarray, block_px: int = 512, missing: str = "file not found") -> np.ndarray:
    """Bands 1…``bands`` of a raster at some pixels (``rows``, ``cols``) of the grid (``crs``, north-up
    ``transform``) of another: :func:`read_bands_on_grid`'s values at those pixels, without reading the rest.

    The file is read by blocks of ``block_px`` × ``block_px`` of its pixels (best its own block size: each
    read then decodes whole blocks once), only those holding some of the pixels asked (roofs are a small part
    of a town's area), each over the bounding box of its pixels.

    Returns
    -------
    ndarray
        float32 (bands, len(rows)): physical values (the bands' scales and offsets applied), NaN for
        nodata and outside the file.

    Raises
    ------
    InputError
        As :func:`read_bands_on_grid`.
    """
    path = Path(path)
    if block_px < 1:
        raise ValueError(f"block_px must be >= 1, got {block_px}")
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    out = np.full((bands, rows.size), np.nan, dtype=np.float32)
    with _open_on_lattice(path, bands, crs, abs(transform.a), missing) as ds:
        row0, col0 = _grid_offset(ds, transform)
        fr, fc = rows + row0, cols + col0  # in the file's pixels
        inside = np.flatnonzero((fr >= 0) & (fr < ds.height) & (fc >= 0) & (fc < ds.width))
        if inside.size == 0:
            return out
        block = (fr[inside] // block_px) * (ds.width // block_px + 1) + fc[inside] // block_px
        order = np.argsort(block, kind="stable")
        _, starts = np.unique(block[order], return_index=True)
        small_ints = all(t in ("uint8", "uint16") for t in ds.dtypes[:bands])
        tables = _physical_tables(ds, bands) if small_ints else None
        for sel in np.split(inside[order], starts[1:]):
            r, c = fr[sel], fc[sel]
            r_lo, c_lo = int(r.min()), int(c.min())
            win = rasterio.windows.Window(c_lo, r_lo, int(c.max()) - c_lo + 1, int(r.max()) - r_lo + 1)
            part = _read_stored(path, ds, bands, win, small_ints)[:, r - r_lo, c - c_lo]  # (bands, pixels)
            if tables is not None:
                for b in range(bands):
                    out[b, sel] = tables[b][part[b]]
            else:
                out[:, sel] = _physical(ds, part[:, None, :])[:, 0, :]
    return out


def _physical_tables(ds: rasterio.io.DatasetReader, bands: int) -> np.ndarray:
    """For bands 1…``bands`` of 8- or 16-bit unsigned integers: the physical value (float32) of every
    stored value, as :func:`_physical` computes it, (bands, 2**bits)."""
    n = 1 << (8 * max(np.dtype(t).itemsize for t in ds.dtypes[:bands]))
    stored = np.broadcast_to(np.arange(n, dtype=np.float32), (bands, 1, n)).copy()
    return _physical(ds, stored)[:, 0, :]


# ---------------------------------------------------------------------------
# VRT mosaics of tile files
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MosaicSource:
    """One tile file of a VRT mosaic and where it goes in the mosaic's pixels."""

    path: Path
    row_off: int
    col_off: int
    rows: int
    cols: int


_VRT_TYPES = {"uint8": "Byte", "uint16": "UInt16", "int16": "Int16", "uint32": "UInt32", "int32": "Int32",
              "float32": "Float32", "float64": "Float64"}


def write_vrt_mosaic(
    path: str | Path,
    sources: Sequence[MosaicSource],
    *,
    shape: tuple[int, int],
    transform: Affine,
    crs: CRS | str,
    count: int,
    dtype: str,
    nodata: float | None = None,
    descriptions: Sequence[str] | None = None,
    tags: Mapping[str, str] | None = None,
    band_tags: Sequence[Mapping[str, str]] | None = None,
    scales: Sequence[float] | None = None,
    offsets: Sequence[float] | None = None,
    block: int = 512,
    overviews: Sequence[tuple[int, Path]] = (),
) -> list[Path]:
    """Write a GDAL VRT mosaic of non-overlapping tile files (same CRS, pixel size, bands, type), atomically.

    Each band lists one ``SimpleSource`` per tile, its file named relative to the VRT; pixels no source
    covers read as ``nodata``. GDAL (3.10) shows no overview of a VRT of several sources, so each
    ``(factor, file)`` of ``overviews`` is written as a VRT of the tiles' own overview of that factor
    (opened with ``OVERVIEW_LEVEL``: every tile must have these overview levels, in this order, and
    its offsets must be multiples of the factors), which the mosaic's bands name as their overviews.
    The text depends only on the arguments (no time stamp, sources in the given order), so two builds
    of the same tiles write the same bytes. The overview files are written first, the mosaic last;
    returns them all, the mosaic first.
    """
    path = Path(path)
    written = []
    for level, (factor, ov_path) in enumerate(overviews):
        bad = [s for s in sources if s.row_off % factor or s.col_off % factor]
        if bad:
            raise ValueError(f"{bad[0].path}: offset not a multiple of the overview factor {factor}")
        ov_sources = [MosaicSource(s.path, s.row_off // factor, s.col_off // factor, -(-s.rows // factor),
                                   -(-s.cols // factor)) for s in sources]
        xml = _vrt_xml(Path(ov_path), ov_sources, shape=(-(-shape[0] // factor), -(-shape[1] // factor)),
                       transform=transform @ Affine.scale(factor), crs=crs, count=count, dtype=dtype,
                       nodata=nodata, block=block, open_options={"OVERVIEW_LEVEL": str(level)})
        with atomic_path(ov_path) as tmp:
            tmp.write_bytes(xml)
        written.append(Path(ov_path))
    xml = _vrt_xml(path, sources, shape=shape, transform=transform, crs=crs, count=count, dtype=dtype,
                   nodata=nodata, descriptions=descriptions, tags=tags, band_tags=band_tags, scales=scales,
                   offsets=offsets, block=block, overview_files=written)
    with atomic_path(path) as tmp:
        tmp.write_bytes(xml)
    return [path, *written]


def _vrt_xml(path: Path, sources: Sequence[MosaicSource], *, shape: tuple[int, int], transform: Affine,
             crs: CRS | str, count: int, dtype: str, nodata: float | None = None,
             descriptions: Sequence[str] | None = None, tags: Mapping[str, str] | None = None,
             band_tags: Sequence[Mapping[str, str]] | None = None, scales: Sequence[float] | None = None,
             offsets: Sequence[float] | None = None, block: int = 512, open_options: Mapping[str, str] | None = None,
             overview_files: Sequence[Path] = ()) -> bytes:
    """The text of the VRT ``path`` (see :func:`write_vrt_mosaic`)."""

    def relative(p: Path) -> str:
        return Path(os.path.relpath(Path(p).absolute(), path.parent.absolute())).as_posix()

    def metadata(parent: ET.Element, items: Mapping[str, str] | None) -> None:
        if items:
            md = ET.SubElement(parent, "Metadata")
            for k, v in items.items():
                ET.SubElement(md, "MDI", key=str(k)).text = str(v)

    rows, cols = shape
    root = ET.Element("VRTDataset", rasterXSize=str(cols), rasterYSize=str(rows))
    ET.SubElement(root, "SRS").text = CRS.from_user_input(crs).to_wkt()
    t = transform
    ET.SubElement(root, "GeoTransform").text = ", ".join(repr(float(v)) for v in (t.c, t.a, t.b, t.f, t.d, t.e))
    metadata(root, tags)
    vrt_type = _VRT_TYPES[np.dtype(dtype).name]
    names = [relative(s.path) for s in sources]
    for b in range(1, count + 1):
        band = ET.SubElement(root, "VRTRasterBand", dataType=vrt_type, band=str(b),
                             blockXSize=str(block), blockYSize=str(block))
        if descriptions is not None:
            ET.SubElement(band, "Description").text = descriptions[b - 1]
        metadata(band, band_tags[b - 1] if band_tags is not None else None)
        if nodata is not None:
            ET.SubElement(band, "NoDataValue").text = repr(float(nodata))
        if offsets is not None:
            ET.SubElement(band, "Offset").text = repr(float(offsets[b - 1]))
        if scales is not None:
            ET.SubElement(band, "Scale").text = repr(float(scales[b - 1]))
        for ov in overview_files:
            el = ET.SubElement(band, "Overview")
            ET.SubElement(el, "SourceFilename", relativeToVRT="1").text = relative(ov)
            ET.SubElement(el, "SourceBand").text = str(b)
        for s, name in zip(sources, names, strict=True):
            src = ET.SubElement(band, "SimpleSource")
            ET.SubElement(src, "SourceFilename", relativeToVRT="1").text = name
            if open_options:
                oo = ET.SubElement(src, "OpenOptions")
                for k, v in open_options.items():
                    ET.SubElement(oo, "OOI", key=k).text = v
            ET.SubElement(src, "SourceBand").text = str(b)
            size = {"xSize": str(s.cols), "ySize": str(s.rows)}
            ET.SubElement(src, "SrcRect", {"xOff": "0", "yOff": "0", **size})
            ET.SubElement(src, "DstRect", {"xOff": str(s.col_off), "yOff": str(s.row_off), **size})
    ET.indent(root, space=" ")
    return ET.tostring(root, encoding="utf-8") + b"\n"


def vrt_sources(path: str | Path) -> list[Path]:
    """The files a VRT reads (each once, in order); [] for any other raster file."""

    path = Path(path)
    with open(path, "rb") as fh:
        if not fh.read(64).lstrip().startswith(b"<VRTDataset"):
            return []
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise InputError(path, f"not a readable VRT ({exc})") from exc
    seen: dict[Path, None] = {}
    for el in root.iter("SourceFilename"):
        name = el.text or ""
        seen[(path.parent / name) if el.get("relativeToVRT") == "1" else Path(name)] = None
    return list(seen)
