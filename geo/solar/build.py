"""The irradiation stage: DSM files (+ DTM, footprints, weather) → ``irradiance.tif``.

The area is processed in square tiles; each tile is read with a halo equal to the horizon
reach, so a pixel's result does not depend on the tiling (tested). Which pixels are computed:

* ``all_pixels=True``: every pixel with a complete 3×3 neighbourhood;
* else footprints given: pixels touched by a building footprint (roofs, with their edges);
* else a DTM given: pixels more than :data:`geo.config.ROOF_MIN_HEIGHT_ABOVE_DTM_M` above it;
* else every pixel (logged).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import rasterio.features
from affine import Affine

from geo import config
from geo.errors import InputError
from geo.io.rasters import Raster, find_lidar_tiles, read_raster, write_geotiff
from geo.io.vectors import list_layers, read_vector
from geo.io.weather import Weather, load_weather
from geo.solar.horizon import horizon_schedule
from geo.solar.irradiance import IrradianceResult, SolarSettings, compute_irradiance
from geo.solar.sky import bin_sky

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
#: Tile side [px] of tiled runs (a LiDAR HD tile: 1 km at 0.5 m).
TILE_PX = 2000


def roof_mask_from_footprints(footprints_path: str | Path, grid: Raster) -> np.ndarray:
    """Pixels of ``grid`` touched by a building footprint (layer ``batiment`` when present)."""
    footprints_path = Path(footprints_path)
    layers = list_layers(footprints_path)
    layer = "batiment" if "batiment" in layers else (layers[0] if layers else None)
    xmin, ymin, xmax, ymax = grid.bounds
    gdf = read_vector(footprints_path, layer=layer, crs=grid.crs.to_string(), geometry_types=("Polygon",),
                      allow_empty=True)
    if gdf.empty:
        return np.zeros(grid.shape, dtype=bool)
    gdf = gdf.cx[xmin:xmax, ymin:ymax]
    if gdf.empty:
        return np.zeros(grid.shape, dtype=bool)
    return rasterio.features.rasterize(
        ((g, 1) for g in gdf.geometry), out_shape=grid.shape, transform=grid.transform, fill=0,
        all_touched=True, dtype="uint8",
    ).astype(bool)


def _tile_windows(rows: int, cols: int, tile_px: int) -> list[tuple[int, int, int, int]]:
    return [
        (r, min(r + tile_px, rows), c, min(c + tile_px, cols))
        for r in range(0, rows, tile_px)
        for c in range(0, cols, tile_px)
    ]


def irradiance_from_files(
    dsm_paths: Sequence[str | Path],
    out_path: str | Path,
    *,
    dtm_paths: Sequence[str | Path] = (),
    weather_path: str | Path | None = None,
    footprints_path: str | Path | None = None,
    all_pixels: bool = False,
    settings: SolarSettings | None = None,
    tile_px: int = TILE_PX,
    progress: bool | None = None,
    weather: Weather | None = None,
) -> Path:
    """Compute ``irradiance.tif`` (15 bands, docs/data-dictionary.md) from DSM files.

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
        Tile side [px]; each tile is read with a halo of the horizon reach.
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
    weather = weather or load_weather(Path(weather_path) if weather_path else None)
    log.info("weather: %s", weather.summary())
    grid = read_raster(paths)
    rows, cols = grid.shape
    res = grid.res_m
    mask = _pixel_mask(grid, all_pixels=all_pixels, footprints_path=footprints_path, dtm_paths=dtm_paths)
    sched = horizon_schedule(settings.n_directions, settings.distance_m, res,
                             near_px=settings.near_px, samples_per_octave=settings.samples_per_octave)
    halo = sched.pad
    if min(rows, cols) * res < settings.distance_m:
        log.warning(
            "the DSM (%.0f m x %.0f m) is smaller than the horizon distance (%.0f m): the horizon beyond "
            "it is taken as open", cols * res, rows * res, settings.distance_m,
        )
    sky = bin_sky(weather, bin_minutes=settings.bin_minutes, month_parts=settings.month_parts)
    out = np.full((15, rows, cols), np.nan, dtype=np.float32)
    windows = _tile_windows(rows, cols, tile_px)
    bar = None
    if progress if progress is not None else sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=len(windows) * 1000, desc="irradiance", unit="‰", file=sys.stderr,
                   bar_format="{l_bar}{bar}| {elapsed}<{remaining}")
    try:
        for n, (r0, r1, c0, c1) in enumerate(windows):
            # The tile and its halo (the horizon reach): pixels outside the mosaic are nodata.
            hr0, hr1, hc0, hc1 = max(r0 - halo, 0), min(r1 + halo, rows), max(c0 - halo, 0), min(c1 + halo, cols)
            tile = Raster(grid.data[hr0:hr1, hc0:hc1], grid.transform @ Affine.translation(hc0, hr0), grid.crs,
                          grid.sources)
            core = np.zeros(tile.shape, dtype=bool)
            core[r0 - hr0 : r1 - hr0, c0 - hc0 : c1 - hc0] = True
            tile_mask = core & mask[hr0:hr1, hc0:hc1]

            def tick(done: int, total: int, n: int = n) -> None:
                if bar is not None:
                    bar.n = n * 1000 + int(1000 * done / max(total, 1))
                    bar.refresh()

            res_t = compute_irradiance(tile, weather, mask=tile_mask, settings=settings, sky=sky, progress=tick)
            out[:, r0:r1, c0:c1] = res_t.bands()[:, r0 - hr0 : r1 - hr0, c0 - hc0 : c1 - hc0]
            tick(1, 1)
    finally:
        if bar is not None:
            bar.close()
    return write_irradiance(out_path, out, grid.transform, grid.crs, weather, settings, sources=paths)


def _pixel_mask(
    grid: Raster, *, all_pixels: bool, footprints_path: str | Path | None, dtm_paths: Sequence[str | Path]
) -> np.ndarray:
    """Which pixels to compute (see the module docstring)."""
    if all_pixels:
        return np.ones(grid.shape, dtype=bool)
    if footprints_path is not None:
        mask = roof_mask_from_footprints(footprints_path, grid)
        log.info("roof pixels from footprints %s: %d", footprints_path, int(mask.sum()))
        return mask
    if dtm_paths:
        dtm = read_raster(list(dtm_paths), bounds=grid.bounds)
        if dtm.shape != grid.shape:
            raise InputError(Path(dtm_paths[0]), f"DTM grid {dtm.shape} does not match the DSM's {grid.shape}")
        with np.errstate(invalid="ignore"):
            mask = (grid.data - dtm.data) > config.ROOF_MIN_HEIGHT_ABOVE_DTM_M
        log.info("roof pixels from height above the DTM > %g m: %d", config.ROOF_MIN_HEIGHT_ABOVE_DTM_M,
                 int(mask.sum()))
        return np.asarray(mask)
    log.info("no footprints and no DTM: computing every pixel")
    return np.ones(grid.shape, dtype=bool)


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
