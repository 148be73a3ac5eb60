"""Shared pieces of the figure builders: group order, hover text, watermark, meta, layout."""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from urllib.parse import quote

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from analysis.colours import group_colour, group_symbol
from data import reference_data, vocab

POOLED = "ALL"
DEMO_LABEL = "Synthetic demo data"
WATERMARK_NAME = "demo-watermark"
RATE_UNIT = "searches per 1,000 residents, annualised"

# Plotly fetches a world topojson from its CDN for any choropleth on a geo subplot, even with the base layers
# hidden. These maps draw only the project's boundaries, so plotly is pointed (its `topojsonURL` option) at an
# empty topology written into the address itself: nothing is fetched, offline or not. Every place that draws
# a figure passes it: the app (PLOTLY_CONFIG), the static export and the HTML report (analysis.figures.maps
# draws the maps).
EMPTY_TOPOLOGY_URL = ("data:application/json," + quote(json.dumps({"type": "Topology", "objects": {}, "arcs": []}))
                      + "#/")   # plotly appends "<name>.json": after the '#' it is ignored
PLOTLY_CONFIG = {"topojsonURL": EMPTY_TOPOLOGY_URL}
FONT = "Liberation Sans, DejaVu Sans, Arial, Helvetica, sans-serif"
TEMPLATE = "plotly_white"
# Every figure here is made after this module is imported: with plotly_white as plotly's default, a new
# figure takes it without a copy (Streamlit sets its own default when it is imported; finish() checks).
pio.templates.default = TEMPLATE


def group_order(groups: Iterable[object]) -> list[str]:
    """Groups present, in vocab order (broad, then detailed, 'Not stated' last); unknown names after."""
    present = list(dict.fromkeys(str(g) for g in groups if g is not None and not pd.isna(g)))
    known = [g for g in (*vocab.BROAD_GROUPS, *vocab.DETAILED_GROUPS) if g in present]
    rest = [g for g in present if g not in known and g != vocab.NOT_STATED]
    return known + rest + ([vocab.NOT_STATED] if vocab.NOT_STATED in present else [])


def unit_rows(table: pd.DataFrame, force: str | None = None) -> pd.DataFrame:
    """Rows of one unit: `force` when given, else the pooled rows ('ALL') when present, else the first force."""
    if not len(table) or "force" not in table.columns:
        return table
    forces = table["force"].astype(str)
    if force is None:
        force = POOLED if (forces == POOLED).any() else forces.iloc[0]
    return table.loc[forces == str(force)]


def force_label(force: object) -> str:
    text = str(force)
    return "All selected forces" if text == POOLED else reference_data.force_name(text)


def unit_title(rows: pd.DataFrame) -> str:
    if not len(rows) or "force" not in rows.columns:
        return ""
    return force_label(rows["force"].iloc[0])


def as_float(values: pd.Series | Sequence[object]) -> np.ndarray:
    """Numbers as float64 (<NA> -> nan), keeping exact values."""
    return pd.to_numeric(pd.Series(values), errors="coerce").astype("float64").to_numpy()


def text_column(rows: pd.DataFrame, name: str) -> list[str]:
    if name not in rows.columns:
        return [""] * len(rows)
    return ["" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v) for v in rows[name]]


def small_mask(rows: pd.DataFrame) -> np.ndarray:
    if "small_n" not in rows.columns:
        return np.zeros(len(rows), bool)
    return rows["small_n"].astype("boolean").fillna(False).to_numpy(bool)


def _as_number(value: object) -> float:
    """float(value), or nan for anything that is not a number (None, <NA>, text)."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return np.nan


def fmt_int(value: object) -> str:
    number = _as_number(value)
    return "n/a" if np.isnan(number) else f"{number:,.0f}"


def fmt_num(value: object, digits: int = 2) -> str:
    number = _as_number(value)
    return "n/a" if np.isnan(number) else f"{number:,.{digits}f}"


def fmt_pct(value: object, digits: int = 1) -> str:
    number = _as_number(value)
    return "n/a" if np.isnan(number) else f"{100 * number:.{digits}f}%"


def error_bars(value: np.ndarray, low: np.ndarray, high: np.ndarray) -> dict[str, object]:
    """Asymmetric error bars from an interval (nan where the interval is missing)."""
    return dict(type="data", symmetric=False, array=np.where(np.isnan(high), np.nan, high - value),
                arrayminus=np.where(np.isnan(low), np.nan, value - low), thickness=1.5, width=4)


def marker_style(colour: str, small: np.ndarray, *, symbol: str = "circle", size: int = 10,
                 group: object = None) -> dict[str, object]:
    """Filled markers, hollow ('-open' symbols) where the count is small; `group` picks the group's shape
    (analysis.colours.group_symbol) so groups differ by more than colour."""
    if group is not None:
        symbol = group_symbol(str(group))
    return dict(color=colour, size=size, symbol=[f"{symbol}-open" if s else symbol for s in small],
                line=dict(color=colour, width=2))


def bar_style(colour: str, small: np.ndarray) -> dict[str, object]:
    """Filled bars; hollow (white with a hatched outline in the group colour) where the count is small."""
    return dict(color=["white" if s else colour for s in small], line=dict(color=colour, width=2),
                pattern=dict(shape=["/" if s else "" for s in small], fgcolor=colour, size=6))


def colour(group: object) -> str:
    return group_colour(str(group))


def symbol(group: object) -> str:
    return group_symbol(str(group))


def add_watermark(fig: go.Figure) -> None:
    fig.add_annotation(text=DEMO_LABEL, name=WATERMARK_NAME, showarrow=False, textangle=-24, opacity=0.18,
                       xref="paper", yref="paper", x=0.5, y=0.5, xanchor="center", yanchor="middle",
                       font=dict(size=44, color="#b40000"))


def has_watermark(fig: go.Figure) -> bool:
    return any(a.name == WATERMARK_NAME for a in fig.layout.annotations or ())


# Plotly renders a few HTML tags in every text (hover, ticks, legend, titles): <a href> as a link, <span style>
# with CSS. Stored labels are untrusted; only the bare formatting tags the figures themselves write are kept.
_TAG = re.compile(r"<[^<>]*>?|>")
_KEPT_TAGS = re.compile(r"</?(?:b|i|em|sup|sub|extra)>|<br ?/?>", re.IGNORECASE)
_TRACE_TEXT = ("hovertext", "text", "name", "x", "y", "customdata", "hovertemplate", "texttemplate", "labels",
               "legendgroup")


def plotly_text(value: object) -> str:
    """An untrusted label as Plotly text: `&`, `<` and `>` as entities, so Plotly shows them and parses no tag."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _defuse(text: str) -> str:
    """`text` with every tag but the bare formatting ones (<b>, <br>, <i>, <sup>, <sub>, <extra>) escaped."""
    if "<" not in text and ">" not in text:
        return text
    return _TAG.sub(lambda m: m.group() if _KEPT_TAGS.fullmatch(m.group()) else plotly_text(m.group()), text)


def _needs(value: object) -> bool:
    if isinstance(value, str):
        return "<" in value or ">" in value
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "OU" and any(_needs(v) for v in value.ravel().tolist())
    if isinstance(value, (list, tuple)):
        return any(_needs(v) for v in value)
    return False


def _defused(value: object) -> object:
    """`value` (a string, or nested lists/tuples/arrays of them) defused; the same object when nothing needs it."""
    if not _needs(value):
        return value
    if isinstance(value, str):
        return _defuse(value)
    if isinstance(value, np.ndarray):
        return np.array([_defused(v) for v in value.ravel().tolist()], dtype=object).reshape(value.shape)
    return type(value)(_defused(v) for v in value)


def defuse_figure(fig: go.Figure) -> go.Figure:
    """Escape tags other than bare formatting ones in every trace's and the layout's text (see _KEPT_TAGS):
    a stored label `<a href=...>` or `<span style=...>` shows as text, never as a link or styled element."""
    for trace in fig.data:
        for name in _TRACE_TEXT:
            if name in trace and trace[name] is not None:
                value = trace[name]
                fixed = _defused(value)
                if fixed is not value:
                    trace[name] = fixed
    if fig.layout.title.text:
        fig.layout.title.text = _defuse(fig.layout.title.text)
    for annotation in fig.layout.annotations or ():
        if annotation.text:
            annotation.text = _defuse(annotation.text)
    for axis in (*fig.select_xaxes(), *fig.select_yaxes()):
        if axis.ticktext is not None:
            axis.ticktext = _defused(list(axis.ticktext))
        if axis.title.text:
            axis.title.text = _defuse(axis.title.text)
    return fig


def finish(fig: go.Figure, *, kind: str, title: str, demo: bool, meta: dict[str, object] | None = None,
           x_title: str | None = None, y_title: str | None = None, note: str = "") -> go.Figure:
    """Title, axis titles, fonts, legend, meta {'kind': ..., 'demo': ...}, the demo watermark, and untrusted
    labels' tags escaped (defuse_figure)."""
    # a figure made while plotly_white is plotly's default already holds it; setting it again copies and
    # validates the whole template (~0.06 s a chart, on every page)
    white = {} if fig.layout.template == pio.templates[TEMPLATE] else {"template": TEMPLATE}
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left"), **white, font=dict(family=FONT, size=13),
        hoverlabel=dict(namelength=-1), legend=dict(title=dict(text="")),
        meta={"kind": kind, "demo": bool(demo), **(meta or {})},
        margin=dict(l=80, r=30, t=70, b=60),
    )
    if x_title is not None:
        fig.update_xaxes(title_text=x_title)
    if y_title is not None:
        fig.update_yaxes(title_text=y_title)
    if note:
        # above the plot, under the title: below it the note would meet long rotated tick labels
        fig.add_annotation(text=note, name="note", showarrow=False, xref="paper", yref="paper", x=0, y=1,
                           xanchor="left", yanchor="bottom", yshift=6, font=dict(size=11, color="#555"),
                           align="left")
        fig.update_layout(margin=dict(t=90))
    if demo:
        add_watermark(fig)
    return defuse_figure(fig)


def empty_figure(*, kind: str, title: str, demo: bool, message: str = "No data for this selection") -> go.Figure:
    """A figure with a message instead of data (an empty table never raises)."""
    fig = go.Figure()
    fig.add_annotation(text=message, name="empty", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                       font=dict(size=16, color="#555"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return finish(fig, kind=kind, title=title, demo=demo, meta={"empty": True})


def require(table: pd.DataFrame, columns: Iterable[str], *, kind: str) -> None:
    """A clear error naming the missing columns (the report catches KeyError)."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise KeyError(f"{kind} figure needs columns {missing}; the table has {list(table.columns)}")


def reference_line(*, x: Sequence[object], y: Sequence[object], name: str, colour: str = "#333",
                   dash: str = "dash", width: float = 1.5, label: str = "") -> go.Scatter:
    """A straight guide line (ratio 1, the pooled ratio) drawn as a trace: layout shapes misplace on log axes.

    `meta.series` is 'guide' so readers of fig.data can skip it; `label` is written at the line's end."""
    return go.Scatter(x=list(x), y=list(y), mode="lines+text" if label else "lines", name=name,
                      line=dict(color=colour, dash=dash, width=width), showlegend=False, hoverinfo="skip",
                      text=["", label] if label else None, textposition="top center", cliponaxis=False,
                      meta={"series": "guide"})


def log_range(*arrays: np.ndarray, include: Sequence[float] = (1.0,), pad: float = 0.08) -> list[float]:
    """An explicit log10 axis range covering the finite positive values (and `include`), padded."""
    values = np.concatenate([np.asarray(a, float).ravel() for a in arrays] + [np.asarray(include, float)])
    values = values[np.isfinite(values) & (values > 0)]
    lo, hi = np.log10(values.min()), np.log10(values.max())
    span = max(hi - lo, 0.1)
    return [float(lo - pad * span), float(hi + pad * span)]
