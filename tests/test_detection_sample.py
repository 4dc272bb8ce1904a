"""Buildings found without footprints on the generated sample (issue 13's target: ≥ 80 % of the
sample's buildings found as separate buildings), against the generator's exact outlines."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely

from geo.io.cadastre import read_parcels
from geo.io.rasters import find_lidar_tiles, read_raster
from geo.roofs.detection import detect_buildings


def separate_share(found: gpd.GeoDataFrame, exact: gpd.GeoDataFrame) -> tuple[int, int]:
    """True buildings found as separate buildings, and the number of true buildings.

    A true building (the clean sample's footprint, which is its exact roof outline) is found
    separately when one detected outline has an intersection over union ≥ 0.5 with it. The
    matching is one to one by construction: two disjoint outlines cannot both cover more than half
    of the union with the same building, nor one outline with two disjoint buildings. A row left
    whole matches none of its houses; a house cut in two matches when one piece is most of it.
    """
    tree = shapely.STRtree(found.geometry.to_numpy())
    n = 0
    for g in exact.geometry:
        for k in tree.query(g, predicate="intersects"):
            f = found.geometry.iloc[int(k)]
            if f.intersection(g).area / f.union(g).area >= 0.5:
                n += 1
                break
    return n, len(exact)


def _detect(folder: Path, **kw: object) -> gpd.GeoDataFrame:
    lidar = folder / "rooftops" / "lidar"
    d, t = read_raster(find_lidar_tiles(lidar, "MNS")), read_raster(find_lidar_tiles(lidar, "MNT"))
    return detect_buildings(d.data, t.data, d.transform, crs=d.crs, **kw)  # type: ignore[arg-type]


def test_realistic_sample_buildings_found_separately(sample_dir: Path, clean_sample_dir: Path) -> None:
    exact = gpd.read_file(clean_sample_dir / "rooftops" / "batiment.gpkg")
    n, total = separate_share(_detect(sample_dir), exact)
    assert total == len(exact) > 250
    assert n >= 0.8 * total


def test_clean_sample_rows_cut_along_the_parcels(clean_sample_dir: Path) -> None:
    """The clean sample's rows have one continuous roof each (the DSM cannot split them); its
    parcels (one per plot, garages without their own) give back every house."""
    exact = gpd.read_file(clean_sample_dir / "rooftops" / "batiment.gpkg")
    parcels = read_parcels(clean_sample_dir / "rooftops" / "parcelles.geojson")
    n_plain, _ = separate_share(_detect(clean_sample_dir), exact)
    n, total = separate_share(_detect(clean_sample_dir, parcels=parcels), exact)
    assert n_plain < 0.2 * total
    assert n >= 0.95 * total
