"""``artois solar``: the solar cadastre's commands.

``artois solar irradiance --dsm FILE [--dsm FILE ...] [--dtm FILE ...] [--weather FILE]
[--footprints FILE] [--all-pixels] --out OUT.tif`` writes the 15-band irradiation raster
(docs/data-dictionary.md); ``--sites FILE`` adds the ground of friches or car parks. ``artois solar
sites`` computes ground PV and the APER car parks (geo/sites/). Further sub-commands (``roofs``)
register themselves below with ``_register_<name>(solar_sub)``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from shapely.geometry.base import BaseGeometry

from geo import config

log = logging.getLogger("artois.solar")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("solar", help="solar cadastre: irradiation raster with shading, roofs")
    solar_sub = p.add_subparsers(dest="solar_command", metavar="SUBCOMMAND")
    _register_irradiance(solar_sub)
    _register_roofs(solar_sub)
    _register_sites(solar_sub)
    _register_lookup(solar_sub)
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
    p.add_argument("--sites", type=Path, action="append", default=[], metavar="FILE",
                   help="also compute the ground of these sites: friches (CNIG CSV/GeoPackage) or car parks "
                        "(OSM/BD TOPO); repeatable (for 'artois solar sites')")
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
        extra_polygons=_site_polygons(args.sites),
    )
    print(f"wrote {out}")
    return 0


def _site_polygons(paths: list[Path]) -> list[BaseGeometry]:
    """Polygons of the sites files given with --sites (friches or car parks, told apart by their content)."""
    from geo.io.car_parks import read_car_parks
    from geo.io.friches import read_friches
    from geo.io.osm import is_osm_file

    out: list[BaseGeometry] = []
    for p in paths:
        if is_osm_file(p) or p.suffix.lower() in (".geojson", ".json") or "parking" in p.name.lower():
            out += list(read_car_parks(p)[0].geometry.values)
        else:
            out += [g for g in read_friches(p).geometry.values if g is not None and g.geom_type.endswith("Polygon")]
    return out


# -- artois solar roofs (owner: roofs, geo/roofs/) ------------------------------


def _register_roofs(solar_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = solar_sub.add_parser(
        "roofs",
        help="roof faces, PV potential, economics and commune totals (rooftops.gpkg)",
        description=(
            "Split every roof into planar faces from the DSM, score them with the irradiation raster "
            "(modules, kWp, kWh/yr, class, economics, solar hot water) and total them per building, "
            "commune and agglomeration; writes a GeoPackage with layers roof_faces, buildings, "
            "communes_solar (docs/data-dictionary.md)."
        ),
    )
    p.add_argument("--irradiance", type=Path, required=True, metavar="IRR.tif",
                   help="the irradiation raster of 'artois solar irradiance' (DSM's grid)")
    p.add_argument("--dsm", type=Path, action="append", required=True, metavar="FILE",
                   help="surface model GeoTIFF (IGN LiDAR HD MNS tile); repeat for adjacent tiles")
    p.add_argument("--dtm", type=Path, action="append", default=[], metavar="FILE",
                   help="terrain model tile(s): without --footprints, buildings are found where the DSM stands "
                        f"more than {config.DETECT_MIN_HEIGHT_M:g} m above it")
    p.add_argument("--footprints", type=Path, metavar="FILE", help="building footprints (BD TOPO batiment)")
    p.add_argument("--parcels", type=Path, metavar="FILE",
                   help="cadastral parcels (cadastre.data.gouv.fr parcelles GeoJSON): without --footprints, "
                        "detected buildings are cut along parcel boundaries")
    p.add_argument("--addresses", type=Path, metavar="FILE", help="BAN adresses-XX.csv")
    p.add_argument("--communes", type=Path, metavar="FILE", help="communes GeoJSON (geo.api.gouv.fr)")
    p.add_argument("--epci", type=Path, metavar="FILE", help="commune -> agglomeration table (pma-communes-epci.csv)")
    p.add_argument("--weather", type=Path, metavar="FILE",
                   help="the weather file the irradiation used (default: approximate offline climatology)")
    p.add_argument("--consumption", type=float, default=config.HOUSEHOLD_CONSUMPTION_KWH_YR, metavar="KWH",
                   help=f"household consumption for the recommendations, kWh/yr "
                        f"(default {config.HOUSEHOLD_CONSUMPTION_KWH_YR:g})")
    p.add_argument("--out", type=Path, required=True, metavar="OUT.gpkg", help="output GeoPackage")
    p.set_defaults(func=run_roofs)


def run_roofs(args: argparse.Namespace) -> int:
    from geo.errors import InputError
    from geo.roofs.build import run_roofs as _run

    if args.out.suffix.lower() != ".gpkg":
        raise InputError(args.out, "the output must be a .gpkg file")
    if not args.consumption > 0:
        raise InputError(None, f"--consumption {args.consumption}: must be positive")
    if args.epci is not None and args.communes is None:
        raise InputError(args.epci, "--epci needs --communes")
    report = _run(
        irradiance=args.irradiance, dsm=args.dsm, dtm=args.dtm or None, out=args.out, footprints=args.footprints,
        addresses=args.addresses, communes=args.communes, epci_table=args.epci, weather=args.weather,
        annual_consumption_kwh=args.consumption, parcels=args.parcels,
    )
    print(f"wrote {report.line()}")
    return 0


# -- artois solar sites (owner: sites, geo/sites/) ------------------------------


def _register_sites(solar_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = solar_sub.add_parser(
        "sites",
        help="ground PV on friches and terrils, APER car-park canopies (sites.gpkg)",
        description=(
            "Ground-mounted PV on brownfields and slag heaps (usable ground, rows, kWp, MWh/yr, cost, LCOE) "
            "and the APER car-park obligation (surface counted, tree shade, status, deadline, canopy over "
            "half the car park); writes a GeoPackage with layers friches, car_parks, communes_sites "
            "(docs/data-dictionary.md). The irradiation raster must cover the sites' ground: compute it "
            "with 'artois solar irradiance --sites FILE'."
        ),
    )
    p.add_argument("--friches", type=Path, metavar="FILE",
                   help="Cartofriches export: CNIG friches CSV (';'-separated) or GeoPackage")
    p.add_argument("--friche-surfaces", type=Path, metavar="FILE",
                   help="Cartofriches surfaces GeoPackage (perimeters by site_id)")
    p.add_argument("--car-parks", type=Path, metavar="FILE",
                   help="car parks: OpenStreetMap (.osm/.pbf/GeoJSON, amenity=parking) or BD TOPO GeoPackage")
    p.add_argument("--irradiance", type=Path, required=True, metavar="IRR.tif",
                   help="the irradiation raster of 'artois solar irradiance' (DSM's grid)")
    p.add_argument("--dsm", type=Path, action="append", required=True, metavar="FILE",
                   help="surface model GeoTIFF (IGN LiDAR HD MNS tile); repeat for adjacent tiles")
    p.add_argument("--dtm", type=Path, action="append", default=[], metavar="FILE",
                   help="terrain model tile(s): ground slope, and trees where the DSM stands "
                        f"{config.SITES_TREE_MIN_HEIGHT_M:g} m above it")
    p.add_argument("--footprints", type=Path, metavar="FILE", help="building footprints (BD TOPO batiment)")
    p.add_argument("--water", type=Path, metavar="FILE", help="water surfaces (any polygon file)")
    p.add_argument("--communes", type=Path, metavar="FILE", help="communes GeoJSON (geo.api.gouv.fr)")
    p.add_argument("--epci", type=Path, metavar="FILE", help="commune -> agglomeration table (pma-communes-epci.csv)")
    p.add_argument("--weather", type=Path, metavar="FILE",
                   help="the weather file the irradiation used (default: approximate offline climatology)")
    p.add_argument("--out", type=Path, required=True, metavar="OUT.gpkg", help="output GeoPackage")
    p.set_defaults(func=run_sites)


def run_sites(args: argparse.Namespace) -> int:
    from geo.errors import InputError
    from geo.sites.build import run_sites as _run

    if args.out.suffix.lower() != ".gpkg":
        raise InputError(args.out, "the output must be a .gpkg file")
    if args.friches is None and args.car_parks is None:
        raise InputError(None, "give --friches and/or --car-parks")
    if args.epci is not None and args.communes is None:
        raise InputError(args.epci, "--epci needs --communes")
    report = _run(
        irradiance=args.irradiance, dsm=args.dsm, dtm=args.dtm or None, out=args.out, friches=args.friches,
        friche_surfaces=args.friche_surfaces, car_parks=args.car_parks, footprints=args.footprints,
        water=args.water, communes=args.communes, epci_table=args.epci, weather=args.weather,
    )
    print(f"wrote {report.line()}")
    return 0


# -- artois solar lookup (owner: adviser workflows, api/batch.py) ---------------------------------------


def _register_lookup(solar_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = solar_sub.add_parser(
        "lookup",
        help="figures of a list of addresses (CSV in, CSV out): building, class, kWp, kWh/yr, economics",
        description=(
            "Geocode every address of a CSV (a column 'adresse' of free text, or BAN-like columns numero, rep, "
            "nom_voie, code_postal, nom_commune) on the build's BAN addresses, find the building at it and write "
            "its figures (the /api/roof ones), or a French reason: introuvable, ambigue (with the candidates), "
            "hors_territoire, aucun_pan_adapte. One output row per input row; ';'-separated UTF-8 output."
        ),
    )
    p.add_argument("--addresses", type=Path, required=True, metavar="IN.csv", help="the addresses to look up")
    p.add_argument("--out", type=Path, required=True, metavar="OUT.csv", help="output CSV (written atomically)")
    p.add_argument("--data", type=Path, default=Path("build"), help="folder of built layers (default: build/)")
    p.add_argument("--ban", type=Path, default=None, metavar="FILE",
                   help="BAN adresses-XX.csv for the geocoder (default: found beside the build, as 'artois serve')")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run_lookup)


def run_lookup(args: argparse.Namespace) -> int:
    from collections.abc import Iterable

    from tqdm import tqdm

    from api import batch, services
    from api.layers import Catalog
    from api.settings import Settings
    from geo.errors import InputError
    from geo.io._atomic import atomic_path
    from geo.products import rooftops

    if not args.addresses.is_file():
        raise InputError(args.addresses, "file not found")
    if args.out.suffix.lower() != ".csv":
        raise InputError(args.out, "the output must be a .csv file")
    if args.ban is not None and not args.ban.is_file():
        raise InputError(args.ban, "file not found")
    table, queries = batch.read_address_table(args.addresses.read_bytes(), source=str(args.addresses))
    settings = Settings(data_dir=args.data, addresses_path=args.ban)
    catalog = Catalog(settings.data_dir)
    if rooftops.BUILDINGS.name not in catalog.collections:
        raise InputError(args.data, "no solar cadastre (rooftops.gpkg with a buildings layer): run 'artois build'")
    lookup = batch.BatchLookup(catalog, services.load_address_index(catalog, settings))

    def bar(items: Iterable[str]) -> Iterable[str]:
        return tqdm(list(items), desc="adresses", unit="adr", disable=args.no_progress)

    results = lookup.run(queries, progress=bar)
    with atomic_path(args.out) as tmp:
        tmp.write_bytes(batch.to_csv(batch.results_table(table, results)))
    counts = ", ".join(f"{n} {s}" for s, n in batch.summary(results).items() if n)
    print(f"wrote {args.out}: {len(results)} addresses ({counts})")
    return 0
