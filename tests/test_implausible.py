"""Implausible force-months: a robust outlier test on monthly record counts (analysis.implausible)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.implausible import implausible_months


def _manifest(force: str, counts: list[int], start_year: int = 2021) -> pd.DataFrame:
    months = [f"{start_year + i // 12}-{i % 12 + 1:02d}" for i in range(len(counts))]
    return pd.DataFrame({"force": force, "month": months, "records": counts, "status": "ok"})


def test_a_dozen_records_between_months_of_about_430_is_flagged_with_its_robust_z() -> None:
    counts = [421, 433, 440, 418, 12, 429, 436, 425, 431, 444, 419, 427]
    flags = implausible_months(_manifest("leicestershire", counts))
    assert list(flags["month"]) == ["2021-05"]
    # Oracle, by hand: log1p counts; the month's neighbours are the other 10 months within six either side
    logs = np.log1p(counts)
    neighbours = np.delete(logs[0:11], 4)
    assert flags["neighbour_median"].iloc[0] == pytest.approx(np.expm1(np.median(neighbours)), abs=0.05)
    assert flags["records"].iloc[0] == 12 and flags["robust_z"].iloc[0] < -3.5
    assert "12 records" in flags["reason"].iloc[0]


def test_steady_or_smoothly_changing_forces_are_not_flagged() -> None:
    steady = [100 + (i % 3) for i in range(24)]
    growing = [int(100 * 1.05 ** i) for i in range(36)]          # +5% a month: a trend, not an outlier
    manifest = pd.concat([_manifest("kent", steady), _manifest("essex", growing)])
    assert implausible_months(manifest).empty


def test_short_series_and_other_statuses_are_not_tested() -> None:
    short = _manifest("kent", [100, 100, 5, 100, 100, 100])       # six months: too few to judge
    assert implausible_months(short).empty
    failed = _manifest("kent", [100] * 12).assign(status="not_published")
    assert implausible_months(failed).empty


def test_the_real_leicestershire_may_2021_month_is_flagged(shared_dir) -> None:
    # ../shared archive: Leicestershire 2021-05 holds 12 records between months of ~430 (issue 9, defect 10)
    archive = shared_dir / "data" / "police_uk" / "archive"
    rows = []
    for path in sorted(archive.glob("*/*-leicestershire-stop-and-search.csv")):
        with path.open(encoding="utf-8-sig") as handle:
            rows.append({"force": "leicestershire", "month": path.name[:7], "records": sum(1 for _ in handle) - 1,
                         "status": "ok"})
    flags = implausible_months(pd.DataFrame(rows))
    assert "2021-05" in set(flags["month"])
    row = flags.loc[flags["month"] == "2021-05"].iloc[0]
    assert row["records"] == 12 and row["neighbour_median"] > 300


def test_neighbour_medians_are_the_median_of_the_months_around_each():
    """Oracle: the direct loop (each month's window, itself deleted, np.median), on random series of every
    length from the shortest tested to longer than two windows."""
    import numpy as np

    from analysis.implausible import NEIGHBOURS, _neighbour_medians

    rng = np.random.default_rng(7)
    for n in range(2, 40):
        logs = np.log1p(rng.integers(0, 5000, n).astype(float))
        loop = [np.median(np.delete(logs[max(0, i - NEIGHBOURS): i + NEIGHBOURS + 1], i - max(0, i - NEIGHBOURS)))
                for i in range(n)]
        np.testing.assert_array_equal(_neighbour_medians(logs), np.array(loop))
