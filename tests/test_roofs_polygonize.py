"""The batched polygonization of the roofs segmentation against GDAL's, one raster at a time (rasterio)."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio.features
from affine import Affine
from shapely.geometry import shape

from geo.roofs import segmentation as seg


def _rasters(seed: int) -> list[np.ndarray | None]:
    """Label rasters of various sizes: several areas per label, holes, islands, diagonal contacts, empty ones."""
    rng = np.random.default_rng(seed)
    out: list[np.ndarray | None] = []
    for _ in range(40):
        if rng.random() < 0.1:
            out.append(None)
            continue
        h, w = (int(v) for v in rng.integers(3, 40, 2))
        r = rng.integers(0, int(rng.integers(2, 6)), (h, w)).astype(np.int32)
        r = np.kron(r, np.ones((2, 2), np.int32))[:h, :w] if rng.random() < 0.5 else r  # blockier areas
        if rng.random() < 0.2:
            r[:] = 0
        if h > 8 and w > 8:
            r[2:-2, 2:-2][1:-1, 1:-1] = 0  # a hole with a ring of other values around
            r[4, 4] = 1  # an island inside it
        out.append(r)
    return out


@pytest.mark.parametrize(("connectivity", "seed"), [(4, 1), (8, 2), (4, 3), (8, 4)])
def test_canvas_polygons_are_gdals(connectivity: int, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seg, "_CANVAS_WIDTH", 64)  # many shelves
    rasters = _rasters(seed)
    rng = np.random.default_rng(seed + 100)
    steps = [float(rng.choice([0.5, 0.125, 0.3, 1 / 3, 0.2])) for _ in rasters]
    origins = [(float(rng.uniform(6.8e5, 6.9e5)), float(rng.uniform(7.03e6, 7.04e6))) for _ in rasters]
    got = seg._polygonize_canvas(rasters, steps, origins, connectivity)
    for r, step, (ox, oy), polys in zip(rasters, steps, origins, got, strict=True):
        want: dict[int, list[bytes]] = {}
        if r is not None:
            tf = Affine(step, 0.0, ox, 0.0, -step, oy)
            for g, v in rasterio.features.shapes(r, mask=r > 0, transform=tf, connectivity=connectivity):
                want.setdefault(int(v), []).append(shape(g).wkb)
        assert {k: [p.wkb for p in ps] for k, ps in polys.items()} == want
