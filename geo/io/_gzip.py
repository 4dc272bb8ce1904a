"""Read a gzipped vector file (``cadastre-XXXXX-batiments.json.gz``, ``…-parcelles.json.gz``) through a
decompressed copy, with errors naming the gzipped file."""

from __future__ import annotations

import gzip
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from geo.errors import InputError

T = TypeVar("T")


@contextmanager
def _gunzipped(path: Path) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="artois-gunzip-") as tmp:
        plain = Path(tmp) / path.name[: -len(".gz")]
        try:
            with gzip.open(path, "rb") as src, open(plain, "wb") as dst:
                shutil.copyfileobj(src, dst)
        except FileNotFoundError as exc:
            raise InputError(path, "file not found") from exc
        except (OSError, EOFError) as exc:
            raise InputError(path, f"not a readable gzip file ({exc})") from exc
        yield plain


def read_gzipped(path: Path, reader: Callable[[Path], T]) -> T:
    """``reader`` applied to the decompressed copy of ``path``; its :class:`InputError` names ``path``."""
    with _gunzipped(path) as plain:
        try:
            return reader(plain)
        except InputError as exc:
            raise type(exc)(path, exc.problem) from exc
