"""The long view: rates and ratios by financial year and rolling 12 months (2015 on), each period divided by
the Census its end calls for, with the forces and force-months behind every point.

Records are counted once by force x month x group (`analysis.rates.count`); each period (a financial year
April-March, or the 12 months ending at a month) then becomes its own `Counts` with the period's Census
(`Selection.census_year` for that period: Home Office 'auto' switches from 2011 to 2021 at 2020/21) and
goes through the very functions the rates and disparity tables use. A force that published none of a
period's months is left out of that period (numerator and residents); one that published some contributes
its residents for those months only (person-time), so a missing stretch (Greater Manchester has published
nothing since 2019) is a coverage gap the table names, never a dip in the rate.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from analysis import intervals
from analysis.rates import (
    NOT_STATED_REASON,
    POOLED,
    Counts,
    census_missing_reason,
    count,
    reference_members,
)
from analysis.selection import Selection
from data import reference_data, vocab

FIRST_MONTH = "2015-01"          # the long view starts here (or at the first month held, if later)
WINDOW = 12
FINANCIAL_YEAR = "financial_year"
ROLLING = "rolling_12"
LONG_TREND_COLUMNS = ["kind", "period", "start", "end", "census", "force", "group", "searches", "population",
                      "effective_population", "rate_per_1000", "ci_low", "ci_high", "reference", "ratio",
                      "ratio_ci_low", "ratio_ci_high", "forces_reporting", "forces_selected",
                      "force_months_published", "force_months", "coverage", "reason"]
COVERAGE_COLUMNS = ["force", "financial_year", "months_published", "months", "share"]


@dataclass(frozen=True)
class LongTrend:
    """periods: one row per period x group (LONG_TREND_COLUMNS); coverage: one row per force x financial
    year (COVERAGE_COLUMNS); census_change: the first period divided by Census 2021 after one divided by
    Census 2011 (e.g. '2020/21'), or '' when the census does not change in the view."""

    periods: pd.DataFrame
    coverage: pd.DataFrame
    census_change: str
    census_change_month: str     # the last month of the first rolling window on the new census ('' if none)
    selection: Selection

    def financial_years(self) -> pd.DataFrame:
        return self.periods.loc[self.periods["kind"].eq(FINANCIAL_YEAR)].reset_index(drop=True)

    def rolling(self) -> pd.DataFrame:
        return self.periods.loc[self.periods["kind"].eq(ROLLING)].reset_index(drop=True)


def financial_year_periods(months: list[str]) -> list[tuple[str, list[int]]]:
    """('2019/20', month positions) for every financial year whose 12 months all lie in `months`."""
    by_year: dict[str, list[int]] = {}
    for i, month in enumerate(months):
        by_year.setdefault(reference_data.financial_year_label(month), []).append(i)
    return [(label, idx) for label, idx in by_year.items() if len(idx) == WINDOW]


def rolling_periods(months: list[str]) -> list[tuple[str, list[int]]]:
    """(last month, positions of the 12 months ending there) for every complete window."""
    return [(months[end], list(range(end - WINDOW + 1, end + 1))) for end in range(WINDOW - 1, len(months))]


def _available(counts: Counts, months_available: Mapping[str, Iterable[str]] | None) -> np.ndarray:
    """(F, M) bool: the force published that month (from the manifest when given, else it has a record)."""
    if months_available is None:
        assert counts.present is not None
        return counts.present
    held = {f: set(months_available.get(f, ())) for f in counts.forces}
    return np.array([[m in held[f] for m in counts.months] for f in counts.forces], dtype=bool).reshape(
        len(counts.forces), len(counts.months))


@dataclass(frozen=True)
class _Census:
    """One census at the selection's level: residents (F, G; nan for a group it did not count and for
    'Not stated'), which forces have residents, which have a meaningful resident rate, and why not."""

    population: np.ndarray
    resident: np.ndarray
    meaningful: np.ndarray
    area_reason: tuple[str, ...]
    group_reason: tuple[str, ...]


def _census(view: Selection, census: str, groups: tuple[str, ...]) -> _Census:
    base = count(_EMPTY_RECORDS(view), replace(view, census=census))  # the rates module's residents and reasons
    population = base.population.copy()
    lacking = tuple(census_missing_reason(g, census) for g in groups)
    population[:, [bool(r) for r in lacking]] = np.nan
    population[:, [g == vocab.NOT_STATED for g in groups]] = np.nan
    resident = np.array([f in base.pooled_members for f in base.forces])
    return _Census(population, resident, np.array([r == "" for r in base.force_reason]), base.force_reason,
                   lacking)


def _EMPTY_RECORDS(view: Selection) -> pd.DataFrame:  # noqa: N802 - a tiny frame with the columns count reads
    return pd.DataFrame({"force": pd.Series([], dtype=object), "month": pd.Series([], dtype=object),
                         "type": pd.Series([], dtype=object), "involved_person": pd.Series([], dtype="boolean"),
                         view.group_column: pd.Series([], dtype=object)})


def _nan_sum(values: np.ndarray, weights: np.ndarray, axis: int) -> np.ndarray:
    """Sum of values where weights are True, nan where no weighted value is finite."""
    take = weights & np.isfinite(values)
    total = np.where(take, values, 0.0).sum(axis=axis)
    return np.where(take.any(axis=axis), total, np.nan)


def _periods_table(view: Selection, counts: Counts, available: np.ndarray,
                   periods: list[tuple[str, str, list[int]]]) -> pd.DataFrame:
    """Every period x group at once (the same arithmetic as analysis.rates, vectorised over periods)."""
    forces, groups, months = counts.forces, counts.groups, counts.months
    n_p, n_f, n_g = len(periods), len(forces), len(groups)
    window = np.zeros((n_p, len(months)))
    for p, (_, _, idx) in enumerate(periods):
        window[p, idx] = 1.0
    length = window.sum(axis=1)                                              # (P,)
    assert counts.monthly is not None
    searches = np.einsum("pm,fmg->pfg", window, counts.monthly.astype(float))  # (P, F, G)
    published = window @ available.T.astype(float)                          # (P, F)
    share = published / length[:, None]
    census_of = [reference_data.census_for_period(months[idx[-1]], view.census) for _, _, idx in periods]
    tables = {c: _census(view, c, groups) for c in dict.fromkeys(census_of)}
    population = np.stack([tables[c].population for c in census_of])       # (P, F, G)
    resident = np.stack([tables[c].resident for c in census_of])            # (P, F)
    kept = published > 0
    effective = population * share[:, :, None]
    pooled = n_f > 1
    if pooled:
        members = kept & resident
        adds = kept | members if view.include_btp else members
        num = (searches * adds[:, :, None]).sum(axis=1)                      # (P, G)
        raw = _nan_sum(population, members[:, :, None], axis=1)
        den = _nan_sum(effective, members[:, :, None], axis=1)
        ok = members.any(axis=1)
        unit = POOLED
    else:
        meaningful = np.stack([tables[c].meaningful for c in census_of])
        num, raw, den = searches[:, 0, :], population[:, 0, :], effective[:, 0, :]
        ok = kept[:, 0] & meaningful[:, 0]
        unit = forces[0]
    usable = ok[:, None] & np.isfinite(den) & (den > 0)
    den_used = np.where(usable, den, np.nan)
    factor = (1000 * 12 / length)[:, None]
    low, high = intervals.garwood(num)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate, ci_low, ci_high = num / den_used * factor, low / den_used * factor, high / den_used * factor
    ref = [groups.index(g) for g in reference_members(view.reference, groups)]
    ref_num = num[:, ref].sum(axis=1, keepdims=True)
    ref_den = _nan_sum(den_used[:, ref], np.ones((n_p, len(ref)), bool), axis=1)[:, None]
    ratio, (r_low, r_high) = intervals.katz(num, den_used, np.broadcast_to(ref_num, num.shape),
                                            np.broadcast_to(ref_den, num.shape))
    has_ratio = np.isfinite(rate) & np.isfinite(ref_den) & (ref_den > 0)
    is_ref = np.zeros(n_g, bool)
    overlap = np.zeros(n_g, bool)
    if len(ref) == 1:
        is_ref[ref] = True
    else:
        overlap[ref] = True   # a detailed group inside a broad reference: ratio, no interval (as rates.py)
    ratio = np.where(has_ratio, np.where(is_ref, 1.0, ratio), np.nan)
    no_interval = ~has_ratio | is_ref | overlap
    r_low, r_high = (np.where(no_interval, np.nan, x) for x in (r_low, r_high))

    resident_count = resident.sum(axis=1)
    months_published = (published * resident).sum(axis=1).astype(int)
    months_possible = (resident_count * length).astype(int)
    reasons = []
    for p, census in enumerate(census_of):
        gap = months_possible[p] - months_published[p]
        period_note = ("no selected force with residents published any month of this period: no figure"
                       if not ok[p] else (tables[census].area_reason[0] if not pooled else ""))
        if gap > 0 and ok[p]:
            period_note = "; ".join(x for x in (period_note, (
                f"{gap} of {months_possible[p]} force-months not published: those forces' residents count only "
                "for the months they published")) if x)
        for g, group in enumerate(groups):
            own = tables[census].group_reason[g] or (
                NOT_STATED_REASON if group == vocab.NOT_STATED else "")
            reasons.append("; ".join(x for x in (own, period_note) if x))
    return pd.DataFrame({
        "kind": np.repeat([k for k, _, _ in periods], n_g),
        "period": np.repeat([label for _, label, _ in periods], n_g),
        "start": np.repeat([months[idx[0]] for _, _, idx in periods], n_g),
        "end": np.repeat([months[idx[-1]] for _, _, idx in periods], n_g),
        "census": np.repeat(np.array(census_of, dtype="int64"), n_g), "force": unit, "group": np.tile(list(groups), n_p),
        "searches": num.reshape(-1).astype("int64"),
        "population": pd.array(raw.reshape(-1), dtype="Float64").round().astype("Int64"),
        "effective_population": den.reshape(-1), "rate_per_1000": rate.reshape(-1),
        "ci_low": ci_low.reshape(-1), "ci_high": ci_high.reshape(-1), "reference": view.reference,
        "ratio": ratio.reshape(-1), "ratio_ci_low": r_low.reshape(-1), "ratio_ci_high": r_high.reshape(-1),
        "forces_reporting": np.repeat((kept & resident).sum(axis=1), n_g),
        "forces_selected": n_f,
        "force_months_published": np.repeat(months_published, n_g),
        "force_months": np.repeat(months_possible, n_g),
        "reason": reasons,
    })


def coverage_by_year(counts: Counts, available: np.ndarray) -> pd.DataFrame:
    """Months published per force and financial year (every year the view touches, partial ones too)."""
    labels = [reference_data.financial_year_label(m) for m in counts.months]
    years = list(dict.fromkeys(labels))
    position = np.array([years.index(label) for label in labels])
    rows = []
    for f, force in enumerate(counts.forces):
        held = np.bincount(position, weights=available[f].astype(float), minlength=len(years))
        total = np.bincount(position, minlength=len(years))
        rows += [(force, year, int(h), int(t), h / t) for year, h, t in zip(years, held, total, strict=True)]
    return pd.DataFrame(rows, columns=COVERAGE_COLUMNS)


def long_trend(records: pd.DataFrame, selection: Selection, *,
               months_available: Mapping[str, Iterable[str]] | None = None,
               first_month: str = FIRST_MONTH, rolling: bool = True) -> LongTrend:
    """Financial-year and rolling 12-month rates and ratios over the selection's months from `first_month`,
    each period on its own Census (see the module docstring). `records` may hold more than the selection:
    they are counted by the selection's forces and months only. `months_available` (force -> months
    published, e.g. `analysis.views.months_available(manifest)`) tells a month with no searches from a month
    not published; without it a month with no record counts as not published."""
    months = [m for m in selection.months if m >= first_month]
    if not months:
        raise ValueError(f"the selection ends before {first_month}: the long view starts there")
    view = replace(selection, start=months[0], end=months[-1], months_published=(), per_period_census=True)
    counts = count(records, view, by_month=True)
    available = _available(counts, months_available)
    periods = [(FINANCIAL_YEAR, label, idx) for label, idx in financial_year_periods(months)]
    if rolling:
        periods += [(ROLLING, label, idx) for label, idx in rolling_periods(months)]
    if periods:
        table = _periods_table(view, counts, available, periods).reindex(columns=LONG_TREND_COLUMNS)
    else:
        table = pd.DataFrame(columns=LONG_TREND_COLUMNS)
    table["coverage"] = table["force_months_published"] / table["force_months"].where(table["force_months"] > 0)
    table = table.loc[~table["group"].eq(vocab.NOT_STATED) | table["searches"].gt(0)].reset_index(drop=True)
    return LongTrend(table, coverage_by_year(counts, available), *_census_change(table), view)


def _census_change(table: pd.DataFrame) -> tuple[str, str]:
    """The first financial year, and the first rolling window's end, on Census 2021 after Census 2011."""
    out = []
    for kind in (FINANCIAL_YEAR, ROLLING):
        rows = table.loc[table["kind"].eq(kind), ["period", "census"]].drop_duplicates()
        censuses = rows["census"].astype(str).tolist()
        change = next((rows["period"].iloc[i] for i in range(1, len(censuses))
                       if censuses[i] != censuses[i - 1]), "")
        out.append(str(change))
    return out[0], out[1]
