"""Charts about the data itself: coverage by force and month, missing fields, self vs officer ethnicity."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.colours import STATUS_COLOURS, STATUS_ORDER
from analysis.figures.base import (
    POOLED,
    as_float,
    empty_figure,
    finish,
    fmt_int,
    fmt_pct,
    force_label,
    group_order,
    require,
    text_column,
)
from analysis.quality import FIELDS as FIELD_WORDS

STATUS_LABELS = {"ok": "ok", "empty": "empty (0 searches)", "not_published": "not published", "failed": "failed",
                 "not_fetched": "not in the store"}
QUALITY_FIELDS = {
    "share_no_location": "No location", "share_date_only": "Date only (no time)",
    "share_ethnicity_not_stated": "Ethnicity not stated", "share_outcome_not_recorded": "Outcome missing",
    "share_outcome_linked_not_recorded": "Outcome-linked missing",
    "share_removal_not_recorded": "Removal field missing",
}
# quality `not_recorded` lists, in words (analysis.quality.FIELDS), the fields a force never records;
# the share column each one affects
_FIELD_OF_SHARE = {"share_outcome_not_recorded": "outcome",
                   "share_outcome_linked_not_recorded": "outcome_linked_to_object",
                   "share_removal_not_recorded": "removal_of_more_than_outer_clothing",
                   "share_no_location": "latitude"}


def coverage_figure(manifest: pd.DataFrame, *, forces: list[str] | None = None, months: list[str] | None = None,
                    demo: bool = False, title: str | None = None) -> go.Figure:
    """Heatmap force x month coloured by manifest status (ok / empty / not published / failed / not in the store).

    Accepts a manifest (data.store.Store.manifest(), data.demo.demo_manifest(): force, month, status; records
    and reason in hover when present) or analysis.views.coverage cells. `forces` / `months` give the grid
    (cells missing from the manifest are 'not in the store'); by default the manifest's own forces and months.
    z holds the index of the status in analysis.colours.STATUS_ORDER.
    """
    require(manifest, ("force", "month", "status"), kind="coverage")
    title = title or "Coverage: what each force published, by month"
    forces = list(forces) if forces is not None else list(dict.fromkeys(manifest["force"].astype(str)))
    months = sorted(months) if months is not None else sorted(set(manifest["month"].astype(str)))
    if not forces or not months:
        return empty_figure(kind="coverage", title=title, demo=demo, message="Nothing fetched yet")
    cells = manifest.assign(force=manifest["force"].astype(str), month=manifest["month"].astype(str))
    cells = cells.drop_duplicates(["force", "month"], keep="last").set_index(["force", "month"])
    grid = pd.MultiIndex.from_product([forces, months], names=["force", "month"])
    cells = cells.reindex(grid)
    status = cells["status"].astype(object).where(cells["status"].notna(), "not_fetched").astype(str)
    code = {s: i for i, s in enumerate(STATUS_ORDER)}
    z = status.map(lambda s: code.get(s, code["not_fetched"])).to_numpy(float).reshape(len(forces), len(months))
    records = cells["records"] if "records" in cells.columns else pd.Series(np.nan, index=grid)
    reasons = text_column(cells.reset_index(drop=True), "reason")
    hover = np.array([f"<b>{force_label(f)}</b> {m}<br>{STATUS_LABELS.get(s, s)}"
                      + (f"<br>{fmt_int(n)} records" if s in ("ok", "empty") else "")
                      + (f"<br>{why}" if why else "")
                      for (f, m), s, n, why in zip(grid, status, records, reasons, strict=True)],
                     dtype=object).reshape(len(forces), len(months))
    n = len(STATUS_ORDER)
    scale = []
    for i, s in enumerate(STATUS_ORDER):   # a stepped colourscale: one flat band per status
        scale += [[i / n, STATUS_COLOURS[s]], [(i + 1) / n, STATUS_COLOURS[s]]]
    names = [force_label(f) for f in forces]
    fig = go.Figure(go.Heatmap(
        z=z, x=months, y=names, zmin=-0.5, zmax=n - 0.5, colorscale=scale, xgap=1, ygap=1,
        customdata=np.array([[f] * len(months) for f in forces], dtype=object),
        hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
        colorbar=dict(tickmode="array", tickvals=list(range(n)), ticktext=[STATUS_LABELS[s] for s in STATUS_ORDER],
                      title=dict(text="status"))))
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=list(reversed(names)))
    fig.update_xaxes(type="category")
    fig.update_layout(height=max(380, 18 * len(forces) + 160))
    return finish(fig, kind="coverage", title=title, demo=demo, meta={"status_order": list(STATUS_ORDER)},
                  x_title="month", y_title="Force")


def quality_figure(table: pd.DataFrame, *, demo: bool = False, title: str | None = None) -> go.Figure:
    """Heatmap force x field: the share of records missing each field (darker = more missing).

    Accepts the quality table (analysis.quality.quality: force and the share_* columns; `records` in hover,
    `not_recorded` (fields the force never records, comma-separated) labels cells 'not recorded').
    z holds the share (0..1) exactly as in the table.
    """
    require(table, ("force",), kind="quality")
    fields = [f for f in QUALITY_FIELDS if f in table.columns]
    title = title or "Missing fields: share of records without each field, by force"
    if not len(table) or not fields:
        return empty_figure(kind="quality", title=title, demo=demo)
    z = np.column_stack([as_float(table[f]) for f in fields])
    never = text_column(table, "not_recorded")
    records = table["records"] if "records" in table.columns else [np.nan] * len(table)
    hover, text = [], []
    for i, (force, n) in enumerate(zip(table["force"], records, strict=True)):
        h_row, t_row = [], []
        for j, field in enumerate(fields):
            unrecorded = FIELD_WORDS.get(_FIELD_OF_SHARE.get(field, ""), "~") in never[i].split(", ")
            t_row.append("not recorded" if unrecorded else fmt_pct(z[i, j], 0))
            h_row.append(f"<b>{force_label(force)}</b><br>{QUALITY_FIELDS[field]}: {fmt_pct(z[i, j])} of "
                         f"{fmt_int(n)} records" + ("<br>never recorded by this force" if unrecorded else ""))
        hover.append(h_row)
        text.append(t_row)
    names = [force_label(f) for f in table["force"]]
    fig = go.Figure(go.Heatmap(
        z=z, x=[QUALITY_FIELDS[f] for f in fields], y=names, zmin=0, zmax=1, colorscale="Cividis", reversescale=True,
        text=text, texttemplate="%{text}", textfont=dict(size=10), xgap=1, ygap=1, hovertext=hover,
        hovertemplate="%{hovertext}<extra></extra>", customdata=np.array(
            [[str(f)] * len(fields) for f in table["force"]], dtype=object),
        colorbar=dict(tickformat=".0%", title=dict(text="missing"))))
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=list(reversed(names)))
    fig.update_layout(height=max(380, 20 * len(names) + 180))
    return finish(fig, kind="quality", title=title, demo=demo, meta={"fields": fields},
                  x_title="field (share of records missing it)", y_title="Force")


def agreement_figure(table: pd.DataFrame, *, force: str | None = None, demo: bool = False,
                     title: str | None = None) -> go.Figure:
    """Heatmap of self-defined (rows) against officer-defined (columns) ethnicity: the share of each
    self-defined group that the officer recorded in each group, with counts.

    Accepts either the agreement table (analysis.quality.agreement: force, self_defined, officer_defined,
    count, row_share; one unit: `force`, else 'ALL', else the first) or a wide crosstab of counts (index
    self-defined, columns officer-defined, e.g. pandas.crosstab), whose row shares are computed here.
    """
    if {"self_defined", "officer_defined", "count"} <= set(table.columns):
        rows = table
        if "force" in rows.columns and len(rows):
            forces = rows["force"].astype(str)
            unit = force if force is not None else (POOLED if (forces == POOLED).any() else forces.iloc[0])
            rows = rows.loc[forces == str(unit)]
        counts = rows.pivot_table(index="self_defined", columns="officer_defined", values="count", aggfunc="sum",
                                  observed=True, sort=False)
        unit_name = force_label(rows["force"].iloc[0]) if "force" in rows.columns and len(rows) else ""
    else:
        counts = table.copy()
        unit_name = ""
    title = title or "Self-defined against officer-defined ethnicity" + (f": {unit_name}" if unit_name else "")
    if counts.empty:
        return empty_figure(kind="agreement", title=title, demo=demo)
    counts.index = counts.index.astype(str)
    counts.columns = counts.columns.astype(str)
    counts = counts.reindex(index=group_order(counts.index), columns=group_order(counts.columns)).fillna(0)
    if {"self_defined", "officer_defined", "row_share"} <= set(table.columns):
        share = rows.pivot_table(index="self_defined", columns="officer_defined", values="row_share",
                                 aggfunc="sum", observed=True, sort=False)
        share.index, share.columns = share.index.astype(str), share.columns.astype(str)
        share = share.reindex(index=counts.index, columns=counts.columns).fillna(0.0)
    else:
        totals = counts.sum(axis=1).replace(0, np.nan)
        share = counts.div(totals, axis=0)
    z = share.to_numpy(float)
    n = counts.to_numpy(float)
    hover = [[f"self-defined <b>{s}</b>, officer-defined <b>{o}</b><br>{fmt_int(n[i, j])} searches "
              f"({fmt_pct(z[i, j])} of self-defined {s})" for j, o in enumerate(counts.columns)]
             for i, s in enumerate(counts.index)]
    text = [[f"{fmt_pct(z[i, j], 0)}<br>{fmt_int(n[i, j])}" for j in range(n.shape[1])] for i in range(n.shape[0])]
    fig = go.Figure(go.Heatmap(z=z, x=list(counts.columns), y=list(counts.index), zmin=0, zmax=1,
                               colorscale="Blues", text=text, texttemplate="%{text}", textfont=dict(size=10),
                               hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
                               colorbar=dict(tickformat=".0%", title=dict(text="row share"))))
    fig.update_yaxes(type="category", autorange="reversed")
    fig.update_xaxes(type="category", side="bottom")
    return finish(fig, kind="agreement", title=title, demo=demo,
                  x_title="officer-defined ethnicity", y_title="self-defined ethnicity")
