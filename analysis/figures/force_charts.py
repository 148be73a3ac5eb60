"""Forces compared for one group: forest plot, funnel plot and league table (from the compare table)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis import views
from analysis.figures.base import (
    POOLED,
    as_float,
    colour,
    empty_figure,
    error_bars,
    finish,
    fmt_int,
    fmt_num,
    force_label,
    log_range,
    marker_style,
    reference_line,
    require,
    small_mask,
    text_column,
)

COMPARE_NEEDS = ("force", "group", "reference", "group_searches", "reference_searches", "ratio", "ci_low",
                 "ci_high")


def pick_group(table: pd.DataFrame, group: str | None) -> str | None:
    """The group asked for, else Black (or Caribbean, African), else the first group in the table."""
    if group is not None:
        return group
    return views.default_group(views.comparison_groups(table)) if len(table) else None


def _group_rows(table: pd.DataFrame, group: str | None) -> tuple[str | None, pd.DataFrame]:
    group = pick_group(table, group)
    rows = table.loc[(table["group"].astype(str) == str(group)) & (table["force"].astype(str) != POOLED)]
    return group, rows


def _hover(rows: pd.DataFrame, group: str, reference: str) -> list[str]:
    ratio, low, high = as_float(rows["ratio"]), as_float(rows["ci_low"]), as_float(rows["ci_high"])
    q = as_float(rows["q_value"]) if "q_value" in rows.columns else np.full(len(rows), np.nan)
    z = as_float(rows["z"]) if "z" in rows.columns else np.full(len(rows), np.nan)
    flags = text_column(rows, "flag")
    small = small_mask(rows)
    return [f"<b>{force_label(f)}</b><br>{group} vs {reference}: ratio {fmt_num(r)} "
            f"(95% CI {fmt_num(lo)} to {fmt_num(hi)})<br>{group} searches: {fmt_int(gs)}<br>"
            f"{reference} searches: {fmt_int(rs)}"
            + (f"<br>z {fmt_num(zz)}, q {fmt_num(qq, 3)}" if not np.isnan(zz) else "")
            + (f"<br>{fl}" if fl else "") + ("<br>fewer than 20 searches" if sm else "")
            for f, r, lo, hi, gs, rs, zz, qq, fl, sm in zip(rows["force"], ratio, low, high, rows["group_searches"],
                                                           rows["reference_searches"], z, q, flags, small,
                                                           strict=True)]


def compare_figure(table: pd.DataFrame, *, group: str | None = None, demo: bool = False,
                   title: str | None = None) -> go.Figure:
    """Forest plot across forces: one row per force, its disparity ratio for `group` with a 95% interval.

    Accepts the compare table (analysis.compare.compare: force, group, reference, group_searches,
    reference_searches, ratio, ci_low, ci_high; pooled_ratio, z, q_value, flag, small_n used when present).
    `group` defaults to Black (else Caribbean, African, the first group). Forces sorted by ratio (largest at
    the top); hollow markers where small_n; a line at 1 and a dotted line at the pooled ratio; log x axis.
    customdata holds the force id (for click-to-select). Forces without a ratio are named in a note.
    """
    require(table, COMPARE_NEEDS, kind="compare")
    group, rows = _group_rows(table, group)
    reference = str(rows["reference"].iloc[0]) if len(rows) else "reference"
    title = title or f"Forces compared: {group} vs {reference} disparity ratio"
    finite = np.isfinite(as_float(rows["ratio"])) if len(rows) else np.array([], bool)
    missing = [force_label(f) for f in rows.loc[~finite, "force"]] if len(rows) else []
    rows = rows.loc[finite]
    if not len(rows):
        return empty_figure(kind="compare", title=title, demo=demo)
    rows = rows.iloc[np.argsort(as_float(rows["ratio"]), kind="stable")]   # smallest first = bottom row
    ratio, low, high = as_float(rows["ratio"]), as_float(rows["ci_low"]), as_float(rows["ci_high"])
    names = [force_label(f) for f in rows["force"]]
    c = colour(group)
    fig = go.Figure(go.Scatter(
        x=ratio, y=names, mode="markers", name=str(group), marker=marker_style(c, small_mask(rows), size=9),
        error_x=error_bars(ratio, low, high) | {"color": c}, customdata=rows["force"].astype(str).to_numpy(),
        hovertext=_hover(rows, str(group), reference), hovertemplate="%{hovertext}<extra></extra>"))
    fig.add_trace(reference_line(x=[1, 1], y=[names[0], names[-1]], name="ratio 1"))
    if "pooled_ratio" in rows.columns and np.isfinite(as_float(rows["pooled_ratio"])).any():
        pooled = float(np.nanmax(as_float(rows["pooled_ratio"])))
        fig.add_trace(reference_line(x=[pooled, pooled], y=[names[0], names[-1]], name="pooled ratio", colour=c,
                                     dash="dot", label=f"pooled {fmt_num(pooled)}"))
    fig.update_xaxes(type="log", range=log_range(ratio, low, high))
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=names)
    fig.update_layout(showlegend=False, height=max(420, 22 * len(names) + 160))
    note = f"No ratio: {', '.join(missing)}" if missing else ""
    return finish(fig, kind="compare", title=title, demo=demo, meta={"group": str(group), "reference": reference},
                  x_title=f"rate ratio, {group} vs {reference} (log scale; 1 = same rate)", y_title="Force",
                  note=note)


def _precision(frame: pd.DataFrame) -> np.ndarray:
    """x of a funnel: 'precision' (1/se) when present, else 1/'se', else from the two search counts."""
    if "precision" in frame.columns:
        return as_float(frame["precision"])
    if "se" in frame.columns:
        with np.errstate(divide="ignore"):
            return 1.0 / as_float(frame["se"])
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1.0 / np.sqrt(1.0 / as_float(frame["group_searches"]) + 1.0 / as_float(frame["reference_searches"]))


def funnel_figure(table: pd.DataFrame, curve: pd.DataFrame | None = None, *, group: str | None = None,
                  demo: bool = False, title: str | None = None) -> go.Figure:
    """Funnel plot: each force's ratio for `group` against its precision, with 95% and 99.8% control limits.

    Accepts the compare table (as compare_figure; `se` gives the x position when present, else
    1/sqrt(1/group_searches + 1/reference_searches)). `curve`, optional, is any frame with an x column
    `precision` (1/se) or `se`, and `limit95_low`, `limit95_high`, `limit998_low`, `limit998_high`
    (ratios), optionally `group` (filtered to the chosen group) and `pooled_ratio`: e.g.
    analysis.compare.funnel_curve. Without it the limits are drawn through the table's own per-force
    limit columns. Log y axis; hollow markers where small_n; customdata holds the force id.
    """
    require(table, COMPARE_NEEDS, kind="funnel")
    group, rows = _group_rows(table, group)
    reference = str(rows["reference"].iloc[0]) if len(rows) else "reference"
    title = title or f"Funnel plot: {group} vs {reference} disparity ratio by force"
    rows = rows.loc[np.isfinite(as_float(rows["ratio"]))] if len(rows) else rows
    if not len(rows):
        return empty_figure(kind="funnel", title=title, demo=demo)
    c = colour(group)
    fig = go.Figure()
    limits = curve
    if limits is not None and "group" in limits.columns:
        limits = limits.loc[limits["group"].astype(str) == str(group)]
    if limits is None or not len(limits):
        limits = rows if "limit95_low" in rows.columns else None
    if limits is not None:
        x = _precision(limits)
        order = np.argsort(x, kind="stable")
        for level, dash in (("998", "dot"), ("95", "dash")):
            label = "99.8% limits" if level == "998" else "95% limits"
            for side in ("low", "high"):
                y = as_float(limits[f"limit{level}_{side}"])[order]
                fig.add_trace(go.Scatter(x=x[order], y=y, mode="lines", name=label, legendgroup=label,
                                         showlegend=side == "low", line=dict(color="#666", width=1, dash=dash),
                                         hoverinfo="skip", meta={"series": f"limit{level}_{side}"}))
    xs = _precision(rows)
    x_span = [0.0, float(np.nanmax(xs[np.isfinite(xs)])) * 1.05 if np.isfinite(xs).any() else 1.0]
    pooled_source = limits if limits is not None and "pooled_ratio" in limits.columns else rows
    if "pooled_ratio" in pooled_source.columns and np.isfinite(as_float(pooled_source["pooled_ratio"])).any():
        pooled = float(np.nanmax(as_float(pooled_source["pooled_ratio"])))
        fig.add_trace(reference_line(x=x_span, y=[pooled, pooled], name="pooled ratio", colour=c, dash="solid",
                                     label=f"pooled {fmt_num(pooled)}"))
    fig.add_trace(reference_line(x=x_span, y=[1, 1], name="ratio 1", width=1))
    fig.add_trace(go.Scatter(
        x=xs, y=as_float(rows["ratio"]), mode="markers", name=str(group),
        marker=marker_style(c, small_mask(rows), size=10), customdata=rows["force"].astype(str).to_numpy(),
        hovertext=_hover(rows, str(group), reference), hovertemplate="%{hovertext}<extra></extra>",
        meta={"series": "forces"}))
    shown = [as_float(rows["ratio"])]
    if limits is not None:   # the limits where the forces are, not the far ends of a long curve
        near = _precision(limits) >= np.nanmin(xs) * 0.8
        shown += [as_float(limits[c])[near] for c in ("limit998_low", "limit998_high")]
    fig.update_yaxes(type="log", range=log_range(*shown))
    fig.update_xaxes(range=x_span)
    return finish(fig, kind="funnel", title=title, demo=demo, meta={"group": str(group), "reference": reference},
                  x_title="precision of the ratio (1 / standard error of log ratio; larger = more searches)",
                  y_title=f"rate ratio, {group} vs {reference} (log scale)")


def league_table(table: pd.DataFrame, *, group: str | None = None, sort: str = "ratio") -> pd.DataFrame:
    """The compare table for one group as a display table: one row per force, sorted (ratio, name,
    searches or z), readable headers (analysis.views.league_table)."""
    group = pick_group(table, group)
    if group is None:
        return pd.DataFrame(columns=list(views.LEAGUE_COLUMNS.values()))
    return views.league_table(table, group, sort=sort)
