"""The roofs stage as cluster tasks: plan → one file per group of buildings → assembly (issue 11).

The pipeline runs each group as a task writing ``.build/tiles/roofs/<group>.parquet``
(:mod:`geo.io.roof_groups`) and assembles ``rooftops.gpkg`` from the files; the in-process API
(:func:`geo.roofs.build.run_roofs`) keeps the results in memory. Both must give the same product.
"""

from __future__ import annotations

import dataclasses
import math
import pickle
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geo.errors import InputError
from geo.io.roof_groups import RoofGroupFile, read_roof_group, write_roof_group
from geo.products import BuildFolder


@pytest.fixture(scope="module")
def spread_footprints(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every 25th footprint of the sample: a few dozen buildings over the whole 2 km x 1 km."""
    fps = gpd.read_file(sample_dir / "rooftops" / "batiment.gpkg", layer="batiment").iloc[::25]
    path = tmp_path_factory.mktemp("roofs_groups") / "batiment.gpkg"
    fps.to_file(path, layer="batiment")
    return path


def _inputs(sample_dir: Path, built_dir: Path, footprints: Path, out: Path) -> dict[str, object]:
    roof = sample_dir / "rooftops"
    return dict(irradiance=BuildFolder(built_dir).irradiance, dsm=sorted((roof / "lidar").glob("*MNS*.tif")),
                out=out, footprints=footprints, addresses=sorted(roof.glob("adresses-*.csv"))[0],
                communes=sample_dir / "parks" / "communes.geojson", tile_m=150.0)


def _assert_same_gpkg(a: Path, b: Path) -> None:
    layers = [name for name, _ in pyogrio.list_layers(a)]
    assert layers == [name for name, _ in pyogrio.list_layers(b)]
    for lyr in layers:
        da, db = gpd.read_file(a, layer=lyr), gpd.read_file(b, layer=lyr)
        pd.testing.assert_frame_equal(pd.DataFrame(da.drop(columns="geometry", errors="ignore")),
                                      pd.DataFrame(db.drop(columns="geometry", errors="ignore")))
        if "geometry" in da:
            assert da.geometry.equals(db.geometry)


def test_group_files_give_the_in_memory_product(sample_dir: Path, built_dir: Path, spread_footprints: Path,
                                                tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import geo.roofs.build as rb

    inputs = _inputs(sample_dir, built_dir, spread_footprints, tmp_path / "memory.gpkg")
    rb.run_roofs(**inputs)  # type: ignore[arg-type]
    plan = rb.plan_roofs(**{**inputs, "out": tmp_path / "files.gpkg"})  # type: ignore[arg-type]
    assert len(plan.tasks) >= 3 and len(set(plan.names)) == len(plan.names)
    group_dir = tmp_path / "groups"
    # as on a cluster: each task pickled to a worker, which has its copy of the site model (shared by its groups)
    site = pickle.loads(pickle.dumps(plan.site))
    files = [rb.roofs_group_file(pickle.loads(pickle.dumps(t)), site, n, group_dir) for t, n in zip(
        plan.tasks, plan.names, strict=True)]
    assert sorted(p.name for p in group_dir.iterdir()) == sorted(f"{n}.parquet" for n in plan.names)
    with pytest.raises(Exception, match="not computed yet"):
        rb.assemble_roofs_files(plan, tmp_path / "elsewhere")
    rb.assemble_roofs_files(plan, group_dir)
    _assert_same_gpkg(tmp_path / "memory.gpkg", tmp_path / "files.gpkg")
    # the groups' economics (computed in the tasks) are those the assembly computes over the territory
    # (group files of a build before they were stored)
    assert all(rb.read_group_file(plan, f).economics is not None for f in files)
    plan.out = tmp_path / "assembled.gpkg"
    rb.assemble_roofs(plan, [dataclasses.replace(rb.read_group_file(plan, f), economics=None) for f in files])
    _assert_same_gpkg(tmp_path / "files.gpkg", tmp_path / "assembled.gpkg")
    # a group whose file exists is not computed again
    mtimes = [p.stat().st_mtime_ns for p in files]

    def fail(task: object, site: object) -> None:
        raise AssertionError("a group with a file was recomputed")

    monkeypatch.setattr(rb, "roofs_group", fail)
    assert [rb.roofs_group_file(t, site, n, group_dir) for t, n in zip(plan.tasks, plan.names, strict=True)] == files
    assert [p.stat().st_mtime_ns for p in files] == mtimes
    # a file that is not a group's is named in the error
    files[0].write_bytes(b"PAR1 not parquet")
    with pytest.raises(InputError, match=files[0].name):
        rb.assemble_roofs_files(plan, group_dir)


def test_group_file_round_trip(tmp_path: Path) -> None:
    """Faces with two geometry columns, strings, NaN and ints come back equal; no faces stays None."""
    faces = gpd.GeoDataFrame(
        {"building_id": ["a", "a", "b"], "face_id": ["a-1", "a-2", "b-1"], "kwp": [3.0, float("nan"), 0.1 + 0.2],
         "n_modules": [9, 0, 1], "is_flat": [False, True, False],
         "usable_geometry": [shapely.box(0, 0, 1, 1), shapely.Polygon(), None]},
        geometry=[shapely.box(0, 0, 2, 2), shapely.box(1 / 3, 0, 2, 2), shapely.box(5, 5, 6, 6 + 1e-9)],
        crs="EPSG:2154")
    bins = {"t30a180": (30.0, 180.0, False), "rack": (10.0, 180.0, True)}
    path = write_roof_group(tmp_path / "g.parquet", RoofGroupFile(faces, {"a": "ok", "b": "ok"}, bins),
                            crs=faces.crs)
    back = read_roof_group(path)
    assert back.status == {"a": "ok", "b": "ok"} and back.profile_bins == bins
    assert back.faces is not None and back.faces.crs == faces.crs
    pd.testing.assert_frame_equal(pd.DataFrame(back.faces.drop(columns=["geometry", "usable_geometry"])),
                                  pd.DataFrame(faces.drop(columns=["geometry", "usable_geometry"])))
    assert shapely.equals_exact(back.faces.geometry.to_numpy(), faces.geometry.to_numpy(), tolerance=0).all()
    got = back.faces["usable_geometry"].tolist()
    assert got[0].equals(faces["usable_geometry"].iloc[0]) and got[1].is_empty and got[2] is None
    assert back.economics is None  # a file written without them
    econ = {"a": {"owner": "menage", "reco_kwp": 0.1 + 0.2, "reco_payback_yr": float("nan"), "swh_face_id": None,
                  "analysis_years": 20}}
    again = read_roof_group(write_roof_group(tmp_path / "h.parquet", RoofGroupFile(faces, {"a": "ok"}, bins, econ),
                                             crs=faces.crs)).economics
    assert again is not None and set(again) == {"a"}
    got_a, want_a = again["a"], econ["a"]
    assert {k: v for k, v in got_a.items() if k != "reco_payback_yr"} == {
        k: v for k, v in want_a.items() if k != "reco_payback_yr"}
    assert got_a["reco_kwp"] == 0.1 + 0.2 and math.isnan(float(got_a["reco_payback_yr"]))  # type: ignore[arg-type]
    empty = read_roof_group(write_roof_group(tmp_path / "e.parquet", RoofGroupFile(None, {"c": "no_valid_pixel"}, {},
                                                                                   {}), crs=faces.crs))
    assert empty.faces is None and empty.status == {"c": "no_valid_pixel"} and empty.economics == {}
    assert not list(tmp_path.glob(".*"))  # no temporary file left


def test_building_table_totals_and_best_face_by_hand() -> None:
    """Per building, by hand: the totals count the faces that are not unsuitable (production NaN-safe); the best
    face is the highest specific yield among those with room for the minimum installation, the first on a tie;
    a building without a face gets zeros and no best face; the economics rows are joined to buildings with faces."""
    from geo import config
    from geo.roofs.aggregate import building_table

    u = config.SUITABILITY_UNSUITABLE
    faces = pd.DataFrame({
        "building_id": ["A", "A", "A", "A", "C", "C"],
        "face_id": ["A-1", "A-2", "A-3", "A-4", "C-1", "C-2"],
        "suitability": ["bon", "excellent", u, "moyen", "bon", "bon"],
        "usable_area_m2": [10.0, 20.0, 99.0, 5.0, 8.0, 8.0],
        "kwp": [2.0, 4.0, 9.0, 1.0, 1.5, 1.5],
        "production_kwh_yr": [1800.0, 4000.0, 9000.0, float("nan"), 1300.0, 1300.0],
        "specific_yield_kwh_kwp": [900.0, 1000.0, 1100.0, 1200.0, 870.0, 870.0],
        "n_modules": [5, 10, 20, 2, 4, 4],  # the highest yield, but below SUITABLE_MIN_MODULES (3)
    })
    buildings = gpd.GeoDataFrame({"building_id": ["A", "B", "C"]},
                                 geometry=[shapely.box(i * 20, 0, i * 20 + 10, 10) for i in range(3)], crs="EPSG:2154")
    econ = {"A": {"reco_kwp": 3.0, "owner": "household"}, "C": {"reco_kwp": 1.5, "owner": "household"}}
    t = building_table(buildings, faces, {}, temp_air_c=np.full(12, 10.0), weather_source="test",
                       economics=econ).set_index("building_id")
    assert t.loc["A", "n_faces"] == 4 and t.loc["A", "n_suitable_faces"] == 3
    assert (t.loc["A", "usable_area_m2"], t.loc["A", "kwp_max"], t.loc["A", "production_kwh_yr_max"]) == (35.0, 7.0, 5800.0)
    assert (t.loc["A", "best_face_id"], t.loc["A", "suitability"]) == ("A-3", u)  # 1,100 > 1,000 with room for modules
    assert (t.loc["C", "best_face_id"], t.loc["C", "suitability"]) == ("C-1", "bon")  # a tie: the first face
    assert (t.loc["B", "n_faces"], t.loc["B", "kwp_max"], t.loc["B", "suitability"]) == (0, 0.0, u)
    assert pd.isna(t.loc["B", "best_face_id"]) and pd.isna(t.loc["B", "reco_kwp"]) and pd.isna(t.loc["B", "owner"])
    assert (t.loc["A", "reco_kwp"], t.loc["C", "owner"]) == (3.0, "household")
