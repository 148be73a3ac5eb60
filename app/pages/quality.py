"""Data quality: coverage heatmap (force x month), missing-field shares, self vs officer agreement, unknown labels."""
from __future__ import annotations

import streamlit as st

from analysis import implausible, views
from analysis.selection import Selection
from app import charts, components, store_health, tables
from app.dataset import Dataset
from app.safe_text import markdown_text

EXPLAINER = """
**Can the numbers be trusted?** Which force-months are in the data (ok), published with no searches
(empty), not published by the force, or failed to download; how often each field is missing; how
often the person's own ethnicity agrees with the officer's view; and labels no mapping table knows yet
(kept and counted, never dropped).
"""
IMPLAUSIBLE_EXPLAINER = (
    "A month whose record count is far from the force's months around it (at least two-fold, and a robust "
    "z-score beyond 3.5) is probably an incomplete or duplicated upload. It stays in the figures, as published, "
    "but it lowers or raises every rolling 12-month figure that contains it: read those with care.")


def render(dataset: Dataset, selection: Selection) -> None:
    st.title("Data quality")
    components.explainer(EXPLAINER)
    st.caption(markdown_text(selection.describe()))
    if not selection.forces:
        components.note("No chosen force published a month of this period, so there are no records to check; "
                        "the store's health is below. Fetch the months on Get data.")
        store_health.render(dataset)
        return

    # one chart at a time: a tab is built and sent when it is chosen (three heatmaps with cell labels took
    # the browser ~0.8 s to draw on every visit); the store's health and unknown labels stay in view below
    components.tabs({"Coverage": lambda: _coverage(dataset, selection),
                     "Missing fields": lambda: _missing_fields(dataset, selection),
                     "Self- vs officer-defined": lambda: _agreement(dataset, selection)}, key="quality_view")

    store_health.render(dataset)

    st.subheader("Labels no mapping table knows")
    unknown = tables.unknown_labels_table(dataset)
    if len(unknown):
        st.dataframe(unknown, hide_index=True, key="quality_unknown")
    else:
        st.markdown("None: every ethnicity, outcome and legislation label in the data is mapped.")


def _coverage(dataset: Dataset, selection: Selection) -> None:
    st.subheader("Coverage: force x month")
    cells = views.coverage(dataset.manifest, selection.forces, selection.months)
    st.markdown(views.coverage_sentence(views.coverage_summary(cells)))
    charts.coverage(cells, dataset=dataset, selection=selection, key="quality_coverage")

    st.subheader("Months out of line with their neighbours")
    flagged = implausible.in_selection(tables.implausible_months(dataset), selection.forces, selection.start,
                                       selection.end)
    st.markdown(IMPLAUSIBLE_EXPLAINER)
    if len(flagged):
        st.dataframe(views.implausible_display(flagged), hide_index=True, width="stretch", key="quality_implausible")
    else:
        st.markdown("None in this selection: every published month is in line with the force's months around it.")


def _missing_fields(dataset: Dataset, selection: Selection) -> None:
    st.subheader("Missing fields, by force")
    quality = tables.quality_table(dataset, selection)
    charts.quality(quality, dataset=dataset, selection=selection, key="quality_fields")
    with components.fold("Missing fields as a table", key="quality_missing_table_fold") as shown:
        if shown:
            st.dataframe(views.quality_display(quality), hide_index=True, width="stretch",
                         key="quality_fields_table")


def _agreement(dataset: Dataset, selection: Selection) -> None:
    st.subheader("Self-defined vs officer-defined ethnicity")
    agreement = tables.table("agreement", dataset, selection)
    charts.agreement(agreement, dataset=dataset, selection=selection, key="quality_agreement")
