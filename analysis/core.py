"""Every core table (rates, not stated, disparity, trend, compare) from a single count of the records."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from analysis.compare import compare_from_counts
from analysis.rates import count, disparity_from_rates, not_stated_from_counts, rates_from_counts
from analysis.selection import Selection
from analysis.trend import trend_from_counts


@dataclass(frozen=True)
class CoreTables:
    rates: pd.DataFrame
    not_stated: pd.DataFrame
    disparity: pd.DataFrame
    trend: pd.DataFrame
    compare: pd.DataFrame


def core_tables(records: pd.DataFrame, selection: Selection, *, pooled: bool | None = None,
                overdispersion: str = "additive",
                months_available: Mapping[str, Iterable[str]] | None = None) -> CoreTables:
    """The same tables as rates(), not_stated_summary(), disparity(), trend() and compare(), counted once."""
    counts = count(records, selection, by_month=True)
    rate_table = rates_from_counts(counts, months=selection.n_months, pooled=pooled)
    return CoreTables(
        rates=rate_table,
        not_stated=not_stated_from_counts(counts, pooled=pooled),
        disparity=disparity_from_rates(rate_table, reference=selection.reference, months=selection.n_months),
        trend=trend_from_counts(counts, reference=selection.reference, pooled=pooled,
                                months_available=months_available),
        compare=compare_from_counts(counts, reference=selection.reference, months=selection.n_months,
                                    overdispersion=overdispersion),
    )
