"""Batch address lookups (api/batch.py) through ``artois solar lookup`` and ``POST /api/lookup``.

Known truth: the synthetic build of tests/api_fixtures.py (house (i, j) at number 2i+1 of STREETS[j], Lens west
of SPLIT_X, Loos-en-Gohelle east of it; every street exists in both communes) and the pipeline's small sample
(three buildings with an address and no suitable face). Figures of an answered row are compared with
``GET /api/roof`` at the house's centre — a different path (point-in-footprint) from the geocoder's.
"""

from __future__ import annotations

import io
from pathlib import Path

import api_fixtures as fx
import pandas as pd
import pyogrio
import pytest
from api_fixtures import api_build, client  # noqa: F401
from fastapi.testclient import TestClient

from api import batch
from geo.cli import main

#: (input address, expected status, house (i, j) or None, a word the reason must contain)
CASES = [
    ("3 Rue Émile Zola 62300 Lens", "ok", (1, 0), "trouvé"),
    ("3 ru emil zolla lens", "ok", (1, 0), "trouvé"),  # misspelt street
    ("7 av raoul briqet lens", "ok", (3, 2), "trouvé"),  # abbreviation + typo
    ("9 rue de la gare", "ok", (4, 3), "trouvé"),  # number 9 only exists in Loos-en-Gohelle
    ("rue de la gare", "ambigue", None, "2 adresses"),  # the street exists in both communes
    ("10 rue de Rivoli 75001 Paris", "hors_territoire", None, "75001"),
    ("44 boulevard emile basly 62300 lens", "introuvable", None, "numéro absent"),
    ("zzzz qqqq", "introuvable", None, "aucune adresse"),
    ("", "introuvable", None, "vide"),
]


def _csv(rows: list[str]) -> bytes:
    return pd.DataFrame({"adresse": rows}).to_csv(sep=";", index=False).encode("utf-8")


def _read(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _roof(client: TestClient, i: int, j: int) -> dict:  # type: ignore[type-arg]  # noqa: F811
    lon, lat = fx.polygon_lonlat_center(fx.make_rooftops()["buildings"].geometry.iloc[j * fx.NX + i])
    r = client.get("/api/roof", params={"lon": lon, "lat": lat})
    assert r.status_code == 200
    return r.json()["building"]["properties"]


def _check(out: pd.DataFrame, client: TestClient) -> None:  # noqa: F811
    assert len(out) == len(CASES)  # every row answered, in order
    for (query, status, house, word), (_, row) in zip(CASES, out.iterrows(), strict=True):
        assert row["adresse"] == query
        assert row["status"] == status, (query, row["status"], row["reason"])
        assert word in row["reason"], (query, row["reason"])
        if house is None:
            assert row["building_id"] == ""
            continue
        roof = _roof(client, *house)
        assert row["building_id"] == fx.building_id(*house) == roof["building_id"]
        assert row["suitability"] == roof["suitability"]
        for col in ("reco_kwp", "reco_production_kwh_yr", "reco_payback_yr", "reco_savings_eur_yr", "reco_cost_eur"):
            assert float(row[col]) == pytest.approx(roof[col], rel=1e-9), col
    amb = out.loc[out["status"] == "ambigue", "candidates"].iloc[0]
    assert "Rue de la Gare 62300 Lens" in amb and "Rue de la Gare 62750 Loos-en-Gohelle" in amb


def test_cli_lookup_answers_every_row(api_build: Path, client: TestClient, tmp_path: Path,  # noqa: F811
                                      capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes(_csv([q for q, *_ in CASES]))
    out = tmp_path / "out.csv"
    assert main(["solar", "lookup", "--addresses", str(src), "--out", str(out), "--data", str(api_build),
                 "--no-progress"]) == 0
    assert "4 ok" in capsys.readouterr().out
    _check(_read(out.read_bytes()), client)


def test_api_lookup_csv_and_json(client: TestClient) -> None:  # noqa: F811
    r = client.post("/api/lookup?format=csv", content=_csv([q for q, *_ in CASES]),
                    headers={"content-type": "text/csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    _check(_read(r.content), client)
    r = client.post("/api/lookup", json={"addresses": [q for q, *_ in CASES]})
    assert r.status_code == 200
    body = r.json()
    assert [x["status"] for x in body["results"]] == [c[1] for c in CASES]
    assert body["summary"]["ok"] == 4 and body["summary"]["ambigue"] == 1
    assert body["results"][4]["building"] is None and len(body["results"][4]["candidates"]) == 2


def test_ban_like_columns_and_windows_encoding(client: TestClient) -> None:  # noqa: F811
    table = pd.DataFrame({"numero": ["5", "3"], "rep": ["", "bis"], "nom_voie": ["Rue Emile Zola", "bd Emile Basly"],
                          "code_postal": ["62300", "62300"], "nom_commune": ["Lens", "Lens"]})
    data = table.to_csv(sep=",", index=False).encode("cp1252")
    r = client.post("/api/lookup?format=csv", content=data, headers={"content-type": "text/csv"})
    out = _read(r.content)
    assert out["status"].tolist() == ["ok", "ok"]
    assert out["building_id"].tolist() == [fx.building_id(2, 0), fx.building_id(1, 1)]  # 3 bis: house (1, 1)
    r = client.post("/api/lookup", json={"addresses": table.to_dict(orient="records")})
    assert [x["building"]["building_id"] for x in r.json()["results"]] == [fx.building_id(2, 0), fx.building_id(1, 1)]


def test_bad_bodies_are_4xx(client: TestClient) -> None:  # noqa: F811
    assert client.post("/api/lookup", content=b"", headers={"content-type": "text/csv"}).status_code == 400
    r = client.post("/api/lookup", content=b"nom;prenom\nDupont;Jean\n", headers={"content-type": "text/csv"})
    assert r.status_code == 400 and "adresse" in r.json()["detail"]
    assert client.post("/api/lookup", json={"addresses": []}).status_code == 400
    assert client.post("/api/lookup", content=b"{oops", headers={"content-type": "application/json"}).status_code == 400


def test_cli_bad_input_is_one_line(api_build: Path, tmp_path: Path,  # noqa: F811
                                   capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("nom;prenom\nDupont;Jean\n")
    out = tmp_path / "out.csv"
    assert main(["solar", "lookup", "--addresses", str(bad), "--out", str(out), "--data", str(api_build)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.csv" in err[0] and "no address column" in err[0]
    assert not out.exists()


def test_no_suitable_face_on_the_pipeline_build(built_dir: Path, sample_dir: Path) -> None:
    from api.app import create_app
    from api.settings import Settings

    b = pyogrio.read_dataframe(built_dir / "rooftops.gpkg", layer="buildings")
    none = b[(b["reco_kwp"] == 0) & b["address"].notna()]
    assert len(none)  # the sample has roofs with no suitable face
    ok = b[(b["reco_kwp"] > 0) & b["address"].notna()].iloc[:3]
    addresses = sorted((sample_dir / "rooftops").glob("adresses-*.csv"))[0]
    with TestClient(create_app(Settings(data_dir=built_dir, addresses_path=addresses))) as c:
        r = c.post("/api/lookup", json={"addresses": [*none["address"], *ok["address"]]})
    res = r.json()["results"]
    n = len(none)
    assert [x["status"] for x in res[:n]] == ["aucun_pan_adapte"] * n
    assert all("aucun pan adapté" in x["reason"] for x in res[:n])
    assert [x["building"]["building_id"] for x in res[:n]] == none["building_id"].tolist()
    assert [x["status"] for x in res[n:]] == ["ok"] * len(ok)
    assert [x["building"]["reco_kwp"] for x in res[n:]] == pytest.approx(ok["reco_kwp"].tolist())


def test_queries_from_table_columns() -> None:
    assert batch.queries_from_table(pd.DataFrame({"Adresse": ["  12  bd Basly "]})) == ["12 bd Basly"]
    assert batch.queries_from_table(pd.DataFrame({"x": ["a"]})) == ["a"]
