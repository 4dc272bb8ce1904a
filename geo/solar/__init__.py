"""Solar irradiation engine: per-pixel annual and monthly irradiation with shading from a DSM.

Modules, like pvlib's, are named after the physics:

* :mod:`geo.solar.sun` — sun positions, extraterrestrial irradiance and airmass (pvlib);
* :mod:`geo.solar.sky` — Perez diffuse sky terms per time step (pvlib) and the cumulative sky:
  sun positions binned by month, part of month and time of day;
* :mod:`geo.solar.surface` — tilt, azimuth and normal of every DSM pixel (Horn's 3×3 method);
* :mod:`geo.solar.horizon` — horizon angles in N directions (multi-resolution scan, numba) and the
  sky view factor of a tilted surface;
* :mod:`geo.solar.irradiance` — the per-pixel kernel (numba) and :func:`compute_irradiance`;
* :mod:`geo.solar.build` — the pipeline stage ``build_irradiance``; its unit of work
  :func:`~geo.solar.build.irradiance_tile` (one DSM tile with its halo → 15 bands).

See docs/solar-engine.md for the method, its accuracy and speed.
"""

from __future__ import annotations
