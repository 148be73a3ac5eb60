"""Charts of one unit (a force or the pooled rows) by group: rates, disparity ratios, rolling trend."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analysis.colours import rgba
from analysis.figures.base import (
    RATE_UNIT,
    as_float,
    bar_style,
    colour,
    empty_figure,
    error_bars,
    finish,
    fmt_int,
    fmt_num,
    group_order,
    log_range,
    marker_style,
    reference_line,
    require,
    small_mask,
    symbol,
    text_column,
    unit_rows,
    unit_title,
)
from data import vocab

RATES_NEEDS = ("force", "group", "searches", "population", "rate_per_1000", "ci_low", "ci_high")
DISPARITY_NEEDS = ("force", "group", "reference", "ratio", "ci_low", "ci_high", "group_searches",
                   "reference_searches")
TREND_NEEDS = ("force", "month", "group", "searches", "rolling_rate", "rolling_ci_low", "rolling_ci_high")


def rates_figure(table: pd.DataFrame, *, force: str | None = None, demo: bool = False,
                 title: str | None = None) -> go.Figure:
    """Bar per group of `rate_per_1000` with its 95% interval (error bars), for one unit of a rates table.

    Accepts the rates table (analysis.rates.rates: force, group, searches, population, rate_per_1000, ci_low,
    ci_high, months, reason, small_n). `force` picks the unit; by default the pooled rows ('ALL') when present,
    else the first force. Groups without a rate ('Not stated', no population) are named in a note, not drawn.
    Small counts (small_n) are drawn hollow and hatched.
    """
    require(table, RATES_NEEDS, kind="rates")
    rows = unit_rows(table, force)
    unit = unit_title(rows)
    title = title or f"Stop and search rate by ethnic group: {unit}"
    if not len(rows):
        return empty_figure(kind="rates", title=title, demo=demo)
    fig = go.Figure()
    left_out = []
    census = str(rows["census"].iloc[0]) if "census" in rows.columns and len(rows) else "2021"
    for group in group_order(rows["group"]):
        row = rows.loc[rows["group"].astype(str) == group]
        rate = as_float(row["rate_per_1000"])
        if np.isnan(rate).all():
            reason = text_column(row, "reason")[0]
            left_out.append(f"{group}: {fmt_int(row['searches'].iloc[0])} searches, no rate"
                            + (f" ({reason})" if reason else ""))
            continue
        low, high = as_float(row["ci_low"]), as_float(row["ci_high"])
        small = small_mask(row)
        hover = [f"<b>{group}</b><br>{fmt_num(r)} {RATE_UNIT}<br>95% CI {fmt_num(lo)} to {fmt_num(hi)}<br>"
                 f"searches: {fmt_int(s)}<br>residents (Census {census}): {fmt_int(p)}"
                 + (f"<br>months: {m}" if m else "") + ("<br>fewer than 20 searches" if sm else "")
                 + (f"<br>{why}" if why else "")
                 for r, lo, hi, s, p, m, sm, why in zip(rate, low, high, row["searches"], row["population"],
                                                        text_column(row, "months"), small,
                                                        text_column(row, "reason"), strict=True)]
        fig.add_trace(go.Bar(x=[group] * len(row), y=rate, name=group, marker=bar_style(colour(group), small),
                             error_y=error_bars(rate, low, high), hovertext=hover,
                             hovertemplate="%{hovertext}<extra></extra>", customdata=row[["force"]].to_numpy()))
    if not fig.data:   # no group has a rate (e.g. BTP, City of London): say why instead of empty axes
        return empty_figure(kind="rates", title=title, demo=demo, message="<br>".join(left_out) or "No rates")
    fig.update_layout(showlegend=False, bargap=0.35)
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=group_order(rows["group"]))
    return finish(fig, kind="rates", title=title, demo=demo, meta={"force": str(rows["force"].iloc[0])},
                  x_title="Ethnic group (self-defined unless stated)", y_title=RATE_UNIT,
                  note="; ".join(left_out))


def disparity_figure(table: pd.DataFrame, *, force: str | None = None, demo: bool = False,
                     title: str | None = None) -> go.Figure:
    """Forest plot of disparity ratios (group rate / reference rate) with 95% intervals, a line at 1, log x.

    Accepts the disparity table (analysis.rates.disparity: force, group, reference, ratio, ci_low, ci_high,
    group_searches, reference_searches; exact_ci_*, ratio_if_not_stated_*, reason, small_n used in hover when
    present). One unit: `force`, else 'ALL', else the first force. Hollow markers where small_n.
    """
    require(table, DISPARITY_NEEDS, kind="disparity")
    rows = unit_rows(table, force)
    rows = rows.loc[np.isfinite(as_float(rows["ratio"]))] if len(rows) else rows
    unit = unit_title(rows)
    reference = str(rows["reference"].iloc[0]) if len(rows) else "reference"
    title = title or f"Disparity ratio against {reference}: {unit}"
    if not len(rows):
        return empty_figure(kind="disparity", title=title, demo=demo)
    order = group_order(rows["group"])
    fig = go.Figure()
    for group in order:
        row = rows.loc[rows["group"].astype(str) == group]
        ratio, low, high = as_float(row["ratio"]), as_float(row["ci_low"]), as_float(row["ci_high"])
        small = small_mask(row)
        exact = (zip(as_float(row["exact_ci_low"]), as_float(row["exact_ci_high"]), strict=True)
                 if "exact_ci_low" in row.columns else [(np.nan, np.nan)] * len(row))
        hover = [f"<b>{group}</b> vs {reference}<br>ratio {fmt_num(r)} (95% CI {fmt_num(lo)} to {fmt_num(hi)})"
                 + (f"<br>exact CI {fmt_num(elo)} to {fmt_num(ehi)}" if not np.isnan(elo) else "")
                 + f"<br>{group} searches: {fmt_int(gs)}<br>{reference} searches: {fmt_int(rs)}"
                 + ("<br>fewer than 20 searches" if sm else "")
                 for r, lo, hi, (elo, ehi), gs, rs, sm in zip(ratio, low, high, exact, row["group_searches"],
                                                              row["reference_searches"], small, strict=True)]
        fig.add_trace(go.Scatter(x=ratio, y=[group] * len(row), mode="markers", name=group,
                                 marker=marker_style(colour(group), small, size=12, group=group),
                                 error_x=error_bars(ratio, low, high) | {"color": colour(group)},
                                 hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
                                 customdata=row[["force"]].to_numpy()))
    fig.add_trace(reference_line(x=[1, 1], y=[order[-1], order[0]], name="ratio 1"))
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=list(reversed(order)))
    fig.update_xaxes(type="log", range=log_range(as_float(rows["ratio"]), as_float(rows["ci_low"]),
                                                 as_float(rows["ci_high"])))
    fig.update_layout(showlegend=False)
    return finish(fig, kind="disparity", title=title, demo=demo,
                  meta={"force": str(rows["force"].iloc[0]), "reference": reference},
                  x_title=f"rate ratio against {reference} (log scale; 1 = same rate)", y_title="Ethnic group")


def trend_figure(table: pd.DataFrame, *, force: str | None = None, measure: str = "rate",
                 groups: Sequence[str] | None = None, demo: bool = False, title: str | None = None) -> go.Figure:
    """Rolling 12-month rate (or ratio) with its 95% band per group (top) and monthly searches (bottom).

    Accepts the trend table (analysis.trend.trend: force, month, group, searches, rolling_rate,
    rolling_ci_low, rolling_ci_high, and rolling_ratio/_ci_low/_ci_high for measure='ratio',
    rolling_searches and rolling_population in hover when present). One unit (`force`, else 'ALL', else the
    first). Rolling values exist only where the 12 months ending there all have data; monthly searches are
    always shown, so a short period still has a chart.
    """
    if measure not in ("rate", "ratio"):
        raise ValueError(f"measure must be 'rate' or 'ratio', not {measure!r}")
    prefix = "rolling_rate" if measure == "rate" else "rolling_ratio"
    lo_col, hi_col = (("rolling_ci_low", "rolling_ci_high") if measure == "rate"
                      else ("rolling_ratio_ci_low", "rolling_ratio_ci_high"))
    require(table, (*TREND_NEEDS, prefix, lo_col, hi_col), kind="trend")
    rows = unit_rows(table, force)
    unit = unit_title(rows)
    what = "rolling 12-month rate" if measure == "rate" else "rolling 12-month disparity ratio"
    title = title or f"Trend: {what} by ethnic group: {unit}"
    if not len(rows):
        return empty_figure(kind="trend", title=title, demo=demo)
    order = [g for g in group_order(rows["group"]) if groups is None or g in groups]
    unit_label = RATE_UNIT if measure == "rate" else "rate ratio (1 = same rate as the reference)"
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.68, 0.32], vertical_spacing=0.06)
    for group in order:
        row = rows.loc[rows["group"].astype(str) == group].sort_values("month")
        months = row["month"].astype(str).tolist()
        value, low, high = as_float(row[prefix]), as_float(row[lo_col]), as_float(row[hi_col])
        c = colour(group)
        if not (measure == "rate" and group == vocab.NOT_STATED):
            fig.add_trace(go.Scatter(x=months, y=high, mode="lines", line=dict(width=0), showlegend=False,
                                     legendgroup=group, hoverinfo="skip", name=f"{group} upper"), row=1, col=1)
            fig.add_trace(go.Scatter(x=months, y=low, mode="lines", line=dict(width=0), fill="tonexty",
                                     fillcolor=rgba(c, 0.2), showlegend=False, legendgroup=group,
                                     hoverinfo="skip", name=f"{group} lower"), row=1, col=1)
            extra = [f"<br>12-month searches: {fmt_int(s)}" for s in row["rolling_searches"]] \
                if "rolling_searches" in row.columns else [""] * len(row)
            pops = [f"<br>residents: {fmt_int(p)}" for p in row["rolling_population"]] \
                if "rolling_population" in row.columns and measure == "rate" else [""] * len(row)
            hover = [f"<b>{group}</b> {m}<br>{fmt_num(v)} {unit_label}<br>95% CI {fmt_num(lo)} to {fmt_num(hi)}"
                     f"{e}{p}" for m, v, lo, hi, e, p in zip(months, value, low, high, extra, pops, strict=True)]
            fig.add_trace(go.Scatter(x=months, y=value, mode="lines+markers", name=group, legendgroup=group,
                                     line=dict(color=c, width=2), marker=dict(color=c, size=7, symbol=symbol(group)),
                                     hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
                                     meta={"series": measure}), row=1, col=1)
        searches = as_float(row["searches"])
        fig.add_trace(go.Scatter(x=months, y=searches, mode="lines+markers", name=group, legendgroup=group,
                                 showlegend=group == vocab.NOT_STATED and measure == "rate",
                                 line=dict(color=c, width=1.5, dash="dot"),
                                 marker=dict(color=c, size=5, symbol=symbol(group)),
                                 hovertext=[f"<b>{group}</b> {m}<br>{fmt_int(s)} searches that month"
                                            for m, s in zip(months, searches, strict=True)],
                                 hovertemplate="%{hovertext}<extra></extra>", meta={"series": "searches"}),
                      row=2, col=1)
    if measure == "ratio" and len(rows):
        months_all = sorted(rows["month"].astype(str).unique())
        fig.add_trace(reference_line(x=[months_all[0], months_all[-1]], y=[1, 1], name="ratio 1", width=1),
                      row=1, col=1)
    if not np.isfinite(as_float(rows[prefix])).any():
        fig.add_annotation(text="No complete 12-month window yet: a rolling value needs 12 months of data "
                                "from every force in the selection", name="no-rolling", showarrow=False,
                           xref="x domain", yref="y domain", x=0.5, y=0.5, font=dict(size=13, color="#555"))
    fig.update_yaxes(title_text=unit_label, row=1, col=1)
    fig.update_yaxes(title_text="searches in the month", row=2, col=1)
    fig.update_xaxes(title_text="month", type="category", row=2, col=1)
    fig.update_xaxes(type="category", row=1, col=1)
    return finish(fig, kind="trend", title=title, demo=demo,
                  meta={"force": str(rows["force"].iloc[0]), "measure": measure})
