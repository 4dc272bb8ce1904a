"""Roof segmentation against known-truth synthetic roofs (analytic planes), obstacles and bad inputs."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Polygon, box

from geo.roofs.segmentation import detect_buildings, segment_roofs
from geo.roofs.synthetic import make_scene
from geo.solar.surface import gradient_normal, tilt_azimuth


def match_share(truth: gpd.GeoDataFrame, faces: gpd.GeoDataFrame, min_area: float = 10.0) -> float:
    """Share of true faces >= min_area with a detected face within 3° tilt, 5° azimuth, 5 % 3-D area."""
    ok = n = 0
    by_b = {b: g for b, g in faces.groupby("building_id")}
    for t in truth.itertuples(index=False):
        if t.area_m2 < min_area:
            continue
        n += 1
        for f in by_b.get(t.cleabs, faces.iloc[:0]).itertuples(index=False):
            if f.geometry.intersection(t.geometry).area < 0.5 * t.geometry.area:
                continue
            flat = t.tilt_deg < 5 or math.isnan(t.azimuth_deg)
            da = 0.0 if flat else abs((f.azimuth_deg - t.azimuth_deg + 180) % 360 - 180)
            ok += abs(f.tilt_deg - t.tilt_deg) <= 3 and da <= 5 and abs(f.area_m2 - t.area_m2) <= 0.05 * t.area_m2
            break
    return ok / n


def test_tilt_azimuth_convention() -> None:
    # z rises towards the north (b > 0): the face looks south
    t, az = tilt_azimuth(gradient_normal(0.0, math.tan(math.radians(30))))
    assert t == pytest.approx(30.0) and az == pytest.approx(180.0)
    t, az = tilt_azimuth(gradient_normal(math.tan(math.radians(45)), 0.0))  # rises to the east: looks west
    assert t == pytest.approx(45.0) and az == pytest.approx(270.0)


@pytest.mark.parametrize("noise", [0.0, 0.05])
def test_faces_match_truth(noise: float) -> None:
    scene = make_scene(size_m=132.0, noise_m=noise, seed=1)
    seg = segment_roofs(scene.dsm, scene.transform, scene.footprints, crs=scene.crs)
    share = match_share(scene.truth, seg.faces)
    assert share >= 0.95, f"only {share:.1%} of true faces found (noise {noise} m)"
    # the face polygons tile the footprints: horizontal areas add up
    fp_area = scene.footprints.set_index("cleabs").geometry.area
    got = seg.faces.groupby("building_id")["footprint_area_m2"].sum()
    assert np.allclose(got.reindex(fp_area.index).fillna(0), fp_area, rtol=0.02)


def test_obstacles_reduce_usable_area() -> None:
    with_ch = make_scene(size_m=110.0, seed=4, chimney_share=1.0)
    without = make_scene(size_m=110.0, seed=4, chimney_share=0.0)  # same roofs, no chimney or HVAC
    a = segment_roofs(with_ch.dsm, with_ch.transform, with_ch.footprints, crs=with_ch.crs).faces
    b = segment_roofs(without.dsm, without.transform, without.footprints, crs=without.crs).faces
    truth = with_ch.truth[with_ch.truth["obstacle_area_m2"] > 0]
    assert len(truth) >= 10
    checked = 0
    for t in truth.itertuples(index=False):
        fa = a[(a.building_id == t.cleabs) & (a.geometry.intersection(t.geometry).area > 0.5 * t.geometry.area)]
        fb = b[(b.building_id == t.cleabs) & (b.geometry.intersection(t.geometry).area > 0.5 * t.geometry.area)]
        assert len(fa) == 1 and len(fb) == 1
        assert fa.obstacle_area_m2.iloc[0] >= 0.5 * t.obstacle_area_m2
        # an obstacle of 0.36 m² (chimney) with a 0.3 m clearance removes at least ~1 m²
        assert fa.usable_area_m2.iloc[0] < fb.usable_area_m2.iloc[0] - 0.8
        assert fa.area_m2.iloc[0] == pytest.approx(fb.area_m2.iloc[0], rel=0.01)  # the face itself is unchanged
        checked += 1
    assert checked == len(truth)


def test_bad_footprints_are_reported_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    scene = make_scene(size_m=70.0, seed=2)
    fps = scene.footprints.copy()
    x0, y0, x1, y1 = fps.total_bounds
    extra = gpd.GeoDataFrame({
        "cleabs": ["BOWTIE", "EMPTY", "OUTSIDE", "HOLE"],
        "roof_type": ["x"] * 4,
    }, geometry=[
        Polygon([(x0 + 1, y0 + 1), (x0 + 5, y0 + 5), (x0 + 5, y0 + 1), (x0 + 1, y0 + 5)]),  # self-intersecting
        Polygon(),
        box(x1 + 500, y1 + 500, x1 + 510, y1 + 510),
        box(x0 + 1, y1 - 6, x0 + 6, y1 - 1),
    ], crs=fps.crs)
    allfp = gpd.GeoDataFrame(np.concatenate([fps.to_numpy(), extra.to_numpy()]), columns=fps.columns,
                             geometry="geometry", crs=fps.crs).to_crs("EPSG:4326")  # another CRS
    dsm = scene.dsm.copy()
    # no data under the HOLE footprint
    r0, c0 = ~scene.transform @ (x0 + 1, y1 - 1)
    r1, c1 = ~scene.transform @ (x0 + 6, y1 - 6)
    dsm[int(c0) - 1:int(c1) + 1, int(r0) - 1:int(r1) + 1] = np.nan
    with caplog.at_level("WARNING"):
        seg = segment_roofs(dsm, scene.transform, allfp, crs=scene.crs)
    assert seg.issues["reprojected_footprints"] == len(allfp)
    assert seg.issues["empty_footprints"] == 1
    assert seg.issues["repaired_footprints"] == 1
    assert seg.issues["outside_dsm"] == 1
    assert seg.issues["no_valid_pixel"] == 1
    status = seg.buildings.set_index("building_id")["status"]
    assert status["OUTSIDE"] == "outside_dsm" and status["HOLE"] == "no_valid_pixel"
    assert "reprojected footprints" in caplog.text and "no valid DSM pixel" in caplog.text
    # the good buildings are still all there, in the DSM's CRS
    assert set(scene.footprints.cleabs) <= set(seg.faces.building_id)
    assert seg.faces.crs == scene.footprints.crs


def test_detect_buildings_without_footprints_excludes_trees() -> None:
    scene = make_scene(size_m=132.0, seed=5, n_trees=12, noise_m=0.03)
    found = detect_buildings(scene.dsm, scene.dtm, scene.transform, crs=scene.crs)
    # every house found once, no tree taken for a building
    hits = gpd.sjoin(found, scene.footprints, predicate="intersects")
    assert found.building_id.nunique() == len(scene.footprints)
    assert hits.cleabs.nunique() == len(scene.footprints)
    iou = [f.intersection(t).area / f.union(t).area for f, t in
           zip(hits.geometry, scene.footprints.set_index("cleabs").geometry[hits.cleabs], strict=True)]
    assert np.median(iou) > 0.85
    seg = segment_roofs(scene.dsm, scene.transform, found, crs=scene.crs, id_column="building_id")
    assert len(seg.faces) >= 0.9 * len(scene.truth)
