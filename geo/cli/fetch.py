"""``artois fetch (--bbox XMIN YMIN XMAX YMAX | --commune CODE) --out DIR [--only ...]``: download real inputs.

Writes, in the docs/formats.md layout that ``artois build --data DIR`` reads: IGN LiDAR HD MNS/MNT tiles,
BD TOPO (or, with --footprints cadastre, the cadastre's) buildings, BAN addresses, the communes of the département, a PVGIS typical year and the
OpenStreetMap parks, greenways and walk network of the area. Needs internet access.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from geo import config
from geo.errors import ArtoisError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "fetch",
        help="download the real inputs of an area (IGN LiDAR HD, BD TOPO, BAN, communes, PVGIS, OSM)",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    area = p.add_mutually_exclusive_group(required=True)
    area.add_argument("--bbox", nargs=4, type=float, metavar=("XMIN", "YMIN", "XMAX", "YMAX"),
                      help="area in Lambert-93 metres (EPSG:2154)")
    area.add_argument("--commune", metavar="CODE_INSEE", help="area = the bounding box of this commune (e.g. 62498)")
    p.add_argument("--out", type=Path, required=True, help="data folder to write (rooftops/ and parks/)")
    p.add_argument("--only", default=",".join(_sources()),
                   help=f"comma-separated sources among {','.join(_sources())} (default: all)")
    p.add_argument("--departement", default=None,
                   help="département of the BAN file and the communes (default: the commune's, else "
                        f"{config.FETCH_DEFAULT_DEPARTEMENT})")
    p.add_argument("--max-area-km2", type=float, default=config.FETCH_MAX_AREA_KM2,
                   help=f"refuse larger areas (default {config.FETCH_MAX_AREA_KM2:g} km²)")
    p.add_argument("--footprints", choices=config.FETCH_FOOTPRINT_SOURCES, default="bdtopo",
                   help="source of rooftops/batiment.gpkg: IGN BD TOPO (default, with heights and uses) or the "
                        "cadastre's buildings (cadastre.data.gouv.fr, the communes of --departement meeting the area)")
    p.add_argument("--whole-departement-ban", action="store_true",
                   help="keep every BAN address of the département instead of clipping to the area")
    p.set_defaults(func=run)


def _sources() -> tuple[str, ...]:
    from geo.io.download import SOURCES

    return SOURCES


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.1f} kB"


def run(args: argparse.Namespace) -> int:
    from geo.io import _http
    from geo.io.download import commune_bbox, fetch_area

    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise ArtoisError(f"{out}: not a folder")
    only = [s.strip() for s in str(args.only).split(",") if s.strip()]
    t0 = time.perf_counter()
    with _http.make_client() as client:
        if args.commune:
            name, bbox = commune_bbox(args.commune, client=client)
            dep = args.departement or str(args.commune).strip()[:2]
            print(f"commune {args.commune} ({name}): bbox {' '.join(f'{v:.0f}' for v in bbox)} (Lambert-93)")
        else:
            bbox = tuple(args.bbox)
            dep = args.departement or config.FETCH_DEFAULT_DEPARTEMENT
        total = 0

        def show(source: str, path: Path) -> None:
            nonlocal total
            size = path.stat().st_size
            total += size
            print(f"{source:<9} {path.relative_to(out) if path.is_relative_to(out) else path}  {_size(size)}",
                  flush=True)

        fetch_area(out, bbox, only=only, departement=dep, clip_ban=not args.whole_departement_ban,
                   client=client, max_area_km2=args.max_area_km2, on_file=show, footprints=args.footprints)
    print(f"fetched {_size(total)} into {out} in {time.perf_counter() - t0:.0f} s; next: artois build --data {out}")
    return 0
