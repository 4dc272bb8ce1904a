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

# ---------------------------------------------------------------------------
# 3. Solar engine (weather, sky, horizon)  (owner: solar engine, geo/solar/, geo/io/weather.py)
# ---------------------------------------------------------------------------

#: Ground albedo for the ground-reflected irradiance, albedo·GHI·(1−cos β)/2 [0–1].
#: Source: pvlib default (0.25, "grass/urban mix"); Perez et al. 1990 used 0.2. Checked 2026-11.
SOLAR_ALBEDO: Final = 0.25

#: Diffuse sky model: Perez 1990 'allsitescomposite1990' coefficients, as in pvlib.irradiance.perez.
SOLAR_SKY_MODEL: Final = "perez"
SOLAR_PEREZ_COEFFICIENTS: Final = "allsitescomposite1990"

#: Horizon: number of azimuth directions (evenly spaced from north, clockwise) and the search
#: distance [m]. 1 km reaches the slag heaps (terrils, 100–186 m high) over the cités.
#: Project choices (issue 3: ≥ 32 directions, ≥ 200 m), 2026-11.
HORIZON_DIRECTIONS: Final = 32
HORIZON_DISTANCE_M: Final = 1000.0
#: Multi-resolution horizon scan: full-resolution (interpolated) samples up to this many pixels,
#: then per octave of distance this many samples of a max-filtered DSM whose window doubles per
#: octave (window/distance ≤ 1/16). Project choice 2026-11 (benchmarks/bench_irradiance.py: ~314k
#: pixels per CPU-second; 16/8 is 35 % faster, 1 % more conservative), see docs/solar-engine.md.
HORIZON_NEAR_SAMPLES: Final = 32
HORIZON_SAMPLES_PER_OCTAVE: Final = 16

#: Perez horizon-brightening band height [°] (Perez et al. 1990, Solar Energy 44(5), the band
#: "at the horizon" of 6.5°); used to shade the horizon-brightening term by the DSM horizon.
PEREZ_HORIZON_BAND_DEG: Final = 6.5

#: Sun-position binning of the cumulative sky: time steps are grouped by month, by part of the
#: month (days 1–10, 11–20, 21–end) and by time-of-day slot of this many minutes. The bin's sun
#: direction is the energy-weighted mean vector, which keeps unshaded planes exact. Project choice.
SUN_BIN_MINUTES: Final = 60
SUN_BIN_MONTH_PARTS: Final = 3

#: Roof pixels when only a DTM is given: DSM − DTM above this height [m]. Project choice 2026-11
#: (a storey is ~2.5–3 m; lower objects are cars, hedges, garden sheds).
ROOF_MIN_HEIGHT_ABOVE_DTM_M: Final = 2.5

#: Offline default weather (no file given): pvlib Ineichen clear sky with pvlib's Linke turbidity
#: climatology, scaled month by month to this monthly global horizontal irradiation for Lens
#: [kWh/m²/month], split into DNI/DHI with Erbs (pvlib). Values: PVGIS-SARAH2 monthly means for
#: the Lens/Lille area (JRC PVGIS 5.2 'MRcalc', 2005–2020; annual ≈ 1,060 kWh/m²), rounded; noted
#: 2026-11 from the PVGIS documentation of the area, NOT re-downloaded on the build machine (no
#: network): results made with it are flagged approximate. Replace by a PVGIS TMY file
#: (data/rooftops/weather.json) for real work.
PMA_MONTHLY_GHI_KWH_M2: Final = (23.0, 39.0, 78.0, 122.0, 150.0, 160.0, 158.0, 133.0, 94.0, 57.0, 28.0, 19.0)
#: Monthly mean air temperature at Lille-Lesquin [°C] (Météo-France normals, 1961–1990), and a
#: constant mean 10 m wind speed [m/s] (Météo-France, Lille-Lesquin ≈ 4 m/s). Checked 2026-11.
PMA_MONTHLY_TEMP_C: Final = (2.4, 2.9, 6.0, 8.9, 12.4, 15.3, 17.1, 17.1, 14.7, 10.4, 6.1, 3.5)
PMA_MEAN_WIND_M_S: Final = 4.0
#: Year used for the time stamps of the offline default (a non-leap year).
DEFAULT_WEATHER_YEAR: Final = 2023

#: PVGIS TMY time stamps are written hh:00 (UTC) but the irradiance belongs to another moment in
#: the hour, given since December 2024 by the file's "Irradiance Time Offset (h)" header. Without
#: it: ERA5 values are hourly means centred on the half hour (0.5 h); SARAH (Europe, the default
#: database for France) values are satellite instants ~10.6 min after the hour (0.1761 h, the value
#: PVGIS 5.3 writes for western Europe). Source: PVGIS TMY tool documentation; pvlib
#: iotools/pvgis.py (reads the header); SunSolve "Using PVGIS weather data". Checked 2026-11.
PVGIS_TIME_OFFSET_SARAH_H: Final = 0.1761
PVGIS_TIME_OFFSET_ERA5_H: Final = 0.5

# ---------------------------------------------------------------------------
# 7. Chaîne des Parcs (network access standards, speeds, network building)
# ---------------------------------------------------------------------------

#: Walking speed [km/h]. TPL ParkServe counts a "10-minute walk" as a half-mile (≈ 0.8 km)
#: walk along the street network, i.e. ≈ 4.8 km/h. Source: The Trust for Public Land,
#: "ParkServe methodology" (10-Minute Walk campaign), 2019 (checked 2026-11).
PARKS_WALK_SPEED_KMH: Final = 4.8
#: Network distance of a 10-minute walk [m] (= 4.8 km/h x 10 min). Source: TPL ParkServe, as above.
PARKS_WALK_10MIN_M: Final = 800.0
#: Cycling speed [km/h] for route times. Project choice (2026-11): the usual planning
#: assumption for everyday cycling in French towns (14-16 km/h), not a published constant.
PARKS_BIKE_SPEED_KMH: Final = 15.0

#: WHO urban green space indicator: green space of at least 0.5 ha [ha] within 300 m [m].
#: WHO uses a straight-line 300 m; we apply it along the network (stricter, as ParkServe).
#: Source: WHO Regional Office for Europe, "Urban green spaces: a brief for action", 2017,
#: and "Urban green space interventions and health", 2016 (checked 2026-11).
PARKS_WHO_DISTANCE_M: Final = 300.0
PARKS_WHO_MIN_AREA_HA: Final = 0.5

#: Natural England ANGSt tiers: (minimum green space size [ha], distance [m], label).
#: ANGSt distances are straight-line; we apply them along the network (stricter).
#: Source: Natural England, "Nature Nearby: Accessible Natural Greenspace Guidance" (NE265),
#: 2010 (checked 2026-11).
PARKS_ANGST_TIERS: Final[tuple[tuple[float, float, str], ...]] = (
    (2.0, 300.0, "ANGSt 300 m"),
    (20.0, 2000.0, "ANGSt 2 km"),
    (100.0, 5000.0, "ANGSt 5 km"),
    (500.0, 10000.0, "ANGSt 10 km"),
)

#: Route cost factor of non-greenway edges (cost = length x factor; greenway edges cost their
#: length): 1.5 = a 1 km street detour is worth 1.5 km, the order of the off-street path
#: preference found in cyclist route-choice studies (Broach, Dill & Gliebe, "Where do cyclists
#: ride?", Transportation Research Part A 46(10), 2012). Project default (2026-11), per request.
PARKS_GREENWAY_PREFERENCE: Final = 1.5

#: Spacing [m] of pseudo-entrances placed along park edges where no path enters (nearest-node
#: snapping misses parks whose entrances are not mapped). Project choice (2026-11).
PARKS_PSEUDO_ENTRANCE_SPACING_M: Final = 100.0
#: A pseudo-entrance is linked to the nearest point of the walk network by a straight virtual
#: edge only within this distance [m]; beyond it the park has no entrance there. Project choice (2026-11).
PARKS_PSEUDO_ENTRANCE_MAX_LINK_M: Final = 60.0
#: A greenway end this close [m] to the walk network is joined to it by a virtual edge
#: (digitised greenways often stop a few metres short of the street). Project choice (2026-11).
PARKS_GREENWAY_SNAP_M: Final = 15.0
#: Greenway vertices within this distance [m] of a street vertex are moved onto it before noding,
#: so a greenway digitised over an existing path merges with it. Project choice (2026-11).
PARKS_GREENWAY_VERTEX_SNAP_M: Final = 1.0
#: A street segment is a greenway edge when at least 80 % of its length lies within this
#: distance [m] of a greenway line (greenways drawn over existing paths). Project choice (2026-11).
PARKS_GREENWAY_MATCH_M: Final = 3.0
PARKS_GREENWAY_MATCH_SHARE: Final = 0.8
#: A greenway passing within this distance [m] of a park links that park. Project choice (2026-11).
PARKS_GREENWAY_PARK_TOUCH_M: Final = 20.0
#: Coordinates are snapped to this grid [m] when the network is noded. Project choice (2026-11).
PARKS_NODE_GRID_M: Final = 0.01
#: Half-width [m] of the band around reachable network pieces that makes a service-area polygon
#: (lateral access from the street to the door). Project choice (2026-11).
PARKS_SERVICE_AREA_BUFFER_M: Final = 50.0
#: Candidate gaps (street connections to turn into greenway) longer than this [m] are ignored.
#: Project choice (2026-11): about 20 minutes' walk, a link a commune can build in one project.
PARKS_GAP_MAX_LENGTH_M: Final = 1500.0

#: OSM ``highway`` values of the walk network; anything else (motorway, trunk, construction,
#: proposed…) is dropped. Source: OpenStreetMap wiki, "Key:highway" (checked 2026-11).
PARKS_WALKABLE_HIGHWAYS: Final = frozenset({
    "primary", "primary_link", "secondary", "secondary_link", "tertiary", "tertiary_link",
    "unclassified", "residential", "living_street", "service", "pedestrian", "track", "road",
    "footway", "path", "cycleway", "steps", "bridleway", "corridor",
})
#: OSM tags of parks and green spaces read from OpenStreetMap files (key -> values).
#: Spoil heaps (terrils): man_made=spoil_heap (and the older landuse=spoil_heap).
#: Source: OpenStreetMap wiki, "Key:leisure", "Key:landuse", "Key:natural",
#: "Tag:man_made=spoil_heap" (checked 2026-11).
PARKS_OSM_GREEN_TAGS: Final[dict[str, frozenset[str]]] = {
    "leisure": frozenset({"park", "nature_reserve", "garden"}),
    "landuse": frozenset({"forest", "recreation_ground", "grass", "spoil_heap"}),
    "natural": frozenset({"wood", "scrub", "heath", "water"}),
    "man_made": frozenset({"spoil_heap"}),
}

# ---------------------------------------------------------------------------
# 4. PV modules, losses, suitability classes  (owner: roofs, geo/roofs/)
# ---------------------------------------------------------------------------

#: Standard module: 1.722 m x 1.134 m, 425 Wp (108 half-cells, the common residential format of
#: 2024-2025; e.g. datasheets of 420-435 Wp modules in that size, efficiency ~21.8 %).
#: Source: manufacturers' datasheets, 2025 (checked 2026-11).
MODULE_LENGTH_M: Final = 1.722
MODULE_WIDTH_M: Final = 1.134
MODULE_PEAK_POWER_WP: Final = 425.0
#: Gap between modules on a roof [m] (clamps). Source: installers' practice (10-20 mm), 2025.
MODULE_GAP_M: Final = 0.02
#: Temperature coefficient of power [1/K]. Source: datasheets of PERC/TOPCon modules
#: (-0.29 to -0.35 %/K), 2025; the conservative end is taken.
MODULE_GAMMA_PDC_PER_K: Final = -0.0034
#: System losses (cables, inverter, soiling, mismatch) applied to DC output, as PVGIS's default.
#: Source: EU JRC, PVGIS 5.3 user manual, "system loss 14 %", 2024 (checked 2026-11).
PV_SYSTEM_LOSS: Final = 0.14
#: Cell temperature model: pvlib.temperature.pvsyst_cell (U = Uc + Uv*wind). Pitched roofs:
#: close-mounted modules with an air duct behind, Uc = 20 W/m²K; racks on flat roofs:
#: free-standing, Uc = 29 W/m²K. Uv = 0. Source: PVsyst 7 user manual, "Array thermal losses"
#: (checked 2026-11).
PV_THERMAL_UC_PITCHED_W_M2K: Final = 20.0
PV_THERMAL_UC_RACK_W_M2K: Final = 29.0
PV_THERMAL_UV_W_M3SK: Final = 0.0
PV_ALPHA_ABSORPTION: Final = 0.9
#: Angle-of-incidence losses: pvlib.iam.physical (Fresnel + absorption in glass, n = 1.526,
#: K = 4 /m, L = 2 mm) for the beam, and its Marion integral for sky and ground diffuse.
#: Source: De Soto et al., Solar Energy 80 (2006) 78-88; Marion, Solar Energy 2017.
PV_IAM_MODEL: Final = "physical"

#: A face is flat below this tilt [°]: toitures-terrasses have 1-5 % slopes (< 3°).
#: Source: NF DTU 43.1 (pente des toitures-terrasses 0-5 %), project threshold (2026-11).
FLAT_ROOF_MAX_TILT_DEG: Final = 5.0
#: Flat roofs: modules in landscape on south-facing ballasted racks. 15° is the usual rack tilt:
#: the energy per m² of ROOF falls with tilt once rows are spaced for the winter sun, and
#: below 10° modules do not self-clean. Source: ballasted flat-roof systems' datasheets
#: (10-15°), 2025; HESPUL, photovoltaique.info, "Toitures-terrasses" (checked 2026-11).
FLAT_ROOF_RACK_TILT_DEG: Final = 15.0
FLAT_ROOF_RACK_AZIMUTH_DEG: Final = 180.0
#: Row spacing rule on flat roofs: no self-shading at solar noon of the winter solstice (the
#: sun elevation is computed with pvlib for the site). The ground-cover ratio is then
#: GCR = L / (L cos β + L sin β / tan h_noon); about 0.54 at Lens (h_noon 16.2°) for β = 15°, L = 1.134 m.
FLAT_ROOF_SPACING_DAY: Final = "12-21"

#: Roof edge setback [m]: no module within this distance of the face's outline (wind edge
#: zones of EN 1991-1-4, access and fire paths). Source: installers' practice 0.3-0.5 m,
#: Qualit'EnR QualiPV training material, 2023 (checked 2026-11).
ROOF_EDGE_SETBACK_M: Final = 0.5
#: Obstacles: DSM pixels standing this much above the face's plane [m] are obstacles
#: (chimneys, dormers, HVAC, raised skylights); modules keep this clearance around them [m].
#: Source: LiDAR HD relative precision on a roof ~0.05 m (IGN, 2024) x 2 (raised skylight frames stand
#: ~0.1 m above the tiles); raised to 4 σ of the DSM noise measured on the roofs. Project choice (2026-11).
OBSTACLE_MIN_HEIGHT_M: Final = 0.1
OBSTACLE_CLEARANCE_M: Final = 0.3
#: Planar regions smaller than this [m²] standing above the roof are obstacles (dormer and HVAC tops).
OBSTACLE_REGION_MAX_M2: Final = 12.0

#: Roof segmentation (region growing on plane fits). Project choices (2026-11), tuned on the
#: generated sample's ground truth and the Athens LiDAR (see tests/test_roofs_segmentation.py).
SEGMENT_NORMAL_TOLERANCE_DEG: Final = 8.0   # a pixel joins a region if its normal is this close
SEGMENT_DISTANCE_TOLERANCE_M: Final = 0.15  # ... and it lies this close to the region's plane
SEGMENT_MERGE_ANGLE_DEG: Final = 4.0        # adjacent regions with planes this close are merged
SEGMENT_MIN_REGION_M2: Final = 1.5          # smaller regions are not faces (ridges, obstacles)
SEGMENT_MIN_FACE_M2: Final = 2.0            # faces smaller than this are dropped
SEGMENT_SUBPIXELS: Final = 4                # face outlines are traced on a 4x finer grid
#: Buildings detected from the DSM when no footprints are given: height above the DTM [m] and
#: minimum area [m²]; pixels of a detected building must be planar (trees are not).
BUILDING_MIN_HEIGHT_M: Final = 2.5
BUILDING_MIN_AREA_M2: Final = 20.0
BUILDING_MAX_PLANE_RMS_M: Final = 0.25
#: BAN address matching: a point inside the footprint, else the nearest within this distance [m].
ADDRESS_MAX_DISTANCE_M: Final = 5.0

#: Suitability classes: the face's annual irradiation on the modules as a share of the best
#: possible plane at the site (optimum tilt and azimuth computed with pvlib for the same
#: weather, unshaded). Source: classes of French solar cadastres ("excellent >= 90 % de
#: l'optimum", e.g. In Sun We Trust / cadastres solaires des métropoles), project thresholds
#: (2026-11). A face also needs SUITABLE_MIN_MODULES modules to be anything but unsuitable.
SUITABILITY_THRESHOLDS: Final[tuple[tuple[str, float], ...]] = (
    ("excellent", 0.90),
    ("bon", 0.80),
    ("moyen", 0.70),
)
SUITABILITY_UNSUITABLE: Final = "inadapté"
SUITABLE_MIN_MODULES: Final = 3
#: Hourly production profiles are shared by faces in orientation bins of this size [°].
PROFILE_TILT_STEP_DEG: Final = 10.0
PROFILE_AZIMUTH_STEP_DEG: Final = 30.0

# ---------------------------------------------------------------------------
# 5. Economics (French tariffs, dated) and CO2  (owner: economics, geo/roofs/economics.py, geo/roofs/loads.py)
# ---------------------------------------------------------------------------
# Every figure below was checked on 2026-11-29 against the stored copy of the web the project's search
# tool holds (docs/economics.md lists them). That copy's newest tariff publications date from January-
# February 2026: the 2026-Q2...Q4 surplus tariffs could NOT be verified and are not in the table.

#: Date of the newest publication the tariff, TRVE and price tables below were checked against
#: (revolution-energetique.com / quechoisir.org, TRVE of 1 February 2026, published 2026-02-01..03).
#: tests/test_economics_config.py fails when PV_TARIFF_QUARTER is more than two quarters older than
#: this date: whoever re-checks the sources and moves this date must add the newer quarters.
ECONOMICS_SOURCES_AS_OF: Final = "2026-02-03"

#: Obligation d'achat of rooftop PV (arrêté "S21" du 6 octobre 2021, modified by the arrêté du 26 mars
#: 2025, JO 27/03/2025): surplus tariff [€/kWh, no VAT] and self-consumption premium [€/kWp], by
#: size band (upper bound [kWp] of the installation's peak power), per tariff quarter. THE QUARTER
#: IS THAT OF THE DATE OF THE COMPLETE GRID-CONNECTION REQUEST (demande complète de raccordement,
#: DCR); since 1 April 2025 tariff quarters are calendar quarters (CRE, "La CRE publie les nouveaux
#: tarifs et primes ... ≤ 500 kW", 2025). The premium is paid in one instalment (arrêté du 8 février
#: 2023; tecsol-quotidien.fr, 2026-01). 100-500 kWp: no open-window tariff since 22 September 2025
#: (appel d'offres simplifié, pv-magazine.fr 2025-10); > 500 kWp: CRE tenders.
PV_TARIFFS: Final[dict[str, dict[str, object]]] = {
    "2025-Q2": {
        "valid_from": "2025-04-01", "valid_to": "2025-06-30",
        "source": "Arrêté du 26 mars 2025 (JO 27/03/2025); CRE, tarifs et primes du 1er avril au 30 juin 2025 "
                  "(citen.fr, brico-watt.com, 2025): surplus 4 c€/kWh (≤ 9 kWc), 7,61 c€/kWh (9-100 kWc); "
                  "primes 80 / 190 / 100 €/kWc",
        "surplus_eur_kwh": ((9.0, 0.0400), (100.0, 0.0761)),
        "premium_eur_kwp": ((9.0, 80.0), (36.0, 190.0), (100.0, 100.0)),
    },
    "2025-Q3": {
        "valid_from": "2025-07-01", "valid_to": "2025-09-30",
        "source": "CRE, tarifs S21 du 3e trimestre 2025 (tecsol-quotidien.fr, 2025-06; Cerfrance, 2025-07): surplus "
                  "4 c€/kWh (≤ 9 kWc), 7,31 c€/kWh (9-100 kWc). Premiums > 9 kWc NOT verified (derived from the "
                  "-11 % announced for 2025-Q4: 180 and 90 €/kWc)",
        "surplus_eur_kwh": ((9.0, 0.0400), (100.0, 0.0731)),
        "premium_eur_kwp": ((9.0, 80.0), (36.0, 180.0), (100.0, 90.0)),
    },
    "2025-Q4": {
        "valid_from": "2025-10-01", "valid_to": "2025-12-31",
        "source": "CRE, tarifs S21 du 4e trimestre 2025 (pv-magazine.fr, 2025-10): surplus 4 c€/kWh (≤ 9 kWc), "
                  "6,17 c€/kWh (9-100 kWc); primes 80 / 160 / 80 €/kWc",
        "surplus_eur_kwh": ((9.0, 0.0400), (100.0, 0.0617)),
        "premium_eur_kwp": ((9.0, 80.0), (36.0, 160.0), (100.0, 80.0)),
    },
    "2026-Q1": {
        "valid_from": "2026-01-01", "valid_to": "2026-03-31",
        "source": "CRE open data, tarifs S21 du 1er trimestre 2026 (tecsol-quotidien.fr and "
                  "revolution-energetique.com, 2026-01-09; kano.energy): surplus 4 c€/kWh (≤ 9 kWc), "
                  "5,36 c€/kWh (9-100 kWc); primes 80 / 140 / 70 €/kWc",
        "surplus_eur_kwh": ((9.0, 0.0400), (100.0, 0.0536)),
        "premium_eur_kwp": ((9.0, 80.0), (36.0, 140.0), (100.0, 70.0)),
    },
}
#: The quarter used by default: the latest one in the table (see ECONOMICS_SOURCES_AS_OF). A later
#: grid-connection request uses it too, and the result says the tariff is the latest verified one.
PV_TARIFF_QUARTER: Final = "2026-Q1"
#: Length of the obligation d'achat contract [yr]. Source: arrêté du 6 octobre 2021, art. 5 (20 ans).
PV_CONTRACT_YEARS: Final = 20
#: Value of the surplus after the contract [€/kWh]: no guaranteed buyer; counted 0 (prudence). A
#: contract with an aggregator would pay a few c€/kWh. Project assumption (2026-11).
PV_POST_CONTRACT_SURPLUS_EUR_KWH: Final = 0.0
#: Installations of 100-500 kWp (appel d'offres simplifié since 22 September 2025) and > 500 kWp (CRE
#: tenders "bâtiment"): no published open-window price. The surplus is valued at the last open-window
#: tariff of the 100-500 kWp band, 0,0886 €/kWh from 1 July 2025 (tecsol-quotidien.fr, 2025-06),
#: as an indication only; tender results were NOT verified.
PV_TENDER_INDICATIVE_EUR_KWH: Final = 0.0886
PV_OPEN_WINDOW_MAX_KWP: Final = 100.0
PV_SIMPLIFIED_TENDER_MAX_KWP: Final = 500.0

#: Retail electricity price saved by each self-consumed kWh: tarif bleu (TRVE) TTC [€/kWh] by option and
#: the date it took effect. Base 3-6 kVA and HP/HC. Source: CRE délibération TRVE of January 2026,
#: prices of 1 February 2026 (revolution-energetique.com 2026-02-01: Base 0,194 €/kWh for 3-6 kVA,
#: 0,1927 for 9-36 kVA; HP 0,2065, HC 0,1579; picbleu.fr: Base 0,1952 -> 0,1940). Grid of 1 August
#: 2025: Base 0,1952, HP 0,2081 (HC not verified). Grid of 1 February 2025: Base 0,2016.
RETAIL_PRICES_EUR_KWH: Final[dict[str, dict[str, float]]] = {
    "2025-02-01": {"base": 0.2016},
    "2025-08-01": {"base": 0.1952, "hp": 0.2081},
    "2026-02-01": {"base": 0.1940, "hp": 0.2065, "hc": 0.1579},
}
RETAIL_PRICE_DATE: Final = "2026-02-01"
#: Yearly escalation of the retail electricity price [1/yr] (default; the panel offers 0-3 %).
#: Project assumption (2026-11): long-run inflation (~2 %); CRE TRVE history 2010-2024 averaged ~3 %/yr.
RETAIL_PRICE_ESCALATION_PER_YEAR: Final = 0.02
#: VAT on the electricity a company saves is recoverable: its saved price is the TTC price / 1.2
#: (approximation: the excise and CTA in it are not VAT). Project assumption.
VAT_ON_ELECTRICITY: Final = 0.20

#: VAT rates on the delivery and installation of PV equipment (equipment and labour alike).
#: 5.5 % (CGI art. 278-0 bis, loi de finances 2025; arrêté du 8 septembre 2025, JO 09/09/2025, CGI
#: annexe IV art. 30-0 E) since 1 October 2025 for installations ≤ 9 kWp in a dwelling completed more than
#: two years ago, when the modules have a carbon footprint < 530 kgCO2e/kWp, < 14 mg/W of silver,
#: < 0.1 % lead, < 0.01 % cadmium (certified), and an energy-management system that collects production
#: and consumption in real time and drives the appliances is installed. Otherwise 20 %. The 10 % rate
#: for ≤ 3 kWp ended on 1 January 2026 (BOFiP of 22 October 2025). Batteries: 20 %. Sources:
#: easytax.co, pv-solaire-energie.com, solaire-en-nord.fr (2025-09/10) quoting the arrêté; checked
#: 2026-11. Companies recover VAT (their costs are counted before VAT).
VAT_REDUCED_RATE: Final = 0.055
VAT_REDUCED_MAX_KWP: Final = 9.0
VAT_NORMAL_RATE: Final = 0.20
VAT_REDUCED_CONDITIONS: Final = (
    "installation ≤ 9 kWc dans un logement achevé depuis plus de deux ans",
    "modules certifiés : bilan carbone < 530 kg CO₂e/kWc, argent < 14 mg/W, plomb < 0,1 %, cadmium < 0,01 %",
    "un gestionnaire d'énergie qui mesure production et consommation et pilote les appareils",
)

#: Installed cost of a rooftop PV system BEFORE VAT [€] = fixed + per-kWp × kWp (a continuous function,
#: no steps). Fit of market prices "clés en main" of early 2026: 3 kWc 6,400 € HT, 6 kWc 10,300 € HT,
#: 9 kWc 13,300 € HT (potentielsolaire.com, "Prix panneaux solaires (2026)", 2026-01-10, T1 2026): a line
#: through 3 and 9 kWc gives 2,950 € + 1,150 €/kWc (6 kWc: 9,850 €, 4 % below the quoted 10,300).
#: With 5.5 % VAT: 2.25 €/Wc at 3 kWc, 1.56 €/Wc at 9 kWc (the issue's 2.0-2.3 and ~1.6 €/Wc TTC).
#: Above 9 kWp the same line (~1,150 €/kWc HT at 36 kWc, ~1,180 at 100) is an upper bound; the per-kWp part
#: falls for large roofs: 36-100 kWc 1,000 €/kWc, > 100 kWc 800 €/kWc HT (project assumption, NOT verified).
INSTALLED_COST_FIXED_EUR_HT: Final = 2950.0
INSTALLED_COST_EUR_PER_KWP_HT: Final[tuple[tuple[float, float], ...]] = (
    (36.0, 1150.0),
    (100.0, 1000.0),
    (float("inf"), 800.0),
)
#: Yearly operation and maintenance (insurance, monitoring, cleaning) as a share of the installed cost
#: before VAT; the inverter replacement is a separate event. Project assumption (2026-11, not verified).
OM_COST_SHARE_PER_YEAR: Final = 0.005
#: Inverter replacement: in year INVERTER_LIFE_YEARS + 1, cost fixed + per kWp before VAT (string or micro
#: inverters last 10-15 years; warranties 10-12 years). Project assumption (2026-11, not verified).
INVERTER_LIFE_YEARS: Final = 12
INVERTER_COST_FIXED_EUR_HT: Final = 500.0
INVERTER_COST_EUR_PER_KWP_HT: Final = 150.0
#: Module degradation [1/yr]. Source: Jordan & Kurtz, "Photovoltaic degradation rates - an analytical
#: review", NREL/JA-5200-51664, 2013 (median 0.5 %/yr).
MODULE_DEGRADATION_PER_YEAR: Final = 0.005
#: Length of the analysis [yr]: the panels' life (default 25; the user picks 20-30), beyond the 20-year
#: contract. Module warranties: 25-30 years of power (manufacturers' datasheets, 2025).
ANALYSIS_YEARS: Final = 25
ANALYSIS_YEARS_RANGE: Final = (20, 30)
#: Discount rate of the net present value [1/yr, nominal]. France Stratégie, "Guide de l'évaluation
#: socioéconomique des investissements publics" (2017): 4.5 % reduced to 2.5 % risk-free + risk premium;
#: a household's alternative (Livret A 2.4 % in 2025, 1.7 % from Feb. 2026) is close. Project choice 3 %.
DISCOUNT_RATE: Final = 0.03
#: Sensitivity band shown as a range: yield ±10 %, escalation 0-3 %/yr, installed cost ±15 % (issue 16).
SENSITIVITY_YIELD: Final = 0.10
SENSITIVITY_ESCALATION: Final = (0.0, 0.03)
SENSITIVITY_COST: Final = 0.15
#: Adviser's verdict: "marginal" when the net gain over the analysis is positive but below this share
#: of the investment. Project choice (2026-11).
MARGINAL_GAIN_SHARE: Final = 0.5

#: Home battery: installed cost TTC at 20 % VAT [€/kWh of usable capacity] (800-1,200 €/kWh installed,
#: potentielsolaire.com "Batteries de stockage solaire", 2026-01-24), round-trip efficiency (LFP
#: datasheets 90-95 %), power [kW per kWh] and life [yr] (replaced once at the same price when the
#: analysis is longer). Project values from these ranges (2026-11).
BATTERY_COST_EUR_PER_KWH_TTC: Final = 1000.0
BATTERY_ROUND_TRIP_EFFICIENCY: Final = 0.90
BATTERY_POWER_KW_PER_KWH: Final = 0.5
BATTERY_LIFE_YEARS: Final = 15
#: Energy-management system / hot-water diverter ("routeur"): this share of each day's consumption is
#: flexible (an electric water heater is ~15-20 % of a household's electricity; ADEME/RTE ElecDom) and is
#: moved into that day's surplus hours; what does not fit stays at night. Project value (2026-11).
EMS_SHIFTABLE_SHARE: Final = 0.15
#: Loan defaults (rate [1/yr], years); 0 years = paid cash. Éco-PTZ does not cover PV. Project defaults.
LOAN_RATE: Final = 0.045
LOAN_YEARS: Final = 0

#: CO2. Gross avoided emissions per kWh produced: ADEME Base Empreinte, "Électricité - 2022 - mix moyen -
#: consommation" (0.052 kgCO2e/kWh, life cycle). ADEME reserves the average mix for GHG inventories
#: (bilans d'émissions); its by-usage factors ("moyenne mensualisée par usage") stopped with 2023 (Base
#: Carbone documentation, "Mix de consommation - par usage", checked 2026-11): the figure is an order of
#: magnitude. Net = gross minus the panels' own life-cycle footprint, 25-44 gCO2e/kWh (European vs
#: Chinese modules, ADEME Base Empreinte photovoltaïque, as quoted in issue 16; NOT re-verified): the
#: conservative 44 g is used.
GRID_CO2_KG_PER_KWH: Final = 0.052
GRID_CO2_METHOD: Final = "ADEME Base Empreinte, électricité 2022, mix moyen de consommation (ACV)"
PV_FOOTPRINT_KG_PER_KWH: Final = 0.044
PV_FOOTPRINT_RANGE_KG_PER_KWH: Final = (0.025, 0.044)

#: Default household: annual electricity use [kWh/yr] of an average residential site, all uses (CRE,
#: Observatoire des marchés de détail: ~4,500 kWh/yr; RTE bilan 2023: 4,255 kWh per household; about a
#: third of households heat with electricity), with the "moyen" profile below, and the size range of
#: household installations [kWp].
HOUSEHOLD_CONSUMPTION_KWH_YR: Final = 4500.0
DEFAULT_LOAD_PROFILE: Final = "moyen"
RECO_KWP_MIN: Final = 3.0
RECO_KWP_MAX: Final = 9.0

#: Load profiles (geo/roofs/loads.py): hourly weights 0-23 h local time for working days and weekends,
#: monthly factors, a French label and the owner it suits. Shapes in the spirit of Enedis's published
#: profiles ("Profils de consommation": RES1 résidentiel base, RES2 HP/HC with electric heating,
#: PRO1 professionnel, ENT tertiaire) - the shapes, not Enedis's coefficient files, which are not in the
#: repository; project simplification (2026-11). "moyen" = 2/3 "sans chauffage électrique" + 1/3
#: "chauffage électrique" (share of households heating with electricity: RTE, ~35 %).
_RES_WD: Final = (0.55, 0.45, 0.40, 0.38, 0.38, 0.45, 0.75, 1.10, 1.05, 0.80, 0.70, 0.75,
                  0.90, 0.85, 0.70, 0.65, 0.75, 1.00, 1.40, 1.65, 1.60, 1.40, 1.10, 0.80)
_RES_WE: Final = (0.60, 0.50, 0.42, 0.40, 0.40, 0.42, 0.50, 0.70, 0.95, 1.10, 1.15, 1.20,
                  1.30, 1.20, 1.05, 0.95, 0.95, 1.10, 1.40, 1.55, 1.50, 1.35, 1.10, 0.85)
_RES_MONTHS: Final = (1.35, 1.25, 1.12, 1.00, 0.90, 0.83, 0.80, 0.82, 0.90, 1.02, 1.18, 1.33)
_HEAT_WD: Final = (1.00, 0.95, 0.95, 0.95, 1.00, 1.10, 1.35, 1.45, 1.25, 0.95, 0.80, 0.80,
                   0.85, 0.80, 0.75, 0.75, 0.85, 1.10, 1.45, 1.60, 1.55, 1.40, 1.25, 1.10)
_HEAT_WE: Final = (1.00, 0.95, 0.95, 0.95, 1.00, 1.05, 1.15, 1.30, 1.30, 1.15, 1.05, 1.05,
                   1.10, 1.00, 0.90, 0.90, 0.95, 1.15, 1.45, 1.55, 1.50, 1.35, 1.20, 1.05)
_HEAT_MONTHS: Final = (2.10, 1.85, 1.50, 1.05, 0.65, 0.45, 0.40, 0.40, 0.50, 0.90, 1.50, 2.00)
_HP_MONTHS: Final = (1.75, 1.60, 1.35, 1.05, 0.80, 0.62, 0.58, 0.58, 0.68, 0.95, 1.35, 1.70)
_EV_WD: Final = (1.10, 1.00, 0.90, 0.80, 0.60, 0.50, 0.75, 1.05, 0.95, 0.70, 0.60, 0.65,
                 0.80, 0.75, 0.60, 0.55, 0.65, 0.95, 1.50, 1.90, 1.95, 1.75, 1.50, 1.25)
_DAY_WD: Final = (0.55, 0.45, 0.40, 0.38, 0.38, 0.42, 0.55, 0.80, 1.00, 1.10, 1.15, 1.25,
                  1.35, 1.25, 1.10, 1.00, 1.00, 1.10, 1.40, 1.55, 1.50, 1.35, 1.10, 0.85)
_TERT_WD: Final = (0.30, 0.30, 0.30, 0.30, 0.30, 0.35, 0.60, 1.20, 1.70, 1.85, 1.90, 1.90,
                   1.80, 1.85, 1.85, 1.80, 1.65, 1.30, 0.80, 0.50, 0.40, 0.35, 0.30, 0.30)
_TERT_WE: Final = (0.30, 0.30, 0.30, 0.30, 0.30, 0.30, 0.30, 0.35, 0.40, 0.45, 0.45, 0.45,
                   0.45, 0.45, 0.45, 0.40, 0.40, 0.35, 0.35, 0.30, 0.30, 0.30, 0.30, 0.30)
LOAD_PROFILES: Final[dict[str, dict[str, object]]] = {
    "moyen": {"label": "foyer moyen (tous usages, chauffage électrique ou non)", "owner": "menage",
              "blend": (("sans_chauffage", 2 / 3), ("chauffage_electrique", 1 / 3))},
    "sans_chauffage": {"label": "foyer sans chauffage électrique", "owner": "menage",
                       "weekday": _RES_WD, "weekend": _RES_WE, "monthly": _RES_MONTHS},
    "chauffage_electrique": {"label": "foyer chauffé à l'électricité (convecteurs)", "owner": "menage",
                             "weekday": _HEAT_WD, "weekend": _HEAT_WE, "monthly": _HEAT_MONTHS},
    "pompe_a_chaleur": {"label": "foyer chauffé par pompe à chaleur", "owner": "menage",
                        "weekday": _HEAT_WD, "weekend": _HEAT_WE, "monthly": _HP_MONTHS},
    "vehicule_electrique": {"label": "foyer avec voiture électrique rechargée à domicile", "owner": "menage",
                            "weekday": _EV_WD, "weekend": _RES_WE, "monthly": _RES_MONTHS},
    "presence_journee": {"label": "foyer présent en journée (télétravail, retraite)", "owner": "menage",
                         "weekday": _DAY_WD, "weekend": _RES_WE, "monthly": _RES_MONTHS},
    "tertiaire": {"label": "entreprise, commerce ou bureaux (jours ouvrés)", "owner": "entreprise",
                  "weekday": _TERT_WD, "weekend": _TERT_WE,
                  "monthly": (1.15, 1.10, 1.05, 0.95, 0.90, 0.95, 1.00, 0.85, 0.95, 1.00, 1.05, 1.10)},
    "ecole": {"label": "école ou équipement public (vacances scolaires creuses)", "owner": "collectivite",
              "weekday": _TERT_WD, "weekend": _TERT_WE,
              "monthly": (1.30, 1.10, 1.15, 0.95, 0.95, 0.90, 0.45, 0.25, 0.95, 1.05, 1.20, 1.15)},
}

#: Non-residential owners. A building is non-residential when its BD TOPO usage_1 is one of these
#: (IGN, "BD TOPO v3 - Descriptif de contenu", 2024), or when its suitable flat roofs exceed
#: NON_RESIDENTIAL_FLAT_ROOF_M2 (project threshold: a house roof is < 200 m²). Public use: collectivité.
NON_RESIDENTIAL_USAGES: Final = {"Commercial et services": "entreprise", "Industriel": "entreprise",
                                 "Agricole": "entreprise", "Sportif": "collectivite", "Religieux": "collectivite"}
NON_RESIDENTIAL_FLAT_ROOF_M2: Final = 300.0
#: Electricity use of a non-residential building when unknown [kWh per m² of footprint per storey per
#: year]: tertiary buildings' specific electricity ~80-120 kWh/m² (ADEME/CEREN order of magnitude, NOT
#: verified). Used only for the self-consumption sizing of a company or public owner.
NON_RESIDENTIAL_KWH_PER_M2_YR: Final = 100.0
NON_RESIDENTIAL_DEFAULT_PROFILE: Final = {"entreprise": "tertiaire", "collectivite": "ecole"}

# ---------------------------------------------------------------------------
# 6. Solar hot water (chauffe-eau solaire individuel, CESI)  (owner: roofs, geo/roofs/hotwater.py)
# ---------------------------------------------------------------------------

#: Household: persons, hot water use [L/person/day] at the tap temperature [°C].
#: Source: ADEME, "Le chauffe-eau solaire", guide 2023 (50 L/pers/jour à 45 °C; 2-4 m² de
#: capteurs pour un foyer) (checked 2026-11).
SWH_PERSONS: Final = 3
SWH_LITRES_PER_PERSON_DAY: Final = 50.0
SWH_HOT_WATER_TEMP_C: Final = 45.0
#: Collector area [m²] per person, bounded to the household range.
SWH_COLLECTOR_M2_PER_PERSON: Final = 1.0
SWH_COLLECTOR_MIN_M2: Final = 2.0
SWH_COLLECTOR_MAX_M2: Final = 4.0
#: Glazed flat-plate collector, linear efficiency η = η0 − a1 (Tm − Ta) / G on the aperture.
#: Source: typical Solar Keymark certificates (EN ISO 9806): η0 0.75-0.80, a1 3.5-4 W/m²K.
SWH_ETA0: Final = 0.78
SWH_A1_W_M2K: Final = 3.8
#: f-chart factors (Duffie & Beckman, "Solar Engineering of Thermal Processes", 4th ed. 2013, §20.3):
#: heat-exchanger factor F_R'/F_R (0.95 for a well-sized exchanger) and monthly-mean incidence-angle
#: factor (τα)/(τα)_n (0.94 for a fixed south-facing collector; §5.10 and the f-chart examples).
SWH_EXCHANGER_FACTOR: Final = 0.95
SWH_INCIDENCE_FACTOR: Final = 0.94
#: Standing heat loss of the solar store [kWh/day]: a 200-300 L tank of ErP class B-C loses 55-80 W
#: (Regulation (EU) 812/2013, energy-label classes of hot-water storage tanks), ~1.5 kWh/day.
SWH_TANK_LOSS_KWH_DAY: Final = 1.5
#: Cold mains water temperature by month [°C], northern France. Source: RT 2012 Th-BCE method,
#: zone H1a (mean ground temperature with a seasonal swing), rounded (checked 2026-11).
SWH_COLD_WATER_TEMP_C: Final[tuple[float, ...]] = (
    7.0, 7.0, 8.0, 10.0, 12.0, 14.0, 15.5, 16.0, 15.0, 13.0, 10.0, 8.0,
)
#: Specific heat of water [kWh/(L·K)] (4.186 kJ/kg/K, 1 kg/L).
WATER_HEAT_KWH_PER_L_K: Final = 4.186 / 3600.0

# ---------------------------------------------------------------------------
# 8. API and map
# ---------------------------------------------------------------------------
# 8a. Layer API (api/): paging, limits, caching, tiles, geocoder. Project choices (2026-11) unless a
# source is given. The map's own constants (base maps...) follow in 8b.

#: OGC API - Features paging of /ogc/collections/{id}/items: default and maximum ``limit``.
#: The standard lets the server cap ``limit`` (OGC 17-069r4 §7.15.3); QGIS pages with ``next`` links.
API_ITEMS_DEFAULT_LIMIT: Final = 100
API_ITEMS_MAX_LIMIT: Final = 1000
#: Largest bounding box accepted by item queries [km²]. The PMA's own extent is ~50 km × 35 km
#: (~1,750 km²); a bbox beyond this is refused with 400 rather than scanning a département.
API_MAX_BBOX_AREA_KM2: Final = 5000.0
#: ``Cache-Control: max-age`` [s] of data responses (layers only change on a rebuild) and of tiles.
API_CACHE_MAX_AGE_S: Final = 600
API_TILE_CACHE_MAX_AGE_S: Final = 86400
#: Responses larger than this [bytes] are gzip-compressed when the client accepts it.
API_GZIP_MIN_BYTES: Final = 1000
#: zlib level of that compression: 1, nginx's default (ngx_http_gzip_module: "Default: gzip_comp_level 1"; its author:
#: "gzip_comp_level 1 is enough", nginx.org/pipermail/nginx/2010-April/020084.html; read 2026-12). On a roof lookup's 7 KB of JSON, in a long-running worker: 27 µs against 37 µs at level 5 (about
#: 3 % of the lookup's server CPU, issue 12), for 11 % more bytes (2.5 KB instead of 2.3 KB).
API_GZIP_LEVEL: Final = 1
#: Largest export of one commune [features] (the largest PMA commune, Lens, has ~15,000 buildings).
API_EXPORT_MAX_FEATURES: Final = 200_000

#: Vector tiles: Web Mercator (OGC WebMercatorQuad), MVT extent [tile units] (MVT spec 2.1 default
#: 4096) and buffer around the tile kept when clipping [tile units] (64 = 1/64 of the tile, as tippecanoe's
#: default 5 px of 256 rounded up: polygons drawn across tile seams show no gap).
TILE_MATRIX_SET: Final = "WebMercatorQuad"
TILE_MVT_EXTENT: Final = 4096
TILE_MVT_BUFFER: Final = 64
#: Zoom range of the tiles. Below a layer's minimum zoom its tiles are empty (204): roof faces are
#: only meaningful from the street scale (z16, as their prebuilt tiles, section 11; buildings below).
TILE_MAX_ZOOM: Final = 22
TILE_MIN_ZOOM: Final[dict[str, int]] = {
    "roof_faces": 16, "buildings": 13, "communes_solar": 0, "parks": 8, "greenways": 8,
    "service_areas": 10, "gaps": 8, "communes_access": 0, "access_cells": 11,
}
#: Largest number of features encoded in one vector tile (beyond, the smallest are dropped).
TILE_MAX_FEATURES: Final = 20_000
#: Encoded vector tiles kept in memory (LRU) [tiles]; ~a few kB each.
TILE_CACHE_SIZE: Final = 4096

#: Raster tiles of the annual irradiation (band 1 of the irradiance mosaic): colour map (rio-tiler name;
#: inferno is perceptually uniform and readable by colour-blind people) and the range it spans
#: [kWh/m²/yr]. In the Artois an optimally tilted south plane receives ~1,150–1,200 kWh/m²/yr
#: (PVGIS-SARAH, Lens area, order of magnitude, checked 2026-11) and steep north faces ~500–600:
#: values are clipped to this range before colouring.
IRRADIATION_COLORMAP: Final = "inferno"
IRRADIATION_RANGE_KWH_M2_YR: Final = (500.0, 1250.0)
IRRADIATION_LEGEND_STOPS: Final = 6
IRRADIATION_TILE_SIZE_PX: Final = 256
#: Raster tiles are served down to this many zoom levels below the COG's minimum zoom (that of its
#: coarsest overview); coarser tiles are empty (204): warping them would read the whole raster.
IRRADIATION_ZOOM_BELOW_MIN: Final = 2

#: Geocoder: candidates returned and minimum score (0–1) kept.
GEOCODE_MAX_RESULTS: Final = 10
GEOCODE_MIN_SCORE: Final = 0.5
#: French street-type and common word abbreviations -> full words, as used in addresses.
#: Source: AFNOR XP Z10-011 (postal address normalisation), table of street-type abbreviations,
#: and La Poste's abbreviation list (checked 2026-11); only the unambiguous ones are kept.
GEOCODE_ABBREVIATIONS: Final[dict[str, str]] = {
    "all": "allee", "av": "avenue", "ave": "avenue", "bd": "boulevard", "bld": "boulevard",
    "blvd": "boulevard", "bvd": "boulevard", "car": "carrefour", "ch": "chemin", "che": "chemin",
    "chem": "chemin", "crs": "cours", "fg": "faubourg", "ham": "hameau",
    "imp": "impasse", "lot": "lotissement", "pl": "place", "pte": "porte",
    "qu": "quai", "r": "rue", "res": "residence", "rpt": "rond point", "rte": "route", "sq": "square",
    "sen": "sentier", "st": "saint", "ste": "sainte", "vla": "villa",
    "gal": "general", "gen": "general", "mal": "marechal", "pdt": "president", "dr": "docteur",
    "prof": "professeur", "cdt": "commandant", "lt": "lieutenant", "cpt": "capitaine",
}

# 8b. The map page (api/map/). Project choices (2026-11) unless a source is given.

#: Online base maps offered by the map (the DEFAULT base map is the offline one drawn from our own
#: layers, so the page works air-gapped and sends no request off the server until a user picks one).
#: IGN Géoplateforme WMTS in the Web Mercator tile matrix set "PM". Source: IGN, "Géoplateforme -
#: services de diffusion WMTS" (data.geopf.fr/wmts GetCapabilities, layers ORTHOIMAGERY.ORTHOPHOTOS
#: (JPEG) and GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2 (PNG), style "normal"), checked 2026-11.
#: OpenStreetMap standard tiles: tile usage policy operations.osmfoundation.org/policies/tiles, 2026-11.
MAP_ONLINE_BASEMAPS: Final[tuple[dict[str, str | int], ...]] = (
    {
        "name": "Photographies aériennes (IGN)",
        "url": "https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        "&LAYER=ORTHOIMAGERY.ORTHOPHOTOS&STYLE=normal&TILEMATRIXSET=PM&FORMAT=image/jpeg"
        "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}",
        "attribution": "© IGN – Géoplateforme",
        "max_zoom": 19,
    },
    {
        "name": "Plan IGN",
        "url": "https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        "&LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2&STYLE=normal&TILEMATRIXSET=PM&FORMAT=image/png"
        "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}",
        "attribution": "© IGN – Géoplateforme",
        "max_zoom": 19,
    },
    {
        "name": "OpenStreetMap",
        "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attribution": "© les contributeurs d'OpenStreetMap",
        "max_zoom": 19,
    },
)
#: Largest zoom of the map; vector and raster overlays are drawn by the API up to TILE_MAX_ZOOM.
MAP_MAX_ZOOM: Final = 20
#: Zoom the map flies to when an address is found (a house fills a good part of the screen).
MAP_ADDRESS_ZOOM: Final = 19
#: Colours of the roof suitability classes (roof_faces.suitability), from ColorBrewer "YlOrRd"
#: (colorbrewer2.org, 4 classes, colour-blind safe), grey for unsuitable roofs.
MAP_SUITABILITY_COLOURS: Final[dict[str, str]] = {
    "excellent": "#e31a1c", "bon": "#fd8d3c", "moyen": "#fecc5c", "inadapté": "#a6a6a6",
}
#: Range of the household consumption a user can enter in the economics panel [kWh/yr] (a small
#: flat uses ~1,500, an all-electric house ~10,000-15,000; CRE, "Observatoire des marchés de détail",
#: 2023). The default shown is HOUSEHOLD_CONSUMPTION_KWH_YR (section 5), the one /api/roof uses.
MAP_CONSUMPTION_MIN_KWH_YR: Final = 500
#: The maximum covers companies and public owners (a school or a supermarket uses 0.1-2 GWh/yr; issue 16).
MAP_CONSUMPTION_MAX_KWH_YR: Final = 10_000_000
#: Walking times offered for a park's service area [min] (10 min is the Chaîne des Parcs standard).
MAP_SERVICE_AREA_MINUTES: Final = (5, 10, 15)

# 8c. The printable roof report (api/report.py, GET /rapport/{building_id}).

#: National France Rénov' number (the public energy-renovation advice service, free service + price of a
#: call), printed in the report's "next steps". Source: ANAH, france-renov.gouv.fr, "Contact" (checked 2026-11).
REPORT_FRANCE_RENOV_PHONE: Final = "0 808 800 700"

# ---------------------------------------------------------------------------
# 9. Sample territory generator (owner: foundation, geo/sample/)
# ---------------------------------------------------------------------------

#: Communes of the sample territory: INSEE code -> (name, postal code, EPCI SIREN, municipal
#: population). Source: INSEE COG 2025 and "populations légales" (population municipale), as in
#: shared/data/real/pma-communes-epci.csv; postal codes from La Poste's base officielle des codes
#: postaux (checked 2026-11).
SAMPLE_COMMUNES: Final[dict[str, tuple[str, str, str, int]]] = {
    "62498": ("Lens", "62300", "246200364", 32697),
    "62528": ("Loos-en-Gohelle", "62750", "246200364", 6850),
}
#: Mean household size used to people the sample's dwellings [persons/household]. Source:
#: INSEE, RP 2021, "taille moyenne des ménages", Pas-de-Calais ≈ 2.3 (checked 2026-11).
SAMPLE_PERSONS_PER_HOUSEHOLD: Final = 2.3
#: Share of poor households (below 60 % of the median standard of living) by kind of housing
#: in the sample: mining cités are much poorer than the average. Order of magnitude from INSEE
#: Filosofi 2019 for Lens (poverty rate ≈ 30 %) (checked 2026-11); a generator choice.
SAMPLE_POOR_SHARE: Final[dict[str, float]] = {"coron": 0.38, "semi": 0.18, "other": 0.25}
#: Fixed time stamp written into the sample's GeoPackages (gpkg_contents.last_change) so that
#: the generator's output is byte-identical from one run to the next.
SAMPLE_GPKG_TIMESTAMP: Final = "2025-01-01T00:00:00.000Z"

# ---------------------------------------------------------------------------
# 10. Data sources (owner: `artois fetch`, geo/io/download.py, geo/io/_http.py)
# ---------------------------------------------------------------------------
# URLs of the public services `artois fetch` downloads the real inputs from. Checked 2026-11
# against each service's documentation (see geo/io/download.py for the pages cited).

#: User-Agent sent with every request (Overpass and Nominatim-style services ask for one that
#: names the application). HTTP headers are ASCII.
FETCH_USER_AGENT: Final = "artois-solaire-parcs/0.1 (open-source solar cadastre, Pole Metropolitain de l'Artois)"
#: HTTP timeout of one request (connect and between two received chunks) [s]; project choice.
FETCH_TIMEOUT_S: Final = 60.0
#: Attempts per request on 429 / 5xx / network errors, and the first back-off delay [s], doubled
#: at each retry (a Retry-After header, when given, wins, capped at FETCH_MAX_BACKOFF_S).
FETCH_ATTEMPTS: Final = 4
FETCH_BACKOFF_S: Final = 2.0
FETCH_MAX_BACKOFF_S: Final = 60.0
#: Largest area `artois fetch` accepts [km²]: each km² is two LiDAR HD tiles (MNS + MNT) of
#: ~10-20 MB each; project choice (a commune such as Lens, ~12 km² of bbox, fits).
FETCH_MAX_AREA_KM2: Final = 36.0
#: Département whose BAN file and communes are fetched for a --bbox (Pas-de-Calais).
FETCH_DEFAULT_DEPARTEMENT: Final = "62"

#: IGN Géoplateforme WFS (BD TOPO v3 and the LiDAR HD tile indexes). Source: IGN, "Géoplateforme -
#: services WFS", https://data.geopf.fr/wfs/ows (GetCapabilities), checked 2026-11.
IGN_WFS_URL: Final = "https://data.geopf.fr/wfs/ows"
#: BD TOPO v3 building layer and the server's largest page (WFS 2.0 COUNT) [features].
BDTOPO_WFS_TYPENAME: Final = "BDTOPO_V3:batiment"
IGN_WFS_PAGE_SIZE: Final = 5000
#: LiDAR HD tile indexes ("tableaux d'assemblage"): one feature per 1 km tile with properties
#: ``name_download`` (LHD_FXX_..._MNS_O_0M50_LAMB93_IGN69.tif) and ``url`` (its GeoTIFF download).
#: Source: IGN, cartes.gouv.fr, "MNS LiDAR HD" / "MNT LiDAR HD" (datasets IGNF_MNS-LIDAR-HD,
#: IGNF_MNT-LIDAR-HD), checked 2026-11.
LIDAR_WFS_TYPENAMES: Final[dict[str, str]] = {"MNS": "IGNF_MNS-LIDAR-HD:dalle", "MNT": "IGNF_MNT-LIDAR-HD:dalle"}
#: Fallback when the index is not used (``use_index=False``): a WMS-R GetMap of one tile as GeoTIFF
#: (2000 x 2000 px of 0.5 m). The tile's pixel centres fall on the 0.5 m grid, so its edges are
#: shifted by half a pixel (xmin = x_km*1000 - 0.25, ymax = y_km*1000 + 0.25). Layers
#: IGNF_LIDAR-HD_{MNS,MNT}_ELEVATION.ELEVATIONGRIDCOVERAGE.LAMB93 of https://data.geopf.fr/wms-r
#: (GetCapabilities, checked 2026-11). A project-maintained template: change it here if IGN does.
LIDAR_WMS_URL_TEMPLATE: Final = (
    "https://data.geopf.fr/wms-r?SERVICE=WMS&VERSION=1.3.0&EXCEPTIONS=text/xml&REQUEST=GetMap"
    "&LAYERS=IGNF_LIDAR-HD_{kind}_ELEVATION.ELEVATIONGRIDCOVERAGE.LAMB93&FORMAT=image/geotiff&STYLES="
    "&CRS=EPSG:2154&BBOX={xmin},{ymin},{xmax},{ymax}&WIDTH=2000&HEIGHT=2000&FILENAME={name}"
)

#: BAN, one gzipped CSV per département. Source: adresse.data.gouv.fr, "Données nationales -
#: BAN, format CSV" (https://adresse.data.gouv.fr/data/ban/adresses/latest/csv/), checked 2026-11.
BAN_CSV_URL_TEMPLATE: Final = "https://adresse.data.gouv.fr/data/ban/adresses/latest/csv/adresses-{dep}.csv.gz"

#: geo.api.gouv.fr "Découpage administratif" API. Source: https://geo.api.gouv.fr/decoupage-administratif
#: (endpoints /communes and /communes/{code}), checked 2026-11.
GEO_API_URL: Final = "https://geo.api.gouv.fr"
GEO_API_COMMUNE_FIELDS: Final = "nom,code,codeEpci,codeDepartement,population"

#: PVGIS API (JRC), TMY tool. Source: JRC, "PVGIS non-interactive service" (API v5.3, the
#: current version; pvlib 0.16's get_pvgis_tmy calls the unversioned https://re.jrc.ec.europa.eu/api/tmy,
#: which serves the latest), checked 2026-11.
PVGIS_API_URL: Final = "https://re.jrc.ec.europa.eu/api/v5_3/"

#: Overpass API (OpenStreetMap). Source: https://wiki.openstreetmap.org/wiki/Overpass_API (main
#: public instance), checked 2026-11. Server-side time limit of one query [s].
OVERPASS_URL: Final = "https://overpass-api.de/api/interpreter"
OVERPASS_TIMEOUT_S: Final = 180

# ---------------------------------------------------------------------------
# 11. Ground PV and APER  (owner: sites, geo/sites/, geo/io/friches.py, geo/io/car_parks.py)
# ---------------------------------------------------------------------------
# Brownfields (friches) and slag heaps (terrils) as ground-mounted PV sites, and outdoor car parks
# under the APER canopy obligation. Laws and prices change: each value cites its text and date.

#: Cartofriches exports follow the CNIG friches standard ("schema-friches" v1.0.1, created
#: 2023-01-11, github.com/cnigfr/schema-friches, checked 2026-11): a ';'-separated CSV whose key is
#: ``site_id``; ``geompoint`` (mandatory) is the WKT centroid in WGS84 and ``geomsurf`` (optional)
#: the WKT perimeter. The standard's own example writes POINT(latitude longitude)
#: ("POINT(49.2527 3.9815)"), so the reader accepts both axis orders (they cannot be confused in
#: metropolitan France). Missing values: "", "NA", "NaN", "N/A" (same source).
CNIG_FRICHES_REQUIRED: Final = ("site_id", "site_nom", "comm_insee", "geompoint")
CNIG_FRICHES_COLUMNS: Final = (
    "site_id", "site_nom", "site_type", "site_statut", "comm_insee", "comm_nom", "activite_libelle",
    "unite_fonciere_surface", "sol_pollution_existe", "bati_patrimoine", "urba_zone_type", "geompoint", "geomsurf",
)
CNIG_MISSING_VALUES: Final = ("", "NA", "NaN", "N/A")
#: Text encodings tried in order on a CSV (UTF-8 with or without BOM, then Windows-1252, the superset
#: of latin-1 that spreadsheet exports on French Windows write).
FRICHES_CSV_ENCODINGS: Final = ("utf-8-sig", "cp1252")
#: Soil pollution values (CNIG ``sol_pollution_existe``) that flag a site "pollution to manage":
#: PV on polluted ground needs a management plan (no excavation, ballasted footings). Same standard.
FRICHES_POLLUTION_FLAG: Final = ("pollution supposée", "pollution avérée", "pollution traitée")
#: Heritage values (CNIG ``bati_patrimoine``) that flag an Architecte des Bâtiments de France review.
FRICHES_HERITAGE_FLAG: Final = ("présence d'un bâtiment d'intérêt", "présence d'un bâtiment classé")
#: A friche known only by its point: usable ground = cadastral surface (``unite_fonciere_surface``)
#: x this share, flagged approximate. Project assumption (2026-11): on the sample's pit-head site the
#: computed usable share is ~0.8 of the perimeter; buildings, access and setbacks take the rest.
FRICHES_POINT_USABLE_SHARE: Final = 0.7

#: Ground PV exclusions. Trees: DSM − DTM above this height [m] outside buildings (a shrub layer
#: under 2 m is cleared at construction). Project choice 2026-11 (same order as BUILDING_MIN_HEIGHT_M).
SITES_TREE_MIN_HEIGHT_M: Final = 2.0
#: Steepest ground kept [°]. Conical slag heaps stand at the schist's angle of repose, 30–35°
#: (the sample's heaps: 32–33°); ground-screw and pile structures are offered up to ~35° by
#: mounting-system makers (datasheets, 2025). Project assumption 2026-11: flank sites keep
#: "earthworks and stability study needed" in their notes.
GROUND_PV_MAX_SLOPE_DEG: Final = 35.0
#: Ground flatter than this [°] takes south-facing racked rows; steeper ground takes rows laid along
#: the slope (modules parallel to the ground, rows along the contour lines). As FLAT_ROOF_MAX_TILT_DEG.
GROUND_PV_FLAT_MAX_SLOPE_DEG: Final = 5.0
#: Setback from the site's perimeter [m] (a perimeter fire track of 4–5 m is asked by the SDIS for
#: ground-mounted plants; e.g. SDIS 59/62 guidance as summarised in the "Guide de l'instruction des
#: demandes d'autorisations d'urbanisme pour les centrales solaires au sol", MTE 2020). Checked 2026-11
#: only through secondary summaries: project value.
GROUND_PV_PERIMETER_SETBACK_M: Final = 5.0
#: Clearance kept around buildings and trees inside a site [m] (access and shading margin). Project choice.
GROUND_PV_OBSTACLE_CLEARANCE_M: Final = 2.0
#: Parts of a site smaller than this [m²] after the exclusions are dropped (no row fits). Project choice.
GROUND_PV_MIN_PART_M2: Final = 50.0
#: Row layout on flat ground: the flat-roof racks (FLAT_ROOF_RACK_TILT_DEG, one landscape module per
#: row, pitch for no self-shading at winter-solstice noon) — the roofs' code lays them out.

#: Installed cost of ground-mounted PV, HT [€/kWp], by band (upper bound [kWp], price). Source: CRE,
#: "État des lieux des appels d'offres PPE2" (update of January 2026: CAPEX of ground PV fell since
#: 2023) and the PPE2 ground-PV candidates' order of magnitude of 0.6–0.9 €/Wc for 1–30 MWp plants;
#: small plants (< 500 kWp) cost more (fixed costs of grid connection and studies). Values noted
#: 2026-11 from secondary summaries of the CRE report; update with the report's tables.
GROUND_PV_COST_EUR_PER_KWP: Final[tuple[tuple[float, float], ...]] = (
    (500.0, 1000.0), (5000.0, 800.0), (float("inf"), 700.0),
)
#: Yearly O&M of ground PV [€/kWp/yr] (maintenance, mowing, insurance, land lease, IFER tax).
#: Order of magnitude of the CRE PPE2 report (2026: rising OPEX); project value 2026-11.
GROUND_PV_OM_EUR_PER_KWP_YR: Final = 20.0
#: Discount rate for the LCOE [1/yr], real. The CRE PPE2 report (January 2026) notes interest rates
#: of 3–4 % in 2025; with equity, a 5 % WACC is taken. Project assumption 2026-11.
SITES_DISCOUNT_RATE: Final = 0.05
#: Economic life for the LCOE [yr] = the 20-year "complément de rémunération" contract of the CRE
#: tenders (cahier des charges PPE2). Degradation: MODULE_DEGRADATION_PER_YEAR (section 5).
SITES_LCOE_YEARS: Final = 20
#: Reference prices of the CRE tenders, to compare the LCOE with [€/MWh], keyed by tender and date.
#: Sources: CRE, deliberation on the 4th period of "PPE2 Neutre" (closed 2025-10-10, 36 ground-PV
#: winners, weighted mean 74.13 €/MWh); the "PPE2 PV Sol" period closed in June 2025 (79.48 €/MWh);
#: the 6th "PPE2 PV Sol" period (closed 2024-08-30, 79.3 €/MWh). Checked 2026-11 (cre.fr news).
CRE_TENDER_PRICES_EUR_MWH: Final[dict[str, tuple[str, float]]] = {
    "PPE2 Neutre P4": ("2025-10-10", 74.13),
    "PPE2 PV Sol P7": ("2025-06", 79.48),
    "PPE2 PV Sol P6": ("2024-08-30", 79.3),
}
#: The tender the sites are compared with by default (ground PV): the latest one.
CRE_TENDER_REFERENCE: Final = "PPE2 Neutre P4"

#: APER car parks: loi n° 2023-175 du 10 mars 2023 relative à l'accélération de la production
#: d'énergies renouvelables, art. 40; décret n° 2024-1023 du 13 novembre 2024 (JO 15 Nov. 2024).
#: Outdoor car parks over 1,500 m² (existing on 1 July 2023) carry, over at least half of their
#: surface, canopies with renewable production on their whole top. Checked 2026-11 (Légifrance notice
#: of the décret; Gide, Adden, QSE-veille summaries). The surface counted (décret art. 1): parking
#: spaces, traffic lanes and manoeuvring areas, pedestrian and cycle accesses within the perimeter
#: between entrances and exits; NOT green areas, rest or logistics areas (handling, unloading, storage).
APER_MIN_AREA_M2: Final = 1500.0
APER_LARGE_AREA_M2: Final = 10000.0
APER_COVER_SHARE: Final = 0.5
#: Deadlines (art. 40, V): 1 July 2026 above 10,000 m², 1 July 2028 from 1,500 to 10,000 m². The
#: loi n° 2023-973 "industrie verte" and décret n° 2024-1104 du 3 décembre 2024 let car parks
#: over 10,000 m² postpone to 1 July 2028 when they use panels meeting that décret's criteria.
APER_DEADLINE_LARGE: Final = "2026-07-01"
APER_DEADLINE_MEDIUM: Final = "2028-07-01"
APER_DEADLINE_LARGE_POSTPONED: Final = "2028-07-01"
#: Exemption: car parks shaded by trees over at least half of their surface (art. 40, III).
APER_TREE_EXEMPT_SHARE: Final = 0.5
#: Canopy: rows of modules over the parking spaces, tilted a little (5–10°) for run-off; the whole
#: covered surface carries modules (loi APER, "sur la totalité de leur partie supérieure"). Modules
#: per m² of canopy: MODULE_PEAK_POWER_WP over the module's area with the gaps (MODULE_GAP_M), i.e.
#: ~210 Wp/m². Tilt, azimuth: project choice 2026-11 (carport makers' datasheets: 5–10°).
CANOPY_TILT_DEG: Final = 7.0
CANOPY_AZIMUTH_DEG: Final = 180.0
#: Installed cost of car-park canopies, HT [€/kWp], by band (upper bound [kWp], price): the steel
#: structure doubles the cost of ground PV. Source: energie-news.fr "Quel est le vrai coût d'une
#: ombrière solaire" (100 kWc: 1,325–2,670 €/kWc); large car parks 1,100–1,400 €/kWc (installers'
#: 2025 offers reported by Le Moniteur, "Les ombrières sur parking, nouvel eldorado", 2024). Checked 2026-11.
CANOPY_COST_EUR_PER_KWP: Final[tuple[tuple[float, float], ...]] = (
    (100.0, 1900.0), (500.0, 1500.0), (float("inf"), 1250.0),
)
CANOPY_OM_EUR_PER_KWP_YR: Final = 20.0

# ---------------------------------------------------------------------------
# Sample defects and footprint reconciliation (issue 13)
# ---------------------------------------------------------------------------
#: Height noise of the sample's DSM [m] (1 σ). Source: IGN, "LiDAR HD – Descriptif de contenu"
#: (v1.0, 2022): altimetric precision of the points ≤ 10 cm RMSE on hard surfaces; 8 cm chosen.
SAMPLE_DSM_NOISE_M: Final = 0.08
#: Footprint offsets: one per roof (a cadastral sheet moves a whole row), Rayleigh length of this
#: scale, capped [m]. Source: IGN, "BD TOPO v3 – Descriptif de contenu" (2023): buildings from the
#: PCI vecteur have a planimetric accuracy of ~0.5-1.5 m; issue 13's field notes (0.5-1.5 m vs
#: LiDAR HD). Project choice (2026-11).
SAMPLE_FOOTPRINT_OFFSET_SCALE_M: Final = 0.45
SAMPLE_FOOTPRINT_OFFSET_MAX_M: Final = 1.0
#: Outer walls of a footprint drawn too far out or in by up to this [m] (cadastre draws the walls,
#: LiDAR sees the roof with its 0.2-0.5 m overhang). Project choice (2026-11).
SAMPLE_FOOTPRINT_SIZE_ERROR_MAX_M: Final = 0.5
#: Share of the sample's buildings without a footprint (recent buildings not yet in BD TOPO) and
#: demolished buildings' footprints added per km². Project choices (2026-11).
SAMPLE_MISSING_FOOTPRINT_SHARE: Final = 0.02
SAMPLE_DEMOLISHED_PER_KM2: Final = 12.0
#: Share of the buildings with a tree overhanging the roof, and with a nodata hole in the roof
#: (glass, wet or dark surfaces without LiDAR return). Project choices (2026-11).
SAMPLE_TREE_OVER_ROOF_SHARE: Final = 0.05
SAMPLE_NODATA_HOLE_SHARE: Final = 0.03
#: Reconciliation of a footprint with the DSM: offsets searched up to this distance [m], the outer
#: walls moved by up to ±this [m] (issue 13: BD TOPO 0.5-1.5 m off the LiDAR). Project choices (2026-11).
RECONCILE_MAX_SHIFT_M: Final = 1.5
RECONCILE_MAX_GROW_M: Final = 0.75
#: A footprint with less than this share of its area on an above-ground roof is not built (any
#: more): it is kept, flagged, and not segmented. Project choice (2026-11).
RECONCILE_MIN_ROOF_SHARE: Final = 0.3
#: Height above the ground [m] from which a planar DSM pixel is roof evidence for the reconciliation:
#: garden sheds and garages have eaves from ~2 m, cars stand ≤ 1.6 m. Project choice (2026-11).
RECONCILE_MIN_HEIGHT_M: Final = 1.8
#: Trees over a roof: blobs standing this much above the face's plane [m], at least this large
#: [m²], not a level plane (plane-fit RMS above [m], or slope above [°]): a crown is a dome; dormer
#: and HVAC tops are flat and level, chimneys < 1 m². Project choices (2026-11), checked on the
#: sample's trees over roofs.
TREE_MIN_ABOVE_ROOF_M: Final = 1.0
TREE_MIN_AREA_M2: Final = 2.0
TREE_MIN_PLANE_RMS_M: Final = 0.25
TREE_MIN_SLOPE_DEG: Final = 15.0
#: Terraced rows in the sample's DSM (the generator gives a row one continuous roof): share of the
#: houses whose roof steps 0.1-0.3 m from the previous one's, and of the party walls rising above
#: the roofs. Project choices (2026-11) after the corons of the Lens area, built and re-roofed house
#: by house (steps of the ridge and eaves, brick party walls above the tiles are common).
SAMPLE_ROW_STEP_SHARE: Final = 0.6
SAMPLE_PARTY_WALL_SHARE: Final = 0.5
#: Splitting terraced rows without footprints (geo/roofs/rows.py): a party wall is a bump of the
#: roof's residual profile ≥ ROW_WALL_MIN_M [m] and ≤ ROW_WALL_MAX_WIDTH_M [m] wide; a step a jump
#: ≥ ROW_STEP_MIN_M [m] between medians over ROW_STEP_WINDOW_M [m]; both ≥ ROW_MIN_SIGMAS standard
#: errors; houses ≥ ROW_MIN_HOUSE_M [m] long (corons: 5-8 m). Project choices (2026-11).
ROW_WALL_MIN_M: Final = 0.12
ROW_WALL_MAX_WIDTH_M: Final = 1.0
ROW_STEP_MIN_M: Final = 0.07
ROW_STEP_WINDOW_M: Final = 2.0
ROW_MIN_SIGMAS: Final = 5.0
ROW_MIN_HOUSE_M: Final = 3.5
#: Rows are terraced houses one dwelling deep: a blob deeper than this (blocks of flats, courtyard
#: blocks, sheds) is not cut into houses along its long axis [m]. Corons and town houses are 6-12 m deep.
#: Project choice (2026-11).
ROW_MAX_DEPTH_M: Final = 16.0
#: A terraced row is built with houses of one width (corons: one plan repeated along the street):
#: when ≥ ROW_MODULE_MIN_CUTS cuts all fall on the boundaries of n equal houses (each within
#: ROW_MODULE_MAX_ERROR x w of its own boundary, median within ROW_MODULE_MEDIAN_ERROR x w, w the
#: house width ≤ ROW_MODULE_MAX_M [m]), the row is cut into those n houses. Project choices
#: (2026-11), after the cités of the Lens mining basin (one plan per row) and the cut errors seen on
#: the sample (chimneys and dormers beside party walls move a cut by up to ~1 m for 6 m houses).
ROW_MODULE_MIN_CUTS: Final = 2
ROW_MODULE_MAX_ERROR: Final = 0.25
ROW_MODULE_MEDIAN_ERROR: Final = 0.12
ROW_MODULE_MAX_M: Final = 12.0
#: Buildings detected without footprints: height above the DTM [m] and minimum area [m²]. Garages
#: and garden sheds (BD TOPO 'Annexe', eaves from ~2.2 m, 15-20 m²) are buildings; cars stand
#: ≤ 1.6 m and trees are rough (BUILDING_MAX_PLANE_RMS_M). Project choices (2026-11).
DETECT_MIN_HEIGHT_M: Final = 2.0
DETECT_MIN_AREA_M2: Final = 12.0
#: Cutting detected buildings along cadastral parcels: a building crossing parcel boundaries is cut
#: when each of at least two pieces covers this much [m²] (a plausible dwelling; smaller pieces are
#: overhangs or parcel-drawing offsets). Project choice (2026-11), issue 13.
PARCEL_MIN_PIECE_M2: Final = 20.0

# ---------------------------------------------------------------------------
# 13. Real-data readers and `artois fetch` fixes (owner: i13-readers; geo/io/weather.py,
#     geo/io/rasters.py, geo/io/buildings.py, geo/io/download.py)
# ---------------------------------------------------------------------------

#: Year a typical meteorological year (TMY, TMYx, PVGIS TMY: each month from its own year) is put
#: in so that its hours make one continuous series: 1990, not leap, as pvlib's ``get_pvgis_tmy``
#: (``coerce_year=1990``, pvlib 0.13+) does; a typical year that has 29 February goes into 2000
#: (leap). The year only labels the stamps: the sun is computed on the same month, day and hour.
TYPICAL_YEAR: Final = 1990
TYPICAL_LEAP_YEAR: Final = 2000

#: Largest relative difference between a raster's pixel width and height that is still read
#: (0.1 %). A DSM reprojected by gdalwarp gets the pixel size that covers the source extent on
#: each axis separately, so x and y differ by a few 0.01 % (2.5021 x 2.5024 m is 0.012 %); such a
#: grid is resampled onto square pixels of its width (nearest neighbour: each value moves by at
#: most half a pixel), with a log line. A larger difference is a grid that is not square by
#: design (e.g. 0.5 x 1 m): refused, with the advice to resample it (gdalwarp -tr X X) first.
RASTER_SQUARE_PIXEL_TOLERANCE: Final = 1e-3
#: Decoded raster files kept per process for the haloed DSM reads of the irradiance tiles (LRU,
#: :func:`geo.io.rasters.read_raster` with ``cache=True``) [MB]: a tile with a 1 km halo reads 3 x 3
#: whole 1 km LiDAR HD files (2000 x 2000 float32 + mask = 20 MB each), and its row neighbour 6 of
#: them again; 240 MB holds 12 files, so a worker running tiles row by row decodes a file once per
#: row of tiles reading it whole (3) instead of once per tile (9) (5x5 sample, 2026-12-03). 0 = off.
RASTER_DECODED_CACHE_MB: Final = 240
#: Only a file read over at least this fraction of its pixels is decoded whole and cached (the
#: halo's thin strips of the outer ring of files are read as windows, uncached).
RASTER_DECODED_CACHE_MIN_FRACTION: Final = 0.5

#: Client read time-out of an Overpass query [s]: the server's own limit (OVERPASS_TIMEOUT_S) plus
#: a margin for queueing and transfer, so the client never gives up before the server does (osmnx
#: uses one value for both). A query that times out is not sent again (it would time out again).
OVERPASS_READ_TIMEOUT_S: Final = OVERPASS_TIMEOUT_S + 60

#: Stable sort keys of the WFS layers, sent as SORTBY so that STARTINDEX/COUNT pages neither skip
#: nor repeat features (WFS 2.0 paging has no defined order without it; GeoServer adds the primary
#: key only when it can). BD TOPO ``cleabs``; LiDAR HD tile indexes ``name`` (DescribeFeatureType of
#: IGNF_MNS-LIDAR-HD:dalle: id, name, url, name_download, …), checked 2026-11.
WFS_SORT_KEYS: Final[dict[str, str]] = {
    "BDTOPO_V3:batiment": "cleabs",
    "IGNF_MNS-LIDAR-HD:dalle": "name",
    "IGNF_MNT-LIDAR-HD:dalle": "name",
}

#: Cadastre (DGFiP PCI vecteur, Etalab GeoJSON export), one gzipped GeoJSON per commune and layer;
#: layer ``batiments`` has ``id``, ``commune``, ``nom``, ``type`` ("01" bâti dur, "02" bâti léger),
#: ``created``, ``updated``, in WGS84. Source: https://cadastre.data.gouv.fr/datasets/cadastre-etalab
#: (URL pattern …/latest/geojson/communes/{dep}/{insee}/cadastre-{insee}-{layer}.json.gz, as other clients
#: use it: by commune for ``parcelles``, by département for ``batiments``), checked 2026-11.
CADASTRE_URL_TEMPLATE: Final = (
    "https://cadastre.data.gouv.fr/data/etalab-cadastre/latest/geojson/communes/{dep}/{insee}/"
    "cadastre-{insee}-batiments.json.gz"
)
#: Cadastre building ``type`` -> BD TOPO ``usage_1``: "02" bâti léger (sheds, lean-tos,
#: greenhouses) is an annex; "01" bâti dur says nothing about the use.
CADASTRE_TYPE_USAGE: Final[dict[str, str]] = {"01": "Indifférencié", "02": "Annexe"}
#: Footprint sources `artois fetch --footprints` accepts.
FETCH_FOOTPRINT_SOURCES: Final = ("bdtopo", "cadastre")

# ---------------------------------------------------------------------------------------------------
# Adviser and planner workflows (issue 15): batch lookups, scenarios, statistics page
# ---------------------------------------------------------------------------------------------------

#: Batch address lookups (api/batch.py: ``artois solar lookup``, ``POST /api/lookup``). Project choices
#: (2026-11), tuned on the sample's BAN: an address is accepted from this geocoder score (0–1; exact
#: addresses score 1, one typo per word ~0.9, an unrelated street of the same commune < 0.7)…
LOOKUP_MIN_SCORE: Final = 0.75
#: …and is ambiguous when another, different address scores within this margin of the best.
LOOKUP_AMBIGUITY_MARGIN: Final = 0.03
#: Candidates examined (and listed for an ambiguous address).
LOOKUP_CANDIDATES: Final = 5
#: A BAN point is usually on the façade or in the front garden: the building is the one containing it,
#: else the nearest within this distance [m].
LOOKUP_BUILDING_MAX_DISTANCE_M: Final = 25.0
#: Addresses per ``POST /api/lookup`` request (the CLI has no limit).
LOOKUP_MAX_ADDRESSES: Final = 2000
#: Planner scenarios (geo/parks/scenario.py): a point of a drawn path is attached to the network node, else
#: the edge, within this distance [m] (the greenway snapping distance, PARKS_GREENWAY_SNAP_M)…
PARKS_SCENARIO_SNAP_M: Final = 15.0
#: …and a drawn path is at most this long [m] (a planner's link, not a network; bounds the request's work).
PARKS_SCENARIO_MAX_LENGTH_M: Final = 10_000.0

# ---------------------------------------------------------------------------
# 11. Serving the whole territory (owner: prebuilt tiles geo/tiles.py, address index api/geocoder.py)
# ---------------------------------------------------------------------------
# Project choices (2026-11). Targets of issue 12 at ~170,000 buildings: a z16 roof-face tile < 50 KB,
# served in < 100 ms cold.

#: Zooms (min, max) of each collection's archive (the build product geo/products/tiles.py). Roof faces from
#: z16 (a building is ~10 px wide at z16), buildings below them (z13-15), commune totals at the scale of the
#: territory. Beyond the maximum, the map over-zooms the last archived tile (its 4096 units are 4 cm at z18)
#: and the API encodes a tile live.
TILE_ARCHIVE_ZOOMS: Final[dict[str, tuple[int, int]]] = {
    "roof_faces": (16, 18), "buildings": (13, 16), "communes_solar": (6, 14),
    "parks": (8, 17), "greenways": (8, 17), "service_areas": (10, 16), "gaps": (8, 17),
    "communes_access": (6, 14), "access_cells": (11, 16), "entrances": (14, 17),
}
#: A layer whose tiles depend only on the features that meet them (geo/products/tiles.py ``partitioned``) is
#: tiled in blocks of tiles of about this many features, one tippecanoe run each, side by side on a cluster's
#: workers, the archives then merged: tippecanoe's time grows faster than its input (the 5x5 sample's 34,302 roof
#: faces: 6.5 s in one single-threaded run, 5.2 s in two halves, 5.1 s in four quarters; measured 2026-12-04),
#: and the Pôle's ~1 M faces in one run would be the longest task of the build.
TILE_PART_FEATURES: Final = 10_000
#: How far beyond its block a part's features are taken [tiles of the block's zoom]: above tippecanoe's buffer
#: around each tile (its default, 5 px of 256: 0.02 tile), so that a tile of the block sees every feature
#: it would see in a whole run.
TILE_PART_MARGIN_TILES: Final = 0.125
#: How far a misspelt query word may be from a word of the address index (geo/products/addresses.py) to be
#: corrected to it (rapidfuzz ``ratio``, 0-100).
GEOCODE_TYPO_MIN_RATIO: Final = 75.0
#: Streets re-ranked with the full scoring after the FTS5 pre-selection (bm25 order).
GEOCODE_FTS_CANDIDATES: Final = 60

# ---------------------------------------------------------------------------
# 11. The build's worker processes (geo/pipeline.py)
# ---------------------------------------------------------------------------
#: glibc malloc settings of the processes that run build tasks (mallopt(3), glibc 2.36; the
#: ``MALLOC_*_`` environment variables of the same names). An irradiance tile allocates a dozen arrays
#: of 16-150 MB: with glibc's defaults in a thread (dask runs tasks in a worker thread, whose arena
#: cannot hold them) and dask's own ``MALLOC_TRIM_THRESHOLD_=65536``, each is mmap'ed and returned at
#: every tile, so the 2-worker irradiance of the 5x5 sample spent 35 s of its 107 CPU-s in page faults.
#: One arena, big blocks from the heap and a high trim threshold keep the memory for the next tile:
#: 2 workers 56.7 → 43.5 s wall, sys 35 → 9 s; 1 worker (in-process) 68 → 62 s (measured 2026-12-03,
#: 2-core CI-class machine). The peak resident memory of a worker is unchanged (it keeps its peak).
#: The main process of a cluster build (roofs plan, assembly) takes the same settings: 2-worker builds of
#: the 5x5 sample, alternately, 105.8 / 105.9 / 106.1 s without, 98.6 / 104.2 / 105.6 s with; its page faults
#: 166,000 → 130,000 and the assembly 1.3-1.9 → 1.2-1.5 s (measured 2026-12-04, same machine).
WORKER_MALLOC_ARENA_MAX: Final = 1
#: Allocations above this size [bytes] are mmap'ed (and unmapped when freed): above any array of a tile.
WORKER_MALLOC_MMAP_THRESHOLD_BYTES: Final = 1 << 30
#: Free memory at the top of the heap above this size [bytes] is returned to the system.
WORKER_MALLOC_TRIM_THRESHOLD_BYTES: Final = 2 << 30
#: Whether numpy asks for transparent huge pages (``madvise(MADV_HUGEPAGE)``) for its arrays of 4 MB or more,
#: as it does by default (``NUMPY_MADVISE_HUGEPAGE``): not in the processes that run build tasks. A huge
#: page needs 2 MB of contiguous free memory; on a virtual machine whose balloon reports free memory to the
#: host (virtio-balloon free page reporting, which reports free blocks of that size), such memory is returned
#: to the host, and the first touch of each huge page is a fault on the host as well. A fresh process's first
#: irradiance tile of the 5x5 sample took 15.1 / 15.1 s with them (10.2 / 10.4 s of system time) and
#: 4.5 / 4.6 s without (0.7 / 0.8 s); 1.44 GB of numpy arrays were first touched in 0.5-0.75 s with small
#: pages, 4.3-11.9 s with huge ones, depending on what the host had reclaimed (0.4 s right after another
#: process had freed the same memory). Warm tiles: 2.72-2.81, 3.58-3.96 and 1.81-1.84 s either way (the
#: horizon's random reads miss the TLB more with small pages, a few per cent on some tiles). Measured
#: 2026-12-04, 2-core CI-class Firecracker VM, kernel THP ``enabled=madvise``, ``defrag=madvise``.
WORKER_NUMPY_HUGE_PAGES: Final = False
#: dask.distributed settings of the build's LocalCluster (``dask.config`` keys; a ``DASK_*`` environment
#: variable of the same key wins). Each worker runs its tasks in a thread beside an event loop whose periodic
#: callbacks take the GIL from the task: the loop's health check every 20 ms (``admin.tick.interval``), the
#: memory monitor every 100 ms, the system monitor every 500 ms and the statistical profiler sampling every
#: thread's stack every 10 ms (for the dashboard's Profile page). The 5x5 sample's 25 roofs groups, split
#: in two fixed halves, one per worker: 31.0 / 31.1 s in two dask workers with the defaults (profiler off),
#: 28.3 / 28.8 s with these, 27.7 / 28.5 s in two plain processes; the profiler alone cost the 2-worker
#: irradiance 6 s of system time (measured 2026-12-04, 2-core CI-class machine).
WORKER_DASK_CONFIG: Final[dict[str, object]] = {
    # Work stealing off: it would move the irradiance tiles off the worker whose band they are in
    # (SPREAD_BOUND_FRACTION); tasks wait on the scheduler until a worker is free, which balances them.
    "distributed.scheduler.work-stealing": False,
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
}
#: Tiles in spatial order on a cluster of N workers (geo.pipeline, ``spread``): the territory is cut into N
#: bands of tiles and this share of each band, its head, is given to one worker, which thus reads neighbouring
#: DSM files one after the other and keeps them decoded (geo.io.rasters); the rest, the tails, go to whichever
#: worker is free first. The 5x5 sample's irradiance in two processes: 36 s with the tiles dealt alternately
#: (each worker decodes most DSM files), 31 s in two bands of rows (measured 2026-12-04, 2-core machine).
SPREAD_BOUND_FRACTION: Final = 0.8
