"""A small synthetic build folder with the columns of docs/data-dictionary.md, for the API tests.

Known truth, so tests can check what the API returns against what was written:

- 4 × 5 terraced houses (10 m × 8 m, gable roofs split into a south and a north face) on a 20 m grid,
  around Lens (Lambert-93), the west half in Lens (62498), the east half in Loos-en-Gohelle (62528);
- two parks linked by one greenway (320 m between their entrances), their entrances, service areas,
  access cells, one gap, ``network_nodes``/``network_edges`` layers (the greenway and a street detour);
- a 15-band irradiance COG whose band 1 rises linearly from west to east (400 → 1200 kWh/m²/yr) with a
  nodata stripe along the south edge;
- a BAN-format CSV of the houses' addresses.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from pyproj import Transformer
from rasterio.crs import CRS as RasterCRS
from shapely.geometry import LineString, Point, Polygon, box

from geo import config
from geo.io.vectors import write_gpkg
from geo.products import BuildFolder, irradiance, rooftops
from geo.products import parks as P
from geo.types import RasterGrid

CRS = config.WORKING_CRS
X0, Y0 = 686_000.0, 7_036_500.0  # lower-left corner of the scene [m, Lambert-93]
SIZE = 500.0  # scene side [m]
SPLIT_X = X0 + 250.0  # Lens west of it, Loos-en-Gohelle east of it
NX, NY = 5, 4  # houses per row, rows
HOUSE_W, HOUSE_D = 10.0, 8.0  # [m]
STREETS = ["Rue Émile Zola", "Boulevard Émile Basly", "Avenue Raoul Briquet", "Rue de la Gare"]
TILT = 40.0


def house_origin(i: int, j: int) -> tuple[float, float]:
    """Lower-left corner [m] of house ``i`` (column) in row ``j``."""
    return X0 + 100.0 + 20.0 * i * 2, Y0 + 150.0 + 40.0 * j


def building_id(i: int, j: int) -> str:
    return f"BATIMENT{j * NX + i + 1:016d}"


def _commune(x: float) -> tuple[str, str, str]:
    return ("62498", "Lens", "62300") if x < SPLIT_X else ("62528", "Loos-en-Gohelle", "62750")


def make_rooftops() -> dict[str, gpd.GeoDataFrame]:
    faces, buildings = [], []
    for j in range(NY):
        for i in range(NX):
            x, y = house_origin(i, j)
            bid = building_id(i, j)
            code, nom, cp = _commune(x)
            # faces: south half and north half of the footprint
            irr_s = 1000.0 + 10 * i
            irr_n = 600.0 + 10 * i
            area_h = HOUSE_W * HOUSE_D / 2
            area = area_h / np.cos(np.radians(TILT))
            rows = []
            for n, (geom, az, irr, orient) in enumerate(
                [
                    (box(x, y, x + HOUSE_W, y + HOUSE_D / 2), 180.0, irr_s, "sud"),
                    (box(x, y + HOUSE_D / 2, x + HOUSE_W, y + HOUSE_D), 0.0, irr_n, "nord"),
                ],
                start=1,
            ):
                usable = area * 0.8
                n_mod = int(usable // 1.87)
                kwp = n_mod * 0.425
                prod = kwp * irr * 0.8
                monthly_w = np.array([2, 4, 7, 10, 12, 13, 13, 11, 8, 5, 3, 2], float)
                monthly_w /= monthly_w.sum()
                row = {
                    "face_id": f"{bid}-{n}", "building_id": bid, "tilt_deg": TILT, "azimuth_deg": az,
                    "orientation": orient, "is_flat": False, "area_m2": area, "usable_area_m2": usable,
                    "irradiation_kwh_m2_yr": irr, "shading_loss": 0.05 * n, "n_modules": n_mod, "kwp": kwp,
                    "production_kwh_yr": prod, "specific_yield_kwh_kwp": prod / kwp if kwp else 0.0,
                    "suitability": "excellent" if az == 180.0 else "inadapté",
                    "profile_id": "t40a180" if az == 180.0 else "t40a0", "geometry": geom,
                }
                for m in range(12):
                    row[f"irradiation_m{m + 1:02d}_kwh_m2"] = irr * monthly_w[m]
                    row[f"production_m{m + 1:02d}_kwh"] = prod * monthly_w[m]
                rows.append(row)
            faces += rows
            south = rows[0]
            buildings.append({
                "building_id": bid, "cleabs": bid, "address": f"{2 * i + 1} {STREETS[j]} {cp} {nom}",
                "address_housenumber": str(2 * i + 1), "address_suffix": None, "address_street": STREETS[j],
                "address_postcode": cp, "address_city": nom,
                "code_insee": code, "n_faces": 2, "n_suitable_faces": 1,
                "usable_area_m2": rows[0]["usable_area_m2"] + rows[1]["usable_area_m2"],
                "kwp_max": rows[0]["kwp"] + rows[1]["kwp"],
                "production_kwh_yr_max": rows[0]["production_kwh_yr"] + rows[1]["production_kwh_yr"],
                "best_face_id": south["face_id"], "suitability": "excellent", "reco_kwp": 3.0,
                "reco_production_kwh_yr": 3.0 * south["specific_yield_kwh_kwp"], "reco_cost_eur": 7500.0,
                "reco_self_consumption_rate": 0.45, "reco_savings_eur_yr": 480.0, "reco_payback_yr": 15.6,
                "reco_net_gain_eur": 2100.0, "analysis_years": 25, "co2_avoided_kg_yr": 190.0, "swh_collector_m2": 4.0,
                "swh_heat_kwh_yr": 1600.0, "swh_solar_fraction": 0.55,
                "weather_source": "offline climatology (approximate)",
                "geometry": box(x, y, x + HOUSE_W, y + HOUSE_D),
            })
    faces_gdf = gpd.GeoDataFrame(faces, crs=CRS)
    bld = gpd.GeoDataFrame(buildings, crs=CRS)
    communes = []
    for code, nom, x0, x1 in (("62498", "Lens", X0, SPLIT_X), ("62528", "Loos-en-Gohelle", SPLIT_X, X0 + SIZE)):
        sel = bld[bld.code_insee == code]
        communes.append({
            "level": "commune", "code": code, "nom": nom, "epci_siren": "246200364", "n_buildings": len(sel),
            "n_suitable_faces": int(sel.n_suitable_faces.sum()), "usable_area_m2": float(sel.usable_area_m2.sum()),
            "kwp": float(sel.kwp_max.sum()), "production_mwh_yr": float(sel.production_kwh_yr_max.sum()) / 1000,
            "geometry": box(x0, Y0, x1, Y0 + SIZE),
        })
    communes.append({
        "level": "epci", "code": "246200364", "nom": "CA de Lens - Liévin", "epci_siren": "246200364",
        "n_buildings": len(bld), "n_suitable_faces": int(bld.n_suitable_faces.sum()),
        "usable_area_m2": float(bld.usable_area_m2.sum()), "kwp": float(bld.kwp_max.sum()),
        "production_mwh_yr": float(bld.production_kwh_yr_max.sum()) / 1000, "geometry": box(X0, Y0, X0 + SIZE, Y0 + SIZE),
    })
    return {rooftops.ROOF_FACES.name: faces_gdf, rooftops.BUILDINGS.name: bld,
            rooftops.COMMUNES_SOLAR.name: gpd.GeoDataFrame(communes, crs=CRS),
            rooftops.PV_PROFILES.name: make_pv_profiles()}  # type: ignore[dict-item]


def daylight_profile() -> np.ndarray:
    """8760 hourly shares: equal over 08:00–17:59 of each day, each month summing to 1."""
    from geo.roofs.pv import profile_months

    months = profile_months()
    hour = np.tile(np.arange(24), 365)
    share = ((hour >= 8) & (hour < 18)).astype(float)
    sums = np.bincount(months, weights=share, minlength=12)
    return share / sums[months]


def make_pv_profiles() -> pd.DataFrame:
    """The ``pv_profiles`` attribute table (two orientation bins with the same daylight profile)."""
    from geo.products.rooftops import encode_profile

    text = encode_profile(daylight_profile())
    return pd.DataFrame({"profile_id": ["t40a180", "t40a0"], "tilt_deg": [40.0, 40.0],
                         "azimuth_deg": [180.0, 0.0], "hourly_share": [text, text]})


def make_parks() -> dict[str, gpd.GeoDataFrame]:
    p1 = box(X0 + 20, Y0 + 20, X0 + 80, Y0 + 120)
    p2 = box(X0 + 400, Y0 + 20, X0 + 480, Y0 + 120)
    parks = gpd.GeoDataFrame({
        "park_id": [1, 2], "nom": ["Parc des Cytises", "Base 11/19"],
        "ensemble": ["Parc des Cytises", "Base 11/19"], "area_ha": [p1.area / 1e4, p2.area / 1e4],
        "on_greenway": [True, True], "component": [1, 1], "population_10min": [850, 640],
    }, geometry=[p1, p2], crs=CRS)
    gw_line = LineString([(X0 + 80, Y0 + 70), (X0 + 400, Y0 + 70)])
    greenways = gpd.GeoDataFrame({
        "greenway_id": [1], "nom": ["Cavalier de Loos"], "type": ["cavalier"], "length_m": [gw_line.length],
        "component": [1], "in_loop": [False],
    }, geometry=[gw_line], crs=CRS)
    entrances = gpd.GeoDataFrame({
        "entrance_id": [1, 2], "park_id": [1, 2], "kind": ["path", "path"], "node": [0, 2],
    }, geometry=[Point(X0 + 80, Y0 + 70), Point(X0 + 400, Y0 + 70)], crs=CRS)
    # walk network: E1 (0) - mid (1) - E2 (2) along the greenway, and a street detour via node 3
    node_xy = [(X0 + 80, Y0 + 70), (X0 + 240, Y0 + 70), (X0 + 400, Y0 + 70), (X0 + 240, Y0 + 200)]
    nodes = gpd.GeoDataFrame({"node_id": np.arange(4)}, geometry=[Point(p) for p in node_xy], crs=CRS)
    uv = [(0, 1, True), (1, 2, True), (1, 3, False), (3, 2, False)]
    edge_lines = [LineString([node_xy[u], node_xy[v]]) for u, v, _ in uv]
    network_edges = gpd.GeoDataFrame({
        "edge_id": np.arange(4), "u": [u for u, _, _ in uv], "v": [v for _, v, _ in uv],
        "length_m": [g.length for g in edge_lines], "is_greenway": [gw for _, _, gw in uv],
        "highway": ["cycleway", "cycleway", "residential", "residential"],
        "kind": ["greenway", "greenway", "street", "street"],
        "greenway_id": pd.array([1, 1, None, None], dtype="Int64"),
    }, geometry=edge_lines, crs=CRS)
    service_areas = gpd.GeoDataFrame({
        "park_id": [1, 1, 2], "minutes": [3.75, 10.0, 10.0], "label": ["300 m", "10 min", "10 min"],
    }, geometry=[p1.buffer(300), p1.buffer(800), p2.buffer(800)], crs=CRS)
    cells, xs = [], np.arange(X0, X0 + SIZE, 200.0)
    for k, (cx, cy) in enumerate((cx, cy) for cx in xs for cy in np.arange(Y0, Y0 + SIZE, 200.0)):
        cells.append({
            "Idcar_200m": f"CRS3035RES200mN{3000000 + k * 200}E3800000", "population": 100.0 + k,
            "households": 40.0, "poor_households": 8.0, "poverty_rate": 0.2, "walk_m_to_park": 150.0 * k,
            "within_300m": k < 2, "within_10min": k < 5, "priority_rank": (k - 4) if k >= 5 else None,
            "geometry": box(cx, cy, cx + 200, cy + 200),
        })
    access_cells = gpd.GeoDataFrame(cells, crs=CRS)
    gap_line = LineString([(X0 + 50, Y0 + 120), (X0 + 50, Y0 + 300)])
    gaps = gpd.GeoDataFrame({
        "gap_id": [1], "rank": [1], "length_m": [gap_line.length],
        "links": ["Parc des Cytises ↔ cité 12"], "population_newly_linked": [420],
        "score_per_km": [420 / (gap_line.length / 1000)],
    }, geometry=[gap_line], crs=CRS)
    communes_access = gpd.GeoDataFrame({
        "level": ["commune", "commune", "epci"], "code": ["62498", "62528", "246200364"],
        "nom": ["Lens", "Loos-en-Gohelle", "CA de Lens - Liévin"], "epci_siren": ["246200364"] * 3,
        "population": [1200.0, 800.0, 2000.0], "population_within_300m": [300.0, 100.0, 400.0],
        "population_within_10min": [900.0, 500.0, 1400.0], "share_within_300m": [0.25, 0.125, 0.2],
        "share_within_10min": [0.75, 0.625, 0.7],
    }, geometry=[box(X0, Y0, SPLIT_X, Y0 + SIZE), box(SPLIT_X, Y0, X0 + SIZE, Y0 + SIZE),
                 box(X0, Y0, X0 + SIZE, Y0 + SIZE)], crs=CRS)
    return {
        P.PARKS.name: parks, P.GREENWAYS.name: greenways, P.ENTRANCES.name: entrances,
        P.SERVICE_AREAS.name: service_areas, P.ACCESS_CELLS.name: access_cells, P.GAPS.name: gaps,
        P.COMMUNES_ACCESS.name: communes_access, P.NETWORK_NODES.name: nodes, P.NETWORK_EDGES.name: network_edges,
    }


def irradiance_band1(cols: np.ndarray) -> np.ndarray:
    """Annual irradiation [kWh/m²/yr] of the synthetic raster at pixel columns ``cols`` (0..999)."""
    return 400.0 + 800.0 * cols / 999.0


def make_irradiance(path: Path) -> Path:
    """The irradiation raster as the irradiance stage publishes it: 2 × 2 tile COGs and the VRT mosaic ``path``."""
    n, tile = 1000, 500
    res = SIZE / n
    cols = np.broadcast_to(np.arange(n, dtype=np.float64), (n, n))
    annual = irradiance_band1(cols).astype(np.float32)
    annual[-50:, :] = np.nan  # nodata stripe along the south edge (25 m)
    monthly = [annual / 12.0 for _ in range(12)]
    data = np.stack([annual, *monthly, np.full_like(annual, 0.1), np.full_like(annual, 0.9)])
    data[:, -50:, :] = np.nan
    tags = {"WEATHER_SOURCE": "offline climatology (approximate) for Lens", "WEATHER_LOCATION": "Lens",
            "WEATHER_PERIOD": "typical year", "WEATHER_APPROXIMATE": "true", "ALBEDO": "0.2", "SKY_MODEL": "perez"}
    transform, crs = Affine(res, 0, X0, 0, -res, Y0 + SIZE), RasterCRS.from_user_input(CRS)
    # stored as the irradiance stage stores it: scaled integers (the tiles must unscale them)
    tiles = []
    for r0 in range(0, n, tile):
        for c0 in range(0, n, tile):
            window = (r0, r0 + tile, c0, c0 + tile)
            tiles.append((irradiance.write_tile(
                irradiance.tile_folder(path) / f"r{r0:07d}_c{c0:07d}.tif", data[:, r0:r0 + tile, c0:c0 + tile],
                transform=transform @ Affine.translation(c0, r0), crs=crs, tags=tags, tile_px=tile), window))
    grid = RasterGrid(transform, crs, (n, n), ())
    return irradiance.write_mosaic(path, tiles, grid, tags, tile_px=tile)[0]


def make_ban_csv(path: Path) -> Path:
    to_wgs = Transformer.from_crs(CRS, config.WGS84, always_xy=True)
    rows = []
    for j in range(NY):
        for i in range(NX):
            x, y = house_origin(i, j)
            cx, cy = x + HOUSE_W / 2, y + HOUSE_D / 2
            lon, lat = to_wgs.transform(cx, cy)
            code, nom, cp = _commune(x)
            numero = 2 * i + 1
            rep = "bis" if (i, j) == (1, 1) else ""
            rows.append({
                "id": f"{code}_{1000 + j:04d}_{numero:05d}{'_' + rep if rep else ''}", "id_fantoir": "",
                "numero": numero, "rep": rep, "nom_voie": STREETS[j], "code_postal": cp, "code_insee": code,
                "nom_commune": nom, "code_insee_ancienne_commune": "", "nom_ancienne_commune": "",
                "x": round(cx, 2), "y": round(cy, 2), "lon": round(lon, 6), "lat": round(lat, 6),
                "type_position": "entrée", "alias": "", "nom_ld": "", "libelle_acheminement": nom.upper(),
                "nom_afnor": STREETS[j].upper(), "source_position": "commune", "source_nom_voie": "commune",
                "certification_commune": 1, "cad_parcelles": "",
            })
    pd.DataFrame(rows, columns=list(config.BAN_COLUMNS)).to_csv(path, sep=";", index=False)
    return path


def make_build(out: Path, *, with_addresses_csv: bool = True) -> Path:
    """Write rooftops.gpkg, parks.gpkg, the irradiance mosaic (and adresses-62.csv) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    built = BuildFolder(out)
    write_gpkg(built.rooftops, make_rooftops())
    write_gpkg(built.parks, make_parks())
    make_irradiance(built.irradiance)
    if with_addresses_csv:
        make_ban_csv(out / "adresses-62.csv")
    return out


def polygon_lonlat_center(geom: Polygon) -> tuple[float, float]:
    """(lon, lat) [°] of the centre of a Lambert-93 polygon."""
    to_wgs = Transformer.from_crs(CRS, config.WGS84, always_xy=True)
    c = geom.centroid
    lon, lat = to_wgs.transform(c.x, c.y)
    return float(lon), float(lat)


# -- pytest fixtures (import them into a test module: ``from api_fixtures import api_build, client``) --

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def api_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic build folder, written once per test session."""
    return make_build(tmp_path_factory.mktemp("api_build"))


@pytest.fixture(scope="session")
def client(api_build: Path):  # type: ignore[no-untyped-def]
    """A TestClient of the app serving the synthetic build."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings

    with TestClient(create_app(Settings(data_dir=api_build))) as c:
        yield c
