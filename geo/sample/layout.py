"""Where things are in the sample territory: two hand-drawn layouts at real Lens coordinates.

* ``small``: a 500 m x 500 m "cité" (x 685,000–685,500, y 7,037,500–7,038,000), the
  upper-left quarter of IGN tile 0685_7038: a 70 m slag heap in its park, miners' terraced
  rows (corons) north of it in its winter shadow, rows with north-south and diagonal ridges,
  semi-detached pairs with hip roofs, a flat-roofed school and its gym, an industrial shed, a
  lake in a second park and an old railway embankment (cavalier) linking the two parks.
* ``default``: 2 km x 1 km (x 684,000–686,000, y 7,037,000–7,038,000, tiles 0684_7038 and
  0685_7038). It contains the same cité at the same place, plus the twin slag heaps of a
  "Base 11/19" (120 m and 95 m) in Loos-en-Gohelle with their cités, the Canal de Lens with
  its towpath and riverside park, a supermarket, two industrial sheds, a church, more rows
  and a second cavalier linking the Base 11/19 to the canal park.

Coordinates below are local to a block (metres from its south-west corner) and turned into
Lambert-93 by adding the block origin. Random choices (roof tilts, eave heights, chimneys,
dormers, trees…) all come from the builder's numpy Generator, so a seed fixes everything.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from shapely.geometry import LineString, Polygon, box
from shapely.geometry.base import BaseGeometry

from geo.sample.geometry import Embankment, Terrain, Terril, Water
from geo.sample.scene import Greenway, Scene, SceneBuilder, Stop
from geo.sample.sites import add_site_objects
from geo.types import Bounds

#: Areas of the two variants (xmin, ymin, xmax, ymax) [m], Lambert-93.
SMALL_BOUNDS: Bounds = (685_000.0, 7_037_500.0, 685_500.0, 7_038_000.0)
DEFAULT_BOUNDS: Bounds = (684_000.0, 7_037_000.0, 686_000.0, 7_038_000.0)

#: Boundary between Loos-en-Gohelle (west) and Lens (east), synthetic, Lambert-93 [m].
COMMUNE_BOUNDARY: tuple[tuple[float, float], ...] = (
    (684_650.0, 7_035_800.0), (684_900.0, 7_037_100.0), (685_150.0, 7_037_600.0),
    (685_250.0, 7_038_000.0), (685_300.0, 7_039_300.0),
)

XY = tuple[float, float]


def _terrain_base() -> Terrain:
    """Gentle relief of the Gohelle plain: ~42 m at the origin, rising to the north-west."""
    return Terrain(
        base_m=42.0,
        gradient=(-0.004, 0.003),
        origin=(684_000.0, 7_037_000.0),
        waves=(
            (2.5, 2300.0, 0.6, 0.3),
            (1.5, 1100.0, 2.1, 1.7),
            (0.8, 600.0, -0.9, 4.0),
        ),
    )


def _lake_polygon(cx: float, cy: float, rx: float, ry: float, rng: np.random.Generator) -> Polygon:
    p1, p2 = rng.uniform(0, 2 * math.pi, 2)
    theta = np.linspace(0, 2 * math.pi, 73)[:-1]
    r = 1 + 0.08 * np.sin(2 * theta + p1) + 0.05 * np.sin(3 * theta + p2)
    return Polygon(np.round(np.column_stack([cx + rx * r * np.cos(theta), cy + ry * r * np.sin(theta)]), 2))


def _lake_arc(poly: Polygon, cx: float, cy: float, offset: float) -> list[XY]:
    """A towpath along the northern shore of a lake, ``offset`` m from the water, west to east."""
    ring = poly.exterior.coords[:-1]
    pts = []
    for x, y in ring:
        ang = math.atan2(y - cy, x - cx)
        if 0.05 * math.pi <= ang <= 0.95 * math.pi:
            r = math.hypot(x - cx, y - cy)
            pts.append((ang, cx + (r + offset) * math.cos(ang), cy + (r + offset) * math.sin(ang)))
    pts.sort(key=lambda p: -p[0])  # from the west (angle near pi) to the east
    return [(round(x, 2), round(y, 2)) for _, x, y in pts]


def _level(terrain: Terrain, poly: Polygon, depth: float) -> float:
    xs, ys = np.asarray(poly.exterior.coords).T
    return round(float(terrain.natural(xs, ys).min()) - depth, 2)


def rows_along(
    b: SceneBuilder,
    p0: XY,
    az_deg: float,
    s0: float,
    s1: float,
    offset: float,
    *,
    street: str,
    first_number: int,
    n_range: tuple[int, int] = (5, 8),
    gap: float = 6.0,
    house_w: float = 6.0,
    kind: str = "gable",
    avoid: Sequence[tuple[float, float]] = (),
    semi: bool = False,
) -> int:
    """Fill a street side with groups of terraced houses (or semi-detached pairs).

    The street runs from ``p0`` towards ``az_deg``; groups are centred ``offset`` m to its right
    (negative: left) between distances ``s0`` and ``s1`` along it, skipping the ``avoid``
    intervals (cross streets, footpaths). Houses are numbered from ``first_number`` by 2 along
    the street. Returns the next free number.
    """
    a = math.radians(az_deg)
    eu, ev = (math.sin(a), math.cos(a)), (math.cos(a), -math.sin(a))
    front = -1 if offset > 0 else 1
    number = first_number
    s = s0
    n_min = 2 if semi else 3
    while s < s1:
        inside = [hi for lo, hi in avoid if lo <= s < hi]
        if inside:
            s = max(inside)
            continue
        if semi:
            n, w = 2, float(round(b.rng.uniform(7.5, 9.0), 1))
        else:
            n, w = int(b.rng.integers(n_range[0], n_range[1] + 1)), house_w
        ahead = [(lo, hi) for lo, hi in avoid if lo >= s]
        limit = min([s1, *(lo for lo, _ in ahead)])
        while n > n_min and s + n * w > limit:
            n -= 1
        length = n * w
        if s + length > limit:
            if limit >= s1:
                break
            s = min(hi for lo, hi in ahead if lo == limit)
            continue
        c = s + length / 2
        cx = p0[0] + c * eu[0] + offset * ev[0]
        cy = p0[1] + c * eu[1] + offset * ev[1]
        if semi:
            b.semi_pair(cx, cy, az_deg, house_w=w, front=front, street=street, first_number=number)
        else:
            b.house_row(cx, cy, az_deg, n, kind=kind, house_w=w, front=front, street=street,
                        first_number=number)
        number += 2 * n
        s += length + gap
    return number


# ---------------------------------------------------------------------------
# The cité (the small variant, also part of the default one)
# ---------------------------------------------------------------------------


def cite_des_cytises(b: SceneBuilder, ox: float, oy: float) -> dict[str, object]:
    """Terrain features of the 500 m cité with south-west corner (ox, oy)."""
    def P(x: float, y: float) -> XY:
        return (ox + x, oy + y)

    terril = Terril("Terril des Cytises", *P(130.0, 140.0), height_m=70.0, top_radius_m=8.0, slope_deg=33.0)
    lake_poly = _lake_polygon(*P(420.0, 95.0), 62.0, 45.0, b.rng)
    cavalier = Embankment("Cavalier des Cytises", (P(255, 205), P(300, 196), P(345, 165)))
    return {"terril": terril, "lake": lake_poly, "cavalier": cavalier}


def cite_des_cytises_objects(b: SceneBuilder, ox: float, oy: float, lake_poly: Polygon) -> None:
    """Buildings, parks, streets and trees of the 500 m cité with south-west corner (ox, oy)."""
    def P(x: float, y: float) -> XY:
        return (ox + x, oy + y)

    def Ps(*pts: XY) -> list[XY]:
        return [P(x, y) for x, y in pts]

    # Parks and the network first (trees keep clear of the roads).
    p1 = b.park("Parc des Cytises", "Parc des Cytises", Ps((0, 0), (275, 0), (275, 175), (262, 272), (0, 272)))
    p2 = b.park("Lac Bleu", "Lac Bleu", Ps((330, 0), (500, 0), (500, 190), (330, 190)))
    lake_c = P(420.0, 95.0)
    towpath = _lake_arc(lake_poly, *lake_c, 6.0)
    b.way("secondary", "Boulevard Basly", Ps((0, 280), (500, 280)))
    b.way("residential", "Rue Émile Zola", Ps((0, 341), (290, 341)))
    b.way("residential", "Rue Voltaire", Ps((0, 403), (290, 403)))
    b.way("residential", "Rue Pasteur", Ps((0, 480), (290, 480)))
    b.way("tertiary", "Rue Jean Jaurès", Ps((290, 280), (290, 500)))
    b.way("tertiary", "Avenue Raoul Briquet", Ps((330, 280), (500, 450)))
    b.way("residential", "Rue de la Gare", Ps((290, 440), (490, 440)))
    b.way("residential", "Rue de l'Industrie", Ps((300, 280), (300, 256)))
    b.way("footway", "Sente du Coron", Ps((63, 280), (63, 480)))
    b.way("footway", "", Ps((150, 280), (150, 262)))
    b.way("path", "Sentier du terril des Cytises", Ps((150, 262), (140, 200), (130, 148)))
    b.way("path", "", Ps((200, 280), (215, 230), (255, 205)))
    b.way("cycleway", "Cavalier des Cytises", Ps((255, 205), (300, 196), (345, 165)))
    b.way("footway", "Allée du Lac", [*Ps((340, 280), (345, 165)), towpath[0]])
    b.way("path", "Chemin du Lac Bleu", towpath)
    b.way("footway", "", Ps((400, 280), (400, 226)))
    b.greenways.append(Greenway("Cavalier des Cytises", "cavalier", tuple(Ps((255, 205), (300, 196), (345, 165)))))
    b.greenways.append(Greenway("Chemin du Lac Bleu", "chemin_de_halage", tuple(towpath)))
    b.stops.append(Stop("Cité des Cytises", "B1", *P(120, 277)))
    b.stops.append(Stop("Lac Bleu", "B1", *P(420, 277)))

    # School, gym and shed south of the boulevard.
    b.flat_building(*P(410, 214), 90.0, 64.0, 15.0, eave_h=9.5, usage="Commercial et services",
                    category="school", floors=2, n_hvac=3, street="Boulevard Basly", number=2, front=-1)
    b.flat_building(*P(460, 248), 0.0, 30.0, 22.0, eave_h=10.5, usage="Sportif", category="gym", floors=1,
                    n_hvac=1)
    b.shed_building(*P(300, 236), 90.0, 46.0, 28.0, eave_h=6.0, tilt_deg=7.0, street="Rue de l'Industrie",
                    number=1, front=-1, n_skylights=3)

    # Corons with east-west ridges (south/north faces), west of Rue Jean Jaurès.
    gap_sente = [(58.0, 68.0)]
    e = 90.0
    rows_along(b, P(0, 280), e, 12, 224, -10.5, street="Boulevard Basly", first_number=1, avoid=gap_sente,
               n_range=(6, 8))
    rows_along(b, P(0, 341), e, 12, 224, 10.5, street="Rue Émile Zola", first_number=2, avoid=gap_sente,
               n_range=(6, 8))
    rows_along(b, P(0, 341), e, 12, 224, -10.5, street="Rue Émile Zola", first_number=1, avoid=gap_sente,
               n_range=(6, 8))
    rows_along(b, P(0, 403), e, 12, 224, 10.5, street="Rue Voltaire", first_number=2, avoid=gap_sente,
               n_range=(6, 8))
    rows_along(b, P(0, 403), e, 12, 230, -10.5, street="Rue Voltaire", first_number=1, avoid=gap_sente,
               semi=True, gap=10.0)
    rows_along(b, P(0, 480), e, 15, 262, 10.5, street="Rue Pasteur", first_number=2, avoid=gap_sente,
               kind="hip", n_range=(5, 6), gap=10.0)
    # Corons with north-south ridges (east/west faces) along Rue Jean Jaurès.
    n = 0.0
    rows_along(b, P(290, 280), n, 6, 214, -10.5, street="Rue Jean Jaurès", first_number=1,
               avoid=[(55, 67), (117, 129), (194, 206)], n_range=(7, 8))
    rows_along(b, P(290, 280), n, 6, 214, 10.5, street="Rue Jean Jaurès", first_number=2,
               avoid=[(154, 166)], n_range=(6, 8))
    # Diagonal rows (ridge at 45°: faces to the south-east and north-west) on Avenue Raoul Briquet.
    rows_along(b, P(330, 280), 45.0, 35, 205, 15.5, street="Avenue Raoul Briquet", first_number=2,
               n_range=(4, 5), gap=8.0)
    rows_along(b, P(330, 280), 45.0, 35, 190, -15.5, street="Avenue Raoul Briquet", first_number=1,
               n_range=(4, 5), gap=8.0)
    # Semi-detached pairs on Rue de la Gare.
    rows_along(b, P(290, 440), 90.0, 25, 180, -10.5, street="Rue de la Gare", first_number=1, semi=True,
               gap=12.0)

    # Garages at the back of some gardens.
    for y0, y1 in ((297, 325), (358, 386), (421, 458)):
        b.annexes_in(box(*P(5, y0), *P(265, y1)), 4, az_deg=90.0)
    b.annexes_in(box(*P(310, 290), *P(495, 435)), 3, az_deg=45.0)

    # Trees: the heap's park (lower flanks too), around the lake, gardens, along the boulevard.
    terril_core = Polygon(b.terrain.terrils[0].footprint().exterior).buffer(-45)
    b.trees_in(p1.difference(terril_core), 90)
    b.trees_in(p2, 45)
    for y0, y1 in ((296, 326), (357, 387), (419, 460)):
        b.trees_in(box(*P(5, y0), *P(270, y1)), 10, radius=(2.0, 3.5), height=(5.0, 9.0))
    b.trees_in(box(*P(310, 290), *P(495, 435)), 20, radius=(2.0, 3.5), height=(5.0, 10.0))
    b.trees_in(box(*P(2, 273), *P(270, 276)), 14, radius=(2.5, 3.5), height=(8.0, 12.0))


# ---------------------------------------------------------------------------
# The rest of the default territory
# ---------------------------------------------------------------------------


def base_1119_features(ox: float, oy: float) -> dict[str, object]:
    def P(x: float, y: float) -> XY:
        return (ox + x, oy + y)

    west = Terril("Terril jumeau ouest du 11/19", *P(380, 330), height_m=120.0, top_radius_m=12.0, slope_deg=32.0)
    east = Terril("Terril jumeau est du 11/19", *P(760, 250), height_m=95.0, top_radius_m=10.0, slope_deg=33.0)
    cav = Embankment("Cavalier du 11/19", (P(940, 480), P(1040, 420), P(1150, 300), P(1250, 150), P(1300, 75)))
    canal = Polygon([P(1000, 25), P(2000, 25), P(2000, 45), P(1000, 45)])
    return {"terrils": (west, east), "cavalier": cav, "canal": canal}


def default_rest(b: SceneBuilder, ox: float, oy: float) -> None:
    """Everything of the default territory outside the cité (origin = its south-west corner)."""
    def P(x: float, y: float) -> XY:
        return (ox + x, oy + y)

    def Ps(*pts: XY) -> list[XY]:
        return [P(x, y) for x, y in pts]

    # --- parks and network ------------------------------------------------
    base = b.park("Base 11/19", "Base 11/19", Ps((60, 30), (985, 30), (985, 590), (60, 590)))
    berges = b.park("Parc des Berges de la Souchez", "Berges de la Souchez",
                    Ps((1000, 0), (2000, 0), (2000, 95), (1000, 95)))
    # the boulevard and the streets of the cité continue west and east
    b.way("secondary", "Boulevard Basly", Ps((0, 780), (1000, 780)))
    b.way("secondary", "Boulevard Basly", Ps((1500, 780), (2000, 780)))
    b.way("residential", "Rue Émile Zola", Ps((40, 841), (1000, 841)))
    b.way("residential", "Rue Voltaire", Ps((40, 903), (1000, 903)))
    b.way("residential", "Rue Pasteur", Ps((40, 980), (1000, 980)))
    b.way("tertiary", "Rue Casimir Beugnet", Ps((40, 616), (40, 1000)))
    b.way("residential", "Rue des Mineurs", Ps((40, 700), (960, 700)))
    b.way("residential", "Rue de la Fosse 11", Ps((40, 616), (960, 616)))
    b.way("residential", "Rue de Loos", Ps((960, 616), (960, 780)))
    b.way("footway", "", Ps((200, 616), (200, 560)))
    b.way("path", "Sentier du terril ouest", Ps((200, 560), (300, 450), (375, 342)))
    b.way("footway", "", Ps((700, 616), (700, 560)))
    b.way("path", "Chemin des terrils jumeaux", Ps((700, 560), (620, 470), (560, 140), (600, 60)))
    b.way("cycleway", "Cavalier du 11/19", Ps((940, 480), (1040, 420), (1150, 300), (1250, 150), (1300, 75),
                                              (1300, 52)))
    b.way("path", "", Ps((700, 560), (940, 480)))
    b.way("cycleway", "Chemin de halage du canal de Lens", Ps((1000, 52), (2000, 52)))
    b.way("residential", "Rue de la Souchez", Ps((1000, 120), (1990, 120)))
    b.way("footway", "", Ps((1000, 120), (1000, 52)))
    b.way("residential", "Rue Lamartine", Ps((1300, 120), (1300, 490)))
    b.way("residential", "Rue Paul Bert", Ps((1450, 120), (1450, 490)))
    b.way("residential", "Rue de Lens", Ps((1300, 490), (1600, 490)))
    b.way("footway", "Allée du Lac Bleu", Ps((1450, 490), (1450, 530)))
    b.way("tertiary", "Avenue Alfred Maës", Ps((1600, 120), (1600, 1000)))
    b.way("residential", "Rue Marcel Sembat", Ps((1660, 120), (1660, 780)))
    b.way("residential", "Rue des Ateliers", Ps((1660, 420), (1990, 420)))
    b.way("residential", "Rue Anatole France", Ps((1660, 560), (1990, 750)))
    b.way("residential", "Rue Jules Guesde", Ps((1600, 880), (1990, 880)))
    b.greenways.append(Greenway("Cavalier du 11/19", "cavalier",
                                tuple(Ps((940, 480), (1040, 420), (1150, 300), (1250, 150), (1300, 75), (1300, 52)))))
    b.greenways.append(Greenway("Chemin de halage du canal de Lens", "chemin_de_halage",
                                tuple(Ps((1000, 52), (2000, 52)))))
    for nom, x in (("Base 11/19", 500), ("Loos Centre", 850), ("Alfred Maës", 1620), ("Lens Est", 1900)):
        b.stops.append(Stop(nom, "B1", *P(x, 777)))
    b.stops.append(Stop("Souchez", "B3", *P(1620, 123)))

    e = 90.0
    # --- Loos-en-Gohelle: cités of the Fosse 11 north of the twin heaps ------
    sentes = [(290, 300), (690, 704)]
    rows_along(b, P(40, 616), e, 20, 915, -10.5, street="Rue de la Fosse 11", first_number=1, avoid=sentes)
    rows_along(b, P(40, 700), e, 20, 915, 10.5, street="Rue des Mineurs", first_number=2, avoid=sentes)
    rows_along(b, P(40, 700), e, 20, 915, -10.5, street="Rue des Mineurs", first_number=1, avoid=sentes)
    rows_along(b, P(40, 780), e, 20, 915, 10.5, street="Boulevard Basly", first_number=202, avoid=sentes)
    b.way("footway", "", Ps((335, 616), (335, 780)))
    b.way("footway", "", Ps((737, 616), (737, 780)))
    # north of the boulevard
    rows_along(b, P(40, 780), e, 20, 950, -10.5, street="Boulevard Basly", first_number=201,
               avoid=[(440, 452)], kind="hip")
    rows_along(b, P(40, 841), e, 20, 950, 10.5, street="Rue Émile Zola", first_number=102, avoid=[(440, 452)])
    rows_along(b, P(40, 841), e, 20, 950, -10.5, street="Rue Émile Zola", first_number=101, semi=True, gap=10.0)
    rows_along(b, P(40, 903), e, 20, 950, 10.5, street="Rue Voltaire", first_number=102, semi=True, gap=10.0)
    rows_along(b, P(40, 903), e, 20, 950, -10.5, street="Rue Voltaire", first_number=101, n_range=(4, 6))
    b.way("footway", "", Ps((486, 780), (486, 841)))

    # --- Lens south: the canal, shops, sheds, church, more cités ----------
    b.flat_building(*P(1720, 300), 90.0, 64.0, 44.0, eave_h=8.0, usage="Commercial et services", category="shop",
                    floors=1, n_hvac=6, street="Rue Marcel Sembat", number=40, front=1)
    b.shed_building(*P(1820, 190), 90.0, 80.0, 36.0, eave_h=7.0, tilt_deg=6.0, street="Rue de la Souchez",
                    number=221, front=-1, n_skylights=4)
    b.shed_building(*P(1900, 380), 0.0, 40.0, 30.0, eave_h=6.5, tilt_deg=8.0, street="Rue des Ateliers",
                    number=2, front=-1)
    b.gable_building(*P(1375, 300), 90.0, 40.0, 14.0, eave_h=10.0, tilt_deg=50.0, usage="Religieux",
                     category="church", street="Rue Lamartine", number=30, front=1)
    n = 0.0
    rows_along(b, P(1300, 120), n, 25, 365, -10.5, street="Rue Lamartine", first_number=1, n_range=(6, 8))
    rows_along(b, P(1300, 120), n, 25, 365, 10.5, street="Rue Lamartine", first_number=2, n_range=(6, 8))
    rows_along(b, P(1450, 120), n, 25, 365, -10.5, street="Rue Paul Bert", first_number=1, n_range=(6, 8))
    rows_along(b, P(1450, 120), n, 25, 365, 10.5, street="Rue Paul Bert", first_number=2, n_range=(6, 8))
    rows_along(b, P(1000, 120), e, 330, 560, -10.5, street="Rue de la Souchez", first_number=1, semi=True,
               gap=10.0, avoid=[(290, 312), (440, 462)])
    rows_along(b, P(1600, 120), n, 450, 650, -10.5, street="Avenue Alfred Maës", first_number=81,
               n_range=(6, 8))
    rows_along(b, P(1600, 120), n, 780, 870, -10.5, street="Avenue Alfred Maës", first_number=131,
               n_range=(6, 8))
    # --- Lens east: rows with ridges at 60° on Rue Anatole France, pairs on Rue Jules Guesde
    az = math.degrees(math.atan2(330.0, 190.0))
    rows_along(b, P(1660, 560), az, 20, 340, 15.5, street="Rue Anatole France", first_number=2, n_range=(4, 6))
    rows_along(b, P(1660, 560), az, 20, 340, -15.5, street="Rue Anatole France", first_number=1,
               n_range=(4, 6))
    rows_along(b, P(1600, 880), e, 15, 385, -10.5, street="Rue Jules Guesde", first_number=1, semi=True,
               gap=10.0)
    rows_along(b, P(1600, 880), e, 15, 385, 10.5, street="Rue Jules Guesde", first_number=2, semi=True,
               gap=10.0)
    b.flat_building(*P(1760, 820), 90.0, 40.0, 24.0, eave_h=9.0, usage="Sportif", category="gym", floors=1,
                    n_hvac=2, street="Rue Jules Guesde", number=30, front=1)

    # --- garages in the gardens ------------------------------------------------
    for y0, y1 in ((632, 684), (717, 764), (796, 826), (857, 887), (920, 975)):
        b.annexes_in(box(*P(45, y0), *P(990, y1)), 10, az_deg=90.0)
    b.annexes_in(box(*P(1320, 140), *P(1430, 480)), 6, az_deg=0.0)

    # --- trees ------------------------------------------------------------
    cores = [Polygon(t.footprint().exterior).buffer(-60) for t in b.terrain.terrils]
    base_area: BaseGeometry = base
    for c in cores:
        base_area = base_area.difference(c)
    b.trees_in(base_area, 260)
    b.trees_in(berges, 60)
    for y0, y1 in ((630, 686), (715, 766), (795, 827), (856, 888), (918, 996)):
        b.trees_in(box(*P(45, y0), *P(990, y1)), 30, radius=(2.0, 3.5), height=(5.0, 10.0))
    b.trees_in(box(*P(1005, 130), *P(1595, 485)), 70, radius=(2.0, 4.0), height=(5.0, 12.0))
    b.trees_in(box(*P(1605, 130), *P(1995, 995)), 80, radius=(2.0, 4.0), height=(5.0, 12.0))
    b.trees_in(LineString(Ps((0, 773), (1000, 773))).buffer(2.0), 40, radius=(2.5, 3.5), height=(8.0, 12.0))


# ---------------------------------------------------------------------------


def build_scene(*, small: bool, seed: int) -> Scene:
    """The sample scene (``small``: the 500 m cité alone; otherwise the 2 km x 1 km territory)."""
    rng = np.random.default_rng(seed)
    bounds = SMALL_BOUNDS if small else DEFAULT_BOUNDS
    terrain = _terrain_base()
    cite_o = (SMALL_BOUNDS[0], SMALL_BOUNDS[1])
    # The cité draws its own numbers so it is the same in both variants.
    cite_rng = np.random.default_rng([seed, 1])
    feats = cite_des_cytises(SceneBuilder(bounds, terrain, cite_rng), *cite_o)
    terrils: list[Terril] = [feats["terril"]]  # type: ignore[list-item]
    embankments: list[Embankment] = [feats["cavalier"]]  # type: ignore[list-item]
    lake_poly: Polygon = feats["lake"]  # type: ignore[assignment]
    water = [Water("Lac Bleu", "lac", lake_poly, _level(terrain, lake_poly, 0.8))]
    rest: dict[str, object] = {}
    if not small:
        rest = base_1119_features(*bounds[:2])
        terrils += list(rest["terrils"])  # type: ignore[call-overload]
        embankments.append(rest["cavalier"])  # type: ignore[arg-type]
        canal: Polygon = rest["canal"]  # type: ignore[assignment]
        water.append(Water("Canal de Lens", "canal", canal, _level(terrain, canal, 1.5)))
    terrain = Terrain(terrain.base_m, terrain.gradient, terrain.origin, terrain.waves,
                      tuple(terrils), tuple(embankments), tuple(water))
    builder = SceneBuilder(bounds, terrain, cite_rng)
    cite_des_cytises_objects(builder, *cite_o, lake_poly)
    if not small:
        builder.rng = rng
        default_rest(builder, *bounds[:2])
    add_site_objects(builder)  # ground-PV and car-park sites (geo/sample/sites.py)
    return builder.build(COMMUNE_BOUNDARY)

