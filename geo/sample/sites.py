"""Sites of the sample for ground PV and the APER car-park obligation, with their truths.

* a friche on an old pit-head site (the "Carreau de la fosse des Cytises", flat ground between the
  two parks of the cité), known by its perimeter;
* the south flank of the Terril des Cytises as candidate ground (its lower part is wooded);
* a friche known only by its point and cadastral surface, outside the sample's DSM;
* car parks in OpenStreetMap form: a tree-lined one (trees over more than half of it), one between
  1,500 and 10,000 m² with a grass island, one under 1,500 m², and (default territory only) the
  supermarket's, over 10,000 m², around the shop.

Files (``sites/`` of the sample): ``friches.csv`` (Cartofriches export in the CNIG friches layout,
';'-separated, UTF-8), ``parkings.osm`` (OSM XML: ``amenity=parking`` + ``parking=surface`` ways and
a multipolygon, ``landuse=grass`` islands) and ``sites_truth.gpkg`` (what the generator knows:
areas, tree shares, APER status and deadline).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from geo import config
from geo.io._atomic import write_text_atomic
from geo.sample.geometry import Terril, Tree
from geo.sample.scene import Scene, SceneBuilder

#: South-west corner of the cité (the small sample's origin) [m], Lambert-93.
CITE_ORIGIN = (685_000.0, 7_037_500.0)
#: South-west corner of the default territory [m], Lambert-93.
DEFAULT_ORIGIN = (684_000.0, 7_037_000.0)

#: The columns of the CNIG friches standard v1.0.1, in its order (github.com/cnigfr/schema-friches).
CNIG_ALL_COLUMNS = (
    "site_id", "site_nom", "site_type", "site_adresse", "site_identif_date", "site_actu_date", "site_url",
    "site_ademe_url", "site_securite", "site_occupation", "site_statut", "site_projet_url", "activite_libelle",
    "activite_code", "activite_fin_annee", "comm_nom", "comm_insee", "bati_type", "bati_nombre", "bati_surface",
    "bati_pollution", "bati_vacance", "bati_patrimoine", "bati_etat", "local_ancien_annee", "local_recent_annee",
    "proprio_type", "proprio_personne", "proprio_nom", "sol_pollution_annee", "sol_pollution_existe",
    "sol_pollution_origine", "sol_pollution_commentaire", "sol_depollution_fiche", "unite_fonciere_surface",
    "unite_fonciere_refcad", "urba_zone_type", "urba_zone_lib", "urba_zone_formedomi", "urba_doc_type",
    "desserte_distance", "desserte_commentaire", "source_nom", "source_url", "source_producteur", "source_contact",
    "geompoint", "geomsurf",
)

#: Trees of the tree-lined car park: 4 rows of 6, 10 m apart, crowns of 5 m, 12 m high.
_LINED_TREE_RADIUS_M = 5.0
_LINED_TREE_HEIGHT_M = 12.0


def _cite(x: float, y: float) -> tuple[float, float]:
    return (CITE_ORIGIN[0] + x, CITE_ORIGIN[1] + y)


def _cite_box(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    return box(*_cite(x0, y0), *_cite(x1, y1))


@dataclass(frozen=True)
class CarParkSpec:
    """A car park of the sample: polygon, green islands, expected APER class."""

    site_id: str
    nom: str
    polygon: Polygon
    green: tuple[Polygon, ...] = ()


def tree_lined_trees() -> list[Tree]:
    """The planted trees of the tree-lined car park (deterministic, no random draw)."""
    return [Tree(*_cite(x, y), _LINED_TREE_RADIUS_M, _LINED_TREE_HEIGHT_M)
            for y in (8.0, 18.0, 28.0, 38.0) for x in (8.0, 18.0, 28.0, 38.0, 48.0, 58.0)]


def add_site_objects(b: SceneBuilder) -> None:
    """Scene hook: plant the tree-lined car park's trees (called after every other object)."""
    b.trees.extend(tree_lined_trees())


def car_parks(scene: Scene, *, small: bool) -> list[CarParkSpec]:
    """The sample's car parks (Lambert-93)."""
    out = [
        CarParkSpec("osm-w-101", "Parking arboré du parc des Cytises", _cite_box(3, 3, 63, 43)),
        CarParkSpec("osm-w-102", "Parking du gymnase", _cite_box(446, 192, 498, 230),
                    green=(_cite_box(466, 205, 478, 217),)),
        CarParkSpec("osm-w-103", "Parking de l'école", _cite_box(348, 222, 374, 268)),
    ]
    if not small:
        ox, oy = DEFAULT_ORIGIN
        outer = box(ox + 1665, oy + 215, ox + 1780, oy + 410)
        shops = [b.roof.frame.outline() for b in scene.buildings
                 if b.category == "shop" and b.roof.frame.outline().within(outer)]
        if not shops:
            raise ValueError("sample layout: the supermarket is not inside its car park")
        poly = Polygon(outer.exterior.coords, [s.exterior.coords for s in shops])
        out.append(CarParkSpec("osm-r-201", "Parking du supermarché de la rue Marcel Sembat", poly))
    return out


def _sector(t: Terril, az0: float, az1: float, r0: float, r1: float, n: int = 24) -> Polygon:
    """Annulus sector around the heap's axis between azimuths ``az0``–``az1`` [°, from north]."""
    a = np.radians(np.linspace(az0, az1, n))
    outer = [(t.x + r1 * math.sin(v), t.y + r1 * math.cos(v)) for v in a]
    inner = [(t.x + r0 * math.sin(v), t.y + r0 * math.cos(v)) for v in a[::-1]]
    return Polygon([(round(x, 2), round(y, 2)) for x, y in outer + inner])


def friches(scene: Scene) -> list[dict[str, object]]:
    """Rows of the Cartofriches export (CNIG columns; geometry as shapely, Lambert-93)."""
    terril = scene.terrain.terrils[0]
    foot = terril.base_radius_m
    flank = _sector(terril, 135.0, 225.0, terril.top_radius_m + 4.0, foot - 4.0)
    pit = _cite_box(280, 8, 326, 150)
    common = {"site_identif_date": "2019-03-12", "site_actu_date": "2025-06-30", "comm_nom": "Lens",
              "comm_insee": "62498", "source_nom": "Observatoire des friches du Pas-de-Calais",
              "source_producteur": "EPF Hauts-de-France", "urba_doc_type": "PLU", "proprio_personne": "personne morale"}
    return [
        {**common, "site_id": "62498_19-03.0001", "site_nom": "Carreau de la fosse n° 9 « des Cytises »",
         "site_type": "Friche carrière ou mine", "site_adresse": "rue de l'Industrie", "site_statut": "friche sans projet",
         "activite_libelle": "Extraction de houille", "activite_code": "B05.10Z", "activite_fin_annee": "1986",
         "sol_pollution_existe": "pollution supposée", "bati_patrimoine": "présence d'un bâtiment d'intérêt",
         "urba_zone_type": "U", "unite_fonciere_surface": int(round(pit.area)), "geometry": pit},
        {**common, "site_id": "62498_19-03.0002", "site_nom": "Terril des Cytises, flanc sud",
         "site_type": "Friche carrière ou mine", "site_adresse": "parc des Cytises", "site_statut": "friche sans projet",
         "activite_libelle": "Terrils ou crassier de mines", "activite_code": "B05.10Z", "activite_fin_annee": "1986",
         "sol_pollution_existe": "pollution peu probable", "bati_patrimoine": "aucun", "urba_zone_type": "N",
         "unite_fonciere_surface": int(round(flank.area)), "geometry": flank},
        {**common, "site_id": "62528_21-07.0003", "site_nom": "Ancienne cokerie de Loos",
         "comm_nom": "Loos-en-Gohelle", "comm_insee": "62528", "site_type": "friche industrielle",
         "site_adresse": "chemin des Boulonnais", "site_statut": "friche potentielle",
         "activite_libelle": "Cokéfaction", "sol_pollution_existe": "pollution avérée", "bati_patrimoine": "aucun",
         "urba_zone_type": "U", "unite_fonciere_surface": 12000,
         "geometry": shapely.Point(684_350.0, 7_036_400.0)},  # outside both samples' DSM
    ]


def _wkt(geom: BaseGeometry, to_wgs: Transformer) -> str:
    g = shapely.transform(geom, lambda xy: np.column_stack(to_wgs.transform(xy[:, 0], xy[:, 1])))
    return shapely.to_wkt(g, rounding_precision=7, trim=True)


def friches_csv(rows: list[dict[str, object]]) -> pd.DataFrame:
    """The rows as a Cartofriches CSV table: every CNIG column, WKT in WGS84 (lon lat)."""
    to_wgs = Transformer.from_crs(config.WORKING_CRS, config.WGS84, always_xy=True)
    table = []
    for r in rows:
        g: BaseGeometry = r["geometry"]  # type: ignore[assignment]
        out = {c: r.get(c, "") for c in CNIG_ALL_COLUMNS}
        out["geompoint"] = _wkt(g.centroid if g.geom_type != "Point" else g, to_wgs)
        out["geomsurf"] = _wkt(g, to_wgs) if g.geom_type != "Point" else ""
        table.append(out)
    return pd.DataFrame(table, columns=list(CNIG_ALL_COLUMNS))


def osm_xml(parks: list[CarParkSpec]) -> str:
    """An OSM XML file (API 0.6) with the car parks and their grass islands.

    A car park ``osm-w-N`` is way N, ``osm-r-N`` (with holes) relation N; other ways number from 901.
    """
    to_wgs = Transformer.from_crs(config.WORKING_CRS, config.WGS84, always_xy=True)
    nodes: list[str] = []
    ways: list[str] = []
    relations: list[str] = []
    nid, wid = [1000], [900]

    def ring(coords: list[tuple[float, ...]], tags: dict[str, str], way_id: int | None = None) -> int:
        refs = []
        for x, y in coords[:-1]:
            lon, lat = to_wgs.transform(x, y)
            nid[0] += 1
            nodes.append(f'  <node id="{nid[0]}" version="1" lat="{lat:.8f}" lon="{lon:.8f}"/>')
            refs.append(nid[0])
        if way_id is None:
            wid[0] += 1
            way_id = wid[0]
        body = "".join(f'\n    <nd ref="{r}"/>' for r in [*refs, refs[0]])
        body += "".join(f"\n    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
        ways.append(f'  <way id="{way_id}" version="1">{body}\n  </way>')
        return way_id

    park_tags = {"amenity": "parking", "parking": "surface", "access": "customers"}
    for p in parks:
        num = p.site_id.rsplit("-", 1)[1]
        tags = {**park_tags, "name": p.nom}
        if p.polygon.interiors:
            outer = ring(list(p.polygon.exterior.coords), {})
            inners = [ring(list(h.coords), {}) for h in p.polygon.interiors]
            members = f'\n    <member type="way" ref="{outer}" role="outer"/>' + "".join(
                f'\n    <member type="way" ref="{w}" role="inner"/>' for w in inners)
            tags = {"type": "multipolygon", **tags}
            members += "".join(f"\n    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
            relations.append(f'  <relation id="{num}" version="1">{members}\n  </relation>')
        else:
            ring(list(p.polygon.exterior.coords), tags, int(num))
        for g in p.green:
            ring(list(g.exterior.coords), {"landuse": "grass"})
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="artois sample">\n'
            + "\n".join(nodes + ways + relations) + "\n</osm>\n")


def _tree_union(trees: list[Tree], area: BaseGeometry, threshold_m: float | None) -> BaseGeometry:
    """Union of the crowns over ``area``: whole crowns, or the parts above ``threshold_m`` [m]."""
    discs = []
    for t in trees:
        r = t.radius_m
        if threshold_m is not None:  # Gaussian crown (geometry.Tree): h exp(-r²/2σ²) > thr, σ = R/2
            r = min(r, t.radius_m / 2.0 * math.sqrt(2.0 * math.log(t.height_m / threshold_m))) \
                if t.height_m > threshold_m else 0.0
        if r > 0 and shapely.Point(t.x, t.y).distance(area) < r:
            discs.append(shapely.Point(t.x, t.y).buffer(r, 64))
    return shapely.union_all(discs) if discs else shapely.Polygon()


def truth(scene: Scene, *, small: bool) -> gpd.GeoDataFrame:
    """What the generator knows of each site (docs/data-dictionary.md, ``sites_truth``).

    Columns: ``site_id``, ``kind`` (friche | car_park), ``area_m2`` (polygon), ``counted_m2`` (car
    parks: without green islands and buildings; friches: inside the perimeter setback, outside tree
    crowns above the tree threshold and their clearance), ``tree_share`` (car parks: share of
    ``counted_m2`` under crowns above the tree threshold), ``crown_share`` (same, whole crowns),
    ``aper_status`` and ``aper_deadline`` (car parks).
    """
    rows = []
    for f in friches(scene):
        g: BaseGeometry = f["geometry"]  # type: ignore[assignment]
        if g.geom_type == "Point":
            rows.append({"site_id": f["site_id"], "kind": "friche", "area_m2": float(str(f["unite_fonciere_surface"])),
                         "counted_m2": math.nan, "tree_share": math.nan, "crown_share": math.nan,
                         "aper_status": None, "aper_deadline": None, "geometry": g})
            continue
        inner = g.buffer(-config.GROUND_PV_PERIMETER_SETBACK_M)
        trees = _tree_union(scene.trees, g, config.SITES_TREE_MIN_HEIGHT_M)
        usable = inner.difference(trees.buffer(config.GROUND_PV_OBSTACLE_CLEARANCE_M))
        rows.append({"site_id": f["site_id"], "kind": "friche", "area_m2": g.area, "counted_m2": usable.area,
                     "tree_share": g.intersection(trees).area / g.area, "crown_share": math.nan,
                     "aper_status": None, "aper_deadline": None, "geometry": g})
    buildings = [b.roof.frame.outline() for b in scene.buildings]
    for p in car_parks(scene, small=small):
        counted: BaseGeometry = p.polygon
        for g in (*p.green, *[b for b in buildings if b.intersects(p.polygon)]):
            counted = counted.difference(g)
        trees = _tree_union(scene.trees, counted, config.SITES_TREE_MIN_HEIGHT_M).intersection(counted)
        crowns = _tree_union(scene.trees, counted, None).intersection(counted)
        a = counted.area
        share = trees.area / a
        if a <= config.APER_MIN_AREA_M2:
            status, deadline = "below_threshold", None
        elif share >= config.APER_TREE_EXEMPT_SHARE:
            status, deadline = "exempt_trees", None
        else:
            status = "concerned"
            deadline = config.APER_DEADLINE_LARGE if a > config.APER_LARGE_AREA_M2 else config.APER_DEADLINE_MEDIUM
        rows.append({"site_id": p.site_id, "kind": "car_park", "area_m2": p.polygon.area, "counted_m2": a,
                     "tree_share": share, "crown_share": crowns.area / a, "aper_status": status,
                     "aper_deadline": deadline, "geometry": p.polygon})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=config.WORKING_CRS)


def write_sites(out_dir: Path, scene: Scene, *, small: bool) -> list[Path]:
    """Write ``friches.csv``, ``parkings.osm`` and ``sites_truth.gpkg`` under ``out_dir``."""
    from geo.sample.write import write_csv, write_layers

    out_dir.mkdir(parents=True, exist_ok=True)
    files = [write_csv(out_dir / "friches.csv", friches_csv(friches(scene)), sep=";")]
    osm = out_dir / "parkings.osm"
    write_text_atomic(osm, osm_xml(car_parks(scene, small=small)))
    files.append(osm)
    files.append(write_layers(out_dir / "sites_truth.gpkg", {"sites_truth": truth(scene, small=small)}))
    return files
