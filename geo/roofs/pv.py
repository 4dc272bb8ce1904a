"""PV on a roof face: module layout, production with losses, best plane, hourly profiles.

Production model
----------------
The irradiation raster gives, per face, the monthly irradiation on the face's plane *with*
shading [kWh/m²]. pvlib turns that into AC energy: for each orientation (binned, see
:data:`geo.config.PROFILE_TILT_STEP_DEG`) the weather's hours are run through

* transposition to the plane (Perez 1990, the engine's sky model, albedo from config),
* incidence-angle losses (``pvlib.iam.physical`` on the beam, its Marion integral on the
  diffuse parts),
* cell temperature (``pvlib.temperature.pvsyst_cell``; close-mounted on pitched roofs,
  free-standing on flat-roof racks),
* DC power (``pvlib.pvsystem.pvwatts_dc`` with the module's temperature coefficient),
* the PVGIS system loss (14 %),

which gives a monthly *performance factor* PF_m = AC energy per kWp / unshaded plane
irradiation [kWh/kWp per kWh/m²]. A face's production is then
``E_m = kWp · H_face,m · PF_m``: shading comes from the raster, losses from pvlib. The same run
gives the hour-by-hour share of each month's production (the *profile*), used for
self-consumption without the weather file.

Flat roofs carry modules on south-facing racks at ``FLAT_ROOF_RACK_TILT_DEG``; their irradiation
is the raster's (horizontal) value times the monthly transposition ratio POA(rack)/GHI.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numba import njit
from shapely.geometry import MultiPolygon, Polygon

from geo import config
from geo.types import PROFILE_HOURS, PROFILE_YEAR, Weather

_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


_PROFILE_MONTHS = np.repeat(np.arange(12), _DAYS_IN_MONTH * 24)
_PROFILE_MONTHS.flags.writeable = False


def profile_months() -> np.ndarray:
    """Month index 0-11 of each of the 8760 hours of the canonical year (one shared read-only array)."""
    return _PROFILE_MONTHS


@dataclass(frozen=True)
class OrientationYield:
    """What pvlib says about one module orientation at the site (unshaded).

    Attributes
    ----------
    profile_id
        Bin name, e.g. ``t30a180`` or ``rack``.
    tilt_deg, azimuth_deg
        Module plane [°] (azimuth 180 = south).
    poa_kwh_m2
        Monthly irradiation on the plane [kWh/m²] (12 values; per year when the weather spans
        several).
    ac_kwh_kwp
        Monthly AC energy per kWp [kWh/kWp] after temperature, incidence and system losses.
    performance
        ``ac_kwh_kwp / poa_kwh_m2`` [kWh/kWp per kWh/m²].
    g_eff_w_m2
        Energy-weighted mean plane irradiance per month, Σ G² / Σ G [W/m²] (the irradiance at
        which a collector gathers its energy; used by the solar hot water model).
    hourly_share
        8760 values: share of its month's AC energy produced in each hour of the canonical year
        (local clock time); each month sums to 1.
    """

    profile_id: str
    tilt_deg: float
    azimuth_deg: float
    poa_kwh_m2: np.ndarray
    ac_kwh_kwp: np.ndarray
    performance: np.ndarray
    g_eff_w_m2: np.ndarray
    hourly_share: np.ndarray


def orientation_bin(tilt_deg: float, azimuth_deg: float, *, is_flat: bool = False) -> tuple[str, float, float]:
    """Profile bin of a face: (profile_id, bin tilt [°], bin azimuth [°]); flat faces use the rack."""
    if is_flat:
        return "rack", config.FLAT_ROOF_RACK_TILT_DEG, config.FLAT_ROOF_RACK_AZIMUTH_DEG
    ts, azs = config.PROFILE_TILT_STEP_DEG, config.PROFILE_AZIMUTH_STEP_DEG
    t = float(min(90.0, round(tilt_deg / ts) * ts))
    if t == 0.0 or not math.isfinite(azimuth_deg):
        return "t00a180", 0.0, 180.0
    a = float((round(azimuth_deg / azs) * azs) % 360.0)
    return f"t{int(t):02d}a{int(a):03d}", t, a


@dataclass
class SiteModel:
    """pvlib model of PV at one site for one weather series (caches orientations).

    Parameters
    ----------
    weather
        The weather (``data`` with ghi/dni/dhi [W/m²], temp_air [°C], wind_speed [m/s] at
        interval midpoints; ``interval_h``; location).
    albedo
        Ground albedo [0-1] (the engine's).
    """

    weather: Weather
    albedo: float = config.SOLAR_ALBEDO
    _cache: dict[tuple[str, float, float], OrientationYield] = field(default_factory=dict)

    def __post_init__(self) -> None:
        import pvlib

        w = self.weather
        data: pd.DataFrame = w.data
        self._lat = float(w.latitude_deg)
        self._lon = float(w.longitude_deg)
        self._interval_h = float(w.interval_h)
        times = data.index
        sp = pvlib.solarposition.get_solarposition(times, self._lat, self._lon)
        self._zen = sp["apparent_zenith"].to_numpy(float)
        self._saz = sp["azimuth"].to_numpy(float)
        self._dni_extra = np.asarray(pvlib.irradiance.get_extra_radiation(times), float)
        self._airmass = np.asarray(pvlib.atmosphere.get_relative_airmass(self._zen), float)
        self._ghi = data["ghi"].to_numpy(float)
        self._dni = data["dni"].to_numpy(float)
        self._dhi = data["dhi"].to_numpy(float)
        self._tair = data["temp_air"].to_numpy(float) if "temp_air" in data else np.full(len(data), 10.0)
        self._wind = data["wind_speed"].to_numpy(float) if "wind_speed" in data else np.full(len(data), 2.0)
        # local clock time -> canonical hour of the year
        idx = pd.DatetimeIndex(times)
        idx = idx if idx.tz is not None else idx.tz_localize("UTC")
        if str(idx.tz) in ("UTC", "utc"):
            idx = idx.tz_convert(config.PMA_TIMEZONE)
        month = idx.month.to_numpy()
        self._month = month - 1
        doy = idx.day_of_year.to_numpy()
        leap = idx.is_leap_year
        feb29 = leap & (month == 2) & (idx.day.to_numpy() == 29)
        doy = np.where(leap & (doy > 59), doy - 1, doy)
        self._hour_key = np.where(feb29, -1, (doy - 1) * 24 + idx.hour.to_numpy())
        # years of data per month (to average several years)
        hours = np.bincount(self._month, minlength=12) * self._interval_h
        self._years = np.maximum(hours / (_DAYS_IN_MONTH * 24.0), 1e-9)
        self.monthly_temp_air_c = np.array([
            float(np.mean(self._tair[self._month == m])) if (self._month == m).any() else math.nan for m in range(12)
        ])

    # -- hourly physics ------------------------------------------------------------------
    def _poa(self, tilt: float, az: float) -> dict[str, np.ndarray]:
        import pvlib

        poa = pvlib.irradiance.get_total_irradiance(
            tilt, az, self._zen, self._saz, self._dni, self._ghi, self._dhi, dni_extra=self._dni_extra,
            airmass=self._airmass, albedo=self.albedo, model=config.SOLAR_SKY_MODEL,
        )
        return {k: np.nan_to_num(np.asarray(v, float)) for k, v in poa.items()}

    def _monthly(self, hourly: np.ndarray) -> np.ndarray:
        return np.bincount(self._month, weights=hourly, minlength=12)[:12] / self._years

    def plane_irradiation_kwh_m2(self, tilt_deg: float, azimuth_deg: float) -> np.ndarray:
        """Monthly unshaded irradiation on a plane [kWh/m²] (pvlib, the engine's sky model)."""
        return self._monthly(self._poa(tilt_deg, azimuth_deg)["poa_global"] * self._interval_h / 1000.0)

    def ghi_kwh_m2(self) -> np.ndarray:
        """Monthly global horizontal irradiation [kWh/m²]."""
        return self._monthly(self._ghi * self._interval_h / 1000.0)

    def orientation(self, tilt_deg: float, azimuth_deg: float, *, rack: bool = False,
                    profile_id: str | None = None) -> OrientationYield:
        """Unshaded yield, performance factor and hourly profile of one module orientation."""
        import pvlib

        key = (profile_id or "", float(tilt_deg), float(azimuth_deg))
        if key in self._cache:
            return self._cache[key]
        poa = self._poa(tilt_deg, azimuth_deg)
        aoi = np.asarray(pvlib.irradiance.aoi(tilt_deg, azimuth_deg, self._zen, self._saz), float)
        iam_b = np.nan_to_num(np.asarray(pvlib.iam.physical(aoi), float))
        iam_d = pvlib.iam.marion_diffuse(config.PV_IAM_MODEL, max(tilt_deg, 1e-3))
        eff = (poa["poa_direct"] * iam_b + poa["poa_sky_diffuse"] * float(iam_d["sky"])
               + poa["poa_ground_diffuse"] * float(iam_d["ground"]))
        u_c = config.PV_THERMAL_UC_RACK_W_M2K if rack else config.PV_THERMAL_UC_PITCHED_W_M2K
        eta = config.MODULE_PEAK_POWER_WP / (1000.0 * config.MODULE_LENGTH_M * config.MODULE_WIDTH_M)
        tcell = pvlib.temperature.pvsyst_cell(
            poa["poa_global"], self._tair, self._wind, u_c=u_c, u_v=config.PV_THERMAL_UV_W_M3SK,
            module_efficiency=eta, alpha_absorption=config.PV_ALPHA_ABSORPTION,
        )
        dc_kw = np.asarray(pvlib.pvsystem.pvwatts_dc(eff, tcell, 1.0, config.MODULE_GAMMA_PDC_PER_K), float)
        ac_kwh = np.clip(dc_kw, 0.0, None) * (1.0 - config.PV_SYSTEM_LOSS) * self._interval_h
        poa_m = self._monthly(poa["poa_global"] * self._interval_h / 1000.0)
        ac_m = self._monthly(ac_kwh)
        g = poa["poa_global"]
        g_eff = np.bincount(self._month, weights=g * g, minlength=12)[:12] / np.maximum(
            np.bincount(self._month, weights=g, minlength=12)[:12], 1e-9)
        # canonical hourly profile: mean over years for each clock hour, share of its month
        ok = self._hour_key >= 0
        sums = np.bincount(self._hour_key[ok], weights=ac_kwh[ok], minlength=PROFILE_HOURS)[:PROFILE_HOURS]
        cnt = np.bincount(self._hour_key[ok], minlength=PROFILE_HOURS)[:PROFILE_HOURS]
        prof = np.where(cnt > 0, sums / np.maximum(cnt, 1), np.nan)
        prof = pd.Series(prof).interpolate(limit_direction="both").fillna(0.0).to_numpy()  # DST gap
        months = profile_months()
        month_tot = np.bincount(months, weights=prof, minlength=12)
        share = np.where(month_tot[months] > 0, prof / np.maximum(month_tot[months], 1e-12), 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            perf = np.where(poa_m > 0, ac_m / poa_m, 0.0)
        out = OrientationYield(
            profile_id or f"t{tilt_deg:g}a{azimuth_deg:g}", float(tilt_deg), float(azimuth_deg), poa_m, ac_m,
            perf, g_eff, share,
        )
        self._cache[key] = out
        return out

    def optimum(self) -> tuple[float, float, float]:
        """Best fixed plane at the site: (tilt [°], azimuth [°], annual unshaded irradiation [kWh/m²/yr]).

        Maximises the annual plane irradiation (pvlib transposition, same weather) with a
        Nelder-Mead search from 35° south.
        """
        from scipy.optimize import minimize

        if hasattr(self, "_optimum"):
            return self._optimum  # type: ignore[has-type,no-any-return]
        south = 180.0 if self._lat >= 0 else 0.0

        def neg(x: np.ndarray) -> float:
            return -float(self.plane_irradiation_kwh_m2(float(np.clip(x[0], 0, 90)), float(x[1])).sum())

        res = minimize(neg, x0=np.array([35.0, south]), method="Nelder-Mead",
                       options={"xatol": 0.5, "fatol": 0.05, "initial_simplex": np.array(
                           [[35.0, south], [45.0, south], [35.0, south + 15.0]])})
        tilt, az = float(np.clip(res.x[0], 0, 90)), float(res.x[1] % 360.0)
        self._optimum = (tilt, az, -float(res.fun))
        return self._optimum

    def winter_noon_elevation_deg(self) -> float:
        """Sun elevation at solar noon of the winter solstice at the site [°] (pvlib SPA)."""
        import pvlib

        month, day = (int(v) for v in config.FLAT_ROOF_SPACING_DAY.split("-"))
        if self._lat < 0:
            month, day = 6, 21
        times = pd.date_range(f"{PROFILE_YEAR}-{month:02d}-{day:02d} 00:00", periods=24 * 60, freq="1min", tz="UTC")
        sp = pvlib.solarposition.get_solarposition(times, self._lat, self._lon)
        return float(sp["apparent_elevation"].max())


# ---------------------------------------------------------------------------
# Module layout
# ---------------------------------------------------------------------------

def rack_ground_cover_ratio(rack_tilt_deg: float, module_depth_m: float, sun_elevation_deg: float) -> tuple[float, float]:
    """Row pitch [m] and ground-cover ratio of south-facing rows without self-shading at a sun elevation.

    pitch = L cos β + L sin β / tan h, GCR = L / pitch (L the module side along the slope).
    """
    b, h = math.radians(rack_tilt_deg), math.radians(max(sun_elevation_deg, 1.0))
    pitch = module_depth_m * math.cos(b) + module_depth_m * math.sin(b) / math.tan(h)
    return pitch, module_depth_m / pitch


@njit(cache=True)
def _summed_area(mask: np.ndarray) -> np.ndarray:  # pragma: no cover - numba
    """Summed-area table: sat[i, j] = cells of ``mask[:i, :j]`` that are set."""
    rows, cols = mask.shape
    sat = np.zeros((rows + 1, cols + 1), dtype=np.int64)
    for i in range(rows):
        run = 0
        for j in range(cols):
            run += mask[i, j]
            sat[i + 1, j + 1] = sat[i, j + 1] + run
    return sat


@njit(cache=True)
def _count_rows(sat: np.ndarray, h: int, w: int, step_rows: int, gap: int) -> int:  # pragma: no cover - numba
    """Best count over row offsets: in each row of the lattice, greedy left-to-right packing.

    A module (h x w cells) fits with its upper-left cell at (r, c) when the box lies inside the mask
    (summed-area table ``sat`` of :func:`_summed_area`); -1 when the mask is smaller than the box.
    """
    rows, cols = sat.shape[0] - 1 - h + 1, sat.shape[1] - 1 - w + 1
    if rows <= 0 or cols <= 0:
        return -1
    full = h * w
    best = 0
    for oy in range(step_rows):
        total = 0
        r = oy
        while r < rows:
            c = 0
            while c < cols:
                if sat[r + h, c + w] - sat[r, c + w] - sat[r + h, c] + sat[r, c] == full:
                    total += 1
                    c += w + gap
                else:
                    c += 1
            r += step_rows
        if total > best:
            best = total
    return best


_OGR_EPSILON = 1e-5  # OGR's tolerance for coincident vertices in its ring orientation test


@njit(cache=True)
def _ogr_is_clockwise(x: np.ndarray, y: np.ndarray) -> bool:  # pragma: no cover - numba
    """Orientation of a closed ring as OGR decides it (``OGRSimpleCurve::isClockwise``): the turn at the
    lowest-rightmost vertex, or the sign of Green's sum when that vertex is degenerate."""
    n = x.size
    if n < 3:
        return True
    fallback = False
    v = 0
    for i in range(1, n - 1):
        if y[i] < y[v] or (y[i] == y[v] and x[i] > x[v]):
            v = i
            fallback = False
        elif y[i] == y[v] and x[i] == x[v]:
            fallback = True
    prev = v - 1
    if prev < 0:
        prev = n - 2
    if abs(x[prev] - x[v]) < _OGR_EPSILON and abs(y[prev] - y[v]) < _OGR_EPSILON:
        fallback = True
    dx0 = x[prev] - x[v]
    dy0 = y[prev] - y[v]
    nxt = v + 1
    if nxt >= n - 1:
        nxt = 0
    if abs(x[nxt] - x[v]) < _OGR_EPSILON and abs(y[nxt] - y[v]) < _OGR_EPSILON:
        fallback = True
    dx1 = x[nxt] - x[v]
    dy1 = y[nxt] - y[v]
    cross = dx1 * dy0 - dx0 * dy1
    if not fallback:
        if cross > 0:
            return False
        if cross < 0:
            return True
    total = x[0] * (y[1] - y[n - 1])
    for i in range(1, n - 1):
        total += x[i] * (y[i + 1] - y[i - 1])
    total += x[n - 1] * (y[0] - y[n - 2])
    return total < 0


@njit(cache=True)
def _fill_polygon(mask: np.ndarray, px: np.ndarray, py: np.ndarray,
                  part_sizes: np.ndarray) -> None:  # pragma: no cover - numba
    """Set the cells of ``mask`` whose centre lies inside the rings (pixel coordinates: x right, y down).

    The scanline rule of GDAL's ``GDALdllImageFilledPolygon`` (what ``rasterio.features.rasterize``
    applies without ``all_touched``): on each row's centre line y + 0.5, the ring edges crossing it
    (lower end included, upper end excluded) give x intersections rounded with floor(x + 0.5),
    sorted and taken in pairs [x1, x2); a horizontal edge lying on the centre line and running
    right to left is filled from its left to its right end. Same arithmetic, so the same cells.
    """
    nrows, ncols = mask.shape
    n = px.size
    if n == 0:
        return
    dminy = py[0]
    dmaxy = py[0]
    for i in range(1, n):
        if py[i] < dminy:
            dminy = py[i]
        if py[i] > dmaxy:
            dmaxy = py[i]
    miny = int(dminy)  # C cast: truncation toward zero
    maxy = int(dmaxy)
    if miny < 0:
        miny = 0
    if maxy >= nrows:
        maxy = nrows - 1
    ints = np.empty(n, dtype=np.int64)
    for y in range(miny, maxy + 1):
        dy = y + 0.5
        nint = 0
        partoffset = 0
        part = 0
        for i in range(n):
            if i == partoffset + part_sizes[part]:
                partoffset += part_sizes[part]
                part += 1
            if i == partoffset:
                ind1 = partoffset + part_sizes[part] - 1
                ind2 = partoffset
            else:
                ind1 = i - 1
                ind2 = i
            dy1 = py[ind1]
            dy2 = py[ind2]
            if (dy1 < dy and dy2 < dy) or (dy1 > dy and dy2 > dy):
                continue
            if dy1 < dy2:
                dx1 = px[ind1]
                dx2 = px[ind2]
            elif dy1 > dy2:
                dy2 = py[ind1]
                dy1 = py[ind2]
                dx2 = px[ind1]
                dx1 = px[ind2]
            else:
                if px[ind1] > px[ind2]:  # a bottom horizontal edge on the centre line: filled alone
                    hx1 = int(math.floor(px[ind2] + 0.5))
                    hx2 = int(math.floor(px[ind1] + 0.5))
                    if hx1 > ncols - 1 or hx2 <= 0:
                        continue
                    for x in range(max(hx1, 0), min(hx2 - 1, ncols - 1) + 1):
                        mask[y, x] = True
                continue
            if dy < dy2 and dy >= dy1:
                intersect = (dy - dy1) * (dx2 - dx1) / (dy2 - dy1) + dx1
                ints[nint] = int(math.floor(intersect + 0.5))
                nint += 1
        for j in range(1, nint):  # insertion sort: a few crossings per row
            v = ints[j]
            k = j - 1
            while k >= 0 and ints[k] > v:
                ints[k + 1] = ints[k]
                k -= 1
            ints[k + 1] = v
        for j in range(0, nint - 1, 2):
            x1 = ints[j]
            x2 = ints[j + 1]
            if x1 <= ncols - 1 and x2 > 0:
                for x in range(max(x1, 0), min(x2 - 1, ncols - 1) + 1):
                    mask[y, x] = True


@njit(cache=True)
def _fill_polygons(wx: np.ndarray, wy: np.ndarray, px: np.ndarray, py: np.ndarray, ring_sizes: np.ndarray,
                   ring_polygon: np.ndarray, nrows: int, ncols: int) -> np.ndarray:  # pragma: no cover - numba
    """Mask of polygons given by their rings (world ``wx, wy``, pixel ``px, py``; ``ring_polygon`` the
    polygon of each ring, in order), as GDAL burns them: each polygon alone, its rings taken clockwise
    (in world coordinates, as OGR tests it) or else reversed."""
    mask = np.zeros((nrows, ncols), dtype=np.bool_)
    nr = ring_sizes.size
    r = 0
    start = 0
    while r < nr:
        r_end = r
        while r_end < nr and ring_polygon[r_end] == ring_polygon[r]:
            r_end += 1
        stop = start
        for k in range(r, r_end):
            stop += ring_sizes[k]
        qx = np.empty(stop - start)
        qy = np.empty(stop - start)
        o = start
        for k in range(r, r_end):
            m = ring_sizes[k]
            cw = _ogr_is_clockwise(wx[o:o + m], wy[o:o + m])
            for i in range(m):
                src = o + i if cw else o + m - 1 - i
                qx[o - start + i] = px[src]
                qy[o - start + i] = py[src]
            o += m
        _fill_polygon(mask, qx, qy, ring_sizes[r:r_end])
        start = stop
        r = r_end
    return mask


def _rings(geom: Polygon | MultiPolygon) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(coordinates (n, 2), points per ring, polygon of each ring) of a polygon's or multipolygon's rings,
    exterior first, in shapely's (and OGR's) order."""
    import shapely

    polys = shapely.get_parts(np.asarray([geom], dtype=object))
    rings = shapely.get_rings(polys)
    ring_polygon = np.repeat(np.arange(polys.size, dtype=np.int64), shapely.get_num_interior_rings(polys) + 1)
    return shapely.get_coordinates(rings), shapely.get_num_coordinates(rings).astype(np.int64), ring_polygon


def _rasterize_rings(xy: np.ndarray, sizes: np.ndarray, ring_polygon: np.ndarray, nrows: int, ncols: int,
                     x0: float, y1: float, cell_m: float) -> np.ndarray:
    """:func:`_rasterize` of rings given as :func:`_rings` returns them."""
    # GDAL inverts a north-up geotransform as (-x0 / dx, 1 / dx, 0, -y1 / dy, 0, 1 / dy), dy = -cell
    inv0, inv1 = -x0 / cell_m, 1.0 / cell_m
    inv3, inv5 = -y1 / -cell_m, 1.0 / -cell_m
    wx, wy = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
    px = inv0 + wx * inv1 + wy * 0.0
    py = inv3 + wx * 0.0 + wy * inv5
    return _fill_polygons(wx, wy, px, py, sizes, ring_polygon, nrows, ncols)


def _rasterize(geom: Polygon | MultiPolygon, nrows: int, ncols: int, x0: float, y1: float, cell_m: float) -> np.ndarray:
    """Cells of the north-up grid (upper-left corner (x0, y1), square cells of ``cell_m``) whose centre is in ``geom``.

    Equal to ``rasterio.features.rasterize([(geom, 1)], out_shape=(nrows, ncols),
    transform=Affine(cell_m, 0, x0, 0, -cell_m, y1)) == 1`` (GDAL's rule, :func:`_fill_polygons`),
    without GDAL's per-call set-up: the coordinates go to pixel space with GDAL's inverse
    geotransform, same operations.
    """
    return _rasterize_rings(*_rings(geom), nrows, ncols, x0, y1, cell_m)


def _unrolled(xy: np.ndarray, azimuth_deg: float | np.ndarray, scale_v: float | np.ndarray) -> np.ndarray:
    """Coordinates rotated by ``azimuth_deg - 180`` about the origin (down-slope to -y), then y scaled by
    ``scale_v``: ``shapely.affinity.scale(shapely.affinity.rotate(g, azimuth_deg - 180.0, origin=(0, 0)),
    1.0, scale_v, origin=(0, 0))`` on the coordinates, with shapely 2's operations (same values).
    ``azimuth_deg`` and ``scale_v`` are scalars or one value per coordinate."""
    az = np.asarray(azimuth_deg, dtype=float)
    uniq, inv = np.unique(az, return_inverse=True)
    cs = np.empty((uniq.size, 2))
    for i, a in enumerate(uniq.tolist()):  # the angle's cosine and sine as shapely takes them (math, scalars)
        angle = (a - 180.0) * math.pi / 180.0
        cosp, sinp = math.cos(angle), math.sin(angle)
        cs[i] = (0.0 if abs(cosp) < 2.5e-16 else cosp, 0.0 if abs(sinp) < 2.5e-16 else sinp)
    cosp_v, sinp_v = cs[inv.reshape(az.shape), 0], cs[inv.reshape(az.shape), 1]
    x, y = xy.T
    xoff = 0.0 - 0.0 * cosp_v + 0.0 * sinp_v
    yoff = 0.0 - 0.0 * sinp_v - 0.0 * cosp_v
    xr = cosp_v * x + -sinp_v * y + xoff
    yr = sinp_v * x + cosp_v * y + yoff
    xs = 1.0 * xr + 0.0 * yr + (0.0 - 0.0 * 1.0)
    ys = 0.0 * xr + scale_v * yr + (0.0 - 0.0 * np.asarray(scale_v, dtype=float))
    return np.stack([xs, ys]).T


def _plane_and_scale(tilt_deg: float, azimuth_deg: float, rack: bool) -> tuple[float, float]:
    """(azimuth [°] the rows are laid against, down-slope unrolling factor 1 / cos tilt) of a face."""
    if rack:
        return config.FLAT_ROOF_RACK_AZIMUTH_DEG, 1.0
    az = azimuth_deg if math.isfinite(azimuth_deg) else 180.0
    return az, 1.0 / math.cos(math.radians(tilt_deg))


def _count_on_plane(
    plane: np.ndarray, sizes: np.ndarray, ring_polygon: np.ndarray, *, rack: bool, rack_pitch_m: float | None,
    cell_m: float,
) -> tuple[int, str]:
    """:func:`count_modules` once the usable area's rings are in the roof plane (``plane``, :func:`_unrolled`)."""
    gap = config.MODULE_GAP_M
    (x0, y0), (x1, y1) = plane.min(axis=0), plane.max(axis=0)
    x0, y0, x1, y1 = float(x0), float(y0), float(x1), float(y1)
    ncols, nrows = int(math.ceil((x1 - x0) / cell_m)) + 1, int(math.ceil((y1 - y0) / cell_m)) + 1
    if ncols * nrows > 4_000_000:
        cell_m = math.sqrt((x1 - x0) * (y1 - y0) / 4_000_000)
        ncols, nrows = int(math.ceil((x1 - x0) / cell_m)) + 1, int(math.ceil((y1 - y0) / cell_m)) + 1
    sat = _summed_area(_rasterize_rings(plane, sizes, ring_polygon, nrows, ncols, x0, y1, cell_m))
    g = int(math.ceil(gap / cell_m))
    if rack:
        depth = config.MODULE_WIDTH_M * math.cos(math.radians(config.FLAT_ROOF_RACK_TILT_DEG))
        h, w = int(math.ceil(depth / cell_m)), int(math.ceil(config.MODULE_LENGTH_M / cell_m))
        pitch = int(math.ceil((rack_pitch_m or depth) / cell_m))
        return max(int(_count_rows(sat, h, w, max(pitch, h), g)), 0), "rack"
    best, layout = 0, "none"
    for name, (along, down) in (("portrait", (config.MODULE_WIDTH_M, config.MODULE_LENGTH_M)),
                                ("landscape", (config.MODULE_LENGTH_M, config.MODULE_WIDTH_M))):
        h, w = int(math.ceil(down / cell_m)), int(math.ceil(along / cell_m))
        n = int(_count_rows(sat, h, w, h + g, g))
        if n > best:
            best, layout = n, name
    return best, layout


def count_modules(
    usable: Polygon | MultiPolygon, tilt_deg: float, azimuth_deg: float, *, rack: bool = False,
    rack_pitch_m: float | None = None, cell_m: float = 0.05,
) -> tuple[int, str]:
    """Standard modules that fit in a face's usable area.

    Pitched faces: the usable polygon (horizontal) is unrolled into the roof plane (down-slope
    lengths divided by cos tilt) and modules are laid in rows along the contour lines, portrait
    or landscape (the better), each row packed greedily from one end and the rows' offset
    chosen for the most modules. Flat faces (``rack``): landscape modules on south-facing rows
    ``rack_pitch_m`` apart, each row taking ``L cos β`` of depth. The usable area is rasterized
    in the plane on ``cell_m`` cells (coarser when that would pass 4 million cells).

    Returns
    -------
    n_modules, layout
        Count and ``portrait``/``landscape``/``rack``.
    """
    if usable.is_empty or usable.area < config.MODULE_LENGTH_M * config.MODULE_WIDTH_M:
        return 0, "none"
    az, scale_v = _plane_and_scale(tilt_deg, azimuth_deg, rack)
    # rotate so the down-slope direction points to -y (rows along x), then unroll the slope
    xy, sizes, ring_polygon = _rings(usable)
    return _count_on_plane(_unrolled(xy, az, scale_v), sizes, ring_polygon, rack=rack, rack_pitch_m=rack_pitch_m,
                           cell_m=cell_m)


def count_modules_many(
    usable: Sequence[Polygon | MultiPolygon] | np.ndarray, tilt_deg: np.ndarray, azimuth_deg: np.ndarray,
    rack: np.ndarray, *, rack_pitch_m: float | None = None, cell_m: float = 0.05,
) -> tuple[np.ndarray, list[str]]:
    """:func:`count_modules` of many faces (``rack`` per face), equal to it face by face: the rings'
    coordinates are gathered and unrolled into each face's plane for all faces at once.

    Returns
    -------
    n_modules, layouts
        int array and list of layout names, one per face.
    """
    import shapely

    geoms = np.asarray(usable, dtype=object)
    n = geoms.size
    counts = np.zeros(n, dtype=np.int64)
    layouts = ["none"] * n
    small = shapely.is_empty(geoms) | (shapely.area(geoms) < config.MODULE_LENGTH_M * config.MODULE_WIDTH_M)
    todo = np.flatnonzero(~small)
    if not todo.size:
        return counts, layouts
    parts, part_face = shapely.get_parts(geoms[todo], return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy, coord_ring = shapely.get_coordinates(rings, return_index=True)
    sizes = shapely.get_num_coordinates(rings).astype(np.int64)
    ring_face = part_face[ring_part]  # position in todo
    az_scale = np.array([_plane_and_scale(float(tilt_deg[i]), float(azimuth_deg[i]), bool(rack[i])) for i in todo])
    coord_face = ring_face[coord_ring]
    plane = _unrolled(xy, az_scale[coord_face, 0], az_scale[coord_face, 1])
    ring_start = np.concatenate([[0], np.flatnonzero(np.diff(ring_face)) + 1, [ring_face.size]])
    coord_start = np.concatenate([[0], np.cumsum(sizes)])
    for k in range(ring_start.size - 1):
        r0, r1 = int(ring_start[k]), int(ring_start[k + 1])
        face = int(todo[ring_face[r0]])
        c0, c1 = int(coord_start[r0]), int(coord_start[r1])
        counts[face], layouts[face] = _count_on_plane(
            plane[c0:c1], sizes[r0:r1], ring_part[r0:r1].astype(np.int64), rack=bool(rack[face]),
            rack_pitch_m=rack_pitch_m, cell_m=cell_m)
    return counts, layouts


# ---------------------------------------------------------------------------
# Orientation words (the suitability classes are in geo.roofs.classes)
# ---------------------------------------------------------------------------

_ORIENTATION_WORDS = ("nord", "nord-est", "est", "sud-est", "sud", "sud-ouest", "ouest", "nord-ouest")


def orientation_word(azimuth_deg: float, is_flat: bool) -> str:
    """French word for an azimuth (8 sectors of 45°), ``plat`` for a flat face."""
    if is_flat or not math.isfinite(azimuth_deg):
        return "plat"
    return _ORIENTATION_WORDS[int(((azimuth_deg % 360.0) + 22.5) // 45.0) % 8]
