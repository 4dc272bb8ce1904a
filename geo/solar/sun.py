"""Sun positions for a weather series, with pvlib (no hand-written ephemeris)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.types import Weather


def solar_geometry(weather: Weather) -> pd.DataFrame:
    """Sun position, extraterrestrial irradiance and airmass at each weather time step.

    The weather index is the middle of each averaging interval, so these are the positions that
    go with the interval-mean irradiance.

    Parameters
    ----------
    weather
        The weather series (its location is used for the sun).

    Returns
    -------
    DataFrame
        Same index as ``weather.data``; columns ``apparent_zenith`` [°], ``apparent_elevation``
        [°], ``azimuth`` [°, clockwise from north, 180 = south] (pvlib NREL SPA,
        ``pvlib.solarposition.get_solarposition``), ``dni_extra`` [W/m²]
        (``pvlib.irradiance.get_extra_radiation``) and ``airmass`` [–] (relative, Kasten & Young
        1989, ``pvlib.atmosphere.get_relative_airmass``; NaN when the sun is below the horizon).
    """
    import pvlib

    times = weather.data.index
    sp = pvlib.solarposition.get_solarposition(
        times, weather.latitude_deg, weather.longitude_deg, altitude=weather.altitude_m
    )
    out = pd.DataFrame(index=times)
    out["apparent_zenith"] = sp["apparent_zenith"].to_numpy(dtype=float)
    out["apparent_elevation"] = sp["apparent_elevation"].to_numpy(dtype=float)
    out["azimuth"] = sp["azimuth"].to_numpy(dtype=float)
    out["dni_extra"] = np.asarray(pvlib.irradiance.get_extra_radiation(times), dtype=float)
    out["airmass"] = np.asarray(pvlib.atmosphere.get_relative_airmass(out["apparent_zenith"].to_numpy()), dtype=float)
    return out
