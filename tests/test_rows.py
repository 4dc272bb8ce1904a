"""Terraced rows cut into houses without footprints (geo/roofs/rows.py, geo/roofs/detection.py).

Known-truth scenes drawn here by hand (not by the sample generator): gable rows of houses on
flat ground, with party walls rising above the roofs and roofs stepping between houses where
the test says, 8 cm of DSM noise, 0.5 m pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

from geo.roofs.detection import detect_buildings
from geo.roofs.rows import module_cuts

RES = 0.5
GROUND = 40.0
EAVE = 6.0
DEPTH = 9.0  # across the row [m]
TILT = 35.0  # [degrees]
CRS = "EPSG:2154"
X0, Y0 = 700_010.25, 7_040_010.25  # south-west corner of the row, off the pixel grid


def _row(widths: Sequence[float], *, walls: Sequence[int] = (), steps: dict[int, float] | None = None,
         noise_m: float = 0.08, seed: int = 0) -> tuple[np.ndarray, np.ndarray, Affine, list[shapely.Polygon]]:
    """DSM, DTM, transform and the true house outlines of one east-west gable row.

    ``widths`` [m] from the west; ``walls``: boundaries k (between house k-1 and k) with a party
    wall 0.35 m thick rising 0.35 m above the higher roof; ``steps``: {house k: roof raised [m]}.
    """
    length = float(sum(widths))
    size = (int((length + 20) / RES), int((DEPTH + 20) / RES))  # (cols, rows)
    transform = Affine(RES, 0.0, X0 - 10.0, 0.0, -RES, Y0 + DEPTH + 10.0)
    cols, rows = size
    x = transform.c + (np.arange(cols) + 0.5) * RES
    y = transform.f - (np.arange(rows) + 0.5) * RES
    gx, gy = np.meshgrid(x, y)
    u, v = gx - X0, gy - Y0
    on = (u >= 0) & (u < length) & (v >= 0) & (v < DEPTH)
    roof = EAVE + np.tan(np.radians(TILT)) * np.minimum(v, DEPTH - v)
    edges = np.concatenate([[0.0], np.cumsum(widths)])
    level = np.zeros_like(u)
    lift = [0.0] * len(widths)
    for k, dz in (steps or {}).items():
        lift[k] = dz
    for k in range(len(widths)):
        level[(u >= edges[k]) & (u < edges[k + 1])] = lift[k]
    z = roof + level
    reach = 0.175 + 0.5 * RES
    for k in walls:
        wall = on & (np.abs(u - edges[k]) <= reach)
        z[wall] = np.maximum(z[wall], roof[wall] + max(lift[k - 1], lift[k]) + 0.35)
    dsm = GROUND + np.where(on, z, 0.0) + np.random.default_rng(seed).normal(0.0, noise_m, u.shape)
    dtm = np.full(u.shape, GROUND)
    houses = [shapely.box(X0 + a, Y0, X0 + b, Y0 + DEPTH) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return dsm.astype(np.float32), dtm.astype(np.float32), transform, houses


def _matched(found: gpd.GeoDataFrame, houses: list[shapely.Polygon]) -> int:
    """Houses with a detected outline of IoU ≥ 0.5 (one to one: two outlines cannot both pass)."""
    n = 0
    for h in houses:
        iou = [f.intersection(h).area / f.union(h).area for f in found.geometry]
        n += bool(iou) and max(iou) >= 0.5
    return n


def test_module_cuts_puts_cuts_on_equal_houses() -> None:
    # 7 houses of 6 m (42 m): cuts found at 4 of the 6 boundaries, two of them 0.8-1.1 m off
    lattice = -21.0 + 6.0 * np.arange(1, 7)
    found = [lattice[0] + 0.2, lattice[2] - 1.1, lattice[3] + 0.8, lattice[5]]
    assert module_cuts(found, 42.0) == pytest.approx(list(lattice))


@pytest.mark.parametrize(("cuts", "length"), [
    ([-3.0], 42.0),                # one cut: no module to read
    ([-16.0, -8.0, 1.0, 9.5], 36.0),  # 5, 8, 9, 8.5, 4.5 m: houses of different widths
])
def test_module_cuts_leaves_irregular_rows(cuts: list[float], length: float) -> None:
    assert module_cuts(cuts, length) == cuts


def test_row_with_walls_and_steps_is_cut_into_its_houses() -> None:
    """7 houses of 6 m: party walls at 2 boundaries, steps at 2, and 2 boundaries the DSM does not show."""
    dsm, dtm, tr, houses = _row([6.0] * 7, walls=[1, 4], steps={2: 0.2, 3: 0.2, 5: -0.15, 6: -0.15})
    whole = detect_buildings(dsm, dtm, tr, crs=CRS, split_rows=False)
    assert len(whole) == 1 and _matched(whole, houses) == 0
    found = detect_buildings(dsm, dtm, tr, crs=CRS)
    assert len(found) == 7
    assert _matched(found, houses) == 7
    # the cuts lie on the party walls, within a pixel
    xs = sorted(round(g.bounds[0] - X0, 2) for g in found.geometry)[1:]
    assert xs == pytest.approx([6.0 * k for k in range(1, 7)], abs=RES)


def test_row_of_unequal_houses_is_not_put_on_a_module() -> None:
    """Houses of 5, 8, 5, 8 and 6 m, every boundary a party wall: cut where the walls are."""
    widths = [5.0, 8.0, 5.0, 8.0, 6.0]
    dsm, dtm, tr, houses = _row(widths, walls=[1, 2, 3, 4], seed=1)
    found = detect_buildings(dsm, dtm, tr, crs=CRS)
    assert len(found) == 5 and _matched(found, houses) == 5
    xs = sorted(g.bounds[0] - X0 for g in found.geometry)[1:]
    assert xs == pytest.approx(np.cumsum(widths)[:-1].tolist(), abs=RES)


def test_row_under_one_continuous_roof_stays_whole() -> None:
    dsm, dtm, tr, houses = _row([6.0] * 5, seed=2)
    found = detect_buildings(dsm, dtm, tr, crs=CRS)
    assert len(found) == 1
    assert math.isclose(found.geometry.iloc[0].area, 30.0 * DEPTH, rel_tol=0.08)


def _plots(houses: list[shapely.Polygon], *, dx: float = 0.0, dy: float = 0.0) -> gpd.GeoDataFrame:
    """One cadastral parcel per house: its slice of the row from the street (5 m in front) to the end
    of its garden (8 m behind), end plots 1.5 m wider; shifted by (dx, dy) [m] as a cadastral sheet is."""
    plots = []
    for k, h in enumerate(houses):
        x0, y0, x1, y1 = h.bounds
        plots.append(shapely.box(x0 - (1.5 if k == 0 else 0.0) + dx, y0 - 5.0 + dy,
                                 x1 + (1.5 if k == len(houses) - 1 else 0.0) + dx, y1 + 8.0 + dy))
    ids = [f"62498000AB{k + 1:04d}" for k in range(len(plots))]
    return gpd.GeoDataFrame({"parcel_id": ids}, geometry=plots, crs=CRS)


@pytest.mark.parametrize(("dx", "dy"), [(0.0, 0.0), (0.8, -0.6)])
def test_row_under_one_roof_is_cut_along_its_parcels(dx: float, dy: float) -> None:
    """A merged row of 5 houses that the DSM cannot split, with 5 parcels (exact, or drawn 1 m off) -> 5 buildings."""
    dsm, dtm, tr, houses = _row([6.0] * 5, seed=2)
    found = detect_buildings(dsm, dtm, tr, crs=CRS, parcels=_plots(houses, dx=dx, dy=dy))
    assert len(found) == 5 and _matched(found, houses) == 5
    # nothing of the row lost or counted twice
    assert sum(g.area for g in found.geometry) == pytest.approx(30.0 * DEPTH, rel=0.08)
    assert shapely.union_all(list(found.geometry)).area == pytest.approx(sum(g.area for g in found.geometry))


def test_parcels_do_not_cut_off_slivers() -> None:
    """A pair of houses on one parcel whose outline overhangs 1 m into the next parcel (9 m² < 20 m²)
    stays one building; a row owned as one parcel is still cut by its party walls."""
    dsm, dtm, tr, houses = _row([6.0, 6.0], seed=3)
    x0, y0, x1, y1 = shapely.union_all(houses).bounds
    parcels = gpd.GeoDataFrame({"parcel_id": ["A", "B"]}, crs=CRS, geometry=[
        shapely.box(x0 - 2, y0 - 5, x1 - 1.0, y1 + 8), shapely.box(x1 - 1.0, y0 - 5, x1 + 20, y1 + 8)])
    assert len(detect_buildings(dsm, dtm, tr, crs=CRS, parcels=parcels)) == 1
    dsm, dtm, tr, houses = _row([6.0] * 4, walls=[1, 2, 3], seed=4)
    one = gpd.GeoDataFrame({"parcel_id": ["A"]}, crs=CRS, geometry=[shapely.union_all(houses).buffer(5.0)])
    found = detect_buildings(dsm, dtm, tr, crs=CRS, parcels=one)
    assert len(found) == 4 and _matched(found, houses) == 4
