"""A map of located searches, and use-of-force tactic shares by group."""
from __future__ import annotations

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
    fmt_pct,
    force_label,
    group_order,
    marker_style,
    require,
    small_mask,
    text_column,
    unit_rows,
)

# 'white-bg' draws no tiles and needs no network (points on a blank page). Tile styles such as
# 'open-street-map' or 'carto-positron' show streets but fetch tiles from the internet when viewed.
OFFLINE_MAP_STYLE = "white-bg"
DEFAULT_MAP_STYLE = "open-street-map"
_GROUP_COLUMNS = ("group", "self_defined_broad", "self_defined_group", "officer_defined_broad")


def map_figure(points: pd.DataFrame, *, group_column: str | None = None, style: str = DEFAULT_MAP_STYLE,
               limit: int = 40_000, seed: int = 1, demo: bool = False, title: str | None = None) -> go.Figure:
    """Located searches as points (go.Scattermap, MapLibre: no token), one trace per ethnic group.

    Accepts analysis.views.map_points output (latitude, longitude, group, force, month, street) or canonical
    records (latitude, longitude and a group column: `group_column`, else the first of group,
    self_defined_broad, self_defined_group, officer_defined_broad). Rows without coordinates are left out;
    at most `limit` points are drawn (a fixed random sample). `style`: a tile style such as
    'open-street-map' (needs the internet to show tiles; points draw regardless) or OFFLINE_MAP_STYLE.
    """
    require(points, ("latitude", "longitude"), kind="map")
    column = group_column or next((c for c in _GROUP_COLUMNS if c in points.columns), None)
    title = title or "Where searches happened (points are anonymised to a nearby street)"
    lat, lng = as_float(points["latitude"]), as_float(points["longitude"])
    located = np.flatnonzero(np.isfinite(lat) & np.isfinite(lng))
    if len(located) > limit:
        located = np.sort(np.random.default_rng(seed).choice(located, size=limit, replace=False))
    rows = points.iloc[located]
    if not len(rows):
        return empty_figure(kind="map", title=title, demo=demo, message="No located searches in this selection")
    groups = rows[column].astype(object).where(rows[column].notna(), "Unrecognised label").astype(str) \
        if column else pd.Series("All searches", index=rows.index)
    fig = go.Figure()
    for group in group_order(groups):
        part = rows.loc[groups.to_numpy() == group]
        forces = text_column(part, "force")
        months = text_column(part, "month")
        streets = text_column(part, "street")
        hover = [f"<b>{group}</b><br>{force_label(f) if f else ''} {m}<br>{s}"
                 for f, m, s in zip(forces, months, streets, strict=True)]
        fig.add_trace(go.Scattermap(lat=as_float(part["latitude"]), lon=as_float(part["longitude"]), mode="markers",
                                    name=f"{group} ({fmt_int(len(part))})",
                                    marker=dict(color=colour(group), size=6, opacity=0.7), hovertext=hover,
                                    hovertemplate="%{hovertext}<extra></extra>", meta={"group": group}))
    centre = dict(lat=float(np.nanmedian(as_float(rows["latitude"]))),
                  lon=float(np.nanmedian(as_float(rows["longitude"]))))
    spread = max(float(np.nanpercentile(as_float(rows["latitude"]), 95) - np.nanpercentile(
        as_float(rows["latitude"]), 5)), 0.02)
    zoom = float(np.clip(8.5 - np.log2(spread / 0.05), 4.5, 13))
    fig.update_layout(map=dict(style=style, center=centre, zoom=zoom), height=600,
                      legend=dict(title=dict(text="ethnic group (points shown)")))
    return finish(fig, kind="map", title=title, demo=demo,
                  meta={"points": int(len(rows)), "located": int(len(np.flatnonzero(np.isfinite(lat)
                                                                                     & np.isfinite(lng)))),
                        "style": style})


def use_of_force_figure(table: pd.DataFrame, *, force: str | None = None, year: str | None = None,
                        demo: bool = False, title: str | None = None) -> go.Figure:
    """Dot plot: for each tactic, the share of use-of-force reports on people of each group that involved it,
    with 95% intervals.

    Accepts the use-of-force table (analysis.use_of_force: force, year, group, tactic, count, reports, share,
    ci_low, ci_high; small_n when present). One unit (`force`, else 'ALL', else the first) and one `year`
    (default the latest). Rows without a share (the all-reports row) are left out. Units: officer reports on
    a person, officer-perceived ethnicity.
    """
    require(table, ("force", "year", "group", "tactic", "count", "reports", "share", "ci_low", "ci_high"),
            kind="use_of_force")
    rows = unit_rows(table, force)
    if len(rows):
        year = year or sorted(rows["year"].astype(str).unique())[-1]
        rows = rows.loc[rows["year"].astype(str) == year]
        rows = rows.loc[np.isfinite(as_float(rows["share"]))]
    unit = force_label(table["force"].iloc[0]) if force is None and len(table) else force_label(force or "")
    if len(rows):
        unit = force_label(rows["force"].iloc[0])
    title = title or f"Use of force: tactics by perceived ethnicity: {unit}" + (f", {year}" if year else "")
    if not len(rows):
        return empty_figure(kind="use_of_force", title=title, demo=demo)
    tactics = list(dict.fromkeys(rows["tactic"].astype(str)))
    labels = {t: t.replace("_", " ").capitalize() if t.islower() else t for t in tactics}
    fig = go.Figure()
    for group in group_order(rows["group"]):
        row = rows.loc[rows["group"].astype(str) == group]
        share, low, high = as_float(row["share"]), as_float(row["ci_low"]), as_float(row["ci_high"])
        small = small_mask(row)
        hover = [f"<b>{group}</b>: {labels[t]}<br>{fmt_pct(s)} of reports (95% CI {fmt_pct(lo)} to {fmt_pct(hi)})"
                 f"<br>{fmt_int(n)} of {fmt_int(r)} reports"
                 for t, s, lo, hi, n, r in zip(row["tactic"].astype(str), share, low, high, row["count"],
                                               row["reports"], strict=True)]
        fig.add_trace(go.Scatter(x=share, y=[labels[t] for t in row["tactic"].astype(str)], mode="markers",
                                 name=group, marker=marker_style(colour(group), small, size=9),
                                 error_x=error_bars(share, low, high) | {"color": colour(group)},
                                 hovertext=hover, hovertemplate="%{hovertext}<extra></extra>"))
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=[labels[t] for t in reversed(tactics)])
    fig.update_xaxes(tickformat=".0%", rangemode="tozero")
    fig.update_layout(height=max(420, 26 * len(tactics) + 160))
    return finish(fig, kind="use_of_force", title=title, demo=demo, meta={"force": str(rows["force"].iloc[0]),
                                                                           "year": year},
                  x_title="share of officer reports on a person of the group involving the tactic (%)",
                  y_title="Tactic")
