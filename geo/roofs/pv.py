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
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numba import njit
from shapely import affinity
from shapely.geometry import MultiPolygon, Polygon

from geo import config
from geo.types import PROFILE_HOURS, PROFILE_YEAR, Weather

_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def profile_months() -> np.ndarray:
    """Month index 0-11 of each of the 8760 hours of the canonical year."""
    return np.repeat(np.arange(12), _DAYS_IN_MONTH * 24)


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
def _count_rows(valid: np.ndarray, w: int, step_rows: int, gap: int) -> int:  # pragma: no cover - numba
    """Best count over row offsets: in each row of the lattice, greedy left-to-right packing."""
    rows, cols = valid.shape
    best = 0
    for oy in range(step_rows):
        total = 0
        r = oy
        while r < rows:
            c = 0
            while c < cols:
                if valid[r, c]:
                    total += 1
                    c += w + gap
                else:
                    c += 1
            r += step_rows
        if total > best:
            best = total
    return best


def _fits(mask: np.ndarray, h: int, w: int) -> np.ndarray:
    """valid[i, j]: the h x w box with its upper-left cell at (i, j) lies inside ``mask``."""
    sat = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), dtype=np.int32)
    sat[1:, 1:] = np.cumsum(np.cumsum(mask, axis=0, dtype=np.int32), axis=1)
    if mask.shape[0] < h or mask.shape[1] < w:
        return np.zeros((0, 0), dtype=np.bool_)
    tot = sat[h:, w:] - sat[:-h, w:] - sat[h:, :-w] + sat[:-h, :-w]
    return tot == h * w


def count_modules(
    usable: Polygon | MultiPolygon, tilt_deg: float, azimuth_deg: float, *, rack: bool = False,
    rack_pitch_m: float | None = None, cell_m: float = 0.05,
) -> tuple[int, str]:
    """Standard modules that fit in a face's usable area.

    Pitched faces: the usable polygon (horizontal) is unrolled into the roof plane (down-slope
    lengths divided by cos tilt) and modules are laid in rows along the contour lines, portrait
    or landscape (the better), each row packed greedily from one end and the rows' offset
    chosen for the most modules. Flat faces (``rack``): landscape modules on south-facing rows
    ``rack_pitch_m`` apart, each row taking ``L cos β`` of depth.

    Returns
    -------
    n_modules, layout
        Count and ``portrait``/``landscape``/``rack``.
    """
    if usable.is_empty or usable.area < config.MODULE_LENGTH_M * config.MODULE_WIDTH_M:
        return 0, "none"
    gap = config.MODULE_GAP_M
    if rack:
        az = config.FLAT_ROOF_RACK_AZIMUTH_DEG
        scale_v = 1.0
    else:
        az = azimuth_deg if math.isfinite(azimuth_deg) else 180.0
        scale_v = 1.0 / math.cos(math.radians(tilt_deg))
    # rotate so the down-slope direction points to -y (rows along x), then unroll the slope
    rot = affinity.rotate(usable, az - 180.0, origin=(0, 0), use_radians=False)
    plane = affinity.scale(rot, xfact=1.0, yfact=scale_v, origin=(0, 0))
    x0, y0, x1, y1 = plane.bounds
    ncols, nrows = int(math.ceil((x1 - x0) / cell_m)) + 1, int(math.ceil((y1 - y0) / cell_m)) + 1
    if ncols * nrows > 4_000_000:
        cell_m = math.sqrt((x1 - x0) * (y1 - y0) / 4_000_000)
        ncols, nrows = int(math.ceil((x1 - x0) / cell_m)) + 1, int(math.ceil((y1 - y0) / cell_m)) + 1
    import rasterio.features
    from affine import Affine

    mask = rasterio.features.rasterize(
        [(plane, 1)], out_shape=(nrows, ncols), transform=Affine(cell_m, 0, x0, 0, -cell_m, y1), fill=0,
        dtype="uint8",
    ).astype(bool)
    g = int(math.ceil(gap / cell_m))
    if rack:
        depth = config.MODULE_WIDTH_M * math.cos(math.radians(config.FLAT_ROOF_RACK_TILT_DEG))
        h, w = int(math.ceil(depth / cell_m)), int(math.ceil(config.MODULE_LENGTH_M / cell_m))
        pitch = int(math.ceil((rack_pitch_m or depth) / cell_m))
        valid = _fits(mask, h, w)
        return (int(_count_rows(valid, w, max(pitch, h), g)) if valid.size else 0), "rack"
    best, layout = 0, "none"
    for name, (along, down) in (("portrait", (config.MODULE_WIDTH_M, config.MODULE_LENGTH_M)),
                                ("landscape", (config.MODULE_LENGTH_M, config.MODULE_WIDTH_M))):
        h, w = int(math.ceil(down / cell_m)), int(math.ceil(along / cell_m))
        valid = _fits(mask, h, w)
        if valid.size == 0:
            continue
        n = int(_count_rows(valid, w, h + g, g))
        if n > best:
            best, layout = n, name
    return best, layout


# ---------------------------------------------------------------------------
# Orientation words (the suitability classes are in geo.roofs.classes)
# ---------------------------------------------------------------------------

_ORIENTATION_WORDS = ("nord", "nord-est", "est", "sud-est", "sud", "sud-ouest", "ouest", "nord-ouest")


def orientation_word(azimuth_deg: float, is_flat: bool) -> str:
    """French word for an azimuth (8 sectors of 45°), ``plat`` for a flat face."""
    if is_flat or not math.isfinite(azimuth_deg):
        return "plat"
    return _ORIENTATION_WORDS[int(((azimuth_deg % 360.0) + 22.5) // 45.0) % 8]
