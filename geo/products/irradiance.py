"""``irradiance.vrt``: the irradiation raster of the ``irradiance`` stage, its bands, tags, readers and writers.

In a build folder the raster is a mosaic of 1 km tiles: one Cloud-Optimized GeoTIFF per tile under
``irradiance/`` (:data:`TILE_FOLDER`, written by the tile's worker: its own overviews, encoding and tags)
and the GDAL VRT ``irradiance.vrt`` (:data:`FILE`, :func:`write_mosaic`) over them, with the same band
descriptions, scales, offsets, nodata and dataset tags; tiles with no pixel to compute have no file and
read as nodata. Every tile has the same overview levels (:func:`overview_factors`), so GDAL, rasterio
and rio-tiler see them as the mosaic's own. ``artois solar irradiance --out X.tif`` writes the same
bands as one COG (:func:`irradiance_writer`); the readers accept both.

The raster is on the DSM's grid (CRS and pixels of the IGN LiDAR HD MNS tiles),
nodata where not computed (by default only roof pixels are), 15 bands stored as scaled integers
(:data:`DTYPE`, stored :data:`NODATA` = not computed; physical value = stored × scale + offset,
the GeoTIFF band scale and offset, which GDAL, QGIS and rio-tiler's ``unscale`` apply):

=====  ==================  ===========  ==========  ======  ===================================================
band   name                unit         scale       offset  what
=====  ==================  ===========  ==========  ======  ===================================================
1      annual_kwh_m2       kWh/m²/yr    0.1         0       annual global irradiation on the surface, shaded
2–13   month_MM_kwh_m2     kWh/m²       0.5         0       the same per month, January first
14     shading_loss        0–1          0.001       0       share of the unshaded irradiation lost to the horizon
15     sky_view_factor     0–1          0.001       0       view factor from the surface to the visible sky
=====  ==================  ===========  ==========  ======  ===================================================

The scale is the quantisation step: a stored value is the physical one rounded to the nearest step
(error ≤ half a step: 0.05 kWh/m²/yr, 0.25 kWh/m² per month, 0.0005), and clipped to the range a band can
hold (:meth:`BandEncoding.max_value`: 6,553.4 kWh/m²/yr, 32,767 kWh/m² per month, 65.534 for the fractions,
which are within 0–1).
:func:`encode` turns float bands into stored ones; the readers return physical values.

Band descriptions are the names; each band also carries ``DESCRIPTION`` and ``UNITS`` tags.
Dataset tags: the weather (:data:`WEATHER_TAGS`, read back as a :class:`~geo.types.WeatherInfo`
by :func:`read_header`), the engine settings (``ALBEDO``, ``SKY_MODEL``, ``HORIZON_DIRECTIONS``,
``HORIZON_DISTANCE_M``) and ``SOURCES`` (the DSM files).

Read it with :func:`read_irradiance` (bands on a DSM window's grid), :func:`sample_irradiance` (at some
pixels of that grid) and :func:`read_header` (grid, tags, weather, without reading a pixel); write a tile
with :func:`write_tile` and the mosaic with :func:`write_mosaic`, or a single COG with
:func:`irradiance_writer`. :func:`product_files` lists the files a mosaic is made of (for the manifest,
comparisons and sizes).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from affine import Affine
from rasterio.crs import CRS

from geo.errors import CRSError, InputError
from geo.io.rasters import (
    MosaicSource,
    WindowWriter,
    cog_writer,
    read_bands_at,
    read_bands_on_grid,
    read_layout,
    read_values,
    vrt_sources,
    write_geotiff,
    write_vrt_mosaic,
)
from geo.io.rasters import read_header as _read_raster_header
from geo.products.schema import Band
from geo.types import Raster, RasterGrid, WeatherInfo

#: File name of the mosaic in a build folder.
FILE = "irradiance.vrt"
#: Folder of the tile COGs beside the mosaic (named after it), with the mosaic's overview VRTs.
TILE_FOLDER = Path(FILE).stem
#: Name of an overview VRT of the mosaic in :data:`TILE_FOLDER`: the prefix, then the factor (``overview_04.vrt``).
OVERVIEW_PREFIX = "overview_"

#: The bands, in file order.
BANDS: tuple[Band, ...] = (
    (Band("annual_kwh_m2", "annual global irradiation on the surface", "kWh/m2/yr"),)
    + tuple(Band(f"month_{m:02d}_kwh_m2", f"global irradiation on the surface, month {m:02d}", "kWh/m2")
            for m in range(1, 13))
    + (Band("shading_loss", "annual shading loss: fraction of the unshaded irradiation lost to the horizon", "1"),
       Band("sky_view_factor", "sky view factor of the surface", "1"))
)
#: Band names (GeoTIFF band descriptions), in file order.
BAND_NAMES: tuple[str, ...] = tuple(b.name for b in BANDS)
N_BANDS = len(BANDS)
#: 0-based positions of the bands in the arrays :func:`read_irradiance` returns.
ANNUAL = 0
MONTHS = slice(1, 13)
SHADING_LOSS = 13
SKY_VIEW_FACTOR = 14


# -- storage: scaled integers ----------------------------------------------------------------------
#: Data type of every band in the file (one type per GeoTIFF).
DTYPE = "uint16"
#: Stored value of a pixel not computed (read back as NaN); the largest value of :data:`DTYPE`.
NODATA = int(np.iinfo(DTYPE).max)
#: Quantisation step of the annual band [kWh/m²/yr]: 0.1 kWh/m²/yr is < 0.01 % of an annual value
#: (~1,000 kWh/m²/yr). Project choice 2026-11 (issue 11: ≤ 6 MB per km²).
KWH_STEP = 0.1
#: Quantisation step of the monthly bands [kWh/m²]: ± 0.25 kWh/m² per pixel, ≤ 1.3 % of a December value
#: (~20 kWh/m²) and < 0.2 % of a June one, below the weather's own uncertainty (a few %); a roof face's
#: monthly mean over its pixels carries no bias from it. The monthly bands are most of the file's bytes
#: (the DSM's noise makes them differ pixel to pixel): at 0.1 kWh/m² the dense 2 × 2 km sample took
#: 13.8 MB per km², at 0.5 kWh/m² 9.9 (COG with overviews, measured 2026-11-29).
MONTH_KWH_STEP = 0.5
#: Quantisation step of the 0–1 bands (shading loss, sky view factor): 1/1,000, i.e. 0.1 % point.
FRACTION_STEP = 1e-3
#: Storage of the tile files, chosen on the 5 × 5 km sample's 25 tiles (re-encoded from the same stored
#: values, 2026-12-03; MB per km² of tiles with their overviews, CPU time to write a 1 km tile):
#: DEFLATE (level 6, predictor 2, band-interleaved, 512 px blocks, overviews 2–32) 7.96 MB/km², 0.96 s;
#: on 4 of its tiles: ZSTD level 9 instead −9 % (levels 15/19: −10/−12 % at 3/8 s a tile; DEFLATE level 9 −5 % at 6 s);
#: 256/1,024 px blocks +3/−1 %; pixel interleave −16 % but a reader of one band (the map's tiles) then
#: decompresses all 15; the 1/2 overview alone is 25 % of the bytes (the average of noisy months compresses
#: badly). Chosen (all 25 tiles again): ZSTD 9, predictor 2, band-interleaved, 512 px blocks, overviews 1/4, 1/8, 1/16:
#: 5.65 MB/km², 0.78 s a tile (issue 11: ≤ 6 MB per km²); without the 1/2 overview the map reads the full
#: resolution at zoom 17 (≤ 4 × the pixels of a 256 px tile, a few blocks).
COMPRESS = "ZSTD"
COMPRESS_LEVEL: int | None = 9
#: Internal tile side of the tile files and block size of the mosaic [px].
TILE_BLOCK = 512
#: First overview factor of the tiles (see above: no 1/2 overview).
OVERVIEW_FIRST = 4
#: Smallest side of a tile's overview [px] (see :func:`overview_factors`): 1 km tiles at 0.5 m (2,000 px)
#: get 1/4, 1/8 and 1/16 (125 px, 8 m pixels), which the map's low zooms read.
OVERVIEW_MIN_PX = 64


@dataclass(frozen=True)
class BandEncoding:
    """How one band is stored: physical value = stored × ``scale`` + ``offset`` (the GeoTIFF band's own
    scale and offset); ``scale`` is also the quantisation step."""

    scale: float
    offset: float = 0.0

    @property
    def step(self) -> float:
        return self.scale

    @property
    def max_value(self) -> float:
        """Largest physical value the band holds (above it values are clipped)."""
        return (NODATA - 1) * self.scale + self.offset


#: The encoding of each band, in file order.
ENCODINGS: tuple[BandEncoding, ...] = ((BandEncoding(KWH_STEP),) + (BandEncoding(MONTH_KWH_STEP),) * 12
                                      + (BandEncoding(FRACTION_STEP),) * 2)
SCALES: tuple[float, ...] = tuple(e.scale for e in ENCODINGS)
OFFSETS: tuple[float, ...] = tuple(e.offset for e in ENCODINGS)


def encode(bands: np.ndarray) -> np.ndarray:
    """Physical bands (15, rows, cols), NaN = not computed → the stored :data:`DTYPE` values.

    Each value is rounded to the nearest step of its band (half-way cases to even, numpy's rule) and
    clipped to the band's range; NaN becomes :data:`NODATA`. The arithmetic is float64, done in chunks
    that stay in the CPU cache (no float64 copy of the whole array).
    """
    values = np.asarray(bands)
    if values.ndim == 0 or values.shape[0] != N_BANDS:
        raise ValueError(f"expected {N_BANDS} bands, got shape {values.shape}")
    out = np.empty(values.shape, dtype=DTYPE)
    n = out[0].size
    chunk = max(min(n, _ENCODE_CHUNK), 1)
    tmp = np.empty(chunk, dtype=np.float64)
    nan = np.empty(chunk, dtype=bool)
    flag = np.empty(chunk, dtype=DTYPE)
    for b in range(N_BANDS):
        src, dst = values[b].reshape(-1), out[b].reshape(-1)
        scale, offset = SCALES[b], OFFSETS[b]
        for a in range(0, n, chunk):
            e = min(a + chunk, n)
            t, m, f, o = tmp[: e - a], nan[: e - a], flag[: e - a], dst[a:e]
            np.copyto(t, src[a:e], casting="unsafe")
            np.isnan(t, out=m)
            if offset != 0.0:  # x − 0 is x: skipping it changes no value
                np.subtract(t, offset, out=t)
            np.divide(t, scale, out=t)
            np.rint(t, out=t)
            # np.clip(t, 0, NODATA − 1) on numbers; NaN → 0 here, then NODATA by the flag below.
            np.fmax(t, 0, out=t)
            np.fmin(t, NODATA - 1, out=t)
            np.copyto(o, t, casting="unsafe")
            np.multiply(m, _NODATA_U16, out=f)
            np.bitwise_or(o, f, out=o)
    return out


_NODATA_U16 = np.uint16(NODATA)
#: Values per chunk of :func:`encode` (its float64 work array: 256 KiB, in the CPU cache).
_ENCODE_CHUNK = 1 << 15


# -- dataset tags ----------------------------------------------------------------------------------
TAG_WEATHER_SOURCE = "WEATHER_SOURCE"
TAG_WEATHER_LOCATION = "WEATHER_LOCATION"
TAG_WEATHER_PERIOD = "WEATHER_PERIOD"
TAG_WEATHER_APPROXIMATE = "WEATHER_APPROXIMATE"  # "true" / "false"
WEATHER_TAGS = (TAG_WEATHER_SOURCE, TAG_WEATHER_LOCATION, TAG_WEATHER_PERIOD, TAG_WEATHER_APPROXIMATE)
TAG_ALBEDO = "ALBEDO"
TAG_SKY_MODEL = "SKY_MODEL"
TAG_HORIZON_DIRECTIONS = "HORIZON_DIRECTIONS"
TAG_HORIZON_DISTANCE_M = "HORIZON_DISTANCE_M"
TAG_SOURCES = "SOURCES"


def weather_tags(weather: WeatherInfo) -> dict[str, str]:
    """The ``WEATHER_*`` tags of a weather."""
    return {
        TAG_WEATHER_SOURCE: weather.source,
        TAG_WEATHER_LOCATION: weather.location,
        TAG_WEATHER_PERIOD: weather.period,
        TAG_WEATHER_APPROXIMATE: "true" if weather.approximate else "false",
    }


def weather_from_tags(tags: Mapping[str, str]) -> WeatherInfo | None:
    """The weather a raster's tags describe (None when it carries no ``WEATHER_SOURCE``)."""
    source = tags.get(TAG_WEATHER_SOURCE)
    if not source:
        return None
    return WeatherInfo(source, tags.get(TAG_WEATHER_LOCATION, ""), tags.get(TAG_WEATHER_PERIOD, ""),
                       tags.get(TAG_WEATHER_APPROXIMATE, "false") == "true")


@dataclass(frozen=True)
class EngineTags:
    """The engine settings recorded in the raster (what :class:`geo.solar.irradiance.SolarSettings` used)."""

    albedo: float
    sky_model: str
    horizon_directions: int
    horizon_distance_m: float

    def tags(self) -> dict[str, str]:
        return {
            TAG_ALBEDO: f"{self.albedo:g}",
            TAG_SKY_MODEL: self.sky_model,
            TAG_HORIZON_DIRECTIONS: str(self.horizon_directions),
            TAG_HORIZON_DISTANCE_M: f"{self.horizon_distance_m:g}",
        }


def dataset_tags(weather: WeatherInfo, engine: EngineTags, sources: Sequence[Path]) -> dict[str, str]:
    """All dataset tags of the raster (mosaic and tiles), in file order."""
    return {**weather_tags(weather), **engine.tags(), TAG_SOURCES: ", ".join(p.name for p in sources)}


@dataclass(frozen=True)
class IrradianceHeader:
    """The raster (mosaic or single COG) without its pixels: grid, tags and what they say."""

    path: Path
    crs: CRS | None
    transform: Affine
    shape: tuple[int, int]
    tags: dict[str, str]

    @property
    def weather(self) -> WeatherInfo | None:
        """The weather the raster was computed with (None for a raster without weather tags)."""
        return weather_from_tags(self.tags)

    @property
    def albedo(self) -> float | None:
        """Ground albedo the engine used [0–1], if recorded."""
        text = self.tags.get(TAG_ALBEDO)
        return float(text) if text else None


_MISSING = "file not found (run the irradiance stage first: artois build --only irradiance)"


def read_header(path: str | Path, *, like: RasterGrid | None = None) -> IrradianceHeader:
    """Grid and tags of the raster, ``irradiance.vrt`` or a single COG (no pixel read).

    Raises
    ------
    InputError
        Missing or unreadable file, fewer than 15 bands, or (with ``like``, the DSM's grid) another
        CRS or pixel size than the DSM.
    """
    h = _read_raster_header(path, missing=_MISSING)
    if h.count < N_BANDS:
        raise InputError(h.path, f"{h.count} band(s); the irradiation raster has {N_BANDS}")
    if like is not None:
        if h.crs is None or h.crs != like.crs:
            raise CRSError(h.path, f"CRS {h.crs.to_string() if h.crs else 'none'} differs from the DSM's "
                                   f"({like.crs.to_string()})")
        if abs(abs(h.transform.a) - like.res_m) > 1e-6:
            raise InputError(h.path, f"pixel size {abs(h.transform.a)} m differs from the DSM's ({like.res_m} m)")
    return IrradianceHeader(h.path, h.crs, h.transform, h.shape, h.tags)


def read_irradiance(path: str | Path, like: Raster) -> np.ndarray:
    """The 15 bands of the raster (``irradiance.vrt`` or a single COG) over the grid of ``like`` (a DSM window).

    Returns
    -------
    ndarray
        float32 (15, rows, cols), NaN for nodata and outside the raster; index it with
        :data:`ANNUAL`, :data:`MONTHS`, :data:`SHADING_LOSS`, :data:`SKY_VIEW_FACTOR`.

    Raises
    ------
    InputError
        Missing or unreadable file, fewer than 15 bands, another CRS or pixel size than the DSM.
    """
    return read_bands_on_grid(path, N_BANDS, crs=like.crs, transform=like.transform, shape=like.shape,
                              missing=_MISSING)


def sample_irradiance(path: str | Path, like: Raster | RasterGrid, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The 15 bands of the raster (as :func:`read_irradiance`) at the pixels (``rows``, ``cols``) of the grid of
    ``like``: ``read_irradiance(path, like)[:, rows, cols]``, reading only the blocks that hold them.

    Returns
    -------
    ndarray
        float32 (15, len(rows)), NaN for nodata and outside the raster.

    Raises
    ------
    InputError
        As :func:`read_irradiance`.
    """
    return read_bands_at(path, N_BANDS, crs=like.crs, transform=like.transform, rows=rows, cols=cols,
                         block_px=TILE_BLOCK, missing=_MISSING)


def overview_factors(tile_px: int) -> list[int]:
    """Overview levels of every tile of a mosaic of ``tile_px`` tiles: :data:`OVERVIEW_FIRST`, then doubling,
    while the factor divides ``tile_px`` and the tile's overview is at least :data:`OVERVIEW_MIN_PX` wide (the
    same for all, edge tiles included: the mosaic's overviews are made of them, :func:`write_mosaic`)."""
    factors, f = [], OVERVIEW_FIRST
    while tile_px % f == 0 and tile_px // f >= OVERVIEW_MIN_PX:
        factors.append(f)
        f *= 2
    return factors


def write_tile(path: str | Path, bands: np.ndarray, *, transform: Affine, crs: CRS,
               tags: Mapping[str, str] | None = None, tile_px: int | None = None) -> Path:
    """Write one tile's bands (15, rows, cols; NaN = not computed) as a Cloud-Optimized GeoTIFF in the
    product's encoding (:func:`encode`, the bands' scales, offsets, names and tags, the dataset ``tags``),
    atomically, with the overview levels of a mosaic of ``tile_px`` tiles (default: the tile's side)."""
    return write_geotiff(path, encode(bands), transform=transform, crs=crs, nodata=NODATA,
                         descriptions=BAND_NAMES, tags=tags, band_tags=[b.tags() for b in BANDS],
                         scales=SCALES, offsets=OFFSETS, cog=True,
                         overview_factors=overview_factors(tile_px or max(bands.shape[1:])),
                         compress=COMPRESS, level=COMPRESS_LEVEL, block=TILE_BLOCK)


def is_tile_file(path: str | Path, *, tile_px: int) -> bool:
    """Whether ``path`` is a tile COG of :func:`write_tile` for a mosaic of ``tile_px`` tiles (the product's
    bands, type, nodata, scales and overview levels): tiles of an earlier format must be re-encoded."""
    return read_layout(path) == {"count": N_BANDS, "dtype": DTYPE, "nodata": NODATA, "scales": SCALES,
                                 "offsets": OFFSETS, "descriptions": BAND_NAMES,
                                 "overviews": overview_factors(tile_px)}


def tile_folder(mosaic: str | Path) -> Path:
    """The folder of the tile files of the mosaic ``mosaic`` (``irradiance.vrt`` → ``irradiance/``)."""
    return Path(mosaic).with_suffix("")


def write_mosaic(path: str | Path, tiles: Sequence[tuple[Path, tuple[int, int, int, int]]], grid: RasterGrid,
                 tags: Mapping[str, str], *, tile_px: int) -> list[Path]:
    """Write the VRT mosaic ``path`` over tile files of :func:`write_tile` on ``grid``, atomically, with one
    overview VRT per overview level of the tiles (``overview_NN.vrt`` in :func:`tile_folder`).

    ``tiles`` are (file, window ``(row0, row1, col0, col1)`` in ``grid``'s pixels), in the mosaic's
    order; the files should be in :func:`tile_folder` (they are named relative to the VRT). Returns the
    mosaic and its overview files.
    """
    folder = tile_folder(path)
    sources = [MosaicSource(Path(p), r0, c0, r1 - r0, c1 - c0) for p, (r0, r1, c0, c1) in tiles]
    overviews = [(f, folder / f"{OVERVIEW_PREFIX}{f:02d}.vrt") for f in overview_factors(tile_px)]
    return write_vrt_mosaic(path, sources, shape=grid.shape, transform=grid.transform, crs=grid.crs,
                            count=N_BANDS, dtype=DTYPE, nodata=NODATA, descriptions=BAND_NAMES, tags=tags,
                            band_tags=[b.tags() for b in BANDS], scales=SCALES, offsets=OFFSETS,
                            block=TILE_BLOCK, overviews=overviews)


def product_files(path: str | Path) -> list[Path]:
    """The files of the raster ``path``: the mosaic and its tile files, or the single COG."""
    return [Path(path), *vrt_sources(path)]


def missing_tiles(path: str | Path) -> list[Path]:
    """The tile files the mosaic ``path`` names but that do not exist ([] for a single COG)."""
    return [p for p in vrt_sources(path) if not p.is_file()]


def read_tile(path: str | Path) -> np.ndarray:
    """A tile of :func:`write_tile` (or any 15-band GeoTIFF) as physical float32 bands, NaN = not computed."""
    return read_values(path)


def block_size(tile_px: int) -> int:
    """Internal tile side [px] of a file written in ``tile_px`` windows: a multiple of 16 dividing it, ≤ 512."""
    for b in range(512, 15, -16):
        if tile_px % b == 0:
            return b
    return 512


@contextlib.contextmanager
def irradiance_writer(path: str | Path, grid: RasterGrid, tags: Mapping[str, str], *,
                      tile_px: int) -> Iterator[IrradianceWriter]:
    """Write the raster as one COG on ``grid`` window by window (``tile_px`` windows), then as a COG, atomically.

    Yields an :class:`IrradianceWriter`: ``write(bands, row_off, col_off)`` with physical ``bands``
    (15, rows, cols), NaN = not computed, stored as :func:`encode` says. Windows never written read
    as nodata. On an error nothing is written and an existing file is left untouched.
    """
    with cog_writer(path, count=N_BANDS, shape=grid.shape, transform=grid.transform, crs=grid.crs,
                    nodata=NODATA, dtype=DTYPE, descriptions=BAND_NAMES, tags=tags,
                    band_tags=[b.tags() for b in BANDS], scales=SCALES, offsets=OFFSETS,
                    block=block_size(tile_px)) as out:
        yield IrradianceWriter(out)


class IrradianceWriter:
    """The single COG being written (see :func:`irradiance_writer`)."""

    def __init__(self, out: WindowWriter) -> None:
        self._out = out

    def write(self, bands: np.ndarray, row_off: int, col_off: int) -> None:
        """Write physical ``bands`` (15, rows, cols; NaN = not computed) at (``row_off``, ``col_off``)."""
        self._out.write(encode(bands), row_off, col_off)
