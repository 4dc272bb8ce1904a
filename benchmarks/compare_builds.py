"""Compare two ``artois build`` folders product by product: ``python benchmarks/compare_builds.py BUILD_A BUILD_B``.

Prints what was checked and every difference (the irradiance mosaic and its tiles byte for byte; every layer of
``rooftops.gpkg`` and ``parks.gpkg`` to 1e-9, through :mod:`geo.products`); exit status 0 when
the builds give the same outputs, 1 otherwise. Used to show a refactoring changes no output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.products.compare import compare_builds  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("build_a", type=Path)
    p.add_argument("build_b", type=Path)
    p.add_argument("--tol", type=float, default=1e-9, help="tolerance on numbers and coordinates (default 1e-9)")
    args = p.parse_args(argv)
    result = compare_builds(args.build_a, args.build_b, tol=args.tol)
    for line in result.checked:
        print(f"checked  {line}")
    for line in result.notes:
        print(f"note     {line}")
    for line in result.differences:
        print(f"DIFFERS  {line}")
    print("same outputs" if result.same else f"{len(result.differences)} difference(s)")
    return 0 if result.same else 1


if __name__ == "__main__":
    sys.exit(main())
