"""Use-of-force figures: tactics by perceived group in the unit the source supports, and one tactic across forces."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.figures.base import (
    as_float,
    colour,
    empty_figure,
    error_bars,
    finish,
    fmt_int,
    fmt_num,
    fmt_pct,
    force_label,
    group_order,
    marker_style,
    require,
    small_mask,
    unit_rows,
)

NEEDS = ("force", "year", "group", "tactic", "count", "reports", "share", "ci_low", "ci_high")
# measure -> (value, low, high, axis title, is a share)
MEASURES = {
    "share": ("share", "ci_low", "ci_high",
              "share of officer reports on a person of the group involving the tactic (%)", True),
    "per_1000_residents": ("per_1000_residents", "per_1000_ci_low", "per_1000_ci_high",
                           "{what} per 1,000 residents of the group (Census 2021)", False),
    "group_share": ("group_share", "group_share_ci_low", "group_share_ci_high",
                    "the group's share of all {what} of the tactic (%); | = its share of residents", True),
}
TITLES = {"share": "share of reports involving each tactic", "per_1000_residents": "per 1,000 residents",
          "group_share": "share of each tactic's uses against share of residents"}


def _label(tactic: str) -> str:
    text = tactic.replace("non_compliant", "non-compliant").replace("_", " ")
    return text[:1].upper() + text[1:] if tactic.islower() else tactic


def _what(rows: pd.DataFrame) -> str:
    basis = set(rows["basis"].astype(str)) if "basis" in rows.columns else {"reports"}
    if basis == {"reports"}:
        return "officer reports"
    return "tactic uses" if "reports" not in basis else "officer reports or tactic uses (see the table's basis)"


def _area(rows: pd.DataFrame) -> str:
    if "area" in rows.columns and len(rows) and isinstance(rows["area"].iloc[0], str):
        return str(rows["area"].iloc[0])
    return force_label(rows["force"].iloc[0]) if len(rows) else ""


def use_of_force_figure(table: pd.DataFrame, *, force: str | None = None, year: str | None = None,
                        measure: str = "share", tactics: Sequence[str] | None = None, demo: bool = False,
                        title: str | None = None, kind: str = "use_of_force") -> go.Figure:
    """Dot plot: for each tactic, one dot per perceived group with its 95% interval, in the unit `measure`.

    Accepts the use-of-force table (analysis.use_of_force). `measure`: 'share' (share of the group's officer
    reports involving the tactic; record-level sources and national tables only), 'per_1000_residents'
    (uses or reports per 1,000 residents of the group, Garwood interval) or 'group_share' (the group's share
    of the tactic's uses, Wilson interval, with its share of residents marked '|'). One unit (`force`, else
    'ALL', else the first) and one `year` (default the latest); `tactics` limits and orders the rows. The
    title names the rows' `area` (a force, 'N forces pooled' or 'England and Wales'), never another. `kind`
    goes into layout.meta (the page's handcuffing chart is 'use_of_force_handcuffing').
    """
    require(table, NEEDS, kind="use_of_force")
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}, not {measure!r}")
    value, lo_col, hi_col, axis, is_share = MEASURES[measure]
    require(table, (value, lo_col, hi_col), kind="use_of_force")
    rows = unit_rows(table, force)
    if len(rows):
        year = year or sorted(rows["year"].astype(str).unique())[-1]
        rows = rows.loc[rows["year"].astype(str) == year]
    area = _area(rows if len(rows) else table)
    if tactics is not None and len(rows):
        rows = rows.loc[rows["tactic"].isin(list(tactics))]
    what = _what(rows) if len(rows) else "uses"
    plotted = rows.loc[np.isfinite(as_float(rows[value]))] if len(rows) else rows
    title = title or (f"Use of force by perceived ethnicity, {TITLES[measure]}: {area}" + (f", {year}" if year else ""))
    if not len(plotted):
        return empty_figure(kind=kind, title=title, demo=demo,
                            message=f"No {TITLES[measure]} figures for {area} in this source and year")
    order = list(tactics) if tactics is not None else list(dict.fromkeys(plotted["tactic"].astype(str)))
    order = [t for t in order if t in set(plotted["tactic"].astype(str))]
    labels = {t: _label(t) for t in order}
    resident_share = _resident_share(plotted) if measure == "group_share" else None
    fmt = fmt_pct if is_share else (lambda v: fmt_num(v, 1))
    fig = go.Figure()
    for group in group_order(plotted["group"]):
        row = plotted.loc[plotted["group"].astype(str) == group]
        x, low, high = as_float(row[value]), as_float(row[lo_col]), as_float(row[hi_col])
        ys = [labels[t] for t in row["tactic"].astype(str)]
        hover = [f"<b>{group}</b>: {labels[t]}<br>{fmt(v)} (95% CI {fmt(a)} to {fmt(b)})<br>{fmt_int(n)} {what}"
                 for t, v, a, b, n in zip(row["tactic"].astype(str), x, low, high, row["count"], strict=True)]
        fig.add_trace(go.Scatter(x=x, y=ys, mode="markers", name=group,
                                 marker=marker_style(colour(group), small_mask(row), size=9),
                                 error_x=error_bars(x, low, high) | {"color": colour(group)}, hovertext=hover,
                                 hovertemplate="%{hovertext}<extra></extra>", meta={"group": group, "measure": measure}))
        if resident_share is not None and group in resident_share:
            fig.add_trace(go.Scatter(x=[resident_share[group]] * len(ys), y=ys, mode="markers",
                                     name=f"{group}: share of residents", showlegend=False,
                                     marker=dict(symbol="line-ns-open", size=16, color=colour(group),
                                                 line=dict(width=2, color=colour(group))),
                                     hovertemplate=f"<b>{group}</b>: {fmt_pct(resident_share[group])} of residents"
                                                   "<extra></extra>", meta={"group": group, "measure": "resident_share"}))
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=[labels[t] for t in reversed(order)])
    fig.update_xaxes(tickformat=".0%" if is_share else None, rangemode="tozero")
    fig.update_layout(height=max(360, 30 * len(order) + 180))
    return finish(fig, kind=kind, title=title, demo=demo,
                  meta={"force": str(plotted["force"].iloc[0]), "area": area, "year": year, "measure": measure},
                  x_title=axis.format(what=what), y_title="Tactic")


def _resident_share(rows: pd.DataFrame) -> dict[str, float]:
    if "population" not in rows.columns:
        return {}
    pops = rows.drop_duplicates("group").set_index("group")["population"].astype(float)
    pops = pops[np.isfinite(pops.to_numpy())]
    return (pops / pops.sum()).to_dict() if len(pops) and pops.sum() > 0 else {}


def use_of_force_forces_figure(table: pd.DataFrame, *, tactic: str, group: str, reference: str,
                               year: str | None = None, demo: bool = False, title: str | None = None) -> go.Figure:
    """Forest plot across forces for one tactic: the group's rate per resident against the reference group's
    (rate_ratio with its 95% interval), one row per force (pooled rows left out), largest at the top; a line
    at 1. Forces without a ratio are named in a note. customdata holds the force id."""
    require(table, (*NEEDS, "rate_ratio", "rate_ratio_ci_low", "rate_ratio_ci_high"), kind="use_of_force_forces")
    rows = table.loc[table["tactic"].eq(tactic) & table["group"].eq(group) & table["force"].ne("ALL")]
    year = year or (str(rows["year"].iloc[0]) if len(rows) else None)
    title = title or (f"{_label(tactic)}: {group} vs {reference} per 1,000 residents, by force"
                      + (f", {year}" if year else ""))
    finite = np.isfinite(as_float(rows["rate_ratio"])) if len(rows) else np.array([], bool)
    missing = [_area(rows.loc[[i]]) for i in rows.index[~finite]] if len(rows) else []
    rows = rows.loc[finite] if len(rows) else rows
    if not len(rows):
        return empty_figure(kind="use_of_force_forces", title=title, demo=demo,
                            message="No force has this figure in this source and year")
    rows = rows.iloc[np.argsort(as_float(rows["rate_ratio"]), kind="stable")]
    ratio, low, high = as_float(rows["rate_ratio"]), as_float(rows["rate_ratio_ci_low"]), as_float(rows["rate_ratio_ci_high"])
    names = [_area(rows.loc[[i]]) for i in rows.index]
    c = colour(group)
    hover = [f"<b>{n}</b><br>{fmt_num(r)} times the {reference} rate (95% CI {fmt_num(a)} to {fmt_num(b)})"
             f"<br>{fmt_num(p, 1)} per 1,000 {group} residents; {fmt_int(k)} {_what(rows)}"
             for n, r, a, b, p, k in zip(names, ratio, low, high, rows["per_1000_residents"], rows["count"], strict=True)]
    fig = go.Figure(go.Scatter(x=ratio, y=names, mode="markers", name=group,
                               marker=marker_style(c, small_mask(rows), size=8),
                               error_x=error_bars(ratio, low, high) | {"color": c},
                               customdata=rows["force"].astype(str).to_numpy(), hovertext=hover,
                               hovertemplate="%{hovertext}<extra></extra>"))
    fig.add_vline(x=1, line=dict(color="#505050", width=1, dash="dash"))
    fig.update_xaxes(type="log")
    fig.update_layout(height=max(420, 18 * len(rows) + 200))
    note = f"No ratio: {', '.join(missing)}." if missing else ""
    return finish(fig, kind="use_of_force_forces", title=title, demo=demo, note=note,
                  meta={"tactic": tactic, "group": group, "reference": reference, "year": year},
                  x_title=f"{group} rate per 1,000 residents / {reference} rate (log scale)", y_title="Force")
