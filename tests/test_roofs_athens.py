"""The segmentation on real LiDAR without footprints: Athens DSM + DEM (EPSG:2100, 1 m)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from geo.io.rasters import read_raster
from geo.roofs.detection import detect_buildings
from geo.roofs.segmentation import segment_roofs


@pytest.mark.shared
def test_athens_buildings_from_dsm_minus_dtm(shared_real: Path) -> None:
    dsm = read_raster(shared_real / "athens" / "DSM.tif")
    dtm = read_raster(shared_real / "athens" / "DEM.tif")
    assert dsm.crs.to_epsg() == 2100 and dsm.res_m == 1.0
    found = detect_buildings(dsm.data, dtm.data, dsm.transform, crs=dsm.crs)
    assert len(found) >= 20
    height = np.nan_to_num(dsm.data - dtm.data)
    built_share = float((height > 2.5).mean())
    assert 0.3 * built_share < found.area.sum() / (400 * 400) <= 1.05 * built_share
    seg = segment_roofs(dsm.data, dsm.transform, found, crs=dsm.crs, id_column="building_id")
    f = seg.faces
    assert len(f) >= 50 and seg.issues["no_valid_pixel"] == 0
    # plausible faces: tilts of real roofs, most of the area in large faces, flat roofs found (Athens)
    assert f.tilt_deg.between(0, 60).all()
    area = np.sort(f.area_m2.to_numpy())[::-1]
    assert area[area >= 50].sum() >= 0.8 * area.sum()
    assert (f.area_m2 * f.is_flat).sum() >= 0.6 * f.area_m2.sum()
    assert (f.plane_rms_m < 0.5).mean() > 0.9
    assert f.usable_area_m2.sum() < f.area_m2.sum()
    assert f.crs.to_epsg() == 2100
