"""``artois check [--data DIR] [FILE ...]``: read inputs with the real readers and report on them.

Each file is read by the reader of its kind (recognised by name, as laid out in
docs/formats.md): LiDAR HD tiles, footprints (BD TOPO, OSM, cadastre, any polygons), BAN
addresses, Filosofi grid, communes, the EPCI table, parks, greenways, the walkable network and
BHNS stops. A good file prints one summary line; a bad one prints ``artois: error: <file>: <problem>`` and the exit
status is 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from geo.errors import ArtoisError, InputError

Checker = Callable[[Path], str]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("check", help="read input files with the project's readers and report problems",
                       description=__doc__.split("\n\n")[1] if __doc__ else None)
    p.add_argument("files", nargs="*", type=Path, help="files to check (default: every input under --data)")
    p.add_argument("--data", type=Path, default=Path("data"), help="data folder (default: data/)")
    p.set_defaults(func=run)


def _raster(path: Path) -> str:
    from geo.io.rasters import parse_lidar_tile, read_raster

    r = read_raster(path)
    tile = parse_lidar_tile(path)
    what = f"LiDAR HD {tile.kind} tile" if tile else "raster"
    valid = float((r.data == r.data).mean())
    return (f"{what}, {r.shape[1]} x {r.shape[0]} px of {r.res_m:g} m, {r.crs.to_string()}, "
            f"{100 * valid:.0f} % valid")


def _footprints(path: Path) -> str:
    from geo.io.buildings import read_footprints

    gdf = read_footprints(path)
    used = gdf.attrs.get("id_column")
    ident = f"identifier column '{used}'" if used else "identifiers generated from the outlines"
    return f"{len(gdf)} building footprints ({gdf['source'].iloc[0]}, {ident})"


def _ban(path: Path) -> str:
    from geo.io.ban import read_ban

    gdf = read_ban(path)
    return f"{len(gdf)} addresses in {gdf['code_insee'].nunique()} commune(s)"


def _filosofi(path: Path) -> str:
    from geo.io.filosofi import read_filosofi

    gdf = read_filosofi(path)
    return f"{len(gdf)} Filosofi cells, {gdf['Ind'].sum():.0f} inhabitants"


def _communes(path: Path) -> str:
    from geo.io.communes import read_communes

    epci = path.parent / "pma-communes-epci.csv"
    gdf = read_communes(path, epci_table=epci if epci.exists() else None)
    return f"{len(gdf)} communes in {gdf['epci_siren'].nunique()} EPCI"


def _epci(path: Path) -> str:
    from geo.io.communes import read_epci_table

    df = read_epci_table(path)
    return f"{len(df)} communes in {df['epci_siren'].nunique()} EPCI"


def _parcels(path: Path) -> str:
    from geo.io.cadastre import read_parcels

    gdf = read_parcels(path)
    return f"{len(gdf)} cadastral parcels in {gdf['commune'].nunique()} commune(s)"


def _vector(required: tuple[str, ...], what: str) -> Checker:
    def check(path: Path) -> str:
        from geo.io.vectors import read_vector, require_projected

        gdf = read_vector(path, required_columns=required)
        require_projected(gdf, path)
        return f"{len(gdf)} {what}"

    return check


#: File name (or pattern) -> checker, in the order of docs/formats.md.
CHECKS: tuple[tuple[str, Checker], ...] = (
    ("rooftops/lidar/*.tif", _raster),
    ("rooftops/batiment.gpkg", _footprints),
    ("rooftops/adresses-*.csv", _ban),
    ("rooftops/roof_faces_truth.gpkg", _vector(("face_id", "tilt_deg", "azimuth_deg"), "ground-truth roof faces")),
    ("rooftops/*parcelles*", _parcels),
    ("parks/communes.geojson", _communes),
    ("parks/pma-communes-epci.csv", _epci),
    ("parks/filosofi_200m.gpkg", _filosofi),
    ("parks/parcs.gpkg", _vector(("nom", "ensemble"), "parks")),
    ("parks/voies_vertes.gpkg", _vector(("nom", "type"), "greenways")),
    ("parks/reseau_pietons.gpkg", _vector(("highway",), "network lines")),
    ("parks/arrets_bhns.geojson", _vector(("nom", "ligne"), "BHNS stops")),
)


def checker_for(path: Path) -> Checker:
    """The checker of a file, chosen from its name (and extension for rasters)."""
    name = path.name.lower()
    if name.endswith((".tif", ".tiff")):
        return _raster
    if name.startswith("adresses") and ".csv" in name:
        return _ban
    if "filosofi" in name or "carreaux" in name:
        return _filosofi
    if "epci" in name and name.endswith(".csv"):
        return _epci
    if "commune" in name:
        return _communes
    if "batiment" in name or "building" in name:
        return _footprints
    if "parcelle" in name or "parcel" in name:
        return _parcels
    for pattern, fn in CHECKS:  # same stem, any vector format (parcs.shp, reseau_pietons.fgb…)
        if Path(pattern).stem == path.stem.lower():
            return fn
    raise InputError(path, "unknown kind of input (expected a name from docs/formats.md)")


def run(args: argparse.Namespace) -> int:
    jobs: list[tuple[Path, Checker]] = []
    if args.files:
        jobs = [(p, checker_for(p)) for p in args.files]
    else:
        data: Path = args.data
        if not data.is_dir():
            raise InputError(data, "data folder not found (run 'artois sample --out DIR' for a sample)")
        for pattern, fn in CHECKS:
            found = sorted(data.glob(pattern))
            if not found and "*" not in pattern:
                print(f"{data / pattern}: absent", file=sys.stderr)
            jobs += [(p, fn) for p in found]
    errors = 0
    for path, fn in jobs:
        try:
            print(f"{path}: {fn(path)}")
        except ArtoisError as exc:
            if len(jobs) == 1:
                raise
            print(f"artois: error: {exc}", file=sys.stderr)
            errors += 1
    return 2 if errors else 0
