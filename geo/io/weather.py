"""Weather for the solar engine: EPW, PVGIS TMY (JSON/CSV), plain CSV, and an offline default.

Every reader returns a :class:`Weather` whose time index is the **middle** of each averaging
interval, so that the sun position taken at the index is the right one for the interval's mean
irradiance (on a west-facing roof the wrong choice costs ~8 %):

* EPW: values are sums over the hour *ending* at the stamp (IWEC / EnergyPlus convention).
  ``pvlib.iotools.read_epw`` labels each row with the start of that hour, so the middle is
  pvlib's label + 30 min (= EPW stamp − 30 min). A typical-year EPW (TMY, TMYx, ERA5-based
  typical years: January 2016, February 2008, March 2005 …) is read as one year with pvlib's
  ``coerce_year`` (:data:`geo.config.TYPICAL_YEAR`), and so is a typical year in plain CSV.
* PVGIS TMY (JSON and CSV as the PVGIS API returns them): stamps are written ``hh:00`` UTC but
  the irradiance belongs to ``hh:00 + offset``: the file's ``Irradiance Time Offset (h)`` header
  when present, else by database (ERA5: 0.5 h; SARAH: 0.1761 h), see
  :data:`geo.config.PVGIS_TIME_OFFSET_SARAH_H`. The TMY's months come from different years; they
  are put in one year (1990, not leap, as pvlib does) and sorted.
* Plain CSV: see :func:`read_weather_csv` (the time column's name says which end of the interval
  it labels).
* Offline default (:func:`default_weather`): clear sky scaled to a monthly climatology of Lens,
  flagged ``approximate``.

Gaps (missing values, missing time steps), wrong or missing columns raise
:class:`geo.errors.InputError` naming the file and the problem.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo import config
from geo.errors import InputError
from geo.types import Weather

log = logging.getLogger("artois.weather")

#: Columns of :attr:`Weather.data`.
WEATHER_COLUMNS = ("ghi", "dni", "dhi", "temp_air", "wind_speed")
_IRRADIANCE = ("ghi", "dni", "dhi")
#: A value this large is a "missing" code (EPW writes 9999 for missing radiation).
_MISSING_CODE = 9000.0
#: Irradiance above this [W/m²] is not physical at the ground (solar constant ≈ 1361 W/m²).
_MAX_IRRADIANCE = 1500.0


# ---------------------------------------------------------------------------
# Checks shared by the readers
# ---------------------------------------------------------------------------


def _period(index: pd.DatetimeIndex, interval_h: float) -> str:
    half = pd.Timedelta(hours=interval_h / 2)
    return f"{(index[0] - half):%Y-%m-%d} – {(index[-1] + half - pd.Timedelta(seconds=1)):%Y-%m-%d}"


def _check_columns(path: Path | None, df: pd.DataFrame, required: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        found = ", ".join(str(c) for c in df.columns) or "none"
        raise InputError(path, f"missing weather column(s) {', '.join(missing)} (found: {found})")


def _finish(
    path: Path | None,
    df: pd.DataFrame,
    *,
    latitude_deg: float,
    longitude_deg: float,
    altitude_m: float,
    source: str,
    location: str,
    approximate: bool = False,
    fill_defaults: bool = True,
) -> Weather:
    """Check a frame already indexed at interval middles and build the :class:`Weather`."""
    _check_columns(path, df, _IRRADIANCE)
    if not isinstance(df.index, pd.DatetimeIndex) or df.index.tz is None:
        raise InputError(path, "time stamps must be time-zone aware (give an offset, e.g. +01:00, or Z)")
    if len(df) < 1:
        raise InputError(path, "no weather record")
    if df.index.has_duplicates:
        dup = df.index[df.index.duplicated()][0]
        raise InputError(path, f"duplicate time stamp {dup}")
    df = df.sort_index()
    out = pd.DataFrame(index=df.index)
    for col in WEATHER_COLUMNS:
        if col in df.columns:
            out[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
        elif fill_defaults and col == "temp_air":
            out[col] = 12.0
        elif fill_defaults and col == "wind_speed":
            out[col] = 1.0
    for col in _IRRADIANCE:
        values = out[col].to_numpy()
        bad = ~np.isfinite(values) | (values >= _MISSING_CODE)
        if bad.any():
            first = out.index[np.flatnonzero(bad)[0]]
            raise InputError(path, f"gap in the weather: {int(bad.sum())} missing {col} value(s), first at {first}")
        if (values < -1.0).any() or (values > _MAX_IRRADIANCE).any():
            i = int(np.flatnonzero((values < -1.0) | (values > _MAX_IRRADIANCE))[0])
            raise InputError(path, f"{col} = {values[i]} W/m² at {out.index[i]} is not a plausible irradiance")
        out[col] = np.clip(values, 0.0, None)
    for col in ("temp_air", "wind_speed"):
        if col in out.columns:
            # Meteorological variables are secondary: fill short gaps instead of failing.
            out[col] = out[col].where(out[col].abs() < 900).interpolate(limit_direction="both").fillna(
                12.0 if col == "temp_air" else 1.0)
    index = pd.DatetimeIndex(out.index)
    if len(out) >= 2:
        steps = np.diff(index.tz_convert("UTC").tz_localize(None).to_numpy()).astype("timedelta64[ns]").astype(
            np.float64) / 3.6e12
        interval_h = float(np.median(steps))
        irregular = np.abs(steps - interval_h) > 1e-6
        if irregular.any():
            i = int(np.flatnonzero(irregular)[0])
            raise InputError(
                path, f"gap in the weather: {steps[i]:g} h between {out.index[i]} and {out.index[i + 1]} "
                f"(time step {interval_h:g} h)",
            )
        if interval_h <= 0:
            raise InputError(path, "time stamps are not increasing")
    else:
        interval_h = 1.0
    return Weather(
        data=out,
        interval_h=interval_h,
        latitude_deg=float(latitude_deg),
        longitude_deg=float(longitude_deg),
        altitude_m=float(altitude_m),
        source=source,
        location=location,
        period=_period(index, interval_h),
        approximate=approximate,
    )


def _check_location(path: Path | None, lat: float, lon: float) -> None:
    if not (math.isfinite(lat) and -90 <= lat <= 90 and math.isfinite(lon) and -180 <= lon <= 180):
        raise InputError(path, f"invalid location latitude={lat}, longitude={lon}")


def _typical_year_months(index: pd.DatetimeIndex) -> list[int]:
    """The year of each month (January first) when ``index`` is a typical year, else ``[]``.

    A typical meteorological year (TMY, TMYx, ERA5-based typical years, PVGIS TMY) strings
    twelve months taken from different years, in calendar order: its stamps jump between years
    at month boundaries (January 2016, February 2008, March 2005 …). It is recognised by: more
    than one year, months in calendar order, one year per month, every month present. An
    ordinary series with a hole is not one (its gap is reported by the checks).
    """
    if len(index) < 2:
        return []
    years, months = index.year.to_numpy(), index.month.to_numpy()
    if len(np.unique(years)) < 2 or (np.diff(months) < 0).any() or len(np.unique(months)) != 12:
        return []
    per_month = [np.unique(years[months == m]) for m in range(1, 13)]
    if any(len(y) != 1 for y in per_month):
        return []
    return [int(y[0]) for y in per_month]


def _typical_year(index: pd.DatetimeIndex) -> int:
    """The year a typical year is put in: :data:`geo.config.TYPICAL_YEAR`, or the leap
    :data:`geo.config.TYPICAL_LEAP_YEAR` when it has 29 February."""
    leap = bool(((index.month == 2) & (index.day == 29)).any())
    return config.TYPICAL_LEAP_YEAR if leap else config.TYPICAL_YEAR


def _coerce_typical_year(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """``index`` with every stamp in :func:`_typical_year`, month, day and time kept."""
    year = _typical_year(index)
    return pd.DatetimeIndex([t.replace(year=year) for t in index], name=index.name)


def _as_typical_year(w: Weather, years: list[int], path: Path) -> Weather:
    """Label a weather read from a typical year as such (period and log line); ``w`` when ``years`` is empty."""
    if not years:
        return w
    log.info("%s: typical year with months from %d–%d (January %d, February %d, …), read as the year %d",
             path, min(years), max(years), years[0], years[1], w.data.index[len(w.data) // 2].year)
    return Weather(**{**w.__dict__, "period": f"typical year (TMY), months from {min(years)}–{max(years)}"})


# ---------------------------------------------------------------------------
# EPW
# ---------------------------------------------------------------------------


def read_epw(path: str | Path) -> Weather:
    """Read an EnergyPlus weather file (EPW).

    EPW radiation values are sums over the hour ending at the stamp [Wh/m²], i.e. the mean
    irradiance over that hour [W/m²]; the returned index is the middle of that hour, in the
    file's time zone (``TZ`` of the LOCATION line).

    Raises
    ------
    InputError
        Missing or unreadable file, missing radiation values (9999), missing hours.

    Notes
    -----
    A typical year, whose months come from different years in calendar order, is read with
    ``pvlib.iotools.read_epw(..., coerce_year=TYPICAL_YEAR)``: its stamps all fall in that
    year, and its ``period`` says "typical year (TMY), months from …".
    """
    import pvlib

    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    try:
        data, meta = pvlib.iotools.read_epw(path)
        years = _typical_year_months(pd.DatetimeIndex(data.index))
        if years:  # a typical year (TMY, TMYx): months from different years, read as one year
            data, meta = pvlib.iotools.read_epw(path, coerce_year=_typical_year(pd.DatetimeIndex(data.index)))
    except Exception as exc:  # pvlib raises ValueError, KeyError, pandas errors alike
        raise InputError(path, f"not a readable EPW file ({_first_line(exc)})") from exc
    _check_columns(path, data, _IRRADIANCE)
    # pvlib labels each row with the start of the hour it covers: middle = label + 30 min.
    data = data.copy()
    data.index = data.index + pd.Timedelta(minutes=30)
    lat, lon = float(meta.get("latitude", np.nan)), float(meta.get("longitude", np.nan))
    _check_location(path, lat, lon)
    place = ", ".join(str(meta.get(k)) for k in ("city", "state-prov", "country") if meta.get(k) not in (None, "NA", ""))
    location = f"{place} ({lat:.3f}°N, {lon:.3f}°E)" if place else f"{lat:.3f}°N, {lon:.3f}°E"
    dtype = str(meta.get("data_type", "")).strip()
    w = _finish(
        path, data, latitude_deg=lat, longitude_deg=lon, altitude_m=float(meta.get("altitude", 0.0) or 0.0),
        source=f"EPW {path.name}" + (f" ({dtype})" if dtype and dtype != "NA" else ""), location=location,
    )
    return _as_typical_year(w, years, path)


# ---------------------------------------------------------------------------
# PVGIS TMY (JSON and CSV)
# ---------------------------------------------------------------------------


def _find_key(obj: Any, pattern: re.Pattern[str]) -> Any:
    """First value whose key matches ``pattern`` anywhere in nested dicts/lists."""
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            if pattern.search(str(k)):
                return v
        for v in obj.values():
            found = _find_key(v, pattern)
            if found is not None:
                return found
    elif isinstance(obj, list):
        for v in obj:
            found = _find_key(v, pattern)
            if found is not None:
                return found
    return None


def _pvgis_offset_h(meta: Any) -> tuple[float, str]:
    """The PVGIS irradiance time offset [h] and where it came from."""
    value = _find_key(meta, re.compile(r"irradiance.?time.?offset", re.IGNORECASE))
    if value is not None:
        try:
            return float(value), "file header"
        except (TypeError, ValueError):
            pass
    db = _find_key(meta, re.compile(r"radiation_db", re.IGNORECASE))
    if isinstance(db, str) and "ERA5" in db.upper():
        return config.PVGIS_TIME_OFFSET_ERA5_H, f"{db} default"
    return config.PVGIS_TIME_OFFSET_SARAH_H, f"{db or 'SARAH'} default"


def read_pvgis_tmy(path: str | Path) -> Weather:
    """Read a PVGIS typical meteorological year, JSON or CSV as the PVGIS API returns them.

    The ``hh:00`` UTC stamps are moved to the moment the irradiance belongs to (stamp + the
    file's irradiance time offset, else the database default; see the module docstring), and the
    months, which PVGIS picks from different years, are put in the year 1990.

    Raises
    ------
    InputError
        Missing or unreadable file, not a PVGIS TMY, gaps.
    """
    import pvlib

    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("json", "csv"):
        raise InputError(path, "a PVGIS TMY file must be .json or .csv")
    try:
        got = pvlib.iotools.read_pvgis_tmy(path, pvgis_format=fmt, map_variables=True)
    except Exception as exc:
        raise InputError(path, f"not a readable PVGIS TMY {fmt.upper()} file ({_first_line(exc)})") from exc
    if len(got) == 4:  # pvlib < 0.13: (data, months_selected, inputs, meta); 0.13+: (data, meta)
        data, months_selected, inputs_, meta_ = got
        meta = {**(meta_ if isinstance(meta_, Mapping) else {"descriptions": meta_}),
                "inputs": inputs_, "months_selected": months_selected}
    else:
        data, meta = got
    header: Any = meta
    if fmt == "json":  # pvlib's JSON parser keeps only part of the header: look at all of it
        try:
            header = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(path, f"not a readable JSON file ({_first_line(exc)})") from exc
    offset_h, why = _pvgis_offset_h(header)
    if _find_key(header, re.compile(r"^use_?horizon$", re.IGNORECASE)) is True:
        log.warning("%s: PVGIS shaded the beam with its own coarse horizon (use_horizon=true) on top of the "
                    "DSM horizon the solar engine computes; download it with usehorizon=0 (artois fetch does)", path)
    inputs = meta.get("inputs", {}) if isinstance(meta, Mapping) else {}
    loc = inputs.get("location", inputs) if isinstance(inputs, Mapping) else {}
    lat = float(loc.get("latitude", np.nan))
    lon = float(loc.get("longitude", np.nan))
    alt = float(loc.get("elevation", 0.0) or 0.0)
    _check_location(path, lat, lon)
    _check_columns(path, data, _IRRADIANCE)
    data = data.copy()
    idx = pd.DatetimeIndex(data.index)
    if idx.tz is None:
        idx = idx.tz_localize("UTC")
    # One year (not leap, as pvlib's get_pvgis_tmy) so the TMY's months make a continuous series.
    feb29 = (idx.month == 2) & (idx.day == 29)
    data, idx = data[~feb29], idx[~feb29]
    coerced = pd.to_datetime(
        {"year": config.TYPICAL_YEAR, "month": idx.month, "day": idx.day, "hour": idx.hour, "minute": idx.minute}
    )
    data.index = pd.DatetimeIndex(coerced).tz_localize("UTC") + pd.Timedelta(hours=offset_h)
    log.debug("%s: PVGIS irradiance time offset %.4f h (%s)", path, offset_h, why)
    db = _find_key(header, re.compile(r"radiation_db", re.IGNORECASE))
    years = ""
    months = meta.get("months_selected") if isinstance(meta, Mapping) else None
    if isinstance(months, list) and months:
        ys = sorted({int(m["year"]) for m in months if isinstance(m, Mapping) and m.get("year")})
        if ys:
            years = f", months from {ys[0]}–{ys[-1]}"
    w = _finish(
        path, data, latitude_deg=lat, longitude_deg=lon, altitude_m=alt,
        source=f"PVGIS TMY {path.name}" + (f" ({db})" if db else "") + f", irradiance at hh:00 + {offset_h:g} h",
        location=f"{lat:.3f}°N, {lon:.3f}°E",
    )
    return Weather(**{**w.__dict__, "period": f"typical year (TMY){years}", "interval_h": 1.0})


# ---------------------------------------------------------------------------
# Plain CSV
# ---------------------------------------------------------------------------

_TIME_COLUMNS = {"time_end": 1.0, "time": 1.0, "time_start": 0.0, "time_middle": 0.5}


def read_weather_csv(
    path: str | Path,
    *,
    latitude_deg: float | None = None,
    longitude_deg: float | None = None,
    altitude_m: float | None = None,
) -> Weather:
    """Read a plain CSV of time-stamped irradiance.

    Format (comma-separated, UTF-8, one header row)::

        # latitude=50.4322
        # longitude=2.8333
        # altitude=40
        time,ghi,dni,dhi,temp_air,wind_speed
        2023-01-01T01:00+01:00,0,0,0,4.1,3.2

    * Optional ``# key=value`` lines before the header give the location (latitude, longitude
      [degrees], altitude [m]); keyword arguments override them; the PMA default is used last.
    * The time column says which moment of the averaging interval it labels: ``time`` or
      ``time_end`` = the **end** (as EPW and TMY3), ``time_start`` = the start, ``time_middle`` =
      the middle. ISO 8601 with an offset; stamps without one are taken as UTC.
    * ``ghi``, ``dni``, ``dhi`` [W/m², mean over the interval] are required; ``temp_air`` [°C]
      and ``wind_speed`` [m/s] are optional (12 °C and 1 m/s when absent).
    * Time steps must be regular (any length); a missing step or value is an error.
    * A typical year (each month from its own year, in calendar order) is read as one year
      (:data:`geo.config.TYPICAL_YEAR`), as EPW and PVGIS typical years are.

    Raises
    ------
    InputError
        Missing file, no time column, missing columns, unparsable stamps, gaps.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    header: dict[str, float] = {}
    try:
        with path.open(encoding="utf-8-sig") as fh:
            for line in fh:
                m = re.match(r"\s*#\s*(\w+)\s*[=:]\s*([-+0-9.eE]+)", line)
                if m:
                    header[m.group(1).lower()] = float(m.group(2))
                elif not line.lstrip().startswith("#"):
                    break
        df = pd.read_csv(path, comment="#", encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(path, f"not a readable CSV file ({_first_line(exc)})") from exc
    df.columns = [str(c).strip().lower() for c in df.columns]
    tcol = next((c for c in _TIME_COLUMNS if c in df.columns), None)
    if tcol is None:
        raise InputError(path, f"no time column (one of {', '.join(_TIME_COLUMNS)}; found: {', '.join(df.columns)})")
    _check_columns(path, df, _IRRADIANCE)
    try:
        stamps = pd.to_datetime(df[tcol], utc=False, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise InputError(path, f"cannot parse the time column '{tcol}' ({_first_line(exc)})") from exc
    idx = pd.DatetimeIndex(stamps)
    if idx.tz is None:
        idx = idx.tz_localize("UTC")
    step_h = float(np.median((idx[1:] - idx[:-1]).total_seconds())) / 3600.0 if len(idx) >= 2 else 1.0
    idx = idx + pd.Timedelta(hours=step_h * (0.5 - _TIME_COLUMNS[tcol]))
    years = _typical_year_months(idx)
    if years:
        idx = _coerce_typical_year(idx)
    df = df.drop(columns=[tcol])
    df.index = idx
    lat = latitude_deg if latitude_deg is not None else header.get("latitude", config.PMA_LATITUDE_DEG)
    lon = longitude_deg if longitude_deg is not None else header.get("longitude", config.PMA_LONGITUDE_DEG)
    alt = altitude_m if altitude_m is not None else header.get("altitude", config.PMA_ALTITUDE_M)
    _check_location(path, float(lat), float(lon))
    w = _finish(
        path, df, latitude_deg=float(lat), longitude_deg=float(lon), altitude_m=float(alt),
        source=f"CSV {path.name} (stamps = {tcol.replace('time_', '') if tcol != 'time' else 'end'} of interval)",
        location=f"{float(lat):.3f}°N, {float(lon):.3f}°E",
    )
    return _as_typical_year(w, years, path)


# ---------------------------------------------------------------------------
# Offline default
# ---------------------------------------------------------------------------


def default_weather(
    *,
    latitude_deg: float = config.PMA_LATITUDE_DEG,
    longitude_deg: float = config.PMA_LONGITUDE_DEG,
    altitude_m: float = config.PMA_ALTITUDE_M,
    year: int = config.DEFAULT_WEATHER_YEAR,
) -> Weather:
    """An approximate hourly year for the PMA when no weather file is given.

    pvlib's Ineichen clear sky (with pvlib's monthly Linke turbidity climatology) at the
    interval middles, scaled month by month so that the monthly global horizontal irradiation
    equals :data:`geo.config.PMA_MONTHLY_GHI_KWH_M2`, then split into DNI and DHI with Erbs'
    decomposition (pvlib). Temperatures are the monthly normals, wind constant.

    Returns
    -------
    Weather
        Hourly, index at hh:30 UTC, ``approximate=True`` (said in ``source`` too).
    """
    import pvlib

    times = pd.date_range(f"{year}-01-01 00:30", f"{year}-12-31 23:30", freq="1h", tz="UTC")
    loc = pvlib.location.Location(latitude_deg, longitude_deg, altitude=altitude_m, tz="UTC")
    solpos = loc.get_solarposition(times)
    linke = pvlib.clearsky.lookup_linke_turbidity(times, latitude_deg, longitude_deg)
    cs = loc.get_clearsky(times, model="ineichen", solar_position=solpos, linke_turbidity=linke)
    month = times.month.to_numpy()
    target = np.asarray(config.PMA_MONTHLY_GHI_KWH_M2, dtype=float) * 1000.0  # Wh/m²
    clear_month = np.bincount(month - 1, weights=cs["ghi"].to_numpy(), minlength=12)  # Wh/m² (1 h steps)
    scale = np.divide(target, clear_month, out=np.zeros(12), where=clear_month > 0)
    ghi = cs["ghi"].to_numpy() * scale[month - 1]
    split = pvlib.irradiance.erbs(ghi, solpos["zenith"].to_numpy(), times)
    dni = np.nan_to_num(np.asarray(split["dni"], dtype=float))
    dhi = np.nan_to_num(np.asarray(split["dhi"], dtype=float))
    temps = np.asarray(config.PMA_MONTHLY_TEMP_C, dtype=float)[month - 1]
    df = pd.DataFrame(
        {"ghi": ghi, "dni": dni, "dhi": dhi, "temp_air": temps, "wind_speed": config.PMA_MEAN_WIND_M_S},
        index=times,
    )
    total = float(np.sum(target)) / 1000.0
    return _finish(
        None, df, latitude_deg=latitude_deg, longitude_deg=longitude_deg, altitude_m=altitude_m,
        source=(
            "offline climatology (approximate): pvlib Ineichen clear sky scaled to monthly GHI of Lens "
            f"(PVGIS-SARAH2 means, {total:.0f} kWh/m²/yr), Erbs DNI/DHI split"
        ),
        location=f"{latitude_deg:.3f}°N, {longitude_deg:.3f}°E",
        approximate=True,
    )


def load_weather(path: str | Path | None, **kw: Any) -> Weather:
    """Read the weather at ``path`` whatever its format, or the offline default if ``None``.

    Dispatch: ``.epw`` → :func:`read_epw`; ``.json`` → :func:`read_pvgis_tmy`; ``.csv`` →
    :func:`read_pvgis_tmy` when it starts like a PVGIS file (``Latitude (decimal degrees)``),
    else :func:`read_weather_csv`. Keyword arguments go to :func:`default_weather` (when
    ``path`` is None) or :func:`read_weather_csv`.
    """
    if path is None:
        return default_weather(**kw)
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    suffix = path.suffix.lower()
    if suffix == ".epw":
        return read_epw(path)
    if suffix == ".json":
        return read_pvgis_tmy(path)
    if suffix == ".csv":
        try:
            with path.open("rb") as fh:
                first = fh.readline()
        except OSError as exc:
            raise InputError(path, f"cannot read ({_first_line(exc)})") from exc
        if first.lstrip(b"\xef\xbb\xbf").lower().startswith(b"latitude"):
            return read_pvgis_tmy(path)
        return read_weather_csv(path, **kw)
    raise InputError(path, f"unknown weather format '{suffix}' (use .epw, PVGIS .json/.csv, or a plain .csv)")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
