"""Geometry of shading: a block on flat ground, one time step — the shadow is the analytic one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest
import shapely
from affine import Affine
from rasterio.crs import CRS
from shapely.geometry import box

from geo import config
from geo.io.rasters import Raster
from geo.io.weather import read_weather_csv
from geo.solar.irradiance import SolarSettings, compute_irradiance

RES = 1.0
X0, Y0 = 685000.0, 7038000.0  # upper-left corner [m], Lambert-93
HEIGHT = 10.0


def _weather(tmp_path: Path, when: str) -> Path:
    """A one-step plain CSV (clear sky) at ``when`` (the middle of the interval)."""
    t = pd.DatetimeIndex([pd.Timestamp(when, tz="UTC")])
    sp = pvlib.solarposition.get_solarposition(t, 50.4322, 2.8333)
    dni, dhi = 700.0, 100.0
    ghi = dni * np.cos(np.radians(sp["apparent_zenith"].iloc[0])) + dhi
    path = tmp_path / "one_step.csv"
    path.write_text(
        "# latitude=50.4322\n# longitude=2.8333\n# altitude=40\n"
        f"time_middle,ghi,dni,dhi\n{t[0].isoformat()},{ghi:.3f},{dni},{dhi}\n", encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(("n_dir", "near_px"), [(360, 60), (32, config.HORIZON_NEAR_SAMPLES)])
@pytest.mark.parametrize("when", ["2023-03-20 14:10", "2023-06-21 07:20", "2023-12-21 11:40"])
def test_block_shadow_is_the_analytic_shadow_within_one_pixel(
    tmp_path: Path, when: str, n_dir: int, near_px: int
) -> None:
    """With 1° directions and the exact (interpolated) scan over the shadow's length, the shadow is
    the analytic one within 1 px. With the default scan (32 directions, exact to 32 px, then
    windows of ≤ 1/16 of the distance), the sun's azimuth falls between two scanned directions and
    far obstacles are placed within ±1/32 of their distance: the shadow's edges may move by up to
    L·tan(Δφ/2) sideways and L/32 at its far end, L the shadow's length (documented resolution)."""
    weather = read_weather_csv(_weather(tmp_path, when))
    sp = pvlib.solarposition.get_solarposition(weather.data.index, weather.latitude_deg, weather.longitude_deg,
                                               altitude=weather.altitude_m)
    elev, azim = float(sp["apparent_elevation"].iloc[0]), float(sp["azimuth"].iloc[0])
    assert elev > 10

    n = 140
    z = np.zeros((n, n), dtype=np.float32)
    r0, r1, c0, c1 = 60, 80, 60, 80  # a 20 m x 20 m block in the middle
    z[r0:r1, c0:c1] = HEIGHT
    dsm = Raster(z, Affine(RES, 0, X0, 0, -RES, Y0), CRS.from_epsg(2154))
    res = compute_irradiance(dsm, weather, settings=SolarSettings(distance_m=60.0, n_directions=n_dir, near_px=near_px))

    # Analytic shadow: ground points P with P + t·u inside the footprint for some 0 ≤ t < H/tan(e),
    # u the horizontal direction towards the sun: the footprint swept away from the sun.
    foot = box(X0 + c0 * RES, Y0 - r1 * RES, X0 + c1 * RES, Y0 - r0 * RES)
    length = HEIGHT / np.tan(np.radians(elev))
    ux, uy = np.sin(np.radians(azim)), np.cos(np.radians(azim))
    swept = shapely.convex_hull(shapely.union(foot, shapely.affinity.translate(foot, -length * ux, -length * uy)))
    rows, cols = np.mgrid[0:n, 0:n]
    xs, ys = X0 + (cols + 0.5) * RES, Y0 - (rows + 0.5) * RES
    pts = shapely.points(xs.ravel(), ys.ravel())
    analytic = shapely.contains(swept, pts).reshape(n, n)
    exact = n_dir >= 360
    lateral = 0.0 if exact else length * (np.tan(np.radians(360.0 / n_dir / 2)) + 1 / 32)
    near_edge = (shapely.distance(swept.boundary, pts) <= RES + lateral).reshape(n, n)
    near_block = (shapely.distance(foot, pts) <= 1.5 * RES).reshape(n, n)

    computed = np.isfinite(res.shading_loss)
    ground = computed & ~near_block & (z == 0)
    engine = res.shading_loss > 0.5  # beam lost (diffuse-only pixels lose ~85 % of this sky)
    wrong = ground & (engine != analytic)
    assert not (wrong & ~near_edge).any(), f"{int((wrong & ~near_edge).sum())} pixels beyond 1 px of the edge"
    # The shadow is big and its area right.
    shadow_px = int((ground & analytic).sum())
    assert shadow_px > 250
    # The DSM gives heights at pixel centres, so a block's top edge is a ramp half a pixel inside
    # its cells: the shadow is up to half a pixel smaller all round than the cells' shadow.
    assert abs(int((ground & engine).sum()) - shadow_px) <= (0.08 if exact else 0.12) * shadow_px
    # Lit ground away from the block gets beam + sky; shaded ground only (most of) the sky.
    lit = ground & ~analytic & ~near_edge
    assert np.nanmin(res.shading_loss[lit]) >= 0 and np.nanmedian(res.shading_loss[lit]) < 0.05
