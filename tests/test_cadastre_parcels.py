"""Reading the cadastre's ``parcelles`` layer (geo/io/cadastre.py) from files in the real format:
cadastre.data.gouv.fr GeoJSON (WGS84, fields id, commune, prefixe, section, numero, contenance,
arpente, created, updated), plain or gzipped."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from pyproj import Transformer

from geo.errors import InputError
from geo.io.cadastre import read_parcels

#: Two parcels of 20 m x 30 m side by side in Lens, Lambert-93 [m].
_L93 = [(685_100.0, 7_037_800.0), (685_120.0, 7_037_800.0)]


def _feature(k: int, x: float, y: float, **props: object) -> dict[str, object]:
    to_wgs = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)
    ring = [to_wgs.transform(px, py) for px, py in ((x, y), (x + 20, y), (x + 20, y + 30), (x, y + 30), (x, y))]
    base = {"id": f"62498000AB{k:04d}", "commune": "62498", "prefixe": "000", "section": "AB",
            "numero": f"{k:04d}", "contenance": 600, "arpente": False, "created": "2004-03-12",
            "updated": "2023-10-04"}
    base.update(props)
    return {"type": "Feature", "id": base["id"], "properties": base,
            "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}}


def _write(path: Path, features: list[dict[str, object]]) -> Path:
    text = json.dumps({"type": "FeatureCollection", "features": features})
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["cadastre-62498-parcelles.json", "cadastre-62498-parcelles.json.gz"])
def test_reads_cadastre_parcels_in_lambert93(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path / name, [_feature(k + 1, x, y) for k, (x, y) in enumerate(_L93)])
    got = read_parcels(path)
    assert got["parcel_id"].tolist() == ["62498000AB0001", "62498000AB0002"]
    assert got["commune"].tolist() == ["62498", "62498"]
    assert got["contenance_m2"].tolist() == [600.0, 600.0]
    assert got.crs.to_epsg() == 2154
    # back in Lambert-93 within a centimetre, 600 m² each
    assert got.geometry.area.tolist() == pytest.approx([600.0, 600.0], abs=0.5)
    assert got.geometry.iloc[1].bounds[0] == pytest.approx(685_120.0, abs=0.01)


@pytest.mark.parametrize(("features", "message"), [
    ([_feature(1, *_L93[0]), _feature(1, *_L93[1])], "1 duplicate parcel id(s), e.g. 62498000AB0001"),
    ([_feature(1, *_L93[0], id="")], "1 parcel(s) without an 'id'"),
])
def test_bad_parcel_identifiers_are_refused(tmp_path: Path, features: list[dict[str, object]], message: str) -> None:
    path = _write(tmp_path / "parcelles.json", features)
    with pytest.raises(InputError) as err:
        read_parcels(path)
    assert str(err.value) == f"{path}: {message}"


def test_a_layer_without_id_or_polygons_is_refused(tmp_path: Path) -> None:
    f = _feature(1, *_L93[0])
    f["properties"] = {"nom": "x"}
    del f["id"]
    path = _write(tmp_path / "other.geojson", [f])
    with pytest.raises(InputError, match=r"other.geojson: not a cadastre parcel layer: no 'id' column \(found: nom\)"):
        read_parcels(path)
    pts = _write(tmp_path / "points.geojson", [{"type": "Feature", "properties": {"id": "a"},
                                                "geometry": {"type": "Point", "coordinates": [2.8, 50.4]}}])
    with pytest.raises(InputError, match="points.geojson: not a parcel layer: no polygon"):
        read_parcels(pts)
    with pytest.raises(InputError, match="missing.json.gz: file not found"):
        read_parcels(tmp_path / "missing.json.gz")
    (tmp_path / "bad.json.gz").write_bytes(b"not gzip")
    with pytest.raises(InputError, match="bad.json.gz: not a readable gzip file"):
        read_parcels(tmp_path / "bad.json.gz")


def test_artois_check_reads_parcels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from geo.cli import main

    good = _write(tmp_path / "cadastre-62498-parcelles.json", [_feature(k + 1, x, y) for k, (x, y) in enumerate(_L93)])
    assert main(["check", str(good)]) == 0
    assert "2 cadastral parcels in 1 commune(s)" in capsys.readouterr().out
    bad = _write(tmp_path / "parcelles.geojson", [_feature(1, *_L93[0]), _feature(1, *_L93[1])])
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"artois: error: {bad}: 1 duplicate parcel id(s), e.g. 62498000AB0001"]
