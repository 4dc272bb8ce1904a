"""Compare two build folders product by product (is a refactoring output-neutral?).

``irradiance.vrt`` and each of its tile files must be byte-identical (else the differing tags, or the
largest difference per band of each differing tile, are reported);
each layer of ``rooftops.gpkg`` and ``parks.gpkg`` must have the same rows with the same values:
numbers equal to ``tol`` (absolute or relative, NaN equals NaN), text and flags equal, geometries
equal to ``tol`` [m]. Columns only in the second build are listed as additions, not differences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from geo.errors import InputError
from geo.io._atomic import file_sha256
from geo.products import BuildFolder, irradiance, parks, rooftops
from geo.products.schema import Layer


@dataclass
class Comparison:
    """What differs between build A and build B (empty ``differences``: the same outputs)."""

    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not self.differences


def _compare_irradiance(a: Path, b: Path, out: Comparison) -> None:
    files_a, files_b = irradiance.product_files(a), irradiance.product_files(b)
    rel_a = [p.relative_to(a.parent).as_posix() for p in files_a]
    rel_b = [p.relative_to(b.parent).as_posix() for p in files_b]
    if rel_a != rel_b:
        only = sorted(set(rel_a) ^ set(rel_b))
        out.differences.append(f"{irradiance.FILE}: not the same tiles ({len(only)} in one build only"
                               f"{', e.g. ' + only[0] if only else ', in another order'})")
        return
    differing = [(name, fa, fb) for name, fa, fb in zip(rel_a, files_a, files_b, strict=True)
                 if file_sha256(fa) != file_sha256(fb)]
    if not differing:
        out.checked.append(f"{irradiance.FILE}: byte-identical, with its {len(files_a) - 1} tile file(s)")
        return
    ha, hb = irradiance.read_header(a), irradiance.read_header(b)
    if ha.shape != hb.shape or ha.transform != hb.transform or ha.crs != hb.crs:
        out.differences.append(f"{irradiance.FILE}: grids differ ({ha.shape} vs {hb.shape})")
        return
    n_before = len(out.differences)
    for name, fa, fb in differing:
        ta, tb = irradiance.read_header(fa), irradiance.read_header(fb)
        for k in sorted(set(ta.tags) | set(tb.tags)):
            if ta.tags.get(k) != tb.tags.get(k):
                out.differences.append(f"{name}: tag {k}: {ta.tags.get(k)!r} vs {tb.tags.get(k)!r}")
        if len(files_a) > 1 and fa == files_a[0]:
            continue  # the mosaic's pixels are its tiles'
        if ta.shape != tb.shape or ta.transform != tb.transform:
            out.differences.append(f"{name}: grids differ ({ta.shape} vs {tb.shape})")
            continue
        va, vb = irradiance.read_tile(fa), irradiance.read_tile(fb)
        for i, band in enumerate(irradiance.BANDS):
            x, y = va[i], vb[i]
            if not np.array_equal(np.isnan(x), np.isnan(y)):
                out.differences.append(f"{name}: band {band.name}: computed pixels differ")
            elif not np.array_equal(x, y, equal_nan=True):
                d = float(np.nanmax(np.abs(x - y)))
                out.differences.append(f"{name}: band {band.name}: max |difference| {d:.3g} {band.unit}")
    if len(out.differences) == n_before:
        out.differences.append(f"{irradiance.FILE}: same pixels and tags but not byte-identical "
                               f"({', '.join(n for n, _, _ in differing[:3])}{'…' if len(differing) > 3 else ''})")


def _values_equal(x: pd.Series, y: pd.Series, tol: float) -> tuple[bool, str]:
    if pd.api.types.is_bool_dtype(x) or pd.api.types.is_bool_dtype(y):
        same = x.astype(object).equals(y.astype(object))
        return same, "" if same else "flags differ"
    if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
        a, b = x.to_numpy(float, na_value=np.nan), y.to_numpy(float, na_value=np.nan)
        nan_a, nan_b = np.isnan(a), np.isnan(b)
        if not np.array_equal(nan_a, nan_b):
            return False, f"{int((nan_a != nan_b).sum())} null(s) differ"
        ok = ~nan_a
        diff = np.abs(a[ok] - b[ok])
        bad = diff > tol * np.maximum(1.0, np.abs(a[ok]))
        if bad.any():
            return False, f"{int(bad.sum())} value(s) differ, max |difference| {float(diff.max()):.3g}"
        return True, ""
    xs = x.astype(object).where(x.notna(), None).tolist()
    ys = y.astype(object).where(y.notna(), None).tolist()
    n = sum(1 for p, q in zip(xs, ys, strict=True) if p != q)
    return n == 0, f"{n} value(s) differ" if n else ""


def _compare_layer(name: str, layer: Layer, a: pd.DataFrame, b: pd.DataFrame, tol: float, out: Comparison) -> None:
    where = f"{name}:{layer.name}"
    if len(a) != len(b):
        out.differences.append(f"{where}: {len(a)} vs {len(b)} rows")
        return
    geom_a = a.geometry.name if hasattr(a, "geometry") and "geometry" in a else None
    cols_a = [c for c in a.columns if c != geom_a]
    cols_b = [c for c in b.columns if c != geom_a]
    gone = [c for c in cols_a if c not in cols_b]
    if gone:
        out.differences.append(f"{where}: column(s) missing in B: {', '.join(gone)}")
    added = [c for c in cols_b if c not in cols_a]
    if added:
        out.notes.append(f"{where}: column(s) added in B: {', '.join(added)}")
    for c in cols_a:
        if c in cols_b:
            same, why = _values_equal(a[c].reset_index(drop=True), b[c].reset_index(drop=True), tol)
            if not same:
                out.differences.append(f"{where}: column {c}: {why}")
    if geom_a is not None:
        ga, gb = a.geometry.to_numpy(), b.geometry.to_numpy()
        eq = shapely.equals_exact(ga, gb, tolerance=tol) | (shapely.is_empty(ga) & shapely.is_empty(gb))
        eq |= pd.isna(ga) & pd.isna(gb)
        if not eq.all():
            out.differences.append(f"{where}: {int((~eq).sum())} geometr(y/ies) differ")
    out.checked.append(f"{where}: {len(a)} rows, {len(cols_a)} columns")


def _compare_gpkg(name: str, a: Path, b: Path, layers: tuple[Layer, ...], read: object, tol: float,
                  out: Comparison) -> None:
    from geo.io.vectors import list_layers

    in_a, in_b = set(list_layers(a)), set(list_layers(b))
    for layer in layers:
        if layer.name not in in_a and layer.name not in in_b:
            continue
        if layer.name not in in_b or layer.name not in in_a:
            out.differences.append(f"{name}: layer {layer.name} only in {'A' if layer.name in in_a else 'B'}")
            continue
        da = read(a, layer, strict=False)  # type: ignore[operator]
        db = read(b, layer, strict=False)  # type: ignore[operator]
        _compare_layer(name, layer, da, db, tol, out)


def compare_builds(a: str | Path, b: str | Path, *, tol: float = 1e-9) -> Comparison:
    """Compare the products of build folders ``a`` and ``b`` (see the module docstring)."""
    fa, fb = BuildFolder(Path(a)), BuildFolder(Path(b))
    out = Comparison()
    for kind in ("irradiance", "rooftops", "parks"):
        pa, pb = getattr(fa, kind), getattr(fb, kind)
        if not pa.exists() and not pb.exists():
            continue
        if not pa.exists() or not pb.exists():
            out.differences.append(f"{pa.name}: only in {'A' if pa.exists() else 'B'}")
            continue
        try:
            if kind == "irradiance":
                _compare_irradiance(pa, pb, out)
            elif kind == "rooftops":
                _compare_gpkg(rooftops.FILE, pa, pb, rooftops.LAYERS, rooftops.read_layer, tol, out)
            else:
                _compare_gpkg(parks.FILE, pa, pb, parks.LAYERS, parks.read_layer, tol, out)
        except InputError as exc:
            out.differences.append(str(exc))
    return out
