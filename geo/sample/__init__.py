"""The sample territory: a deterministic piece of Lens / Loos-en-Gohelle in the real data formats.

:func:`generate_sample` writes, under ``out_dir``, the layout of docs/formats.md: IGN LiDAR HD
DSM/DTM tiles, BD TOPO buildings, BAN addresses, the generator's roof-face ground truth,
communes, the EPCI table, the Filosofi 200 m grid, parks, greenways, the walkable network and
BHNS stops. The same ``(small, seed)`` gives byte-identical files.

Modules: :mod:`geometry` (analytic terrain, heaps, roofs, trees), :mod:`scene` (objects and
the overlap-checking builder), :mod:`layout` (where things are), :mod:`raster` (DSM/DTM at
pixel centres), :mod:`truth` (roof faces and the heap-shadow ray test), :mod:`tables` (the
real-format tables) and :mod:`write` (the files).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from geo import config
from geo.sample import defects, tables
from geo.sample.layout import DEFAULT_BOUNDS, SMALL_BOUNDS, build_scene
from geo.sample.parcels import parcels, write_parcels_geojson
from geo.sample.raster import rasterise
from geo.sample.sites import write_sites
from geo.sample.write import (
    write_communes_geojson,
    write_csv,
    write_layers,
    write_stops_geojson,
    write_tiles,
)

__all__ = ["DEFAULT_BOUNDS", "SMALL_BOUNDS", "SampleInfo", "generate_sample"]

log = logging.getLogger("artois.sample")


@dataclass(frozen=True)
class SampleInfo:
    """What :func:`generate_sample` wrote."""

    out_dir: Path
    bounds: tuple[float, float, float, float]  # (xmin, ymin, xmax, ymax) [m], Lambert-93
    small: bool
    seed: int
    clean: bool
    tiles: tuple[Path, ...]  # DSM (MNS) and DTM (MNT) tiles
    files: tuple[Path, ...]  # every file written, tiles included
    counts: dict[str, int] = field(default_factory=dict)


def generate_sample(
    out_dir: str | Path, *, small: bool = False, seed: int = 0, clean: bool = False,
    size: tuple[int, int] | None = None, kinds: Sequence[str] | None = None, workers: int | None = None,
) -> SampleInfo:
    """Generate the sample territory under ``out_dir`` (``rooftops/`` and ``parks/``).

    Parameters
    ----------
    out_dir
        Folder to write into (created if needed); existing sample files are replaced.
    small
        The 500 m x 500 m cité (x 685,000–685,500 m, y 7,037,500–7,038,000 m, one cropped
        LiDAR tile) instead of the 2 km x 1 km territory (x 684,000–686,000 m,
        y 7,037,000–7,038,000 m, two tiles).
    seed
        Seed of the numpy Generator behind every random choice.
    clean
        Write the exact scene (no DSM noise, exact footprints…) instead of the default with the
        defects of real data (:mod:`geo.sample.defects`); the truth file is the same.
    size
        (W, H): instead, a territory of W × H whole 1 km LiDAR tiles mixing town centre, corons,
        suburbs, fields, industry and slag heaps (:mod:`geo.sample.territory`).
    kinds
        With ``size``: the kinds of tile from the centre outwards (default
        :data:`geo.sample.territory.KIND_ORDER`).
    workers
        With ``size``: processes writing the LiDAR tiles (default: the cores, at most one per
        tile); the files do not depend on it.

    Returns
    -------
    SampleInfo
        Bounds, files and object counts.
    """
    out = Path(out_dir)
    roof_dir, parks_dir = out / "rooftops", out / "parks"
    if size is not None:
        from geo.sample.territory import KIND_ORDER, build_territory_scene, write_territory_tiles

        scene = build_territory_scene(*size, seed=seed, kinds=KIND_ORDER if kinds is None else kinds)
    else:
        scene = build_scene(small=small, seed=seed)
    rng = np.random.default_rng([seed, 2])
    tables.assign_cleabs(scene, rng)

    rng_defects = np.random.default_rng([seed, 13])  # its own stream: the rest does not depend on it
    if size is not None:  # tile by tile: memory is one tile whatever the territory
        tiles = write_territory_tiles(scene, roof_dir / "lidar", defects_seed=None if clean else [seed, 13],
                                      workers=workers)
    else:
        dtm, dsm, transform = rasterise(scene, scene.bounds, config.LIDAR_PIXEL_SIZE_M)
        if not clean:
            dsm = defects.damage_rasters(dsm, dtm, transform, scene, rng_defects)
        tiles = write_tiles(roof_dir / "lidar", dtm, dsm, transform, scene.bounds)
        del dtm, dsm

    communes = tables.communes(scene)
    ban = tables.addresses(scene, communes, rng)  # before the buildings: 'bis' adds dwellings
    filosofi = tables.filosofi(scene, communes, rng)
    batiment = tables.batiment(scene)
    if not clean:
        batiment = defects.damage_footprints(batiment, scene, rng_defects)
    truth = tables.roof_faces_truth(scene)
    files = list(tiles)
    files.append(write_layers(roof_dir / "batiment.gpkg", {"batiment": batiment}))
    files.append(write_csv(roof_dir / "adresses-62.csv", ban, sep=";"))
    files.append(write_layers(roof_dir / "roof_faces_truth.gpkg", {"roof_faces_truth": truth}))
    if size is None:  # cadastral parcels, one per plot (geo/sample/parcels.py), offset as the footprints are
        errs = None if clean else defects.footprint_errors(scene, np.random.default_rng([seed, 14]))
        files.append(write_parcels_geojson(roof_dir / "parcelles.geojson", parcels(scene, communes, errs)))
    files.append(write_communes_geojson(parks_dir / "communes.geojson", communes))
    files.append(write_csv(parks_dir / "pma-communes-epci.csv", tables.epci_table(communes), sep=","))
    files.append(write_layers(parks_dir / "filosofi_200m.gpkg", {"carreaux": filosofi}))
    files.append(write_layers(parks_dir / "parcs.gpkg", {"parcs": tables.parcs(scene)}))
    files.append(write_layers(parks_dir / "voies_vertes.gpkg", {"voies_vertes": tables.voies_vertes(scene)}))
    files.append(write_layers(parks_dir / "reseau_pietons.gpkg", {"reseau": tables.reseau(scene)}))
    files.append(write_stops_geojson(parks_dir / "arrets_bhns.geojson", tables.arrets(scene)))
    if size is None:  # friches and car parks of the Lens scene (geo/sample/sites.py); a territory has none
        files += write_sites(out / "sites", scene, small=small)
    counts = {
        "buildings": len(batiment),
        "dwellings": int(sum(b.dwellings for b in scene.buildings)),
        "roof_faces": len(truth),
        "faces_in_terril_shadow": int(truth["in_terril_shadow"].sum()),
        "addresses": len(ban),
        "trees": len(scene.trees),
        "filosofi_cells": len(filosofi),
        "population": int(filosofi["Ind"].sum()),
        "parks": len(scene.parks),
        "greenways": len(scene.greenways),
        "network_lines": len(scene.ways),
        "bhns_stops": len(scene.stops),
        "lidar_tiles": len(tiles) // 2,
    }
    log.debug("sample written to %s: %s", out, ", ".join(f"{k} {v}" for k, v in counts.items()))
    return SampleInfo(out, scene.bounds, small, seed, clean, tuple(tiles), tuple(files), counts)
