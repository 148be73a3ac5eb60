"""Use of force: tactic shares and ratios by perceived group (when use-of-force data are stored), and the
more thorough search share from the stop-and-search records."""
from __future__ import annotations

import streamlit as st

from analysis import views
from analysis.selection import Selection
from analysis.thorough import THOROUGH_CAVEAT
from analysis.use_of_force import TACTICS_UNIT
from app import charts, components, state, tables
from app.dataset import Dataset
from data.demo import DEMO_LABEL

EXPLAINER = """
**Force used by officers, by the person's perceived ethnicity.** The Home Office collects a report each
time an officer uses force on a person: these counts are officer reports, not people or incidents, and
ethnicity is the officer's perception. Recording has improved year by year, so rises partly reflect
better recording. Below, from the stop-and-search records themselves: how often a search went further
than outer clothing.
"""
NO_DATA = ("No use-of-force data in the store yet. Import the Home Office use-of-force tables or open data "
           "table on **Get data**, or run `python -m data fetch-use-of-force`.")


def render(dataset: Dataset, selection: Selection) -> None:
    st.title("Use of force")
    components.explainer(EXPLAINER)
    st.caption(selection.describe())

    st.subheader("Use of force by tactic and perceived ethnic group")
    years = tables.use_of_force_years()
    # demo use of force only beside the demo records, and never mixed with stored use-of-force data
    demo_uof = dataset.demo and not years
    if demo_uof:
        years = list(tables.DEMO_USE_OF_FORCE_YEARS)
    if not years:
        components.note(NO_DATA)
    else:
        state.prepare("uof_year", years, years[-1])
        st.selectbox("Financial year", years, key="uof_year")
        forces = views.use_of_force_forces(selection.forces, dataset.forces)
        build = tables.demo_use_of_force if demo_uof else tables.use_of_force
        table = build(forces, st.session_state["uof_year"], reference=views.broad_reference(selection.reference))
        if demo_uof:
            st.caption(f"{DEMO_LABEL}: generated use-of-force reports for {years[-1]}, not police records.")
        unit = views.use_of_force_unit(table, default=TACTICS_UNIT)
        st.caption(f"Unit: {unit}. Ethnicity is the officer's perception.")
        charts.use_of_force(table, st.session_state["uof_year"], dataset=dataset, selection=selection,
                            key="uof_tactics", caveats=(f"Counts are {unit}, not people or incidents; "
                                                        "ethnicity is officer-perceived.",))

    st.subheader("More thorough searches (removal of more than outer clothing)")
    thorough = tables.table("thorough", dataset, selection)
    groups = [g for g in views.comparison_groups(thorough) if g != selection.reference]
    state.prepare("group", groups, views.default_group(groups))
    group = st.session_state["group"]
    left, right = st.columns(2)
    with left:
        components.headline(f"{group}: more thorough searches",
                            views.share_headline(views.group_row(thorough, group), numerator="thorough",
                                                 denominator="recorded", what="searches where it is recorded"),
                            key="metric_thorough")
    with right:
        components.headline(f"{selection.reference}: more thorough searches",
                            views.share_headline(views.group_row(thorough, selection.reference),
                                                 numerator="thorough", denominator="recorded",
                                                 what="searches where it is recorded"),
                            key="metric_reference_thorough")
    st.selectbox("Group compared with the reference", groups, key="group")
    charts.thorough(thorough, dataset=dataset, selection=selection, key="uof_thorough",
                    caveats=(THOROUGH_CAVEAT,))
