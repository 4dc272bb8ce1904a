"""Friches (CNIG CSV) and car parks (OSM, BD TOPO) read through geo.io; bad files give one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import box

from geo.cli import main
from geo.errors import InputError
from geo.io.car_parks import read_car_parks
from geo.io.friches import read_friches
from geo.products import BuildFolder
from geo.sample.sites import CNIG_ALL_COLUMNS

TO_WGS = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)
#: The sample's pit-head friche (inside the small sample's DSM), Lambert-93.
PIT = box(685_280.0, 7_037_508.0, 685_326.0, 7_037_650.0)


def _wkt_poly(poly: object, *, latlon: bool = False) -> str:
    pts = [TO_WGS.transform(x, y) for x, y in poly.exterior.coords]  # type: ignore[attr-defined]
    return "POLYGON((" + ", ".join(f"{b:.7f} {a:.7f}" if latlon else f"{a:.7f} {b:.7f}" for a, b in pts) + "))"


def _wkt_point(x: float, y: float, *, latlon: bool = False) -> str:
    lon, lat = TO_WGS.transform(x, y)
    return f"POINT({lat:.7f} {lon:.7f})" if latlon else f"POINT({lon:.7f} {lat:.7f})"


def cnig_rows() -> list[dict[str, str]]:
    """Rows covering the cases a real Cartofriches export holds (every CNIG column, most empty)."""
    c = PIT.centroid
    rows = [
        ("A1", "Carreau n° 9 « des Cytises »", _wkt_point(c.x, c.y), _wkt_poly(PIT), "6532"),
        ("A2", "Même carreau, WKT en latitude longitude", _wkt_point(c.x, c.y, latlon=True),
         _wkt_poly(PIT, latlon=True), "6532"),
        ("A3", "Connue par son point (virgule décimale)", _wkt_point(c.x, c.y, latlon=True), "NA", "6 532,5"),
        ("A4", "Hors du MNS, surface cadastrale", _wkt_point(684_350.0, 7_036_400.0), "", "12000"),
        ("A5", "Point sans surface", _wkt_point(684_350.0, 7_036_400.0), "", "N/A"),
        ("A6", "Géométries illisibles", "NaN", "POLYGON((2.8 50.4, 2.9", ""),
        ("A7", "Polygone hors du MNS", _wkt_point(684_350.0, 7_036_400.0),
         _wkt_poly(box(684_300.0, 7_036_350.0, 684_400.0, 7_036_450.0)), ""),
    ]
    out = []
    for sid, nom, pt, surf, uf in rows:
        r = dict.fromkeys(CNIG_ALL_COLUMNS, "")
        r.update({"site_id": f"62498_{sid}", "site_nom": nom, "site_type": "friche industrielle", "comm_nom": "Lens",
                  "comm_insee": "62498", "geompoint": pt, "geomsurf": surf, "unite_fonciere_surface": uf,
                  "sol_pollution_existe": "pollution avérée", "bati_patrimoine": "aucun"})
        out.append(r)
    return out


def write_cnig(path: Path, rows: list[dict[str, str]], encoding: str) -> Path:
    text = pd.DataFrame(rows, columns=list(CNIG_ALL_COLUMNS)).to_csv(sep=";", index=False, lineterminator="\r\n")
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1"])
def test_cnig_csv_in_every_encoding(tmp_path: Path, encoding: str) -> None:
    rows = cnig_rows()
    if encoding == "cp1252":
        rows[0]["site_nom"] = "Cœur du carreau – n° 9"  # œ and the en dash exist in cp1252 only
    f = read_friches(write_cnig(tmp_path / "f.csv", rows, encoding))
    assert list(f["site_id"]) == [r["site_id"] for r in rows]  # no BOM glued to the first column
    assert list(f["site_nom"]) == [r["site_nom"] for r in rows]
    by = f.set_index("site_id")
    assert by.loc["62498_A1", "geom_source"] == "geomsurf"
    assert by.loc["62498_A1", "geometry"].area == pytest.approx(PIT.area, rel=1e-4)
    # the CNIG example's (latitude longitude) order is recognised
    assert by.loc["62498_A2", "geometry"].symmetric_difference(by.loc["62498_A1", "geometry"]).area < 1.0
    assert by.loc["62498_A3", "geom_source"] == "geompoint"
    assert by.loc["62498_A3", "geometry"].distance(PIT.centroid) < 0.01
    assert by.loc["62498_A3", "unite_fonciere_surface"] == pytest.approx(6532.5)
    assert pd.isna(by.loc["62498_A5", "unite_fonciere_surface"])
    assert by.loc["62498_A6", "geom_source"] == "none"
    assert "geomsurf unreadable" in by.loc["62498_A6", "read_note"]


def test_every_row_gets_figures_or_a_reason(tmp_path: Path, sample_dir: Path, built_dir: Path) -> None:
    from geo.io.rasters import find_lidar_tiles
    from geo.sites.build import run_sites

    csv = write_cnig(tmp_path / "friches.csv", cnig_rows(), "cp1252")
    lidar = sample_dir / "rooftops" / "lidar"
    out = tmp_path / "sites.gpkg"
    run_sites(irradiance=BuildFolder(built_dir).irradiance, dsm=find_lidar_tiles(lidar, "MNS"),
              dtm=find_lidar_tiles(lidar, "MNT"), out=out, friches=csv,
              footprints=sample_dir / "rooftops" / "batiment.gpkg")
    f = gpd.read_file(out, layer="friches").set_index("site_id")
    assert len(f) == len(cnig_rows())
    for sid, r in f.iterrows():
        has_figures = r["kwp"] > 0 and r["production_mwh_yr"] > 0
        assert has_figures or "no figures" in r["note"], sid
    assert not f.loc["62498_A1", "approximate"] and f.loc["62498_A1", "note"] == ""
    assert f.loc["62498_A2", "kwp"] == pytest.approx(f.loc["62498_A1", "kwp"], rel=0.02)
    for sid in ("62498_A3", "62498_A4", "62498_A7"):
        assert f.loc[sid, "approximate"], sid
    assert "cadastral surface" in f.loc["62498_A3", "note"]
    assert "outside the DSM" in f.loc["62498_A7", "note"]
    assert "no unite_fonciere_surface" in f.loc["62498_A5", "note"]
    assert "geomsurf unreadable" in f.loc["62498_A6", "note"]
    assert f.loc["62498_A4", "area_m2"] == 12000.0


@pytest.mark.parametrize(("content", "problem"), [
    (b"site_id,site_nom,comm_insee,geompoint\n1,a,62498,POINT(2.8 50.4)\n", "header separated by ','"),
    (b"site_id;site_nom;comm_insee\n1;a;62498\n", "missing CNIG friches column(s) geompoint"),
    (b"site_id;site_nom;comm_insee;geompoint\n", "no site in the file"),
    (b"", "empty file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not a ';'-separated"),
])
def test_bad_friches_files_one_line_errors(tmp_path: Path, content: bytes, problem: str) -> None:
    p = tmp_path / "friches.csv"
    p.write_bytes(content)
    with pytest.raises(InputError) as e:
        read_friches(p)
    assert str(p) in str(e.value) and problem in str(e.value) and "\n" not in str(e.value)


def test_cli_bad_file_exit_2_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "cartofriches.csv"
    bad.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    dsm = tmp_path / "missing_dsm.tif"
    rc = main(["solar", "sites", "--friches", str(bad), "--irradiance", str(tmp_path / "irr.tif"),
               "--dsm", str(dsm), "--out", str(tmp_path / "s.gpkg")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and err.startswith("artois: error:")
    assert "missing_dsm.tif" in err or "cartofriches.csv" in err
    rc = main(["solar", "sites", "--irradiance", "x.tif", "--dsm", "x.tif", "--out", str(tmp_path / "s.gpkg")])
    assert rc == 2 and "--friches" in capsys.readouterr().err


def test_osm_car_parks_of_the_sample(sample_dir: Path) -> None:
    parks, green = read_car_parks(sample_dir / "sites" / "parkings.osm")
    truth = gpd.read_file(sample_dir / "sites" / "sites_truth.gpkg").set_index("site_id")
    assert sorted(parks["car_park_id"]) == sorted(truth.index[truth["kind"] == "car_park"])
    for _, p in parks.iterrows():
        assert p.geometry.area == pytest.approx(truth.loc[p["car_park_id"], "area_m2"], abs=1.0)
    assert len(green) == 1 and green.geometry.iloc[0].area == pytest.approx(144.0, abs=0.5)


def test_overpass_geojson_keeps_surface_car_parks_only(tmp_path: Path) -> None:
    def feat(i: int, tags: dict[str, str], x: float) -> dict[str, object]:
        ring = [list(TO_WGS.transform(x + dx, 7_037_600.0 + dy)) for dx, dy in ((0, 0), (50, 0), (50, 40), (0, 40), (0, 0))]
        return {"type": "Feature", "properties": {"@id": f"way/{i}", **tags},
                "geometry": {"type": "Polygon", "coordinates": [ring]}}

    fc = {"type": "FeatureCollection", "features": [
        feat(1, {"amenity": "parking", "parking": "surface", "name": "P1"}, 685_000.0),
        feat(2, {"amenity": "parking", "parking": "multi-storey"}, 685_100.0),
        feat(3, {"amenity": "parking"}, 685_200.0),
        feat(4, {"landuse": "grass"}, 685_300.0),
    ]}
    p = tmp_path / "parkings.geojson"
    p.write_text(json.dumps(fc), encoding="utf-8")
    parks, green = read_car_parks(p)
    assert list(parks["car_park_id"]) == ["osm-way/1", "osm-way/3"]
    assert parks["read_note"].iloc[1].startswith("parking=* missing")
    assert parks.geometry.area.tolist() == pytest.approx([2000.0, 2000.0], rel=1e-3)
    assert len(green) == 1
    only_covered = {"type": "FeatureCollection", "features": [fc["features"][1]]}  # type: ignore[index]
    p.write_text(json.dumps(only_covered), encoding="utf-8")
    with pytest.raises(InputError, match="no outdoor car park"):
        read_car_parks(p)


def test_bdtopo_car_parks(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({
        "cleabs": ["EQUTRANS1", "EQUTRANS2", "EQUTRANS3"], "nature": ["Parking", "Parking", "Gare"],
        "nature_detaillee": [None, "Parking souterrain", None], "toponyme": ["Parking du stade", None, None],
    }, geometry=[box(0, 0, 60, 40), box(100, 0, 160, 40), box(200, 0, 260, 40)], crs="EPSG:2154")
    p = tmp_path / "bdtopo.gpkg"
    gdf.to_file(p, layer="equipement_de_transport")
    parks, green = read_car_parks(p)
    assert list(parks["car_park_id"]) == ["EQUTRANS1"] and parks["nom"].iloc[0] == "Parking du stade"
    assert green.empty


def test_bad_car_park_files(tmp_path: Path) -> None:
    p = tmp_path / "parkings.osm"
    p.write_text("this is not OSM XML", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_car_parks(p)
    assert str(p) in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(InputError, match="file not found"):
        read_car_parks(tmp_path / "nope.osm")


def test_irradiance_extends_only_which_pixels_are_computed(tmp_path: Path, sample_dir: Path) -> None:
    """The sites' polygons add their pixels to the DTM mask; each computed pixel keeps its all-pixels value."""
    import numpy as np
    import rasterio

    from geo.cli.solar import _site_polygons
    from geo.io.rasters import read_values
    from geo.io.weather import default_weather
    from geo.products import irradiance
    from geo.solar.build import irradiance_from_files
    from geo.solar.irradiance import SolarSettings

    polys = _site_polygons([sample_dir / "sites" / "friches.csv", sample_dir / "sites" / "parkings.osm"])
    assert len(polys) == 2 + 3  # the two friche perimeters (not the point-only one) and the three car parks
    z = np.full((60, 60), 40.0, dtype=np.float32)
    z[20:30, 20:40] = 48.0  # a building
    x0, y0 = 685_000.0, 7_038_000.0
    prof = {"driver": "GTiff", "height": 60, "width": 60, "count": 1, "dtype": "float32", "crs": "EPSG:2154",
            "transform": rasterio.Affine(1.0, 0, x0, 0, -1.0, y0)}
    with rasterio.open(tmp_path / "dsm.tif", "w", **prof) as d:
        d.write(z, 1)
    with rasterio.open(tmp_path / "dtm.tif", "w", **prof) as d:
        d.write(np.full((60, 60), 40.0, dtype=np.float32), 1)
    site = box(x0 + 5.2, y0 - 55.0, x0 + 17.0, y0 - 42.3)  # a car park south-west of the building
    kw = {"settings": SolarSettings(distance_m=40.0), "weather": default_weather(), "progress": False}
    out = irradiance_from_files([tmp_path / "dsm.tif"], tmp_path / "a.tif", dtm_paths=[tmp_path / "dtm.tif"],
                                extra_polygons=[site], **kw)
    every = irradiance_from_files([tmp_path / "dsm.tif"], tmp_path / "b.tif", all_pixels=True, **kw)
    got, ref = (np.ma.masked_invalid(read_values(p)) for p in (out, every))
    computed = ~got.mask[0]
    expected = np.zeros((60, 60), bool)
    expected[20:30, 20:40] = True
    expected[42:55, 5:17] = True  # pixels touched by the site (x 5.2-17.0, rows 42.3-55.0)
    assert np.array_equal(computed, expected)
    # the same values, within 1e-4 before the quantisation, then each within half a step
    step = np.asarray(irradiance.SCALES)[:, None]
    assert (np.abs(got[:, computed].filled(np.nan) - ref[:, computed].filled(np.nan)) <= 1e-4 + step).all()


def test_surfaces_geopackage_fills_missing_perimeters(tmp_path: Path) -> None:
    """Cartofriches' surfaces GeoPackage gives the perimeter of a site the CSV knows by its point only."""
    csv = write_cnig(tmp_path / "f.csv", cnig_rows(), "utf-8")
    surf = gpd.GeoDataFrame({"site_id": ["62498_A3", "62498_ZZ"]}, geometry=[PIT, box(0, 0, 10, 10)],
                            crs="EPSG:2154").to_crs("EPSG:4326")
    surf.to_file(tmp_path / "surfaces.gpkg", layer="friches_surfaces")
    f = read_friches(csv, surfaces=tmp_path / "surfaces.gpkg").set_index("site_id")
    assert f.loc["62498_A3", "geom_source"] == "surfaces"
    assert f.loc["62498_A3", "geometry"].area == pytest.approx(PIT.area, rel=1e-6)
    assert f.loc["62498_A1", "geom_source"] == "geomsurf"  # the CSV's own perimeter wins
    with pytest.raises(InputError, match="no polygon layer with a site_id"):
        read_friches(csv, surfaces=_no_site_id(tmp_path))


def _no_site_id(tmp_path: Path) -> Path:
    p = tmp_path / "other.gpkg"
    gpd.GeoDataFrame({"nom": ["x"]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:2154").to_file(p, layer="x")
    return p
