"""`make bench` / `python -m bench [--quick] [NAME ...]`: run every bench_*.py, print one table.

Each module `bench/bench_<name>.py` exposes `run(quick: bool) -> list[Figure]`.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import bench
from bench.harness import Figure, render


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help="only these benchmarks (e.g. board sweep)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    modules = sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")
    )
    if args.names:
        modules = [m for m in modules if m.removeprefix("bench_") in args.names]
    figures: list[Figure] = []
    for name in modules:
        print(f"running {name} …", file=sys.stderr, flush=True)
        module = importlib.import_module(f"bench.{name}")
        figures += module.run(args.quick)
    print(render(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
