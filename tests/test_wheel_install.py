"""The wheel, installed into a fresh virtualenv, serves a complete map: no npm, no source tree.

``pip wheel .`` builds the package and a new virtualenv (no system site-packages) gets it. Its
dependencies come, by default, from this environment: only the distributions the wheel declares and what
they require in turn (the transitive closure of its metadata's ``Requires-Dist``) are linked into a folder
the new virtualenv reads through a ``.pth`` file, so a dependency the code uses but the wheel does not
declare fails the test, in seconds. ``ARTOIS_WHEEL_FROM_INDEX=1`` installs them from the package index
instead (what a user's ``pip install`` does; ~9 minutes here). ``artois serve`` of that virtualenv, started
outside the repository and without PYTHONPATH, serves the built sample; headless Chromium opens the map,
zooms onto roofs (vector tiles from the PMTiles archives, drawn by the vendored Leaflet.VectorGrid) and
down to the buildings: no response is a 404 (or any error), no console error.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from test_map_browser import CHROMIUM, _free_port, _load, _open, _view, serving

REPO = Path(__file__).resolve().parents[1]
VECTORGRID = "api/map/static/vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (install it: make browser)"),
]


def _clean_env() -> dict[str, str]:
    """This environment without anything pointing at the source tree or the shared virtualenv."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-q", "-w", str(tmp / "dist")],
                   check=True, cwd=tmp, env=_clean_env(), timeout=600)
    wheel = next((tmp / "dist").glob("artois_solaire_parcs-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert VECTORGRID in names and VECTORGRID.replace("Leaflet.VectorGrid.bundled.min.js", "LICENSES.md") in names
    assert not any("node_modules" in n for n in names)
    env = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True, env=_clean_env())
    pip = [str(env / "bin" / "pip"), "install", "-q", "--disable-pip-version-check"]
    if os.environ.get("ARTOIS_WHEEL_FROM_INDEX") == "1":
        subprocess.run([*pip, str(wheel)], check=True, cwd=tmp, env=_clean_env(), timeout=3600)
    else:
        subprocess.run([*pip, "--no-deps", "--no-index", str(wheel)], check=True, cwd=tmp, env=_clean_env())
        requires = md.Distribution.at(_dist_info(env)).requires or []
        site = Path(subprocess.run([str(env / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path("
                                    "'purelib'))"], check=True, capture_output=True, text=True).stdout.strip())
        (site / "zz-declared-dependencies.pth").write_text(str(_link_dependencies(requires, tmp / "deps")) + "\n")
    where = subprocess.run([str(env / "bin" / "python"), "-c", "import api, geo; print(api.__file__, geo.__file__)"],
                           check=True, cwd=tmp, env=_clean_env(), capture_output=True, text=True).stdout.split()
    assert all(Path(p).is_relative_to(env) for p in where), where  # the installed copy, not the worktree
    return env


def _dist_info(env: Path) -> Path:
    return next(env.glob("lib/python*/site-packages/artois_solaire_parcs-*.dist-info"))


def _link_dependencies(requires: list[str], folder: Path) -> Path:
    """Link into ``folder`` the top-level modules of the distributions ``requires`` names and of those they
    require in turn (extras and environment markers honoured), from this environment."""
    folder.mkdir()
    site = Path(sysconfig.get_path("purelib"))
    todo = [(Requirement(r), "") for r in requires]
    seen: set[str] = set()
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        seen.add(name)
        dist = md.distribution(req.name)  # PackageNotFoundError: declared but not installed here
        assert dist.version in req.specifier or not req.specifier, (req, dist.version)
        for entry in {f.parts[0] for f in dist.files or [] if f.parts[0] not in ("..", "__pycache__")}:
            if entry.endswith(".pth") or (folder / entry).exists() or not (site / entry).exists():
                continue
            (folder / entry).symlink_to(site / entry)
        todo += [(Requirement(r), e) for r in dist.requires or [] for e in ("", *req.extras)]
    return folder


@pytest.fixture(scope="module")
def wheel_server(venv: Path, built_dir: Path, sample_dir: Path, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[str]:
    serve_dir = tmp_path_factory.mktemp("wheel_serve")
    for p in built_dir.iterdir():
        (serve_dir / p.name).symlink_to(p)
    for csv in sorted((sample_dir / "rooftops").glob("adresses-*.csv")):
        (serve_dir / csv.name).symlink_to(csv)
    assert (serve_dir / "tiles" / "roof_faces.pmtiles").is_file(), "the build has no prebuilt tiles"
    port = _free_port()
    log = serve_dir.parent / "wheel_serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(venv / "bin" / "artois"), "serve", "--data", str(serve_dir), "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, cwd=serve_dir.parent, env=_clean_env())
    base = f"http://127.0.0.1:{port}"
    with serving(proc, base, log):
        yield base


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python) is not installed")
    with sync_api.sync_playwright() as p:
        yield from _open(p, tmp_path, width=1366, height=850)


def test_installed_wheel_serves_the_whole_map(session: Any, wheel_server: str) -> None:
    failed: list[str] = []
    tiles: dict[str, int] = {}
    session.page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    def count_tile(r: Any) -> None:
        if "/tiles/" in r.url and r.url.endswith(".pbf") and r.status == 200:
            layer = r.url.split("/tiles/")[1].split("/")[0]
            tiles[layer] = tiles.get(layer, 0) + 1

    session.page.on("response", count_tile)
    _load(session, wheel_server)
    with httpx.Client(base_url=wheel_server) as api:
        b = api.get("/ogc/collections/roof_faces").json()["extent"]["spatial"]["bbox"][0]
        assert api.get("/static/vectorgrid/Leaflet.VectorGrid.bundled.min.js").status_code == 200
    lat, lon = (b[1] + b[3]) / 2, (b[0] + b[2]) / 2
    for zoom in (17, 14):  # roof faces (archive z16-18), then buildings (z13-15)
        _view(session, lat, lon, zoom)
        session.page.wait_for_selector(".leaflet-artoisRoofs-pane path", state="attached")
        session.page.wait_for_load_state("networkidle")
    assert tiles.get("roof_faces", 0) >= 1 and tiles.get("buildings", 0) >= 1, tiles
    assert failed == []
    assert session.console_errors == []
    assert session.external_requests() == []
