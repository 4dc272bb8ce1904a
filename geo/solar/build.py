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

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio.features
import rasterio.warp
from affine import Affine
from rasterio.crs import CRS

from geo import config
from geo.errors import ArtoisError, InputError
from geo.io._atomic import write_text_atomic
from geo.io.rasters import (
    Bounds,
    Raster,
    RasterGrid,
    WindowWriter,
    cog_writer,
    find_lidar_tiles,
    read_bands,
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
        """Pixels of the window (``shape``, ``transform``) touched by a footprint."""
        rows, cols = shape
        res = transform.a
        xmin, ymax = transform.c - res, transform.f + res  # one pixel of margin around the window
        xmax, ymin = transform.c + (cols + 1) * res, transform.f - (rows + 1) * res
        bbox: Bounds = (xmin, ymin, xmax, ymax)
        if self.file_crs != self.crs:
            bbox = rasterio.warp.transform_bounds(self.crs, self.file_crs, *bbox, densify_pts=21)
        gdf = read_vector(self.path, layer=self.layer, crs=self.crs.to_string(), geometry_types=("Polygon",),
                          allow_empty=True, bbox=bbox)
        if gdf.empty:
            return np.zeros(shape, dtype=bool)
        return rasterio.features.rasterize(
            ((g, 1) for g in gdf.geometry), out_shape=shape, transform=transform, fill=0,
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


@dataclass(frozen=True)
class IrradiancePlan:
    """What the irradiation stage computes, tile by tile: the schedulable unit of a build.

    Picklable (paths, grid headers, settings), so a tile can be computed on any worker that sees
    the same files (:mod:`geo.build`).
    """

    grid: RasterGrid
    windows: tuple[tuple[int, int, int, int], ...]  # (row0, row1, col0, col1) of each tile
    halo: int  # [px]
    settings: SolarSettings
    dtm_paths: tuple[Path, ...] = ()
    weather_path: Path | None = None
    footprints_path: Path | None = None
    all_pixels: bool = False
    tile_px: int = TILE_PX

    def tile_name(self, k: int) -> str:
        """File stem of tile ``k``: its window's upper-left pixel (stable whatever the schedule)."""
        r0, _, c0, _ = self.windows[k]
        return f"r{r0:07d}_c{c0:07d}"

    def tags(self, weather: Weather) -> dict[str, str]:
        return {**weather.tags(), **self.settings.tags(), "SOURCES": ", ".join(p.name for p, _ in self.grid.files)}


def plan_irradiance(
    dsm_paths: Sequence[str | Path],
    *,
    dtm_paths: Sequence[str | Path] = (),
    weather_path: str | Path | None = None,
    footprints_path: str | Path | None = None,
    all_pixels: bool = False,
    settings: SolarSettings | None = None,
    tile_px: int | None = None,
) -> IrradiancePlan:
    """The tiles of an irradiation run (see :func:`irradiance_from_files` for the parameters)."""
    settings = settings or SolarSettings()
    paths = [Path(p) for p in dsm_paths]
    if not paths:
        raise InputError(None, "no DSM file given")
    grid = read_grid(paths)  # headers only: checks every file, reads no pixel
    if dtm_paths and footprints_path is None and not all_pixels:
        read_grid(list(dtm_paths))  # checked here, once, not in every tile
    rows, cols = grid.shape
    res = grid.res_m
    tile_px = tile_px or max(int(round(config.LIDAR_TILE_SIZE_M / res)), 1)
    sched = horizon_schedule(settings.n_directions, settings.distance_m, res,
                             near_px=settings.near_px, samples_per_octave=settings.samples_per_octave)
    if min(rows, cols) * res < settings.distance_m:
        log.warning(
            "the DSM (%.0f m x %.0f m) is smaller than the horizon distance (%.0f m): the horizon beyond "
            "it is taken as open", cols * res, rows * res, settings.distance_m,
        )
    if footprints_path is None and not dtm_paths and not all_pixels:
        log.info("no footprints and no DTM: computing every pixel")
    return IrradiancePlan(
        grid=grid, windows=tuple(_tile_windows(rows, cols, tile_px)), halo=sched.pad, settings=settings,
        dtm_paths=tuple(Path(p) for p in dtm_paths), weather_path=Path(weather_path) if weather_path else None,
        footprints_path=Path(footprints_path) if footprints_path else None, all_pixels=all_pixels, tile_px=tile_px,
    )


#: Weather and binned sky per (weather file, settings), loaded once per process (a build's tiles share them).
_SKY_CACHE: dict[tuple[Path | None, SolarSettings], tuple[Weather, SkyBins]] = {}


def _weather_and_sky(plan: IrradiancePlan, weather: Weather | None = None) -> tuple[Weather, SkyBins]:
    key = (plan.weather_path, plan.settings)
    if weather is not None:
        return weather, bin_sky(weather, bin_minutes=plan.settings.bin_minutes, month_parts=plan.settings.month_parts)
    if key not in _SKY_CACHE:
        w = load_weather(plan.weather_path)
        _SKY_CACHE.clear()
        _SKY_CACHE[key] = (w, bin_sky(w, bin_minutes=plan.settings.bin_minutes, month_parts=plan.settings.month_parts))
    return _SKY_CACHE[key]


def tile_bands(
    plan: IrradiancePlan,
    k: int,
    *,
    weather_sky: tuple[Weather, SkyBins] | None = None,
    tick: Callable[[int, int], None] | None = None,
) -> np.ndarray | None:
    """The 15 bands (NaN = not computed) of tile ``k``, or None when it has no pixel to compute."""
    weather, sky = weather_sky or _weather_and_sky(plan)
    use_fp = plan.footprints_path is not None and not plan.all_pixels
    footprints = _Footprints(plan.footprints_path, plan.grid.crs) if use_fp else None  # type: ignore[arg-type]
    dtm_grid = (read_grid(list(plan.dtm_paths))
                if plan.dtm_paths and footprints is None and not plan.all_pixels else None)
    return _tile_bands(plan.grid, plan.windows[k], plan.halo, weather, plan.settings, sky, tick or _no_tick,
                       all_pixels=plan.all_pixels, footprints=footprints, dtm_grid=dtm_grid)


def _no_tick(done: int, total: int) -> None:
    return None


def irradiance_tile(plan: IrradiancePlan, k: int, tile_dir: str | Path) -> Path:
    """Compute tile ``k`` into ``tile_dir`` unless already done; return its file.

    The tile is written atomically as ``<name>.tif`` (15 float32 bands, NaN = not computed), or
    ``<name>.empty`` when it has no pixel to compute: a file that exists is complete, and a
    killed build re-run computes only the tiles without one.
    """
    tile_dir = Path(tile_dir)
    name = plan.tile_name(k)
    for done in (tile_dir / f"{name}.tif", tile_dir / f"{name}.empty"):
        if done.exists():
            return done
    bands = tile_bands(plan, k)
    if bands is None:
        out = tile_dir / f"{name}.empty"
        write_text_atomic(out, "no pixel to compute\n")
        return out
    r0, _, c0, _ = plan.windows[k]
    return write_geotiff(tile_dir / f"{name}.tif", bands, transform=plan.grid.transform @ Affine.translation(c0, r0),
                         crs=plan.grid.crs)


def merge_irradiance_tiles(plan: IrradiancePlan, tile_dir: str | Path, out_path: str | Path) -> Path:
    """Merge the tiles of ``tile_dir`` into the COG ``out_path`` (atomically), in tile order.

    The same bytes as :func:`irradiance_from_files` writing the tiles as it computes them.
    """
    tile_dir = Path(tile_dir)
    missing = [plan.tile_name(k) for k in range(len(plan.windows))
               if not (tile_dir / f"{plan.tile_name(k)}.tif").exists()
               and not (tile_dir / f"{plan.tile_name(k)}.empty").exists()]
    if missing:
        raise ArtoisError(f"{tile_dir}: {len(missing)} irradiance tile(s) not computed yet, e.g. {missing[0]}")
    weather, _ = _weather_and_sky(plan)
    with _writer(plan, weather, out_path) as out:
        for k, (r0, _, c0, _) in enumerate(plan.windows):
            path = tile_dir / f"{plan.tile_name(k)}.tif"
            if path.exists():
                out.write(read_bands(path), r0, c0)
    return Path(out_path)


@contextlib.contextmanager
def _writer(plan: IrradiancePlan, weather: Weather, out_path: str | Path) -> Iterator[WindowWriter]:
    grid = plan.grid
    with cog_writer(out_path, count=len(BAND_NAMES), shape=grid.shape, transform=grid.transform, crs=grid.crs,
                    nodata=config.IRRADIANCE_NODATA, descriptions=BAND_NAMES, tags=plan.tags(weather),
                    band_tags=_BAND_TAGS, block=_block_size(plan.tile_px)) as out:
        yield out


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
    plan = plan_irradiance(dsm_paths, dtm_paths=dtm_paths, weather_path=weather_path,
                           footprints_path=footprints_path, all_pixels=all_pixels, settings=settings,
                           tile_px=tile_px)
    weather_sky = _weather_and_sky(plan, weather)
    weather = weather_sky[0]
    log.info("weather: %s", weather.summary())
    windows = plan.windows
    bar = None
    if progress if progress is not None else sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=len(windows) * 1000, desc="irradiance", unit="‰", file=sys.stderr,
                   bar_format="{l_bar}{bar}| {elapsed}<{remaining}")
    n_pixels = n_computed_tiles = 0
    try:
        with _writer(plan, weather, out_path) as out:
            for n, window in enumerate(windows):

                def tick(done: int, total: int, n: int = n) -> None:
                    if bar is not None:
                        bar.n = n * 1000 + int(1000 * done / max(total, 1))
                        bar.refresh()

                bands = tile_bands(plan, n, weather_sky=weather_sky, tick=tick)
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
    # Only the core window is computed and returned: memory is the haloed DSM, its max-filter
    # pyramid and the core's results, not 15 bands over the haloed tile.
    res_t = compute_irradiance(tile, weather, mask=mask, settings=settings, sky=sky, progress=tick,
                               window=(dr, dr + core_shape[0], dc, dc + core_shape[1]))
    del tile
    return res_t.bands()


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
    plan = plan_build_irradiance(data_dir)
    out = Path(out_dir) / "irradiance.tif"
    irradiance_from_files(
        [p for p, _ in plan.grid.files], out, dtm_paths=plan.dtm_paths, weather_path=plan.weather_path,
        footprints_path=plan.footprints_path,
    )
    return [out]


def plan_build_irradiance(data_dir: Path, settings: SolarSettings | None = None) -> IrradiancePlan:
    """The tiles of the pipeline's irradiation stage (the inputs of :func:`build_irradiance`)."""
    rooftops = Path(data_dir) / "rooftops"
    dsm = find_lidar_tiles(rooftops / "lidar", "MNS")
    try:
        dtm = find_lidar_tiles(rooftops / "lidar", "MNT")
    except InputError:
        dtm = []
    footprints = rooftops / "batiment.gpkg"
    return plan_irradiance(dsm, dtm_paths=dtm, weather_path=find_weather_file(rooftops),
                           footprints_path=footprints if footprints.is_file() else None, settings=settings)
