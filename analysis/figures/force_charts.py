"""Forces compared for one group: forest plot, funnel plot and league table (from the compare table).

Log axes carry explicit ticks written as full numbers (1, 2, 3, 5, 10, 20, 30...; plotly's own minor
labels read "2", "3" for 20 and 30). Funnel points are named on the figure (every force when the names fit,
always the flagged ones), so an exported funnel can be read without hovering.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

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

# mantissas per decade, coarsest first; log_ticks takes the finest set that gives at most MAX_TICKS ticks
TICK_STEPS = ((1,), (1, 3), (1, 2, 5), (1, 2, 3, 5), (1, 1.5, 2, 3, 4, 5, 7), (1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8))
MAX_TICKS = 9
LABEL_ALL_UP_TO = 15       # name every funnel point up to this many forces; beyond it, the flagged ones
PLOT_PX = (760.0, 400.0)   # plot area assumed when placing labels (export and a wide screen are about this)
CHAR_PX, LINE_PX, GAP_PX = 6.6, 14.0, 7.0
FLAGGED_SUFFIX = " (flagged)"
COMPARE_NEEDS = ("force", "group", "reference", "group_searches", "reference_searches", "ratio", "ci_low",
                 "ci_high")


def tick_text(value: float) -> str:
    """A tick as a full number: 20 -> '20', 1000 -> '1,000', 1.5 -> '1.5', 0.3 -> '0.3'."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"


def log_ticks(axis_range: Sequence[float]) -> tuple[list[float], list[str]]:
    """Tick values and full-number labels for a log axis with range [log10 low, log10 high]."""
    lo, hi = float(axis_range[0]), float(axis_range[1])
    decades = range(math.floor(lo) - 1, math.ceil(hi) + 1)
    chosen: list[float] = []
    for steps in reversed(TICK_STEPS):                     # finest first
        values = [round(m * 10.0**d, 12) for d in decades for m in steps]
        chosen = [v for v in values if lo <= math.log10(v) <= hi]
        if len(chosen) <= MAX_TICKS:
            break
    if len(chosen) > MAX_TICKS:                            # many decades: every n-th power of ten
        chosen = chosen[:: math.ceil(len(chosen) / MAX_TICKS)]
    if len(chosen) < 2:                                    # a narrow range: three ticks at 2 significant figures
        chosen = sorted({float(f"{10**v:.2g}") for v in np.linspace(lo, hi, 5)[1:4]})
    return chosen, [tick_text(v) for v in chosen]


def _log_axis(axis_range: Sequence[float]) -> dict[str, object]:
    values, text = log_ticks(axis_range)
    return dict(type="log", range=list(axis_range), tickmode="array", tickvals=values, ticktext=text)


def _boxes_overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_labels(px: np.ndarray, py: np.ndarray, names: list[str], wanted: np.ndarray, must: np.ndarray,
                 *, size: tuple[float, float] = PLOT_PX) -> list[str | None]:
    """A text position per point ('middle right', 'middle left', 'top center', 'bottom center') or None.

    px, py: point positions in pixels (origin bottom left); wanted: points to name; must: points named even
    when every position touches a marker (the flagged forces), but never over another label: a flagged
    force whose name cannot be placed is named in the figure's note instead. Labels stay inside the plot;
    `must` points go first."""
    width, height = size
    markers = [(x - 6, y - 6, x + 6, y + 6) for x, y in zip(px, py, strict=True)]
    placed: list[tuple[float, float, float, float]] = []
    out: list[str | None] = [None] * len(px)
    order = sorted(np.flatnonzero(wanted), key=lambda i: (not must[i], -py[i]))
    for i in order:
        w = CHAR_PX * len(names[i])
        x, y = px[i], py[i]
        options = {"middle right": (x + GAP_PX, y - LINE_PX / 2, x + GAP_PX + w, y + LINE_PX / 2),
                   "middle left": (x - GAP_PX - w, y - LINE_PX / 2, x - GAP_PX, y + LINE_PX / 2),
                   "top center": (x - w / 2, y + GAP_PX, x + w / 2, y + GAP_PX + LINE_PX),
                   "bottom center": (x - w / 2, y - GAP_PX - LINE_PX, x + w / 2, y - GAP_PX)}
        best, best_hits, best_label_hits = None, math.inf, math.inf
        for position, box in options.items():
            inside = box[0] >= 0 and box[2] <= width and box[1] >= 0 and box[3] <= height
            label_hits = sum(_boxes_overlap(box, b) for b in placed)
            hits = label_hits + sum(_boxes_overlap(box, m) for j, m in enumerate(markers) if j != i)
            score = hits + (0 if inside else 100) + 1000 * label_hits
            if score < best_hits:
                best, best_hits, best_label_hits = position, score, label_hits
        if best_hits == 0 or (must[i] and best is not None and best_label_hits == 0 and best_hits < 100):
            out[i] = best
            placed.append(options[best])
    return out


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


def _flagged(rows: pd.DataFrame) -> np.ndarray:
    """The compare table's flag (analysis.compare FLAG_RULE) per row: the `flagged` column, else False."""
    if "flagged" not in rows.columns:
        return np.zeros(len(rows), bool)
    return rows["flagged"].astype("boolean").fillna(False).to_numpy(bool)


def _text_trace(x: Sequence[object], y: Sequence[object], text: list[str], position: str | list[str], *,
                colour: str, series: str, clearance: int = 0) -> go.Scatter:
    """Text at points; `clearance` (px): an invisible marker of that size keeps the text off the real one."""
    return go.Scatter(x=list(x), y=list(y), mode="markers+text" if clearance else "text", text=text,
                      textposition=position, showlegend=False, hoverinfo="skip",
                      marker=dict(size=clearance, opacity=0) if clearance else None,
                      textfont=dict(size=11, color=colour), cliponaxis=False, meta={"series": series})


def compare_figure(table: pd.DataFrame, *, group: str | None = None, demo: bool = False,
                   title: str | None = None) -> go.Figure:
    """Forest plot across forces: one row per force, its disparity ratio for `group` with a 95% interval.

    Accepts the compare table (analysis.compare.compare: force, group, reference, group_searches,
    reference_searches, ratio, ci_low, ci_high; pooled_ratio, z, q_value, flag, flagged, small_n used when
    present). `group` defaults to Black (else Caribbean, African, the first group). Forces sorted by ratio
    (largest at the top); flagged forces read "Name (flagged)"; hollow markers where small_n; a line at 1
    and a dotted line at the pooled ratio, labelled in an empty top row (never clipped); log x axis with
    full-number ticks. customdata holds the force id (for click-to-select). Forces without a ratio are
    named in a note.
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
    names = [force_label(f) + (FLAGGED_SUFFIX if fl else "") for f, fl in zip(rows["force"], _flagged(rows),
                                                                             strict=True)]
    c = colour(group)
    fig = go.Figure(go.Scatter(
        x=ratio, y=names, mode="markers", name=str(group), marker=marker_style(c, small_mask(rows), size=9),
        error_x=error_bars(ratio, low, high) | {"color": c}, customdata=rows["force"].astype(str).to_numpy(),
        hovertext=_hover(rows, str(group), reference), hovertemplate="%{hovertext}<extra></extra>"))
    fig.add_trace(reference_line(x=[1, 1], y=[names[0], names[-1]], name="ratio 1"))
    x_range = log_range(ratio, low, high)
    categories = names
    if "pooled_ratio" in rows.columns and np.isfinite(as_float(rows["pooled_ratio"])).any():
        pooled = float(np.nanmax(as_float(rows["pooled_ratio"])))
        fig.add_trace(reference_line(x=[pooled, pooled], y=[names[0], names[-1]], name="pooled ratio", colour=c,
                                     dash="dot"))
        categories = [*names, " "]          # an empty top row holds the label, inside the plot
        left_half = math.log10(pooled) < sum(x_range) / 2
        fig.add_trace(_text_trace([pooled], [" "], [f"pooled {fmt_num(pooled)}"],
                                  "middle right" if left_half else "middle left", colour=c, series="guide"))
    fig.update_xaxes(**_log_axis(x_range))
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=categories)
    fig.update_layout(showlegend=False, height=max(420, 22 * len(categories) + 160))
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
    limit columns. Log y axis with full-number ticks; hollow markers where small_n. The points trace
    (meta series 'forces') has the force id in customdata and its name in text; a 'labels' text trace names
    every force when the names fit (LABEL_ALL_UP_TO), and the flagged ones always.
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
    x_span = [0.0, float(np.nanmax(xs[np.isfinite(xs)])) * 1.08 if np.isfinite(xs).any() else 1.0]
    ratio = as_float(rows["ratio"])
    shown = [ratio]
    if limits is not None:   # the limits where the forces are, not the far ends of a long curve
        near = _precision(limits) >= np.nanmin(xs) * 0.8
        shown += [as_float(limits[c])[near] for c in ("limit998_low", "limit998_high")]
    y_range = log_range(*shown)
    pooled_source = limits if limits is not None and "pooled_ratio" in limits.columns else rows
    if "pooled_ratio" in pooled_source.columns and np.isfinite(as_float(pooled_source["pooled_ratio"])).any():
        pooled = float(np.nanmax(as_float(pooled_source["pooled_ratio"])))
        fig.add_trace(reference_line(x=x_span, y=[pooled, pooled], name="pooled ratio", colour=c, dash="solid"))
        # at the left end, written rightwards: inside the plot, where the funnel is widest
        fig.add_trace(_text_trace([x_span[0]], [pooled], [f"pooled {fmt_num(pooled)}"], "top right", colour=c,
                                  series="guide"))
    fig.add_trace(reference_line(x=x_span, y=[1, 1], name="ratio 1", width=1))
    names = [force_label(f) for f in rows["force"]]
    fig.add_trace(go.Scatter(
        x=xs, y=ratio, mode="markers", name=str(group), text=names,
        marker=marker_style(c, small_mask(rows), size=10), customdata=rows["force"].astype(str).to_numpy(),
        hovertext=_hover(rows, str(group), reference), hovertemplate="%{hovertext}<extra></extra>",
        meta={"series": "forces"}))
    flagged = _flagged(rows)
    wanted = np.isfinite(xs) & (np.ones(len(rows), bool) if len(rows) <= LABEL_ALL_UP_TO else flagged)
    with np.errstate(divide="ignore", invalid="ignore"):
        px = (xs - x_span[0]) / (x_span[1] - x_span[0]) * PLOT_PX[0]
        py = (np.log10(ratio) - y_range[0]) / (y_range[1] - y_range[0]) * PLOT_PX[1]
    shown_names = [n + (FLAGGED_SUFFIX if f else "") for n, f in zip(names, flagged, strict=True)]
    positions = place_labels(px, py, shown_names, wanted & np.isfinite(py), flagged)
    labelled = [i for i, pos in enumerate(positions) if pos is not None]
    if labelled:
        fig.add_trace(_text_trace(xs[labelled], ratio[labelled],
                                  [shown_names[i] for i in labelled],
                                  [str(positions[i]) for i in labelled], colour="#222", series="labels",
                                  clearance=14))
    fig.update_yaxes(**_log_axis(y_range))
    fig.update_xaxes(range=x_span)
    note = ""
    if len(labelled) < len(rows):
        note = "Named: " + ("the flagged forces" if len(rows) > LABEL_ALL_UP_TO else "the forces whose names fit") \
            + "; hover (or the table) for the others"
        crowded = [names[i] for i in np.flatnonzero(flagged) if positions[i] is None]
        if crowded:
            note += ". Also flagged (no room for the name): " + ", ".join(crowded)
    return finish(fig, kind="funnel", title=title, demo=demo, meta={"group": str(group), "reference": reference},
                  x_title="precision of the ratio (1 / standard error of log ratio; larger = more searches)",
                  y_title=f"rate ratio, {group} vs {reference} (log scale)", note=note)


def league_table(table: pd.DataFrame, *, group: str | None = None, sort: str = "ratio") -> pd.DataFrame:
    """The compare table for one group as a display table: one row per force, sorted (ratio, name,
    searches or z), readable headers (analysis.views.league_table)."""
    group = pick_group(table, group)
    if group is None:
        return pd.DataFrame(columns=list(views.LEAGUE_COLUMNS.values()))
    return views.league_table(table, group, sort=sort)
