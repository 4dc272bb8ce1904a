"""Exceptions of the project.

Every error a user can cause (a missing file, a corrupt raster, a wrong CRS, missing
columns, an unknown identifier) is an :class:`ArtoisError`. The CLI prints it as one
line and exits non-zero; the API maps each class to an HTTP status in one table.
"""

from __future__ import annotations

from os import PathLike


class ArtoisError(Exception):
    """Base class of all errors caused by the user's inputs or requests."""


class InputError(ArtoisError):
    """An input file is missing, unreadable or not what it should be.

    The message always names the file and the problem, e.g.
    ``data/rooftops/batiment.gpkg: layer 'batiment' is empty``.
    """

    def __init__(self, path: str | PathLike[str] | None, problem: str) -> None:
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(problem if path is None else f"{path}: {problem}")


class CRSError(InputError):
    """An input has no CRS, or a geographic CRS where a metric one is needed."""


class NotFoundError(ArtoisError):
    """A requested object (building, park, commune, layer) does not exist."""


class InvalidRequestError(ArtoisError):
    """A request is well-formed but cannot be served (e.g. a bounding box too large)."""
