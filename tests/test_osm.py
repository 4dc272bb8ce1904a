"""OpenStreetMap reader: a small real OSM XML file, read through GDAL's OSM driver."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest

from geo.errors import InputError
from geo.io.osm import parse_other_tags, read_osm_greenways, read_osm_network, read_osm_parks
from geo.io.parks import read_greenways, read_parks, read_streets
from geo.parks.build import analyse_files
from geo.products import BuildFolder
from geo.products import parks as P

# Around Lens: 0.001° of longitude ≈ 71 m, 0.001° of latitude ≈ 111 m.
LAT0, LON0 = 50.4300, 2.8300


def node(i: int, dx: float, dy: float) -> str:
    return f'  <node id="{i}" version="1" lat="{LAT0 + dy * 0.001:.7f}" lon="{LON0 + dx * 0.001:.7f}"/>'


def way(i: int, refs: list[int], tags: dict[str, str]) -> str:
    nds = "".join(f'<nd ref="{r}"/>' for r in refs)
    tg = "".join(f'<tag k="{k}" v={quoteattr(v)}/>' for k, v in tags.items())
    return f'  <way id="{i}" version="1">{nds}{tg}</way>'


OSM_XML = "\n".join([
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<osm version="0.6" generator="artois-tests">',
    # a 2 x 2 park square, a wood, a spoil heap, a building (not green)
    node(1, 2, 2), node(2, 4, 2), node(3, 4, 4), node(4, 2, 4),
    node(5, 6, 2), node(6, 8, 2), node(7, 8, 4), node(8, 6, 4),
    node(9, 10, 2), node(10, 11, 2), node(11, 11, 3),
    node(12, 0, 6), node(13, 1, 6), node(14, 1, 7),
    # streets: a main street at y = 1.5 (55 m south of the green spaces), a footway into the park, a motorway,
    # a private service road
    node(20, 0, 1.5), node(21, 12, 1.5), node(22, 3, 1.5), node(23, 3, 3),
    node(24, 0, 0), node(25, 12, 0), node(26, 5, 1.5), node(27, 5, 0.5),
    # greenways: a cycleway, a designated path, a residential street in a cycle route, a footway that is not one
    node(30, 0, 5), node(31, 12, 5), node(32, 12, 1.5), node(33, 12, 8), node(34, 9, 1.5), node(35, 9, 5),
    node(36, 4.5, 1.5), node(37, 4.5, 5),
    way(100, [1, 2, 3, 4, 1], {"leisure": "park", "name": "Parc de la Glissoire"}),
    way(101, [5, 6, 7, 8, 5], {"landuse": "forest", "name": "Bois de Riaumont"}),
    way(102, [9, 10, 11, 9], {"man_made": "spoil_heap", "name": "Terril 94"}),
    way(103, [12, 13, 14, 12], {"building": "yes"}),
    way(200, [20, 22, 26, 34, 21, 32], {"highway": "residential", "name": "Rue Jean Jaurès"}),
    way(201, [22, 23], {"highway": "footway"}),
    way(202, [24, 25], {"highway": "motorway", "name": "A21"}),
    way(203, [26, 27], {"highway": "service", "access": "private"}),
    way(300, [30, 31], {"highway": "cycleway", "name": "Cavalier de Liévin"}),
    way(301, [32, 33], {"highway": "path", "bicycle": "designated", "surface": "gravel"}),
    way(302, [34, 35], {"highway": "residential", "name": 'Rue "des Terrils"'}),
    way(303, [36, 37], {"highway": "footway", "bicycle": "yes"}),
    '  <relation id="400" version="1"><member type="way" ref="302" role=""/>'
    '<tag k="type" v="route"/><tag k="route" v="bicycle"/><tag k="name" v="Boucle des terrils"/></relation>',
    "</osm>",
])


@pytest.fixture(scope="module")
def osm_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("osm") / "lens.osm"
    path.write_text(OSM_XML, encoding="utf-8")
    return path


def test_parse_other_tags() -> None:
    assert parse_other_tags('"bicycle"=>"designated","surface"=>"gravel"') == {"bicycle": "designated",
                                                                               "surface": "gravel"}
    assert parse_other_tags(r'"name:fr"=>"Rue \"des\" Terrils","x"=>"a\\b"') == {"name:fr": 'Rue "des" Terrils',
                                                                                "x": "a\\b"}
    assert parse_other_tags(None) == {} and parse_other_tags("") == {}


def test_parks_from_osm(osm_file: Path) -> None:
    parks = read_osm_parks(osm_file)
    assert parks.crs.to_epsg() == 2154
    got = dict(zip(parks["nom"], parks["osm_tag"], strict=True))
    assert got == {"Parc de la Glissoire": "leisure=park", "Bois de Riaumont": "landuse=forest",
                   "Terril 94": "man_made=spoil_heap"}
    # 2 x 2 thousandths of a degree: ≈ 142 m x 222 m ≈ 3.2 ha (Lambert-93 scale factor included)
    glissoire = parks.set_index("nom").geometry["Parc de la Glissoire"]
    assert glissoire.area / 1e4 == pytest.approx(3.16, rel=0.03)
    assert read_parks(osm_file).equals(parks)


def test_network_from_osm(osm_file: Path) -> None:
    net = read_osm_network(osm_file)
    assert net.crs.to_epsg() == 2154
    assert sorted(net["osm_id"]) == ["200", "201", "300", "301", "302", "303"]  # no motorway, no private road
    assert set(net["highway"]) == {"residential", "footway", "cycleway", "path"}
    street = net.set_index("osm_id").geometry["200"]
    assert street.length == pytest.approx(12 * 71.1, rel=0.02)
    assert read_streets(osm_file).equals(net)


def test_greenways_from_osm(osm_file: Path) -> None:
    gw = read_osm_greenways(osm_file).set_index("osm_id")
    assert sorted(gw.index) == ["300", "301", "302"]
    assert gw.loc["300", "type"] == "voie_verte" and gw.loc["301", "type"] == "voie_verte"
    assert gw.loc["302", "type"] == "itineraire_cyclable" and gw.loc["302", "nom"] == 'Rue "des Terrils"'
    assert read_greenways(osm_file).set_index("osm_id").index.equals(gw.index)


def test_analyse_an_osm_file(osm_file: Path, tmp_path: Path) -> None:
    out = BuildFolder(tmp_path).parks
    result = analyse_files(parks=osm_file, greenways=osm_file, streets=osm_file, population=None, out=out)
    assert out.exists()
    parks = result.layers["parks"].set_index("nom")
    assert parks["n_entrances"].min() >= 1
    ent = result.layers["entrances"]
    glissoire = int(parks.loc["Parc de la Glissoire", "park_id"])
    assert "path" in set(ent.loc[ent["park_id"] == glissoire, "kind"])  # the footway enters the park
    assert result.layers[P.NETWORK_EDGES.name]["is_greenway"].any()
    assert any("population vide" in w for w in result.warnings)


def test_broken_osm_file_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.osm"
    bad.write_text("<osm><node id='1' lat='50' lon=", encoding="utf-8")
    with pytest.raises(InputError, match="broken.osm"):
        read_osm_parks(bad)
    with pytest.raises(InputError, match="file not found"):
        read_osm_network(tmp_path / "missing.osm")
