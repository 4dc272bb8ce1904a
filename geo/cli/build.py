"""``artois build``: build every layer from the inputs in a data folder."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from geo import pipeline
from geo.errors import ArtoisError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("build", help="build every layer (irradiation, roofs, parks) from a data folder")
    p.add_argument("--data", type=Path, default=Path("data"), help="input folder (default: data/)")
    p.add_argument("--out", type=Path, default=Path("build"), help="output folder (default: build/)")
    p.add_argument("--only", choices=[s.name for s in pipeline.STAGES], action="append",
                   help="build only these stages (repeatable)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="dask LocalCluster worker processes (default: the machine's cores); 1 runs in this process")
    p.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="submit to an existing dask scheduler (its workers must see --data and --out at the same paths)")
    p.add_argument("--horizon-distance", type=float, default=None, metavar="M",
                   help="horizon search distance [m] of the irradiance (default: geo.config.HORIZON_DISTANCE_M)")
    p.add_argument("--fresh", action="store_true", help="redo every task (default: resume what a previous build did)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = None
    if args.horizon_distance is not None:
        from geo.solar.irradiance import SolarSettings

        if args.horizon_distance <= 0:
            raise ArtoisError(f"--horizon-distance must be positive (got {args.horizon_distance})")
        settings = SolarSettings(distance_m=args.horizon_distance)
    report = pipeline.build(args.data, args.out, only=args.only, workers=args.workers, scheduler=args.scheduler,
                            settings=settings, fresh=args.fresh)
    for line in report.lines():
        print(line)
    return 0 if report.ok else 2
