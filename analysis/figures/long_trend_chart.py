"""The long-trend figure: financial-year and rolling 12-month rates (or ratios) by group since 2015, a marker
where the Census denominator changes, and force coverage per financial year underneath."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analysis.figures.base import (
    RATE_UNIT,
    as_float,
    colour,
    empty_figure,
    finish,
    fmt_int,
    fmt_num,
    fmt_pct,
    group_order,
    reference_line,
    unit_title,
)
from data import reference_data, vocab

LONG_TREND_NEEDS = ("kind", "period", "end", "census", "force", "group", "searches", "rate_per_1000", "ci_low",
                    "ci_high", "ratio", "ratio_ci_low", "ratio_ci_high", "coverage", "force_months_published",
                    "force_months")
COVERAGE_NEEDS = ("force", "financial_year", "months_published", "months")


def _month_date(month: str) -> str:
    return f"{month}-15"   # mid-month, so a point sits inside the month it ends


def _fy_middle(label: str) -> str:
    return f"{label[:4]}-10-01"   # the bar spans the financial year April to March


def long_trend_figure(periods: pd.DataFrame, coverage: pd.DataFrame, *, measure: str = "rate",
                      groups: Sequence[str] | None = None, demo: bool = False, title: str | None = None) -> go.Figure:
    """Top: each group's rate per 1,000 (or ratio to the reference) by financial year (markers with 95%
    intervals) and rolling 12 months (thin line), each point on the Census its period calls for, with a
    dashed line and note where the denominator changes. Bottom: the share of force-months published per
    financial year (hover names the forces with missing months), so a gap reads as missing data, not a dip.

    Accepts `analysis.long_trend.LongTrend.periods` (LONG_TREND_COLUMNS) and `.coverage` (COVERAGE_COLUMNS).
    """
    if measure not in ("rate", "ratio"):
        raise ValueError(f"measure must be 'rate' or 'ratio', not {measure!r}")
    missing = [c for c in LONG_TREND_NEEDS if c not in periods.columns] + [
        c for c in COVERAGE_NEEDS if c not in coverage.columns]
    if missing:
        raise KeyError(f"long_trend figure needs columns {missing}")
    value_col, lo_col, hi_col = (("rate_per_1000", "ci_low", "ci_high") if measure == "rate"
                                 else ("ratio", "ratio_ci_low", "ratio_ci_high"))
    unit = unit_title(periods)
    what = "rate per 1,000 residents" if measure == "rate" else "disparity ratio"
    title = title or f"The long view: {what} by financial year and rolling 12 months: {unit}"
    shown = periods.loc[~periods["group"].astype(str).eq(vocab.NOT_STATED)]
    if not len(shown) or not np.isfinite(as_float(shown[value_col])).any():
        return empty_figure(kind="long_trend", title=title, demo=demo,
                            message="No complete financial year or 12-month window with a rate in this view")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.07)
    order = [g for g in group_order(shown["group"]) if groups is None or g in groups]
    y_label = RATE_UNIT if measure == "rate" else "rate ratio (1 = same rate as the reference)"
    for group in order:
        rows = shown.loc[shown["group"].astype(str) == group]
        c = colour(group)
        rolling = rows.loc[rows["kind"].eq("rolling_12")].sort_values("end")
        if len(rolling):
            value = as_float(rolling[value_col])
            fig.add_trace(go.Scatter(
                x=[_month_date(m) for m in rolling["end"]], y=value, mode="lines", name=f"{group} (rolling 12 months)",
                legendgroup=group, showlegend=False, line=dict(color=c, width=1.2), opacity=0.6,
                hovertext=[f"<b>{group}</b> 12 months to {m}<br>{fmt_num(v)} {y_label}<br>Census {cen}; "
                           f"{fmt_pct(cov, 0)} of force-months published"
                           for m, v, cen, cov in zip(rolling["end"], value, rolling["census"], rolling["coverage"],
                                                     strict=True)],
                hovertemplate="%{hovertext}<extra></extra>", meta={"series": "rolling"}), row=1, col=1)
        years = rows.loc[rows["kind"].eq("financial_year")].sort_values("end")
        if len(years):
            value, low, high = (as_float(years[k]) for k in (value_col, lo_col, hi_col))
            partial = as_float(years["coverage"]) < 1
            hover = [f"<b>{group}</b> {p}<br>{fmt_num(v)} {y_label}<br>95% CI {fmt_num(lo)} to {fmt_num(hi)}<br>"
                     f"searches: {fmt_int(s)}; Census {cen} residents<br>force-months published: {fmt_int(fp)} of "
                     f"{fmt_int(fm)}" for p, v, lo, hi, s, cen, fp, fm in zip(
                         years["period"], value, low, high, years["searches"], years["census"],
                         years["force_months_published"], years["force_months"], strict=True)]
            fig.add_trace(go.Scatter(
                x=[_month_date(m) for m in years["end"]], y=value, mode="markers", name=group, legendgroup=group,
                marker=dict(color=c, size=9, symbol=["circle-open" if p else "circle" for p in partial],
                            line=dict(color=c, width=2)),
                error_y=dict(type="data", symmetric=False, array=np.where(np.isnan(high), np.nan, high - value),
                             arrayminus=np.where(np.isnan(low), np.nan, value - low), thickness=1.2, width=3),
                hovertext=hover, hovertemplate="%{hovertext}<extra></extra>", meta={"series": "financial_year"}),
                row=1, col=1)
    ends = sorted(shown["end"].astype(str))
    if measure == "ratio":
        fig.add_trace(reference_line(x=[_month_date(ends[0]), _month_date(ends[-1])], y=[1, 1], name="ratio 1",
                                     width=1), row=1, col=1)
    change = _change(periods)
    if change:
        x = f"{change[:4]}-04-01"
        fig.add_vline(x=x, line=dict(color="#555", dash="dash", width=1.2), row="all", col=1)
        fig.add_annotation(text=f"Census 2021 residents from {change}; Census 2011 before", name="census-change",
                           x=x, xref="x", yref="paper", y=0.99, yanchor="top", xanchor="left", xshift=4,
                           showarrow=False,
                           font=dict(size=11, color="#333"))
    _coverage_bars(fig, coverage)
    fig.update_yaxes(title_text=y_label, row=1, col=1, rangemode="tozero")
    fig.update_yaxes(title_text="force-months published", tickformat=".0%", range=[0, 1.05], row=2, col=1)
    fig.update_xaxes(title_text="period ending (financial years April to March)", row=2, col=1)
    return finish(fig, kind="long_trend", title=title, demo=demo,
                  meta={"measure": measure, "census_change": change, "unit": unit},
                  note="Filled markers: financial years with every force-month published; hollow: some missing "
                       "(those forces count only for the months they published). Lines: rolling 12 months.")


def _change(periods: pd.DataFrame) -> str:
    years = periods.loc[periods["kind"].eq("financial_year"), ["period", "census"]].drop_duplicates()
    years = years.sort_values("period")
    censuses = years["census"].astype(str).tolist()
    return next((str(years["period"].iloc[i]) for i in range(1, len(censuses)) if censuses[i] != censuses[i - 1]),
                "")


def _coverage_bars(fig: go.Figure, coverage: pd.DataFrame) -> None:
    if not len(coverage):
        return
    by_year = coverage.groupby("financial_year", sort=True)[["months_published", "months"]].sum()
    share = by_year["months_published"] / by_year["months"]
    gaps = coverage.loc[coverage["months_published"] < coverage["months"]]
    notes = {year: "<br>".join(f"{reference_data.force_name(f)}: {p} of {m} months"
                               for f, p, m in zip(rows["force"], rows["months_published"], rows["months"], strict=True))
             for year, rows in gaps.groupby("financial_year")}
    hover = [f"<b>{year}</b><br>{fmt_pct(s, 0)} of force-months published ({fmt_int(p)} of {fmt_int(m)})"
             + (f"<br>missing months:<br>{notes[year]}" if year in notes else "")
             for year, s, p, m in zip(by_year.index, share, by_year["months_published"], by_year["months"], strict=True)]
    fig.add_trace(go.Bar(x=[_fy_middle(y) for y in by_year.index], y=share.to_numpy(), name="coverage",
                         showlegend=False, marker=dict(color=["#9aa5b1" if s >= 1 else "#d9822b" for s in share]),
                         hovertext=hover, hovertemplate="%{hovertext}<extra></extra>", width=1000 * 3600 * 24 * 330,
                         meta={"series": "coverage"}), row=2, col=1)
