"""Turn a sample scene into the tables the real sources ship (BD TOPO, BAN, Filosofi, communes…).

Pure functions: scene in, (Geo)DataFrames out; writing is in :mod:`geo.sample.write`.
"""

from __future__ import annotations

import math
import unicodedata
import zlib
from collections import defaultdict

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer
from shapely.geometry import LineString, MultiPolygon, Point, box
from shapely.ops import split

from geo import config
from geo.sample.scene import Scene
from geo.sample.truth import SHADOW_MIN_INSTANTS, faces_truth, scene_sun, terril_shadow_flags

L93 = config.WORKING_CRS
LOOS, LENS = "62528", "62498"


def assign_cleabs(scene: Scene, rng: np.random.Generator) -> None:
    """Give every building a BD TOPO identifier ``BATIMENT`` + 16 digits, increasing, unique."""
    steps = rng.integers(1, 40, size=len(scene.buildings))
    ids = 312_000_000 + np.cumsum(steps)
    for b, n in zip(scene.buildings, ids, strict=True):
        b.cleabs = f"BATIMENT{int(n):016d}"


def communes(scene: Scene) -> gpd.GeoDataFrame:
    """Commune polygons (Lambert-93): the area plus a 1 km margin split along the boundary line."""
    xmin, ymin, xmax, ymax = scene.bounds
    area = box(xmin - 1000, ymin - 1000, xmax + 1000, ymax + 1000)
    parts = sorted(split(area, LineString(scene.commune_boundary)).geoms, key=lambda g: g.centroid.x)
    if len(parts) != 2:
        raise ValueError("sample layout: the commune boundary must split the area in two")
    rows = []
    for code, poly in ((LOOS, parts[0]), (LENS, parts[1])):
        nom, cp, epci, pop = config.SAMPLE_COMMUNES[code]
        rows.append({"code": code, "nom": nom, "code_postal": cp, "codeEpci": epci, "population": pop,
                     "geometry": poly})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=L93)


def batiment(scene: Scene) -> gpd.GeoDataFrame:
    """The BD TOPO ``batiment`` layer (Lambert-93)."""
    rows = []
    for b in scene.buildings:
        fp = b.footprint()
        corners = np.asarray(fp.exterior.coords)
        ground = np.round(np.asarray(scene_ground(scene, corners[:, 0], corners[:, 1])), 1)
        rows.append({
            "cleabs": b.cleabs,
            "nature": {"church": "Eglise", "shed": "Industriel, agricole ou commercial",
                       "shop": "Industriel, agricole ou commercial"}.get(b.category, "Indifférenciée"),
            "usage_1": b.usage,
            "usage_2": None,
            "construction_legere": b.category == "annexe",
            "etat_de_l_objet": "En service",
            "nombre_de_logements": b.dwellings if b.dwellings else None,
            "nombre_d_etages": b.floors,
            "hauteur": round(b.eave_height_m, 1),
            "altitude_minimale_sol": float(ground.min()),
            "altitude_maximale_sol": float(ground.max()),
            "altitude_minimale_toit": round(b.roof.eave_m, 1),
            "altitude_maximale_toit": round(b.roof.top_altitude(), 1),
            "origine_du_batiment": "Cadastre",
            "geometry": MultiPolygon([fp]),
        })
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=L93)


def scene_ground(scene: Scene, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.asarray(scene.terrain.ground(x, y))


def roof_faces_truth(scene: Scene) -> gpd.GeoDataFrame:
    """The ground truth: one row per roof face (docs/formats.md, ``roof_faces_truth``)."""
    faces = faces_truth(scene)
    xs = np.array([f.centroid_x for f in faces])
    ys = np.array([f.centroid_y for f in faces])
    zs = np.array([f.centroid_z for f in faces])
    sun = scene_sun(scene)
    share = terril_shadow_flags(scene.terrain, xs, ys, zs, sun)
    shadow = share * len(sun) >= SHADOW_MIN_INSTANTS - 1e-9
    rows = []
    for f, s, sh in zip(faces, shadow, share, strict=True):
        rows.append({
            "cleabs": f.cleabs, "face_id": f.face_id, "tilt_deg": f.tilt_deg, "azimuth_deg": f.azimuth_deg,
            "area_m2": f.area_m2, "footprint_area_m2": f.footprint_area_m2, "roof_type": f.roof_type,
            "has_chimney": f.has_chimney, "has_dormer": f.has_dormer, "has_hvac": f.has_hvac,
            "has_skylight": f.has_skylight, "obstacle_area_m2": f.obstacle_area_m2,
            "in_terril_shadow": bool(s), "terril_shadow_share": round(float(sh), 4),
            "z_centroid_m": f.centroid_z, "geometry": f.polygon,
        })
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=L93)


# ---------------------------------------------------------------------------
# BAN addresses
# ---------------------------------------------------------------------------


def _afnor(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(plain.upper().replace("'", " ").replace("-", " ").split())


def _voie_code(code_insee: str, street: str) -> str:
    return f"{zlib.crc32(f'{code_insee}/{street}'.encode()) % 9000 + 1000:04d}"


def addresses(scene: Scene, communes_gdf: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """BAN ``adresses-62.csv`` rows: one per building with an address, some with a 'bis' too."""
    to_wgs = Transformer.from_crs(L93, config.WGS84, always_xy=True)
    rows = []
    polys = list(zip(communes_gdf["code"], communes_gdf.geometry, strict=True))
    for b in scene.buildings:
        if b.address is None:
            continue
        street, number, rep, (x, y) = b.address
        entries = [(number, rep, x, y)]
        if b.category == "coron" and rng.random() < 0.04:  # a house split into two dwellings
            entries.append((number, "bis", x, y))
            b.dwellings = 2
        for num, rp, px, py in entries:
            code = next(c for c, g in polys if g.contains(Point(px, py)))
            nom, cp, _, _ = config.SAMPLE_COMMUNES[code]
            voie = _voie_code(code, street)
            lon, lat = to_wgs.transform(px, py)
            section = "A" + "BCDEFGHK"[int(zlib.crc32(street.encode()) % 8)]
            rows.append({
                "id": f"{code}_{voie}_{num:05d}" + (f"_{rp}" if rp else ""),
                "id_fantoir": f"{code}_{voie}",
                "numero": num, "rep": rp, "nom_voie": street, "code_postal": cp, "code_insee": code,
                "nom_commune": nom, "code_insee_ancienne_commune": "", "nom_ancienne_commune": "",
                "x": f"{px:.2f}", "y": f"{py:.2f}", "lon": f"{lon:.6f}", "lat": f"{lat:.6f}",
                "type_position": "entrée", "alias": "", "nom_ld": "",
                "libelle_acheminement": _afnor(nom), "nom_afnor": _afnor(street),
                "source_position": "commune", "source_nom_voie": "commune", "certification_commune": 1,
                "cad_parcelles": f"{code}000{section}{(b.index % 9000) + 100:04d}",
            })
    df = pd.DataFrame(rows, columns=list(config.BAN_COLUMNS))
    return df.sort_values(["code_insee", "id_fantoir", "numero", "rep"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------
# INSEE Filosofi 200 m grid
# ---------------------------------------------------------------------------


def filosofi(scene: Scene, communes_gdf: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Filosofi 2019 200 m cells (EPSG:3035) peopled from the scene's dwellings.

    Each dwelling holds one household of ``1 + Poisson(SAMPLE_PERSONS_PER_HOUSEHOLD - 1)``
    persons; a household is poor with probability ``SAMPLE_POOR_SHARE`` of its kind of housing.
    Only populated cells are listed, as in the real files.
    """
    to_laea = Transformer.from_crs(L93, config.FILOSOFI_CRS, always_xy=True)
    size = config.FILOSOFI_CELL_SIZE_M
    acc: dict[tuple[int, int], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for b in scene.buildings:
        if b.dwellings <= 0:
            continue
        c = b.footprint().centroid
        ex, ny = to_laea.transform(c.x, c.y)
        key = (int(math.floor(ny / size) * size), int(math.floor(ex / size) * size))
        kind = b.category if b.category in config.SAMPLE_POOR_SHARE else "other"
        men = b.dwellings
        ind = men + int(rng.poisson((config.SAMPLE_PERSONS_PER_HOUSEHOLD - 1.0) * men))
        cell = acc[key]
        cell["Men"] += men
        cell["Ind"] += ind
        cell["Men_pauv"] += int(rng.binomial(men, config.SAMPLE_POOR_SHARE[kind]))
        cell["Men_1ind"] += int(rng.binomial(men, 0.3))
        cell["Men_prop"] += int(rng.binomial(men, 0.3 if kind == "coron" else 0.6))
        cell["Log_soc"] += int(rng.binomial(men, 0.6 if kind == "coron" else 0.1))
        cell["Ind_snv"] += ind * float(rng.normal(16_500 if kind == "coron" else 20_500, 1500))
    to_l93 = Transformer.from_crs(config.FILOSOFI_CRS, L93, always_xy=True)
    rows = []
    for (n, e), cell in sorted(acc.items()):
        centre = Point(*to_l93.transform(e + size / 2, n + size / 2))
        inside = [c for c, g in zip(communes_gdf["code"], communes_gdf.geometry, strict=True) if g.contains(centre)]
        rows.append({
            "Idcar_200m": f"CRS3035RES200mN{n}E{e}",
            "Idcar_1km": f"CRS3035RES1000mN{n // 1000 * 1000}E{e // 1000 * 1000}",
            "I_est_200": 0,
            "Ind": float(cell["Ind"]), "Men": float(cell["Men"]), "Men_pauv": float(cell["Men_pauv"]),
            "Men_1ind": float(cell["Men_1ind"]), "Men_prop": float(cell["Men_prop"]),
            "Men_mais": float(cell["Men"]), "Men_coll": 0.0, "Log_soc": float(cell["Log_soc"]),
            "Ind_snv": round(cell["Ind_snv"], 1),
            "lcog_geo": "".join(inside) or LENS,
            "geometry": box(e, n, e + size, n + size),
        })
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=config.FILOSOFI_CRS)


# ---------------------------------------------------------------------------
# Parks, greenways, network, stops
# ---------------------------------------------------------------------------


def parcs(scene: Scene) -> gpd.GeoDataFrame:
    rows = [{"nom": p.nom, "ensemble": p.ensemble, "geometry": p.polygon} for p in scene.parks]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=L93)


def voies_vertes(scene: Scene) -> gpd.GeoDataFrame:
    rows = [{"nom": g.nom, "type": g.type, "geometry": LineString(g.coords)} for g in scene.greenways]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=L93)


def reseau(scene: Scene) -> gpd.GeoDataFrame:
    """Walkable network, OSM-style: ``osm_id``, ``highway``, ``name`` (Lambert-93 LineStrings)."""
    rows = []
    for i, w in enumerate(scene.ways):
        rows.append({"osm_id": 24_000_000 + 7 * i + 3, "highway": w.highway, "name": w.name or None,
                     "geometry": LineString(np.round(np.asarray(w.coords), 3))})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=L93)


def arrets(scene: Scene) -> gpd.GeoDataFrame:
    rows = [{"nom": s.nom, "ligne": s.ligne, "geometry": Point(s.x, s.y)} for s in scene.stops]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=L93)


def epci_table(communes_gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """Rows of ``pma-communes-epci.csv`` for the sample's communes."""
    rows = []
    for code in sorted(communes_gdf["code"]):
        nom, _, epci, pop = config.SAMPLE_COMMUNES[code]
        rows.append({"epci_siren": epci, "epci_nom": config.PMA_EPCI[epci], "insee_com": code, "nom_com": nom,
                     "population_municipale_2025": pop})
    return pd.DataFrame(rows)
