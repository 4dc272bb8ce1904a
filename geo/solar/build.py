"""The irradiation stage: DSM files (+ DTM, footprints, weather) → the irradiation raster: in a build the
mosaic ``irradiance.vrt`` of per-tile COGs, else (``artois solar irradiance``) one COG.

The area is processed tile by tile (by default the IGN LiDAR HD 1 km tiles, i.e. a grid of
1 km squares aligned on the DSM mosaic). Each tile is read from the DSM files intersecting it
with a halo equal to the horizon reach, so a pixel's result does not depend on the tiling
(tested), and its 15 bands are written straight into the output file: memory is one tile
and its halo, whatever the area (a whole territory streams). Which pixels are computed:

* ``all_pixels=True``: every pixel with a complete 3×3 neighbourhood;
* else footprints given: pixels touched by a building footprint (roofs, with their edges);
* else a DTM given: pixels more than :data:`geo.config.ROOF_MIN_HEIGHT_ABOVE_DTM_M` above it;
* else every pixel (logged).

``extra_polygons`` (the ground-PV and car-park sites, :mod:`geo.sites`) add the pixels they touch
to the footprint or DTM mask: only which pixels are computed changes, not how.

Tiles with no pixel to compute are skipped without reading the DSM (footprints) or after
reading only the tile itself (DTM).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio.features
import rasterio.warp
import shapely
from affine import Affine
from rasterio.crs import CRS
from shapely.geometry.base import BaseGeometry

from geo import config
from geo.errors import ArtoisError, InputError
from geo.io._atomic import atomic_tempdir, link_or_copy, write_text_atomic
from geo.io.rasters import find_lidar_tiles, read_grid, read_raster
from geo.io.vectors import list_layers, read_vector
from geo.io.weather import load_weather
from geo.pipeline import BuildContext
from geo.products import irradiance as product
from geo.solar.horizon import horizon_schedule
from geo.solar.irradiance import IrradianceResult, SolarSettings, compute_irradiance
from geo.solar.sky import SkyBins, bin_sky
from geo.types import Bounds, RasterGrid, Weather

log = logging.getLogger("artois.solar")


@dataclass(frozen=True)
class Footprints:
    """A footprint layer read tile by tile (bounding-box filter), rasterized onto pixel windows.

    Build it with :meth:`open`; it holds only the file's name, layer and CRS (picklable).
    """

    path: Path
    layer: str | None
    crs: CRS  # of the DSM (the windows)
    file_crs: CRS  # of the file (the bounding-box filter)

    @classmethod
    def open(cls, path: str | Path, crs: CRS) -> Footprints:
        path = Path(path)
        layers = list_layers(path)
        layer = "batiment" if "batiment" in layers else (layers[0] if layers else None)
        # The file's CRS (the bounding-box filter is in it): read no feature, keep the CRS.
        far = (1e15, 1e15, 1e15 + 1, 1e15 + 1)
        head = read_vector(path, layer=layer, crs=None, allow_empty=True, bbox=far)
        return cls(path, layer, crs, CRS.from_user_input(head.crs) if head.crs is not None else crs)

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


@dataclass(frozen=True)
class IrradianceTileTask:
    """Everything :func:`irradiance_tile` needs for one tile: plain, picklable values, no open file.

    Attributes
    ----------
    grid
        The DSM mosaic (files and grid; nothing read).
    window
        The tile's core window ``(row0, row1, col0, col1)`` in the mosaic's pixels.
    halo_px
        Pixels read around the core (the horizon reach), clipped to the mosaic.
    weather, settings, sky
        The weather, the engine settings and the binned sky of the weather (shared by all tiles).
    all_pixels
        Compute every pixel of the core (else the footprints' or the DTM's pixels).
    footprints
        Building footprints: compute the pixels they touch.
    dtm
        Terrain model mosaic (when no footprints): compute pixels more than
        :data:`geo.config.ROOF_MIN_HEIGHT_ABOVE_DTM_M` above it.
    extra_polygons
        Polygons whose pixels are computed too (the sites of :mod:`geo.sites` meeting the tile).
    """

    grid: RasterGrid
    window: tuple[int, int, int, int]
    halo_px: int
    weather: Weather
    settings: SolarSettings
    sky: SkyBins
    all_pixels: bool = False
    footprints: Footprints | None = None
    dtm: RasterGrid | None = None
    extra_polygons: tuple[BaseGeometry, ...] = ()


@dataclass(frozen=True)
class TileResult:
    """The 15 bands (:mod:`geo.products.irradiance` order, NaN = not computed) of a tile's core window."""

    window: tuple[int, int, int, int]
    bands: np.ndarray  # float32 (15, rows, cols)

    @property
    def n_pixels(self) -> int:
        return int(np.isfinite(self.bands[product.ANNUAL]).sum())


def result_bands(result: IrradianceResult, core: tuple[slice, slice] | None = None) -> np.ndarray:
    """The 15 bands of an :class:`IrradianceResult` (or of its ``core`` window), in file order, float32: a
    view of :attr:`IrradianceResult.bands`, whose order is the file's."""
    rs, cs = core if core is not None else (slice(None), slice(None))
    return result.bands[:, rs, cs]


def engine_tags(settings: SolarSettings) -> product.EngineTags:
    """What the irradiation raster records of the engine settings."""
    return product.EngineTags(
        albedo=settings.albedo,
        sky_model=f"Perez 1990 ({config.SOLAR_PEREZ_COEFFICIENTS}, pvlib), circumsolar shaded with the beam, "
                  "isotropic part x sky view factor, horizon band shaded by the horizon",
        horizon_directions=settings.n_directions, horizon_distance_m=settings.distance_m,
    )


def _tile_mask(task: IrradianceTileTask, core_bounds: Bounds, core_shape: tuple[int, int],
               core_transform: Affine, dsm_files: list[Path]) -> np.ndarray | None | bool:
    """The pixels of the core to compute (None = all), or False when the tile has none."""
    if task.all_pixels:
        return None
    mask = _roof_mask(task, core_bounds, core_shape, core_transform, dsm_files)
    if task.extra_polygons and mask is not None:
        extra = rasterio.features.rasterize(((g, 1) for g in task.extra_polygons), out_shape=core_shape,
                                            transform=core_transform, fill=0, all_touched=True,
                                            dtype="uint8").astype(bool)
        return extra if mask is False else np.asarray(mask | extra)
    return mask


def _roof_mask(task: IrradianceTileTask, core_bounds: Bounds, core_shape: tuple[int, int],
               core_transform: Affine, dsm_files: list[Path]) -> np.ndarray | None | bool:
    if task.footprints is not None:
        return task.footprints.mask(core_shape, core_transform)
    if task.dtm is None:
        return None
    dtm_files = task.dtm.files_intersecting(core_bounds)
    if not dtm_files:
        return False
    dtm = read_raster(dtm_files, bounds=core_bounds)
    if dtm.shape != core_shape:
        raise InputError(dtm_files[0], f"DTM grid {dtm.shape} does not match the DSM's {core_shape}")
    dsm_core = read_raster(dsm_files, bounds=core_bounds)
    with np.errstate(invalid="ignore"):
        return np.asarray((dsm_core.data - dtm.data) > config.ROOF_MIN_HEIGHT_ABOVE_DTM_M)


def irradiance_tile(task: IrradianceTileTask,
                    progress: Callable[[int, int], None] | None = None) -> TileResult | None:
    """The unit of work of the irradiance stage: one DSM tile with its halo → its 15 bands.

    Reads the DSM files intersecting the tile and its halo (and the footprints or DTM that choose
    the pixels), runs :func:`geo.solar.irradiance.compute_irradiance` and returns the core
    window's bands; None when the tile has no pixel to compute (then nothing or only the tile
    itself was read). Pure function of ``task`` (no global state): tiles may run in any order,
    in other processes or on other machines; ``progress(rows_done, rows_total)`` is optional.
    """
    grid = task.grid
    r0, r1, c0, c1 = task.window
    core_bounds = grid.window_bounds(r0, r1, c0, c1)
    core_transform = grid.transform @ Affine.translation(c0, r0)
    core_shape = (r1 - r0, c1 - c0)
    dsm_files = grid.files_intersecting(core_bounds)
    if not dsm_files:
        return None
    mask = _tile_mask(task, core_bounds, core_shape, core_transform, dsm_files)
    if mask is False or (isinstance(mask, np.ndarray) and not mask.any()):
        return None
    # The tile and its halo (the horizon reach), from the files intersecting it, clipped to the
    # mosaic: beyond it there is no data, and compute_irradiance takes the outside as open.
    halo_m = task.halo_px * grid.res_m
    hx0, hy0, hx1, hy1 = core_bounds
    haloed = grid.clip((hx0 - halo_m, hy0 - halo_m, hx1 + halo_m, hy1 + halo_m))
    # cache=True: a worker keeps the whole files decoded for the next tiles that read them (same values).
    tile = read_raster(grid.files_intersecting(haloed), bounds=haloed, cache=True)
    dr = int(round((tile.transform.f - core_transform.f) / grid.res_m))
    dc = int(round((core_transform.c - tile.transform.c) / grid.res_m))
    core = (slice(dr, dr + core_shape[0]), slice(dc, dc + core_shape[1]))
    if not np.isfinite(tile.data[core]).any():
        return None
    # Only the core window is computed and returned: memory is the haloed DSM, its max-filter
    # pyramid and the core's results, not 15 bands (and the normals) over the haloed tile.
    res_t = compute_irradiance(tile, task.weather, mask=mask if isinstance(mask, np.ndarray) else None,
                               settings=task.settings, sky=task.sky,
                               progress=progress, window=(dr, dr + core_shape[0], dc, dc + core_shape[1]))
    del tile
    return TileResult(task.window, result_bands(res_t))


def _tile_windows(rows: int, cols: int, tile_px: int) -> list[tuple[int, int, int, int]]:
    return [
        (r, min(r + tile_px, rows), c, min(c + tile_px, cols))
        for r in range(0, rows, tile_px)
        for c in range(0, cols, tile_px)
    ]


def plan_irradiance_tiles(
    grid: RasterGrid,
    weather: Weather,
    *,
    settings: SolarSettings,
    tile_px: int,
    all_pixels: bool = False,
    footprints: Footprints | None = None,
    dtm: RasterGrid | None = None,
    extra_polygons: Sequence[BaseGeometry] = (),
) -> list[IrradianceTileTask]:
    """The tasks of a run: one per ``tile_px`` square of the mosaic, in row-major order.

    ``extra_polygons`` (e.g. ground-PV sites) add their pixels to the footprint or DTM mask; each
    task carries those meeting its tile.
    """
    sched = horizon_schedule(settings.n_directions, settings.distance_m, grid.res_m,
                             near_px=settings.near_px, samples_per_octave=settings.samples_per_octave)
    sky = bin_sky(weather, bin_minutes=settings.bin_minutes, month_parts=settings.month_parts)
    index = shapely.STRtree(list(extra_polygons)) if len(extra_polygons) and not all_pixels else None

    def extra_in(w: tuple[int, int, int, int]) -> tuple[BaseGeometry, ...]:
        if index is None:
            return ()
        hits = index.query(shapely.box(*grid.window_bounds(*w)), predicate="intersects")
        return tuple(index.geometries.take(np.sort(hits)))

    return [IrradianceTileTask(grid, w, sched.pad, weather, settings, sky, all_pixels,
                               None if all_pixels else footprints, None if all_pixels or footprints else dtm,
                               extra_in(w))
            for w in _tile_windows(*grid.shape, tile_px)]


@dataclass(frozen=True)
class IrradiancePlan:
    """The tasks of an irradiance run and what the merged file needs (grid, tags, tile size)."""

    tasks: list[IrradianceTileTask]
    grid: RasterGrid
    tags: dict[str, str]
    tile_px: int

    def tile_name(self, k: int) -> str:
        """File stem of tile ``k``: its window's upper-left pixel (stable whatever the schedule)."""
        r0, _, c0, _ = self.tasks[k].window
        return f"r{r0:07d}_c{c0:07d}"


def plan_irradiance(
    dsm_paths: Sequence[str | Path],
    *,
    dtm_paths: Sequence[str | Path] = (),
    weather_path: str | Path | None = None,
    footprints_path: str | Path | None = None,
    all_pixels: bool = False,
    settings: SolarSettings | None = None,
    tile_px: int | None = None,
    weather: Weather | None = None,
    extra_polygons: Sequence[BaseGeometry] = (),
) -> IrradiancePlan:
    """The tiles of an irradiance run (the parameters are :func:`irradiance_from_files`')."""
    settings = settings or SolarSettings()
    paths = [Path(p) for p in dsm_paths]
    if not paths:
        raise InputError(None, "no DSM file given")
    grid = read_grid(paths)  # headers only: checks every file, reads no pixel
    dtm = read_grid(list(dtm_paths)) if dtm_paths and footprints_path is None and not all_pixels else None
    footprints = Footprints.open(footprints_path, grid.crs) if footprints_path is not None and not all_pixels else None
    weather = weather or load_weather(Path(weather_path) if weather_path else None)
    log.info("weather: %s", weather.summary())
    rows, cols = grid.shape
    res = grid.res_m
    tile_px = tile_px or max(int(round(config.LIDAR_TILE_SIZE_M / res)), 1)
    if min(rows, cols) * res < settings.distance_m:
        log.warning(
            "the DSM (%.0f m x %.0f m) is smaller than the horizon distance (%.0f m): the horizon beyond "
            "it is taken as open", cols * res, rows * res, settings.distance_m,
        )
    if footprints is None and dtm is None and not all_pixels:
        log.info("no footprints and no DTM: computing every pixel")
    tasks = plan_irradiance_tiles(grid, weather, settings=settings, tile_px=tile_px, all_pixels=all_pixels,
                                  footprints=footprints, dtm=dtm, extra_polygons=extra_polygons)
    return IrradiancePlan(tasks, grid, product.dataset_tags(weather.info, engine_tags(settings), paths), tile_px)


def irradiance_tile_file(plan: IrradiancePlan, k: int, tile_dir: str | Path) -> Path:
    """Run tile ``k`` into ``tile_dir`` unless it is already there; return its file.

    The bands are written atomically as ``<name>.tif``, the tile COG of the mosaic
    (:func:`geo.products.irradiance.write_tile`: encoding, overviews, the plan's tags), or
    ``<name>.empty`` when the tile has no pixel to compute: a file that exists is complete, so a
    killed build re-run computes only the tiles without one.
    """
    tile_dir = Path(tile_dir)
    name = plan.tile_name(k)
    for done in (tile_dir / f"{name}.tif", tile_dir / f"{name}.empty"):
        if done.exists():
            return done
    result = irradiance_tile(plan.tasks[k])
    if result is None:
        out = tile_dir / f"{name}.empty"
        write_text_atomic(out, "no pixel to compute\n")
        return out
    r0, _, c0, _ = result.window
    return product.write_tile(tile_dir / f"{name}.tif", result.bands,
                              transform=plan.grid.transform @ Affine.translation(c0, r0), crs=plan.grid.crs,
                              tags=plan.tags, tile_px=plan.tile_px)


def merge_irradiance_tiles(plan: IrradiancePlan, tile_dir: str | Path, out_path: str | Path) -> list[Path]:
    """Publish the tile files of ``tile_dir`` as the mosaic ``out_path`` (:mod:`geo.products.irradiance`).

    Each tile file is hard-linked (copied where the file system cannot link) into the mosaic's tile
    folder, replacing atomically what is there; then the overview VRTs and the mosaic are written,
    atomically, the mosaic last; then the files of the folder the mosaic does not name are removed.
    Nothing is re-encoded (except tile files of an earlier build's format): seconds, whatever the area.
    Returns the mosaic, its overview VRTs and its tile files (the products to record in the manifest).
    """
    tile_dir, out_path = Path(tile_dir), Path(out_path)
    names = [plan.tile_name(k) for k in range(len(plan.tasks))]
    missing = [n for n in names if not (tile_dir / f"{n}.tif").exists() and not (tile_dir / f"{n}.empty").exists()]
    if missing:
        raise ArtoisError(f"{tile_dir}: {len(missing)} irradiance tile(s) not computed yet, e.g. {missing[0]}")
    folder = product.tile_folder(out_path)
    folder.mkdir(parents=True, exist_ok=True)
    tiles: list[tuple[Path, tuple[int, int, int, int]]] = []
    for task, name in zip(plan.tasks, names, strict=True):
        src = tile_dir / f"{name}.tif"
        if src.exists():
            if not product.is_tile_file(src, tile_px=plan.tile_px):  # of an earlier build's format
                with rasterio.open(src) as ds:
                    transform, crs = ds.transform, ds.crs
                product.write_tile(src, product.read_tile(src), transform=transform, crs=crs, tags=plan.tags,
                                   tile_px=plan.tile_px)
            dst = folder / src.name
            link_or_copy(src, dst)
            tiles.append((dst, task.window))
    vrts = product.write_mosaic(out_path, tiles, plan.grid, plan.tags, tile_px=plan.tile_px)
    keep = {p for p, _ in tiles} | set(vrts)
    for stale in folder.iterdir():  # tiles of an earlier build of another area
        if stale not in keep and stale.is_file():
            stale.unlink()
    return [*vrts, *(p for p, _ in tiles)]


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
    extra_polygons: Sequence[BaseGeometry] = (),
) -> Path:
    """Compute the irradiation raster (:mod:`geo.products.irradiance`) as one COG from DSM files, tile by tile.

    Memory is bounded by one tile with its halo (a LiDAR HD tile and 1 km of horizon: about
    6,000 × 6,000 px at 0.5 m), not by the area: each tile is an :class:`IrradianceTileTask`
    run by :func:`irradiance_tile`, whose bands are written into the output as they come.

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
    extra_polygons
        Polygons (in the DSM's CRS) whose pixels are computed too, e.g. ground-PV sites and car
        parks; ignored with ``all_pixels`` or when every pixel is computed anyway.

    Returns
    -------
    Path
        ``out_path``.
    """
    plan = plan_irradiance(dsm_paths, dtm_paths=dtm_paths, weather_path=weather_path,
                           footprints_path=footprints_path, all_pixels=all_pixels, settings=settings,
                           tile_px=tile_px, weather=weather, extra_polygons=extra_polygons)
    tasks, grid, tags, tile_px = plan.tasks, plan.grid, plan.tags, plan.tile_px
    bar = None
    if progress if progress is not None else sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=len(tasks) * 1000, desc="irradiance", unit="‰", file=sys.stderr,
                   bar_format="{l_bar}{bar}| {elapsed}<{remaining}")
    n_pixels = n_computed_tiles = 0
    try:
        with product.irradiance_writer(out_path, grid, tags, tile_px=tile_px) as out:
            for n, task in enumerate(tasks):

                def tick(done: int, total: int, n: int = n) -> None:
                    if bar is not None:
                        bar.n = n * 1000 + int(1000 * done / max(total, 1))
                        bar.refresh()

                result = irradiance_tile(task, tick)
                if result is not None:
                    n_pixels += result.n_pixels
                    n_computed_tiles += 1
                    out.write(result.bands, result.window[0], result.window[2])
                tick(1, 1)
    finally:
        if bar is not None:
            bar.close()
    log.info("irradiance: %d pixels computed in %d of %d tiles", n_pixels, n_computed_tiles, len(tasks))
    if n_pixels == 0:
        log.warning("no pixel to compute: %s is all nodata", out_path)
    return Path(out_path)


def build_irradiance(ctx: BuildContext) -> list[Path]:
    """Pipeline stage, in this process: ``data_dir/rooftops`` → the mosaic ``irradiance.vrt`` and its tiles
    (roof pixels only).

    Reads the IGN LiDAR HD MNS tiles under ``rooftops/lidar/``, the roof mask from
    ``rooftops/batiment.gpkg`` (else height above the MNT tiles), and the build's weather
    (:attr:`geo.pipeline.BuildContext.weather`). The ground of the sites under ``sites/`` (friches,
    car parks: :mod:`geo.sites`) is computed too. Returns the products (:func:`merge_irradiance_tiles`).
    """
    out = ctx.products.irradiance
    plan = plan_build_irradiance(ctx)
    with atomic_tempdir(out) as tile_dir:  # the tiles' files outlive it: they are linked into the product
        for k in range(len(plan.tasks)):
            irradiance_tile_file(plan, k, tile_dir)
        return merge_irradiance_tiles(plan, tile_dir, out)


def _stage_inputs(ctx: BuildContext) -> dict[str, object]:
    rooftops = ctx.data_dir / "rooftops"
    dsm = find_lidar_tiles(rooftops / "lidar", "MNS")
    try:
        dtm = find_lidar_tiles(rooftops / "lidar", "MNT")
    except InputError:
        dtm = []
    footprints = rooftops / "batiment.gpkg"
    return {"dsm_paths": dsm, "dtm_paths": dtm, "footprints_path": footprints if footprints.is_file() else None,
            "extra_polygons": _site_polygons(ctx.data_dir)}


def plan_build_irradiance(ctx: BuildContext, settings: SolarSettings | None = None) -> IrradiancePlan:
    """The tiles of the pipeline's irradiance stage (the inputs of :func:`build_irradiance`)."""
    return plan_irradiance(**_stage_inputs(ctx), settings=settings, weather=ctx.weather)  # type: ignore[arg-type]


def _site_polygons(data_dir: Path) -> list[BaseGeometry]:
    """Polygons of the ground-PV and car-park sites of ``data_dir/sites`` (none when absent or unreadable:
    the sites stage then reports the file's problem)."""
    try:
        from geo.sites.build import site_polygons

        return site_polygons(data_dir)
    except InputError as exc:
        log.warning("sites not added to the irradiance: %s", exc)
        return []
