"""Atomic output: write to a temporary file beside the target, then rename.

A crash or an error half-way never leaves a truncated output behind, and a previous
good output is only replaced once the new one is complete. A process killed outright (SIGKILL)
cannot remove its temporaries: they are named ``.<stem>.partial-<8 random chars><suffix>`` (files,
with SQLite's ``-journal``/``-wal``/``-shm`` companions) or ``.<stem>.partial-<8 random chars>``
(folders of :func:`atomic_tempdir`), a pattern :func:`remove_stale_temporaries` recognises and
clears before the next run.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

#: Marker between the target's stem and the random part of a temporary's name.
_MARK = "partial-"
#: Names of the temporaries of this module: ``tempfile``'s 8 random characters (``[a-z0-9_]``),
#: then the target's suffix (files) and SQLite's companions.
_TEMPORARY = re.compile(rf"^\..*\.{_MARK}[a-z0-9_]{{8}}(\.[^./]*)?(-journal|-wal|-shm)?$")


def _prefix(target: Path) -> str:
    return f".{target.stem}.{_MARK}"


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it to ``target`` on success.

    The temporary file keeps the target's suffix so that drivers chosen by extension
    (GeoPackage, GeoTIFF) behave the same. On error the temporary file is removed and
    ``target`` is left untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=_prefix(target), suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # drivers such as GPKG refuse to open an existing empty file
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, Path(str(tmp) + "-journal"), Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


@contextlib.contextmanager
def atomic_tempdir(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder beside ``target`` (for multi-file work towards it), removed afterwards.

    Named like :func:`atomic_path`'s temporaries, so that a killed process's leftover is found by
    :func:`remove_stale_temporaries`.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=_prefix(target), dir=target.parent) as tmpdir:
        yield Path(tmpdir)


def is_temporary(path: str | os.PathLike[str]) -> bool:
    """Whether ``path``'s name is one of this module's temporaries (of :func:`atomic_path` or
    :func:`atomic_tempdir`)."""
    return _TEMPORARY.match(Path(path).name) is not None


def remove_stale_temporaries(folder: str | os.PathLike[str], *, recursive: bool = True) -> list[Path]:
    """Remove the temporaries a killed writer left in ``folder`` (and its sub-folders when ``recursive``).

    Only names matching this module's pattern (:func:`is_temporary`) are removed, files and folders;
    nothing else is touched. Call it when no other process writes into ``folder``: a running
    writer's temporary looks the same as a dead one's. Returns what was removed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed: list[Path] = []
    for root, dirs, files in os.walk(folder):
        for name in [d for d in dirs if is_temporary(d)]:
            shutil.rmtree(Path(root) / name, ignore_errors=True)
            removed.append(Path(root) / name)
            dirs.remove(name)
        for name in files:
            if is_temporary(name):
                with contextlib.suppress(FileNotFoundError):
                    (Path(root) / name).unlink()
                removed.append(Path(root) / name)
        if not recursive:
            break
    return sorted(removed)


def write_text_atomic(target: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding=encoding)


def link_or_copy(src: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Make ``target`` a hard link to ``src`` (a copy where the file system cannot link), atomically.

    Nothing is done when ``target`` already is that file (same inode).
    """
    src, target = Path(src), Path(target)
    if target.exists() and os.path.samefile(src, target):
        return
    with atomic_path(target) as tmp:
        try:
            os.link(src, tmp)
        except OSError:  # another device, or a file system without hard links
            shutil.copyfile(src, tmp)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
