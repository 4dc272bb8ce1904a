"""The vocabulary the product definitions are written in: columns, layers, bands (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from geo.errors import InputError


@dataclass(frozen=True)
class Column:
    """One attribute of a layer.

    Attributes
    ----------
    name
        Column name in the file.
    unit
        Unit (``kWh/m²/yr``, ``m``, ``°``, ``0–1``, ``€``…) or ``""`` for ids, words and flags.
    description
        What it is, in a line (docs/data-dictionary.md says more).
    """

    name: str
    unit: str = ""
    description: str = ""


def monthly(template: str, unit: str, description: str) -> tuple[Column, ...]:
    """Twelve columns ``template.format(m=1…12)`` (``{m:02d}`` in the template), January first."""
    return tuple(Column(template.format(m=m), unit, f"{description}, month {m:02d}") for m in range(1, 13))


@dataclass(frozen=True)
class Layer:
    """A layer of a GeoPackage product: a spatial layer (``geometry`` set) or an attribute table.

    Attributes
    ----------
    name
        Layer name in the file (also the collection id the API serves it under).
    columns
        The contract: these columns, in this order (writers may not drop one; a layer may carry
        further columns documented in docs/data-dictionary.md).
    geometry
        ``"Polygon"``, ``"Point"``, ``"LineString"``… or None for an attribute table.
    key
        Column identifying a row (None when rows have no id).
    description
        One line.
    """

    name: str
    columns: tuple[Column, ...]
    geometry: str | None = None
    key: str | None = None
    description: str = ""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        """The column called ``name``; KeyError if the layer has none."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"layer {self.name} has no column {name}")

    def missing(self, names: Iterable[str]) -> list[str]:
        """The contract columns not among ``names``."""
        have = set(names)
        return [c for c in self.column_names if c not in have]

    def select(self, frame: pd.DataFrame, *, extra: bool = False) -> pd.DataFrame:
        """``frame`` with the contract columns in order (plus the others after them when ``extra``).

        Raises ValueError when a contract column is missing: a writer bug, not an input problem.
        """
        missing = self.missing(frame.columns)
        if missing:
            raise ValueError(f"layer {self.name}: column(s) {', '.join(missing)} missing")
        names = list(self.column_names)
        if extra:
            geom = getattr(frame, "_geometry_column_name", None)
            names += [c for c in frame.columns if c not in self.column_names and c != geom]
        if self.geometry is not None:
            names.append(str(frame.geometry.name))  # type: ignore[attr-defined]
        return frame[names]

    def check(self, frame: pd.DataFrame, path: object) -> pd.DataFrame:
        """``frame`` as read from ``path``: :class:`InputError` when a contract column is missing."""
        missing = self.missing(frame.columns)
        if missing:
            raise InputError(path, f"layer '{self.name}' lacks column(s) {', '.join(missing)}")  # type: ignore[arg-type]
        return frame


@dataclass(frozen=True)
class Band:
    """One band of a raster product: its description (short name), long description and unit."""

    name: str
    description: str
    unit: str

    def tags(self) -> dict[str, str]:
        """The band's GDAL metadata (``DESCRIPTION``, ``UNITS``)."""
        return {"DESCRIPTION": self.description, "UNITS": self.unit}
