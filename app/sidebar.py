"""The sidebar controls: forces, period, ethnicity definition, reference group and record filters.

Every widget has a key, gets its value through `app.state.prepare` (URL, then earlier runs, then the
default) and is turned into one `analysis.selection.Selection`.
"""
from __future__ import annotations

import streamlit as st

from analysis import views
from analysis.coverage import Coverage, restrict_to_published
from analysis.selection import Selection
from app import state
from app.dataset import Dataset
from data import reference_data

OFFICER_CAVEAT = ("Officer-defined ethnicity is the officer's visual judgement. Dividing it by Census "
                  "(self-identified) populations is not how official rates are computed: use it to compare "
                  "with self-defined figures, not on its own.")
ETHNICITY = {"self": "Self-defined (as official statistics)", "officer": "Officer-defined (visual judgement)"}
LEVELS = {"broad": "Broad (5 groups)", "detailed": "Detailed (19 Census groups)"}
CENSUS = {"auto": "Auto (as the Home Office)", "2011": "Census 2011", "2021": "Census 2021"}
CENSUS_HELP = ("Which Census residents divide the searches. Auto follows the Home Office: Census 2011 for "
               "periods ending up to March 2020 (2019/20), Census 2021 from 2020/21. Census 2011 has no Roma "
               "group, so Roma get no rate with it.")
FILTER_LABELS = {"legislation": "Legislation", "object": "Object of search", "age": "Age range",
                 "gender": "Gender", "type": "Type of search"}


def controls(dataset: Dataset) -> tuple[Selection, Coverage]:
    """Draw the sidebar; return the selection it describes (forces with published months only) and what
    coverage left out (no forces at all when nothing in the selection was published)."""
    sidebar = st.sidebar
    sidebar.caption(f"Data: **{dataset.label}**")

    forces = list(dataset.forces)
    state.prepare("forces", forces, [])
    sidebar.multiselect("Forces", forces, key="forces", format_func=reference_data.force_name,
                        placeholder="All forces", help="Leave empty for every force in the data.")

    months = list(dataset.months)
    start_default, end_default = views.default_period(months)
    state.prepare("start", months, start_default)
    left, right = sidebar.columns(2)
    left.selectbox("From", months, key="start")
    later = [m for m in months if m >= st.session_state["start"]]
    state.prepare("end", later, end_default if end_default in later else later[-1])
    right.selectbox("To", later, key="end")

    state.prepare("eth", list(ETHNICITY), "self")
    sidebar.radio("Ethnicity", list(ETHNICITY), key="eth", format_func=ETHNICITY.get,
                  help="Self-defined ethnicity is what the person said; official rates use it.")
    if st.session_state["eth"] == "officer":
        sidebar.caption(OFFICER_CAVEAT)
    officer = st.session_state["eth"] == "officer"
    state.prepare("level", list(LEVELS), "broad")
    if officer:
        st.session_state["level"] = "broad"
    sidebar.radio("Groups", list(LEVELS), key="level", format_func=LEVELS.get, disabled=officer,
                  help="Detailed Census groups exist for self-defined ethnicity only.")
    level = st.session_state["level"]
    references = views.reference_options(level)
    state.prepare("ref", references, views.default_reference(level))
    sidebar.selectbox("Reference group", references, key="ref",
                      help="Ratios compare each group's rate with this group's rate.")

    state.prepare("census", list(CENSUS), "auto")
    sidebar.radio("Census residents", list(CENSUS), key="census", format_func=CENSUS.get, help=CENSUS_HELP,
                  horizontal=True)

    with sidebar.expander("Filter the records", expanded=False):
        for name, label in FILTER_LABELS.items():
            options = dataset.options.get(name, [])
            state.prepare(name, options, [])
            st.multiselect(label, options, key=name, placeholder="All")
        state.prepare("btp", None, False)
        st.checkbox("Add British Transport Police searches to pooled figures", key="btp",
                    help="BTP has no resident population: its searches join pooled numerators only.")

    coverage = restrict_to_published(selection_from_state(dataset), dataset.manifest)
    if coverage.left_out or coverage.partial:
        with sidebar.expander(f"Coverage: {len(coverage.left_out) + len(coverage.partial)} force(s) with "
                              "missing months", expanded=bool(coverage.left_out)):
            for line in coverage.notes():
                st.caption(line)
    return coverage.selection, coverage


def selection_from_state(dataset: Dataset) -> Selection:
    """The Selection the current widget values describe (empty forces = every force in the data)."""
    chosen = st.session_state.get("forces") or list(dataset.forces)
    filters = {views.FILTER_COLUMNS[name]: st.session_state.get(name) or [] for name in FILTER_LABELS}
    return Selection.build(chosen, st.session_state["start"], st.session_state["end"], filters=filters,
                           ethnicity=st.session_state["eth"], level=st.session_state["level"],
                           reference=st.session_state["ref"], include_btp=bool(st.session_state.get("btp")),
                           census=st.session_state.get("census") or "auto")
