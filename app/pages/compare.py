"""Compare forces: forest plot of every force's ratio, funnel plot with control limits, sortable league table."""
from __future__ import annotations

import streamlit as st

from analysis import views
from analysis.selection import Selection
from app import charts, components, state, tables
from app.dataset import Dataset
from data import reference_data

EXPLAINER = """
**Every force side by side.** Each dot is a force's disparity ratio with its 95% interval, for the period
and filters in the sidebar. The funnel plot sets each ratio against the ratio of all forces pooled: the
lines show how far a force could sit from it by chance, given how many searches it made (95% and 99.8%
limits, allowing for genuine variation between forces). Forces outside the outer lines are worth a
closer look; hollow dots are forces with fewer than 20 searches in a group. **Click a force** (or choose
it below) to see the whole dashboard for that force.
"""
LEAGUE_FORMAT = {
    "Ratio": st.column_config.NumberColumn(format="%.2f"),
    "95% CI low": st.column_config.NumberColumn(format="%.2f"),
    "95% CI high": st.column_config.NumberColumn(format="%.2f"),
    "Group searches": st.column_config.NumberColumn(format="localized"),
    "Reference searches": st.column_config.NumberColumn(format="localized"),
    "z": st.column_config.NumberColumn(format="%.2f"),
    "q (FDR)": st.column_config.NumberColumn(format="%.3f"),
    "Fewer than 20": st.column_config.CheckboxColumn(),
}
SORT_LABELS = {"ratio": "Ratio (highest first)", "name": "Force name", "searches": "Searches (most first)",
               "z": "Distance from the pooled ratio (z)"}


def _drill_from_chart(chart_key: str, forces: list[str]) -> None:
    event = st.session_state.get(chart_key) or {}
    points = event.get("selection", {}).get("points", [])     # st.plotly_chart's selection state
    force = views.force_from_points(points, forces)
    if force:
        _drill(force)


def _drill_from_selectbox() -> None:
    force = st.session_state.get("drill")
    if force:
        _drill(force)


def _drill(force: str) -> None:
    """Narrow the whole app to one force and open its overview."""
    state.set_value("forces", [force])
    st.session_state["drill"] = None
    state.go_to("overview")


def render(dataset: Dataset, selection: Selection) -> None:
    st.title("Compare forces")
    components.explainer(EXPLAINER)
    everyone = tables.every_force(dataset, selection)
    st.caption(everyone.describe())
    table = tables.table("compare", dataset, everyone)

    groups = views.comparison_groups(table)
    state.prepare("group", groups, views.default_group(groups))
    st.selectbox("Group compared with the reference", groups, key="group")
    group = st.session_state["group"]
    forces = list(dataset.forces)

    st.selectbox("Show the whole dashboard for one force", forces, index=None, key="drill",
                 format_func=reference_data.force_name, placeholder="Choose a force (or click one below)...",
                 on_change=_drill_from_selectbox)

    charts.forest(table, group, dataset=dataset, selection=everyone, key="compare_forest",
                  on_select=lambda: _drill_from_chart("compare_forest", forces))
    charts.funnel(table, tables.funnel(dataset, everyone), group, dataset=dataset, selection=everyone, key="compare_funnel",
                  on_select=lambda: _drill_from_chart("compare_funnel", forces))

    st.subheader("League table")
    state.prepare("sort", list(SORT_LABELS), "ratio")
    st.selectbox("Order", list(SORT_LABELS), key="sort", format_func=SORT_LABELS.get)
    st.dataframe(views.league_table(table, group, sort=st.session_state["sort"]), hide_index=True,
                 width="stretch", key="compare_league", column_config=LEAGUE_FORMAT)
    st.caption("Click a column header to sort by it. Flags compare each force with the pooled ratio using "
               "false-discovery-rate adjusted q-values: a reason to look closer, not a finding.")
