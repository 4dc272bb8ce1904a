"""Roof segmentation against known-truth synthetic roofs (analytic planes), obstacles and bad inputs."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely.affinity
from shapely.geometry import Polygon, box

from geo.roofs.detection import detect_buildings
from geo.roofs.segmentation import segment_roofs
from geo.roofs.synthetic import make_scene
from geo.solar.surface import gradient_normal, tilt_azimuth


def match_share(truth: gpd.GeoDataFrame, faces: gpd.GeoDataFrame, min_area: float = 10.0,
                area_tol: float = 0.05) -> float:
    """Share of true faces >= min_area with a detected face within 3° tilt, 5° azimuth, ``area_tol`` 3-D area."""
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
            ok += abs(f.tilt_deg - t.tilt_deg) <= 3 and da <= 5 and abs(f.area_m2 - t.area_m2) <= area_tol * t.area_m2
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


def test_reconcile_moves_misdrawn_footprints_onto_the_roofs() -> None:
    """Footprints shifted up to 1 m and drawn 0.4 m too large or too small come back onto the roofs
    (known-truth synthetic scene); a footprint on bare ground is flagged, not segmented."""
    from geo.roofs.reconcile import reconcile_footprints
    from geo.roofs.segmentation import prepare_footprints

    scene = make_scene(size_m=132.0, noise_m=0.08, seed=1)
    rng = np.random.default_rng(5)
    exact = scene.footprints.set_index("cleabs").geometry
    drawn = []
    for g in scene.footprints.geometry:
        dx, dy = rng.uniform(-0.7, 0.7, 2)
        grow = rng.choice([-0.4, 0.4])
        drawn.append(shapely.affinity.translate(g.buffer(grow, join_style="mitre"), dx, dy))
    # a demolished building's footprint: 8 m x 6 m of bare ground
    left, top = scene.transform.c, scene.transform.f
    houses = scene.footprints.union_all().buffer(3.0)
    ghost = next(g for g in (box(left + x, top - y - 6, left + x + 8, top - y) for y in range(4, 120, 2)
                             for x in range(4, 120, 2)) if not g.intersects(houses))
    fps = gpd.GeoDataFrame({"cleabs": [*scene.footprints.cleabs, "GHOST"]}, geometry=[*drawn, ghost],
                           crs=scene.crs)
    prepared, _ = prepare_footprints(fps, scene.crs, (scene.transform.c, scene.transform.f - 132.0,
                                                      scene.transform.c + 132.0, scene.transform.f))
    out, issues = reconcile_footprints(prepared, lambda b: (scene.dsm, scene.dtm, scene.transform), res_m=0.5)
    got = out.set_index("building_id")
    assert got.loc["GHOST", "status"] == "no_roof" and issues["no_roof"] == 1
    ids = list(exact.index)
    iou_before = [fps.set_index("cleabs").geometry[i].intersection(exact[i]).area
                  / fps.set_index("cleabs").geometry[i].union(exact[i]).area for i in ids]
    iou_after = [got.geometry[i].intersection(exact[i]).area / got.geometry[i].union(exact[i]).area for i in ids]
    assert np.median(iou_before) < 0.85
    assert np.median(iou_after) > 0.96 and np.percentile(iou_after, 10) > 0.9
    assert (got.loc[ids, "dq_offset_m"] > 0.1).mean() > 0.8 and (got.loc[ids, "dq_offset_m"] < 1.3).all()
    assert (got.loc[ids, "dq_roof_share"] > 0.5).all()
    seg = segment_roofs(scene.dsm, scene.transform, out[out.status == "ok"], crs=scene.crs, id_column="building_id")
    assert match_share(scene.truth, seg.faces, area_tol=0.10) >= 0.9
