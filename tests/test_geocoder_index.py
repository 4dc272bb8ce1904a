"""The address index (SQLite FTS5) on a synthetic BAN file in the real format, with known truth.

Queries are made from rows of the file the way people type them — without accents, with a typo, with
abbreviations, with the postcode instead of the commune — and the top answer must be that row.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import ban_synth
import numpy as np
import pandas as pd
import pytest

from api.geocoder import AddressIndex
from api.io.addresses import read_ban_csv
from geo.errors import InputError
from geo.products import addresses

N_ADDRESSES = 6000


@pytest.fixture(scope="module")
def ban(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    rows = ban_synth.synthetic_ban(N_ADDRESSES, seed=1, numbers_per_street=30)
    path = ban_synth.write_ban(rows, tmp_path_factory.mktemp("ban") / "adresses-62.csv")
    return rows, path


@pytest.fixture(scope="module")
def index(ban: tuple[pd.DataFrame, Path], tmp_path_factory: pytest.TempPathFactory) -> AddressIndex:
    _, path = ban
    return AddressIndex.build(read_ban_csv(path), tmp_path_factory.mktemp("ix") / addresses.FILE,
                              source="BAN test")


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _typo(text: str) -> str:
    """Drop the 3rd letter of the longest word (≥ 6 letters) of the street name."""
    words = text.split()
    i = max(range(len(words)), key=lambda k: len(words[k]))
    w = words[i]
    words[i] = w[:2] + w[3:] if len(w) >= 6 else w
    return " ".join(words)


def _sample(rows: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    return rows.sample(n=n, random_state=seed)


def test_index_holds_every_address(index: AddressIndex) -> None:
    assert index.size == N_ADDRESSES and index.source == "BAN test"


@pytest.mark.parametrize("variant", ["exact", "accents", "typo", "postcode", "abbreviated"])
def test_finds_the_address(ban: tuple[pd.DataFrame, Path], index: AddressIndex, variant: str) -> None:
    rows, _ = ban
    found = 0
    picks = _sample(rows, 40, seed=hash(variant) % 1000)
    for _, r in picks.iterrows():
        number = r["numero"] + (f" {r['rep']}" if r["rep"] else "")
        street, city = r["nom_voie"], r["nom_commune"]
        short = street.replace("Avenue", "av").replace("Boulevard", "bd").replace("Rue", "r").replace("Saint", "st")
        q = {
            "exact": f"{number} {street} {city}",
            "accents": _plain(f"{number} {street} {city}"),
            "typo": f"{number} {_typo(_plain(street))} {_plain(city)}",
            "postcode": f"{number} {street} {r['code_postal']}",
            "abbreviated": f"{number} {short} {city}",
        }[variant]
        res = index.search(q)
        assert res, q
        top = res[0]
        found += top.label == ban_synth.label(r)
        if top.label == ban_synth.label(r):
            assert top.type == "housenumber" and top.id == r["id"]
            assert (top.lon, top.lat) == pytest.approx((float(r["lon"]), float(r["lat"])), abs=1e-6)
    # a postcode shared by two communes (62138, 62160, 62880) can leave a street ambiguous
    assert found >= (38 if variant == "postcode" else 40), (variant, found)


def test_street_without_number(ban: tuple[pd.DataFrame, Path], index: AddressIndex) -> None:
    rows, _ = ban
    r = rows.iloc[100]
    top = index.search(f"{r['nom_voie']} {r['nom_commune']}")[0]
    assert top.type == "street" and top.label == f"{r['nom_voie']} {r['code_postal']} {r['nom_commune']}"
    same = rows[(rows["nom_voie"] == r["nom_voie"]) & (rows["code_insee"] == r["code_insee"])]
    assert top.lon == pytest.approx(same["lon"].astype(float).median())


@pytest.mark.parametrize("q", ["qwxz", "zzzzzz yyyyy", "Rue Xqzwv Kpljh", "12 Boulevard Qwertyuiop 99999"])
def test_says_when_nothing_matches(index: AddressIndex, q: str) -> None:
    assert index.search(q) == []


def test_index_is_reused_until_the_source_changes(ban: tuple[pd.DataFrame, Path], tmp_path: Path) -> None:
    _, path = ban
    target = tmp_path / addresses.FILE
    loads = []

    def load() -> pd.DataFrame:
        loads.append(1)
        return read_ban_csv(path)

    key = {"file": str(path), "size": path.stat().st_size}
    AddressIndex.open_or_build(target, key=key, source="s", load=load)
    ix = AddressIndex.open_or_build(target, key=key, source="s", load=load)
    assert len(loads) == 1 and ix.size == N_ADDRESSES
    ix = AddressIndex.open_or_build(target, key={**key, "size": 1}, source="s", load=load)
    assert len(loads) == 2


def test_ban_reader_takes_positions_from_lon_lat_else_from_x_y(ban: tuple[pd.DataFrame, Path],
                                                               tmp_path: Path) -> None:
    # The file's own lon/lat are the reference: rows whose lon/lat are blanked get them back from the
    # Lambert-93 x/y within the file's rounding (lon/lat to 1e-6°, about 10 cm; x/y to 1 cm); rows with neither
    # have no position (left out of the index).
    rows, _ = ban
    rows = rows.iloc[:200].copy()
    rows.loc[rows.index[:50], ["lon", "lat"]] = ""
    rows.loc[rows.index[50:60], ["lon", "lat", "x", "y"]] = ""
    path = ban_synth.write_ban(rows, tmp_path / "adresses-62.csv")
    got = read_ban_csv(path)
    truth = ban[0].iloc[:200]
    assert list(got["id"]) == list(truth["id"]) and list(got["nom_voie"]) == list(truth["nom_voie"])
    keep = np.r_[0:50, 60:200]
    np.testing.assert_allclose(got["lon"].to_numpy()[keep], truth["lon"].astype(float).to_numpy()[keep], atol=1e-6,
                               rtol=0)
    np.testing.assert_allclose(got["lat"].to_numpy()[keep], truth["lat"].astype(float).to_numpy()[keep], atol=1e-6,
                               rtol=0)
    assert np.isnan(got["lon"].to_numpy()[50:60]).all()
    ix = AddressIndex.build(got, tmp_path / addresses.FILE)
    assert ix.size == 190


def test_ban_reader_names_the_file_and_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "adresses-62.csv"
    bad.write_text("id,numero,nom_voie\n1,2,Rue\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"adresses-62\.csv.*missing column.*';'-separated"):
        read_ban_csv(bad)
    bad.write_bytes(b"id;numero\n\xff\xfe;1\n")
    with pytest.raises(InputError, match="adresses-62.csv"):
        read_ban_csv(bad)
    with pytest.raises(InputError, match="not found"):
        read_ban_csv(tmp_path / "none.csv")
