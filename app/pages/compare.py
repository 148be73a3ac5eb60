"""Compare forces: forest plot of every force's ratio, funnel plot with control limits, sortable league table."""
from __future__ import annotations

import streamlit as st

from analysis import export, views
from analysis.compare import FLAG_RULE
from analysis.force_rates import force_rate_table
from analysis.selection import Selection
from app import charts, components, state, tables
from app.dataset import Dataset
from app.safe_text import markdown_text
from data import reference_data

EXPLAINER = """
**Every force side by side.** Each dot is a force's disparity ratio with its 95% interval, for the period
and filters in the sidebar. The funnel plot sets each ratio against the ratio of all forces pooled: the
lines show how far a force could sit from it by chance, given how many searches it made (95% and 99.8%
limits, allowing for genuine variation between forces, estimated so that one extreme force cannot widen
everyone's limits). Forces outside the outer (99.8%) lines are flagged and named "(flagged)"; hollow dots
are forces with fewer than 20 searches in a group. **Click a force** (or choose it below) to see the
whole dashboard for that force. Below, the rates per 1,000 behind every ratio, for every group.
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
RATES_TITLE = "Searches per 1,000 residents a year, by force and group"
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
    st.caption(markdown_text(everyone.describe()))
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
    st.caption("Click a column header to sort by it. " + FLAG_RULE)

    _rates_table(dataset, everyone)


def _rates_table(dataset: Dataset, selection: Selection) -> None:
    """Rates per 1,000 for every group, one row per force (sortable by header), with a CSV download."""
    st.subheader("Rates per 1,000 for every group")
    rates = force_rate_table(tables.table("rates", dataset, selection))
    if not len(rates):
        components.note("No force in this selection has published searches: fetch data on the Get data page.")
        return
    shown = rates.drop(columns=["force"])
    numbers = {c: st.column_config.NumberColumn(format="%.2f") for c in shown.columns
               if c.endswith(("per 1,000", "CI low", "CI high"))}
    numbers |= {c: st.column_config.NumberColumn(format="localized") for c in shown.columns if c.endswith("searches")}
    st.dataframe(shown, hide_index=True, width="stretch", key="compare_rates", column_config=numbers)
    context = components.export_context(dataset, selection, title=RATES_TITLE)
    st.download_button("Download this table (CSV)", data=export.table_csv(shown, context),
                       file_name=f"{export.slug(RATES_TITLE)}.csv", mime="text/csv", key="compare_rates_csv",
                       on_click="ignore")
    st.caption("Searches of persons per 1,000 residents of the group in the force area, a year, with the exact "
               "95% interval; the last row pools the forces listed. Click a column header to sort. A blank "
               "rate is not zero: 'Why blank' says why (no resident population, too few residents, not "
               "published).")
