"""Small pure helpers that shape tables for the dashboard's screen (no streamlit, no statistics, no HTTP).

The statistics live in the other analysis modules; these functions only pick rows, list options,
format a number with its interval and count, and summarise coverage, so the page modules stay thin.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from data import reference_data, schema, vocab
from data.months import add_months, month_range

POOLED = "ALL"
STATUS_ORDER = ("ok", "empty", "not_published", "failed", "not_fetched")
STATUS_LABELS = {"ok": "ok", "empty": "empty (0 searches)", "not_published": "not published",
                 "failed": "failed", "not_fetched": "not in the store"}
# Widget name -> canonical column of the records it filters.
FILTER_COLUMNS: dict[str, str] = {
    "legislation": "legislation_group", "object": "object_of_search", "age": "age_range",
    "gender": "gender", "type": "type",
}
_NATURAL_ORDER: dict[str, tuple[str, ...]] = {
    "legislation_group": vocab.LEGISLATION_GROUPS,
    "age_range": ("under 10", "10-17", "18-24", "25-34", "over 34"),
    "gender": ("Male", "Female", "Other"),
    "type": ("Person search", "Person and Vehicle search", "Vehicle search"),
}


# ------------------------------------------------------------------------------------- options
def months_in(records: pd.DataFrame, manifest: pd.DataFrame | None = None) -> list[str]:
    """Every month with records (or a manifest entry), oldest first."""
    months = set(_observed(records["month"])) if len(records) else set()
    if manifest is not None and len(manifest):
        months |= set(manifest["month"].astype(str))
    return sorted(months)


def forces_in(records: pd.DataFrame, manifest: pd.DataFrame | None = None) -> list[str]:
    """Force ids with records (or a manifest entry), in the order of the reference table of forces."""
    present = set(_observed(records["force"])) if len(records) else set()
    if manifest is not None and len(manifest):
        present |= set(manifest["force"].astype(str))
    order = reference_data.force_ids()
    return [f for f in order if f in present] + sorted(present - set(order))


# Raw columns whose label counts decide the filters' options (legislation_group comes from legislation).
OPTION_SOURCES = ("type", "legislation", "object_of_search", "age_range", "gender")


def filter_options(records: pd.DataFrame) -> dict[str, list[str]]:
    """Widget name -> the values seen in the records for that filter, in a natural or frequency order."""
    return filter_options_from_counts(schema.label_counts(records, OPTION_SOURCES))


def filter_options_from_counts(counts: Mapping[str, Mapping[str, int]]) -> dict[str, list[str]]:
    """The filters' options from raw label counts (those kept with the store, or label_counts of records):
    the values in a natural order where there is one, else the most frequent first."""
    out: dict[str, list[str]] = {}
    for name, column in FILTER_COLUMNS.items():
        seen: dict[str, int] = {}
        if column == "legislation_group":  # derived, as schema.add_derived_columns maps it (missing -> '')
            groups = set(vocab.LEGISLATION_GROUPS)
            for label, n in counts.get("legislation", {}).items():
                group = vocab.lookup("legislation", label)
                if group in groups and n:
                    seen[group] = seen.get(group, 0) + n
        else:
            seen = {label: n for label, n in counts.get(column, {}).items() if label != "" and n}
        natural = _NATURAL_ORDER.get(column)
        if natural:
            out[name] = [v for v in natural if v in seen] + sorted(v for v in seen if v not in natural)
        else:
            out[name] = sorted(seen, key=lambda v: (-seen[v], v))
    return out


def _observed(column: pd.Series) -> list[str]:
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = np.unique(column.cat.codes.to_numpy())
        cats = column.cat.categories
        return [str(cats[c]) for c in codes if c >= 0]
    return sorted(str(v) for v in column.dropna().unique())


def default_period(months: Sequence[str], *, length: int = 12) -> tuple[str, str]:
    """The latest `length` months available (or all of them when there are fewer)."""
    if not months:
        raise ValueError("no months to choose from")
    end = months[-1]
    start = max(months[0], add_months(end, -(length - 1)))
    start = next(m for m in months if m >= start)
    return start, end


def reference_options(level: str) -> list[str]:
    """Groups that can be the reference at a level (never 'Not stated'): the level's own groups only, so
    the reference always has its own row (rate, searches) beside the ratios that use it."""
    if level == "detailed":
        return list(vocab.DETAILED_GROUPS)
    return list(vocab.BROAD_GROUPS)


def default_reference(level: str) -> str:
    return "White British" if level == "detailed" else "White"


def comparison_groups(table: pd.DataFrame) -> list[str]:
    """Groups present in a disparity table, in table order."""
    return list(dict.fromkeys(table["group"].astype(str)))


def default_group(groups: Sequence[str]) -> str | None:
    for wanted in ("Black", "Caribbean", "African"):
        if wanted in groups:
            return wanted
    return groups[0] if groups else None


# ---------------------------------------------------------------------------------- picking rows
def overall(table: pd.DataFrame) -> pd.DataFrame:
    """The rows that describe the whole selection: the pooled rows when present, else the one force's."""
    if not len(table):
        return table
    forces = table["force"].astype(str)
    if (forces == POOLED).any():
        return table.loc[forces == POOLED]
    first = forces.iloc[0]
    return table.loc[forces == first]


def group_row(table: pd.DataFrame, group: str) -> pd.Series | None:
    """The overall row for one group, or None."""
    rows = overall(table)
    rows = rows.loc[rows["group"].astype(str) == group]
    return rows.iloc[0] if len(rows) else None


def per_force(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of single forces (pooled rows left out)."""
    return table.loc[table["force"].astype(str) != POOLED]


# ---------------------------------------------------------------------------------- formatting
def is_number(x: object) -> bool:
    try:
        return x is not None and x is not pd.NA and math.isfinite(float(x))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def fmt_number(x: object, digits: int = 1) -> str:
    if not is_number(x):
        return "n/a"
    return f"{float(x):,.{digits}f}"  # type: ignore[arg-type]


def fmt_count(x: object) -> str:
    return f"{int(x):,}" if is_number(x) else "n/a"  # type: ignore[arg-type]


def fmt_share(x: object, digits: int = 1) -> str:
    return f"{100 * float(x):.{digits}f}%" if is_number(x) else "n/a"  # type: ignore[arg-type]


def fmt_interval(low: object, high: object, digits: int = 2, *, share: bool = False) -> str:
    """'95% CI 3.95 to 4.21' (or 'no interval' when it cannot be computed)."""
    if not (is_number(low) and is_number(high)):
        return "no interval"
    if share:
        return f"95% CI {fmt_share(low)} to {fmt_share(high)}"
    return f"95% CI {fmt_number(low, digits)} to {fmt_number(high, digits)}"


def fmt_p(p: object) -> str:
    """'p < 0.001', 'p = 0.012', 'p = 0.34' (never scientific notation on screen)."""
    if not is_number(p):
        return "no p-value"
    value = float(p)  # type: ignore[arg-type]
    if value < 0.001:
        return "p < 0.001"
    return f"p = {value:.3f}" if value < 0.01 else f"p = {value:.2f}"


def plural(n: int, word: str, words: str | None = None) -> str:
    """'1 problem', '2 problems'."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


@dataclass(frozen=True)
class Headline:
    """One number ready for the screen: value, interval, count line and caveat (never a bare number)."""

    value: str
    interval: str
    counts: str
    caveat: str


def ratio_headline(row: pd.Series | None, *, not_stated_share: float | None = None) -> Headline:
    """The disparity ratio of one row of `analysis.rates.disparity`, with its not-stated sensitivity:
    how far the ratio could move if every 'Not stated' search belonged to the reference group, or to the group."""
    if row is None:
        return Headline("n/a", "no interval", "no searches in this selection", "")
    value = f"{fmt_number(row['ratio'], 2)}x" if is_number(row["ratio"]) else "n/a"
    counts = (f"{fmt_count(row['group_searches'])} searches of {row['group']} people vs "
              f"{fmt_count(row['reference_searches'])} of {row['reference']} people")
    caveats = []
    if is_number(row.get("ratio_if_not_stated_group")) and is_number(row.get("ratio_if_not_stated_reference")):
        caveats.append(f"if every 'Not stated' search were {row['reference']}: "
                       f"{float(row['ratio_if_not_stated_reference']):.2f}x; if every one were {row['group']}: "
                       f"{float(row['ratio_if_not_stated_group']):.2f}x")
    if not_stated_share is not None and is_number(not_stated_share):
        caveats.append(f"ethnicity not stated in {fmt_share(not_stated_share)} of searches of persons")
    if bool(row.get("small_n", False)):
        caveats.append("fewer than 20 searches: treat with caution")
    if row.get("reason"):
        caveats.append(str(row["reason"]))
    return Headline(value, fmt_interval(row["ci_low"], row["ci_high"]), counts, "; ".join(caveats))


def rate_headline(row: pd.Series | None) -> Headline:
    """A rate per 1,000 residents a year from one row of `analysis.rates.rates`."""
    if row is None:
        return Headline("n/a", "no interval", "no searches in this selection", "")
    caveat = str(row["reason"]) if row.get("reason") else ""
    if bool(row.get("small_n", False)):
        caveat = "; ".join(c for c in (caveat, "fewer than 20 searches: treat with caution") if c)
    population = f" among {fmt_count(row['population'])} residents" if is_number(row.get("population")) else ""
    return Headline(fmt_number(row["rate_per_1000"], 1), fmt_interval(row["ci_low"], row["ci_high"], 1),
                    f"{fmt_count(row['searches'])} searches{population}", caveat)


def searches_headline(not_stated: pd.DataFrame, selection: object) -> Headline:
    """Searches of persons in the selection (from `analysis.rates.not_stated_summary`)."""
    row = overall(not_stated)
    if not len(row):
        return Headline("0", "", "no searches in this selection", "")
    row = row.iloc[0]
    forces = len(getattr(selection, "forces", ()))
    months = getattr(selection, "n_months", 0)
    return Headline(fmt_count(row["searches_of_persons"]), "a count, not an estimate: no interval",
                    f"{forces} force{'s' if forces != 1 else ''}, {months} month{'s' if months != 1 else ''}; "
                    f"{fmt_count(row['not_stated'])} with ethnicity not stated",
                    "vehicle-only searches are left out")


def not_stated_headline(not_stated: pd.DataFrame) -> Headline:
    """The share of searches of persons with ethnicity not stated (Wilson interval), and unrecognised labels."""
    from analysis.intervals import wilson

    row = overall(not_stated)
    if not len(row) or not row["searches_of_persons"].iloc[0]:
        return Headline("n/a", "no interval", "no searches in this selection", "")
    row = row.iloc[0]
    low, high = wilson(row["not_stated"], row["searches_of_persons"])
    caveat = "counted in totals, in no group; no population"
    if is_number(row.get("unrecognised")) and row["unrecognised"]:
        caveat += f"; {fmt_count(row['unrecognised'])} more carry a label no table knows"
    return Headline(fmt_share(row["share"]), fmt_interval(low, high, share=True),
                    f"{fmt_count(row['not_stated'])} of {fmt_count(row['searches_of_persons'])} searches of persons",
                    caveat)


def coverage_headline(summary: Mapping[str, int]) -> Headline:
    """Force-months with data out of those the selection covers."""
    have = summary.get("ok", 0) + summary.get("empty", 0)
    cells = summary.get("cells", 0)
    missing = [f"{summary.get(s, 0)} {STATUS_LABELS[s]}" for s in STATUS_ORDER[2:] if summary.get(s, 0)]
    return Headline(f"{have} of {cells}", "a count: no interval",
                    "force-months with data" + (f" ({summary.get('empty', 0)} with no searches)"
                                                if summary.get("empty", 0) else ""),
                    ("missing: " + ", ".join(missing) + "; missing months are not zero searches") if missing
                    else "every force-month in the selection is in the data")


def share_headline(row: pd.Series | None, *, numerator: str, denominator: str, what: str) -> Headline:
    """A share (arrest rate, find rate, thorough-search share) with its interval and counts."""
    if row is None:
        return Headline("n/a", "no interval", "no records in this selection", "")
    caveat = str(row["reason"]) if row.get("reason") else ""
    return Headline(fmt_share(row["share"]), fmt_interval(row["ci_low"], row["ci_high"], share=True),
                    f"{fmt_count(row[numerator])} of {fmt_count(row[denominator])} {what}", caveat)


# ---------------------------------------------------------------------------------- coverage
def coverage(manifest: pd.DataFrame, forces: Iterable[str], months: Iterable[str]) -> pd.DataFrame:
    """force x month status for the selection: one row per cell, 'not_fetched' where the manifest is silent.

    Columns: force, month, status, records, reason.
    """
    grid = pd.MultiIndex.from_product([list(forces), list(months)], names=["force", "month"]).to_frame(index=False)
    if manifest is None or not len(manifest):
        known = pd.DataFrame(columns=["force", "month", "status", "records", "reason"])
    else:
        known = manifest.loc[:, ["force", "month", "status", "records", "reason"]].astype(
            {"force": str, "month": str})
    out = grid.merge(known, on=["force", "month"], how="left")
    out["status"] = out["status"].fillna("not_fetched").astype(str)
    out["records"] = pd.to_numeric(out["records"], errors="coerce").fillna(0).astype("int64")
    out["reason"] = out["reason"].fillna("").astype(str)
    return out


def coverage_summary(cells: pd.DataFrame) -> dict[str, int]:
    """Cells by status (every status present, zero when none) plus 'cells' in all."""
    counts = cells["status"].value_counts()
    out = {s: int(counts.get(s, 0)) for s in STATUS_ORDER}
    out["cells"] = int(len(cells))
    return out


def coverage_sentence(summary: Mapping[str, int]) -> str:
    """'142 of 144 force-months have data; 1 not published, 1 failed.'"""
    ok_like = summary.get("ok", 0) + summary.get("empty", 0)
    parts = [f"{summary.get(s, 0)} {STATUS_LABELS[s]}" for s in STATUS_ORDER[1:] if summary.get(s, 0)]
    tail = f"; {', '.join(parts)}" if parts else ""
    return f"{ok_like} of {summary.get('cells', 0)} force-months have data{tail}."


def coverage_matrix(cells: pd.DataFrame) -> pd.DataFrame:
    """force name x month table of status codes 0..4 (STATUS_ORDER) for a heatmap."""
    code = {s: i for i, s in enumerate(STATUS_ORDER)}
    frame = cells.assign(code=cells["status"].map(code), name=cells["force"].map(reference_data.force_name))
    matrix = frame.pivot_table(index="name", columns="month", values="code", aggfunc="max", sort=False)
    return matrix.reindex(columns=sorted(matrix.columns))


# ---------------------------------------------------------------------------------- map
def map_points(records: pd.DataFrame, group_column: str, *, limit: int = 20_000,
               seed: int = 1) -> tuple[pd.DataFrame, int, int]:
    """Located searches for a map (a fixed random sample of at most `limit`), how many are located, in all.

    Returns (points with latitude, longitude, group, month, street; located; total). `street` is the
    anonymised street and the force's name (names looked up once per force, not per point).
    """
    columns = ["latitude", "longitude", "group", "month", "street"]
    total = int(len(records))
    if not total:
        return pd.DataFrame(columns=columns), 0, 0
    located_mask = records["latitude"].notna().to_numpy() & records["longitude"].notna().to_numpy()
    located = int(located_mask.sum())
    rows = np.flatnonzero(located_mask)
    if len(rows) > limit:
        rows = np.sort(np.random.default_rng(seed).choice(rows, size=limit, replace=False))
    sample = records.iloc[rows]
    forces = sample["force"].astype(str)
    names = forces.map({f: reference_data.force_name(f) for f in forces.unique()})
    streets = sample["street"].astype(object).fillna("").astype(str)
    points = pd.DataFrame({
        "latitude": sample["latitude"].to_numpy(), "longitude": sample["longitude"].to_numpy(),
        "group": sample[group_column].astype(object).fillna("Unrecognised label").to_numpy(),
        "month": sample["month"].astype(str).to_numpy(),
        "street": (streets + ", " + names).str.lstrip(", ").to_numpy(),
    })
    return points, located, total


# ---------------------------------------------------------------------------------- compare forces
def force_from_points(points: Sequence[Mapping[str, object]], known: Iterable[str]) -> str | None:
    """The force id a click on a forest or funnel plot points at (customdata, then the label), or None."""
    known = list(known)
    by_name = {reference_data.force_name(f): f for f in known}
    for point in points:
        candidates: list[object] = []
        custom = point.get("customdata")
        if isinstance(custom, (list, tuple)):
            candidates.extend(custom)
        elif custom is not None:
            candidates.append(custom)
        candidates.extend([point.get("y"), point.get("x"), point.get("text"), point.get("hovertext")])
        for value in candidates:
            text = str(value) if value is not None else ""
            if text in known:
                return text
            if text in by_name:
                return by_name[text]
    return None


LEAGUE_COLUMNS = {
    "force_name": "Force", "ratio": "Ratio", "ci_low": "95% CI low", "ci_high": "95% CI high",
    "group_searches": "Group searches", "reference_searches": "Reference searches", "z": "z",
    "q_value": "q (FDR)", "flag": "Flag", "small_n": "Fewer than 20",
}
SORTS = {"ratio": ("ratio", False), "name": ("force_name", True), "searches": ("group_searches", False),
         "z": ("z", False)}


def league_table(compare: pd.DataFrame, group: str, *, sort: str = "ratio") -> pd.DataFrame:
    """One row per force for one group, sorted, with readable column names."""
    rows = compare.loc[(compare["group"].astype(str) == group) & (compare["force"].astype(str) != POOLED)]
    rows = rows.assign(force_name=rows["force"].map(reference_data.force_name))
    column, ascending = SORTS.get(sort, SORTS["ratio"])
    rows = rows.sort_values(column, ascending=ascending, na_position="last")
    keep = [c for c in LEAGUE_COLUMNS if c in rows.columns]
    return rows.loc[:, keep].rename(columns=LEAGUE_COLUMNS).reset_index(drop=True)


# ---------------------------------------------------------------------------------- get data
def recent_months(today: date, *, count: int = 36) -> list[str]:
    """The `count` months before the current one, oldest first (what the police.uk API serves, roughly)."""
    last = add_months(f"{today.year:04d}-{today.month:02d}", -1)
    return [add_months(last, -i) for i in range(count - 1, -1, -1)]


def month_span(start: str, end: str) -> list[str]:
    """Every month from start to end (a reversed range raises BadMonthRange with its message)."""
    return month_range(start, end)


def import_summary_lines(summary: object, *, seconds: float | None = None) -> list[str]:
    """The closing lines `python -m data import` prints, for an `data.archive.ImportSummary`."""
    return summary.lines(seconds=seconds)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------- outcomes
MEASURE_WORDS = {"Arrest": "arrested", "No further action": "given no further action",
                 "Other action": "given another outcome (caution, summons, warning...)", "Found": "found with "
                 "what the officer was looking for (outcome linked to the object of search)"}


def plain_tests(pairwise: pd.DataFrame, *, alpha: float = 0.05, group: str | None = None) -> list[str]:
    """One plain-English sentence per comparison of the overall rows of a pairwise test table.

    'Searches of Black people ended in arrest less often than searches of White people (11.2% vs 12.9%);
    the difference is larger than chance would explain (p = 0.001 after allowing for 8 comparisons).'
    """
    rows = overall(pairwise) if len(pairwise) else pairwise
    if group is not None and len(rows):
        rows = rows.loc[rows["group"].astype(str) == group]
    sentences = []
    for _, row in rows.iterrows():
        what = MEASURE_WORDS.get(str(row["outcome"]), str(row["outcome"]).lower())
        if not is_number(row.get("p_holm")) or not is_number(row.get("group_total")) or not row["group_total"]:
            reason = row.get("reason") or "too few searches to test"
            sentences.append(f"{row['group']} vs {row['other']}, {what}: no test ({reason}).")
            continue
        g = row["group_count"] / row["group_total"]
        o = row["other_count"] / row["other_total"] if row["other_total"] else float("nan")
        direction = "more often" if g > o else "less often" if g < o else "as often"
        significant = float(row["p_holm"]) < alpha
        verdict = ("a difference larger than chance alone would explain" if significant
                   else "a difference chance alone could explain")
        sentences.append(
            f"Searches of {row['group']} people were {what} {direction} than searches of {row['other']} people "
            f"({fmt_share(g)} of {fmt_count(row['group_total'])} vs {fmt_share(o)} of "
            f"{fmt_count(row['other_total'])}): {verdict} ({fmt_p(row['p_holm'])}, Holm-adjusted for "
            "the number of comparisons).")
    return sentences


def outcome_row(outcomes: pd.DataFrame, group: str, outcome: str) -> pd.Series | None:
    """The overall row of an outcomes table for one group and outcome class, or None."""
    rows = overall(outcomes)
    rows = rows.loc[(rows["group"].astype(str) == group) & (rows["outcome"].astype(str) == outcome)]
    return rows.iloc[0] if len(rows) else None


# ---------------------------------------------------------------------------------- use of force
def use_of_force_forces(chosen: Sequence[str], available: Sequence[str]) -> str | tuple[str, ...]:
    """'all' when the selection is every force in the data, else the chosen force ids."""
    return "all" if set(chosen) >= set(available) else tuple(chosen)


def broad_reference(reference: str) -> str:
    """Use-of-force groups are broad and officer-perceived: a detailed reference maps to its broad group."""
    return vocab.DETAILED_GROUPS.get(reference, reference)


def no_location_headline(located: int, total: int) -> Headline:
    """The share of searches with no location (a count out of a total, with its Wilson interval)."""
    from analysis.intervals import wilson

    missing = total - located
    if not total:
        return Headline("n/a", "no interval", "no searches in this selection", "")
    low, high = wilson(missing, total)
    return Headline(fmt_share(missing / total), fmt_interval(low, high, share=True),
                    f"{fmt_count(missing)} of {fmt_count(total)} searches", "not on the map")


QUALITY_LABELS = {
    "force_name": "Force", "records": "Records", "months_ok": "Months ok", "months_empty": "Months empty",
    "months_not_published": "Not published", "months_failed": "Failed",
    "share_no_location": "No location", "share_date_only": "Date only (no time)",
    "share_ethnicity_not_stated": "Ethnicity not stated", "share_outcome_not_recorded": "Outcome missing",
    "share_outcome_linked_not_recorded": "Outcome-linked missing",
    "share_removal_not_recorded": "Removal field missing", "not_recorded": "Never recorded",
}


def quality_display(quality: pd.DataFrame) -> pd.DataFrame:
    """The quality table with force names, shares as percentages and readable headers."""
    out = quality.assign(force_name=quality["force"].map(
        lambda f: "All selected forces" if f == POOLED else reference_data.force_name(f)))
    for column in [c for c in out.columns if c.startswith("share_")]:
        out[column] = out[column].map(fmt_share)
    keep = [c for c in QUALITY_LABELS if c in out.columns]
    return out.loc[:, keep].rename(columns=QUALITY_LABELS)


def months_available(manifest: pd.DataFrame | None) -> dict[str, list[str]]:
    """force -> months the source published (ok or empty), for the trend's rolling windows."""
    if manifest is None or not len(manifest):
        return {}
    rows = manifest.loc[manifest["status"].isin(["ok", "empty"])]
    return {str(f): sorted(g["month"].astype(str)) for f, g in rows.groupby("force", sort=False)}


def coverage_gaps(cells: pd.DataFrame) -> pd.DataFrame:
    """The force-months of a coverage grid that hold no data: Force, Month, Status, Reason."""
    gaps = cells.loc[~cells["status"].isin(["ok", "empty"])]
    return pd.DataFrame({
        "Force": gaps["force"].map(reference_data.force_name).to_numpy(),
        "Month": gaps["month"].to_numpy(),
        "Status": gaps["status"].map(STATUS_LABELS).to_numpy(),
        "Reason": gaps["reason"].to_numpy(),
    })


def store_summary(manifest: pd.DataFrame) -> str:
    """'1,234 force-months stored (1,200 ok, 20 empty, 10 not published, 4 failed), 2023-01 to 2025-06.'"""
    if manifest is None or not len(manifest):
        return "The store is empty."
    counts = manifest["status"].value_counts()
    parts = ", ".join(f"{int(counts[s]):,} {STATUS_LABELS[s]}" for s in STATUS_ORDER if s in counts)
    months = manifest["month"].astype(str)
    records = int(pd.to_numeric(manifest["records"], errors="coerce").fillna(0).sum())
    cells = f"{len(manifest):,} force-month{'s' if len(manifest) != 1 else ''}"
    return (f"{cells} recorded ({parts}), {months.min()} to {months.max()}, "
            f"{records:,} records.")


def map_sample_headline(shown: int, located: int) -> Headline:
    """How many located searches the map draws (all of them, or a fixed random sample)."""
    if not located:
        return Headline("0", "a count: no interval", "no searches with a location", "")
    sampled = shown < located
    return Headline(fmt_count(shown), "a count: no interval",
                    f"of {fmt_count(located)} searches with a location",
                    "a fixed random sample, so groups keep their proportions" if sampled else "every located search")


def use_of_force_unit(table: pd.DataFrame, *, default: str) -> str:
    """The unit the table's rows count (officer reports for record-level sources, tactic uses for the
    Home Office force tables); several units are joined, none gives the default."""
    if "unit" not in table.columns:
        return default
    units = [str(u) for u in pd.unique(table["unit"].dropna()) if str(u)]
    return "; ".join(units) if units else default


def no_published_data_text(forces: Sequence[str], start: str, end: str, reasons: Mapping[str, str], *,
                           app: bool = True) -> str:
    """The empty state of a selection with no published month: what is missing and the command to fetch it."""
    names = ", ".join(reference_data.force_name(f) for f in forces) if len(forces) <= 3 else f"{len(forces)} forces"
    period = start if start == end else f"{start} to {end}"
    why = "; ".join(f"{reference_data.force_name(f)}: {r}" for f, r in list(reasons.items())[:3])
    ids = ",".join(forces) if len(forces) <= 5 else "all"
    return (f"No stop-and-search data for {names} in {period} in this store, so there is nothing to count: "
            f"these are missing months, not zero searches{f' ({why})' if why else ''}. "
            + ("Fetch them on **Get data**, or run " if app else "Fetch them with ")
            + f"`python -m data fetch --forces {ids} --from {start} --to {end}`"
            + ("; or choose another period or force in the sidebar." if app else ", or choose other forces or months."))


# ---------------------------------------------------------------------------------- trend window
@dataclass(frozen=True)
class TrendWindow:
    """The months a trend covers, and how to say so."""

    start: str
    end: str
    sentence: str       # what the chart covers
    too_short: str      # the empty state when no 12-month window fits


def trend_window(available: Mapping[str, Sequence[str]], selection: object, *, choice: str = "stored") -> TrendWindow:
    """The trend's months: by default from the first to the last month any chosen force published (the
    longest stored window), else the sidebar's period."""
    start, end = selection.start, selection.end  # type: ignore[attr-defined]
    forces = getattr(selection, "forces", ())
    months = sorted({m for f in forces for m in available.get(f, ())})
    if choice == "stored" and months:
        start, end = months[0], months[-1]
    n = len(month_range(start, end))
    span = start if start == end else f"{start} to {end}"
    source = "every month stored for these forces" if choice == "stored" else "the sidebar's period"
    sentence = (f"{span} ({n} month{'s' if n != 1 else ''}, {source}); each point is the 12 months ending at "
                "that month, and a force's missing months are left out of its window, never counted as zero.")
    too_short = (f"{span} holds {n} month{'s' if n != 1 else ''}: a rolling 12-month rate needs at least 12 "
                 "months of data. " + ("Fetch or import earlier months on Get data to see a trend."
                                       if choice == "stored" else
                                       "Widen the period in the sidebar, or show every stored month."))
    return TrendWindow(start, end, sentence, too_short)


def has_rolling_points(trend: pd.DataFrame) -> bool:
    """Whether a trend table has at least one rolling 12-month value to draw."""
    return bool(len(trend)) and bool(pd.to_numeric(trend["rolling_rate"], errors="coerce").notna().any())


# ---------------------------------------------------------------------------------- sentences
def headline_sentence(ratio_row: pd.Series | None, group_rate: pd.Series | None, reference_rate: pd.Series | None,
                      selection: object) -> str | None:
    """The official phrasing (GOV.UK Ethnicity facts and figures), ready to copy: 'Between 2024-04 and
    2025-03, Black people were 3.9 times as likely as White people to be stopped and searched in Kent
    (95% CI 3.6 to 4.2): 12.1 searches per 1,000 Black residents a year, against 3.1 per 1,000 White
    residents.' None when the ratio cannot be computed."""
    if ratio_row is None or not is_number(ratio_row.get("ratio")):
        return None
    group, reference = str(ratio_row["group"]), str(ratio_row["reference"])
    forces = tuple(getattr(selection, "forces", ()))
    area = reference_data.force_name(forces[0]) if len(forces) == 1 else f"the {len(forces)} forces pooled"
    start, end = getattr(selection, "start", ""), getattr(selection, "end", "")
    period = f"In {start}" if start == end else f"Between {start} and {end}"
    officer = getattr(selection, "ethnicity", "self") == "officer"
    people = "people (as the officer saw them)" if officer else "people"
    ratio = float(ratio_row["ratio"])
    sentence = (f"{period}, {group} {people} were {ratio:.1f} times as likely as {reference} people to be "
                f"stopped and searched in {area} ({fmt_interval(ratio_row['ci_low'], ratio_row['ci_high'], 1)})")
    if group_rate is not None and reference_rate is not None and is_number(group_rate.get("rate_per_1000")) \
            and is_number(reference_rate.get("rate_per_1000")):
        sentence += (f": {fmt_number(group_rate['rate_per_1000'])} searches per 1,000 {group} residents a year, "
                     f"against {fmt_number(reference_rate['rate_per_1000'])} per 1,000 {reference} residents")
    return sentence + "."


def pooled_sentence(selection: object) -> str | None:
    """What 'pooled' covers: the forces, and how far that is from England and Wales (residents)."""
    forces = [f for f in getattr(selection, "forces", ()) if reference_data.has_residents(f)]
    if len(forces) < 2:
        return None
    table = reference_data.forces()
    territorial = [f for f in table.loc[table["country"].ne("Northern Ireland"), "force"]
                   if reference_data.has_residents(f)]
    held = sum(reference_data.residents_total(f) for f in forces)
    everyone = sum(reference_data.residents_total(f) for f in territorial)
    names = ", ".join(reference_data.force_name(f) for f in forces)
    return (f"Pooled figures add up the searches and residents of {len(forces)} of the {len(territorial)} police "
            f"force areas of England and Wales, holding {fmt_share(held / everyone if everyone else None)} of "
            f"their residents: {names}." + ("" if len(forces) < len(territorial) else " This is England and Wales."))


def implausible_display(flags: pd.DataFrame) -> pd.DataFrame:
    """The implausible-month flags with readable headers."""
    return pd.DataFrame({
        "Force": flags["force"].map(reference_data.force_name).to_numpy(),
        "Month": flags["month"].to_numpy(),
        "Records": flags["records"].to_numpy(),
        "Median of the months around it": flags["neighbour_median"].to_numpy(),
        "Robust z": flags["robust_z"].round(1).to_numpy(),
    })


def without_folder(text: str, folder: str) -> str:
    """A message about an uploaded file without the server's temporary folder in it (the file's own name)."""
    return text.replace(folder.rstrip("/") + "/", "").replace(folder, "the upload")
