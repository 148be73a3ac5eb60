"""Run the benchmarks (all, or those named) and print their figures."""
from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem.removeprefix("bench_") for p in Path(__file__).parent.glob("bench_*.py"))
    for name in names:
        module = importlib.import_module(f"benchmarks.bench_{name.removeprefix('bench_')}")
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        sys.argv = [f"benchmarks.bench_{name}"]  # each bench parses its own options: give it none
        module.main()
        print(f"   ({time.perf_counter() - started:.1f} s in all)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
