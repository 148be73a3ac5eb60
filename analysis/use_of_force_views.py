"""What the Use of force page shows: which unit and area a source supports, handcuffing headlines, per-force tables.

Pure functions over `analysis.use_of_force` tables (no streamlit): the page asks `choose_view` what to show
for the selected forces and year, and never relabels national figures as a force's.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.use_of_force import BASIS_REPORTS, ENGLAND_AND_WALES, NO_RESIDENTS
from analysis.views import Headline, fmt_count, fmt_interval, fmt_number, fmt_share, is_number
from data.errors import StopSearchDataError
from data.use_of_force import vocab
from data.use_of_force.names import PROJECT_ALL

HANDCUFFING = ("compliant_handcuffing", "non_compliant_handcuffing")
RATE = "per_1000_residents"
GROUP_SHARE = "group_share"
SHARE = "share"
# what each measure counts, said beside every figure of it
MEASURE_LABELS = {
    RATE: "per 1,000 residents of the group",
    GROUP_SHARE: "the group's share of the tactic's uses, against its share of residents",
    SHARE: "share of officer reports on people of the group that involved the tactic",
}
NO_FORCE_TABLE = "no force x ethnicity table"


def tactic_label(tactic: str) -> str:
    """'non_compliant_handcuffing' -> 'Non-compliant handcuffing'."""
    text = tactic.replace("non_compliant", "non-compliant").replace("_", " ")
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class UseOfForceView:
    """One area's use-of-force rows for a year, what they count, and what the page must say about them."""

    year: str
    rows: pd.DataFrame          # the rows of one unit (a force, the pooled forces or England and Wales)
    area: str                   # the name every title uses for these rows
    selected: str               # the area the user selected (differs from `area` for a national fallback)
    national_only: bool         # force figures are not published for the year: national figures instead
    notice: str                 # a sentence to show above the figures ('' when nothing needs saying)
    count_unit: str             # 'tactic uses' or 'officer reports'
    measures: tuple[str, ...]   # the measures the rows support, most useful first

    @property
    def empty(self) -> bool:
        return not self.measures


def _has(rows: pd.DataFrame, column: str) -> bool:
    values = rows.loc[rows["tactic"].ne(vocab.ALL_REPORTS), column].to_numpy(float)
    return bool(np.isfinite(values).any())


def _measures(rows: pd.DataFrame) -> tuple[str, ...]:
    return tuple(m for m in (RATE, GROUP_SHARE, SHARE) if len(rows) and _has(rows, m))


def _unit(forces: tuple[str, ...] | str) -> str:
    return forces[0] if isinstance(forces, tuple) and len(forces) == 1 else PROJECT_ALL


def _no_force_table(rows: pd.DataFrame) -> bool:
    """Every row says the source has no force x ethnicity table (a national-only year, or a force it lacks)."""
    return bool(len(rows)) and bool(rows["reason"].fillna("").str.startswith(NO_FORCE_TABLE).all())


def _reasons(rows: pd.DataFrame) -> str:
    reasons = [str(r) for r in pd.unique(rows["reason"].fillna("")) if str(r)]
    return "; ".join(reasons[:2])


def choose_view(table_for: Callable[[tuple[str, ...] | str], pd.DataFrame], forces: tuple[str, ...] | str,
                year: str, *, selected: str) -> UseOfForceView:
    """The rows the page shows for `forces` (one force, or several pooled) in `year`.

    `table_for(forces)` returns the use-of-force table (stored or demo). Where the source publishes no
    force-by-ethnicity figures for the year (the 2017/18 Home Office tables), the national rows are shown
    instead, named England and Wales, with a notice saying force figures are not published. A selection the
    source does not cover gets an empty view with the reason, never zeros.
    """
    try:
        table = table_for(forces)
    except StopSearchDataError as exc:
        return _empty(year, selected, f"No use-of-force figures for {selected} in {year}: {exc}")
    rows = table.loc[table["force"].astype(str).eq(_unit(forces))]
    everything = None
    if forces == "all" or (not _measures(rows) and _no_force_table(rows)):
        everything = table if forces == "all" else table_for("all")
    if everything is not None and _no_force_table(everything.loc[everything["force"].ne(PROJECT_ALL)]):
        # the year has no force x ethnicity table at all (2017/18): England and Wales, said so
        national = everything.loc[everything["force"].eq(PROJECT_ALL) & everything["area"].eq(ENGLAND_AND_WALES)]
        if _measures(national):
            instead = "" if selected == ENGLAND_AND_WALES else f", not for {selected}"
            notice = (f"The Home Office published no use-of-force figures by force and ethnicity for {year}: "
                      f"the figures below are for **{ENGLAND_AND_WALES}** as a whole{instead}. "
                      "Force figures are not published for that year; choose a later year for them.")
            return _view(year, national, selected=selected, notice=notice, national_only=True)
    measures = _measures(rows)
    if measures:
        return _view(year, rows, selected=selected, notice="")
    why = _reasons(rows) or "the source holds no rows for it"
    return _empty(year, selected, f"No use-of-force figures for {selected} in {year}: {why}.")


def _view(year: str, rows: pd.DataFrame, *, selected: str, notice: str,
          national_only: bool = False) -> UseOfForceView:
    reports = rows.loc[rows["tactic"].ne(vocab.ALL_REPORTS), "basis"].eq(BASIS_REPORTS)
    count_unit = ("officer reports" if reports.all() else "officer reports or tactic uses" if reports.any()
                  else "tactic uses")
    return UseOfForceView(year=year, rows=rows, area=str(rows["area"].iloc[0]), selected=selected,
                          national_only=national_only, notice=notice, count_unit=count_unit,
                          measures=_measures(rows))


def _empty(year: str, selected: str, notice: str) -> UseOfForceView:
    return UseOfForceView(year=year, rows=pd.DataFrame(), area=selected, selected=selected, national_only=False,
                          notice=notice, count_unit="", measures=())


@dataclass(frozen=True)
class UseOfForceScope:
    """What a use-of-force figure describes, for its export subtitle (in place of the stop-and-search
    selection: the sidebar's period and filters do not apply to use-of-force figures)."""

    area: str
    year: str
    reference: str
    forces: tuple[str, ...] = ()
    months: tuple[str, ...] = ()
    census_label: str = "Census 2021"

    def describe(self) -> str:
        return (f"{self.area}; use of force {self.year} (financial year, April to March); ethnicity perceived by "
                f"the officer; reference group {self.reference}; {self.census_label} residents")


# ------------------------------------------------------------------------------------------ headlines
def _row(rows: pd.DataFrame, tactic: str, group: str) -> pd.Series | None:
    found = rows.loc[rows["tactic"].eq(tactic) & rows["group"].eq(group)]
    return found.iloc[0] if len(found) else None


def count_unit_of(rows: pd.DataFrame, tactics: tuple[str, ...] | list[str]) -> str:
    """'officer reports' when every row of these tactics counts reports, else 'tactic uses' (the national
    tables count reports for tactics counted once per report and uses for the rest)."""
    basis = set(rows.loc[rows["tactic"].isin(list(tactics)), "basis"].astype(str)) if len(rows) else set()
    return "officer reports" if basis == {BASIS_REPORTS} else "tactic uses"


def rate_headline(rows: pd.DataFrame, tactic: str, group: str, *, count_unit: str | None = None) -> Headline:
    """Uses (or reports) of a tactic per 1,000 residents of a group, with its exact Poisson interval.
    `count_unit` defaults to what the row counts (its basis)."""
    row = _row(rows, tactic, group)
    count_unit = count_unit or count_unit_of(rows, [tactic])
    if row is None or not is_number(row["per_1000_residents"]):
        why = "" if row is None else str(row["reason"] or "")
        return Headline("n/a", "no interval", "no rate for this group here", why)
    return Headline(fmt_number(row["per_1000_residents"]),
                    fmt_interval(row["per_1000_ci_low"], row["per_1000_ci_high"], digits=1),
                    f"{fmt_count(row['count'])} {count_unit}; {fmt_count(row['population'])} residents (Census 2021)",
                    "")


def ratio_headline(rows: pd.DataFrame, tactic: str, group: str, *, reference: str) -> Headline:
    """The group's rate per resident against the reference group's, with the Katz log interval."""
    row = _row(rows, tactic, group)
    if row is None or not is_number(row["rate_ratio"]):
        return Headline("n/a", "no interval", f"no rate for {group} or {reference} here", "")
    return Headline(f"{float(row['rate_ratio']):.2f}x",
                    fmt_interval(row["rate_ratio_ci_low"], row["rate_ratio_ci_high"]),
                    f"{group} vs {reference}, per 1,000 residents", "")


def handcuffing_sentence(view: UseOfForceView, group: str, *, reference: str) -> str:
    """'In Metropolitan Police Service in 2019/20, compliant handcuffing was reported 26.4 times per 1,000 Black
    residents and 7.8 per 1,000 White residents: 3.40 times the White rate (95% CI 3.35 to 3.46). ...'"""
    parts = []
    for tactic in HANDCUFFING:
        g, r = _row(view.rows, tactic, group), _row(view.rows, tactic, reference)
        if g is None or r is None or not is_number(g["rate_ratio"]) or not is_number(r["per_1000_residents"]):
            continue
        parts.append(f"{tactic_label(tactic).lower()} was reported {fmt_number(g['per_1000_residents'])} times per "
                     f"1,000 {group} residents and {fmt_number(r['per_1000_residents'])} per 1,000 {reference} "
                     f"residents: {float(g['rate_ratio']):.2f} times the {reference} rate ("
                     f"{fmt_interval(g['rate_ratio_ci_low'], g['rate_ratio_ci_high'])})")
    if not parts:
        return ""
    return f"In {view.area}, {view.year}: " + "; ".join(parts) + "."


# ------------------------------------------------------------------------------------------ tables
def with_resident_share(rows: pd.DataFrame) -> pd.DataFrame:
    """Add `resident_share`: the group's share of the unit's residents (the 5 groups with a population)."""
    out = rows.copy()
    total = out.groupby(["force", "tactic"])["population"].transform("sum")
    out["resident_share"] = out["population"] / total.where(total > 0)
    return out


def forces_table(table: pd.DataFrame, tactic: str, *, group: str, reference: str) -> pd.DataFrame:
    """One row per force for one tactic: rate per 1,000 residents of every group, the group's rate ratio to
    the reference with its interval, its share of the tactic's uses and of residents. Numbers stay
    numbers (sortable); a force without a figure keeps an empty cell and its reason, never a zero."""
    rows = with_resident_share(table.loc[table["tactic"].eq(tactic) & table["force"].ne(PROJECT_ALL)])
    out = []
    for force, part in rows.groupby("force", sort=False):
        by_group = part.set_index("group")
        entry: dict[str, object] = {"Force": str(part["area"].iloc[0]), "force": force}
        for g in vocab.GROUPS:
            if g != vocab.NOT_STATED and g in by_group.index:
                entry[f"{g} per 1,000"] = _round(by_group.at[g, "per_1000_residents"], 2)
        if group in by_group.index:
            row = by_group.loc[group]
            entry[f"{group} uses"] = row["count"]
            entry[f"{group} vs {reference} ratio"] = _round(row["rate_ratio"], 2)
            entry["95% CI low"] = _round(row["rate_ratio_ci_low"], 2)
            entry["95% CI high"] = _round(row["rate_ratio_ci_high"], 2)
            entry[f"{group} share of uses"] = _round(row["group_share"], 4)
            entry[f"{group} share of residents"] = _round(row["resident_share"], 4)
        reasons = [str(r) for r in pd.unique(part["reason"].fillna("")) if str(r) and "USES_CAVEAT" not in str(r)]
        if part.loc[part["group"].ne(vocab.NOT_STATED), "population"].isna().all() and NO_RESIDENTS not in reasons:
            reasons.append(NO_RESIDENTS)
        entry["Note"] = "; ".join(reasons)
        out.append(entry)
    return pd.DataFrame(out)


def _round(value: object, digits: int) -> float:
    return round(float(value), digits) if is_number(value) else np.nan


def share_caption(view: UseOfForceView, group: str, tactic: str) -> str:
    """'Black people were 35.5% of compliant handcuffing uses and 13.5% of residents.'"""
    rows = with_resident_share(view.rows)
    row = _row(rows, tactic, group)
    if row is None or not is_number(row["group_share"]) or not is_number(row["resident_share"]):
        return ""
    return (f"{group} people were {fmt_share(row['group_share'])} of {tactic_label(tactic).lower()} "
            f"{view.count_unit} ({fmt_interval(row['group_share_ci_low'], row['group_share_ci_high'], share=True)}) "
            f"and {fmt_share(row['resident_share'])} of residents in {view.area}.")


# ------------------------------------------------------------------------------------------ selection
def forces_spec(chosen: tuple[str, ...] | list[str]) -> str | tuple[str, ...]:
    """'all' (England and Wales) when every territorial force is chosen, else the chosen force ids. Unlike
    the stop-and-search pages, 'every force in the store' is not England and Wales for use of force."""
    from data import reference_data

    territorial = set(reference_data.resolve_forces("all")) - {"btp"}
    return "all" if set(chosen) >= territorial else tuple(chosen)


def selected_area(spec: str | tuple[str, ...]) -> str:
    """The name of what the user selected: a force, 'England and Wales' or 'N forces pooled'."""
    from data import reference_data

    if spec == "all":
        return ENGLAND_AND_WALES
    if len(spec) == 1:
        return reference_data.force_name(spec[0])
    if len(spec) <= 3:     # a handful of forces: name them (a title must say what it covers)
        names = [reference_data.force_name(f) for f in spec]
        return f"{', '.join(names[:-1])} and {names[-1]} pooled"
    return f"{len(spec)} forces pooled"


def default_measure(view: UseOfForceView) -> str:
    """Shares of officer reports where the source is record-level, else uses per 1,000 residents."""
    if view.count_unit == "officer reports" and SHARE in view.measures:
        return SHARE
    return view.measures[0] if view.measures else RATE


def tactics_with_figures(table: pd.DataFrame) -> list[str]:
    """The tactics (in vocabulary order) with at least one force's rate per resident."""
    have = table.loc[np.isfinite(table["per_1000_residents"].to_numpy(float)), "tactic"]
    return [t for t in vocab.ANALYSIS_TACTICS if t in set(have)]
