"""Weather readers: EPW, PVGIS TMY (JSON and CSV in the real PVGIS layout), plain CSV, default."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest

from geo import config
from geo.errors import InputError
from geo.io.weather import (
    default_weather,
    load_weather,
    read_epw,
    read_pvgis_tmy,
    read_weather_csv,
)

# ---------------------------------------------------------------------------
# EPW (the real Athens file)
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def athens_epw(shared_real: Path) -> Path:
    return shared_real / "athens" / "athens_2023.epw"


@pytest.mark.shared
def test_epw_index_is_middle_of_the_hour_ending_at_the_stamp(athens_epw: Path) -> None:
    w = read_epw(athens_epw)
    # The file's own stamps: year, month, day, hour (1-24) = END of the hour, local standard time.
    raw = pd.read_csv(athens_epw, skiprows=8, header=None, usecols=[0, 1, 2, 3, 13, 14, 15])
    end = pd.to_datetime({"year": raw[0], "month": raw[1], "day": raw[2]}) + pd.to_timedelta(raw[3], unit="h")
    end = pd.DatetimeIndex(end).tz_localize("Etc/GMT-2")  # TZ = +2 in the LOCATION line
    assert len(w.data) == len(raw) == 8760
    np.testing.assert_array_equal(w.data.index.tz_convert("UTC"), (end - pd.Timedelta(minutes=30)).tz_convert("UTC"))
    # Values are untouched: GHI, DNI, DHI columns 14-16 of the EPW line.
    np.testing.assert_allclose(w.data["ghi"].to_numpy(), raw[13].to_numpy())
    np.testing.assert_allclose(w.data["dni"].to_numpy(), raw[14].to_numpy())
    np.testing.assert_allclose(w.data["dhi"].to_numpy(), raw[15].to_numpy())
    assert w.interval_h == 1.0 and not w.approximate
    assert (w.latitude_deg, w.longitude_deg, w.altitude_m) == (38.0, 23.75, 175.0)
    assert "athens_2023.epw" in w.source and w.period == "2023-01-01 – 2023-12-31"


@pytest.mark.shared
def test_mid_interval_convention_matters_on_a_west_roof(athens_epw: Path) -> None:
    """A west-facing plane: sun at the interval middle vs at the EPW stamp differ by several %."""
    w = read_epw(athens_epw)
    d = w.data

    def west_roof_kwh(times: pd.DatetimeIndex) -> float:
        sp = pvlib.solarposition.get_solarposition(times, w.latitude_deg, w.longitude_deg, altitude=w.altitude_m)
        poa = pvlib.irradiance.get_total_irradiance(
            30, 270, sp["apparent_zenith"].to_numpy(), sp["azimuth"].to_numpy(), d["dni"].to_numpy(),
            d["ghi"].to_numpy(), d["dhi"].to_numpy(), dni_extra=pvlib.irradiance.get_extra_radiation(times),
            model="perez", albedo=0.25,
        )
        return float(np.nansum(poa["poa_global"])) / 1000.0

    middle = west_roof_kwh(d.index)
    stamp = west_roof_kwh(d.index + pd.Timedelta(minutes=30))  # the EPW stamp taken as is
    assert abs(stamp / middle - 1) > 0.03, (middle, stamp)


def _epw_lines(path: Path) -> list[str]:
    return path.read_text(encoding="latin-1").splitlines()


@pytest.mark.shared
def test_epw_with_missing_radiation_is_a_gap(athens_epw: Path, tmp_path: Path) -> None:
    lines = _epw_lines(athens_epw)
    fields = lines[8 + 4000].split(",")
    fields[13] = "9999"  # GHI missing code
    lines[8 + 4000] = ",".join(fields)
    bad = tmp_path / "gap.epw"
    bad.write_text("\n".join(lines) + "\n", encoding="latin-1")
    with pytest.raises(InputError, match=r"gap.epw: gap in the weather: 1 missing ghi"):
        read_epw(bad)


@pytest.mark.shared
def test_epw_with_missing_hour_is_a_gap(athens_epw: Path, tmp_path: Path) -> None:
    lines = _epw_lines(athens_epw)
    del lines[8 + 100]
    bad = tmp_path / "hole.epw"
    bad.write_text("\n".join(lines) + "\n", encoding="latin-1")
    with pytest.raises(InputError, match=r"hole.epw: gap in the weather: 2 h between"):
        read_epw(bad)


def test_epw_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        read_epw(tmp_path / "none.epw")
    junk = tmp_path / "junk.epw"
    junk.write_text("this is not an EPW file\n")
    with pytest.raises(InputError, match="junk.epw: not a readable EPW file"):
        read_epw(junk)


# ---------------------------------------------------------------------------
# PVGIS TMY, written in the layout the PVGIS API returns
# ---------------------------------------------------------------------------

_MONTH_YEARS = [2012, 2008, 2016, 2019, 2010, 2014, 2020, 2009, 2011, 2017, 2013, 2015]


def _tmy_rows() -> pd.DataFrame:
    """8760 hourly rows with PVGIS stamps (hh:00 UTC, each month from its own year)."""
    base = default_weather()
    rng = np.random.default_rng(1)
    df = pd.DataFrame(index=pd.date_range("1990-01-01 00:00", periods=8760, freq="1h"))
    df["G(h)"] = np.round(base.data["ghi"].to_numpy(), 2)
    df["Gb(n)"] = np.round(base.data["dni"].to_numpy(), 2)
    df["Gd(h)"] = np.round(base.data["dhi"].to_numpy(), 2)
    df["T2m"] = np.round(10 + 8 * rng.standard_normal(8760) * 0.1, 2)
    df["RH"] = 80.0
    df["IR(h)"] = 300.0
    df["WS10m"] = 3.1
    df["WD10m"] = 240.0
    df["SP"] = 101000.0
    stamps = [f"{_MONTH_YEARS[t.month - 1]}{t:%m%d}:{t:%H%M}" for t in df.index]
    df.insert(0, "time(UTC)", stamps)
    return df.reset_index(drop=True)


def _write_pvgis_json(path: Path, rows: pd.DataFrame, *, radiation_db: str = "PVGIS-SARAH3",
                      offset: float | None = None) -> Path:
    cols = ["time(UTC)", "T2m", "RH", "G(h)", "Gb(n)", "Gd(h)", "IR(h)", "WS10m", "WD10m", "SP"]
    meteo: dict[str, object] = {"radiation_db": radiation_db, "meteo_db": "ERA5", "year_min": 2005, "year_max": 2020,
                                "use_horizon": True, "horizon_db": "DEM-calculated"}
    if offset is not None:
        meteo["irradiance_time_offset"] = offset
    doc = {
        "inputs": {"location": {"latitude": 50.432, "longitude": 2.833, "elevation": 41.0}, "meteo_data": meteo},
        "outputs": {
            "months_selected": [{"month": m + 1, "year": y} for m, y in enumerate(_MONTH_YEARS)],
            "tmy_hourly": rows[cols].to_dict(orient="records"),
        },
        "meta": {
            "inputs": {"location": {"description": "Selected location", "variables": {}}},
            "outputs": {"tmy_hourly": {"type": "time series", "timestamp": "hourly"}},
        },
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _write_pvgis_csv(path: Path, rows: pd.DataFrame, *, offset: float | None = None) -> Path:
    cols = ["time(UTC)", "T2m", "RH", "G(h)", "Gb(n)", "Gd(h)", "IR(h)", "WS10m", "WD10m", "SP"]
    lines = ["Latitude (decimal degrees): 50.432", "Longitude (decimal degrees): 2.833", "Elevation (m): 41"]
    if offset is not None:
        lines.append(f"Irradiance Time Offset (h): {offset}")
    lines.append("month,year")
    lines += [f"{m + 1},{y}" for m, y in enumerate(_MONTH_YEARS)]
    lines.append(",".join(cols))
    lines += rows[cols].astype(str).agg(",".join, axis=1).tolist()
    lines += ["T2m: 2-m air temperature (degree Celsius)", "G(h): Global irradiance on the horizontal plane (W/m2)",
              "Gb(n): Beam/direct irradiance on a plane always normal to sun rays (W/m2)",
              "Gd(h): Diffuse irradiance on the horizontal plane (W/m2)", "PVGIS (c) European Union, 2001-2024"]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def test_pvgis_json_time_offset_and_year(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rows = _tmy_rows()
    with caplog.at_level("WARNING", logger="artois.weather"):
        w = read_pvgis_tmy(_write_pvgis_json(tmp_path / "tmy.json", rows))
    # the file says PVGIS applied its own horizon (use_horizon: true): the beam would be shaded twice
    assert any("use_horizon=true" in m and "tmy.json" in m for m in caplog.messages)
    assert len(w.data) == 8760 and w.interval_h == 1.0
    assert w.data.index[0] == pd.Timestamp("1990-01-01 00:00", tz="UTC") + pd.Timedelta(
        hours=config.PVGIS_TIME_OFFSET_SARAH_H)
    assert w.data.index.is_monotonic_increasing and set(w.data.index.year) == {1990}
    np.testing.assert_allclose(w.data["ghi"].to_numpy(), rows["G(h)"].to_numpy())
    np.testing.assert_allclose(w.data["dni"].to_numpy(), rows["Gb(n)"].to_numpy())
    np.testing.assert_allclose(w.data["temp_air"].to_numpy(), rows["T2m"].to_numpy())
    assert (w.latitude_deg, w.longitude_deg, w.altitude_m) == (50.432, 2.833, 41.0)
    assert "PVGIS-SARAH3" in w.source and "2008–2020" in w.period
    # ERA5: hourly means centred on the half hour; an explicit header offset wins.
    era5 = read_pvgis_tmy(_write_pvgis_json(tmp_path / "era5.json", rows, radiation_db="PVGIS-ERA5"))
    assert era5.data.index[0] == pd.Timestamp("1990-01-01 00:30", tz="UTC")
    explicit = read_pvgis_tmy(_write_pvgis_json(tmp_path / "off.json", rows, offset=0.25))
    assert explicit.data.index[0] == pd.Timestamp("1990-01-01 00:15", tz="UTC")
    assert load_weather(tmp_path / "off.json").data.index[0] == explicit.data.index[0]


def test_pvgis_csv_with_and_without_offset_header(tmp_path: Path) -> None:
    rows = _tmy_rows()
    w = read_pvgis_tmy(_write_pvgis_csv(tmp_path / "tmy.csv", rows, offset=0.1761))
    assert w.data.index[0] == pd.Timestamp("1990-01-01 00:00", tz="UTC") + pd.Timedelta(hours=0.1761)
    np.testing.assert_allclose(w.data["dhi"].to_numpy(), rows["Gd(h)"].to_numpy())
    assert w.latitude_deg == 50.432
    no_header = read_pvgis_tmy(_write_pvgis_csv(tmp_path / "old.csv", rows))
    assert no_header.data.index[0] == w.data.index[0]  # SARAH default
    # load_weather recognises a PVGIS CSV by its first line.
    assert load_weather(tmp_path / "old.csv").source.startswith("PVGIS TMY old.csv")


def test_pvgis_bad_files(tmp_path: Path) -> None:
    rows = _tmy_rows()
    rows.loc[5000, "G(h)"] = np.nan
    with pytest.raises(InputError, match=r"bad.json: gap in the weather: 1 missing ghi"):
        read_pvgis_tmy(_write_pvgis_json(tmp_path / "bad.json", rows))
    (tmp_path / "broken.json").write_text('{"inputs": {}}')
    with pytest.raises(InputError, match="broken.json: not a readable PVGIS TMY JSON file"):
        read_pvgis_tmy(tmp_path / "broken.json")


# ---------------------------------------------------------------------------
# Plain CSV
# ---------------------------------------------------------------------------


def _plain_csv(path: Path, time_col: str, stamps: pd.DatetimeIndex, extra: str = "") -> Path:
    n = len(stamps)
    df = pd.DataFrame({time_col: [t.isoformat() for t in stamps], "ghi": np.linspace(0, 500, n),
                       "dni": np.linspace(0, 700, n), "dhi": np.linspace(0, 100, n), "temp_air": 11.0})
    path.write_text(extra + df.to_csv(index=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(("col", "shift_min"), [("time", -30), ("time_end", -30), ("time_start", 30),
                                                ("time_middle", 0)])
def test_plain_csv_time_conventions(tmp_path: Path, col: str, shift_min: int) -> None:
    stamps = pd.date_range("2024-06-01 01:00", periods=48, freq="1h", tz="Europe/Paris")
    w = read_weather_csv(_plain_csv(tmp_path / "w.csv", col, stamps,
                                    "# latitude=50.5\n# longitude=2.9\n# altitude=55\n"))
    np.testing.assert_array_equal(w.data.index, stamps + pd.Timedelta(minutes=shift_min))
    assert (w.latitude_deg, w.longitude_deg, w.altitude_m) == (50.5, 2.9, 55.0)
    assert w.data["wind_speed"].eq(1.0).all()  # absent column: documented default
    np.testing.assert_allclose(w.data["dni"].iloc[-1], 700.0)


def test_plain_csv_15_minute_steps_and_location_default(tmp_path: Path) -> None:
    stamps = pd.date_range("2024-06-01 00:15", periods=8, freq="15min", tz="UTC")
    w = read_weather_csv(_plain_csv(tmp_path / "q.csv", "time_end", stamps))
    assert w.interval_h == 0.25
    assert w.data.index[0] == pd.Timestamp("2024-06-01 00:07:30", tz="UTC")
    assert (w.latitude_deg, w.longitude_deg) == (config.PMA_LATITUDE_DEG, config.PMA_LONGITUDE_DEG)


def test_plain_csv_errors(tmp_path: Path) -> None:
    stamps = pd.date_range("2024-06-01 01:00", periods=10, freq="1h", tz="UTC")
    path = _plain_csv(tmp_path / "hole.csv", "time", stamps.delete(4))
    with pytest.raises(InputError, match=r"hole.csv: gap in the weather: 2 h between"):
        read_weather_csv(path)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("time,global,direct,diffuse\n2024-01-01T01:00Z,1,2,3\n")
    with pytest.raises(InputError, match=r"wrong.csv: missing weather column\(s\) ghi, dni, dhi \(found: "):
        read_weather_csv(wrong)
    notime = tmp_path / "notime.csv"
    notime.write_text("date,ghi,dni,dhi\n2024-01-01,1,2,3\n")
    with pytest.raises(InputError, match="notime.csv: no time column"):
        read_weather_csv(notime)
    neg = tmp_path / "neg.csv"
    neg.write_text("time,ghi,dni,dhi\n2024-01-01T01:00Z,-50,2,3\n2024-01-01T02:00Z,1,2,3\n")
    with pytest.raises(InputError, match="neg.csv: ghi = -50.0 W/m² .* is not a plausible irradiance"):
        read_weather_csv(neg)
    with pytest.raises(InputError, match="unknown weather format '.txt'"):
        (tmp_path / "w.txt").write_text("x")
        load_weather(tmp_path / "w.txt")


# ---------------------------------------------------------------------------
# Offline default
# ---------------------------------------------------------------------------


def test_default_weather_matches_the_climatology_and_clear_sky_shape() -> None:
    w = default_weather()
    assert w.approximate and "approximate" in w.source and w.info.approximate
    assert len(w.data) == 8760 and w.data.index[0] == pd.Timestamp("2023-01-01 00:30", tz="UTC")
    monthly = w.data["ghi"].groupby(w.data.index.month).sum().to_numpy() / 1000.0
    np.testing.assert_allclose(monthly, config.PMA_MONTHLY_GHI_KWH_M2, rtol=1e-9)
    # Closure: GHI = DNI·cos Z + DHI at every step (Erbs keeps it), and the shape is pvlib's clear sky.
    sp = pvlib.solarposition.get_solarposition(w.data.index, w.latitude_deg, w.longitude_deg)
    cosz = np.cos(np.radians(sp["zenith"].to_numpy()))
    day = cosz > 0.1
    recon = w.data["dni"].to_numpy() * cosz + w.data["dhi"].to_numpy()
    np.testing.assert_allclose(recon[day], w.data["ghi"].to_numpy()[day], rtol=1e-6, atol=1e-6)
    assert (w.data["ghi"].to_numpy()[cosz < -0.05] == 0).all()
    assert load_weather(None).source == w.source


# ---------------------------------------------------------------------------
# Typical years whose months come from different years (TMYx, ERA5 typical years, PVGIS)
# ---------------------------------------------------------------------------

#: Years of the months of a TMYx-like file (January 2016, February 2008, March 2005 …).
_TMYX_YEARS = [2016, 2008, 2005, 2011, 2019, 2007, 2014, 2010, 2018, 2006, 2012, 2009]


def _write_epw(path: Path, month_years: list[int] | None, *, drop_month: int | None = None) -> tuple[Path, pd.DataFrame]:
    """An EPW in the EnergyPlus layout (8 header lines, 35 fields a row, hour 1-24 = end of the hour,
    local standard time TZ +1): each month from ``month_years`` (a TMYx), or all 2023 when None."""
    hours = pd.date_range("2023-01-01 01:00", periods=8760, freq="1h")  # hour ends, local standard time
    rng = np.random.default_rng(7)
    day = ((hours.hour >= 8) & (hours.hour <= 17)).astype(float)
    ghi = np.round(day * rng.uniform(50, 600, 8760))
    rows = []
    for i, t in enumerate(hours):
        stamp = t - pd.Timedelta(hours=1)  # the hour's start: its month and day are the row's own
        month, dom, hour = stamp.month, stamp.day, stamp.hour + 1
        if drop_month is not None and month == drop_month:
            continue
        year = month_years[month - 1] if month_years else 2023
        rows.append((year, month, dom, hour, ghi[i], round(0.6 * ghi[i]), round(0.4 * ghi[i]), 8.0 + month))
    lines = [
        "LOCATION,Lens-Lievin,HDF,FRA,TMYx.2007-2021,070150,50.432,2.833,1.0,41.0",
        "DESIGN CONDITIONS,0", "TYPICAL/EXTREME PERIODS,0", "GROUND TEMPERATURES,0",
        "HOLIDAYS/DAYLIGHT SAVINGS,No,0,0,0", "COMMENTS 1,written by the test",
        "COMMENTS 2,months from different years", "DATA PERIODS,1,1,Data,Sunday, 1/ 1,12/31",
    ]
    for year, month, dom, hour, g, b, d, temp in rows:
        fields = [year, month, dom, hour, 60, "?9?9?9?9E0?9?9?9?9?9?9?9?9?9?9?9?9?9?9?9*9*9?9?9?9", temp, 5.0, 80,
                  101300, 0, 1415, 300, g, b, d, 999999, 999999, 999999, 9999, 180, 3.1, 5, 5, 30.0, 77777, 9,
                  "999999999", 10, 0.15, 0, 88, 0.2, 0.0, 1.0]
        lines.append(",".join(str(f) for f in fields))
    path.write_text("\r\n".join(lines) + "\r\n", encoding="latin-1")
    table = pd.DataFrame(rows, columns=["year", "month", "day", "hour", "ghi", "dni", "dhi", "temp_air"])
    return path, table


def test_typical_year_epw_is_read_as_one_year(tmp_path: Path) -> None:
    path, table = _write_epw(tmp_path / "FRA_HDF_Lens.TMYx.epw", _TMYX_YEARS)
    w = read_epw(path)
    assert len(w.data) == 8760 and w.interval_h == 1.0
    # Every stamp in the typical year, at the middle of the hour ending at the file's hour (TZ +1).
    end = pd.to_datetime({"year": config.TYPICAL_YEAR, "month": table["month"], "day": table["day"]}) \
        + pd.to_timedelta(table["hour"], unit="h")
    expected = pd.DatetimeIndex(end).tz_localize("Etc/GMT-1") - pd.Timedelta(minutes=30)
    np.testing.assert_array_equal(w.data.index.tz_convert("UTC"), expected.tz_convert("UTC"))
    # Values untouched, row for row (the file is in calendar order).
    np.testing.assert_allclose(w.data["ghi"].to_numpy(), table["ghi"].to_numpy())
    np.testing.assert_allclose(w.data["dni"].to_numpy(), table["dni"].to_numpy())
    np.testing.assert_allclose(w.data["temp_air"].to_numpy(), table["temp_air"].to_numpy())
    assert w.period == "typical year (TMY), months from 2005–2019"
    assert load_weather(path).period == w.period
    # A calendar year keeps its own dates.
    plain, _ = _write_epw(tmp_path / "plain.epw", None)
    assert read_epw(plain).period == "2023-01-01 – 2023-12-31"


def test_epw_gaps_are_still_gaps(tmp_path: Path) -> None:
    # A typical year missing a month is not a typical year: the hole is reported.
    path, _ = _write_epw(tmp_path / "no_june.epw", _TMYX_YEARS, drop_month=6)
    with pytest.raises(InputError, match=r"no_june.epw: gap in the weather: \d+ h between"):
        read_epw(path)
    path, _ = _write_epw(tmp_path / "no_june_2023.epw", None, drop_month=6)
    with pytest.raises(InputError, match=r"no_june_2023.epw: gap in the weather: 721 h between"):
        read_epw(path)


def test_typical_year_plain_csv(tmp_path: Path) -> None:
    # hour ends: the hour starting on each month's days, in that month's year (December 2009's last
    # hour ends on 2010-01-01 00:00)
    start = pd.date_range("2023-01-01 00:00", periods=8760, freq="1h", tz="UTC")
    mixed = pd.DatetimeIndex([s.replace(year=_TMYX_YEARS[s.month - 1]) + pd.Timedelta(hours=1) for s in start])
    path = _plain_csv(tmp_path / "tmy.csv", "time_end", mixed)
    w = read_weather_csv(path)
    expected = pd.date_range(f"{config.TYPICAL_YEAR}-01-01 00:30", periods=8760, freq="1h", tz="UTC")
    np.testing.assert_array_equal(w.data.index, expected)
    np.testing.assert_allclose(w.data["dni"].to_numpy(), np.linspace(0, 700, 8760))
    assert w.period == "typical year (TMY), months from 2005–2019"
    # A series that is not a typical year (months out of order) keeps its gap error.
    shuffled = mixed[list(range(744, 1416)) + list(range(0, 744)) + list(range(1416, 8760))]
    with pytest.raises(InputError, match="bad.csv: (gap in the weather|time stamps)"):
        read_weather_csv(_plain_csv(tmp_path / "bad.csv", "time_end", shuffled))


def test_pvgis_tmy_with_pvlib_before_0_13(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pvlib 0.11/0.12 return (data, months_selected, inputs, meta) where 0.13+ return (data, meta)
    (pvlib's changelog, 0.13.0); both are read the same. The old form is rebuilt here from the new
    one exactly as pvlib 0.12's parsers built it (JSON: src['inputs'], src['meta'],
    src['outputs']['months_selected']; CSV: inputs = latitude/longitude/elevation, meta = the
    description lines)."""
    import pvlib

    new_reader = pvlib.iotools.read_pvgis_tmy

    def old_reader(filename, pvgis_format=None, map_variables=True):  # type: ignore[no-untyped-def]
        data, meta = new_reader(filename, pvgis_format=pvgis_format, map_variables=map_variables)
        if pvgis_format == "json":
            src = json.loads(Path(filename).read_text(encoding="utf-8"))
            return data, src["outputs"]["months_selected"], src["inputs"], src["meta"]
        inputs = {k: meta["inputs"][k] for k in ("latitude", "longitude", "elevation")}
        return data, meta["months_selected"], inputs, [f"{k}: {v}" for k, v in meta["descriptions"].items()]

    rows = _tmy_rows()
    json_path = _write_pvgis_json(tmp_path / "tmy.json", rows)
    csv_path = _write_pvgis_csv(tmp_path / "tmy.csv", rows, offset=0.1761)
    new_json, new_csv = read_pvgis_tmy(json_path), read_pvgis_tmy(csv_path)
    monkeypatch.setattr(pvlib.iotools, "read_pvgis_tmy", old_reader)
    for path, new in ((json_path, new_json), (csv_path, new_csv)):
        old = read_pvgis_tmy(path)
        pd.testing.assert_frame_equal(old.data, new.data)
        assert (old.latitude_deg, old.longitude_deg, old.altitude_m) == (50.432, 2.833, 41.0)
        assert old.period == new.period and old.source == new.source
    assert "2008–2020" in new_json.period


def test_typical_year_with_a_leap_february(tmp_path: Path) -> None:
    """February taken from 2008 keeps its 29th: the year is then the leap TYPICAL_LEAP_YEAR, 8784 h."""
    years = [2016, 2008, *_TMYX_YEARS[2:]]
    start = pd.date_range(f"{config.TYPICAL_LEAP_YEAR}-01-01 00:00", periods=8784, freq="1h", tz="UTC")
    mixed = pd.DatetimeIndex([s.replace(year=years[s.month - 1]) for s in start])  # hour starts
    w = read_weather_csv(_plain_csv(tmp_path / "leap.csv", "time_start", mixed))
    np.testing.assert_array_equal(w.data.index, start + pd.Timedelta(minutes=30))
    assert len(w.data) == 8784 and ((w.data.index.month == 2) & (w.data.index.day == 29)).sum() == 24
