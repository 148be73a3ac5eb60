"""Use of force: handcuffing by perceived ethnicity first, then every tactic in the unit the source supports,
one tactic across every force, and the more thorough search share from the stop-and-search records."""
from __future__ import annotations

from dataclasses import replace

import streamlit as st

from analysis import use_of_force_views as uofv
from analysis import views
from analysis.selection import Selection
from analysis.thorough import THOROUGH_CAVEAT
from app import charts, components, state, tables
from app.dataset import Dataset
from data.demo import DEMO_LABEL
from data.errors import StopSearchDataError
from data.vocab import BROAD_GROUPS

EXPLAINER = """
**Force used by officers, by the person's perceived ethnicity.** The Home Office collects a report each
time an officer uses force on a person. Its published tables by force count **tactic uses** (one report can
record several tactics); record-level files (the open data table, the Met's file) count **officer reports**.
Neither counts people or incidents, and ethnicity is the officer's perception, while residents' ethnicity
(Census 2021) is self-defined. Recording has improved year by year, so rises partly reflect better recording.
"""
NO_DATA = ("No use-of-force data in the store yet. Import the Home Office use-of-force tables or open data "
           "table on **Get data**, or run `python -m data fetch-use-of-force`.")
YEAR_NOTE = ("The financial year below decides which use-of-force figures are shown; the stop-and-search "
             "period in the sidebar does not apply to them. The forces chosen in the sidebar do.")
MEASURE_NAMES = {uofv.RATE: "Per 1,000 residents", uofv.GROUP_SHARE: "Share of uses vs share of residents",
                 uofv.SHARE: "Share of officer reports"}


def render(dataset: Dataset, selection: Selection) -> None:
    st.title("Use of force")
    components.explainer(EXPLAINER)
    years = tables.use_of_force_years()
    # demo use of force only beside the demo records, and never mixed with stored use-of-force data
    demo_uof = dataset.demo and not years
    if demo_uof:
        years = list(tables.DEMO_USE_OF_FORCE_YEARS)
    if not years:
        components.note(NO_DATA)
    else:
        _use_of_force(dataset, selection, years, demo_uof=demo_uof)
    _thorough(dataset, selection)


def _use_of_force(dataset: Dataset, selection: Selection, years: list[str], *, demo_uof: bool) -> None:
    st.caption(YEAR_NOTE)
    state.prepare("uof_year", years, years[-1])
    left, right = st.columns(2)
    left.selectbox("Financial year (use of force)", years, key="uof_year")
    year = st.session_state["uof_year"]
    reference = views.broad_reference(selection.reference)
    groups = [g for g in BROAD_GROUPS if g != reference]
    state.prepare("uof_group", groups, "Black" if "Black" in groups else groups[0])
    right.selectbox(f"Group compared with {reference} (officer-perceived)", groups, key="uof_group")
    group = st.session_state["uof_group"]
    build = tables.demo_use_of_force if demo_uof else tables.use_of_force

    def table_for(forces: str | tuple[str, ...]):  # noqa: ANN202 - a DataFrame
        return build(forces, year, reference=reference)

    # the forces the user chose in the sidebar (none = every force), not the selection restricted to
    # forces with stop-and-search months published in the sidebar's period: that period does not apply here
    spec = uofv.forces_spec(tuple(state.value("forces") or ()) or tuple(dataset.forces))
    view = uofv.choose_view(table_for, spec, year, selected=uofv.selected_area(spec))
    if demo_uof:
        st.caption(f"{DEMO_LABEL}: generated use-of-force reports for {year}, not police records.")
    elif dataset.demo:
        st.caption("The use-of-force figures below come from the stored use-of-force data, not the synthetic demo; "
                   "only the more-thorough-search section uses the demo records.")
    caveats = (f"Counts are {view.count_unit or 'use-of-force counts'}, not people or incidents; ethnicity is "
               "officer-perceived, residents' ethnicity (Census 2021) self-defined.",)
    # figures say what they describe (area and year, not the stop-and-search period) and carry the demo
    # label only when the use-of-force data are the synthetic demo, not because the records are
    uof_data = replace(dataset, demo=demo_uof)
    scope = uofv.UseOfForceScope(area=view.area, year=year, reference=reference)

    st.subheader(f"Handcuffing by perceived ethnicity: {view.area}, {year}")
    if view.national_only:
        st.warning(view.notice, icon=":material/public:")
    elif view.empty:
        components.note(view.notice)
    if not view.empty:
        _handcuffing(view, group, reference, dataset=uof_data, selection=scope, caveats=caveats)
        _tactics(view, dataset=uof_data, selection=scope, caveats=caveats, group=group)
    _every_force(view, table_for, year, group, reference, dataset=uof_data,
                 selection=replace(scope, area="Every force"), caveats=caveats)


def _handcuffing(view: uofv.UseOfForceView, group: str, reference: str, *, dataset: Dataset,
                 selection: uofv.UseOfForceScope, caveats: tuple[str, ...]) -> None:
    st.caption(f"Unit: {uofv.count_unit_of(view.rows, uofv.HANDCUFFING)} per 1,000 residents of the group "
               "(Census 2021), exact 95% intervals; "
               f"ratio = {group} rate / {reference} rate, Katz 95% interval.")
    for tactic in uofv.HANDCUFFING:
        name = uofv.tactic_label(tactic)
        cols = st.columns(3)
        with cols[0]:
            components.headline(f"{name}: {group} per 1,000", uofv.rate_headline(
                view.rows, tactic, group), key=f"uof_{tactic}_group")
        with cols[1]:
            components.headline(f"{name}: {reference} per 1,000", uofv.rate_headline(
                view.rows, tactic, reference), key=f"uof_{tactic}_reference")
        with cols[2]:
            components.headline(f"{name}: {group} vs {reference}", uofv.ratio_headline(
                view.rows, tactic, group, reference=reference), key=f"uof_{tactic}_ratio")
    sentence = uofv.handcuffing_sentence(view, group, reference=reference)
    if sentence:
        st.markdown(sentence)
    charts.use_of_force(view.rows, view.year, dataset=dataset, selection=selection, key="uof_handcuffing",
                        caveats=caveats, measure=uofv.RATE, tactics=uofv.HANDCUFFING, kind="use_of_force_handcuffing",
                        title=f"Handcuffing per 1,000 residents by perceived ethnicity: {view.area}, {view.year}")


def _tactics(view: uofv.UseOfForceView, *, dataset: Dataset, selection: uofv.UseOfForceScope, caveats: tuple[str, ...],
             group: str) -> None:
    st.subheader(f"Every tactic: {view.area}, {view.year}")
    state.prepare("uof_measure", list(view.measures), uofv.default_measure(view))
    st.radio("Unit", list(view.measures), key="uof_measure", horizontal=True, format_func=MEASURE_NAMES.get)
    measure = st.session_state["uof_measure"]
    st.caption(f"Unit: {view.count_unit}; {uofv.MEASURE_LABELS[measure]}. "
               + ("Shares of officer reports need each group's number of reports, which only record-level "
                  "files and the national tables give." if uofv.SHARE not in view.measures else ""))
    charts.use_of_force(view.rows, view.year, dataset=dataset, selection=selection, key="uof_tactics",
                        caveats=caveats, measure=measure)
    if measure == uofv.GROUP_SHARE:
        st.caption(uofv.share_caption(view, group, "compliant_handcuffing"))


def _every_force(view: uofv.UseOfForceView, table_for, year: str, group: str, reference: str, *,  # noqa: ANN001
                 dataset: Dataset, selection: uofv.UseOfForceScope, caveats: tuple[str, ...]) -> None:
    st.subheader(f"One tactic across every force, {year}")
    if view.national_only:
        components.note(f"Force figures by ethnicity are not published for {year}: only England and Wales as a "
                        "whole. Choose a later year to compare forces.")
        return
    try:
        everything = table_for("all")
    except StopSearchDataError as exc:
        components.note(f"No figures for every force in {year}: {exc}")
        return
    tactics = uofv.tactics_with_figures(everything.loc[everything["force"].ne("ALL")])
    if not tactics:
        components.note(f"No force has use-of-force figures per resident in {year} in this source.")
        return
    state.prepare("uof_tactic", tactics, tactics[0])
    st.selectbox("Tactic", tactics, key="uof_tactic", format_func=uofv.tactic_label)
    tactic = st.session_state["uof_tactic"]
    per_force = uofv.forces_table(everything, tactic, group=group, reference=reference)
    st.caption(f"{uofv.tactic_label(tactic)} per 1,000 residents of each group, by force; {group} vs {reference} "
               "ratio with its 95% interval. Click a column header to sort. An empty cell has no published "
               "figure (its reason is in Note), never zero.")
    st.dataframe(per_force.drop(columns=["force"]), hide_index=True, width="stretch", key="uof_forces_table")
    charts.use_of_force_forces(everything, per_force, tactic=tactic, group=group, reference=reference, year=year,
                               dataset=dataset, selection=selection, key="uof_forces", caveats=caveats)


def _thorough(dataset: Dataset, selection: Selection) -> None:
    st.subheader("More thorough searches (removal of more than outer clothing)")
    if not selection.forces:
        components.note("No stop-and-search records were published for the sidebar's forces in its period: "
                        "choose another period, or fetch those months on **Get data**.")
        return
    st.caption(f"From the stop-and-search records: {selection.describe()}")
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

