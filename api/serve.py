"""Run the API with uvicorn (placeholder until the Layer API lands)."""

from __future__ import annotations

from pathlib import Path

from geo.errors import ArtoisError


def serve(*, data_dir: Path, host: str, port: int) -> int:
    raise ArtoisError("'artois serve' is not implemented yet")
