"""Readers of the real formats (footprints, BAN, Filosofi, communes) and one-line errors on bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from affine import Affine
from pyproj import Transformer

from geo import config
from geo.cli import main
from geo.errors import CRSError, InputError
from geo.io.ban import read_ban
from geo.io.buildings import FOOTPRINT_COLUMNS, read_footprints
from geo.io.communes import read_communes, read_epci_table
from geo.io.filosofi import parse_idcar, read_filosofi
from geo.io.rasters import write_geotiff

# ---------------------------------------------------------------------------
# footprints
# ---------------------------------------------------------------------------


def test_bdtopo_geopackage(sample_dir: Path) -> None:
    fp = read_footprints(sample_dir / "rooftops" / "batiment.gpkg")
    raw = gpd.read_file(sample_dir / "rooftops" / "batiment.gpkg")
    assert list(fp.columns) == [*FOOTPRINT_COLUMNS, "geometry"]
    assert len(fp) == len(raw) and fp.crs.to_epsg() == 2154
    assert (fp["building_id"] == raw["cleabs"]).all() and (fp["source"] == "bdtopo").all()
    np.testing.assert_allclose(fp["hauteur"], raw["hauteur"])
    assert fp.geometry.area.sum() == pytest.approx(raw.geometry.area.sum())


def test_bdtopo_shapefile_with_dbf_names_and_z(tmp_path: Path, sample_dir: Path) -> None:
    raw = gpd.read_file(sample_dir / "rooftops" / "batiment.gpkg").head(20)
    shp = gpd.GeoDataFrame({
        "ID": raw["cleabs"], "USAGE1": raw["usage_1"], "HAUTEUR": raw["hauteur"],
        "NB_ETAGES": raw["nombre_d_etages"], "Z_MIN_SOL": raw["altitude_minimale_sol"],
        "Z_MAX_TOIT": raw["altitude_maximale_toit"],
    }, geometry=shapely.force_3d(raw.geometry.values, 40.0), crs=2154)
    shp.to_file(tmp_path / "BATIMENT.shp")
    fp = read_footprints(tmp_path / "BATIMENT.shp")
    assert list(fp["building_id"]) == list(raw["cleabs"])
    assert list(fp["usage_1"]) == list(raw["usage_1"])
    np.testing.assert_allclose(fp["altitude_maximale_toit"], raw["altitude_maximale_toit"])
    assert not fp.geometry.has_z.any()


def test_osm_geojson_buildings_are_reprojected(tmp_path: Path) -> None:
    to_wgs = Transformer.from_crs(2154, 4326, always_xy=True)

    def square(x: float, y: float, s: float) -> list[list[float]]:
        pts = [(x, y), (x + s, y), (x + s, y + s), (x, y + s), (x, y)]
        return [list(to_wgs.transform(px, py)) for px, py in pts]

    feats = [
        {"type": "Feature", "properties": {"@id": "way/123", "building": "house", "height": "7.5 m",
                                           "building:levels": "2"},
         "geometry": {"type": "Polygon", "coordinates": [square(685_000, 7_037_500, 10)]}},
        {"type": "Feature", "properties": {"@id": "relation/9", "building": "church"},
         "geometry": {"type": "Polygon", "coordinates": [square(685_100, 7_037_500, 20)]}},
        {"type": "Feature", "properties": {"@id": "way/7", "building": "no"},
         "geometry": {"type": "Polygon", "coordinates": [square(685_200, 7_037_500, 5)]}},
    ]
    path = tmp_path / "osm.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    fp = read_footprints(path)
    assert list(fp["building_id"]) == ["osm-way-123", "osm-relation-9"]
    assert fp["cleabs"].isna().all() and list(fp["usage_1"]) == ["Résidentiel", "Religieux"]
    assert fp["hauteur"].iloc[0] == 7.5 and fp["nombre_d_etages"].iloc[0] == 2
    assert fp.crs.to_epsg() == 2154
    assert fp.geometry.area.iloc[0] == pytest.approx(100.0, rel=1e-4)
    assert fp.geometry.iloc[0].bounds[0] == pytest.approx(685_000, abs=0.01)


def test_footprints_refuse_a_geographic_working_crs(sample_dir: Path) -> None:
    with pytest.raises(CRSError, match="geographic"):
        read_footprints(sample_dir / "rooftops" / "batiment.gpkg", crs="EPSG:4326")


# ---------------------------------------------------------------------------
# BAN
# ---------------------------------------------------------------------------


def test_ban_sample(sample_dir: Path) -> None:
    ban = read_ban(sample_dir / "rooftops" / "adresses-62.csv")
    raw = pd.read_csv(sample_dir / "rooftops" / "adresses-62.csv", sep=";", dtype=str)
    assert len(ban) == len(raw) and ban.crs.to_epsg() == 2154
    np.testing.assert_allclose(ban.geometry.x, raw["x"].astype(float))
    row = ban.iloc[0]
    assert row["label"] == f"{row['numero']} {row['nom_voie']} {row['code_postal']} {row['nom_commune']}"


def test_ban_label_rep_and_lonlat_fallback(tmp_path: Path) -> None:
    cols = list(config.BAN_COLUMNS)
    base = dict.fromkeys(cols, "")
    lon, lat = Transformer.from_crs(2154, 4326, always_xy=True).transform(685_100.0, 7_037_600.0)
    rows = [
        {**base, "id": "62498_1234_00012_bis", "numero": "12", "rep": "bis", "nom_voie": "Rue Émile Zola",
         "code_postal": "62300", "code_insee": "62498", "nom_commune": "Lens", "x": "685000.5", "y": "7037500.25",
         "lon": "2.79", "lat": "50.43"},
        {**base, "id": "62498_1234_00014", "numero": "14", "nom_voie": "Rue Émile Zola", "code_postal": "62300",
         "code_insee": "62498", "nom_commune": "Lens", "lon": f"{lon:.8f}", "lat": f"{lat:.8f}"},
        {**base, "id": "62498_1234_00016", "numero": "16", "nom_voie": "Rue Émile Zola", "code_postal": "62300",
         "code_insee": "62498", "nom_commune": "Lens"},
    ]
    path = tmp_path / "adresses-62.csv"
    pd.DataFrame(rows, columns=cols).to_csv(path, sep=";", index=False)
    ban = read_ban(path)
    assert list(ban["label"]) == ["12 bis Rue Émile Zola 62300 Lens", "14 Rue Émile Zola 62300 Lens"]
    assert (ban.geometry.x.iloc[0], ban.geometry.y.iloc[0]) == (685000.5, 7037500.25)  # x/y win over lon/lat
    assert ban.geometry.x.iloc[1] == pytest.approx(685_100.0, abs=1e-3)
    assert ban.geometry.y.iloc[1] == pytest.approx(7_037_600.0, abs=1e-3)


def test_ban_wrong_separator_is_explained(tmp_path: Path, sample_dir: Path) -> None:
    df = pd.read_csv(sample_dir / "rooftops" / "adresses-62.csv", sep=";", dtype=str)
    path = tmp_path / "adresses-62.csv"
    df.to_csv(path, sep=",", index=False)
    with pytest.raises(InputError, match=r"missing column\(s\) id, numero.*';'-separated"):
        read_ban(path)


# ---------------------------------------------------------------------------
# Filosofi
# ---------------------------------------------------------------------------


def test_parse_idcar() -> None:
    assert parse_idcar("CRS3035RES200mN3061200E3809600") == (3035, 200.0, 3809600.0, 3061200.0)
    with pytest.raises(ValueError):
        parse_idcar("N3061200E3809600")


def test_filosofi_geopackage_and_csv_agree(sample_dir: Path, tmp_path: Path) -> None:
    gpkg = read_filosofi(sample_dir / "parks" / "filosofi_200m.gpkg")
    assert gpkg.crs.to_epsg() == 3035 and set(config.FILOSOFI_COLUMNS) <= set(gpkg.columns)
    # the 2019 CSV release: lowercase names, ';'-separated, no geometry
    csv = tmp_path / "carreaux_200m_met.csv"
    pd.DataFrame({"idcar_200m": gpkg["Idcar_200m"], "ind": gpkg["Ind"], "men": gpkg["Men"],
                  "men_pauv": gpkg["Men_pauv"]}).to_csv(csv, sep=";", index=False)
    back = read_filosofi(csv)
    assert list(back["Idcar_200m"]) == list(gpkg["Idcar_200m"])
    np.testing.assert_array_equal(back["Ind"], gpkg["Ind"])
    assert all(a.equals(b) for a, b in zip(back.geometry, gpkg.geometry, strict=True))
    l93 = read_filosofi(csv, crs=config.WORKING_CRS)
    assert l93.crs.to_epsg() == 2154
    assert l93.geometry.area.between(39_800, 40_200).all()  # 200 m squares, scale factors differ by < 0.5 %


# ---------------------------------------------------------------------------
# communes
# ---------------------------------------------------------------------------


def test_communes_sample(sample_dir: Path) -> None:
    alone = read_communes(sample_dir / "parks" / "communes.geojson")
    assert list(alone["code_insee"]) == ["62498", "62528"]
    assert list(alone["epci_nom"]) == ["CA de Lens - Liévin"] * 2  # from the SIREN via config
    joined = read_communes(sample_dir / "parks" / "communes.geojson",
                           epci_table=sample_dir / "parks" / "pma-communes-epci.csv")
    assert list(joined["population"]) == [32697, 6850]
    assert joined.crs.to_epsg() == 2154


@pytest.mark.shared
def test_real_pma_communes_in_three_agglomerations(shared_real: Path) -> None:
    table = read_epci_table(shared_real / "pma-communes-epci.csv")
    assert len(table) == 150
    communes = read_communes(shared_real / "communes-62-pas-de-calais.geojson", epci_table=table)
    assert len(communes) == 150 and communes["code_insee"].is_unique
    groups = communes.groupby("epci_siren")["code_insee"].count().to_dict()
    assert set(groups) == set(config.PMA_EPCI) and sum(groups.values()) == 150
    assert communes.loc[communes["code_insee"] == "62498", "nom"].item() == "Lens"
    assert communes["population"].sum() > 600_000
    # each agglomeration is one contiguous territory (communes touch each other)
    for siren, grp in communes.groupby("epci_siren"):
        union = shapely.union_all(grp.geometry.buffer(5).values)
        assert union.geom_type == "Polygon", siren


def test_communes_of_a_part_of_the_territory_and_a_foreign_table(sample_dir: Path, tmp_path: Path) -> None:
    table = tmp_path / "epci.csv"
    table.write_text("epci_siren,epci_nom,insee_com,nom_com,population_municipale_2025\n"
                     "246200364,CA de Lens - Liévin,62510,Liévin,30113\n"
                     "246200364,CA de Lens - Liévin,62498,Lens,32697\n", encoding="utf-8")
    # The area holds a part of the table's territory (Liévin is not in it): the communes of both.
    part = read_communes(sample_dir / "parks" / "communes.geojson", epci_table=table)
    assert list(part["code_insee"]) == ["62498"] and list(part["population"]) == [32697]
    assert list(part["epci_siren"]) == ["246200364"] and list(part["nom"]) == ["Lens"]
    # A table of another territory altogether is an error naming the file.
    table.write_text("epci_siren,epci_nom,insee_com,nom_com,population_municipale_2025\n"
                     "200069037,CA du Boulonnais,62160,Boulogne-sur-Mer,40000\n", encoding="utf-8")
    with pytest.raises(InputError, match="none of its 2 commune"):
        read_communes(sample_dir / "parks" / "communes.geojson", epci_table=table)


# ---------------------------------------------------------------------------
# bad inputs through the command line: one line, naming the file, exit status 2
# ---------------------------------------------------------------------------


def _one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str], path: Path, problem: str) -> None:
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("artois: error: ") and str(path) in err[0] and problem in err[0], err[0]


def test_cli_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "batiment.gpkg"
    _one_line_error(capsys, ["check", str(path)], path, "file not found")


def test_cli_corrupt_geotiff(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "LHD_FXX_0685_7038_MNS_O_0M50_LAMB93_IGN69.tif"
    path.write_bytes(b"II*\x00" + bytes(range(256)) * 40)
    _one_line_error(capsys, ["check", str(path)], path, "raster")


def test_cli_truncated_geotiff(capsys: pytest.CaptureFixture[str], sample_dir: Path, tmp_path: Path) -> None:
    src = next((sample_dir / "rooftops" / "lidar").glob("*MNS*.tif"))
    path = tmp_path / src.name
    path.write_bytes(src.read_bytes()[:20_000])
    capsys.readouterr()
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("artois: error: ") and str(path) in err[0]


def test_cli_dsm_in_geographic_crs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "dsm_wgs84.tif"
    write_geotiff(path, np.full((10, 10), 40.0, np.float32), transform=Affine(1e-5, 0, 2.8, 0, -1e-5, 50.4),
                  crs="EPSG:4326", nodata=-9999.0)
    _one_line_error(capsys, ["check", str(path)], path, "geographic")


def test_cli_vector_without_crs(capsys: pytest.CaptureFixture[str], sample_dir: Path, tmp_path: Path) -> None:
    gdf = gpd.read_file(sample_dir / "parks" / "parcs.gpkg")
    path = tmp_path / "parcs.shp"
    gdf.set_crs(None, allow_override=True).to_file(path)
    assert not path.with_suffix(".prj").exists()
    _one_line_error(capsys, ["check", str(path)], path, "no CRS")


def test_cli_empty_layer(capsys: pytest.CaptureFixture[str], sample_dir: Path, tmp_path: Path) -> None:
    gdf = gpd.read_file(sample_dir / "rooftops" / "batiment.gpkg").iloc[:0]
    path = tmp_path / "batiment.gpkg"
    pyogrio.write_dataframe(gdf, path, layer="batiment")
    _one_line_error(capsys, ["check", str(path)], path, "empty")


def test_cli_csv_with_wrong_columns(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "adresses-62.csv"
    path.write_text("identifiant;rue;commune\n1;Rue Émile Zola;Lens\n", encoding="utf-8")
    _one_line_error(capsys, ["check", str(path)], path, "missing column(s) id, numero")
    epci = tmp_path / "pma-communes-epci.csv"
    epci.write_text("a,b\n1,2\n", encoding="utf-8")
    _one_line_error(capsys, ["check", str(epci)], epci, "missing column(s) insee_com, epci_siren")


def test_cli_checks_the_whole_sample(capsys: pytest.CaptureFixture[str], sample_dir: Path) -> None:
    capsys.readouterr()
    assert main(["check", "--data", str(sample_dir)]) == 0
    out = capsys.readouterr().out
    assert "LiDAR HD MNS tile, 1000 x 1000 px of 0.5 m, EPSG:2154" in out
    assert "2 communes in 1 EPCI" in out and len(out.strip().splitlines()) == 13


def test_cli_reports_every_bad_file_of_a_folder(capsys: pytest.CaptureFixture[str], sample_dir: Path,
                                                tmp_path: Path) -> None:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(sample_dir, data)
    (data / "parks" / "filosofi_200m.gpkg").write_bytes(b"garbage")
    (data / "rooftops" / "adresses-62.csv").write_text("a;b\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["check", "--data", str(data)]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("artois: error:")]
    assert len(err) == 2
    assert any("filosofi_200m.gpkg" in e for e in err) and any("adresses-62.csv" in e for e in err)


# ---------------------------------------------------------------------------
# footprints from any polygon layer: the cadastre, a municipal Shapefile
# ---------------------------------------------------------------------------


def _cadastre_geojson(path: Path, *, with_ids: bool = True) -> Path:
    """cadastre-62498-batiments.json as cadastre.data.gouv.fr serves it: WGS84 polygons with id, commune,
    nom, type ("01" bâti dur, "02" bâti léger), created, updated."""
    to_wgs = Transformer.from_crs(2154, 4326, always_xy=True)

    def ring(x: float, y: float, w: float, h: float) -> list[list[float]]:
        return [list(to_wgs.transform(px, py)) for px, py in [(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)]]

    feats = []
    for i, (x, kind) in enumerate([(685_000, "01"), (685_020, "01"), (685_040, "02")]):
        props = {"commune": "62498", "nom": None, "type": kind, "created": "2009-05-12", "updated": "2024-03-01"}
        if with_ids:
            props = {"id": f"62498000AB{i:04d}", **props}
        feats.append({"type": "Feature", **({"id": f"batiments.{i}"} if with_ids else {}), "properties": props,
                      "geometry": {"type": "Polygon", "coordinates": [ring(x, 7_037_500, 12, 8)]}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    return path


def test_cadastre_batiments_are_recognised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import gzip

    path = _cadastre_geojson(tmp_path / "cadastre-62498-batiments.json")
    fp = read_footprints(path)
    assert (fp["source"] == "cadastre").all() and fp.attrs["id_column"] == "id"
    assert list(fp["building_id"]) == ["62498000AB0000", "62498000AB0001", "62498000AB0002"]
    assert fp["cleabs"].isna().all()  # not a BD TOPO identifier
    assert list(fp["usage_1"]) == ["Indifférencié", "Indifférencié", "Annexe"]  # 02 = bâti léger
    assert fp.crs.to_epsg() == 2154
    np.testing.assert_allclose(fp.geometry.area, 96.0, rtol=1e-4)  # 12 m x 8 m, back in Lambert-93
    # the file as downloaded, gzipped, reads the same; `artois check` says what it used
    gz = tmp_path / "cadastre-62498-batiments.json.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert list(read_footprints(gz)["building_id"]) == list(fp["building_id"])
    capsys.readouterr()
    assert main(["check", str(gz)]) == 0
    assert "3 building footprints (cadastre, identifier column 'id')" in capsys.readouterr().out
    # without ids: generated from the outlines
    fp2 = read_footprints(_cadastre_geojson(tmp_path / "noid-batiments.json", with_ids=False))
    assert fp2.attrs["id_column"] is None and fp2["building_id"].str.fullmatch(r"bat-[0-9a-f]{16}").all()


def _municipal(path: Path, n: int = 6) -> gpd.GeoDataFrame:
    boxes = [shapely.box(685_000 + 15 * i, 7_037_500, 685_010 + 15 * i, 7_037_508) for i in range(n)]
    gdf = gpd.GeoDataFrame({"NUM_BAT": [f"B{100 + i}" for i in range(n)], "ADRESSE": [f"{i} rue Basly" for i in range(n)],
                            "HAUT_M": np.linspace(5.0, 10.0, n), "ETAT": "bon"}, geometry=boxes, crs=2154)
    gdf.to_file(path)
    return gdf


def test_municipal_shapefile_with_any_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _municipal(tmp_path / "batiments_ville.shp")
    fp = read_footprints(tmp_path / "batiments_ville.shp")
    assert (fp["source"] == "other").all() and fp.attrs["id_column"] == "NUM_BAT"
    assert list(fp["building_id"]) == list(src["NUM_BAT"])
    np.testing.assert_allclose(fp["hauteur"], src["HAUT_M"])
    np.testing.assert_allclose(fp.geometry.area, 80.0)
    capsys.readouterr()
    assert main(["check", str(tmp_path / "batiments_ville.shp")]) == 0
    assert "6 building footprints (other, identifier column 'NUM_BAT')" in capsys.readouterr().out
    # a layer whose only candidate identifier repeats: ids generated, stable whatever the row order
    src["NUM_BAT"] = "B1"
    src.to_file(tmp_path / "batiments_a.gpkg", layer="bati")
    src.iloc[::-1].to_file(tmp_path / "batiments_b.gpkg", layer="bati")
    a, b = read_footprints(tmp_path / "batiments_a.gpkg"), read_footprints(tmp_path / "batiments_b.gpkg")
    assert a.attrs["id_column"] is None and a["building_id"].is_unique
    key = lambda g: dict(zip(g.geometry.centroid.x.round(2), g["building_id"], strict=True))  # noqa: E731
    assert key(a) == key(b)
    # an explicit identifier column that is not unique is refused, naming the file
    with pytest.raises(InputError, match=r"batiments_a.gpkg: identifier column 'NUM_BAT' has empty or repeated"):
        read_footprints(tmp_path / "batiments_a.gpkg", id_column="num_bat")


def test_bad_footprint_files_are_one_line_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pts = gpd.GeoDataFrame({"id": [1, 2]}, geometry=[shapely.Point(685_000, 7_037_500), shapely.Point(685_010, 7_037_500)],
                           crs=2154)
    path = tmp_path / "batiment_points.gpkg"
    pts.to_file(path)
    _one_line_error(capsys, ["check", str(path)], path, "not a polygon layer (Point)")
    noprj = tmp_path / "batiment.shp"
    _municipal(noprj)
    noprj.with_suffix(".prj").unlink()
    _one_line_error(capsys, ["check", str(noprj)], noprj, "no CRS")
    junk = tmp_path / "cadastre-62498-batiments.json.gz"
    junk.write_bytes(b"not gzip at all")
    _one_line_error(capsys, ["check", str(junk)], junk, "not a readable gzip file")
