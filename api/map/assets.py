"""Where the map's static assets come from, and safe resolution of a requested asset.

Third-party code is never committed: Leaflet comes from the installed PyPI package
``xstatic-leaflet``; Leaflet.VectorGrid from the npm package ``leaflet.vectorgrid``,
installed by ``make js`` (``npm ci --prefix api/map``) into the git-ignored
``api/map/node_modules``. Our own files live in ``api/map/static``.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from geo.errors import NotFoundError

MAP_DIR = Path(__file__).resolve().parent
OWN_STATIC_DIR = MAP_DIR / "static"
TEMPLATES_DIR = MAP_DIR / "templates"
#: Folder of the npm packages (``make js``); ``ARTOIS_NODE_MODULES`` overrides it.
NODE_MODULES_DIR = Path(os.environ.get("ARTOIS_NODE_MODULES", MAP_DIR / "node_modules"))

#: URL prefix under which the router serves the assets.
STATIC_PREFIX = "/static"

#: Files the page needs, by library: (library, path inside it).
LEAFLET_JS = ("leaflet", "leaflet.js")
LEAFLET_CSS = ("leaflet", "leaflet.css")
VECTORGRID_JS = ("vectorgrid", "Leaflet.VectorGrid.bundled.min.js")
APP_JS = ("map", "artois-map.js")
APP_CSS = ("map", "artois-map.css")
SITES_JS = ("map", "artois-sites.js")  # friches and APER car parks (geo/sites/)
PLANNER_JS = ("map", "artois-planner.js")

#: What to do when a library is missing, in words for the error message.
_INSTALL_HINT = {
    "leaflet": "pip install xstatic-leaflet",
    "vectorgrid": "run 'make js' (npm ci --prefix api/map)",
    "map": "reinstall the package",
}


@cache
def _leaflet_dir() -> Path | None:
    try:
        import xstatic.pkg.leaflet as xleaflet
    except ImportError:
        return None
    return Path(xleaflet.BASE_DIR)


def asset_roots() -> dict[str, Path | None]:
    """Folder of each library the router serves (``None`` when it is not installed)."""
    vectorgrid = NODE_MODULES_DIR / "leaflet.vectorgrid" / "dist"
    return {
        "leaflet": _leaflet_dir(),
        "vectorgrid": vectorgrid if vectorgrid.is_dir() else None,
        "map": OWN_STATIC_DIR,
    }


def asset_url(asset: tuple[str, str]) -> str:
    """URL of one asset, e.g. ``/static/leaflet/leaflet.js``."""
    library, name = asset
    return f"{STATIC_PREFIX}/{library}/{name}"


def resolve_asset(library: str, name: str) -> Path:
    """Absolute path of the file ``name`` of ``library``.

    Raises
    ------
    NotFoundError
        Unknown library, library not installed (the message says how to install it), a
        path leaving the library's folder, or no such file.
    """
    roots = asset_roots()
    if library not in roots:
        raise NotFoundError(f"unknown static library '{library}' (known: {', '.join(sorted(roots))})")
    root = roots[library]
    if root is None:
        raise NotFoundError(f"static library '{library}' is not installed: {_INSTALL_HINT[library]}")
    root = root.resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFoundError(f"no static file '{name}' in '{library}'")
    return path


def missing_libraries() -> list[str]:
    """Libraries the page needs that are not installed, with how to install each."""
    return [f"{lib}: {_INSTALL_HINT[lib]}" for lib, root in asset_roots().items() if root is None]
