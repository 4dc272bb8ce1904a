"""Small value types shared by every layer of :mod:`geo`: extents, raster grids, the weather series.

This module is the bottom of the dependency graph (docs/architecture.md): it imports nothing
from :mod:`geo.io`, :mod:`geo.solar`, :mod:`geo.roofs`, :mod:`geo.parks` or :mod:`geo.products`,
so the readers (``geo.io``) and the physics (``geo.solar``, ``geo.roofs``) can both use these
types without depending on each other.

* :data:`Bounds` — an extent ``(xmin, ymin, xmax, ymax)`` in a projected CRS [m].
* :class:`Raster` — one band in memory (heights [m] or values; NaN = nodata) with its grid.
* :class:`RasterGrid` — the grid of a mosaic of raster files, known from their headers only.
* :class:`Weather` — a weather time series at interval midpoints, and :class:`WeatherInfo`,
  what every product says about it (source, location, period, approximate flag).
* :data:`PROFILE_YEAR`, :data:`PROFILE_HOURS` — the canonical year of hourly PV profiles.
* :data:`TaskMap`, :func:`serial_map` — how a stage hands its independent tasks to the pipeline's executor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from affine import Affine
from rasterio.crs import CRS

#: An extent (xmin, ymin, xmax, ymax) in the CRS of what it bounds [m].
Bounds = tuple[float, float, float, float]

#: Canonical year of hourly profiles: 8760 local clock hours of a non-leap year (2023 calendar).
PROFILE_YEAR = 2023
PROFILE_HOURS = 8760


def bounds_intersect(a: Bounds, b: Bounds) -> bool:
    """True when the open rectangles ``a`` and ``b`` overlap (touching edges do not count)."""
    return a[0] < b[2] and a[2] > b[0] and a[1] < b[3] and a[3] > b[1]


def clip_bounds(bounds: Bounds, to: Bounds) -> Bounds:
    """``bounds`` clipped to the extent ``to``."""
    return (max(bounds[0], to[0]), max(bounds[1], to[1]), min(bounds[2], to[2]), min(bounds[3], to[3]))


# ---------------------------------------------------------------------------
# Rasters
# ---------------------------------------------------------------------------


class _NorthUpGrid:
    """Pixel size and extent of anything with a north-up ``transform`` and a ``shape`` (rows, cols)."""

    transform: Affine

    if TYPE_CHECKING:

        @property
        def shape(self) -> tuple[int, int]: ...

    @property
    def res_m(self) -> float:
        """Pixel size [m] (square pixels)."""
        return float(self.transform.a)

    @property
    def bounds(self) -> Bounds:
        """(xmin, ymin, xmax, ymax) in the CRS [m]."""
        rows, cols = self.shape
        x0, y1 = self.transform.c, self.transform.f
        return (x0, y1 + rows * self.transform.e, x0 + cols * self.transform.a, y1)


@dataclass(frozen=True)
class Raster(_NorthUpGrid):
    """A single-band raster in memory: heights or values with NaN where there is no data."""

    data: np.ndarray  # float32, shape (rows, cols); NaN = nodata
    transform: Affine  # pixel -> CRS coordinates (north-up)
    crs: CRS
    sources: tuple[str, ...] = field(default=())

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.data.shape[0]), int(self.data.shape[1]))

    def window(self, bounds: Bounds) -> Raster:
        """Sub-raster covering ``bounds`` (snapped outwards to whole pixels, clipped to the raster)."""
        xmin, ymin, xmax, ymax = bounds
        res, x0, y1 = self.transform.a, self.transform.c, self.transform.f
        c0 = max(int(np.floor((xmin - x0) / res + 1e-9)), 0)
        c1 = min(int(np.ceil((xmax - x0) / res - 1e-9)), self.shape[1])
        r0 = max(int(np.floor((y1 - ymax) / res + 1e-9)), 0)
        r1 = min(int(np.ceil((y1 - ymin) / res - 1e-9)), self.shape[0])
        r1, c1 = max(r1, r0), max(c1, c0)
        return Raster(self.data[r0:r1, c0:c1], self.transform @ Affine.translation(c0, r0), self.crs, self.sources)


@dataclass(frozen=True)
class RasterGrid(_NorthUpGrid):
    """The grid of a mosaic of single-band GeoTIFFs, known from their headers (no pixel read).

    It is the grid :func:`geo.io.rasters.read_raster` gives for the same files without ``bounds``
    (:func:`geo.io.rasters.read_grid` makes one).
    """

    transform: Affine  # pixel -> CRS coordinates (north-up)
    crs: CRS
    shape: tuple[int, int]  # (rows, cols)
    files: tuple[tuple[Path, Bounds], ...]  # each file and its extent [m]

    def window_bounds(self, row0: int, row1: int, col0: int, col1: int) -> Bounds:
        """Extent [m] of the pixel window ``rows row0:row1, cols col0:col1``."""
        x0, y1, res = self.transform.c, self.transform.f, self.transform.a
        return (x0 + col0 * res, y1 - row1 * res, x0 + col1 * res, y1 - row0 * res)

    def files_intersecting(self, bounds: Bounds) -> list[Path]:
        """The files whose extent overlaps ``bounds`` (xmin, ymin, xmax, ymax) [m]."""
        return [p for p, b in self.files if bounds_intersect(b, bounds)]

    def clip(self, bounds: Bounds) -> Bounds:
        """``bounds`` clipped to the grid's extent."""
        return clip_bounds(bounds, self.bounds)


# ---------------------------------------------------------------------------
# Weather
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WeatherInfo:
    """What a product says about the weather it was computed with.

    Attributes
    ----------
    source
        What the data are, e.g. ``"EPW athens_2023.epw (Shiny Weather Data)"``.
    location
        Human-readable place and coordinates.
    period
        Human-readable period (``"2023-01-01 – 2023-12-31"``).
    approximate
        True for the offline climatology default (every output says so).
    """

    source: str
    location: str
    period: str
    approximate: bool

    def label(self) -> str:
        """The source with `` (approximate)`` appended when it is approximate and does not say so."""
        if self.approximate and "approximate" not in self.source:
            return f"{self.source} (approximate)"
        return self.source


@dataclass(frozen=True)
class Weather:
    """A weather time series for the solar engine (read by :mod:`geo.io.weather`).

    Attributes
    ----------
    data
        tz-aware DatetimeIndex at the **middle** of each interval; columns ``ghi``, ``dni``,
        ``dhi`` [W/m², mean over the interval], ``temp_air`` [°C], ``wind_speed`` [m/s].
    interval_h
        Length of each interval [h] (1.0 for hourly data).
    latitude_deg, longitude_deg, altitude_m
        Location of the weather [degrees north, degrees east, m]; the sun is computed there.
    source
        What the data are, e.g. ``"EPW athens_2023.epw (Shiny Weather Data)"``.
    location, period
        Human-readable place and period (``"2023-01-01 – 2023-12-31"``).
    approximate
        True for the offline climatology default (every output says so).
    """

    data: pd.DataFrame
    interval_h: float
    latitude_deg: float
    longitude_deg: float
    altitude_m: float
    source: str
    location: str
    period: str
    approximate: bool = False

    @property
    def info(self) -> WeatherInfo:
        """What the products report about this weather."""
        return WeatherInfo(self.source, self.location, self.period, bool(self.approximate))

    def summary(self) -> str:
        """One line: source, location, period (and 'approximate' when it is)."""
        s = f"{self.source} — {self.location}, {self.period}"
        return s + " (approximate)" if self.approximate else s


#: ``map(fn, [args, …])`` → ``fn(*args)`` for each, in any order (the pipeline runs them as cluster tasks).
TaskMap = Callable[[Callable[..., Any], Sequence[tuple[Any, ...]]], Iterable[Any]]


def serial_map(fn: Callable[..., Any], args: Sequence[tuple[Any, ...]]) -> Iterator[Any]:
    """:data:`TaskMap` in this process, in order."""
    return (fn(*a) for a in args)
