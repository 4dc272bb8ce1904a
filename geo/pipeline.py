"""``artois build``: run every stage of the pipeline on a data folder.

Stages are looked up by dotted path so each lives beside the computation it drives:
``fn(data_dir, out_dir) -> list[Path]`` returns the files it wrote. A stage whose inputs
are absent is skipped with a message saying what is missing; a stage that fails with an
:class:`~geo.errors.ArtoisError` is reported and the others still run.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from geo.errors import ArtoisError

log = logging.getLogger("artois.build")

StageFn = Callable[[Path, Path], list[Path]]


class StageSkipped(ArtoisError):
    """Raised by a stage whose optional inputs are absent: reported as not built, not as a failure."""


@dataclass(frozen=True)
class Stage:
    name: str
    description: str
    target: str  # "module:function"

    def load(self) -> StageFn | None:
        module_name, func_name = self.target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                return None
            raise
        fn: StageFn = getattr(module, func_name)
        return fn


#: In dependency order: roofs and sites read the irradiation raster.
STAGES: tuple[Stage, ...] = (
    Stage("irradiance", "annual irradiation raster with shading (build/irradiance.tif)", "geo.solar.build:build_irradiance"),
    Stage("roofs", "roof faces, buildings and commune totals (build/rooftops.gpkg)", "geo.roofs.build:build_roofs"),
    Stage("sites", "ground PV on friches and terrils, APER car parks (build/sites.gpkg)",
          "geo.sites.build:build_sites"),
    Stage("parks", "Chaîne des Parcs network, access and gaps (build/parks.gpkg)", "geo.parks.build:build_parks"),
)


@dataclass
class BuildReport:
    outputs: dict[str, list[Path]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed

    def lines(self) -> list[str]:
        out = []
        for name, paths in self.outputs.items():
            out.append(f"built {name} in {self.seconds[name]:.1f} s: " + ", ".join(str(p) for p in paths))
        for name, why in self.skipped.items():
            out.append(f"not built {name}: {why}")
        for name, why in self.failed.items():
            out.append(f"FAILED {name}: {why}")
        return out


def build(data_dir: str | Path, out_dir: str | Path, *, only: Sequence[str] | None = None) -> BuildReport:
    """Run the stages (all, or ``only`` those named) from ``data_dir`` into ``out_dir``."""
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    if not data_dir.is_dir():
        raise ArtoisError(f"{data_dir}: data folder not found (run 'artois sample --out {data_dir}' first)")
    out_dir.mkdir(parents=True, exist_ok=True)
    report = BuildReport()
    for stage in STAGES:
        if only and stage.name not in only:
            continue
        fn = stage.load()
        if fn is None:
            report.skipped[stage.name] = "this stage is not implemented yet"
            continue
        log.info("== %s: %s", stage.name, stage.description)
        t0 = time.perf_counter()
        try:
            report.outputs[stage.name] = fn(data_dir, out_dir)
        except StageSkipped as exc:
            report.skipped[stage.name] = str(exc)
            continue
        except ArtoisError as exc:
            report.failed[stage.name] = str(exc)
            continue
        report.seconds[stage.name] = time.perf_counter() - t0
    return report
