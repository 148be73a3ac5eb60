"""A text alternative for a figure: its key numbers in sentences, read from the figure itself.

The builders write each point's group, value and interval as the first lines of its hover text, so the
sentence says exactly what the chart draws (WCAG 1.1.1: a text alternative for non-text content).
"""
from __future__ import annotations

import html
import re

import numpy as np
import plotly.graph_objects as go

MAX_CHARS = 1500
_SKIP_SERIES = ("guide", "searches")


def _lines(text: object) -> list[str]:
    parts = re.split(r"<br\s*/?>", str(text), flags=re.I)
    return [html.unescape(re.sub(r"<[^>]+>", "", p)).strip() for p in parts if p.strip()]


def _point(text: object, keep: int = 3) -> str:
    lines = _lines(text)
    return ", ".join(lines[:keep])


def _heatmap(trace: go.Heatmap) -> str:
    z = np.asarray(trace.z, dtype=float)
    hover = np.asarray(trace.hovertext, dtype=object) if trace.hovertext is not None else None
    rows, cols = z.shape if z.ndim == 2 else (len(z), 1)
    out = f"a grid of {rows} rows by {cols} columns"
    if hover is None or not np.isfinite(z).any():
        return out
    hi = np.unravel_index(np.nanargmax(z), z.shape)
    lo = np.unravel_index(np.nanargmin(z), z.shape)
    return f"{out}; highest: {_point(hover[hi])}; lowest: {_point(hover[lo])}"


def _values(trace: object) -> np.ndarray | None:
    """The trace's plotted values (y, else x) as floats, or None when they cannot be read."""
    for axis in ("y", "x"):
        data = getattr(trace, axis, None)
        if data is None:
            continue
        try:
            values = np.asarray(data, dtype=float)
        except (TypeError, ValueError):
            continue
        if values.ndim == 1 and len(values) == len(trace.hovertext or []):
            return values
    return None


def describe(fig: go.Figure, *, title: str | None = None) -> str:
    """Sentences for a figure from analysis.figures: what it shows and every plotted value with its interval
    (long series: their first and latest point; heatmaps: the size and the highest and lowest cell)."""
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    name = title or re.sub(r"<[^>]+>", "", str(fig.layout.title.text or "Chart"))
    if meta.get("empty"):
        said = [_point(a.text, 4) for a in fig.layout.annotations if a.name == "empty"]
        return f"{name}: {'; '.join(said) or 'no data for this selection'}."
    parts: list[str] = []
    for trace in fig.data:
        if (trace.meta or {}).get("series") in _SKIP_SERIES if isinstance(trace.meta, dict) else False:
            continue
        if trace.type == "heatmap":
            parts.append(_heatmap(trace))
            continue
        # points with no value (a rolling window before 12 months exist) say nothing: describe what is drawn
        values = _values(trace)
        hover = [h for i, h in enumerate(trace.hovertext or []) if h and (values is None or np.isfinite(values[i]))]
        if not hover:
            continue
        if len(hover) > 6:
            parts.append(f"{_point(hover[0])} to {_point(hover[-1])}")
        else:
            parts.extend(_point(h) for h in hover)
    parts = list(dict.fromkeys(parts))      # a marker layer over an area repeats its values: say them once
    text = f"{name}. " + ("; ".join(parts) + "." if parts else "No values drawn.")
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS].rsplit(";", 1)[0] + "; the rest in the table below."
    return text
