"""I/O of the roof cadastre: the irradiation raster read in the DSM's grid, and ``rooftops.gpkg``.

``rooftops.gpkg`` holds the spatial layers ``roof_faces``, ``buildings``, ``communes_solar`` and
two attribute tables: ``pv_profiles`` (one row per orientation bin: monthly performance and the
8760 hourly shares, base64 float32, that :func:`geo.roofs.economics.simulate` needs) and
``site`` (one row: best plane, flat-roof rack spacing, weather, monthly air temperature).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
from rasterio.errors import RasterioError, RasterioIOError
from rasterio.windows import from_bounds

from geo.errors import CRSError, InputError
from geo.io._atomic import atomic_path
from geo.io.rasters import Raster
from geo.io.vectors import list_layers

#: Bands of the engine's raster (docs/data-dictionary.md).
IRRADIANCE_BANDS = 15


def read_irradiance(path: str | Path, like: Raster) -> tuple[np.ndarray, dict[str, str]]:
    """Read the engine's 15-band irradiation raster over the grid of ``like`` (the DSM).

    Returns
    -------
    bands
        float32 (15, rows, cols) with NaN for nodata and outside the raster.
    tags
        The raster's dataset tags (WEATHER_SOURCE, …).

    Raises
    ------
    InputError
        Missing or unreadable file, fewer than 15 bands, another CRS or pixel size than the DSM.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found (run the irradiance stage first: artois build --only irradiance)")
    try:
        ds = rasterio.open(path)
    except RasterioIOError as exc:
        raise InputError(path, f"not a readable raster ({str(exc).splitlines()[0]})") from exc
    with ds:
        if ds.count < IRRADIANCE_BANDS:
            raise InputError(path, f"{ds.count} band(s); the irradiation raster has {IRRADIANCE_BANDS}")
        if ds.crs is None or ds.crs != like.crs:
            raise CRSError(path, f"CRS {ds.crs.to_string() if ds.crs else 'none'} differs from the DSM's "
                                 f"({like.crs.to_string()})")
        if abs(abs(ds.transform.a) - like.res_m) > 1e-6:
            raise InputError(path, f"pixel size {abs(ds.transform.a)} m differs from the DSM's ({like.res_m} m)")
        win = from_bounds(*like.bounds, transform=ds.transform)
        win = win.round_offsets().round_lengths()
        inside = (win.col_off >= 0 and win.row_off >= 0 and win.col_off + win.width <= ds.width
                  and win.row_off + win.height <= ds.height)
        try:
            data = ds.read(
                list(range(1, IRRADIANCE_BANDS + 1)), window=win, boundless=not inside,
                out_dtype="float32", out_shape=(IRRADIANCE_BANDS, *like.shape),
                **({} if inside else {"fill_value": np.nan}),
            )
        except RasterioError as exc:
            raise InputError(path, f"corrupt raster ({str(exc).splitlines()[0]})") from exc
        if ds.nodata is not None and np.isfinite(ds.nodata):
            data[data == np.float32(ds.nodata)] = np.nan
        tags = {str(k): str(v) for k, v in ds.tags().items()}
    return data, tags


def write_rooftops(
    path: str | Path,
    layers: Mapping[str, gpd.GeoDataFrame],
    tables: Mapping[str, pd.DataFrame],
) -> Path:
    """Write the spatial ``layers`` (with R-tree index) and attribute ``tables`` into one GeoPackage, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        for name, gdf in layers.items():
            pyogrio.write_dataframe(gdf, tmp, layer=name, driver="GPKG", spatial_index=True)
        for name, df in tables.items():
            pyogrio.write_dataframe(pd.DataFrame(df), tmp, layer=name, driver="GPKG")
    return path


def _read_table(path: Path, layer: str) -> pd.DataFrame:
    layers = list_layers(path)
    if layer not in layers:
        raise InputError(path, f"no layer '{layer}' (layers: {', '.join(layers) or 'none'})")
    try:
        return pd.DataFrame(pyogrio.read_dataframe(path, layer=layer, read_geometry=False))
    except Exception as exc:  # pyogrio raises several kinds
        raise InputError(path, f"cannot read layer '{layer}' ({str(exc).splitlines()[0] if str(exc) else exc})") from exc


def read_pv_profiles(path: str | Path) -> dict[str, np.ndarray]:
    """Hourly production profiles of ``rooftops.gpkg`` by ``profile_id`` (8760 shares each)."""
    from geo.roofs.pv import decode_profile

    path = Path(path)
    df = _read_table(path, "pv_profiles")
    if "profile_id" not in df.columns or "hourly_share" not in df.columns:
        raise InputError(path, "layer 'pv_profiles' lacks profile_id / hourly_share")
    try:
        return {str(r.profile_id): decode_profile(str(r.hourly_share)) for r in df.itertuples(index=False)}
    except (ValueError, TypeError) as exc:
        raise InputError(path, f"layer 'pv_profiles': bad profile ({exc})") from exc


def read_site(path: str | Path) -> dict[str, object]:
    """The one-row ``site`` table of ``rooftops.gpkg`` as a dict."""
    df = _read_table(Path(path), "site")
    if df.empty:
        raise InputError(path, "layer 'site' is empty")
    return {str(k): v for k, v in df.iloc[0].to_dict().items()}
