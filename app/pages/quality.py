"""Data quality: coverage heatmap (force x month), missing-field shares, self vs officer agreement, unknown labels."""
from __future__ import annotations

import streamlit as st

from analysis import views
from analysis.selection import Selection
from app import charts, components, store_health, tables
from app.dataset import Dataset

EXPLAINER = """
**Can the numbers be trusted?** Which force-months are in the data (ok), published with no searches
(empty), not published by the force, or failed to download; how often each field is missing; how
often the person's own ethnicity agrees with the officer's view; and labels no mapping table knows yet
(kept and counted, never dropped).
"""


def render(dataset: Dataset, selection: Selection) -> None:
    st.title("Data quality")
    components.explainer(EXPLAINER)
    st.caption(selection.describe())

    st.subheader("Coverage: force x month")
    cells = views.coverage(dataset.manifest, selection.forces, selection.months)
    st.markdown(views.coverage_sentence(views.coverage_summary(cells)))
    charts.coverage(cells, dataset=dataset, selection=selection, key="quality_coverage")

    st.subheader("Missing fields, by force")
    quality = tables.quality_table(dataset, selection)
    charts.quality(quality, dataset=dataset, selection=selection, key="quality_fields")
    with st.expander("Missing fields as a table"):
        st.dataframe(views.quality_display(quality), hide_index=True, width="stretch", key="quality_fields_table")

    store_health.render(dataset)

    st.subheader("Self-defined vs officer-defined ethnicity")
    agreement = tables.table("agreement", dataset, selection)
    charts.agreement(agreement, dataset=dataset, selection=selection, key="quality_agreement")

    st.subheader("Labels no mapping table knows")
    unknown = tables.unknown_labels_table(dataset)
    if len(unknown):
        st.dataframe(unknown, hide_index=True, key="quality_unknown")
    else:
        st.markdown("None: every ethnicity, outcome and legislation label in the data is mapped.")
