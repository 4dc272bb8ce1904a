"""The report as a PDF made on the server (GET /rapport/{building_id}.pdf, WeasyPrint).

The PDF is read back with poppler's command-line tools (pdftotext, pdfinfo, pdffonts — Debian poppler-utils),
independent of the code that wrote it: its key figures equal /api/roof's, it is A4, every font is embedded,
and a page rendered by pdftoppm is kept for a look (``ARTOIS_SCREENSHOTS=dir``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyogrio
import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")


@pytest.fixture(scope="module")
def built(built_dir: Path) -> Iterator[TestClient]:
    from api.app import create_app
    from api.settings import Settings

    with TestClient(create_app(Settings(data_dir=built_dir))) as c:
        yield c


def _poppler(tool: str, pdf: Path, *args: str) -> str:
    return subprocess.run([tool, *args, str(pdf), *(["-"] if tool == "pdftotext" else [])], check=True,
                          capture_output=True, text=True).stdout


def _number(text: str) -> float:
    """A French-formatted number ('1 502', '1,70') → float (any kind of space as thousands separator)."""
    return float(re.sub(r"\s", "", text).replace(",", "."))


def _key_figures(text: str) -> dict[str, str]:
    """The summary band's four values, by label (pdftotext -layout keeps them on one line, in columns)."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    i = next(k for k, ln in enumerate(lines) if "Production estimée" in ln and "Classe de la toiture" in ln)
    labels = [s.strip() for s in re.split(r"\s{2,}", lines[i].strip())]
    # the first line below with four columns (a label may wrap onto a second line)
    values = next(v for ln in lines[i + 1:i + 4] if len(v := [s.strip() for s in re.split(r"\s{2,}", ln.strip())]) == 4)
    assert len(labels) == len(values) == 4, (labels, values)
    return dict(zip(labels, values, strict=True))


def _pick(built_dir: Path) -> list[str]:
    b = pyogrio.read_dataframe(built_dir / "rooftops.gpkg", layer="buildings")
    b = b[b["reco_kwp"] > 0]
    paying = b[np.isfinite(b["reco_payback_yr"])].sort_values("reco_production_kwh_yr")
    never = b[~np.isfinite(b["reco_payback_yr"])]
    assert len(paying)
    return [paying["building_id"].iloc[-1], *never["building_id"].iloc[:1]]


def test_pdf_figures_equal_api_roof(built: TestClient, built_dir: Path, tmp_path: Path) -> None:
    b = pyogrio.read_dataframe(built_dir / "rooftops.gpkg", layer="buildings").set_index("building_id")
    for k, bid in enumerate(_pick(built_dir)):
        pt = b.loc[[bid]].to_crs("EPSG:4326").geometry.representative_point().iloc[0]
        roof = built.get("/api/roof", params={"lon": pt.x, "lat": pt.y}).json()["building"]["properties"]
        assert roof["building_id"] == bid
        r = built.get(f"/rapport/{bid}.pdf")
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        assert r.content.startswith(b"%PDF-")
        pdf = tmp_path / f"{bid}.pdf"
        pdf.write_bytes(r.content)
        page1 = _poppler("pdftotext", pdf, "-layout").split("\f")[0]
        kwp = re.search(r"(\d+,\d\d) kWc", page1)  # the summary band comes first
        kwh = re.search(r"(\d{1,3}(?:[\u202f\u00a0 ]\d{3})*) kWh/an", page1)
        assert kwp and kwh, page1[:1500]
        assert abs(_number(kwp.group(1)) - roof["reco_kwp"]) <= 0.005
        assert abs(_number(kwh.group(1)) - roof["reco_production_kwh_yr"]) <= 0.5
        m = re.search(r"(?<!pas )rentabilisé en (\d+(,\d)?) ans", page1)
        if roof["reco_payback_yr"] is None:
            assert m is None, page1[:1500]
        else:  # written with one decimal, or in whole years
            assert m and abs(_number(m.group(1)) - roof["reco_payback_yr"]) <= (0.05 if m.group(2) else 0.5)
        info = _poppler("pdfinfo", pdf)
        assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info), info
        pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
        assert 1 <= pages <= 4  # the report grew to 4 A4 pages with the economics section of main
        fonts = _poppler("pdffonts", pdf).splitlines()[2:]
        assert fonts and all(ln.split()[-5] == "yes" for ln in fonts), fonts  # the "emb" column
        if k == 0 and (shots := os.environ.get("ARTOIS_SCREENSHOTS")):
            subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf),
                            str(Path(shots) / "rapport-pdf")], check=True)


def test_pdf_keeps_the_report_parameters_and_errors(built: TestClient, built_dir: Path, tmp_path: Path) -> None:
    bid = _pick(built_dir)[0]
    sim = built.post("/api/simulate", json={"building_id": bid, "annual_consumption_kwh": 8000, "kwp": 3.0}).json()
    r = built.get(f"/rapport/{bid}.pdf", params={"consommation": 8000, "kwp": 3.0})
    pdf = tmp_path / "p.pdf"
    pdf.write_bytes(r.content)
    figures = _key_figures(_poppler("pdftotext", pdf, "-layout"))
    kwh = re.fullmatch(r"([\d\s,]+) kWh/an", figures["Production estimée"])
    assert kwh and abs(_number(kwh.group(1)) - sim["economics"]["production_kwh_yr"]) <= 0.5
    html = built.get(f"/rapport/{bid}", params={"consommation": 8000, "kwp": 3.0}).text
    assert f'href="{bid}.pdf?consommation=8000&amp;kwp=3"' in html  # the page's PDF link keeps its figures
    r = built.get("/rapport/INCONNU.pdf")
    assert r.status_code == 404 and "inconnu" in r.json()["detail"].lower()
    assert built.get(f"/rapport/{bid}.pdf", params={"kwp": -1}).status_code == 422


def test_page_svg_rules_go_inside_the_svgs() -> None:
    from api.pdf import svg_styles_inline

    html = ("<style>\nbody { margin: 0; }\nsvg.chart .bar { fill: #f08a24; }\n"
            "svg.plan .face-label { fill: #111; paint-order: stroke; stroke: #fff; stroke-width: 3px; }\n</style>"
            '<svg class="chart"><rect class="bar"/></svg><p>x</p><svg class="plan"></svg>')
    out = svg_styles_inline(html)
    inner = '<style>svg.chart .bar { fill: #f08a24; } svg.plan .face-label { fill: #111; }</style>'
    assert out.count(inner) == 2  # one per <svg>, page rules dropped, the halo's stroke dropped
    assert out.index(inner) > out.index('<svg class="chart">')
    assert "body { margin" not in out.split("</style>", 1)[1]
