"""The ``artois`` command line.

Each sub-command lives in its own module with a ``register(subparsers)`` function that adds
its parser and sets ``func``. Errors a user can cause (:class:`geo.errors.ArtoisError`) are
printed as one line naming the file and the problem, with exit status 2; unexpected errors
print one line too (the traceback only with ``--debug``).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from geo import __version__
from geo.errors import ArtoisError

#: Sub-command modules, in the order ``artois --help`` lists them.
COMMAND_MODULES = ("sample", "fetch", "check", "build", "solar", "parks", "serve")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="artois",
        description="Artois Solaire & Parcs: solar cadastre and Chaîne des Parcs for the Pôle Métropolitain de l'Artois.",
    )
    parser.add_argument("--version", action="version", version=f"artois {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"geo.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING if args.quiet else logging.INFO,
        format="%(levelname)s %(message)s" if args.debug else "%(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("numexpr").setLevel(logging.WARNING)  # "NumExpr defaulting to N threads"
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        result = args.func(args)
    except ArtoisError as exc:
        print(f"artois: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("artois: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback to the user unless asked for
        if args.debug:
            raise
        print(f"artois: internal error: {type(exc).__name__}: {exc} (run with --debug for details)", file=sys.stderr)
        return 1
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
