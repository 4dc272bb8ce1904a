"""``artois serve``: serve the built layers and the map."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("serve", help="serve the layers (OGC API, tiles, lookups) and the map")
    p.add_argument("--data", type=Path, default=Path("build"), help="folder of built layers (default: build/)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from api.serve import serve  # imported lazily: the pipeline does not need the web stack

    return serve(data_dir=args.data, host=args.host, port=args.port)
