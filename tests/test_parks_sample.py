"""Chaîne des Parcs on the small generated sample: the built GeoPackage, request-time calls, the CLI, bad inputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from geo.cli import main
from geo.errors import InputError
from geo.parks import apply_scenario, load_network, route, service_area
from geo.parks.build import analyse_files
from geo.pipeline import build
from geo.products import BuildFolder
from geo.products import parks as P
from geo.products.schema import Layer

#: The layers every build has (gaps may be empty: the small sample's parks are all linked).
CONTRACT = (P.PARKS, P.GREENWAYS, P.ENTRANCES, P.SERVICE_AREAS, P.ACCESS_CELLS, P.GAPS, P.COMMUNES_ACCESS)


@pytest.fixture(scope="module")
def sample(sample_dir: Path) -> Path:
    return sample_dir


@pytest.fixture(scope="module")
def gpkg(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("parks_build")
    report = build(sample, out, only=["parks"])
    assert report.ok, report.lines()
    assert report.outputs["parks"] == [BuildFolder(out).parks]
    return BuildFolder(out).parks


def layer(path: Path, lyr: Layer) -> gpd.GeoDataFrame:
    """A layer of parks.gpkg, through geo.products (InputError when a contract column is missing)."""
    return P.read_layer(path, lyr)


def test_contract_layers_columns_and_crs(gpkg: Path) -> None:
    names = {n for n, _ in pyogrio.list_layers(gpkg)}
    assert {lyr.name for lyr in (*CONTRACT, P.NETWORK_NODES, P.NETWORK_EDGES, P.STOPS_ACCESS)} <= names
    for lyr in CONTRACT:
        df = layer(gpkg, lyr)  # checks the contract columns
        assert df.crs.to_epsg() == 2154, lyr.name
        if lyr is not P.GAPS:  # the small sample's parks are all linked (see test_gap_on_the_sample_without_cavalier)
            assert len(df) > 0, lyr.name


def test_sample_results_are_consistent(gpkg: Path) -> None:
    cells = layer(gpkg, P.ACCESS_CELLS)
    total = cells["population"].sum()
    assert total > 0
    assert (cells["population_within_10min"] <= cells["population"] + 1e-9).all()
    assert (cells["population_within_300m"] <= cells["population_within_10min"] + 1e-9).all()
    communes = layer(gpkg, P.COMMUNES_ACCESS)
    com = communes[communes["level"] == "commune"]
    assert com["population"].sum() == pytest.approx(total)  # the communes tile the sample
    assert (communes["population_within_10min"] <= communes["population"] + 1e-9).all()
    assert communes["share_within_10min"].between(0, 1).all()
    epci = communes[communes["level"] == "epci"]
    assert len(epci) >= 1 and epci["population"].sum() == pytest.approx(total)
    parks = layer(gpkg, P.PARKS)
    assert (parks["population_10min"] <= total + 1e-9).all()
    assert (parks["n_entrances"] > 0).all()
    on = parks[parks["on_greenway"]]
    assert len(on) > 0 and on["component"].notna().all() and on["linked"].all()  # a park on the greenway is linked
    sa = layer(gpkg, P.SERVICE_AREAS)
    assert set(sa["label"]) >= {"300 m", "10 min"}
    assert (sa["population"] <= total + 1e-9).all()
    ten = sa[sa["label"] == "10 min"].set_index("park_id")["population"]
    assert parks.set_index("park_id")["population_10min"].to_dict() == pytest.approx(ten.to_dict())
    gw = layer(gpkg, P.GREENWAYS)
    assert gw["component"].notna().all() and (gw["length_m"] > 0).all()
    stops = layer(gpkg, P.STOPS_ACCESS)
    assert stops["walk_m"].notna().all()
    assert stops["walk_min"].to_numpy() == pytest.approx(stops["walk_m"].to_numpy() / 80.0)


def test_the_model_read_back_is_the_analysed_one(sample: Path, tmp_path: Path) -> None:
    """parks.gpkg holds the whole request-time model: network, parks, entrances, cells, service areas, gaps."""
    d = sample / "parks"
    out = BuildFolder(tmp_path).parks
    analysed = analyse_files(parks=d / "parcs.gpkg", greenways=d / "voies_vertes.gpkg",
                             streets=d / "reseau_pietons.gpkg", population=d / "filosofi_200m.gpkg", out=out).model
    for read in (load_network(out), load_network(tmp_path)):  # the file or the folder holding it
        assert np.array_equal(read.network.nodes, analysed.network.nodes)
        for col in ("u", "v", "length_m", "is_greenway", "kind", "highway", "greenway_id"):
            assert _values(read.network.edges[col]) == _values(analysed.network.edges[col]), col
        assert read.network.edges.geometry.geom_equals_exact(analysed.network.edges.geometry, 0.0).all()
        assert read.park_ids() == analysed.park_ids()
        assert read.entrances["node"].tolist() == analysed.entrances["node"].tolist()
        assert sorted(read.sa10) == sorted(analysed.sa10)
        assert all(read.sa10[p].equals_exact(analysed.sa10[p], 0.0) for p in read.sa10)
        assert read.cells["population"].sum() == pytest.approx(analysed.cells["population"].sum(), rel=1e-12)
        assert read.gaps is not None and analysed.gaps is not None
        assert read.gaps["gap_id"].tolist() == analysed.gaps["gap_id"].tolist()
        a, b = analysed.connectivity(), read.connectivity()
        assert np.array_equal(a.edge_component, b.edge_component) and a.park_system == b.park_system
        assert route(read, 1, 2).length_m == route(analysed, 1, 2).length_m


def _values(column: pd.Series) -> list[object]:
    """The column's values with every kind of null as None (pyogrio reads null text as NaN)."""
    return [None if pd.isna(v) else v for v in column]


def test_a_product_without_its_network_is_a_clear_error(gpkg: Path, tmp_path: Path) -> None:
    partial = BuildFolder(tmp_path).parks
    pyogrio.write_dataframe(layer(gpkg, P.PARKS), partial, layer=P.PARKS.name)
    with pytest.raises(InputError, match="missing layer.*network_edges.*artois build"):
        load_network(partial)
    with pytest.raises(InputError, match="file not found"):
        load_network(tmp_path / "nothing")


def test_request_time_calls_on_the_loaded_model(gpkg: Path) -> None:
    model = load_network(gpkg)
    ids = model.park_ids()
    r = route(model, ids[0], ids[1])
    assert r.length_m > 0 and 0 <= r.share_greenway <= 1
    assert r.geometry.length == pytest.approx(r.length_m, rel=1e-6)
    assert r.walk_min == pytest.approx(r.length_m / 80.0)
    parks = layer(gpkg, P.PARKS).set_index("park_id")
    sa = service_area(model, ids[0], minutes=10)
    assert sa.population == pytest.approx(parks.loc[ids[0], "population_10min"], rel=1e-9)
    small = service_area(model, ids[0], distance_m=300)
    assert small.polygon.area < sa.polygon.area and small.population <= sa.population


def test_gap_on_the_sample_without_greenways(sample: Path, tmp_path: Path) -> None:
    """Without its greenways, the sample's two parks are unlinked: the top gap links them and gives back its claim.

    Once built, the gap is the whole Chaîne: the linked population is then everyone within a
    10-minute walk of either park, which the access cells give independently (one multi-source search).
    """
    data = tmp_path / "data"
    shutil.copytree(sample / "parks", data / "parks")
    (data / "parks" / "voies_vertes.gpkg").unlink()
    out = tmp_path / "build"
    report = build(data, out, only=["parks"])
    assert report.ok, report.lines()
    parks = layer(BuildFolder(out).parks, P.PARKS)
    assert not parks["on_greenway"].any() and not parks["linked"].any()
    gaps = layer(BuildFolder(out).parks, P.GAPS)
    assert len(gaps) == 1
    top = gaps.iloc[0]
    assert top["rank"] == 1 and top["joins"] == "p1,p2" and top["length_m"] > 0
    served = layer(BuildFolder(out).parks, P.ACCESS_CELLS)["population_within_10min"].sum()
    assert served > 0
    assert top["population_newly_linked"] == pytest.approx(served, rel=1e-6)
    assert top["score_per_km"] == pytest.approx(top["population_newly_linked"] / (top["length_m"] / 1000))
    model = load_network(BuildFolder(out).parks)
    sc = apply_scenario(model, [int(top["gap_id"])])
    assert sc.linked_population_before == 0.0
    assert sc.linked_population_gain == pytest.approx(top["population_newly_linked"], rel=1e-9)
    assert sc.parks_linked_before == () and sc.parks_linked_after == (1, 2)
    assert sc.n_components_before == 0 and sc.n_components_after == 1
    assert sc.greenway_length_after_m == pytest.approx(top["length_m"])
    assert route(model, 1, 2).share_greenway == 0.0  # the scenario does not change the stored network


# --------------------------------------------------------------------------- CLI and bad inputs


def cli_args(d: Path, out: Path, **over: Path) -> list[str]:
    args = {"parks": d / "parcs.gpkg", "greenways": d / "voies_vertes.gpkg", "streets": d / "reseau_pietons.gpkg",
            "population": d / "filosofi_200m.gpkg", "communes": d / "communes.geojson",
            "epci-table": d / "pma-communes-epci.csv", "stops": d / "arrets_bhns.geojson"}
    args.update({k.replace("_", "-"): v for k, v in over.items()})
    out_args = ["parks", "analyse", "--out", str(out)]
    for k, v in args.items():
        out_args += [f"--{k}", str(v)]
    return out_args


def test_cli_analyse(sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = BuildFolder(tmp_path).parks
    assert main(cli_args(sample / "parks", out)) == 0
    text = capsys.readouterr().out
    assert f"wrote {out}" in text and "within a 10-minute walk" in text
    assert len(layer(out, P.PARKS)) > 0


def test_cli_streets_in_another_crs_are_reprojected(sample: Path, tmp_path: Path) -> None:
    d = sample / "parks"
    streets = gpd.read_file(d / "reseau_pietons.gpkg", layer="reseau")
    moved = tmp_path / "reseau_3857.gpkg"
    pyogrio.write_dataframe(streets.to_crs(3857), moved, layer="reseau")
    ref, alt = tmp_path / "ref.gpkg", tmp_path / "alt.gpkg"
    assert main(cli_args(d, ref)) == 0
    assert main(cli_args(d, alt, streets=moved)) == 0
    a, b = layer(ref, P.NETWORK_EDGES), layer(alt, P.NETWORK_EDGES)
    assert len(a) == len(b) and b["length_m"].sum() == pytest.approx(a["length_m"].sum(), rel=1e-6)
    pa, pb = layer(ref, P.PARKS), layer(alt, P.PARKS)
    assert pb["population_10min"].to_numpy() == pytest.approx(pa["population_10min"].to_numpy(), rel=1e-4)


def test_cli_bad_inputs_are_one_line_errors(sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = sample / "parks"
    out = BuildFolder(tmp_path).parks
    assert main(cli_args(d, out, streets=tmp_path / "nope.gpkg")) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("artois: error:") and "nope.gpkg: file not found" in err and "\n" not in err
    # lines declared in Lambert-93 but written in degrees: they overlap nothing
    streets = gpd.read_file(d / "reseau_pietons.gpkg", layer="reseau")
    wrong = tmp_path / "wrong_crs.gpkg"
    pyogrio.write_dataframe(streets.to_crs(4326).set_crs(2154, allow_override=True), wrong, layer="reseau")
    assert main(cli_args(d, out, streets=wrong)) == 2
    err = capsys.readouterr().err
    assert "wrong_crs.gpkg: the walk network" in err and "do not overlap" in err
    # an empty population layer
    cells = gpd.read_file(d / "filosofi_200m.gpkg", layer="carreaux")
    empty = tmp_path / "empty_pop.gpkg"
    pyogrio.write_dataframe(cells.iloc[:0], empty, layer="carreaux")
    assert main(cli_args(d, out, population=empty)) == 2
    err = capsys.readouterr().err
    assert "empty_pop.gpkg" in err and "empty" in err
    assert not out.exists()  # nothing half-written


def test_cli_zero_population_is_reported_not_fatal(sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = sample / "parks"
    cells = gpd.read_file(d / "filosofi_200m.gpkg", layer="carreaux")
    for col in ("Ind", "Men", "Men_pauv"):
        cells[col] = 0.0
    zero = tmp_path / "zero_pop.gpkg"
    pyogrio.write_dataframe(cells, zero, layer="carreaux")
    out = BuildFolder(tmp_path).parks
    assert main(cli_args(d, out, population=zero)) == 0
    assert "population vide" in capsys.readouterr().out
    com = layer(out, P.COMMUNES_ACCESS)
    assert (com["population"] == 0).all() and com["share_within_10min"].isna().all()
    assert np.allclose(layer(out, P.PARKS)["population_10min"], 0.0)
