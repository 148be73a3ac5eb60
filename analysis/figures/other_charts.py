"""A map of located searches (use-of-force figures live in use_of_force_charts, re-exported here)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.figures.base import (
    as_float,
    colour,
    empty_figure,
    finish,
    fmt_int,
    force_label,
    group_order,
    require,
    text_column,
)
from analysis.figures.use_of_force_charts import use_of_force_figure  # noqa: F401 (re-export)

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
