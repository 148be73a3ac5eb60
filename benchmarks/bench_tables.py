"""Timings of the outcome, find-rate, thorough, mix and quality tables on the demo records (~540,000), now
and before they counted on category codes (the modules as of commit 5d2d640, read with `git show`)."""
from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from pandas.testing import assert_frame_equal

from analysis import mix, outcomes, quality, thorough
from analysis.selection import Selection, select
from data.demo import demo_records

BEFORE_COMMIT = "5d2d640"
ROOT = Path(__file__).resolve().parent.parent
# thorough imports from outcomes, so outcomes comes first
MODULES = ("analysis.outcomes", "analysis.mix", "analysis.quality", "analysis.thorough")


def before_modules() -> dict[str, types.ModuleType] | None:
    """The four modules as they were at BEFORE_COMMIT (None outside a git checkout that has it)."""
    sources = {}
    for name in MODULES:
        path = name.replace(".", "/") + ".py"
        try:
            shown = subprocess.run(["git", "-C", str(ROOT), "show", f"{BEFORE_COMMIT}:{path}"],
                                   capture_output=True, text=True, check=False)
        except OSError:
            return None
        if shown.returncode:
            return None
        sources[name] = shown.stdout
    loaded: dict[str, types.ModuleType] = {}
    current_outcomes = sys.modules["analysis.outcomes"]
    try:
        for name in MODULES:
            module = types.ModuleType(f"{name}_before")
            sys.modules[module.__name__] = module  # dataclasses look their module up
            if name == "analysis.thorough":
                sys.modules["analysis.outcomes"] = loaded["analysis.outcomes"]  # the old thorough uses the old tally
            exec(compile(sources[name], f"{BEFORE_COMMIT}:{name}", "exec"), module.__dict__)
            loaded[name] = module
    finally:
        sys.modules["analysis.outcomes"] = current_outcomes
    return loaded


def functions(o: types.ModuleType, m: types.ModuleType, q: types.ModuleType,
              t: types.ModuleType) -> dict[str, Callable[[pd.DataFrame, Selection], object]]:
    return {"outcomes": o.outcomes, "find_rate": o.find_rate, "analyse_outcomes": o.analyse_outcomes,
            "mix": m.mix, "quality": q.quality, "agreement": q.agreement, "thorough": t.thorough}


def best(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def same(a: object, b: object) -> bool:
    """Exactly the same table(s): values, dtypes, order and attrs."""
    if dataclasses.is_dataclass(a):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, pd.DataFrame):
        try:
            assert_frame_equal(a, b, check_exact=True)
        except AssertionError:
            return False
        return a.attrs == b.attrs
    return a == b


def main() -> None:
    started = time.perf_counter()
    records = demo_records()
    selection = Selection.build("all", "2024-04", "2025-03")
    selected = select(records, selection)
    print(f"   demo records: {len(selected):,} selected ({time.perf_counter() - started:.1f} s to build)")
    now = functions(outcomes, mix, quality, thorough)
    old = before_modules()
    then = functions(*(old[name] for name in MODULES)) if old else {}
    if not old:
        print(f"   (no 'before': commit {BEFORE_COMMIT} is not readable with git here)")
    for name, fn in now.items():
        after = best(lambda fn=fn: fn(selected, selection), repeats=5)
        if name not in then:
            print(f"   {name}: {after * 1000:.0f} ms")
            continue
        previous = then[name]
        before = best(lambda previous=previous: previous(selected, selection), repeats=2)
        verdict = "same output" if same(previous(selected, selection), fn(selected, selection)) else "OUTPUT DIFFERS"
        print(f"   {name}: before {before * 1000:.0f} ms, after {after * 1000:.0f} ms "
              f"({before / after:.0f}x), {verdict}")


if __name__ == "__main__":
    main()
