"""The irradiation stage: DSM files (+ DTM, footprints, weather) → ``irradiance.tif``.

The area is processed tile by tile (by default the IGN LiDAR HD 1 km tiles, i.e. a grid of
1 km squares aligned on the DSM mosaic). Each tile is read from the DSM files intersecting it
with a halo equal to the horizon reach, so a pixel's result does not depend on the tiling
(tested), and its 15 bands are written straight into the output file: memory is one tile
and its halo, whatever the area (a whole territory streams). Which pixels are computed:

* ``all_pixels=True``: every pixel with a complete 3×3 neighbourhood;
* else footprints given: pixels touched by a building footprint (roofs, with their edges);
* else a DTM given: pixels more than :data:`geo.config.ROOF_MIN_HEIGHT_ABOVE_DTM_M` above it;
* else every pixel (logged).

Tiles with no pixel to compute are skipped without reading the DSM (footprints) or after
reading only the tile itself (DTM).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import rasterio.features
import rasterio.warp
from affine import Affine
from rasterio.crs import CRS

from geo import config
from geo.errors import InputError
from geo.io.rasters import (
    Bounds,
    Raster,
    RasterGrid,
    cog_writer,
    find_lidar_tiles,
    read_grid,
    read_raster,
    write_geotiff,
)
from geo.io.vectors import list_layers, read_vector
from geo.io.weather import Weather, load_weather
from geo.solar.horizon import horizon_schedule
from geo.solar.irradiance import IrradianceResult, SolarSettings, compute_irradiance
from geo.solar.sky import SkyBins, bin_sky

log = logging.getLogger("artois.solar")

#: Band names (GeoTIFF band descriptions), in the order of docs/data-dictionary.md.
BAND_NAMES: tuple[str, ...] = (
    ("annual_kwh_m2",) + tuple(f"month_{m:02d}_kwh_m2" for m in range(1, 13)) + ("shading_loss", "sky_view_factor")
)
_BAND_TAGS = (
    [{"DESCRIPTION": "annual global irradiation on the surface", "UNITS": "kWh/m2/yr"}]
    + [{"DESCRIPTION": f"global irradiation on the surface, month {m:02d}", "UNITS": "kWh/m2"} for m in range(1, 13)]
    + [{"DESCRIPTION": "annual shading loss: fraction of the unshaded irradiation lost to the horizon", "UNITS": "1"},
       {"DESCRIPTION": "sky view factor of the surface", "UNITS": "1"}]
)
#: Tile side [px] of tiled runs at 0.5 m (a LiDAR HD tile: 1 km); by default the tile side is
#: :data:`geo.config.LIDAR_TILE_SIZE_M` at the DSM's resolution.
TILE_PX = 2000


class _Footprints:
    """A footprint layer read tile by tile (bounding-box filter), rasterized onto pixel windows."""

    def __init__(self, path: str | Path, crs: CRS) -> None:
        self.path = Path(path)
        layers = list_layers(self.path)
        self.layer = "batiment" if "batiment" in layers else (layers[0] if layers else None)
        self.crs = crs
        # The file's CRS (the bounding-box filter is in it): read no feature, keep the CRS.
        far = (1e15, 1e15, 1e15 + 1, 1e15 + 1)
        head = read_vector(self.path, layer=self.layer, crs=None, allow_empty=True, bbox=far)
        self.file_crs = CRS.from_user_input(head.crs) if head.crs is not None else crs

    def mask(self, shape: tuple[int, int], transform: Affine) -> np.ndarray:
        """Pixels of the window (``shape``, ``transform``) touched by a footprint grown by the reach of the
        roofs stage's reconciliation (footprints drawn off the LiDAR are moved onto their roofs there)."""
        rows, cols = shape
        res = transform.a
        grow = config.RECONCILE_MAX_SHIFT_M + config.RECONCILE_MAX_GROW_M
        pad = res + grow  # one pixel of margin around the window, and the growth
        xmin, ymax = transform.c - pad, transform.f + pad
        xmax, ymin = transform.c + cols * res + pad, transform.f - rows * res - pad
        bbox: Bounds = (xmin, ymin, xmax, ymax)
        if self.file_crs != self.crs:
            bbox = rasterio.warp.transform_bounds(self.crs, self.file_crs, *bbox, densify_pts=21)
        gdf = read_vector(self.path, layer=self.layer, crs=self.crs.to_string(), geometry_types=("Polygon",),
                          allow_empty=True, bbox=bbox)
        if gdf.empty:
            return np.zeros(shape, dtype=bool)
        return rasterio.features.rasterize(
            ((g.buffer(grow, join_style="mitre"), 1) for g in gdf.geometry), out_shape=shape, transform=transform,
            fill=0,
            all_touched=True, dtype="uint8",
        ).astype(bool)


def roof_mask_from_footprints(footprints_path: str | Path, grid: Raster) -> np.ndarray:
    """Pixels of ``grid`` touched by a building footprint (layer ``batiment`` when present)."""
    return _Footprints(footprints_path, grid.crs).mask(grid.shape, grid.transform)


def _tile_windows(rows: int, cols: int, tile_px: int) -> list[tuple[int, int, int, int]]:
    return [
        (r, min(r + tile_px, rows), c, min(c + tile_px, cols))
        for r in range(0, rows, tile_px)
        for c in range(0, cols, tile_px)
    ]


def _block_size(tile_px: int) -> int:
    """Internal tile side [px] of the streamed file: a multiple of 16 dividing ``tile_px``, ≤ 512."""
    for b in range(512, 15, -16):
        if tile_px % b == 0:
            return b
    return 512


def irradiance_from_files(
    dsm_paths: Sequence[str | Path],
    out_path: str | Path,
    *,
    dtm_paths: Sequence[str | Path] = (),
    weather_path: str | Path | None = None,
    footprints_path: str | Path | None = None,
    all_pixels: bool = False,
    settings: SolarSettings | None = None,
    tile_px: int | None = None,
    progress: bool | None = None,
    weather: Weather | None = None,
) -> Path:
    """Compute ``irradiance.tif`` (15 bands, docs/data-dictionary.md) from DSM files, tile by tile.

    Memory is bounded by one tile with its halo (a LiDAR HD tile and 1 km of horizon: about
    6,000 × 6,000 px at 0.5 m), not by the area: the DSM files are read per tile and the output
    is written per tile into a temporary GeoTIFF, then converted to a COG.

    Parameters
    ----------
    dsm_paths
        One or more adjacent DSM GeoTIFFs (e.g. IGN LiDAR HD MNS tiles), projected CRS in metres.
    out_path
        Output Cloud-Optimized GeoTIFF, written atomically, on the DSM mosaic's grid.
    dtm_paths
        Terrain model tiles (roof pixels = height above it > 2.5 m, when no footprints).
    weather_path
        EPW, PVGIS TMY (.json/.csv) or plain CSV; None = offline default (approximate).
    footprints_path
        Building footprints (BD TOPO ``batiment``): roof pixels = touched by a footprint.
    all_pixels
        Compute every pixel.
    settings
        Engine settings.
    tile_px
        Tile side [px]; default one LiDAR HD tile (:data:`geo.config.LIDAR_TILE_SIZE_M` [m]).
        Each tile is read with a halo of the horizon reach.
    progress
        Show a progress bar (default: when stderr is a terminal).
    weather
        Already loaded weather (overrides ``weather_path``).

    Returns
    -------
    Path
        ``out_path``.
    """
    settings = settings or SolarSettings()
    paths = [Path(p) for p in dsm_paths]
    if not paths:
        raise InputError(None, "no DSM file given")
    grid = read_grid(paths)  # headers only: checks every file, reads no pixel
    dtm_grid = read_grid(list(dtm_paths)) if dtm_paths and footprints_path is None and not all_pixels else None
    footprints = _Footprints(footprints_path, grid.crs) if footprints_path is not None and not all_pixels else None
    weather = weather or load_weather(Path(weather_path) if weather_path else None)
    log.info("weather: %s", weather.summary())
    rows, cols = grid.shape
    res = grid.res_m
    tile_px = tile_px or max(int(round(config.LIDAR_TILE_SIZE_M / res)), 1)
    sched = horizon_schedule(settings.n_directions, settings.distance_m, res,
                             near_px=settings.near_px, samples_per_octave=settings.samples_per_octave)
    halo = sched.pad
    if min(rows, cols) * res < settings.distance_m:
        log.warning(
            "the DSM (%.0f m x %.0f m) is smaller than the horizon distance (%.0f m): the horizon beyond "
            "it is taken as open", cols * res, rows * res, settings.distance_m,
        )
    if footprints is None and dtm_grid is None and not all_pixels:
        log.info("no footprints and no DTM: computing every pixel")
    sky = bin_sky(weather, bin_minutes=settings.bin_minutes, month_parts=settings.month_parts)
    windows = _tile_windows(rows, cols, tile_px)
    tags = {**weather.tags(), **settings.tags(), "SOURCES": ", ".join(p.name for p in paths)}
    bar = None
    if progress if progress is not None else sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=len(windows) * 1000, desc="irradiance", unit="‰", file=sys.stderr,
                   bar_format="{l_bar}{bar}| {elapsed}<{remaining}")
    n_pixels = n_computed_tiles = 0
    try:
        with cog_writer(out_path, count=len(BAND_NAMES), shape=grid.shape, transform=grid.transform, crs=grid.crs,
                        nodata=config.IRRADIANCE_NODATA, descriptions=BAND_NAMES, tags=tags, band_tags=_BAND_TAGS,
                        block=_block_size(tile_px)) as out:
            for n, window in enumerate(windows):

                def tick(done: int, total: int, n: int = n) -> None:
                    if bar is not None:
                        bar.n = n * 1000 + int(1000 * done / max(total, 1))
                        bar.refresh()

                bands = _tile_bands(grid, window, halo, weather, settings, sky, tick,
                                    all_pixels=all_pixels, footprints=footprints, dtm_grid=dtm_grid)
                if bands is not None:
                    n_pixels += int(np.isfinite(bands[0]).sum())
                    n_computed_tiles += 1
                    out.write(bands, window[0], window[2])
                tick(1, 1)
    finally:
        if bar is not None:
            bar.close()
    log.info("irradiance: %d pixels computed in %d of %d tiles", n_pixels, n_computed_tiles, len(windows))
    if n_pixels == 0:
        log.warning("no pixel to compute: %s is all nodata", out_path)
    return Path(out_path)


def _tile_bands(
    grid: RasterGrid,
    window: tuple[int, int, int, int],
    halo: int,
    weather: Weather,
    settings: SolarSettings,
    sky: SkyBins,
    tick: Callable[[int, int], None],
    *,
    all_pixels: bool,
    footprints: _Footprints | None,
    dtm_grid: RasterGrid | None,
) -> np.ndarray | None:
    """The 15 bands (NaN = not computed) of one tile's core window, or None when nothing is computed."""
    r0, r1, c0, c1 = window
    core_bounds = grid.window_bounds(r0, r1, c0, c1)
    core_transform = grid.transform @ Affine.translation(c0, r0)
    core_shape = (r1 - r0, c1 - c0)
    dsm_files = grid.files_intersecting(core_bounds)
    if not dsm_files:
        return None
    mask: np.ndarray | None = None
    if footprints is not None:
        mask = footprints.mask(core_shape, core_transform)
    elif dtm_grid is not None:
        dtm_files = dtm_grid.files_intersecting(core_bounds)
        if not dtm_files:
            return None
        dtm = read_raster(dtm_files, bounds=core_bounds)
        if dtm.shape != core_shape:
            raise InputError(dtm_files[0], f"DTM grid {dtm.shape} does not match the DSM's {core_shape}")
        dsm_core = read_raster(dsm_files, bounds=core_bounds)
        with np.errstate(invalid="ignore"):
            mask = np.asarray((dsm_core.data - dtm.data) > config.ROOF_MIN_HEIGHT_ABOVE_DTM_M)
        del dsm_core, dtm
    if mask is not None and not mask.any():
        return None
    # The tile and its halo (the horizon reach), from the files intersecting it, clipped to the
    # mosaic: beyond it there is no data, and compute_irradiance takes the outside as open.
    halo_m = halo * grid.res_m
    gx0, gy0, gx1, gy1 = grid.bounds
    hx0, hy0, hx1, hy1 = core_bounds
    haloed = (max(hx0 - halo_m, gx0), max(hy0 - halo_m, gy0), min(hx1 + halo_m, gx1), min(hy1 + halo_m, gy1))
    tile = read_raster(grid.files_intersecting(haloed), bounds=haloed)
    dr = int(round((tile.transform.f - core_transform.f) / grid.res_m))
    dc = int(round((core_transform.c - tile.transform.c) / grid.res_m))
    core = (slice(dr, dr + core_shape[0]), slice(dc, dc + core_shape[1]))
    if not np.isfinite(tile.data[core]).any():
        return None
    tile_mask = np.zeros(tile.shape, dtype=bool)
    tile_mask[core] = True if mask is None else mask
    res_t = compute_irradiance(tile, weather, mask=tile_mask, settings=settings, sky=sky, progress=tick)
    del tile, tile_mask
    # The core window only (IrradianceResult.bands() would copy the whole haloed tile, 15 times).
    parts = [res_t.annual_kwh_m2[core][None], res_t.monthly_kwh_m2[:, core[0], core[1]],
             res_t.shading_loss[core][None], res_t.sky_view_factor[core][None]]
    return np.concatenate(parts).astype(np.float32, copy=False)


def write_irradiance(
    out_path: str | Path,
    bands: np.ndarray,
    transform: Affine,
    crs: object,
    weather: Weather,
    settings: SolarSettings,
    *,
    sources: Sequence[Path] = (),
) -> Path:
    """Write the 15-band irradiation raster (COG, nodata −9999, descriptions, tags), atomically."""
    tags = {**weather.tags(), **settings.tags(), "SOURCES": ", ".join(p.name for p in sources)}
    return write_geotiff(
        out_path, bands, transform=transform, crs=crs, nodata=config.IRRADIANCE_NODATA,  # type: ignore[arg-type]
        descriptions=BAND_NAMES, tags=tags, band_tags=_BAND_TAGS, cog=True,
    )


def result_to_file(result: IrradianceResult, out_path: str | Path) -> Path:
    """Write an :class:`IrradianceResult` as ``irradiance.tif``."""
    return write_irradiance(out_path, result.bands(), result.transform, result.crs, result.weather, result.settings)


def find_weather_file(folder: Path) -> Path | None:
    """``weather.epw``, ``weather.json`` or ``weather.csv`` in ``folder`` (first found), else None."""
    for name in ("weather.epw", "weather.json", "weather.csv"):
        if (folder / name).is_file():
            return folder / name
    return None


def build_irradiance(data_dir: Path, out_dir: Path) -> list[Path]:
    """Pipeline stage: ``data_dir/rooftops`` → ``out_dir/irradiance.tif`` (roof pixels only).

    Reads the IGN LiDAR HD MNS tiles under ``rooftops/lidar/``, the roof mask from
    ``rooftops/batiment.gpkg`` (else height above the MNT tiles), and the weather from
    ``rooftops/weather.{epw,json,csv}`` (else the approximate offline default).
    """
    rooftops = Path(data_dir) / "rooftops"
    dsm = find_lidar_tiles(rooftops / "lidar", "MNS")
    try:
        dtm = find_lidar_tiles(rooftops / "lidar", "MNT")
    except InputError:
        dtm = []
    footprints = rooftops / "batiment.gpkg"
    out = Path(out_dir) / "irradiance.tif"
    irradiance_from_files(
        dsm, out, dtm_paths=dtm, weather_path=find_weather_file(rooftops),
        footprints_path=footprints if footprints.is_file() else None,
    )
    return [out]
