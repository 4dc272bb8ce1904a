"""Cadastral parcels of the sample, as cadastre.data.gouv.fr ships them (``parcelles``, GeoJSON, WGS84).

One parcel per plot: a house's slice of its row from ``PLOT_FRONT_M`` in front of the walls to
``PLOT_BACK_M`` behind them (the row's end plots ``PLOT_END_M`` wider), a non-residential building's
footprint grown by ``PLOT_AROUND_M``. Garages and garden sheds ('Annexe') get no parcel of their own;
plots keep ``PLOT_CLEARANCE_M`` off other rows' buildings and do not overlap (the first drawn keeps
the ground). With ``errors`` (the realistic sample) each row's plots are shifted as its cadastral sheet is.

Scene in, table out (:func:`parcels`), written by :func:`write_parcels_geojson`.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely
from shapely.affinity import translate
from shapely.geometry.base import BaseGeometry

from geo import config
from geo.io._atomic import write_text_atomic
from geo.sample.defects import FootprintError
from geo.sample.scene import Scene
from geo.sample.write import _geojson

PLOT_FRONT_M = 4.0
PLOT_BACK_M = 5.0
PLOT_END_M = 1.0
PLOT_AROUND_M = 3.0
PLOT_CLEARANCE_M = 0.5


def parcels(scene: Scene, communes: gpd.GeoDataFrame, errors: dict[int, FootprintError] | None = None,
            ) -> gpd.GeoDataFrame:
    """The ``parcelles`` table (Lambert-93): ``id`` (INSEE code + prefix ``000`` + section ``AB`` +
    4-digit number), ``commune``, ``prefixe``, ``section``, ``numero``, ``contenance`` [m²],
    ``arpente``, ``created``, ``updated``. ``errors``: offset per roof index (:func:`geo.sample.defects.footprint_errors`)."""
    roof_index = {id(r): i for i, r in enumerate(scene.roofs)}
    built = [b for b in scene.buildings if b.category != "annexe"]
    raw: list[BaseGeometry] = []
    for b in built:
        f = b.roof.frame
        if b.category in ("coron", "semi", "house"):
            hl = f.length / 2
            u0 = b.u0 - PLOT_END_M if b.u0 <= -hl + 1e-9 else b.u0
            u1 = b.u1 + PLOT_END_M if b.u1 >= hl - 1e-9 else b.u1
            raw.append(f.rect(u0, u1, -f.width / 2 - PLOT_FRONT_M, f.width / 2 + PLOT_BACK_M))
        else:
            raw.append(b.footprint().buffer(PLOT_AROUND_M, join_style="mitre"))
    clear = [b.footprint().buffer(PLOT_CLEARANCE_M, join_style="mitre") for b in scene.buildings]
    clear_tree, raw_tree = shapely.STRtree(clear), shapely.STRtree(raw)
    plots: list[BaseGeometry] = []
    for i, (b, plot) in enumerate(zip(built, raw, strict=True)):
        # other rows' buildings stay out; where plots overlap, the first drawn keeps the ground
        cut: list[BaseGeometry] = [clear[int(k)] for k in clear_tree.query(plot, predicate="intersects")
                                   if scene.buildings[int(k)].roof is not b.roof]
        cut += [raw[int(k)] for k in raw_tree.query(plot, predicate="intersects") if int(k) < i]
        if cut:
            plot = plot.difference(shapely.union_all(cut))
        plot = max(getattr(plot, "geoms", [plot]), key=lambda g: g.area)  # the piece with the house
        if errors is not None:
            e = errors[roof_index[id(b.roof)]]
            plot = translate(plot, e.dx_m, e.dy_m)
        plots.append(plot)
    rows = []
    numbers: dict[str, int] = {}
    for plot in plots:
        c = plot.representative_point()
        code = next(str(k) for k, g in zip(communes["code"], communes.geometry, strict=True) if g.contains(c))
        numbers[code] = numbers.get(code, 0) + 1
        rows.append({
            "id": f"{code}000AB{numbers[code]:04d}", "commune": code, "prefixe": "000", "section": "AB",
            "numero": f"{numbers[code]:04d}", "contenance": int(round(plot.area)), "arpente": False,
            "created": "2012-03-01", "updated": "2024-10-01", "geometry": shapely.set_precision(plot, 0.01),
        })
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=config.WORKING_CRS)


def write_parcels_geojson(path: Path, table: gpd.GeoDataFrame) -> Path:
    """Write :func:`parcels` as ``cadastre-XXXXX-parcelles.json`` is (WGS84, 7 decimals: 1 cm)."""
    write_text_atomic(path, _geojson(table, [c for c in table.columns if c != "geometry"], nd=7))
    return path
