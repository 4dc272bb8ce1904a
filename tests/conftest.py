"""Shared fixtures: the small generated sample territory, its build, and the real data in ../shared."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_REAL = REPO.parent / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def shared_real() -> Path:
    """../shared/data/real (real PMA communes, Athens LiDAR + EPW); skips when absent."""
    if not SHARED_REAL.is_dir():
        pytest.skip("../shared/data/real is not present")
    return SHARED_REAL


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small (500 m x 500 m) sample territory with the defects of real data (the default),
    generated once per test session."""
    from geo.sample import generate_sample

    out = tmp_path_factory.mktemp("sample")
    generate_sample(out, small=True, seed=0)
    return out


@pytest.fixture(scope="session")
def clean_sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small sample without defects (``artois sample --clean``): exact DSM and footprints,
    for the tests that check exact geometry."""
    from geo.sample import generate_sample

    out = tmp_path_factory.mktemp("clean_sample")
    generate_sample(out, small=True, seed=0, clean=True)
    return out


@pytest.fixture(scope="session")
def built_dir(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``artois build`` run on the small sample, once per test session; every stage must have built."""
    from geo.pipeline import STAGES, build

    out = tmp_path_factory.mktemp("build")
    report = build(sample_dir, out)
    assert report.ok and set(report.outputs) == {s.name for s in STAGES}, report.lines()
    return out
