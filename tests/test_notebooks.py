"""The notebooks run from top to bottom on the small sample (nbclient, the built session sample), and are
committed without outputs."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
REPO = Path(__file__).resolve().parents[1]


def test_there_are_notebooks_for_both_products() -> None:
    assert {p.name for p in NOTEBOOKS} >= {"cadastre_solaire.ipynb", "chaine_des_parcs.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stripped(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: outputs committed"
        assert "attachments" not in cell or not cell.attachments


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_on_the_small_sample(path: Path, built_dir: Path, sample_dir: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from nbclient import NotebookClient

    monkeypatch.setenv("ARTOIS_BUILD", str(built_dir))
    monkeypatch.setenv("ARTOIS_DATA", str(sample_dir))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(o.output_type in ("stream", "execute_result", "display_data") for o in outputs)
