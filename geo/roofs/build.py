"""The roofs stage: DSM (+ DTM, footprints, BAN, communes, weather) + irradiation raster → ``rooftops.gpkg``."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio.features
import shapely
from affine import Affine
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from geo import config
from geo.errors import ArtoisError, InputError
from geo.io.ban import read_ban
from geo.io.cadastre import read_parcels
from geo.io.communes import read_communes
from geo.io.rasters import find_lidar_tiles, read_grid, read_raster
from geo.io.roof_groups import RoofGroupFile, read_roof_group, write_roof_group
from geo.io.weather import load_weather
from geo.pipeline import BuildContext
from geo.products import irradiance as irradiance_product
from geo.products import rooftops
from geo.roofs.aggregate import building_economics, building_table, commune_table
from geo.roofs.detection import detect_buildings
from geo.roofs.pv import OrientationYield, SiteModel
from geo.roofs.reconcile import WindowReader, reconcile_footprints, with_quality
from geo.roofs.scoring import SiteSummary, score_faces, site_summary
from geo.roofs.segmentation import (
    ISSUE_KEYS,
    first_pixel_key,
    local_planes,
    prepare_footprints,
    segment_roofs,
)
from geo.types import Bounds, Raster, RasterGrid, TaskMap, Weather, WeatherInfo, bounds_intersect, serial_map

log = logging.getLogger("artois.roofs")

@dataclass
class RoofsReport:
    """What :func:`run_roofs` did."""

    path: Path
    n_buildings: int
    n_faces: int
    n_suitable_faces: int
    issues: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def line(self) -> str:
        problems = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in self.issues.items() if v)
        return (f"{self.path}: {self.n_buildings} buildings, {self.n_faces} faces ({self.n_suitable_faces} suitable)"
                f" in {self.seconds:.1f} s" + (f"; warnings: {problems}" if problems else ""))


def _read_footprints(path: Path, crs: CRS) -> tuple[gpd.GeoDataFrame, int]:
    from geo.io.buildings import read_footprints

    try:
        file_crs = pyogrio.read_info(path, layer="batiment" if "batiment" in [
            n for n, _ in pyogrio.list_layers(path)] else None).get("crs")
    except Exception:  # the reader below reports unreadable files with their name
        file_crs = None
    fps = read_footprints(path, crs=crs.to_string())
    moved = len(fps) if file_crs and CRS.from_user_input(file_crs) != crs else 0
    if moved:
        log.warning("%s: %d footprint(s) reprojected from %s to the DSM's CRS %s", path, moved,
                    CRS.from_user_input(file_crs).to_string(), crs.to_string())
    return fps, moved


#: DSM pixels read around a group's footprints beyond their bounds (the segmentation looks at each
#: footprint's pixel box ± 2 px and 3 x 3 neighbourhoods; algorithmic, not a physical constant).
_WINDOW_PAD_PX = 8
#: First margin [m] around a tile when buildings are detected from DSM − DTM; doubled while a
#: building of the tile reaches the window's edge (so no building is cut).
_DETECT_MARGIN_M = 64.0
#: Building-pixel fit residuals kept in memory for the exact noise median (8 bytes each); beyond,
#: the median is found exactly in two passes (a histogram, then the values in its median bins).
_MEDIAN_KEEP = 50_000_000
_HIST_BIN_M = 2e-4
_HIST_BINS = 4096
#: Side [px] of the squares on which the noise's plane fit is made (algorithmic choice).
_NOISE_TILE_PX = 14

@dataclass
class _Group:
    """Buildings processed together: ``members`` (positions in the footprints, ascending) and
    ``context`` (the members and every footprint touching one, ascending: they are rasterized
    too so that each member gets exactly the pixels it gets in a whole-territory run)."""

    members: np.ndarray
    context: np.ndarray
    window: Bounds
    name: str  # the square's lower-left corner in tile_m units, e.g. x682_y7034 (stable file name)


def _plan_groups(fps: gpd.GeoDataFrame, dsm: RasterGrid, tile_m: float) -> list[_Group]:
    """Group the ``ok`` footprints by the ``tile_m`` square holding their representative point."""
    ok = np.flatnonzero((fps["status"] == "ok").to_numpy())
    if ok.size == 0:
        return []
    geoms = fps.geometry.to_numpy()[ok]
    pts = shapely.point_on_surface(geoms)
    kx = np.floor(shapely.get_x(pts) / tile_m).astype(np.int64)
    ky = np.floor(shapely.get_y(pts) / tile_m).astype(np.int64)
    keys = pd.DataFrame({"kx": kx, "ky": ky})
    gid = keys.groupby(["ky", "kx"], sort=True).ngroup().to_numpy()
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=dsm.res_m)
    by_group = np.argsort(gid[left], kind="stable")
    splits = np.searchsorted(gid[left][by_group], np.arange(gid.max() + 2))
    pad = _WINDOW_PAD_PX * dsm.res_m
    groups = []
    order = np.argsort(gid, kind="stable")
    msplits = np.searchsorted(gid[order], np.arange(gid.max() + 2))
    bounds = shapely.bounds(geoms)
    for g in range(int(gid.max()) + 1):
        members = np.sort(order[msplits[g]:msplits[g + 1]])
        ctx = np.unique(np.concatenate([members, right[by_group[splits[g]:splits[g + 1]]]]))
        b = bounds[ctx]
        window = dsm.clip((float(b[:, 0].min()) - pad, float(b[:, 1].min()) - pad,
                           float(b[:, 2].max()) + pad, float(b[:, 3].max()) + pad))
        k = order[msplits[g]]
        groups.append(_Group(ok[members], ok[ctx], window, f"x{kx[k]}_y{ky[k]}"))
    return groups


@dataclass(frozen=True)
class _WindowReader:
    """Reads the DSM (and the DTM when given) over bounds, for :func:`reconcile_footprints`
    (plain values: picklable, so the reconciliation's tasks may run in other processes)."""

    dsm: RasterGrid
    dtm: RasterGrid | None

    def __call__(self, bounds: Bounds) -> tuple[np.ndarray, np.ndarray | None, Affine] | None:
        w = _read_window(self.dsm, self.dsm.clip(bounds))
        if w is None:
            return None
        paths = self.dtm.files_intersecting(w.bounds) if self.dtm is not None else []
        t = read_raster(paths, bounds=w.bounds).data if paths else None
        return w.data, (t if t is not None and t.shape == w.shape else None), w.transform


def _window_reader(dsm: RasterGrid, dtm: Sequence[Path] | None) -> WindowReader:
    """Reads the DSM (and the DTM when given) over bounds, for :func:`reconcile_footprints`."""
    return _WindowReader(dsm, read_grid([Path(p) for p in dtm]) if dtm else None)


def _read_window(dsm: RasterGrid, window: Bounds) -> Raster | None:
    paths = dsm.files_intersecting(window)
    return read_raster(paths, bounds=window) if paths else None


def group_residuals(dsm: RasterGrid, window: Bounds, context: np.ndarray, is_member: np.ndarray) -> np.ndarray:
    """3 x 3 plane-fit residuals [m] of a group's member pixels, as :func:`segment_roofs` computes
    them (a task: the context footprints' polygons and which are members; empty without DSM data),
    in no particular order.

    The fit is made only on the squares of ``_NOISE_TILE_PX`` pixels holding member pixels (most of
    a window is not a building): each square with its 1-pixel rim, side by side in one array, so a
    member pixel sees the same 3 x 3 neighbourhood (heights, labels, NaN beyond the window) as in
    the whole window's fit, and gets the same value.
    """
    dsm_w = _read_window(dsm, window)
    if dsm_w is None:
        return np.zeros(0)
    lab = rasterio.features.rasterize(
        ((g, i + 1) for i, g in enumerate(context)), out_shape=dsm_w.shape, transform=dsm_w.transform,
        fill=0, dtype="int32",
    )
    member = np.concatenate([[False], is_member])[lab]
    t = _NOISE_TILE_PX
    rows, cols = lab.shape
    nr, nc = -(-rows // t), -(-cols // t)
    # the window with a rim of 1 (NaN heights, label −1: as local_planes pads), grown to whole squares
    zp = np.full((nr * t + 2, nc * t + 2), np.nan)
    zp[1:rows + 1, 1:cols + 1] = dsm_w.data
    lp = np.full(zp.shape, -1, dtype=np.int32)
    lp[1:rows + 1, 1:cols + 1] = lab
    mp = np.zeros(zp.shape, dtype=bool)
    mp[1:rows + 1, 1:cols + 1] = member
    ti, tj = np.nonzero(mp[1:-1, 1:-1].reshape(nr, t, nc, t).any(axis=(1, 3)))
    if ti.size == 0:
        return np.zeros(0)
    r = (ti[:, None] * t + np.arange(t + 2))[:, :, None]  # each square with its rim, in padded indices
    c = (tj[:, None] * t + np.arange(t + 2))[:, None, :]

    def side_by_side(a: np.ndarray) -> np.ndarray:
        return a[r, c].transpose(1, 0, 2).reshape(t + 2, ti.size * (t + 2))

    _, _, rms = local_planes(side_by_side(zp), dsm_w.res_m, side_by_side(lp))
    core = np.zeros((t + 2, ti.size, t + 2), dtype=bool)
    core[1:-1, :, 1:-1] = True
    sel = side_by_side(mp) & core.reshape(t + 2, -1)
    v = rms[sel]
    return v[np.isfinite(v)]


def _bins(v: np.ndarray) -> np.ndarray:
    return np.minimum((v / _HIST_BIN_M).astype(np.int64), _HIST_BINS - 1)


def _territory_noise(dsm: RasterGrid, fps: gpd.GeoDataFrame, groups: Sequence[_Group], *,
                     keep: int = _MEDIAN_KEEP, map_tasks: TaskMap = serial_map) -> float:
    """Median 3 x 3 plane-fit residual [m] over all building pixels of the territory, exactly.

    The value a whole-territory :func:`segment_roofs` computes; one :func:`group_residuals` task
    per group (run by ``map_tasks``). A histogram locates the median's bins, then only the values in
    them are sorted: from the values held in memory (up to ``keep``), beyond from a second pass.
    """
    geoms = fps.geometry.to_numpy()
    args = [(dsm, g.window, geoms[g.context], np.isin(g.context, g.members)) for g in groups]
    kept: list[np.ndarray] | None = []
    n_kept = 0
    total = np.zeros(_HIST_BINS, dtype=np.int64)
    for v in map_tasks(group_residuals, args):
        total += np.bincount(_bins(v), minlength=_HIST_BINS)
        if kept is not None:
            n_kept += v.size
            if n_kept > keep:
                kept = None
            else:
                kept.append(v)
    n = int(total.sum())
    if n == 0:
        return 0.0
    # the median's ranks lie in known bins (the bins are monotonic in the value): only the values in them are
    # gathered and sorted, from those kept or from a second pass (np.median would copy and partition them all)
    cum = np.cumsum(total)
    ranks = sorted({(n - 1) // 2, n // 2})
    b_of = [int(np.searchsorted(cum, r, side="right")) for r in ranks]
    base = {b: int(cum[b - 1]) if b > 0 else 0 for b in b_of}
    found: dict[int, list[np.ndarray]] = {b: [] for b in sorted(set(b_of))}
    for v in kept if kept is not None else map_tasks(group_residuals, args):
        bv = _bins(v)
        for b in found:
            found[b].append(v[bv == b])
    vals = []
    for r, b in zip(ranks, b_of, strict=True):
        in_bin = np.sort(np.concatenate(found[b]))
        vals.append(in_bin[r - base[b]])
    return float(np.mean(np.array(vals if len(ranks) == 2 else vals[:1], dtype=np.float64)))


_first_pixel_key = first_pixel_key


def _detect_streamed(dsm: RasterGrid, dtm: RasterGrid, tile_m: float,
                     parcels: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Buildings from DSM − DTM, tile by tile, numbered as a whole-territory :func:`detect_buildings` does.

    Each ``tile_m`` square is detected with a margin (grown until no building of the square
    reaches the window's edge); a building belongs to the square holding the centre of its first
    pixel (top row, leftmost), so none is counted twice or cut.
    """
    gb = dsm.bounds
    res = dsm.res_m
    kept: list[BaseGeometry] = []
    for iy in range(int(np.floor(gb[3] / tile_m - 1e-9)), int(np.floor(gb[1] / tile_m)) - 1, -1):
        for ix in range(int(np.floor(gb[0] / tile_m)), int(np.floor(gb[2] / tile_m - 1e-9)) + 1):
            cell = (ix * tile_m, iy * tile_m, (ix + 1) * tile_m, (iy + 1) * tile_m)
            if not bounds_intersect(cell, gb) or not dsm.files_intersecting(cell):
                continue
            margin = _DETECT_MARGIN_M
            while True:
                window = dsm.clip((cell[0] - margin, cell[1] - margin, cell[2] + margin, cell[3] + margin))
                mine = _detect_window(dsm, dtm, window, cell, res, parcels)
                if mine is None:
                    break
                geoms, cut = mine
                if not cut or window == gb:
                    kept.extend(geoms)
                    break
                margin *= 2.0
    kept.sort(key=_first_pixel_key)
    return gpd.GeoDataFrame({"building_id": [f"dsm-{i}" for i in range(1, len(kept) + 1)]},
                            geometry=kept, crs=CRS.from_user_input(dsm.crs))


def _detect_window(dsm: RasterGrid, dtm: RasterGrid, window: Bounds, cell: Bounds, res: float,
                   parcels: gpd.GeoDataFrame | None = None) -> tuple[list[BaseGeometry], bool] | None:
    dsm_w = _read_window(dsm, window)
    dtm_paths = dtm.files_intersecting(window)
    if dsm_w is None or not dtm_paths:
        return None
    dtm_w = read_raster(dtm_paths, bounds=window)
    if dtm_w.shape != dsm_w.shape:
        raise InputError(dtm_paths[0], f"DTM grid {dtm_w.shape} differs from the DSM's {dsm_w.shape}")
    found = detect_buildings(dsm_w.data, dtm_w.data, dsm_w.transform, crs=CRS.from_user_input(dsm.crs),
                             parcels=parcels)
    wb, gb = dsm_w.bounds, dsm.bounds
    edge = 4 * res
    geoms, cut = [], False
    for g in found.geometry:
        x_left = _first_pixel_key(g)[1]
        cx, cy = x_left + res / 2, g.bounds[3] - res / 2
        if not (cell[0] <= cx < cell[2] and cell[1] <= cy < cell[3]):
            continue
        geoms.append(g)
        b = g.bounds
        cut |= ((b[0] - wb[0] < edge and wb[0] > gb[0]) or (wb[2] - b[2] < edge and wb[2] < gb[2])
                or (b[1] - wb[1] < edge and wb[1] > gb[1]) or (wb[3] - b[3] < edge and wb[3] < gb[3]))
    return geoms, cut


def _empty_faces(crs: CRS) -> gpd.GeoDataFrame:
    cols = {c: pd.Series(dtype=float) for c in rooftops.ROOF_FACES.column_names}
    cols["usable_geometry"] = pd.Series(dtype=object)
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


# ---------------------------------------------------------------------------
# The unit of work: one group of buildings
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RoofsGroupTask:
    """Everything :func:`roofs_group` needs for one group of buildings: plain, picklable values.

    Attributes
    ----------
    dsm
        The DSM mosaic (files and grid; nothing read).
    irradiance
        The irradiance raster or mosaic (``irradiance.vrt``; on the DSM's grid).
    window
        Extent [m] of the DSM read: the context footprints' bounds with a margin, clipped to the mosaic.
    footprints
        The context footprints (``building_id``, ``cleabs``, polygons in the DSM's CRS): the
        members and every footprint touching one, so each member gets exactly the pixels it
        gets in a whole-territory run.
    members
        ``building_id`` of the buildings whose faces this task returns.
    noise_m
        The territory's median 3 x 3 plane-fit residual [m] (:func:`segment_roofs`'s ``noise_m``).
    annual_consumption_kwh
        Household consumption for the recommended installations [kWh/yr].
    """

    dsm: RasterGrid
    irradiance: Path
    window: Bounds
    footprints: gpd.GeoDataFrame
    members: tuple[str, ...]
    noise_m: float
    annual_consumption_kwh: float = config.HOUSEHOLD_CONSUMPTION_KWH_YR


@dataclass(frozen=True)
class GroupResult:
    """What :func:`roofs_group` returns: the members' scored faces, the profiles they use, their
    status and the recommendation / solar hot water of those with faces
    (:func:`geo.roofs.aggregate.building_economics`; None: to be computed by the assembly)."""

    faces: gpd.GeoDataFrame | None  # roof_faces rows (plus usable_geometry); None when the DSM has no data here
    profiles: dict[str, OrientationYield]
    status: dict[str, str]  # building_id -> ok / no_face / no_valid_pixel…
    economics: dict[str, dict[str, object]] | None = None


def roofs_group(task: RoofsGroupTask, site: SiteModel) -> GroupResult:
    """The unit of work of the roofs stage: one group of buildings → their scored roof faces.

    Reads the DSM window, segments the context footprints (:func:`geo.roofs.segmentation.segment_roofs`),
    reads the irradiation bands at the members' faces' sample pixels and scores those faces
    (:func:`geo.roofs.scoring.score_faces`) with ``site``, the PV model of the site and weather, shared by
    every group (it caches the yield of each orientation: a process computes each once). Pure function of
    ``task`` and ``site`` (no global state): groups may run in any order, in other processes or on other
    machines, and give the same faces.
    """
    # one GDAL environment for the task: rasterio's functions called per building (rasterize) otherwise
    # each set one up and tear it down
    with rasterio.Env():
        return _roofs_group(task, site)


def _roofs_group(task: RoofsGroupTask, site: SiteModel) -> GroupResult:
    dsm_w = _read_window(task.dsm, task.window)
    if dsm_w is None:
        return GroupResult(None, {}, dict.fromkeys(task.members, "no_valid_pixel"), {})
    seg = segment_roofs(dsm_w.data, dsm_w.transform, task.footprints, crs=task.footprints.crs,
                        id_column="building_id", noise_m=task.noise_m)
    st = dict(zip(seg.buildings["building_id"], seg.buildings["status"], strict=True))
    keep = np.flatnonzero(seg.faces["building_id"].isin(set(task.members)).to_numpy())
    lut = np.zeros(len(seg.faces) + 1, dtype=np.int32)
    lut[keep + 1] = np.arange(1, keep.size + 1, dtype=np.int32)
    labels = lut[seg.sample_pixels]
    # the irradiation at the members' sample pixels only: a few per cent of the window's, whose 15 bands
    # as float32 would be ~200 MB for a dense 1 km group
    rows, cols = np.nonzero(labels)
    bands = irradiance_product.sample_irradiance(task.irradiance, dsm_w, rows, cols)
    faces, profiles, _ = score_faces(seg.faces.iloc[keep].reset_index(drop=True), labels[rows, cols], bands, site)
    fps = task.footprints
    members = fps[fps["building_id"].isin(set(task.members)).to_numpy()]
    econ = building_economics(members, faces, profiles, temp_air_c=site.monthly_temp_air_c,
                              annual_consumption_kwh=task.annual_consumption_kwh)
    return GroupResult(faces, profiles, {b: st[b] for b in task.members}, econ)


def _group_tasks(fps: gpd.GeoDataFrame, groups: Sequence[_Group], dsm: RasterGrid, irr: Path, noise: float,
                 annual_consumption_kwh: float) -> list[RoofsGroupTask]:
    ids = fps["building_id"].to_numpy()
    return [RoofsGroupTask(dsm, irr, g.window, fps.iloc[g.context].drop(columns="status"),
                           tuple(str(b) for b in ids[g.members]), noise, annual_consumption_kwh)
            for g in groups]


def _assemble_faces(parts: Sequence[gpd.GeoDataFrame], fps: gpd.GeoDataFrame, crs: CRS) -> gpd.GeoDataFrame:
    """The groups' faces in footprint order (faces of a building in their segmentation order)."""
    if not parts:
        return _empty_faces(crs)
    faces = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=crs)
    pos = pd.Series(np.arange(len(fps)), index=fps["building_id"].to_numpy())
    faces = faces.iloc[np.argsort(pos.loc[faces["building_id"]].to_numpy(), kind="stable")]
    return faces.reset_index(drop=True)


# ---------------------------------------------------------------------------
# The stage
# ---------------------------------------------------------------------------


def _buildings(footprints: Path | None, dtm: Sequence[Path] | None, grid: RasterGrid, crs: CRS,
               tile_m: float, parcels: Path | None = None,
               map_tasks: TaskMap = serial_map) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """The footprints checked against the DSM (``building_id``, ``status``), and the problems met."""
    moved = 0
    if footprints is not None:
        raw, moved = _read_footprints(Path(footprints), crs)
    else:
        if not dtm:
            raise InputError(None, "no footprints and no DTM: give --footprints or --dtm to find the buildings")
        plots = read_parcels(parcels, crs=crs.to_string()) if parcels is not None else None
        raw = _detect_streamed(grid, read_grid([Path(p) for p in dtm]), tile_m, plots)
        raw["cleabs"] = None
        log.info("roofs: %d building(s) detected from DSM − DTM", len(raw))
    fps, issues = prepare_footprints(raw, crs, grid.bounds, id_column="building_id")
    issues["reprojected_footprints"] += moved
    if footprints is not None:  # footprints drawn apart from the LiDAR: move them onto its roofs
        fps, moved_issues = reconcile_footprints(fps, _window_reader(grid, dtm), res_m=grid.res_m, tile_m=tile_m,
                                                 map_tasks=map_tasks)
        issues.update(moved_issues)
    return fps, issues


def _weather(weather: Weather | Path | None, header: irradiance_product.IrradianceHeader) -> tuple[Weather, WeatherInfo]:
    """The weather series and what the products report of it (the irradiation raster's, when it says)."""
    w = weather if isinstance(weather, Weather) else load_weather(weather)
    used = header.weather
    if used is not None and used.source != w.source:
        log.warning("roofs: weather %r differs from the irradiation raster's %r", w.source, used.source)
    return w, used or w.info


@dataclass
class RoofsPlan:
    """The roofs stage planned: its group tasks and what assembling their results needs.

    Made once, in the main process, by :func:`plan_roofs`; the tasks (:class:`RoofsGroupTask`,
    small and picklable) may then run anywhere, in any order (:func:`roofs_group`,
    :func:`roofs_group_file`), and :func:`assemble_roofs` writes the product.
    """

    tasks: list[RoofsGroupTask]
    names: list[str]
    members: list[np.ndarray]  # positions in ``footprints`` of each task's members
    footprints: gpd.GeoDataFrame  # building_id, cleabs, status (before the groups run), polygons
    issues: dict[str, int]
    crs: CRS
    site: SiteModel
    summary: SiteSummary
    weather_info: WeatherInfo
    out: Path
    addresses: Path | None
    communes: Path | None
    epci_table: Path | None
    annual_consumption_kwh: float
    seconds: float = 0.0


@dataclass
class RoofsBuildings:
    """The part of the roofs plan that needs no irradiation: the buildings checked against the DSM,
    their groups and the territory's DSM noise (:func:`plan_buildings`). A pipeline may make it
    while the irradiance tiles run, then finish the plan with :func:`plan_roofs`."""

    grid: RasterGrid
    footprints: gpd.GeoDataFrame  # building_id, cleabs, status, polygons
    issues: dict[str, int]
    groups: list[_Group]
    noise_m: float
    seconds: tuple[float, float, float]  # buildings, groups, noise [s]


def plan_buildings(grid: RasterGrid, *, dtm: Sequence[Path] | None = None, footprints: Path | None = None,
                   tile_m: float = config.LIDAR_TILE_SIZE_M, parcels: Path | None = None,
                   map_tasks: TaskMap = serial_map) -> RoofsBuildings:
    """The buildings on the DSM mosaic ``grid`` (footprints read and checked, or detected), their groups
    and the territory's DSM noise (one task per group, run by ``map_tasks``): :func:`plan_roofs`'s long
    part, which reads no irradiation (parameters as :func:`run_roofs`)."""
    if not tile_m > 0:
        raise ValueError(f"tile_m must be > 0, got {tile_m}")
    t0 = time.perf_counter()
    fps, issues = _buildings(footprints, dtm, grid, CRS.from_user_input(grid.crs), tile_m, parcels, map_tasks)
    t1 = time.perf_counter()
    groups = _plan_groups(fps, grid, tile_m)
    t2 = time.perf_counter()
    noise = _territory_noise(grid, fps, groups, map_tasks=map_tasks)
    return RoofsBuildings(grid, fps, issues, groups, noise, (t1 - t0, t2 - t1, time.perf_counter() - t2))


def plan_roofs(
    *,
    irradiance: Path,
    dsm: Sequence[Path],
    out: Path,
    dtm: Sequence[Path] | None = None,
    footprints: Path | None = None,
    addresses: Path | None = None,
    communes: Path | None = None,
    epci_table: Path | None = None,
    weather: Weather | Path | None = None,
    annual_consumption_kwh: float = config.HOUSEHOLD_CONSUMPTION_KWH_YR,
    tile_m: float = config.LIDAR_TILE_SIZE_M,
    parcels: Path | None = None,
    map_tasks: TaskMap = serial_map,
    buildings: RoofsBuildings | None = None,
) -> RoofsPlan:
    """The buildings, their groups, the territory's DSM noise (:func:`plan_buildings`, unless
    ``buildings`` are given, made from the same inputs) and the site model: the tasks of
    :func:`run_roofs` (same parameters)."""
    if buildings is None:
        grid = read_grid([Path(p) for p in dsm])
        header = irradiance_product.read_header(irradiance, like=grid)  # checked before the long work
        buildings = plan_buildings(grid, dtm=dtm, footprints=footprints, tile_m=tile_m, parcels=parcels,
                                   map_tasks=map_tasks)
    else:
        header = irradiance_product.read_header(irradiance, like=buildings.grid)
    t0 = time.perf_counter()  # the rest of the plan (the buildings' own seconds are in buildings.seconds)
    grid, fps, groups, noise = buildings.grid, buildings.footprints, buildings.groups, buildings.noise_m
    w, reported = _weather(weather, header)
    site = SiteModel(w, albedo=header.albedo if header.albedo is not None else config.SOLAR_ALBEDO)
    summary = site_summary(site)  # computes and caches the site's optimum before the groups get the site
    tasks = _group_tasks(fps, groups, grid, Path(irradiance), noise, annual_consumption_kwh)
    t_b, t_g, t_n = buildings.seconds
    seconds = t_b + t_g + t_n + time.perf_counter() - t0
    log.info("roofs: %d building(s) in %d group(s); DSM fit residual median %.4f m; planned in %.1f s "
             "(buildings %.1f s, groups %.1f s, noise %.1f s)", int((fps["status"] == "ok").sum()), len(groups),
             noise, seconds, t_b, t_g, t_n)
    return RoofsPlan(tasks, [g.name for g in groups], [g.members for g in groups], fps, buildings.issues,
                     CRS.from_user_input(grid.crs), site, summary, reported, Path(out), addresses, communes,
                     epci_table, annual_consumption_kwh, seconds)


def _profile_bins(profiles: dict[str, OrientationYield]) -> dict[str, tuple[float, float, bool]]:
    return {pid: (p.tilt_deg, p.azimuth_deg, pid == "rack") for pid, p in profiles.items()}


def roofs_group_file(task: RoofsGroupTask, site: SiteModel, name: str, group_dir: str | Path) -> Path:
    """Run one group into ``group_dir/<name>.parquet`` unless it is already there; return the file.

    The file (:mod:`geo.io.roof_groups`) is written atomically: one that exists is complete,
    so a killed build re-run computes only the groups without one.
    """
    path = Path(group_dir) / f"{name}.parquet"
    if path.exists():
        return path
    result = roofs_group(task, site)
    return write_roof_group(path, RoofGroupFile(result.faces, result.status, _profile_bins(result.profiles),
                                                result.economics), crs=task.footprints.crs)


def read_group_file(plan: RoofsPlan, path: str | Path) -> GroupResult:
    """A group's result from its file; its profiles are recomputed from the plan's site model
    (the same pvlib calls as in the task: the same numbers)."""
    g = read_roof_group(path)
    profiles = {pid: plan.site.orientation(tilt, az, rack=rack, profile_id=pid)
                for pid, (tilt, az, rack) in g.profile_bins.items()}
    return GroupResult(g.faces, profiles, g.status, g.economics)


def assemble_roofs(plan: RoofsPlan, results: Sequence[GroupResult]) -> RoofsReport:
    """The groups' results (in the plan's order) → buildings, communes, quality → ``plan.out``."""
    t0 = time.perf_counter()
    fps = plan.footprints.copy()
    issues = dict(plan.issues)
    site, summary, reported = plan.site, plan.summary, plan.weather_info
    status = fps["status"].to_numpy().copy()
    parts: list[gpd.GeoDataFrame] = []
    all_profiles: dict[str, OrientationYield] = {}
    econ: dict[str, dict[str, object]] | None = {}
    for members, task, result in zip(plan.members, plan.tasks, results, strict=True):
        status[members] = [result.status[b] for b in task.members]
        all_profiles.update(result.profiles)
        if econ is not None and result.economics is not None:
            econ.update(result.economics)
        else:  # a group of an older build: the assembly computes every building's economics
            econ = None
        if result.faces is not None:
            parts.append(result.faces)
    issues["no_valid_pixel"] = int((status == "no_valid_pixel").sum())
    fps["status"] = status
    faces = _assemble_faces(parts, fps, plan.crs)
    profiles = {pid: all_profiles[pid] for pid in dict.fromkeys(faces["profile_id"].tolist())}
    crs_s = plan.crs.to_string()
    addr = read_ban(plan.addresses, crs=crs_s) if plan.addresses is not None else None
    com = read_communes(plan.communes, epci_table=plan.epci_table, crs=crs_s) if plan.communes is not None else None
    buildings = building_table(fps, faces, profiles, temp_air_c=site.monthly_temp_air_c,
                               weather_source=reported.label(), addresses=addr, communes=com,
                               annual_consumption_kwh=plan.annual_consumption_kwh, economics=econ)
    site_row = rooftops.Site(
        summary.optimum_tilt_deg, summary.optimum_azimuth_deg, summary.optimum_irradiation_kwh_m2_yr,
        config.FLAT_ROOF_RACK_TILT_DEG, summary.rack_pitch_m, summary.rack_gcr, summary.winter_noon_elevation_deg,
        reported, plan.annual_consumption_kwh, config.PV_TARIFF_QUARTER, len(buildings), len(faces),
        site.monthly_temp_air_c, {k: int(issues.get(k, 0)) for k in ISSUE_KEYS},
    )
    buildings = with_quality(buildings, fps, faces)
    path = rooftops.write_rooftops(plan.out, faces=faces, buildings=buildings,
                                   communes=commune_table(buildings, faces, com), profiles=profiles.values(),
                                   site=site_row)
    n_suit = int((faces["suitability"] != config.SUITABILITY_UNSUITABLE).sum()) if len(faces) else 0
    report = RoofsReport(Path(path), len(buildings), len(faces), n_suit, issues, time.perf_counter() - t0)
    log.info("roofs: %s (assembled)", report.line())
    return report


def run_roofs(
    *,
    irradiance: Path,
    dsm: Sequence[Path],
    out: Path,
    dtm: Sequence[Path] | None = None,
    footprints: Path | None = None,
    addresses: Path | None = None,
    communes: Path | None = None,
    epci_table: Path | None = None,
    weather: Weather | Path | None = None,
    annual_consumption_kwh: float = config.HOUSEHOLD_CONSUMPTION_KWH_YR,
    tile_m: float = config.LIDAR_TILE_SIZE_M,
    parcels: Path | None = None,
) -> RoofsReport:
    """Segment, score and aggregate the roofs, and write ``out`` (:mod:`geo.products.rooftops`).

    The territory is processed in groups of buildings (those whose representative point lies in
    one ``tile_m`` square), each a :class:`RoofsGroupTask` run by :func:`roofs_group`, reading
    only the DSM and irradiation windows covering its footprints, so memory is bounded by a tile,
    not the territory. The results do not depend on ``tile_m``: each building sees exactly the
    pixels and the territory-wide noise estimate of a single whole-territory run.

    In this process, in order: :func:`plan_roofs`, :func:`roofs_group` per group,
    :func:`assemble_roofs` (the pipeline runs the groups as cluster tasks through files,
    :func:`roofs_group_file`).

    Parameters
    ----------
    irradiance
        The engine's raster (a single COG, or the build's ``irradiance.vrt`` mosaic), in the DSM's grid.
    dsm, dtm
        Surface model files (IGN LiDAR HD MNS tiles or any GeoTIFF) and, optionally, terrain
        model files (needed when no footprints are given: buildings are then detected from the
        height above the terrain).
    footprints
        BD TOPO ``batiment`` (or OSM buildings); optional.
    addresses
        BAN ``adresses-XX.csv``; optional.
    communes, epci_table
        Commune polygons (geo.api.gouv.fr GeoJSON) and the commune → EPCI table; optional.
    weather
        The weather the irradiation was computed with, or its file (default: the offline climatology).
    annual_consumption_kwh
        Household consumption for the recommended installations [kWh/yr].
    tile_m
        Side of the squares buildings are grouped by [m] (default: an IGN LiDAR HD tile).
    parcels
        Cadastral parcels (the cadastre's ``parcelles``); optional, used without footprints:
        detected buildings are cut along parcel boundaries (:func:`geo.roofs.rows.split_by_parcels`).
    """
    t0 = time.perf_counter()
    plan = plan_roofs(irradiance=irradiance, dsm=dsm, out=out, dtm=dtm, footprints=footprints, addresses=addresses,
                      communes=communes, epci_table=epci_table, weather=weather,
                      annual_consumption_kwh=annual_consumption_kwh, tile_m=tile_m, parcels=parcels)
    report = assemble_roofs(plan, [roofs_group(task, plan.site) for task in plan.tasks])
    report.seconds = time.perf_counter() - t0
    return report


def _first(folder: Path, patterns: Sequence[str]) -> Path | None:
    for pat in patterns:
        found = sorted(folder.glob(pat))
        if found:
            return found[0]
    return None


def _stage_inputs(ctx: BuildContext) -> dict[str, object]:
    """:func:`run_roofs`'s arguments for the pipeline's data folder (see :func:`build_roofs`)."""
    roof = ctx.data_dir / "rooftops"
    lidar = roof / "lidar"
    dsm = find_lidar_tiles(lidar, "MNS")
    try:
        dtm: list[Path] | None = find_lidar_tiles(lidar, "MNT")
    except InputError:
        dtm = None
    fp = roof / "batiment.gpkg"
    communes = ctx.data_dir / "parks" / "communes.geojson"
    epci = ctx.data_dir / "parks" / "pma-communes-epci.csv"
    return dict(
        irradiance=ctx.products.irradiance, dsm=dsm, dtm=dtm, out=ctx.products.rooftops,
        footprints=fp if fp.exists() else None,
        addresses=_first(roof, ("adresses-*.csv", "adresses-*.csv.gz")),
        communes=communes if communes.exists() else None,
        epci_table=epci if (communes.exists() and epci.exists()) else None,
        weather=ctx.weather,
        parcels=_first(roof, ("parcelles.geojson", "cadastre-*-parcelles.json*")),
    )


def plan_build_buildings(ctx: BuildContext, map_tasks: TaskMap = serial_map) -> RoofsBuildings:
    """The buildings, groups and noise of the pipeline's roofs stage (:func:`plan_buildings`; no irradiation
    read: the pipeline may run it beside the irradiance tiles)."""
    inputs = _stage_inputs(ctx)
    return plan_buildings(read_grid(inputs["dsm"]),  # type: ignore[arg-type]
                          **{k: inputs[k] for k in ("dtm", "footprints", "parcels")},  # type: ignore[arg-type]
                          map_tasks=map_tasks)


def plan_build_roofs(ctx: BuildContext, map_tasks: TaskMap = serial_map,
                     buildings: RoofsBuildings | None = None) -> RoofsPlan:
    """The groups of the pipeline's roofs stage (the inputs of :func:`build_roofs`), from ``buildings``
    (:func:`plan_build_buildings`) when given."""
    return plan_roofs(**_stage_inputs(ctx), map_tasks=map_tasks, buildings=buildings)  # type: ignore[arg-type]


def assemble_roofs_files(plan: RoofsPlan, group_dir: str | Path,
                         read: Mapping[str, GroupResult] | None = None) -> Path:
    """``rooftops.gpkg`` from the group files of ``group_dir`` (:func:`roofs_group_file`); ``read``: groups
    already read with :func:`read_group_file` (by name: e.g. while the others were computed)."""
    group_dir = Path(group_dir)
    read = read or {}
    missing = [n for n in plan.names if n not in read and not (group_dir / f"{n}.parquet").exists()]
    if missing:
        raise ArtoisError(f"{group_dir}: {len(missing)} roofs group(s) not computed yet, e.g. {missing[0]}")
    report = assemble_roofs(plan, [read[n] if n in read else read_group_file(plan, group_dir / f"{n}.parquet")
                                   for n in plan.names])
    return report.path


def build_roofs(ctx: BuildContext) -> list[Path]:
    """Pipeline stage: ``data_dir/rooftops`` + the irradiance mosaic → ``rooftops.gpkg``, in this process.

    Reads the LiDAR HD MNS (and MNT) tiles under ``rooftops/lidar``, ``rooftops/batiment.gpkg``
    (else buildings are detected from DSM − DTM, cut along the parcels of
    ``rooftops/parcelles.geojson`` when present), ``rooftops/adresses-*.csv``, the build's weather
    (:attr:`geo.pipeline.BuildContext.weather`), and ``parks/communes.geojson`` +
    ``parks/pma-communes-epci.csv`` when present. (``artois build`` runs the same stage as
    :func:`plan_build_roofs`, one :func:`roofs_group_file` task per group, :func:`assemble_roofs_files`.)
    """
    return [run_roofs(**_stage_inputs(ctx)).path]  # type: ignore[arg-type]
