"""Timings of the core tables (rates, not stated, disparity, trend, compare) on ~600,000 synthetic records."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from analysis.compare import compare, funnel_curve
from analysis.core import core_tables
from analysis.rates import disparity, not_stated_summary, rates
from analysis.selection import Selection, select
from analysis.trend import trend
from data import reference_data, vocab
from data.months import month_range
from tests.synthetic_records import records_from_counts

START, END = "2023-04", "2024-03"
TARGET = 600_000


def synthetic_year(seed: int = 7) -> pd.DataFrame:
    """One year of every force (BTP too): searches of persons by detailed group in proportion to residents
    with group-specific rates, ~10% 'Not stated', a few vehicle-only searches; rows shuffled."""
    rng = np.random.default_rng(seed)
    pop = reference_data.population("detailed")
    months = month_range(START, END)
    weight = pop["group"].map(lambda g: 4.0 if vocab.DETAILED_GROUPS[g] == "Black" else 1.0).to_numpy()
    expected = pop["population"].to_numpy() * weight
    per_row = rng.poisson(expected / expected.sum() * TARGET * 0.88 / 12, size=(12, len(pop)))
    counts = pd.DataFrame({"force": np.tile(pop["force"].to_numpy(), 12),
                           "month": np.repeat(months, len(pop)), "group": np.tile(pop["group"].to_numpy(), 12),
                           "n": per_row.reshape(-1)})
    forces = reference_data.resolve_forces("all")
    extra = pd.DataFrame({"force": np.repeat(forces, 12), "month": np.tile(months, len(forces)),
                          "group": "Not stated", "n": rng.poisson(TARGET * 0.10 / len(forces) / 12, 12 * len(forces))})
    btp = pd.DataFrame({"force": "btp", "month": np.repeat(months, 3), "group": np.tile(["White British", "African",
                        "Other Asian"], 12), "n": rng.poisson(400, 36)})
    counts = pd.concat([counts, extra, btp], ignore_index=True)
    counts["type"] = "Person search"
    vehicle = counts.sample(200, random_state=seed).assign(type="Vehicle search", n=lambda d: d["n"] // 10)
    counts = pd.concat([counts, vehicle], ignore_index=True)
    records = records_from_counts(counts)
    return records.iloc[rng.permutation(len(records))].reset_index(drop=True)


def best(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    t0 = time.perf_counter()
    records = synthetic_year()
    print(f"   synthetic records: {len(records):,} ({time.perf_counter() - t0:.1f} s to build)")
    broad = Selection.build("all", START, END)
    detailed = Selection.build("all", START, END, level="detailed")
    selected = select(records, broad)
    print(f"   select: {best(lambda: select(records, broad)) * 1000:.0f} ms")
    total = 0.0
    for label, fn in [
        ("rates (broad)", lambda: rates(selected, broad)),
        ("rates (detailed)", lambda: rates(selected, detailed)),
        ("not_stated_summary", lambda: not_stated_summary(selected, broad)),
        ("disparity (broad)", lambda: disparity(selected, broad)),
        ("disparity (detailed)", lambda: disparity(selected, detailed)),
        ("trend (broad)", lambda: trend(selected, broad)),
        ("compare (all forces)", lambda: compare(selected, broad)),
    ]:
        seconds = best(fn)
        total += seconds
        print(f"   {label}: {seconds * 1000:.0f} ms")
    print(f"   sum of the separate calls: {total * 1000:.0f} ms")
    print(f"   core_tables (every table above, broad, one count): {best(lambda: core_tables(selected, broad)) * 1000:.0f} ms")
    table = compare(selected, broad)
    print(f"   funnel_curve: {best(lambda: funnel_curve(table)) * 1000:.0f} ms")
    pooled = rates(selected, broad).query("force == 'ALL'").set_index("group")["rate_per_1000"].round(2)
    print(f"   pooled rates per 1,000: {pooled.dropna().to_dict()}")


if __name__ == "__main__":
    main()
