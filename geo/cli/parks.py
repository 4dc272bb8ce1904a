"""``artois parks analyse``: the Chaîne des Parcs analysis from input files to a GeoPackage."""

from __future__ import annotations

import argparse
from pathlib import Path

from geo.products import BuildFolder


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("parks", help="Chaîne des Parcs: greenway network, routes, access, gaps")
    psub = p.add_subparsers(dest="parks_command", metavar="ACTION")
    a = psub.add_parser(
        "analyse",
        help="analyse parks, greenways and the walk network into a GeoPackage",
        description="Parks, greenways and streets may be GeoPackage/GeoJSON/Shapefile layers (sample "
                    "formats, docs/formats.md) or OpenStreetMap .osm / .osm.pbf files.",
    )
    a.add_argument("--parks", type=Path, required=True, help="park polygons (nom, ensemble) or an OSM file")
    a.add_argument("--greenways", type=Path, help="greenway lines (nom, type) or an OSM file")
    a.add_argument("--streets", type=Path, required=True, help="walk network lines with OSM highway tags, or an OSM file")
    a.add_argument("--population", type=Path, help="INSEE Filosofi 200 m grid (layer carreaux)")
    a.add_argument("--communes", type=Path, help="communes (geo.api.gouv.fr GeoJSON: nom, code, codeEpci)")
    a.add_argument("--epci-table", type=Path, help="commune -> agglomeration table (pma-communes-epci.csv)")
    a.add_argument("--stops", type=Path, help="BHNS stops (nom, ligne)")
    default_out = BuildFolder(Path("build")).parks
    a.add_argument("--out", type=Path, default=default_out, help=f"output GeoPackage (default {default_out})")
    a.set_defaults(func=run_analyse)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def run_analyse(args: argparse.Namespace) -> int:
    from geo.parks.build import analyse_files

    result = analyse_files(
        parks=args.parks, greenways=args.greenways, streets=args.streets, population=args.population,
        out=args.out, communes=args.communes, epci_table=args.epci_table, stops=args.stops,
    )
    s = result.summary
    print(f"wrote {args.out}: {s['parks']} parks, {s['entrances']} entrances, {s['edges']} network edges, "
          f"{s['greenway_components']} greenway component(s), loop {s['loop_length_m'] / 1000:.1f} km, "
          f"{s['parks_linked']} park(s) linked to the main greenway system, {s['gaps']} candidate gap(s)")
    if s["population"]:
        print(f"population {s['population']:.0f}: {s['population_within_300m'] / s['population']:.0%} within 300 m "
              f"of a park ≥ 0.5 ha, {s['population_within_10min'] / s['population']:.0%} within a 10-minute walk")
    for w in result.warnings:
        print(f"warning: {w}")
    return 0
