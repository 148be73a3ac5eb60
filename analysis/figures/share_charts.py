"""Shares by group: outcome mix, arrest / find / more-thorough rates with intervals, and the search mix."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analysis.colours import OUTCOME_COLOURS
from analysis.figures.base import (
    as_float,
    bar_style,
    colour,
    empty_figure,
    error_bars,
    finish,
    fmt_int,
    fmt_pct,
    group_order,
    marker_style,
    require,
    small_mask,
    text_column,
    unit_rows,
    unit_title,
)

OUTCOME_ORDER = ("Arrest", "Other action", "No further action")
DIMENSION_LABELS = {"legislation_group": "Legislation", "legislation": "Legislation (as published)",
                    "object_of_search": "Object of search", "age_range": "Age range", "gender": "Gender",
                    "type": "Type of search", "outcome_group": "Outcome"}


def outcomes_figure(table: pd.DataFrame, *, force: str | None = None, demo: bool = False,
                    title: str | None = None) -> go.Figure:
    """Stacked bars per group: share of searches ending in arrest, other action and no further action.

    Accepts the outcomes table (analysis.outcomes.outcomes: force, group, outcome, count, total, share, ci_low,
    ci_high; small_n, reason used when present). Shares are of searches with a recorded outcome. One unit
    (`force`, else 'ALL', else the first). Groups with no recorded outcome are left out and named in a note.
    """
    require(table, ("force", "group", "outcome", "count", "total", "share", "ci_low", "ci_high"), kind="outcomes")
    rows = unit_rows(table, force)
    title = title or f"Outcomes of searches by ethnic group: {unit_title(rows)}"
    rows = rows.loc[np.isfinite(as_float(rows["share"]))] if len(rows) else rows
    if not len(rows):
        return empty_figure(kind="outcomes", title=title, demo=demo,
                            message="No recorded outcomes for this selection")
    groups = group_order(rows["group"])
    outcomes = [o for o in OUTCOME_ORDER if o in set(rows["outcome"].astype(str))]
    outcomes += [o for o in dict.fromkeys(rows["outcome"].astype(str)) if o not in outcomes]
    fig = go.Figure()
    for outcome in outcomes:
        part = rows.loc[rows["outcome"].astype(str) == outcome]
        part = part.set_index(part["group"].astype(str)).reindex([g for g in groups if g in set(part["group"])])
        share = as_float(part["share"])
        small = small_mask(part)
        col = OUTCOME_COLOURS.get(outcome, "#777777")
        hover = [f"<b>{g}</b>: {outcome}<br>{fmt_pct(s)} (95% CI {fmt_pct(lo)} to {fmt_pct(hi)})<br>"
                 f"{fmt_int(n)} of {fmt_int(t)} searches with a recorded outcome"
                 + ("<br>fewer than 20 searches" if sm else "")
                 for g, s, lo, hi, n, t, sm in zip(part.index, share, as_float(part["ci_low"]),
                                                   as_float(part["ci_high"]), part["count"], part["total"], small,
                                                   strict=True)]
        fig.add_trace(go.Bar(x=list(part.index), y=share, name=outcome,
                             marker=dict(color=col, line=dict(color="white", width=0.5),
                                         pattern=dict(shape=["/" if s else "" for s in small], fgcolor="white")),
                             hovertext=hover, hovertemplate="%{hovertext}<extra></extra>"))
    fig.update_layout(barmode="stack", legend=dict(traceorder="normal"))
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=groups)
    return finish(fig, kind="outcomes", title=title, demo=demo, meta={"force": str(rows["force"].iloc[0])},
                  x_title="Ethnic group", y_title="share of searches with a recorded outcome (%)")


def _share_dots(table: pd.DataFrame, *, count: str, total: str, kind: str, title: str, y_title: str,
                what: str, force: str | None, demo: bool) -> go.Figure:
    require(table, ("force", "group", count, total, "share", "ci_low", "ci_high"), kind=kind)
    rows = unit_rows(table, force)
    full_title = f"{title}: {unit_title(rows)}"
    if len(rows):
        rows = rows.loc[np.isfinite(as_float(rows["share"]))]
    if not len(rows):
        return empty_figure(kind=kind, title=full_title, demo=demo,
                            message="Not recorded by the forces in this selection")
    groups = group_order(rows["group"])
    fig = go.Figure()
    for group in groups:
        row = rows.loc[rows["group"].astype(str) == group]
        share, low, high = as_float(row["share"]), as_float(row["ci_low"]), as_float(row["ci_high"])
        small = small_mask(row)
        ratio = as_float(row["ratio"]) if "ratio" in row.columns else np.full(len(row), np.nan)
        hover = [f"<b>{group}</b><br>{fmt_pct(s)} {what} (95% CI {fmt_pct(lo)} to {fmt_pct(hi)})<br>"
                 f"{fmt_int(n)} of {fmt_int(t)} searches where recorded"
                 + (f"<br>ratio to reference {r:.2f}" if np.isfinite(r) else "")
                 + ("<br>fewer than 20 searches" if sm else "") + (f"<br>{why}" if why else "")
                 for s, lo, hi, n, t, r, sm, why in zip(share, low, high, row[count], row[total], ratio, small,
                                                       text_column(row, "reason"), strict=True)]
        fig.add_trace(go.Scatter(x=[group] * len(row), y=share, mode="markers", name=group,
                                 marker=marker_style(colour(group), small, size=12),
                                 error_y=error_bars(share, low, high) | {"color": colour(group)},
                                 hovertext=hover, hovertemplate="%{hovertext}<extra></extra>"))
    fig.update_layout(showlegend=False)
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=groups)
    return finish(fig, kind=kind, title=full_title, demo=demo, meta={"force": str(rows["force"].iloc[0])},
                  x_title="Ethnic group", y_title=y_title)


def arrest_figure(table: pd.DataFrame, *, outcome: str = "Arrest", force: str | None = None, demo: bool = False,
                  title: str | None = None) -> go.Figure:
    """Dot plot with 95% intervals: share of searches ending in `outcome` (default arrest) by group.

    Accepts the outcomes table (force, group, outcome, count, total, share, ci_low, ci_high)."""
    require(table, ("outcome",), kind="arrest")
    rows = table.loc[table["outcome"].astype(str) == outcome]
    fig = _share_dots(rows, count="count", total="total", kind="arrest",
                      title=title or f"{outcome} rate by ethnic group", what=outcome.lower(),
                      y_title=f"share of searches ending in {outcome.lower()} (%)", force=force, demo=demo)
    fig.layout.meta = {**fig.layout.meta, "outcome": outcome}
    return fig


def find_rate_figure(table: pd.DataFrame, *, force: str | None = None, demo: bool = False,
                     title: str | None = None) -> go.Figure:
    """Dot plot with 95% intervals: share of searches whose outcome was linked to the object of search.

    Accepts the find_rate table (analysis.outcomes.find_rate: force, group, found, recorded, share, ci_low,
    ci_high; ratio, reason, small_n when present)."""
    return _share_dots(table, count="found", total="recorded", kind="find_rate",
                       title=title or "Find rate (outcome linked to object of search) by ethnic group",
                       what="with the outcome linked to the object", force=force, demo=demo,
                       y_title="share of searches with outcome linked to object (%)")


def thorough_figure(table: pd.DataFrame, *, force: str | None = None, demo: bool = False,
                    title: str | None = None) -> go.Figure:
    """Dot plot with 95% intervals: share of searches with removal of more than outer clothing, by group.

    Accepts the thorough table (analysis.thorough.thorough: force, group, thorough, recorded, share, ci_low,
    ci_high; ratio, reason, small_n when present)."""
    return _share_dots(table, count="thorough", total="recorded", kind="thorough",
                       title=title or "More thorough searches (more than outer clothing removed) by ethnic group",
                       what="more thorough", force=force, demo=demo,
                       y_title="share of searches with more than outer clothing removed (%)")


def mix_figure(table: pd.DataFrame, *, force: str | None = None, dimensions: Sequence[str] | None = None,
               demo: bool = False, title: str | None = None) -> go.Figure:
    """What searches were for: per dimension (a panel each), the share of each group's searches in each
    category, as horizontal bars grouped by ethnic group.

    Accepts the mix table (analysis.mix.mix: force, group, dimension, category, count, share; group_searches
    and small_n used when present). `dimensions` picks panels (default: every dimension in the table, in
    table order). One unit (`force`, else 'ALL', else the first).
    """
    require(table, ("force", "group", "dimension", "category", "count", "share"), kind="mix")
    rows = unit_rows(table, force)
    title = title or f"Search mix by ethnic group: {unit_title(rows)}"
    dims = [d for d in dict.fromkeys(rows["dimension"].astype(str)) if dimensions is None or d in dimensions]
    if not len(rows) or not dims:
        return empty_figure(kind="mix", title=title, demo=demo)
    groups = group_order(rows["group"])
    sizes = [max(1, rows.loc[rows["dimension"].astype(str) == d, "category"].nunique()) for d in dims]
    fig = make_subplots(rows=len(dims), cols=1, row_heights=[s / sum(sizes) for s in sizes],
                        subplot_titles=[DIMENSION_LABELS.get(d, d) for d in dims], vertical_spacing=0.08)
    for i, dim in enumerate(dims, start=1):
        part = rows.loc[rows["dimension"].astype(str) == dim]
        categories = list(dict.fromkeys(part["category"].astype(str)))
        # horizontal grouped bars stack the first trace at the bottom: add in reverse so the top bar is the
        # first group, and rank the legend in the usual order
        for rank, group in reversed(list(enumerate(groups))):
            row = part.loc[part["group"].astype(str) == group]
            if not len(row):
                continue
            share = as_float(row["share"])
            small = small_mask(row)
            totals = row["group_searches"] if "group_searches" in row.columns else [np.nan] * len(row)
            hover = [f"<b>{group}</b>: {cat}<br>{fmt_pct(s)} of the group's searches<br>{fmt_int(n)} of "
                     f"{fmt_int(t)} searches" for cat, s, n, t in zip(row["category"], share, row["count"], totals,
                                                                     strict=True)]
            fig.add_trace(go.Bar(y=row["category"].astype(str).tolist(), x=share, orientation="h", name=group,
                                 legendgroup=group, legendrank=rank, showlegend=i == 1,
                                 marker=bar_style(colour(group), small),
                                 hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
                                 meta={"dimension": dim}), row=i, col=1)
        fig.update_yaxes(type="category", categoryorder="array", categoryarray=list(reversed(categories)),
                         row=i, col=1)
        fig.update_xaxes(tickformat=".0%", row=i, col=1)
    fig.update_xaxes(title_text="share of the group's searches of persons (%)", row=len(dims), col=1)
    fig.update_layout(barmode="group", height=max(450, 28 * sum(sizes) * max(1, len(groups)) // 3 + 150))
    return finish(fig, kind="mix", title=title, demo=demo, meta={"force": str(rows["force"].iloc[0]),
                                                                  "dimensions": dims})
