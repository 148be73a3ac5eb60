"""Use-of-force disproportionality: tactic shares by perceived ethnic group, ratios, rates per resident and per search."""
from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import SMALL_N, intervals
from data import reference_data
from data.errors import StoreError
from data.use_of_force import vocab
from data.use_of_force.names import PROJECT_ALL, financial_year, year_months
from data.use_of_force.reports import any_of
from data.use_of_force.store import UseOfForceStore
from data.vocab import BROAD_GROUPS, DETAILED_GROUPS

COLUMNS = ["force", "year", "group", "tactic", "count", "reports", "share", "ci_low", "ci_high"]
EXTRA_COLUMNS = ["ratio", "ratio_ci_low", "ratio_ci_high", "group_share", "group_share_ci_low",
                 "group_share_ci_high", "population", "per_1000_residents", "per_1000_ci_low", "per_1000_ci_high",
                 "basis", "source", "unit", "reason", "small_n", "forces",
                 "rate_ratio", "rate_ratio_ci_low", "rate_ratio_ci_high", "area"]
STOP_SEARCH_COLUMNS = ["stop_searches", "per_1000_stop_searches", "per_1000_stop_searches_ci_low",
                       "per_1000_stop_searches_ci_high"]
SOURCES = ("home_office_open_data", "met", "home_office_tables")
BASIS_REPORTS = "reports"        # count = reports involving the tactic
BASIS_USES = "tactic uses"       # count = times the tactic was reported (a report can add several)
TACTICS_UNIT = "times a tactic was reported (uses), on officer reports on a person"
STOP_SEARCH_CAVEAT = ("Use-of-force groups are officer-perceived; stop-and-search groups are self-defined "
                      "(searches of persons, data.police.uk, April to March); the two collections differ.")
NO_RESIDENTS = "no meaningful resident population (tiny resident base or no force area)"
NOT_IN_SOURCE = "not recorded in this source"
USES_REASON = "tactic uses only: the source has no per-group report totals here (USES_CAVEAT)"
USES_CAVEAT = vocab.USES_CAVEAT
ENGLAND_AND_WALES = "England and Wales"


# ------------------------------------------------------------------------------------------ loading
def choose_source(year: str, forces: list[str], *, store: UseOfForceStore) -> str:
    """The best stored source for a year: open data, then Met (Met only), then the Home Office tables."""
    for source in SOURCES:
        part = "tactics" if source == "home_office_tables" else "reports"
        if source == "met" and set(forces) != {"metropolitan"}:
            continue
        if store.has(source, year, part):
            return source
    stored = {s: store.years(s) for s in SOURCES}
    have = "; ".join(f"{s}: {', '.join(y)}" for s, y in stored.items() if y) or "nothing"
    raise StoreError(f"No use-of-force data for {year} in {store.folder} (stored: {have}).",
                     hint="Import a file with `python -m data import FILE` or run `python -m data "
                          "fetch-use-of-force --years " + year + "`.", year=year)


def _resolve(forces: list[str] | str) -> tuple[list[str], bool]:
    spec = forces if isinstance(forces, str) else ",".join(forces)
    ids = reference_data.resolve_forces(spec)
    pooled = spec.strip().lower() == "all" or len(ids) > 1
    return ids, pooled


def check_reference(reference: str) -> str:
    """A broad group name (a detailed Census group maps to its broad group; perceived groups are broad)."""
    broad = DETAILED_GROUPS.get(reference, reference)
    if broad not in BROAD_GROUPS:
        raise ValueError(f"reference must be one of {', '.join(BROAD_GROUPS)}, not {reference!r}")
    return broad


# ------------------------------------------------------------------------------------------ helpers
@cache
def _force_population(meaningful_only: bool = True) -> dict[str, dict[str, float]]:
    """force -> group -> Census 2021 residents, for forces with residents (with a meaningful resident
    population when `meaningful_only`: City of London gets no rate of its own)."""
    table = reference_data.population("broad")
    out: dict[str, dict[str, float]] = {}
    for force, rows in table.groupby("force"):
        if reference_data.has_residents(str(force)) and (not meaningful_only or reference_data.residents_total(
                str(force)) >= reference_data.MIN_MEANINGFUL_RESIDENTS):
            out[str(force)] = rows.set_index("group")["population"].astype(float).to_dict()
    return out


def _population(forces: list[str], *, pooled: bool = False) -> dict[str, float]:
    """Census 2021 residents by group, summed over the forces. A single force needs a meaningful resident
    population; a pooled unit sums every member with residents (City of London's uses are in its
    numerator, so its residents belong in the denominator: England and Wales then equals the ONS total)."""
    total: dict[str, float] = {}
    for force in forces:
        for group, value in _force_population(not pooled).get(force, {}).items():
            total[group] = total.get(group, 0.0) + value
    return total


class _Columns:
    """Rows gathered column by column (one DataFrame at the end: building hundreds of small frames is slow)."""

    NAMES = ("force", "year", "group", "tactic", "count", "reports", "basis", "source", "unit", "reason")

    def __init__(self) -> None:
        self.data: dict[str, list[object]] = {k: [] for k in self.NAMES}

    def add(self, *, count: list[float], reports: list[float], **scalars: object) -> None:
        n = len(vocab.GROUPS)
        self.data["group"] += list(vocab.GROUPS)
        self.data["count"] += list(count)
        self.data["reports"] += list(reports)
        for key, value in scalars.items():
            self.data[key] += [value] * n

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.data)


def area_name(unit: str, members: list[str], *, national: bool = False) -> str:
    """What a unit's rows describe: a force's name, 'England and Wales' (national tables) or 'N forces pooled'."""
    if national:
        return ENGLAND_AND_WALES
    if unit == PROJECT_ALL:
        if 1 < len(members) <= 3:   # a handful of forces: name them (a title must say what it covers)
            names = [reference_data.force_name(f) for f in members]
            return f"{', '.join(names[:-1])} and {names[-1]} pooled"
        return f"{len(members)} forces pooled"
    return reference_data.force_name(unit)


def _finish(table: pd.DataFrame, *, reference: str, forces_of: dict[str, list[str]],
            national: frozenset[str] = frozenset()) -> pd.DataFrame:
    """Shares, Wilson intervals, Katz ratios vs the reference, group shares, rates per 1,000 residents and
    their ratio to the reference group's rate. `national`: units whose rows are England and Wales figures."""
    t = table.copy()
    count, reports = t["count"].to_numpy(float), t["reports"].to_numpy(float)
    t["share"] = np.where(reports > 0, count / np.where(reports > 0, reports, 1), np.nan)
    low, high = intervals.wilson(count, reports)
    t["ci_low"], t["ci_high"] = low, high
    no_share = t["tactic"].eq(vocab.ALL_REPORTS) | t["reports"].isna()
    t.loc[no_share, ["share", "ci_low", "ci_high"]] = np.nan
    ref = t.loc[t["group"].eq(reference), ["force", "tactic", "count", "reports"]].rename(
        columns={"count": "ref_count", "reports": "ref_reports"})
    t = t.merge(ref, on=["force", "tactic"], how="left")
    ratio, (r_low, r_high) = intervals.katz(t["count"], t["reports"], t["ref_count"], t["ref_reports"])
    t["ratio"], t["ratio_ci_low"], t["ratio_ci_high"] = ratio, r_low, r_high
    t.loc[t["group"].eq(reference), ["ratio", "ratio_ci_low", "ratio_ci_high"]] = [1.0, np.nan, np.nan]
    t.loc[no_share | t["group"].eq(vocab.NOT_STATED), ["ratio", "ratio_ci_low", "ratio_ci_high"]] = np.nan
    total = t.groupby(["force", "tactic"])["count"].transform(lambda s: s.sum(min_count=len(s)))
    t["group_share"] = t["count"] / total.where(total > 0)
    g_low, g_high = intervals.wilson(t["count"], total)
    t["group_share_ci_low"], t["group_share_ci_high"] = g_low, g_high
    pops = {unit: _population(members, pooled=unit == PROJECT_ALL) for unit, members in forces_of.items()}
    t["population"] = [pops[f].get(g, np.nan) for f, g in zip(t["force"], t["group"], strict=True)]
    pop = t["population"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t["per_1000_residents"] = count / pop * 1000
        p_low, p_high = intervals.garwood(count)
        t["per_1000_ci_low"], t["per_1000_ci_high"] = p_low / pop * 1000, p_high / pop * 1000
    # rate per resident against the reference group's: the Katz log interval with residents as the totals
    # (as the stop-and-search disparity ratio, analysis.rates)
    ref_pop = t.merge(t.loc[t["group"].eq(reference), ["force", "tactic", "population"]].rename(
        columns={"population": "ref_population"}), on=["force", "tactic"], how="left")["ref_population"]
    rr, (rr_low, rr_high) = intervals.katz(t["count"], t["population"], t["ref_count"], ref_pop.to_numpy(float))
    t["rate_ratio"], t["rate_ratio_ci_low"], t["rate_ratio_ci_high"] = rr, rr_low, rr_high
    t.loc[t["group"].eq(reference), ["rate_ratio", "rate_ratio_ci_low", "rate_ratio_ci_high"]] = [1.0, np.nan, np.nan]
    no_rate = t["group"].eq(vocab.NOT_STATED) | ~np.isfinite(t["per_1000_residents"].to_numpy(float))
    t.loc[no_rate, ["rate_ratio", "rate_ratio_ci_low", "rate_ratio_ci_high"]] = np.nan
    no_pop = t["population"].isna() & t["group"].ne(vocab.NOT_STATED)
    t.loc[no_pop, "reason"] = t.loc[no_pop, "reason"].where(t.loc[no_pop, "reason"].ne(""), NO_RESIDENTS)
    t["small_n"] = t["reports"].fillna(t["count"]).lt(SMALL_N)
    t["forces"] = t["force"].map({u: ",".join(m) for u, m in forces_of.items()})
    t["area"] = t["force"].map({u: area_name(u, m, national=u in national) for u, m in forces_of.items()})
    order = {g: i for i, g in enumerate(vocab.GROUPS)}
    tactics = {x: i for i, x in enumerate((vocab.ALL_REPORTS, *vocab.ANALYSIS_TACTICS))}
    units = {u: i for i, u in enumerate(forces_of)}
    t = t.sort_values(["force", "tactic", "group"], key=lambda s: s.map({**units, **tactics, **order}))
    return t[COLUMNS + EXTRA_COLUMNS].reset_index(drop=True)


# ------------------------------------------------------------------------------------------ record level
def table_from_reports(reports: pd.DataFrame, *, forces: list[str], year: str, pooled: bool,
                       reference: str = "White", source: str = "") -> pd.DataFrame:
    """Pure: tidy reports (data.use_of_force.reports) -> the use-of-force table for forces and year."""
    year = financial_year(year)
    rows = reports.loc[reports["year"].eq(year) & reports["force"].isin(forces)]
    units: dict[str, list[str]] = {f: [f] for f in forces}
    if pooled:
        units[PROJECT_ALL] = list(forces)
    flags = {vocab.ALL_REPORTS: pd.Series(True, index=rows.index, dtype="boolean")}
    for tactic in vocab.ANALYSIS_TACTICS:
        flags[tactic] = any_of(rows, tactic)
    cols = _Columns()
    for unit, members in units.items():
        sub = rows["force"].isin(members).to_numpy(bool)
        groups = rows.loc[sub, "group"]
        reports_by_group = groups.value_counts().reindex(vocab.GROUPS, fill_value=0).astype(float).tolist()
        for tactic, flag in flags.items():
            values = flag[sub]
            recorded = bool(values.notna().any()) or not len(values)  # a source without the column: all <NA>
            counts = (values.fillna(False).astype(bool).groupby(groups).sum().reindex(vocab.GROUPS, fill_value=0)
                      .astype(float).tolist()) if recorded else [np.nan] * len(vocab.GROUPS)
            cols.add(force=unit, year=year, tactic=tactic, count=counts, reports=reports_by_group,
                     basis=BASIS_REPORTS, source=source, unit=vocab.UNIT, reason="" if recorded else NOT_IN_SOURCE)
    return _finish(cols.frame(), reference=reference, forces_of=units)


# ------------------------------------------------------------------------------------------ ODS tables
def table_from_home_office_tables(tactics: pd.DataFrame, incidents: pd.DataFrame, *, forces: list[str],
                                  year: str, pooled: bool, reference: str = "White") -> pd.DataFrame:
    """Pure: the Home Office tables' tidy rows -> the use-of-force table.

    Forces: Table_16 gives tactic uses per group but no group totals, so count = uses, reports and
    share are empty, and group_share (the group's share of the tactic's uses) and uses per 1,000
    residents are what is valid. England and Wales as a whole (pooled over every force): Table_4 gives
    each group's number of reports, so shares of reports are valid for tactics counted once per report.
    """
    year = financial_year(year)
    t = tactics.loc[tactics["year"].eq(year) & tactics["kind"].ne("subtotal")]
    national = t.loc[t["table"].eq("Table_4")].groupby(["tactic", "group"])["count"].sum(min_count=1)
    by_force = t.loc[t["table"].eq("Table_16") & t["force"].ne(PROJECT_ALL)]
    per_force = by_force.groupby(["force", "tactic", "group"])["count"].sum(min_count=1)
    have = set(by_force["force"])
    table_forces = have or set(incidents.loc[incidents["table"].eq("Table_12"), "force"]) - {PROJECT_ALL}
    group_reports = (incidents.loc[incidents["table"].eq("Table_4") & incidents["year"].eq(year)]
                     .groupby("group")["incidents"].sum().reindex(vocab.GROUPS).astype(float).tolist())
    units: dict[str, list[str]] = {f: [f] for f in forces}
    if pooled:
        units[PROJECT_ALL] = list(forces)
    whole_country = table_forces <= set(forces)
    no_reports = [np.nan] * len(vocab.GROUPS)
    cols = _Columns()
    for unit, members in units.items():
        use_national = unit == PROJECT_ALL and whole_country
        missing = [] if use_national else [m for m in members if m not in have]
        if use_national:
            counts = national
        else:
            chosen = per_force.loc[per_force.index.get_level_values("force").isin(members)]
            grouped = chosen.groupby(level=["tactic", "group"])
            counts = grouped.sum(min_count=1).where(grouped.count() == len(members))  # ':' in any force -> NaN
        for tactic in (vocab.ALL_REPORTS, *vocab.ANALYSIS_TACTICS):
            if tactic == vocab.ALL_REPORTS:
                count = group_reports if use_national else no_reports
            else:
                count = [float(counts.get((tactic, g), np.nan)) for g in vocab.GROUPS]
            has_reports = use_national and (tactic in vocab.COUNTED_ONCE_PER_REPORT or tactic == vocab.ALL_REPORTS)
            reason = "" if has_reports else USES_REASON
            if missing:
                reason = f"no force x ethnicity table for {', '.join(missing)} in {year}"
            elif tactic != vocab.ALL_REPORTS and all(np.isnan(count)):
                reason = f"{tactic} not available in the {year} tables (':' or not a row that year)"
            cols.add(force=unit, year=year, tactic=tactic, count=count,
                     reports=group_reports if has_reports else no_reports,
                     basis=BASIS_REPORTS if has_reports else BASIS_USES, source="home_office_tables",
                     unit=vocab.UNIT if has_reports else TACTICS_UNIT, reason=reason)
    national = frozenset({PROJECT_ALL}) if pooled and whole_country else frozenset()
    return _finish(cols.frame(), reference=reference, forces_of=units, national=national)


# ------------------------------------------------------------------------------------------ public
def use_of_force_table(forces: list[str] | str, year: str, *, store_root: Path | str | None = None,
                       reference: str = "White",
                       source: str | None = None, stop_search_only: bool = False) -> pd.DataFrame:
    """force,year,group,tactic,count,reports,share,ci_low,ci_high then extras (see docs/USE_OF_FORCE.md).

    count = reports involving the tactic (basis 'reports') or, where the source gives only that, times
    the tactic was reported (basis 'tactic uses', reports/share/interval empty). The tactic
    'all_reports' counts every report of the group. Unit: officer reports on a person.
    """
    year = financial_year(year)
    ids, pooled = _resolve(forces)
    reference = check_reference(reference)
    store = UseOfForceStore(store_root)
    source = source or choose_source(year, ids, store=store)
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    if source == "met" and set(ids) != {"metropolitan"}:
        raise ValueError("the Met file covers the Metropolitan Police only: use forces='metropolitan'")
    table = _table(ids, year, pooled=pooled, store=store, reference=reference, source=source,
                   stop_search_only=stop_search_only)
    table.attrs["unit"] = vocab.UNIT
    table.attrs["caveats"] = caveats(table)
    return table


def caveats(table: pd.DataFrame) -> list[str]:
    """The plain-English caveats that apply to a use-of-force table (unit, perception, uses-only rows)."""
    notes = [vocab.UNIT_CAVEAT, vocab.PERCEIVED_VS_SELF_CAVEAT]
    if table["basis"].eq(BASIS_USES).any():
        notes.append(vocab.USES_CAVEAT)
    if "stop_searches" in table:
        notes.append(STOP_SEARCH_CAVEAT)
    return notes


def _table(ids: list[str], year: str, *, pooled: bool, store: UseOfForceStore, reference: str, source: str,
           stop_search_only: bool) -> pd.DataFrame:
    if source == "home_office_tables":
        if stop_search_only:
            raise StoreError("The Home Office data tables do not say which force was used to effect a stop "
                             "and search.", hint="Use the open data table (2020/21 on) or the Met file.")
        return table_from_home_office_tables(store.read(source, year, "tactics"),
                                             store.read(source, year, "incidents"), forces=ids, year=year,
                                             pooled=pooled, reference=reference)
    reports = store.read(source, year, "reports")
    if stop_search_only:
        if reports["effect_stop_search"].isna().all():
            raise StoreError(f"The {source} file for {year} does not record whether force was used to effect "
                             "a stop and search.", hint="Use a later year's file.", source=source, year=year)
        reports = reports.loc[reports["effect_stop_search"].fillna(False).to_numpy(bool)]
    return table_from_reports(reports, forces=ids, year=year, pooled=pooled, reference=reference, source=source)


def add_stop_search_rates(table: pd.DataFrame, searches: pd.DataFrame) -> pd.DataFrame:
    """Pure: add stop-and-searches of each group (self-defined) and reports per 1,000 of them."""
    persons = searches.loc[~(searches["type"].eq("Vehicle search").fillna(False).to_numpy(bool)
                             | searches["involved_person"].eq(False).fillna(False).to_numpy(bool))]
    by_force = persons.groupby(["force", "self_defined_broad"], observed=True).size()
    out = table.copy()
    values = []
    for members, group in zip(out["forces"], out["group"], strict=True):
        values.append(float(sum(by_force.get((m, group), 0) for m in members.split(","))))
    out["stop_searches"] = values
    n = out["stop_searches"].to_numpy(float)
    count = out["count"].to_numpy(float)
    low, high = intervals.garwood(count)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["per_1000_stop_searches"] = np.where(n > 0, count / n * 1000, np.nan)
        out["per_1000_stop_searches_ci_low"] = np.where(n > 0, low / n * 1000, np.nan)
        out["per_1000_stop_searches_ci_high"] = np.where(n > 0, high / n * 1000, np.nan)
    out["reason"] = [f"{r}; {STOP_SEARCH_CAVEAT}" if r else STOP_SEARCH_CAVEAT for r in out["reason"]]
    return out


def stop_search_table(forces: list[str] | str, year: str, *, store_root: Path | str | None = None,
                      reference: str = "White",
                      source: str | None = None, searches: pd.DataFrame | None = None) -> pd.DataFrame:
    """Reports where force was used to effect a stop and search: shares, and per 1,000 stop-and-searches."""
    year = financial_year(year)
    table = use_of_force_table(forces, year, store_root=store_root, reference=reference, source=source,
                               stop_search_only=True)
    if searches is None:
        from data.store import Store

        ids, _ = _resolve(forces)
        searches = Store(store_root).read(ids, year_months(year))
    out = add_stop_search_rates(table, searches)
    out.attrs = {**table.attrs, "caveats": caveats(out)}
    return out
