"""``artois build``: build every layer from the inputs in a data folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from geo import pipeline


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("build", help="build every layer (irradiation, roofs, parks) from a data folder")
    p.add_argument("--data", type=Path, default=Path("data"), help="input folder (default: data/)")
    p.add_argument("--out", type=Path, default=Path("build"), help="output folder (default: build/)")
    p.add_argument("--only", choices=[s.name for s in pipeline.STAGES], action="append",
                   help="build only these stages (repeatable)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = pipeline.build(args.data, args.out, only=args.only)
    for line in report.lines():
        print(line)
    return 0 if report.ok else 2
