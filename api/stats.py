"""The statistics pages for climate plans (PCAET annexes): ``/statistiques`` and ``/statistiques/{code}``.

:func:`territory_stats` assembles typed rows per commune and agglomeration (EPCI) from the built layers —
``communes_solar`` (rooftops.gpkg), ``communes_access`` and ``access_cells`` (parks.gpkg) — read through the
catalogue, never recomputed from the raw inputs; :func:`render_stats` renders one French, printable HTML page
with inline SVG charts (:func:`api.report_svg.bar_chart_svg`, the report's); :func:`stats_table` and
:func:`stats_gpkg` make the CSV and GeoPackage downloads of the same rows.

Priority population of an area: people of the access cells not within a 10-minute walk of a park
(``population`` − ``population_within_10min``) in the cells the parks analysis ranks as priorities
(``priority_rank`` set: populated cells mostly beyond 10 minutes), split between communes by area share.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import numpy as np
import pandas as pd
import shapely
from markupsafe import Markup

from api import services
from api.layers import Catalog
from api.report_svg import bar_chart_svg, format_number
from geo.errors import NotFoundError
from geo.parks.access import covered_share
from geo.products import parks, rooftops

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
CSS_PATH = Path(__file__).resolve().parent / "static" / "report.css"

#: The columns of the downloads, in order (units in the names; shares 0–1).
COLUMNS = ("level", "code", "nom", "epci_siren", "n_buildings", "n_suitable_faces", "usable_area_m2", "kwp",
           "production_mwh_yr", "population", "population_within_300m", "population_within_10min",
           "share_within_300m", "share_within_10min", "priority_population")


@dataclass
class AreaStats:
    """One commune or agglomeration: solar potential (communes_solar) and park access (communes_access)."""

    level: str
    code: str
    nom: str | None
    epci_siren: str | None
    n_buildings: int | None = None
    n_suitable_faces: int | None = None
    usable_area_m2: float | None = None
    kwp: float | None = None
    production_mwh_yr: float | None = None
    population: float | None = None
    population_within_300m: float | None = None
    population_within_10min: float | None = None
    share_within_300m: float | None = None
    share_within_10min: float | None = None
    priority_population: float | None = None
    members: list[AreaStats] = field(default_factory=list)

    @property
    def label(self) -> str:
        kind = {"epci": "Agglomération", "commune": "Commune"}.get(self.level, "Zone")
        return f"{kind} {self.nom or self.code}"

    def row(self) -> dict[str, Any]:
        d = asdict(self)
        return {c: d[c] for c in COLUMNS}


def _f(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None


def _priority_by_area(catalog: Catalog, areas: dict[tuple[str, str], Any]) -> dict[tuple[str, str], float]:
    """Priority population [persons] of each area polygon (layer CRS of access_cells)."""
    if parks.ACCESS_CELLS.name not in catalog.collections or not areas:
        return {}
    cells = catalog.collection(parks.ACCESS_CELLS.name)
    if not {"priority_rank", "population", "population_within_10min"} <= set(cells.info.column_names):
        return {}
    feats = cells.read(columns=["population", "population_within_10min", "priority_rank"])
    unserved = np.array([(_f(p["population"]) or 0.0) - (_f(p["population_within_10min"]) or 0.0)
                         if p["priority_rank"] is not None else 0.0 for p in feats.properties])
    geoms = feats.geometries
    tree = shapely.STRtree(geoms)
    return {key: float(np.sum(unserved * covered_share(geoms, poly, tree=tree))) for key, poly in areas.items()}


def territory_stats(catalog: Catalog) -> list[AreaStats]:
    """Every agglomeration (with its communes in ``members``) then every commune, from the built layers."""
    rows: dict[tuple[str, str], AreaStats] = {}
    for r in services.commune_stats(catalog):
        a = AreaStats(r["level"], r["code"], r["nom"], r["epci_siren"])
        for part in (r.get("solar") or {}, r.get("access") or {}):
            for k, v in part.items():
                if k in COLUMNS and hasattr(a, k):
                    setattr(a, k, v)
        rows[(a.level, a.code)] = a
    polys: dict[tuple[str, str], Any] = {}
    if parks.COMMUNES_ACCESS.name in catalog.collections and parks.ACCESS_CELLS.name in catalog.collections:
        c = catalog.collection(parks.COMMUNES_ACCESS.name)
        if c.info.crs == catalog.collection(parks.ACCESS_CELLS.name).info.crs:
            feats = c.read(columns=["level", "code"])
            polys = {(str(p["level"]), str(p["code"])): g for p, g in zip(feats.properties, feats.geometries,
                                                                          strict=True)}
    for key, pop in _priority_by_area(catalog, polys).items():
        if key in rows:
            rows[key].priority_population = pop
    out = list(rows.values())
    for a in out:
        if a.level == "epci":
            a.members = [m for m in out if m.level == "commune" and m.epci_siren == a.code]
    return out


def area(stats: list[AreaStats], code: str) -> AreaStats:
    """The commune or agglomeration ``code``; :class:`NotFoundError` (French) if unknown."""
    for a in stats:
        if a.code == code:
            return a
    raise NotFoundError(f"Aucune statistique pour le code « {code} » (code Insee d'une commune ou SIREN d'une "
                        "agglomération du territoire).")


def stats_table(areas: list[AreaStats]) -> bytes:
    """CSV download: ';'-separated UTF-8 with BOM (French spreadsheets), one row per area, :data:`COLUMNS`."""
    return pd.DataFrame([a.row() for a in areas], columns=list(COLUMNS)).to_csv(sep=";", index=False).encode(
        "utf-8-sig")


def stats_gpkg(catalog: Catalog, areas: list[AreaStats], name: str) -> bytes:
    """GeoPackage download: layer ``statistiques``, one polygon per area (Lambert-93), :data:`COLUMNS`."""
    import geopandas as gpd

    from geo.io.vectors import write_gpkg

    names = (rooftops.COMMUNES_SOLAR.name, parks.COMMUNES_ACCESS.name)
    layer = next((n for n in names if n in catalog.collections), None)
    if layer is None:
        raise NotFoundError("Pas de couche des communes dans ce dossier.")
    coll = catalog.collection(layer)
    feats = coll.read(columns=["level", "code"])
    geom = {(str(p["level"]), str(p["code"])): g for p, g in zip(feats.properties, feats.geometries, strict=True)}
    gdf = gpd.GeoDataFrame([a.row() for a in areas], columns=list(COLUMNS),
                           geometry=[geom.get((a.level, a.code)) for a in areas], crs=coll.info.crs)
    with tempfile.TemporaryDirectory(prefix="artois-stats-") as tmp:
        return write_gpkg(Path(tmp) / f"{name}.gpkg", {"statistiques": gdf}).read_bytes()


# -- page --------------------------------------------------------------------------------------------


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{format_number(v * 100)}\u00a0%"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = format_number
    env.filters["pct"] = _pct
    return env


def _charts(areas: list[AreaStats]) -> list[Markup]:
    """Bar charts comparing ``areas`` (communes): production [MWh/yr], share within 10 min [%]."""
    if not areas:
        return []
    labels = [(a.nom or a.code)[:10] for a in areas]
    names = [a.nom or a.code for a in areas]
    return [
        Markup(bar_chart_svg([a.production_mwh_yr for a in areas], labels=labels, names=names, unit="MWh/an",
                             title="Production solaire possible sur les toits adaptés, en MWh par an")),
        Markup(bar_chart_svg([None if a.share_within_10min is None else 100 * a.share_within_10min for a in areas],
                             labels=labels, names=names, unit="%",
                             title="Part des habitants à moins de 10 minutes à pied d'un parc, en %")),
    ]


def render_stats(stats: list[AreaStats], selected: AreaStats | None = None, *,
                 today: dt.date | None = None) -> str:
    """The statistics page: the whole territory (``selected`` None) or one commune / agglomeration."""
    today = today or dt.datetime.now(ZoneInfo("Europe/Paris")).date()
    if selected is None:
        shown = [a for a in stats if a.level == "epci"] + [a for a in stats if a.level != "epci"]
        compared = [a for a in stats if a.level == "commune"]
    else:
        shown = [selected, *selected.members]
        compared = selected.members
    return _environment().get_template("stats.html.j2").render(
        stats=stats, selected=selected, shown=shown, charts=_charts(compared), today=today,
        css=Markup(CSS_PATH.read_text(encoding="utf-8")),
        base=f"/statistiques/{selected.code}" if selected is not None else "/statistiques",
    )
