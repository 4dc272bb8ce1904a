"""The build products (geo.products): contracts, readers, the build comparison, the stages' units of work."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine

from geo.errors import InputError
from geo.io.rasters import read_grid
from geo.io.weather import default_weather
from geo.products import BuildFolder, irradiance, parks, rooftops
from geo.products.compare import compare_builds
from geo.solar.build import irradiance_from_files, irradiance_tile, plan_irradiance_tiles
from geo.solar.irradiance import SolarSettings

# ---------------------------------------------------------------------------
# What a build holds, read through geo.products
# ---------------------------------------------------------------------------


def test_every_layer_of_the_sample_build_meets_its_contract(built_dir: Path) -> None:
    out = BuildFolder(built_dir)
    for layer in rooftops.SPATIAL_LAYERS:
        df = rooftops.read_layer(out.rooftops, layer)  # InputError when a contract column is missing
        assert list(df.columns[: len(layer.columns)]) == list(layer.column_names)
        assert df.crs.to_epsg() == 2154 and len(df) > 0
    for layer in (parks.PARKS, parks.GREENWAYS, parks.ENTRANCES, parks.ACCESS_CELLS, parks.NETWORK_EDGES):
        assert len(parks.read_layer(out.parks, layer)) > 0
    header = irradiance.read_header(out.irradiance)
    with rasterio.open(out.irradiance) as ds:  # the file itself, not the module's idea of it
        assert ds.count == 15 and ds.descriptions[0] == "annual_kwh_m2" and ds.descriptions[14] == "sky_view_factor"
        assert ds.tags(1)["UNITS"] == "kWh/m2/yr" and ds.nodata == irradiance.NODATA
        assert ds.tags()["WEATHER_APPROXIMATE"] == "true"
    assert header.weather is not None and header.weather.approximate  # the sample ships no weather file


def test_the_weather_is_carried_as_a_typed_value_into_rooftops(built_dir: Path) -> None:
    out = BuildFolder(built_dir)
    raster_weather = irradiance.read_header(out.irradiance).weather
    site = rooftops.read_site(out.rooftops)
    # One weather, read once, reported by both products (the site table keeps the source's label).
    assert raster_weather is not None and site.weather.label() == raster_weather.label()
    assert (site.weather.location, site.weather.period) == (raster_weather.location, raster_weather.period)
    assert site.weather.approximate is True and "2023" in site.weather.period and site.weather.location
    b = rooftops.read_layer(out.rooftops, rooftops.BUILDINGS, columns=["weather_source"])
    assert set(b["weather_source"]) == {site.weather.label()} and "approximate" in site.weather.label()
    assert site.temp_air_c.shape == (12,) and 0.0 < site.temp_air_c[0] < site.temp_air_c[6] < 25.0  # Lens


def test_profiles_decode_to_monthly_shares(built_dir: Path) -> None:
    profiles = rooftops.read_pv_profiles(BuildFolder(built_dir).rooftops)
    months = np.repeat(np.arange(12), np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]) * 24)
    for share in profiles.values():
        assert share.shape == (8760,)
        np.testing.assert_allclose(np.bincount(months, weights=share), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="8759 values"):
        rooftops.decode_profile(rooftops.encode_profile(np.zeros(8759)))


def test_readers_name_the_file_and_the_problem(built_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="run the roofs stage first"):
        rooftops.read_site(BuildFolder(tmp_path).rooftops)
    with pytest.raises(InputError, match="no layer 'site'"):
        rooftops.read_site(BuildFolder(built_dir).parks)
    with pytest.raises(InputError, match="run the irradiance stage first"):
        irradiance.read_header(BuildFolder(tmp_path).irradiance)
    one_band = tmp_path / "one.tif"
    with rasterio.open(one_band, "w", driver="GTiff", width=2, height=2, count=1, dtype="float32",
                       crs="EPSG:2154", transform=Affine(0.5, 0, 0, 0, -0.5, 0)) as ds:
        ds.write(np.zeros((1, 2, 2), np.float32))
    with pytest.raises(InputError, match="1 band"):
        irradiance.read_header(one_band)


def test_write_refuses_a_layer_without_its_contract_columns(built_dir: Path, tmp_path: Path) -> None:
    src = BuildFolder(built_dir).rooftops
    faces = rooftops.read_layer(src, rooftops.ROOF_FACES).drop(columns=["kwp"])
    with pytest.raises(ValueError, match="kwp"):
        rooftops.write_rooftops(tmp_path / "r.gpkg", faces=faces, buildings=rooftops.read_layer(src, rooftops.BUILDINGS),
                                communes=rooftops.read_layer(src, rooftops.COMMUNES_SOLAR), profiles=[],
                                site=rooftops.read_site(src))
    assert not (tmp_path / "r.gpkg").exists()


# ---------------------------------------------------------------------------
# compare_builds (benchmarks/compare_builds.py)
# ---------------------------------------------------------------------------


def test_compare_builds_finds_a_changed_value_and_a_changed_pixel(built_dir: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(built_dir, a)
    shutil.copytree(built_dir, b)
    same = compare_builds(a, b)
    assert same.same and any("byte-identical" in c for c in same.checked) and len(same.checked) >= 10
    faces = rooftops.read_layer(b / rooftops.FILE, rooftops.ROOF_FACES)
    faces.loc[0, "kwp"] = faces.loc[0, "kwp"] * (1 + 1e-6)
    buildings = rooftops.read_layer(b / rooftops.FILE, rooftops.BUILDINGS)
    rooftops.write_rooftops(b / rooftops.FILE, faces=faces, buildings=buildings,
                            communes=rooftops.read_layer(b / rooftops.FILE, rooftops.COMMUNES_SOLAR),
                            profiles=[], site=rooftops.read_site(a / rooftops.FILE))
    with rasterio.open(irradiance.product_files(b / irradiance.FILE)[-1], "r+") as ds:  # a tile of the mosaic
        band = ds.read(1)
        r, c = np.argwhere(band != ds.nodata)[0]
        band[r, c] += 10  # stored in 0.1 kWh/m² steps: +1 kWh/m²/yr
        ds.write(band, 1)
    diff = compare_builds(a, b)
    text = "\n".join(diff.differences)
    assert not diff.same
    assert "roof_faces: column kwp: 1 value(s) differ" in text
    assert rooftops.PV_PROFILES.name in text  # written without profiles: rows differ
    assert "band annual_kwh_m2: max |difference| 1 kWh/m2/yr" in text


# ---------------------------------------------------------------------------
# Units of work: picklable, pure, order-independent
# ---------------------------------------------------------------------------


def test_irradiance_tiles_are_picklable_and_independent(tmp_path: Path) -> None:
    rows, cols = np.mgrid[0:60, 0:60]
    z = (40 + 0.2 * cols + np.where((rows > 20) & (rows < 40) & (cols > 20) & (cols < 40), 8.0, 0.0)).astype(np.float32)
    dsm = tmp_path / "dsm.tif"
    with rasterio.open(dsm, "w", driver="GTiff", width=60, height=60, count=1, dtype="float32", crs="EPSG:2154",
                       transform=Affine(1.0, 0, 685000.0, 0, -1.0, 7038000.0)) as ds:
        ds.write(z[None])
    settings, weather = SolarSettings(distance_m=20.0, n_directions=16), default_weather()
    out = irradiance_from_files([dsm], tmp_path / "irr.tif", all_pixels=True, settings=settings, weather=weather,
                                tile_px=30, progress=False)
    tasks = plan_irradiance_tiles(read_grid([dsm]), weather, settings=settings, tile_px=30, all_pixels=True)
    assert len(tasks) == 4
    with rasterio.open(out) as ds:
        written = ds.read()
    for task in reversed(tasks):  # another order, each task through pickle (as a cluster would run it)
        result = irradiance_tile(pickle.loads(pickle.dumps(task)))
        assert result is not None
        r0, r1, c0, c1 = result.window
        np.testing.assert_array_equal(irradiance.encode(result.bands), written[:, r0:r1, c0:c1])


def test_partial_area_with_the_full_epci_table_in_every_stage(sample_dir: Path, built_dir: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample covers two communes of the CA de Lens - Liévin; the table lists more: both stages accept it.

    The roofs stage runs its groups through pickle (as a cluster would).
    """
    import geo.roofs.build as roofs_build
    from geo.parks.build import analyse_files

    table = tmp_path / "pma-communes-epci.csv"
    table.write_text(
        "epci_siren,epci_nom,insee_com,nom_com,population_municipale_2025\n"
        "246200364,CA de Lens - Liévin,62498,Lens,32697\n"
        "246200364,CA de Lens - Liévin,62528,Loos-en-Gohelle,6850\n"
        "246200364,CA de Lens - Liévin,62510,Liévin,30113\n"
        "200035442,CA de Béthune-Bruay Artois-Lys Romane,62119,Béthune,25154\n", encoding="utf-8")
    communes = sample_dir / "parks" / "communes.geojson"
    roof = sample_dir / "rooftops"
    fps = gpd.read_file(roof / "batiment.gpkg", layer="batiment").iloc[:30]
    fp_path = tmp_path / "batiment.gpkg"
    fps.to_file(fp_path, layer="batiment")
    real_group = roofs_build.roofs_group
    monkeypatch.setattr(roofs_build, "roofs_group",
                        lambda task, site: real_group(pickle.loads(pickle.dumps(task)), site))
    roofs_build.run_roofs(irradiance=BuildFolder(built_dir).irradiance, dsm=sorted((roof / "lidar").glob("*MNS*.tif")),
                          out=tmp_path / "r.gpkg", footprints=fp_path, communes=communes, epci_table=table)
    solar = rooftops.read_layer(tmp_path / "r.gpkg", rooftops.COMMUNES_SOLAR)
    assert sorted(solar.loc[solar["level"] == "commune", "code"]) == ["62498", "62528"]
    assert solar.loc[solar["level"] == "epci", "code"].tolist() == ["246200364"]
    assert solar.loc[solar["level"] == "commune", "n_buildings"].sum() == 30
    d = sample_dir / "parks"
    analyse_files(parks=d / "parcs.gpkg", greenways=d / "voies_vertes.gpkg", streets=d / "reseau_pietons.gpkg",
                  population=d / "filosofi_200m.gpkg", communes=communes, epci_table=table, out=tmp_path / "p.gpkg")
    access = parks.read_layer(tmp_path / "p.gpkg", parks.COMMUNES_ACCESS)
    assert set(access.loc[access["level"] == "commune", "code"]) <= {"62498", "62528"}
    assert access.loc[access["level"] == "epci", "code"].tolist() == ["246200364"]
