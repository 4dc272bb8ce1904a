"""Synthetic BAN address files in the real format (``adresses-62.csv`` layout), of any size, with known truth.

Streets are the usual French street types × names (accents, apostrophes, hyphens, saints and generals as in
the Pôle's real streets), repeated from commune to commune as real names are (every town has its Rue Jean
Jaurès); each street has consecutive house numbers, some with ``bis``/``ter``; positions are random points
around each commune's centre, in Lambert-93 (x, y) and WGS84 (lon, lat). Used by the geocoder tests (a few
thousand addresses) and by ``benchmarks/bench_api.py`` (300,000).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer

from geo import config

#: (name, INSEE code, postcode, lon, lat [°]) — communes of the Pôle métropolitain de l'Artois (COG 2024).
COMMUNES: tuple[tuple[str, str, str, float, float], ...] = (
    ("Lens", "62498", "62300", 2.8319, 50.4329), ("Liévin", "62510", "62800", 2.7784, 50.4228),
    ("Béthune", "62119", "62400", 2.6397, 50.5303), ("Bruay-la-Buissière", "62178", "62700", 2.5483, 50.4829),
    ("Hénin-Beaumont", "62427", "62110", 2.9508, 50.4170), ("Nœux-les-Mines", "62617", "62290", 2.6644, 50.4806),
    ("Carvin", "62215", "62220", 2.9580, 50.4928), ("Loos-en-Gohelle", "62528", "62750", 2.7917, 50.4578),
    ("Avion", "62065", "62210", 2.8331, 50.4103), ("Méricourt", "62570", "62680", 2.8667, 50.4011),
    ("Harnes", "62413", "62440", 2.9058, 50.4469), ("Sallaumines", "62771", "62430", 2.8617, 50.4172),
    ("Bully-les-Mines", "62186", "62160", 2.7244, 50.4419), ("Grenay", "62386", "62160", 2.7450, 50.4500),
    ("Wingles", "62893", "62410", 2.8539, 50.4939), ("Auchel", "62048", "62260", 2.4736, 50.5083),
    ("Libercourt", "62907", "62820", 3.0167, 50.4833), ("Courrières", "62250", "62710", 2.9478, 50.4581),
    ("Mazingarbe", "62563", "62670", 2.7172, 50.4711), ("Vermelles", "62846", "62980", 2.7475, 50.4889),
    ("Annay", "62033", "62880", 2.8831, 50.4636), ("Fouquières-lès-Lens", "62351", "62740", 2.9128, 50.4286),
    ("Montigny-en-Gohelle", "62587", "62640", 2.9300, 50.4264), ("Rouvroy", "62724", "62320", 2.9006, 50.3958),
    ("Hersin-Coupigny", "62443", "62530", 2.6494, 50.4478), ("Barlin", "62083", "62620", 2.6172, 50.4569),
    ("Marles-les-Mines", "62555", "62540", 2.5042, 50.5031), ("Calonne-Ricouart", "62194", "62470", 2.4800, 50.4878),
    ("Divion", "62270", "62460", 2.5078, 50.4703), ("Houdain", "62457", "62150", 2.5356, 50.4514),
    ("Beuvry", "62126", "62660", 2.6806, 50.5206), ("Annezin", "62032", "62232", 2.6172, 50.5328),
    ("Lillers", "62516", "62190", 2.4833, 50.5625), ("Isbergues", "62473", "62330", 2.4567, 50.6231),
    ("Auchy-les-Mines", "62051", "62138", 2.7839, 50.5119), ("Douvrin", "62276", "62138", 2.8306, 50.5075),
    ("Haisnes", "62411", "62138", 2.7947, 50.5081), ("Cuinchy", "62262", "62149", 2.7453, 50.5178),
    ("Vendin-le-Vieil", "62845", "62880", 2.8667, 50.4731), ("Estevelles", "62310", "62880", 2.9100, 50.4767),
)
STREET_TYPES = ("Rue", "Rue", "Rue", "Avenue", "Boulevard", "Place", "Chemin", "Impasse", "Allée", "Résidence",
                "Cité", "Route", "Sentier", "Square")
STREET_NAMES = (
    "Émile Zola", "Jean Jaurès", "Victor Hugo", "de la Gare", "Pasteur", "des Écoles", "du Général de Gaulle",
    "Léon Blum", "Raoul Briquet", "Émile Basly", "de l'Église", "Saint-Éloi", "des Mineurs", "du 8 Mai 1945",
    "Pierre Brossolette", "Jules Guesde", "Roger Salengro", "Gambetta", "Anatole France", "des Frères Lumière",
    "Marcel Cachin", "Paul Bert", "Condorcet", "de la République", "Jean Moulin", "Louis Aragon", "des Tilleuls",
    "des Acacias", "du Maréchal Foch", "de Verdun", "Henri Barbusse", "Gabriel Péri", "Voltaire", "Lamartine",
    "Alfred de Musset", "du Moulin", "des Peupliers", "de Lens", "de Béthune", "d'Arras", "de la Liberté",
    "Jean-Baptiste Lebas", "Édouard Herriot", "Charles Péguy", "des Glycines", "du Stade", "de la Fosse 11",
    "Auguste Lefebvre", "Arthur Lamendin", "Casimir Beugnet", "Sainte-Barbe", "du Docteur Schweitzer",
    "Georges Clemenceau", "Salvador Allende", "Ferdinand Buisson", "Maurice Thorez", "de l'Abbaye", "des Prés",
    "Hoche", "Kléber", "Carnot", "Faidherbe", "des Hirondelles", "du Château d'Eau", "Aimé Césaire",
)
SUFFIXES = ("bis", "ter")


def synthetic_ban(n_addresses: int, *, seed: int = 0, numbers_per_street: int = 40) -> pd.DataFrame:
    """About ``n_addresses`` rows (exactly, after trimming) in the BAN layout (:data:`geo.config.BAN_COLUMNS`).

    Every (street type, street name, commune) is used at most once; streets are spread evenly over the
    communes. Values are strings as in the CSV.
    """
    rng = np.random.default_rng(seed)
    n_streets = -(-n_addresses // numbers_per_street)
    combos = [(t, n) for t in dict.fromkeys(STREET_TYPES) for n in STREET_NAMES]
    per_commune = -(-n_streets // len(COMMUNES))
    if per_commune > len(combos):
        raise ValueError(f"at most {len(combos) * len(COMMUNES)} streets: ask fewer addresses or more numbers")
    to_l93 = Transformer.from_crs(config.WGS84, config.WORKING_CRS, always_xy=True)
    frames = []
    for ci, (commune, insee, cp, lon0, lat0) in enumerate(COMMUNES):
        picks = rng.choice(len(combos), size=per_commune, replace=False)
        for k, p in enumerate(picks):
            stype, sname = combos[p]
            numero = np.arange(1, numbers_per_street + 1)
            rep = np.where(rng.random(numbers_per_street) < 0.05, rng.choice(SUFFIXES, numbers_per_street), "")
            lon = lon0 + rng.normal(0, 0.01) + np.linspace(0, 0.002, numbers_per_street)
            lat = lat0 + rng.normal(0, 0.006) + rng.normal(0, 0.00005, numbers_per_street)
            fantoir = f"{insee}_{(ci * 997 + k) % 10000:04d}"
            frames.append(pd.DataFrame({
                "numero": numero, "rep": rep, "nom_voie": f"{stype} {sname}", "code_postal": cp, "code_insee": insee,
                "nom_commune": commune, "lon": lon, "lat": lat, "id_fantoir": fantoir,
            }))
    df = pd.concat(frames, ignore_index=True).iloc[:n_addresses].copy()
    x, y = to_l93.transform(df["lon"].to_numpy(), df["lat"].to_numpy())
    df["id"] = [f"{f}_{n:05d}{('_' + r) if r else ''}" for f, n, r in zip(df["id_fantoir"], df["numero"], df["rep"],
                                                                         strict=True)]
    df["x"], df["y"] = np.round(x, 2), np.round(y, 2)
    df["lon"], df["lat"] = df["lon"].round(6), df["lat"].round(6)
    df["type_position"] = "entrée"
    df["libelle_acheminement"] = df["nom_commune"].str.upper()
    df["nom_afnor"] = df["nom_voie"].str.upper()
    df["source_position"] = df["source_nom_voie"] = "commune"
    df["certification_commune"] = "1"
    for col in config.BAN_COLUMNS:
        if col not in df.columns:
            df[col] = ""
    return df[list(config.BAN_COLUMNS)].astype(str)


def write_ban(df: pd.DataFrame, path: Path) -> Path:
    """Write rows as a BAN CSV (';'-separated UTF-8, header line)."""
    df.to_csv(path, sep=";", index=False, encoding="utf-8")
    return path


def label(row: pd.Series) -> str:
    """The geocoder's label of a row: ``12 bis Rue Émile Zola 62300 Lens``."""
    number = row["numero"] + (f" {row['rep']}" if row["rep"] else "")
    return f"{number} {row['nom_voie']} {row['code_postal']} {row['nom_commune']}"
