"""Monthly searches by group, and rolling 12-month rates and disparity ratios with intervals."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from analysis import intervals
from analysis.rates import POOLED, Counts, count, pool, reference_members, with_pooled
from analysis.selection import Selection
from data.months import month_range

WINDOW = 12
TREND_COLUMNS = ["force", "month", "group", "searches", "rolling_searches", "rolling_population", "rolling_rate",
                 "rolling_ci_low", "rolling_ci_high", "rolling_ratio", "rolling_ratio_ci_low",
                 "rolling_ratio_ci_high", "forces"]


def _available(counts: Counts, months_available: Mapping[str, Iterable[str]] | None) -> np.ndarray:
    """(F, M) bool: months for which a force has data. Given by the caller (e.g. from the store manifest),
    or else inferred: a month in which the force has no record at all in `records` counts as missing."""
    if months_available is not None:
        return np.array([[m in set(months_available.get(f, ())) for m in counts.months] for f in counts.forces],
                        dtype=bool).reshape(len(counts.forces), len(counts.months))
    if counts.present is None:
        raise ValueError("trend needs counts made with count(..., by_month=True)")
    return counts.present


def _rolling(values: np.ndarray, axis: int) -> np.ndarray:
    """Sum over the 12 months ending at each month (nan before 12 months exist)."""
    cs = np.cumsum(values.astype("float64"), axis=axis)
    out = np.full(values.shape, np.nan)
    n = values.shape[axis]
    if n >= WINDOW:
        head = np.take(cs, range(WINDOW - 1, n), axis=axis)
        before = np.concatenate([np.zeros_like(np.take(cs, [0], axis=axis)),
                                 np.take(cs, range(0, n - WINDOW), axis=axis)], axis=axis)
        idx = [slice(None)] * values.ndim
        idx[axis] = slice(WINDOW - 1, n)
        out[tuple(idx)] = head - before
    return out


def trend(records: pd.DataFrame, selection: Selection, *, pooled: bool | None = None,
          months_available: Mapping[str, Iterable[str]] | None = None) -> pd.DataFrame:
    """Per force (and pooled 'ALL'), month and group: searches of persons that month and, where the 12
    months ending at that month are all in the selection and all have data, the rolling 12-month rate
    per 1,000 residents (Garwood interval) and ratio to the reference group (Katz interval).

    `months_available` (force -> months with published data, e.g. from the store manifest) tells a
    month with no searches from a month not published; without it a month with no record at all for a
    force is treated as not published, so the windows holding it get no rolling value.
    """
    counts = count(records, selection, by_month=True)
    return trend_from_counts(counts, reference=selection.reference, pooled=pooled, months_available=months_available)


def trend_from_counts(counts: Counts, *, reference: str, pooled: bool | None = None,
                      months_available: Mapping[str, Iterable[str]] | None = None) -> pd.DataFrame:
    """The trend table from `count(..., by_month=True)`."""
    monthly = counts.monthly                                         # (F, M, G)
    available = _available(counts, months_available)                 # (F, M)
    full = _rolling(available.astype("int64"), axis=1) == WINDOW    # (F, M): window complete
    population = np.array(counts.population, dtype=float)           # (F, G)
    meaningful = np.array([r == "" for r in counts.force_reason])
    labels = list(counts.forces)
    forces_col = list(counts.forces)
    blocks_searches, blocks_full, blocks_pop, blocks_ok = [monthly], [full], [population], [meaningful]
    if with_pooled(counts, pooled):
        names = counts.pooled_members + counts.pooled_numerator_extra
        idx = [counts.forces.index(f) for f in names]
        blocks_searches.append(pool(counts, monthly, numerator=True)[None])
        blocks_full.append(full[idx].all(axis=0, keepdims=True) if idx else np.zeros((1, full.shape[1]), bool))
        pop = pool(counts, population, numerator=False) if counts.pooled_members \
            else np.full(population.shape[1], np.nan)
        blocks_pop.append(pop[None])
        blocks_ok.append(np.array([bool(counts.pooled_members)]))
        labels.append(POOLED)
        forces_col.append(",".join(names))
    searches = np.concatenate(blocks_searches)                       # (F', M, G)
    full = np.concatenate(blocks_full)
    population = np.concatenate(blocks_pop)                          # (F', G)
    ok = np.concatenate(blocks_ok)
    population = np.where(ok[:, None] & (population > 0), population, np.nan)

    rolling = _rolling(searches, axis=1)
    rolling = np.where(full[:, :, None], rolling, np.nan)
    pop = np.broadcast_to(population[:, None, :], rolling.shape)
    low, high = intervals.garwood(np.nan_to_num(rolling))
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = rolling / pop * 1000
        ci_low = np.where(np.isnan(rolling), np.nan, low / pop * 1000)
        ci_high = np.where(np.isnan(rolling), np.nan, high / pop * 1000)
    ref = [counts.groups.index(g) for g in reference_members(reference, counts.groups)]
    ref_searches = rolling[:, :, ref].sum(axis=2, keepdims=True)
    # a member the census did not count (Roma in 2011, inside Other White) adds searches, not residents
    ref_pop = np.where(np.isfinite(pop[:, :, ref]).any(axis=2, keepdims=True),
                       np.nansum(pop[:, :, ref], axis=2, keepdims=True), np.nan)
    ratio, (r_low, r_high) = intervals.katz(rolling, pop, np.broadcast_to(ref_searches, rolling.shape),
                                            np.broadcast_to(ref_pop, rolling.shape))
    is_ref = np.zeros(len(counts.groups), bool)
    if len(ref) == 1:
        is_ref[ref] = True
    no_ratio = is_ref[None, None, :] | np.isnan(rate)
    ratio = np.where(is_ref[None, None, :] & ~np.isnan(rate), 1.0, np.where(no_ratio, np.nan, ratio))
    # a detailed group inside a broad reference overlaps it: ratio shown, no interval (as analysis.rates)
    part = np.zeros(len(counts.groups), bool)
    if len(ref) > 1:
        part[ref] = True
    no_interval = no_ratio | part[None, None, :]
    r_low, r_high = (np.where(no_interval, np.nan, x) for x in (r_low, r_high))

    n_f, n_m, n_g = searches.shape
    shape = n_f * n_m * n_g
    # labels as Python objects: a numpy string array is as wide as its longest label, and the pooled
    # unit's list of forces is ~1,000 characters (repeated per month and group: ~100 MB and 0.2 s)
    return pd.DataFrame({
        "force": np.repeat(_objects(labels), n_m * n_g),
        "month": np.tile(np.repeat(_objects(counts.months), n_g), n_f),
        "group": np.tile(_objects(counts.groups), n_f * n_m),
        "searches": searches.reshape(shape).astype("int64"),
        "rolling_searches": pd.array(rolling.reshape(shape), dtype="Float64").astype("Int64"),
        "rolling_population": pd.array(np.where(np.isnan(rolling), np.nan, pop).reshape(shape),
                                       dtype="Float64").astype("Int64"),
        "rolling_rate": rate.reshape(shape), "rolling_ci_low": ci_low.reshape(shape),
        "rolling_ci_high": ci_high.reshape(shape), "rolling_ratio": ratio.reshape(shape),
        "rolling_ratio_ci_low": r_low.reshape(shape), "rolling_ratio_ci_high": r_high.reshape(shape),
        "forces": np.repeat(_objects(forces_col), n_m * n_g),
    })[TREND_COLUMNS]


def _objects(values: Iterable[str]) -> np.ndarray:
    return np.array(list(values), dtype=object)


def census_spans(start: str, end: str) -> dict[str, tuple[str, str]]:
    """For a rolling trend over start..end with the Census on auto: each Census and the months its trend must
    cover, so that every window ending in the months that Census serves is whole (its 11 months before
    included). by_period_census of trends over these spans equals it over the whole span, at about half
    the work."""
    from data.reference_data import census_for_period

    months = month_range(start, end)
    serves: dict[str, list[str]] = {}
    for month in months:
        serves.setdefault(census_for_period(month, "auto"), []).append(month)
    spans = {}
    for census, served in serves.items():
        first = months.index(served[0])
        spans[census] = (months[max(0, first - (WINDOW - 1))], served[-1])
    return spans


def by_period_census(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One trend from trends made with each Census ('2011', '2021'): every 12-month window takes the rows of
    the Census its last month calls for (the Home Office convention: 2011 up to 2019/20, 2021 from 2020/21),
    so a long rolling trend changes denominator where the official series did, not at its own end."""
    from data.reference_data import census_for_period

    parts = []
    for census, table in tables.items():
        if not len(table):
            continue
        calls_for = {m: census_for_period(m, "auto") for m in table["month"].astype(str).unique()}
        wanted = table["month"].astype(str).map(calls_for).eq(census)
        parts.append(table.loc[wanted.to_numpy(bool)])
    if not parts:
        return next(iter(tables.values()))
    first = next(iter(tables.values()))
    out = pd.concat(parts).sort_values(["force", "month", "group"], kind="stable").reset_index(drop=True)
    out.attrs.update(first.attrs)
    return out
