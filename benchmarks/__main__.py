"""Run the benchmarks (all, or those named) and print their figures.

    python -m benchmarks                          # every benchmark, default options
    python -m benchmarks import ten_years         # the named ones
    python -m benchmarks ten_years --skip-app     # options after the names go to each named benchmark
"""
from __future__ import annotations

import importlib
import inspect
import sys
import time
from pathlib import Path


def split_arguments(argv: list[str]) -> tuple[list[str], list[str]]:
    """(benchmark names, options): the names come first; everything from the first '-' on is options."""
    for i, arg in enumerate(argv):
        if arg.startswith("-"):
            return argv[:i], argv[i:]
    return list(argv), []


def main(argv: list[str]) -> int:
    names, options = split_arguments(argv)
    names = names or sorted(p.stem.removeprefix("bench_") for p in Path(__file__).parent.glob("bench_*.py"))
    for name in names:
        module = importlib.import_module(f"benchmarks.bench_{name.removeprefix('bench_')}")
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        sys.argv = [f"benchmarks.bench_{name}", *options]  # benches that parse sys.argv see the options
        if inspect.signature(module.main).parameters:
            module.main(options)
        elif options:
            raise SystemExit(f"benchmark {name} takes no options (given: {' '.join(options)}).")
        else:
            module.main()
        print(f"   ({time.perf_counter() - started:.1f} s in all)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
