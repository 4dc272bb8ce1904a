"""``artois serve``: serve the built layers and the map."""

from __future__ import annotations

import argparse
from pathlib import Path

from geo.errors import ArtoisError, InputError
from geo.pipeline import check_build


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("serve", help="serve the layers (OGC API, tiles, lookups) and the map")
    p.add_argument("--data", type=Path, default=Path("build"), help="folder of built layers (default: build/)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--addresses", type=Path, default=None,
                   help="BAN addresses CSV for the geocoder (default: found beside the build, e.g. data/rooftops/)")
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default: 1)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from api.serve import serve  # imported lazily: the pipeline does not need the web stack

    if args.workers < 1:
        raise ArtoisError(f"--workers must be at least 1 (got {args.workers})")
    check_build(args.data)  # an interrupted or failed build is never served
    if args.addresses is not None and not args.addresses.is_file():
        raise InputError(args.addresses, "file not found")
    return serve(data_dir=args.data, host=args.host, port=args.port, addresses=args.addresses, workers=args.workers)
