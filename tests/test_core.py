"""The skeleton shared by every stage: atomic outputs, CLI error reporting, pipeline stages."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo import pipeline
from geo.cli import main
from geo.errors import ArtoisError, InputError
from geo.io._atomic import atomic_path, write_text_atomic


def test_atomic_path_renames_on_success(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.txt"
    write_text_atomic(target, "bonjour")
    assert target.read_text() == "bonjour"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_atomic_path_keeps_previous_output_on_error(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half-written")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temporary file left behind


def test_input_error_names_file_and_problem() -> None:
    err = InputError("data/x.gpkg", "layer 'batiment' is empty")
    assert str(err) == "data/x.gpkg: layer 'batiment' is empty"
    assert err.path == "data/x.gpkg"


def test_cli_reports_user_errors_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere"
    code = main(["build", "--data", str(missing), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("artois: error: ") and str(missing) in err
    assert "Traceback" not in err


def test_cli_hides_internal_tracebacks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    def boom(data_dir: Path, out_dir: Path, **kw: object) -> pipeline.BuildReport:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(pipeline, "build", boom)
    code = main(["build", "--data", str(tmp_path), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1 and "internal error: ZeroDivisionError" in err and "Traceback" not in err


def test_pipeline_reports_failing_stages_and_runs_the_others(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def ok(ctx: pipeline.BuildContext) -> list[Path]:
        out = ctx.out_dir / "a.txt"
        out.write_text("x")
        return [out]

    def bad(ctx: pipeline.BuildContext) -> list[Path]:
        raise ArtoisError("data/parks/parcs.gpkg: file not found")

    stages = (pipeline.Stage("b", "failing stage", "x:y"), pipeline.Stage("a", "ok stage", "x:y"))
    loaders = {"a": ok, "b": bad}
    monkeypatch.setattr(pipeline, "STAGES", stages)
    monkeypatch.setattr(pipeline.Stage, "load", lambda self: loaders[self.name])
    report = pipeline.build(tmp_path, tmp_path / "out")
    assert not report.ok
    assert report.outputs["a"] == [tmp_path / "out" / "a.txt"]
    assert report.failed == {"b": "data/parks/parcs.gpkg: file not found"}
    assert any(line.startswith("FAILED b") for line in report.lines())
