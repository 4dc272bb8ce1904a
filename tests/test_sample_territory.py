"""The fast paths of ``artois sample --size WxH``: per-tile scenes, parallel tile writers, roof
faces moved to the world in one pass.

The references are the plain computations: a tile rasterised from the whole scene (every object
visited), the tiles written by one process, shapely's ``affine_transform`` polygon by polygon.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from geo import config
from geo.sample import tables
from geo.sample.raster import rasterise
from geo.sample.scene import Scene
from geo.sample.territory import TILE, _tile_scene, build_territory_scene, write_territory_tiles
from geo.sample.truth import _frames_to_world, building_faces


@pytest.fixture(scope="module")
def scene() -> Scene:
    # 2 x 1 km: the linear park's trees line the edge between the two tiles
    s = build_territory_scene(2, 1, kinds=("industrial", "fields"))
    tables.assign_cleabs(s, np.random.default_rng(0))
    return s


def test_a_tile_scene_rasterises_like_the_whole_scene(scene: Scene) -> None:
    xmin, ymin, _, _ = scene.bounds
    trees = np.array([(t.x - t.radius_m, t.y - t.radius_m, t.x + t.radius_m, t.y + t.radius_m)
                      for t in scene.trees])
    roofs = np.array([r.frame.outline().bounds for r in scene.roofs])
    for i in range(2):
        tb = (xmin + i * TILE, ymin, xmin + (i + 1) * TILE, ymin + TILE)
        part = _tile_scene(scene, tb, trees, roofs)
        assert 0 < len(part.roofs) < len(scene.roofs)
        assert 0 < len(part.trees) < len(scene.trees)
        dtm, dsm, _ = rasterise(part, tb, config.LIDAR_PIXEL_SIZE_M)
        ref_dtm, ref_dsm, _ = rasterise(scene, tb, config.LIDAR_PIXEL_SIZE_M)
        assert np.array_equal(dtm, ref_dtm)
        assert np.array_equal(dsm, ref_dsm)
        assert (dsm - dtm).max() > 5.0  # roofs and crowns were burnt in


def test_tiles_do_not_depend_on_the_number_of_processes(scene: Scene, tmp_path: Path) -> None:
    one = write_territory_tiles(scene, tmp_path / "one", defects_seed=[0, 13], workers=1)
    two = write_territory_tiles(scene, tmp_path / "two", defects_seed=[0, 13], workers=2)
    assert [p.name for p in one] == [p.name for p in two]
    assert len(one) == 4  # MNS and MNT of two tiles
    for a, b in zip(one, two, strict=True):
        assert a.read_bytes() == b.read_bytes()


def test_faces_move_to_the_world_as_affine_transform_moves_them(scene: Scene) -> None:
    local = [(b.roof.frame, f.polygon) for b in scene.buildings for f in building_faces(b, world=False)]
    assert len({round(frame.ridge_az_deg) for frame, _ in local}) >= 2  # not only one orientation
    moved = _frames_to_world(np.array([p for _, p in local], dtype=object), [frame for frame, _ in local])
    for (frame, poly), got in zip(local, moved, strict=True):
        ref = frame.polygon_to_world(poly)
        assert np.array_equal(shapely.get_coordinates(got), shapely.get_coordinates(ref))
