"""Pipeline stage and CLI driver of the Chaîne des Parcs analysis: inputs → ``parks.gpkg``.

:func:`analyse` runs every analysis on layers already in memory (pure, no I/O) and returns the
model and the output layers; :func:`analyse_files` reads the inputs with :mod:`geo.io` and
writes ``parks.gpkg`` (:mod:`geo.products.parks`); :func:`build_parks` is the ``artois build``
stage on the sample layout (docs/formats.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import config
from geo.errors import InputError
from geo.parks.access import (
    cell_access,
    communes_access,
    park_service_areas,
    stops_access,
)
from geo.parks.ensembles import tag_ensemble
from geo.parks.gaps import candidate_gaps, linked_population
from geo.parks.model import ParksModel
from geo.parks.network import add_entrances, build_network
from geo.pipeline import BuildContext
from geo.products import parks as P

log = logging.getLogger("artois.parks")

CELL_COLUMNS = ["Idcar_200m", "population", "households", "poor_households"]


@dataclass
class Analysis:
    """Result of :func:`analyse`: the model, the output layers and a summary."""

    model: ParksModel
    layers: dict[str, gpd.GeoDataFrame]
    summary: dict[str, float | int] = field(default_factory=dict)

    @property
    def warnings(self) -> list[str]:
        return self.model.warnings


def prepare_parks(parks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Number the parks (``park_id`` 1…n), compute ``area_ha`` [ha] and tag ensembles."""
    out = parks.copy().reset_index(drop=True)
    out = out[~(out.geometry.isna() | out.geometry.is_empty)].reset_index(drop=True)
    out["park_id"] = np.arange(1, len(out) + 1, dtype=np.int64)
    out["nom"] = out["nom"] if "nom" in out else None
    given = out["ensemble"] if "ensemble" in out else pd.Series([None] * len(out))
    tagged = [tag_ensemble(n if isinstance(n, str) else None, e if isinstance(e, str) else None)
              for n, e in zip(out["nom"], given, strict=True)]
    out["ensemble"] = [t[0] for t in tagged]
    out["ensemble_published"] = [t[1] for t in tagged]
    out["area_ha"] = out.geometry.area / 10_000.0
    return out


def prepare_cells(cells: gpd.GeoDataFrame | None, crs: object) -> gpd.GeoDataFrame:
    """Filosofi cells (``Idcar_200m``, ``Ind``, ``Men``, ``Men_pauv``) → the access-cell columns, in ``crs``."""
    if cells is None or cells.empty:
        return gpd.GeoDataFrame({c: [] for c in CELL_COLUMNS}, geometry=[], crs=crs)
    c = cells.to_crs(crs) if cells.crs is not None and crs is not None else cells
    rename = {"Ind": "population", "Men": "households", "Men_pauv": "poor_households"}
    out = gpd.GeoDataFrame({
        "Idcar_200m": c["Idcar_200m"].astype(str) if "Idcar_200m" in c else np.arange(len(c)).astype(str),
        **{new: pd.to_numeric(c[old], errors="coerce").astype(float) if old in c else np.nan
           for old, new in rename.items()},
    }, geometry=c.geometry.values, crs=c.crs)
    out["population"] = out["population"].fillna(0.0)
    return out.reset_index(drop=True)


def _check_overlap(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame, what_a: str, what_b: str, path: Path | None = None) -> None:
    """Raise when two layers do not overlap at all (a wrong or missing CRS usually); ``path`` names ``a``'s file."""
    if a.empty or b.empty:
        return
    ax0, ay0, ax1, ay1 = a.total_bounds
    bx0, by0, bx1, by1 = b.total_bounds
    margin = 1000.0
    if ax1 + margin < bx0 or bx1 + margin < ax0 or ay1 + margin < by0 or by1 + margin < ay0:
        raise InputError(path, f"the {what_a} ({ax0:.0f}, {ay0:.0f}, {ax1:.0f}, {ay1:.0f}) and the {what_b} "
                               f"({bx0:.0f}, {by0:.0f}, {bx1:.0f}, {by1:.0f}) do not overlap: is one of them in "
                               f"the wrong CRS?")


def analyse(
    parks: gpd.GeoDataFrame,
    greenways: gpd.GeoDataFrame | None,
    streets: gpd.GeoDataFrame,
    *,
    cells: gpd.GeoDataFrame | None = None,
    communes: gpd.GeoDataFrame | None = None,
    stops: gpd.GeoDataFrame | None = None,
    sources: dict[str, Path] | None = None,
) -> Analysis:
    """Run the whole Chaîne des Parcs analysis on layers in one projected CRS.

    Parameters
    ----------
    parks
        Polygons with ``nom`` and optional ``ensemble``.
    greenways
        Lines with optional ``nom``, ``type``; None or empty when there is none.
    streets
        Walkable lines with ``highway``.
    cells
        Filosofi 200 m cells (``Idcar_200m``, ``Ind``, ``Men``, ``Men_pauv``), any CRS.
    communes
        ``code``, ``nom``, ``epci_siren`` polygons (optional).
    stops
        BHNS stops (optional).
    sources
        Files the layers came from (``parks``, ``greenways``, ``streets``, ``population``), to name
        them in errors.

    Returns
    -------
    Analysis
        Layers ``parks``, ``greenways``, ``entrances``, ``service_areas``, ``access_cells``,
        ``gaps``, ``communes_access``, ``stops_access`` (when stops are given), ``network_nodes``,
        ``network_edges``, and ``model.warnings`` listing the input problems handled.
    """
    warnings: list[str] = []
    if parks.crs is None or not parks.crs.is_projected:
        raise InputError(None, "parks must be in a projected CRS (metres), e.g. Lambert-93")
    crs = parks.crs
    parks = prepare_parks(parks)
    if parks.empty:
        raise InputError(None, "no park polygon")
    gw = greenways.copy() if greenways is not None and not greenways.empty else gpd.GeoDataFrame(
        {"nom": [], "type": []}, geometry=[], crs=crs)
    gw = gw.reset_index(drop=True)
    gw["greenway_id"] = np.arange(1, len(gw) + 1, dtype=np.int64)
    for col in ("nom", "type"):
        if col not in gw:
            gw[col] = None
    if gw.empty:
        warnings.append("aucune voie verte : la connectivité est vide")
    src = sources or {}
    _check_overlap(streets, parks, "walk network", "parks", src.get("streets"))
    _check_overlap(gw, streets, "greenways", "walk network", src.get("greenways"))

    net = build_network(streets, gw[["greenway_id", "geometry"]])
    entrances = add_entrances(net, parks)

    # Disconnected fragments of the walk network.
    comp = net.components()
    n_frag = int(comp.max()) + 1 if len(comp) else 0
    if n_frag > 1:
        u = net.edges["u"].to_numpy(np.int64)
        frag_len = float(net.edges["length_m"].to_numpy(float)[comp[u] > 0].sum())
        warnings.append(f"réseau piéton en {n_frag} morceaux non reliés ({frag_len:.0f} m hors du réseau principal) : "
                        "conservés, chaque parc n'y est accessible que depuis son morceau")
    n_ent = entrances.groupby("park_id").size()
    parks["n_entrances"] = parks["park_id"].map(n_ent).fillna(0).astype(np.int64)
    no_entrance = parks.loc[parks["n_entrances"] == 0]
    if len(no_entrance):
        names = ", ".join(str(n) for n in no_entrance["nom"].fillna("?"))
        warnings.append(f"{len(no_entrance)} parc(s) sans entrée sur le réseau (à plus de "
                        f"{config.PARKS_PSEUDO_ENTRANCE_MAX_LINK_M:.0f} m de tout chemin) : {names}")
    main_nodes = np.flatnonzero(comp == 0)
    ent_main = entrances["node"].isin(main_nodes)
    parks["on_main_network"] = parks["park_id"].isin(entrances.loc[ent_main, "park_id"])

    cells_in = prepare_cells(cells, crs)
    if cells_in.empty or float(cells_in["population"].sum()) <= 0:
        warnings.append("population vide : les populations desservies valent 0 et les parts sont nulles")
    elif not cells_in.empty:
        _check_overlap(cells_in, parks, "population cells", "parks", src.get("population"))

    sa = park_service_areas(net, parks, entrances, cells_in if not cells_in.empty else None)
    sa10 = {int(r.park_id): r.geometry for r in sa[sa["label"] == "10 min"].itertuples(index=False)}
    access, unions = cell_access(net, cells_in, entrances, parks)
    pop10 = sa[sa["label"] == "10 min"].set_index("park_id")["population"]
    parks["population_10min"] = parks["park_id"].map(pop10).astype(float)
    parks["who_eligible"] = parks["area_ha"] >= config.PARKS_WHO_MIN_AREA_HA
    parks["angst_tiers"] = [", ".join(lbl for mn, _, lbl in config.PARKS_ANGST_TIERS if a >= mn) or None
                            for a in parks["area_ha"]]

    model = ParksModel(net, parks, entrances, gw, access, sa10, None, warnings)
    conn = model.connectivity()
    parks["on_greenway"] = [bool(conn.park_components.get(int(p))) for p in parks["park_id"]]
    first: list[int | None] = [cs[0] if (cs := conn.park_components.get(int(p))) else None for p in parks["park_id"]]
    parks["component"] = pd.Series(first, dtype="Int64", index=parks.index)
    parks["system"] = [conn.park_system.get(int(p)) for p in parks["park_id"]]
    linked = conn.linked_parks()
    parks["linked"] = parks["park_id"].isin(list(linked))

    # Greenway features: component and loop membership from their network edges.
    edges = net.edges
    gid = edges["greenway_id"].astype("Int64")
    length = edges["length_m"].to_numpy(float)
    gw_out = gw.copy()
    gw_out["length_m"] = gw_out.geometry.length
    comps: list[int | None] = []
    loops: list[bool] = []
    for g in gw_out["greenway_id"]:
        rows = np.flatnonzero((gid == g).fillna(False).to_numpy(bool))
        if len(rows) == 0:
            comps.append(None)
            loops.append(False)
            continue
        per_comp = np.bincount(conn.edge_component[rows], weights=length[rows])
        per_comp[0] = 0.0  # 0 = not a greenway edge
        comps.append(int(np.argmax(per_comp)) if per_comp.max() > 0 else None)
        loops.append(bool(length[rows][conn.loop_edge[rows]].sum() >= 0.5 * length[rows].sum()))
    gw_out["component"] = pd.Series(comps, dtype="Int64", index=gw_out.index)
    gw_out["in_loop"] = loops
    gw_out["system"] = [conn.component_system.get(int(c)) if c is not None and not pd.isna(c) else None
                        for c in gw_out["component"]]

    gaps = candidate_gaps(model)
    model.gaps = gaps
    if gaps.empty:
        warnings.append("aucune liaison manquante candidate (tous les parcs et voies vertes sont déjà reliés, "
                        f"ou les liaisons dépassent {config.PARKS_GAP_MAX_LENGTH_M:.0f} m)")

    com = communes
    if com is not None and not com.empty and not cells_in.empty:
        com = com.to_crs(crs)
        com = com[com.intersects(shapely.union_all(cells_in.geometry.values))]
    communes_out = communes_access(access, com if com is not None and not com.empty else None, unions)

    layers: dict[str, gpd.GeoDataFrame] = {
        P.PARKS.name: parks[[*P.PARKS.column_names, "geometry"]],
        P.GREENWAYS.name: gw_out[[*P.GREENWAYS.column_names, "geometry"]],
        P.ENTRANCES.name: entrances[[*P.ENTRANCES.column_names, "geometry"]],
        P.SERVICE_AREAS.name: sa,
        P.ACCESS_CELLS.name: access[[*P.ACCESS_CELLS.column_names, "geometry"]],
        P.GAPS.name: gaps,
        P.COMMUNES_ACCESS.name: communes_out,
        **P.network_layers(net.nodes, net.edges, net.crs),
    }
    if stops is not None and not stops.empty:
        layers[P.STOPS_ACCESS.name] = stops_access(net, stops.to_crs(crs), entrances, parks)

    total_pop = float(access["population"].sum()) if not access.empty else 0.0
    summary: dict[str, float | int] = {
        "parks": len(parks), "entrances": len(entrances), "edges": len(net.edges),
        "greenway_components": conn.n_components, "loop_length_m": conn.loop_length_m,
        "parks_linked": len(linked), "population": total_pop,
        "population_within_300m": float(access["population_within_300m"].sum()) if total_pop else 0.0,
        "population_within_10min": float(access["population_within_10min"].sum()) if total_pop else 0.0,
        "linked_population": linked_population(model, conn), "gaps": len(gaps),
    }
    for w in warnings:
        log.warning("parks: %s", w)
    return Analysis(model, layers, summary)


def analyse_files(
    *,
    parks: Path,
    greenways: Path | None,
    streets: Path,
    population: Path | None,
    out: Path,
    communes: Path | None = None,
    epci_table: Path | None = None,
    stops: Path | None = None,
) -> Analysis:
    """Read the inputs (any format :mod:`geo.io.parks` reads), analyse, write ``out`` (GeoPackage)."""
    from geo.io.parks import read_greenways, read_parks, read_stops, read_streets

    parks_df = read_parks(parks)
    gw_df = read_greenways(greenways) if greenways is not None else None
    streets_df = read_streets(streets)
    cells = _read_population(population) if population is not None else None
    com = _read_communes(communes, epci_table) if communes is not None else None
    stops_df = read_stops(stops) if stops is not None else None
    sources = {"parks": parks, "streets": streets}
    sources.update({k: p for k, p in (("greenways", greenways), ("population", population)) if p is not None})
    result = analyse(parks_df, gw_df, streets_df, cells=cells, communes=com, stops=stops_df, sources=sources)
    P.write_parks(out, {P.layer(name): gdf for name, gdf in result.layers.items()})
    return result


def _read_population(path: Path) -> gpd.GeoDataFrame:
    from geo.io.filosofi import read_filosofi

    return read_filosofi(path, crs=config.WORKING_CRS)


def _read_communes(path: Path, epci_table: Path | None) -> gpd.GeoDataFrame:
    """Communes as (``code``, ``nom``, ``epci_siren``, ``epci_nom``) polygons, joined with the EPCI table
    by :func:`geo.io.communes.read_communes` (the file's communes; the table may list more)."""
    from geo.io.communes import read_communes

    com = read_communes(path, epci_table=epci_table)
    return gpd.GeoDataFrame({
        "code": com["code_insee"].astype(str),
        "nom": com["nom"].astype(str),
        "epci_siren": com["epci_siren"].astype(object).where(com["epci_siren"].notna(), None),
        "epci_nom": com["epci_nom"].astype(object).where(com["epci_nom"].notna(), None),
    }, geometry=com.geometry.values, crs=com.crs)


def build_parks(ctx: BuildContext) -> list[Path]:
    """``artois build`` stage: ``data_dir/parks/*`` (docs/formats.md) → ``parks.gpkg``."""
    d = ctx.data_dir / "parks"
    if not d.is_dir():
        raise InputError(d, "folder not found (run 'artois sample --out DATA' first)")

    def opt(name: str) -> Path | None:
        p = d / name
        return p if p.exists() else None

    out = ctx.products.parks
    result = analyse_files(
        parks=d / "parcs.gpkg", greenways=opt("voies_vertes.gpkg"), streets=d / "reseau_pietons.gpkg",
        population=opt("filosofi_200m.gpkg"), communes=opt("communes.geojson"),
        epci_table=opt("pma-communes-epci.csv"), stops=opt("arrets_bhns.geojson"), out=out,
    )
    s = result.summary
    log.info("parks: %d parks, %d entrances, %d greenway component(s), %.0f people of which %.0f within a "
             "10-minute walk, %d candidate gap(s)", s["parks"], s["entrances"], s["greenway_components"],
             s["population"], s["population_within_10min"], s["gaps"])
    return [out]
