"""Search rates per 1,000 residents by ethnic group, the 'Not stated' summary, and disparity ratios.

Follows the Home Office method (../shared/DATA.md 3.2): searches of persons (vehicle-only searches left
out) by self-defined group over Census residents of that group in the force area, x 1,000,
annualised (x 12 / months) when the period is not a year. The Census is the selection's `census_year`
(Home Office: 2011 up to 2019/20, 2021 from 2020/21); every table names it in a `census` column. Pooled rows (force 'ALL') sum searches and
residents over the covered forces; they never average rates.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from analysis import SMALL_N, intervals
from analysis.selection import Selection
from data import reference_data, vocab

POOLED = "ALL"

RATES_COLUMNS = ["force", "group", "searches", "population", "rate_per_1000", "ci_low", "ci_high", "months",
                 "reason", "small_n", "forces", "effective_population", "census"]
DISPARITY_COLUMNS = ["force", "group", "reference", "ratio", "ci_low", "ci_high", "rate_difference",
                     "exact_ci_low", "exact_ci_high", "group_searches", "reference_searches",
                     "ratio_if_not_stated_group", "ratio_if_not_stated_reference", "reason", "small_n", "forces",
                     "census"]
NOT_STATED_COLUMNS = ["force", "searches_of_persons", "not_stated", "share", "unrecognised", "forces"]

OFFICER_CAVEAT = ("officer-defined ethnicity divided by self-identified Census populations: "
                  "not comparable with official rates")
NOT_STATED_REASON = "ethnicity not stated: counted, but has no population"


def person_mask(records: pd.DataFrame) -> np.ndarray:
    """True for searches of a person: vehicle-only searches (type, or involved_person False) are left out.
    A record with neither field known is kept (it has a person's ethnicity)."""
    vehicle_only = records["type"].eq("Vehicle search").fillna(False).to_numpy(bool)
    no_person = records["involved_person"].eq(False).fillna(False).to_numpy(bool)
    return ~(vehicle_only | no_person)


def searches_of_persons(records: pd.DataFrame) -> pd.DataFrame:
    """Records that are searches of a person (see `person_mask`)."""
    return records.loc[person_mask(records)]


def group_setup(selection: Selection) -> tuple[str, tuple[str, ...], str]:
    """(record column, groups in display order incl. 'Not stated', Census level) for the selection."""
    column = selection.group_column
    if column == "self_defined_group":
        return column, vocab.DETAILED_WITH_NOT_STATED, "detailed"
    return column, vocab.BROAD_WITH_NOT_STATED, "broad"


def codes(values: pd.Series, categories: list[str] | tuple[str, ...]) -> np.ndarray:
    """Positions of values in `categories` (-1 when absent), int64; fast for categorical columns."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        lookup = np.append(pd.Index(list(categories)).get_indexer(values.cat.categories), -1)
        return lookup[values.cat.codes.to_numpy()].astype("int64")  # code -1 (missing) takes the appended -1
    return pd.Index(list(categories)).get_indexer(values.to_numpy(object)).astype("int64")


@cache
def _reference(level: str, census: str = "2021") -> tuple[pd.DataFrame, dict[str, tuple[str, bool, int]]]:
    """Census residents as a force x group table, and per force (name, has residents, residents total).
    The reference tables are fixed files, so this is computed once per level and census."""
    wide = reference_data.population(level, census).pivot_table(index="force", columns="group",
                                                                 values="population", aggfunc="sum")
    areas = {f: (reference_data.force_name(f), reference_data.has_residents(f, census),
                 reference_data.residents_total(f, census)) for f in reference_data.force_ids()}
    return wide, areas


def census_missing_reason(group: str, census: str) -> str:
    """Why a group has no rate under a census that did not count it ('' when the census has the group)."""
    if group == vocab.NOT_STATED or group in reference_data.census_groups(census, "detailed") \
            or group in reference_data.census_groups(census, "broad"):
        return ""
    note = " (Roma residents were counted in Other White)" if group == "Roma" else ""
    return f"Census {census} has no {group} group{note}: searches counted, no rate"


@dataclass(frozen=True)
class Counts:
    """Searches of persons by force x group (x month), with residents and what each force can support.

    Index order: forces as in the selection, groups as in `groups` (the last is 'Not stated').
    """

    forces: tuple[str, ...]
    groups: tuple[str, ...]
    months: tuple[str, ...]
    searches: np.ndarray        # (F, G) int64
    monthly: np.ndarray | None  # (F, M, G) int64, when asked for
    unrecognised: np.ndarray    # (F,) records whose label maps to no group (<NA>)
    persons: np.ndarray         # (F,) all searches of persons
    population: np.ndarray      # (F, G) float; nan for 'Not stated' and forces without residents
    force_reason: tuple[str, ...]   # why a force gets no rate ('' when it does)
    has_records: np.ndarray     # (F,) bool
    pooled_members: tuple[str, ...]  # forces whose residents (and searches) make the pooled row
    pooled_numerator_extra: tuple[str, ...]  # forces that add searches only (BTP when include_btp)
    caveat: str                 # applies to every rate (officer-defined ethnicity)
    present: np.ndarray | None = None  # (F, M) bool: the force has any record that month (with by_month)
    coverage: np.ndarray | None = None  # (F,) share of the period's months each force published (None: all)
    census: str = "2021"        # the Census whose residents make `population`

    @property
    def effective_population(self) -> np.ndarray:
        """Residents x the share of the period each force published: the person-time behind its searches."""
        if self.coverage is None:
            return self.population
        return self.population * self.coverage[:, None]


def count_columns(selection: Selection) -> tuple[str, ...]:
    """The record columns `count` reads for a selection (a view reads only these from the store)."""
    return ("force", "month", "type", "involved_person", selection.group_column)


# A frame of counted records (data.store_read.read_counts) says in this column how many records each row is.
WEIGHT_COLUMN = "records"


def _tally(index: np.ndarray, weights: np.ndarray | None, minlength: int) -> np.ndarray:
    """np.bincount, counting each row `weights` times when rows stand for several records."""
    if weights is None:
        return np.bincount(index, minlength=minlength)
    return np.bincount(index, weights=weights, minlength=minlength).round().astype("int64")


def count(records: pd.DataFrame, selection: Selection, *, by_month: bool = False) -> Counts:
    """Count searches of persons by force and group (vectorised; every force and group present).

    `records` are records, or counted records (data.store_read.read_counts): rows with a WEIGHT_COLUMN
    that says how many records each row stands for; the counts are the same."""
    column, groups, level = group_setup(selection)
    forces, months = tuple(selection.forces), tuple(selection.months)
    weights = records[WEIGHT_COLUMN].to_numpy("float64") if WEIGHT_COLUMN in records.columns else None
    person = person_mask(records)
    all_f = codes(records["force"], forces)
    f = all_f[person]
    g = codes(records[column], groups)[person]
    w = None if weights is None else weights[person]
    n_f, n_g = len(forces), len(groups)
    known_force = f >= 0
    ok = known_force & (g >= 0)

    def part(mask: np.ndarray, of: np.ndarray | None) -> np.ndarray | None:
        return None if of is None else of[mask]

    searches = _tally(f[ok] * n_g + g[ok], part(ok, w), n_f * n_g).reshape(n_f, n_g)
    monthly = present = None
    if by_month:
        all_m = codes(records["month"], months)
        both = (all_f >= 0) & (all_m >= 0)
        present = _tally(all_f[both] * len(months) + all_m[both], part(both, weights),
                         n_f * len(months)).reshape(n_f, len(months)) > 0
        m = all_m[person]
        okm = ok & (m >= 0)
        monthly = _tally((f[okm] * len(months) + m[okm]) * n_g + g[okm], part(okm, w),
                         n_f * len(months) * n_g).reshape(n_f, len(months), n_g)
    unrecognised = _tally(f[known_force & (g < 0)], part(known_force & (g < 0), w), n_f)
    persons = _tally(f[known_force], part(known_force, w), n_f)
    any_records = _tally(all_f[all_f >= 0], part(all_f >= 0, weights), n_f) > 0

    census = selection.census_year
    wide, areas = _reference(level, census)
    population = wide.reindex(index=list(forces), columns=list(groups)).to_numpy(dtype="float64", copy=True)
    reasons = []
    for i, force in enumerate(forces):
        name, resident, total = areas.get(force, (force, False, 0))
        if not resident:
            reasons.append(f"{name} has no resident population, so no rate")
            population[i, :] = np.nan
        elif total < reference_data.MIN_MEANINGFUL_RESIDENTS:
            reasons.append(f"{name} has only {total:,} residents (under "
                           f"{reference_data.MIN_MEANINGFUL_RESIDENTS:,}): a resident rate is not meaningful")
        else:
            reasons.append("")
    members = tuple(f for f in forces if areas.get(f, ("", False, 0))[1])
    extra = tuple(f for f in forces if not areas.get(f, ("", False, 0))[1]) if selection.include_btp else ()
    caveat = OFFICER_CAVEAT if selection.ethnicity == "officer" else ""
    coverage = (np.array([selection.coverage_share(f) for f in forces], dtype=float)
                if selection.months_published else None)
    return Counts(forces, groups, months, searches, monthly, unrecognised, persons, population,
                  tuple(reasons), any_records, members, extra, caveat, present, coverage, census)


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def pooled_reason(counts: Counts) -> str:
    """What the pooled row covers beyond the plain sum, and any covered force without records."""
    idx = {f: i for i, f in enumerate(counts.forces)}
    missing = [reference_data.force_name(f) for f in counts.pooled_members if not counts.has_records[idx[f]]]
    parts = []
    if not counts.pooled_members:
        parts.append("no selected force has a resident population, so no pooled rate")
    if counts.pooled_numerator_extra:
        names = ", ".join(reference_data.force_name(f) for f in counts.pooled_numerator_extra)
        parts.append(f"includes searches by {names} (no resident population) in the numerator")
    if missing:
        parts.append(f"no records for {', '.join(missing)}, whose residents are still in the denominator")
    return _join(*parts)


def pool(counts: Counts, values: np.ndarray, *, numerator: bool) -> np.ndarray:
    """Sum a (F, ...) array over the pooled forces (numerators also over BTP when include_btp)."""
    names = counts.pooled_members + (counts.pooled_numerator_extra if numerator else ())
    idx = [counts.forces.index(f) for f in names]
    return np.asarray(values)[idx].sum(axis=0)


def with_pooled(counts: Counts, pooled: bool | None) -> bool:
    return len(counts.forces) > 1 if pooled is None else pooled


def _group_reasons(area_reason: str, groups: tuple[str, ...], population: np.ndarray, caveat: str,
                   census: str = "2021") -> list[str]:
    out = []
    for group, pop in zip(groups, population, strict=True):
        if group == vocab.NOT_STATED:
            out.append(_join(NOT_STATED_REASON, area_reason))
        elif missing := census_missing_reason(group, census):
            out.append(_join(missing, area_reason, caveat))
        elif not pop > 0 and not area_reason:
            out.append(_join("no Census residents in this group in the area", caveat))
        else:
            out.append(_join(area_reason, caveat))
    return out


def rates(records: pd.DataFrame, selection: Selection, *, pooled: bool | None = None) -> pd.DataFrame:
    """Searches per 1,000 residents a year by force and group with the exact (Garwood) 95% interval.

    Columns: force, group, searches, population, rate_per_1000, ci_low, ci_high, months, reason, small_n,
    forces. 'Not stated' has a row (searches only). A pooled row set (force 'ALL') follows when more than
    one force is selected (or `pooled=True`).
    """
    counts = count(records, selection)
    return rates_from_counts(counts, months=selection.n_months, pooled=pooled)


def rates_from_counts(counts: Counts, *, months: int, pooled: bool | None = None) -> pd.DataFrame:
    """The rates table from `count(...)` (for callers that already counted). Vectorised over forces."""
    labels, forces_col = list(counts.forces), list(counts.forces)
    searches, population, effective = counts.searches, counts.population, counts.effective_population
    share = counts.coverage if counts.coverage is not None else np.ones(len(counts.forces))
    months_of = list(np.rint(share * months).astype(int))
    meaningful = np.array([r == "" for r in counts.force_reason], dtype=bool)
    reasons = []
    for i in range(len(counts.forces)):
        area = counts.force_reason[i]
        if not area and not counts.has_records[i]:
            area = "no records for this force in the selection"
        reasons += _group_reasons(area, counts.groups, population[i], counts.caveat, counts.census)
    if with_pooled(counts, pooled):
        has_pool = bool(counts.pooled_members)
        pooled_pop = pool(counts, population, numerator=False) if has_pool else np.full(len(counts.groups), np.nan)
        pooled_eff = pool(counts, effective, numerator=False) if has_pool else np.full(len(counts.groups), np.nan)
        searches = np.vstack([searches, pool(counts, searches, numerator=True)])
        population = np.vstack([population, pooled_pop])
        effective = np.vstack([effective, pooled_eff])
        months_of.append(months)
        meaningful = np.append(meaningful, has_pool)
        reasons += _group_reasons(pooled_reason(counts), counts.groups, pooled_pop, counts.caveat, counts.census)
        labels.append(POOLED)
        forces_col.append(",".join(counts.pooled_members + counts.pooled_numerator_extra))
    n_g = len(counts.groups)
    searches = searches.reshape(-1).astype("int64")
    population = population.reshape(-1)
    effective = effective.reshape(-1)
    factor = 1000 * 12 / months if months else np.nan
    usable = np.repeat(meaningful, n_g) & np.isfinite(effective) & (effective > 0)
    # person-time: a force that published m of the period's M months contributes residents x m / M
    pop = np.where(usable, effective, np.nan)
    low, high = intervals.garwood(searches)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate, ci_low, ci_high = searches / pop * factor, low / pop * factor, high / pop * factor
    return pd.DataFrame({
        "force": np.repeat(labels, n_g), "group": np.tile(list(counts.groups), len(labels)),
        "searches": searches,
        "population": pd.array(population, dtype="Float64").astype("Int64"),
        "rate_per_1000": rate, "ci_low": ci_low, "ci_high": ci_high, "months": np.repeat(months_of, n_g),
        "reason": reasons, "small_n": searches < SMALL_N, "forces": np.repeat(forces_col, n_g),
        "effective_population": effective, "census": int(counts.census),   # 2011 or 2021 (an int: CSV-stable)
    })[RATES_COLUMNS]


def not_stated_summary(records: pd.DataFrame, selection: Selection, *, pooled: bool | None = None) -> pd.DataFrame:
    """Per force: searches of persons, how many have ethnicity 'Not stated' (and the share), and how many
    carry a label no table knows ('unrecognised', kept apart, never dropped). Columns: force,
    searches_of_persons, not_stated, share, unrecognised, forces."""
    return not_stated_from_counts(count(records, selection), pooled=pooled)


def not_stated_from_counts(counts: Counts, *, pooled: bool | None = None) -> pd.DataFrame:
    """The 'Not stated' summary from `count(...)`."""
    persons = counts.persons
    not_stated = counts.searches[:, -1]
    rows = pd.DataFrame({"force": list(counts.forces), "searches_of_persons": persons, "not_stated": not_stated,
                         "unrecognised": counts.unrecognised, "forces": list(counts.forces)})
    if with_pooled(counts, pooled):
        rows.loc[len(rows)] = [POOLED, pool(counts, persons, numerator=True), pool(counts, not_stated, numerator=True),
                               pool(counts, counts.unrecognised, numerator=True),
                               ",".join(counts.pooled_members + counts.pooled_numerator_extra)]
    with np.errstate(divide="ignore", invalid="ignore"):
        rows["share"] = rows["not_stated"].to_numpy(float) / rows["searches_of_persons"].to_numpy(float)
    for name in ("searches_of_persons", "not_stated", "unrecognised"):
        rows[name] = rows[name].astype("int64")
    return rows[NOT_STATED_COLUMNS]


def reference_members(reference: str, level_groups: tuple[str, ...]) -> list[str]:
    """The groups that make the reference: itself, or at the detailed level a broad group's detailed groups."""
    if reference in level_groups and reference != vocab.NOT_STATED:
        return [reference]
    members = [g for g, b in vocab.DETAILED_GROUPS.items() if b == reference and g in level_groups]
    if not members:
        raise ValueError(f"reference group {reference!r} is not one of "
                         f"{', '.join(g for g in level_groups if g != vocab.NOT_STATED)}")
    return members


def _totals(rows: pd.DataFrame) -> np.ndarray:
    """The residents behind each row's rate: person-time ('effective_population') when the table has it."""
    column = "effective_population" if "effective_population" in rows.columns else "population"
    return rows[column].to_numpy(float, na_value=np.nan)


def reference_columns(table: pd.DataFrame, reference: str, level_groups: tuple[str, ...]) -> pd.DataFrame:
    """Per force of a rates table: the reference group's searches and residents (a broad reference at the
    detailed level sums its detailed groups) and the 'Not stated' searches."""
    members = reference_members(reference, level_groups)
    chosen = table.loc[table["group"].isin(members)]
    code, forces = pd.factorize(chosen["force"])
    n = len(forces)
    population = _totals(chosen)
    _, first = np.unique(code, return_index=True)
    # a member the census did not count (Roma in 2011, inside Other White) adds searches but no residents;
    # a force none of whose members has residents keeps nan
    known = np.bincount(code, weights=np.isfinite(population).astype(float), minlength=n) > 0
    residents = np.bincount(code, weights=np.nan_to_num(population, nan=0.0), minlength=n)
    ref = pd.DataFrame({
        "reference_searches": np.bincount(code, weights=chosen["searches"].to_numpy(float), minlength=n),
        "reference_population": np.where(known, residents, np.nan),  # nan: no residents
        "reference_reason": chosen["reason"].to_numpy(object)[first],
    }, index=pd.Index(forces, name="force"))
    not_stated = table.loc[table["group"].eq(vocab.NOT_STATED)].set_index("force")["searches"]
    ref["not_stated_searches"] = not_stated.reindex(ref.index).to_numpy(float)
    return ref


def disparity(records: pd.DataFrame, selection: Selection, *, pooled: bool | None = None) -> pd.DataFrame:
    """Each group's rate over the reference group's rate, by force (and pooled), with intervals.

    ratio and ci_low/ci_high: Katz log interval as scipy.stats.contingency.relative_risk with residents
    as totals; exact_ci_low/high: exact conditional (binomial) interval; rate_difference: per 1,000 a year;
    ratio_if_not_stated_group/_reference: the ratio if every 'Not stated' search were in the group /
    in the reference group.
    """
    table = rates(records, selection, pooled=pooled)
    return disparity_from_rates(table, reference=selection.reference, months=selection.n_months)


def disparity_from_rates(table: pd.DataFrame, *, reference: str, months: int) -> pd.DataFrame:
    groups = tuple(dict.fromkeys(table["group"]))
    ref = reference_columns(table, reference, groups)
    rows = table.loc[~table["group"].isin([reference, vocab.NOT_STATED])].join(ref, on="force")
    a = rows["searches"].to_numpy(float)
    n1 = _totals(rows)
    c = rows["reference_searches"].to_numpy(float)
    n2 = rows["reference_population"].to_numpy(float, na_value=np.nan)
    ns = rows["not_stated_searches"].to_numpy(float)
    meaningful = rows["rate_per_1000"].notna().to_numpy() & np.isfinite(n2) & (n2 > 0)
    ratio, (low, high) = intervals.katz(a, n1, c, n2)
    ex_low, ex_high = intervals.exact_conditional(a, n1, c, n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        difference = (a / n1 - c / n2) * 1000 * 12 / months
        if_group = ((a + ns) / n1) / (c / n2)
        if_reference = (a / n1) / ((c + ns) / n2)
    # a detailed group inside a broad reference (White Irish vs all White): the ratio is descriptive, but the
    # two counts overlap, so no interval or sensitivity (every formula here assumes independent counts)
    members = reference_members(reference, groups)
    part = rows["group"].isin(members).to_numpy() & (len(members) > 1)
    ref_reason = rows["reference_reason"].fillna("").to_numpy(object)
    reason = [r if r else (f"reference: {rr}" if rr and not m else "")
              for r, rr, m in zip(rows["reason"], ref_reason, meaningful, strict=True)]
    reason = [_join(r, f"part of the reference group {reference}: no interval (overlapping counts)") if p else r
              for r, p in zip(reason, part, strict=True)]
    interval = meaningful & ~part
    out = pd.DataFrame({
        "force": rows["force"].to_numpy(), "group": rows["group"].to_numpy(), "reference": reference,
        "ratio": np.where(meaningful, ratio, np.nan), "ci_low": np.where(interval, low, np.nan),
        "ci_high": np.where(interval, high, np.nan),
        "rate_difference": np.where(meaningful, difference, np.nan),
        "exact_ci_low": np.where(interval, ex_low, np.nan), "exact_ci_high": np.where(interval, ex_high, np.nan),
        "group_searches": a.astype("int64"), "reference_searches": c.astype("int64"),
        "ratio_if_not_stated_group": np.where(interval, if_group, np.nan),
        "ratio_if_not_stated_reference": np.where(interval, if_reference, np.nan),
        "reason": reason, "small_n": (a < SMALL_N) | (c < SMALL_N), "forces": rows["forces"].to_numpy(),
        "census": rows["census"].to_numpy("int64") if "census" in rows.columns else 2021,
    })
    return out.reset_index(drop=True)[DISPARITY_COLUMNS]
