"""The layering of docs/architecture.md, read from the source with :mod:`ast` (nothing imported).

* no import cycle among the modules of ``geo`` and ``api`` (imports inside functions count);
* ``geo.types``, ``geo.io`` and ``geo.products`` import nothing from the computation packages
  (``geo.solar``, ``geo.roofs``, ``geo.parks``), and ``geo.types`` nothing from the rest of ``geo``
  but ``geo.config`` and ``geo.errors``;
* the computation packages take their types from ``geo.types``, not from ``geo.io``;
* every build file and layer name is spelled in ``geo/products`` only.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from geo.products import addresses, irradiance, parks, rooftops, sites, tiles

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("geo", "api")
COMPUTATION = ("geo.solar", "geo.roofs", "geo.parks")


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The project module an import of ``name`` loads (the longest known prefix), or None."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


def _imports(module: str) -> Iterator[tuple[str, int]]:
    """(imported project module, line) of every import in ``module``, at any depth."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if (target := _resolve(alias.name)) is not None:
                    yield target, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                target = _resolve(f"{base}.{alias.name}") or _resolve(base)
                if target is not None:
                    yield target, node.lineno


GRAPH = {m: {t for t, _ in _imports(m) if t != m} for m in MODULES}


def _cycles() -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return found


def test_the_import_walker_sees_imports() -> None:
    # The walker itself: known edges of this code base are found (a walker that sees nothing would pass).
    assert "geo.products.rooftops" in GRAPH["geo.roofs.build"]
    assert "geo.io.gpkg" in GRAPH["geo.products.rooftops"]
    assert "geo.types" in GRAPH["geo.io.rasters"]
    assert len(GRAPH) > 80




def test_no_import_cycle_in_geo_and_api() -> None:
    assert _cycles() == []


@pytest.mark.parametrize("layer", ["geo.types", "geo.io", "geo.products"])
def test_io_and_products_import_no_computation(layer: str) -> None:
    bad = [(m, t, line) for m in MODULES if m == layer or m.startswith(layer + ".")
           for t, line in _imports(m) if t.startswith(COMPUTATION)]
    assert bad == []


def test_types_are_the_bottom_of_geo() -> None:
    allowed = {"geo", "geo.config", "geo.errors"}
    assert {t for t in GRAPH["geo.types"]} <= allowed


def test_computation_takes_no_type_from_io() -> None:
    # The physics and the analyses read nothing: types come from geo.types; only the stages (build.py)
    # and the parks model's reader use geo.io.
    bad = [(m, t, line) for m in MODULES if m.startswith(COMPUTATION) and not m.endswith(".build")
           for t, line in _imports(m) if t.startswith(("geo.io.rasters", "geo.io.weather"))]
    assert bad == []


def _product_names() -> set[str]:
    names = {irradiance.FILE, rooftops.FILE, parks.FILE, sites.FILE, addresses.FILE, rooftops.ADDRESSES_LAYER}
    names |= {layer.name for layer in rooftops.LAYERS + parks.LAYERS}
    names |= set(irradiance.WEATHER_TAGS)
    return names


# Words that are also ordinary keys (a summary's "parks" count, a sources dict's "greenways") are
# checked where they cannot mean anything else: as a layer argument or a file name.
_AMBIGUOUS = {"parks", "greenways", "buildings", "gaps", "entrances", "site", "addresses"}
_FILES = (irradiance.FILE, rooftops.FILE, parks.FILE, sites.FILE, addresses.FILE)


def _literals(path: Path) -> Iterator[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value, node.lineno


#: Where a name may still be spelled, and why.
_ALLOWED = {
    # geo.config is below geo.products (which reads it): the tile zooms are keyed by collection id.
    "geo/config.py": "TILE_MIN_ZOOM",
    # The counts of the sample's truth (inputs), not layers.
    "geo/cli/sample.py": "sample counts",
    # FastAPI needs the export layers spelled in a Literal for the OpenAPI enum.
    "api/routers/exports.py": "Literal path parameter",
}


def test_build_file_and_layer_names_are_spelled_in_geo_products_only() -> None:
    names = _product_names()
    strict = names - _AMBIGUOUS
    found = []
    for module, path in MODULES.items():
        if module.startswith("geo.products") or module.startswith("geo.sample"):
            continue  # the sample writes inputs, whose layers have other names
        if str(path.relative_to(ROOT)) in _ALLOWED:
            continue
        for value, line in _literals(path):
            if (value in strict or any(value.endswith("/" + n) for n in _FILES)
                    or value.endswith(tiles.SUFFIX)):  # an archive's name, e.g. f"{collection}.pmtiles"
                found.append(f"{path.relative_to(ROOT)}:{line}: {value!r}")
    assert found == []


def test_the_name_check_finds_names() -> None:
    # The check above would pass on a code base where it sees nothing: it sees the products module.
    seen = {v for p in (ROOT / "geo" / "products").glob("*.py") for v, _ in _literals(p)}
    assert {rooftops.FILE, "roof_faces", "communes_access", "WEATHER_SOURCE", addresses.FILE, tiles.SUFFIX} <= seen
