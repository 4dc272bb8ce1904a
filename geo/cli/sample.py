"""``artois sample --out DIR [--small | --size WxH] [--clean] [--seed N]``: write the sample territory (docs/formats.md)."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from geo.errors import ArtoisError

log = logging.getLogger("artois.sample")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "sample",
        help="generate the sample territory (a piece of Lens / Loos-en-Gohelle in the real data formats)",
        description=(
            "Write a deterministic sample territory in the real formats (IGN LiDAR HD tiles, BD TOPO, BAN, "
            "INSEE Filosofi, communes, parks, greenways, OSM-style network) under DIR/rooftops and DIR/parks."
        ),
    )
    p.add_argument("--out", type=Path, default=Path("data"), help="output folder (default: data)")
    p.add_argument("--small", action="store_true",
                   help="a 500 m x 500 m cité (one cropped LiDAR tile) instead of 2 km x 1 km")
    p.add_argument("--clean", action="store_true",
                   help="the exact scene, without the defects of real data (DSM noise, offset footprints…)")
    p.add_argument("--size", type=_size, default=None, metavar="WxH",
                   help="a territory of W x H whole 1 km LiDAR tiles (e.g. 5x5) mixing town centre, corons, "
                        "suburbs, fields, industry and slag heaps")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="with --size: processes writing the LiDAR tiles (default: the cores); same files whatever N")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0); same seed, same files")
    p.set_defaults(func=run)


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH in tiles, e.g. 5x5 (got {text!r})") from None
    if w < 1 or h < 1 or w * h > 400:
        raise argparse.ArgumentTypeError(f"W and H must be at least 1 and W x H at most 400 tiles (got {text!r})")
    return w, h


def run(args: argparse.Namespace) -> int:
    from geo.sample import generate_sample

    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise ArtoisError(f"{out}: not a folder")
    if args.small and args.size:
        raise ArtoisError("--small and --size are exclusive")
    if args.seed < 0:
        raise ArtoisError(f"--seed must be a non-negative integer, got {args.seed}")
    if args.workers is not None and args.workers < 1:
        raise ArtoisError(f"--workers must be at least 1, got {args.workers}")
    t0 = time.perf_counter()
    try:
        info = generate_sample(out, small=args.small, seed=args.seed, clean=args.clean, size=args.size,
                               workers=args.workers)
    except PermissionError as exc:
        raise ArtoisError(f"{exc.filename or out}: permission denied") from exc
    xmin, ymin, xmax, ymax = info.bounds
    c = info.counts
    log.info(
        "wrote the %s%s sample (x %.0f–%.0f, y %.0f–%.0f, Lambert-93) to %s in %.1f s: %d LiDAR tile(s), "
        "%d buildings, %d roof faces (%d in a slag heap's winter shadow), %d addresses, %d Filosofi cells, "
        "%d parks, %d greenways",
        f"{args.size[0]}x{args.size[1]}" if args.size else "small" if info.small else "default", " clean" if info.clean else "", xmin, xmax, ymin, ymax, out, time.perf_counter() - t0,
        c["lidar_tiles"], c["buildings"], c["roof_faces"], c["faces_in_terril_shadow"], c["addresses"],
        c["filosofi_cells"], c["parks"], c["greenways"],
    )
    return 0
