"""The roofs stage's per-group build state: one GeoParquet file per group of buildings.

Intermediate files of ``artois build`` (under ``BUILD/.build/tiles/roofs/``), not products: the
faces of one group (:func:`geo.roofs.build.roofs_group`) with, in the file's metadata, the
status of each member building and the orientation bin of each PV profile the faces use (the
profiles themselves are recomputed from the site model when the groups are assembled).

Written atomically (:mod:`geo.io._atomic`): a file that exists is complete, so a killed build
re-run computes only the groups without one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pyarrow as pa
import pyarrow.parquet as pq

from geo.errors import InputError
from geo.io._atomic import atomic_path

#: Key of the JSON metadata in the Parquet schema.
_META_KEY = b"artois:roof_group"
#: Columns holding shapely geometries besides the active ``geometry``.
_GEOMETRY_COLUMNS = ("usable_geometry",)


@dataclass(frozen=True)
class RoofGroupFile:
    """What one group file holds.

    Attributes
    ----------
    faces
        The members' scored faces (``roof_faces`` rows plus ``usable_geometry``), None when the
        DSM has no data over the group.
    status
        ``building_id`` → status (ok / no_face / no_valid_pixel…) of every member.
    profile_bins
        ``profile_id`` → (tilt [°], azimuth [°], rack) of the PV profiles the faces use.
    economics
        ``building_id`` → {field: number or text} of the members with faces
        (:func:`geo.roofs.aggregate.building_economics`; stored as JSON, floats exactly), None in
        files written before it was stored.
    """

    faces: gpd.GeoDataFrame | None
    status: dict[str, str]
    profile_bins: dict[str, tuple[float, float, bool]]
    economics: dict[str, dict[str, object]] | None = None


def write_roof_group(path: str | Path, group: RoofGroupFile, *, crs: object) -> Path:
    """Write ``group`` to ``path`` (GeoParquet, atomically)."""
    faces = group.faces
    has_faces = faces is not None
    if faces is None:
        faces = gpd.GeoDataFrame({"building_id": []}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    faces = faces.copy()
    for col in _GEOMETRY_COLUMNS:
        if col in faces.columns:
            faces[col] = gpd.GeoSeries(faces[col].to_numpy(), crs=faces.crs, index=faces.index)
    meta = {"has_faces": has_faces, "status": group.status,
            "profile_bins": {k: list(v) for k, v in group.profile_bins.items()}, "economics": group.economics}
    table = pa.table(faces.to_arrow(index=False, geometry_encoding="WKB"))
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           _META_KEY: json.dumps(meta).encode()})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return Path(path)


def read_roof_group(path: str | Path) -> RoofGroupFile:
    """Read a file of :func:`write_roof_group`; :class:`InputError` naming it when it is not one."""
    path = Path(path)
    try:
        table = pq.read_table(path)
        meta = json.loads(table.schema.metadata[_META_KEY])
        faces = gpd.GeoDataFrame.from_arrow(table, geometry="geometry")
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise InputError(path, f"not a roofs group file of this build ({exc}); delete it to recompute") from exc
    bins = {str(k): (float(v[0]), float(v[1]), bool(v[2])) for k, v in meta["profile_bins"].items()}
    econ = meta.get("economics")
    if not meta["has_faces"]:
        return RoofGroupFile(None, dict(meta["status"]), bins, econ)
    for col in _GEOMETRY_COLUMNS:
        if col in faces.columns:
            faces[col] = faces[col].to_numpy()  # plain shapely objects, as the segmentation gives them
    return RoofGroupFile(faces, dict(meta["status"]), bins, econ)
