"""``artois build``: run every stage of the pipeline on a data folder.

Each stage reads its inputs through :mod:`geo.io`, calls the pure computation and writes its
products through :mod:`geo.products`; it is a function ``fn(ctx: BuildContext) -> list[Path]``
returning the files it wrote, named here by dotted path so that it lives beside the computation
it drives. The :class:`BuildContext` carries what several stages share, read once per build:
the data folder, the output folder and the weather. A stage that fails with an
:class:`~geo.errors.ArtoisError` (e.g. a missing input) is reported and the others still run.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from geo.errors import ArtoisError
from geo.io.weather import load_weather
from geo.products import BuildFolder
from geo.types import Weather

log = logging.getLogger("artois.build")

#: Weather file names looked for in ``DATA/rooftops`` (first found), else the offline default.
WEATHER_FILES = ("weather.epw", "weather.json", "weather.csv")


def find_weather_file(folder: Path) -> Path | None:
    """``weather.epw``, ``weather.json`` or ``weather.csv`` in ``folder`` (first found), else None."""
    for name in WEATHER_FILES:
        if (folder / name).is_file():
            return folder / name
    return None


@dataclass
class BuildContext:
    """What the stages of one build share.

    Attributes
    ----------
    data_dir
        The input folder (docs/formats.md).
    out_dir
        The build folder; :attr:`products` gives its files.
    """

    data_dir: Path
    out_dir: Path
    _weather: Weather | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.data_dir, self.out_dir = Path(self.data_dir), Path(self.out_dir)

    @property
    def products(self) -> BuildFolder:
        return BuildFolder(self.out_dir)

    @cached_property
    def weather(self) -> Weather:
        """The build's weather, read once: ``DATA/rooftops/weather.{epw,json,csv}``, else the offline default."""
        if self._weather is not None:
            return self._weather
        return load_weather(find_weather_file(self.data_dir / "rooftops"))


StageFn = Callable[[BuildContext], list[Path]]


@dataclass(frozen=True)
class Stage:
    name: str
    description: str
    target: str  # "module:function"

    def load(self) -> StageFn:
        module_name, func_name = self.target.split(":")
        fn: StageFn = getattr(importlib.import_module(module_name), func_name)
        return fn


#: In dependency order: roofs read the irradiation raster.
STAGES: tuple[Stage, ...] = (
    Stage("irradiance", "annual irradiation raster with shading (geo.products.irradiance)",
          "geo.solar.build:build_irradiance"),
    Stage("roofs", "roof faces, buildings and commune totals (geo.products.rooftops)", "geo.roofs.build:build_roofs"),
    Stage("parks", "Chaîne des Parcs network, access and gaps (geo.products.parks)", "geo.parks.build:build_parks"),
)


@dataclass
class BuildReport:
    outputs: dict[str, list[Path]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed

    def lines(self) -> list[str]:
        out = []
        for name, paths in self.outputs.items():
            out.append(f"built {name} in {self.seconds[name]:.1f} s: " + ", ".join(str(p) for p in paths))
        for name, why in self.failed.items():
            out.append(f"FAILED {name}: {why}")
        return out


def build(data_dir: str | Path, out_dir: str | Path, *, only: Sequence[str] | None = None) -> BuildReport:
    """Run the stages (all, or ``only`` those named) from ``data_dir`` into ``out_dir``."""
    ctx = BuildContext(Path(data_dir), Path(out_dir))
    if not ctx.data_dir.is_dir():
        raise ArtoisError(f"{ctx.data_dir}: data folder not found (run 'artois sample --out {ctx.data_dir}' first)")
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    report = BuildReport()
    for stage in STAGES:
        if only and stage.name not in only:
            continue
        fn = stage.load()
        log.info("== %s: %s", stage.name, stage.description)
        t0 = time.perf_counter()
        try:
            report.outputs[stage.name] = fn(ctx)
        except ArtoisError as exc:
            report.failed[stage.name] = str(exc)
            continue
        report.seconds[stage.name] = time.perf_counter() - t0
    return report
