"""All constants of the project, each with its source and the date it was checked.

One module, one place: tariffs change every quarter, module powers every year. When a
value changes, change it here (and its date); nothing else in the code hard-codes it.

Sections
--------
1. Territory and coordinate systems
2. Input formats (IGN LiDAR HD, BD TOPO, BAN, Filosofi)
3. Solar engine (weather, sky, horizon)
4. PV modules, losses, suitability classes
5. Economics (French tariffs, dated) and CO2
6. Solar hot water
7. Chaîne des Parcs (access standards, speeds)
8. API and map
"""

from __future__ import annotations

from typing import Final

# ---------------------------------------------------------------------------
# 1. Territory and coordinate systems
# ---------------------------------------------------------------------------

#: Working CRS of the whole project: RGF93 v1 / Lambert-93 (metres). Every layer is
#: reprojected to it on reading. Source: IGN, official French projection (decree 2000-1276).
WORKING_CRS: Final = "EPSG:2154"

#: CRS of the INSEE Filosofi 200 m grid: ETRS89 / LAEA Europe. Source: INSEE, "Données
#: carroyées - documentation générale", 2019 (checked 2026-11).
FILOSOFI_CRS: Final = "EPSG:3035"

#: CRS of the web map and of OGC API GeoJSON output.
WGS84: Final = "EPSG:4326"

#: Reference point of the Pôle Métropolitain de l'Artois (Lens town hall), for the offline
#: weather default. Latitude/longitude [degrees], altitude [m]. Source: IGN BD TOPO, 2025.
PMA_LATITUDE_DEG: Final = 50.4322
PMA_LONGITUDE_DEG: Final = 2.8333
PMA_ALTITUDE_M: Final = 40.0
PMA_TIMEZONE: Final = "Europe/Paris"

#: The three agglomerations of the PMA (EPCI SIREN -> short name). Source: BANATIC /
#: INSEE COG 2025, pma-communes-epci.csv (checked 2026-11).
PMA_EPCI: Final[dict[str, str]] = {
    "200072460": "CA de Béthune-Bruay, Artois-Lys Romane",
    "246200364": "CA de Lens - Liévin",
    "246200299": "CA d'Hénin-Carvin",
}

# ---------------------------------------------------------------------------
# 2. Input formats
# ---------------------------------------------------------------------------

#: IGN LiDAR HD tile size [m] and pixel size [m] of the MNS/MNT products.
#: Source: IGN, "LiDAR HD - Descriptif de contenu des produits dérivés", v1.0, 2024.
LIDAR_TILE_SIZE_M: Final = 1000.0
LIDAR_PIXEL_SIZE_M: Final = 0.5
#: Tile names: LHD_FXX_{x_km:04d}_{y_km:04d}_{kind}_O_0M50_LAMB93_IGN69.tif, the numbers
#: being the upper-left corner in km; kind is MNS (surface, DSM) or MNT (terrain, DTM).
LIDAR_TILE_PATTERN: Final = r"LHD_FXX_(?P<x>\d{4})_(?P<y>\d{4})_(?P<kind>MNS|MNT|MNH)_O_0M50_LAMB93_IGN69\.tif{1,2}$"
LIDAR_NODATA: Final = -9999.0

#: Columns of the BD TOPO ``batiment`` layer that the cadastre uses.
#: Source: IGN, "BD TOPO v3 - Descriptif de contenu", 2024.
BDTOPO_BATIMENT_COLUMNS: Final = (
    "cleabs",
    "hauteur",
    "nombre_d_etages",
    "usage_1",
    "altitude_minimale_sol",
    "altitude_maximale_toit",
)

#: Columns of the BAN "adresses-XX.csv" files (';'-separated, UTF-8).
#: Source: adresse.data.gouv.fr, "Format des fichiers BAN", 2024 (checked 2026-11).
BAN_COLUMNS: Final = (
    "id", "id_fantoir", "numero", "rep", "nom_voie", "code_postal", "code_insee",
    "nom_commune", "code_insee_ancienne_commune", "nom_ancienne_commune", "x", "y",
    "lon", "lat", "type_position", "alias", "nom_ld", "libelle_acheminement",
    "nom_afnor", "source_position", "source_nom_voie", "certification_commune",
    "cad_parcelles",
)
#: Columns of the Filosofi 200 m grid that the access analysis uses.
#: Source: INSEE, "Revenus, pauvreté et niveau de vie en 2019 - données carroyées", 2022.
FILOSOFI_COLUMNS: Final = ("Idcar_200m", "Ind", "Men", "Men_pauv")
FILOSOFI_CELL_SIZE_M: Final = 200.0

# ---------------------------------------------------------------------------
# Sections 3-8 follow: each owner adds constants with source and date.
# ---------------------------------------------------------------------------
