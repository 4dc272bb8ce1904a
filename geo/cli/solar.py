"""``artois solar``: the solar cadastre's commands.

``artois solar irradiance --dsm FILE [--dsm FILE ...] [--dtm FILE ...] [--weather FILE]
[--footprints FILE] [--all-pixels] --out OUT.tif`` writes the 15-band irradiation raster
(docs/data-dictionary.md). Further sub-commands (``roofs``) register themselves below with
``_register_<name>(solar_sub)``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from geo import config

log = logging.getLogger("artois.solar")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("solar", help="solar cadastre: irradiation raster with shading, roofs")
    solar_sub = p.add_subparsers(dest="solar_command", metavar="SUBCOMMAND")
    _register_irradiance(solar_sub)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


# -- artois solar irradiance --------------------------------------------------


def _register_irradiance(solar_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = solar_sub.add_parser(
        "irradiance",
        help="annual and monthly irradiation with shading on every roof pixel of a DSM",
        description=(
            "Per-pixel annual/monthly global irradiation with shading (horizon scan of the DSM, pvlib "
            "sun positions and Perez sky) written as a 15-band Cloud-Optimized GeoTIFF on the DSM's grid: "
            "band 1 annual kWh/m2/yr, 2-13 months kWh/m2, 14 shading loss, 15 sky view factor."
        ),
    )
    p.add_argument("--dsm", type=Path, action="append", required=True, metavar="FILE",
                   help="surface model GeoTIFF (e.g. an IGN LiDAR HD MNS tile); repeat for adjacent tiles")
    p.add_argument("--dtm", type=Path, action="append", default=[], metavar="FILE",
                   help="terrain model tile(s): roofs = more than "
                        f"{config.ROOF_MIN_HEIGHT_ABOVE_DTM_M:g} m above it (when no --footprints)")
    p.add_argument("--weather", type=Path, metavar="FILE",
                   help="EPW, PVGIS TMY (.json/.csv) or plain CSV (default: approximate offline climatology of Lens)")
    p.add_argument("--footprints", type=Path, metavar="FILE",
                   help="building footprints (BD TOPO batiment GeoPackage): compute the pixels they touch")
    p.add_argument("--all-pixels", action="store_true", help="compute every pixel, not only roofs")
    p.add_argument("--out", type=Path, required=True, metavar="OUT.tif", help="output GeoTIFF")
    p.add_argument("--directions", type=int, default=config.HORIZON_DIRECTIONS,
                   help=f"horizon directions (default {config.HORIZON_DIRECTIONS})")
    p.add_argument("--distance", type=float, default=config.HORIZON_DISTANCE_M, metavar="M",
                   help=f"horizon search distance in metres (default {config.HORIZON_DISTANCE_M:g})")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run_irradiance)


def run_irradiance(args: argparse.Namespace) -> int:
    from geo.errors import InputError
    from geo.solar.build import irradiance_from_files
    from geo.solar.irradiance import SolarSettings

    if args.directions < 8:
        raise InputError(None, f"--directions {args.directions}: at least 8 are needed")
    if not args.distance > 0:
        raise InputError(None, f"--distance {args.distance}: must be positive")
    if args.out.suffix.lower() not in (".tif", ".tiff"):
        raise InputError(args.out, "the output must be a .tif file")
    settings = SolarSettings(n_directions=args.directions, distance_m=args.distance)
    out = irradiance_from_files(
        args.dsm, args.out, dtm_paths=args.dtm, weather_path=args.weather, footprints_path=args.footprints,
        all_pixels=args.all_pixels, settings=settings, progress=False if args.no_progress else None,
    )
    print(f"wrote {out}")
    return 0
