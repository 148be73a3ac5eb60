"""Text geometry of exported and on-screen figures: wrapped titles, tick-label room, legend rows, margins.

Plotly never wraps text and only grows margins for its own axes, so text placed around the plot (title,
subtitle, source line, caveats, demo note) has to be placed from estimates made here: the widest tick
label and the angle it is drawn at give the room under the plot, and the footer goes below that room.
Estimates are deliberately generous (tests/test_export_layout.py measures the rendered SVG).
"""
from __future__ import annotations

import html
import math
import re
import textwrap
from dataclasses import dataclass

import plotly.graph_objects as go

FONT = "Liberation Sans, DejaVu Sans, Arial, Helvetica, sans-serif"
TICK_SIZE = 13              # analysis.figures.base.finish sets the layout font to 13 px; ticks inherit it
# Average glyph width as a share of the font size (Liberation/DejaVu Sans, generous so lines never overflow).
GLYPH = 0.52
TICK_GLYPH = 0.58           # tick labels: mixed case with capitals, measured widest ~0.55 em per character
LINE = 1.35                 # line height as a share of the font size
TITLE_STANDOFF = 12         # pixels between the tick labels and the axis title


def esc(text: str) -> str:
    return html.escape(str(text), quote=False)


def plain(text: str) -> str:
    """Annotation text without markup: <br> becomes '; ', tags go, entities are decoded."""
    text = re.sub(r"<br\s*/?>", "; ", str(text), flags=re.I)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def wrap(text: str, *, px: float, width: float) -> list[str]:
    """`text` in lines that fit `width` pixels at font size `px` (at least 12 characters a line)."""
    chars = max(12, int(width / (px * GLYPH)))
    return textwrap.wrap(text, chars, break_on_hyphens=False) or [""]


def text_px(text: str, size: float = TICK_SIZE) -> float:
    """Estimated width of one line of text (the longest line when it has <br>s)."""
    lines = re.split(r"<br\s*/?>", str(text), flags=re.I)
    return max(len(plain(line)) for line in lines) * size * TICK_GLYPH


# --------------------------------------------------------------------------------------------------
# Legends

def legend_entries(fig: go.Figure) -> list[str]:
    """Names the legend will show (none when the layout hides it or a lone trace needs none)."""
    if fig.layout.showlegend is False:
        return []
    names = [str(t.name) for t in fig.data if t.showlegend is not False and t.name not in (None, "")]
    names = list(dict.fromkeys(names))
    return names if (len(fig.data) > 1 or fig.layout.showlegend) else []


def legend_rows(names: list[str], *, width: float) -> int:
    """Rows a horizontal legend of these names needs across `width` pixels (13 px font)."""
    rows, used = 1, 0.0
    for name in names:
        item = len(name) * 7.5 + 48
        if used and used + item > width:
            rows, used = rows + 1, 0.0
        used += item
    return rows


# --------------------------------------------------------------------------------------------------
# Axes

def _axes(fig: go.Figure, letter: str) -> dict[str, object]:
    layout = fig.layout
    return {name: getattr(layout, name) for name in dir(layout)
            if re.fullmatch(f"{letter}axis[0-9]*", name) and getattr(layout, name, None) is not None}


def _short(name: str) -> str:
    """'xaxis2' -> 'x2' (how traces name their axes)."""
    return name[0] + name[5:]


def bottom_x_axis(fig: go.Figure) -> tuple[str, object] | None:
    """The x axis drawn lowest on the page (the one whose tick labels and title sit above the footer)."""
    best: tuple[float, str, object] | None = None
    yaxes = _axes(fig, "y")
    for name, axis in _axes(fig, "x").items():
        if axis.visible is False or axis.showticklabels is False:
            continue
        anchor = axis.anchor or "y"
        y = yaxes.get("yaxis" + anchor[1:]) if anchor.startswith("y") else None
        low = float(y.domain[0]) if y is not None and y.domain else 0.0
        if best is None or low < best[0]:
            best = (low, name, axis)
    return (best[1], best[2]) if best else None


def category_labels(fig: go.Figure, axis_name: str, letter: str = "x") -> list[str]:
    """The text labels an axis will show: its ticktext, else the text values traces plot on it."""
    axis = getattr(fig.layout, axis_name)
    if axis.ticktext:
        return [str(t) for t in axis.ticktext]
    short = _short(axis_name)
    labels: list[str] = []
    for trace in fig.data:
        if (getattr(trace, f"{letter}axis", None) or letter) != short:
            continue
        values = getattr(trace, letter, None)
        if values is None:
            continue
        labels += [str(v) for v in values if isinstance(v, str)]
    return list(dict.fromkeys(labels))


@dataclass(frozen=True)
class TickPlan:
    """How the bottom axis draws its labels and the pixels they take below the plot area."""

    angle: int           # 0, -45 or -90 (plotly tickangle)
    below_px: int        # tick labels plus axis title, from the plot's bottom edge
    left_px: int         # how far a rotated first label reaches left of the plot area
    right_px: int        # how far the last label reaches right of the plot area


def plan_ticks(fig: go.Figure, *, plot_width: float) -> TickPlan:
    """Angle and room for the bottom x axis' labels at this plot width (category labels may rotate)."""
    found = bottom_x_axis(fig)
    if found is None:
        return TickPlan(0, 24, 0, 0)
    name, axis = found
    size = float(axis.tickfont.size or fig.layout.font.size or TICK_SIZE)
    labels = category_labels(fig, name)
    title = plain(axis.title.text) if axis.title and axis.title.text else ""
    title_size = float(axis.title.font.size or fig.layout.font.size or TICK_SIZE)
    title_px = (TITLE_STANDOFF + title_size * LINE) if title else 0.0
    if not labels:   # numbers or dates: one horizontal line of tick labels
        return TickPlan(0, int(size * LINE + 10 + title_px + 6), 0, int(size * 2.5))
    widest = max(text_px(t, size) for t in labels)
    slot = plot_width / max(1, len(labels))
    if widest + 10 <= slot:
        angle, tall, left = 0, size * LINE, 0.0
        right = max(0.0, widest / 2 - slot / 2)
    elif slot >= 2.4 * size:
        # at 45 degrees the label's corner reaches down and left by its width * cos 45 plus its height
        angle = -45
        tall = (widest + size) * math.sin(math.pi / 4)
        left = max(0.0, (widest + size) * math.cos(math.pi / 4) - slot / 2)
        right = 0.0
    else:
        angle, tall, left, right = -90, widest + size * 0.5, 0.0, 0.0
    return TickPlan(angle, int(tall + 10 + title_px + 6), int(left), int(right))


def apply_ticks(fig: go.Figure, plan: TickPlan) -> None:
    """Draw the bottom axis at the planned angle, its title a fixed standoff below the labels."""
    found = bottom_x_axis(fig)
    if found is None:
        return
    name, _ = found
    getattr(fig.layout, name).update(tickangle=plan.angle, automargin=True,
                                     title=dict(standoff=TITLE_STANDOFF))


def left_label_px(fig: go.Figure) -> int:
    """Width the longest category label on a y axis needs (horizontal bars, ticktext), 13 px font."""
    labels: list[str] = []
    for name in _axes(fig, "y"):
        labels += category_labels(fig, name, "y")
    return int(max((text_px(t) for t in labels), default=0))


def separate_colourbar_titles(fig: go.Figure) -> None:
    """Colour-bar titles beside the bar, not above it where the top tick label ('100%') sits."""
    for trace in fig.data:
        bar = getattr(trace, "colorbar", None)
        if bar is not None and getattr(trace, "showscale", None) is not False and bar.title.text:
            bar.title.side = "right"


SCREEN_LINE_PX = 230      # axis titles and messages in a chart on screen wrap to fit a phone (390 px)
PHONE_PX = 358            # a chart's width on a 390 px phone (the page pads 16 px each side)


def screen_layout(fig: go.Figure, *, in_place: bool = False) -> go.Figure:
    """A copy of a builder's figure (or, `in_place`, the figure itself) for a page of any width: no title in
    the chart (the page writes it as text that wraps), legend above the plot, and margins that grow to fit
    every axis' labels.

    Plotly's automargin only knows the axes; nothing else is drawn below the plot, so nothing meets them.
    """
    out = fig if in_place else go.Figure(fig)
    keep = ("note", "empty", "no-rolling")
    out.layout.annotations = [a for a in out.layout.annotations
                              if a.name in keep or a.name == "demo-watermark" or not a.name]
    out.update_layout(title=dict(text=""), autosize=True, width=None,
                      margin=dict(t=(60 if any(a.name == "note" for a in out.layout.annotations) else 40), b=20,
                                  l=20, r=20))
    for note in out.layout.annotations:   # a phone-wide chart (~350 px) must hold the mark and messages
        if note.name == "demo-watermark":
            note.font.size = min(note.font.size or 20, 20)
        elif note.text and note.name in ("empty", "no-rolling"):
            note.text = "<br>".join(wrap(plain(note.text), px=13, width=SCREEN_LINE_PX))
    # an x title is centred on the plot, which long y labels push right: it gets the plot's phone width
    x_line = max(140, PHONE_PX - left_label_px(out) - 40)
    for axes, line_px in ((_axes(out, "x"), x_line), (_axes(out, "y"), SCREEN_LINE_PX)):
        for axis in axes.values():
            axis.automargin = True
            if axis.title and axis.title.text and "<br>" not in axis.title.text:
                axis.title.text = "<br>".join(wrap(axis.title.text, px=13, width=line_px))
    if legend_entries(out):
        out.update_layout(legend=dict(orientation="h", x=0, xanchor="left", y=1.02, yanchor="bottom",
                                      yref="paper", font=dict(size=13)))
    separate_colourbar_titles(out)
    return out
