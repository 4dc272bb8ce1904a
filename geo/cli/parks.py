"""``artois parks``: placeholder until its issue lands (owned by that issue's work)."""

from __future__ import annotations

import argparse

from geo.errors import ArtoisError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("parks", help="(not implemented yet)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise ArtoisError("'artois parks' is not implemented yet")
