"""Map: force choropleth (click a force to drill in), then one force's districts with honest uncertainty."""
from __future__ import annotations

from dataclasses import replace

import streamlit as st

from analysis import views
from analysis.columns_read import COLUMNS_READ
from analysis.districts import (
    disparity_from_district_rates,
    district_counts,
    location_summary,
    rates_from_district_counts,
)
from analysis.figures.maps import district_funnel_figure, district_map_figure, force_map_figure
from analysis.selection import Selection
from app import charts, components, state, tables
from app.dataset import Dataset
from app.safe_text import markdown_text
from data import reference_data
from data.store import Store

EXPLAINER = """
**Where searches happen, and where disparity is.** The first map colours each police force area by one
group's search rate per 1,000 residents, or by its ratio to the reference group, for the period and filters
in the sidebar. **Click a force** (or choose one below) to see its local authority districts: each located
search is placed in the district its point falls in, and rates per 1,000 are shown with their 95% intervals
beside a *shrunk* rate that borrows strength from the force's other districts, so that small districts do
not top the map by chance.
"""
CAVEATS = (
    "Residents are not the population at risk: city centres, stations and night-time economies draw visitors "
    "who are searched but not counted as residents, so central districts' resident rates run high.",
    "Points are anonymised by data.police.uk to a nearby 'snap point'; a search near a district border can "
    "be placed on the wrong side.",
    "Boundaries are ONS generalised boundaries (~500 m), simplified further at 100 m.",
    "District rates count only searches with a location; searches with no location are counted apart and "
    "shown as the 'if spread in proportion' rate.",
)
MEASURES = {"rate": "Rate per 1,000 residents", "ratio": "Disparity ratio (to the reference group)"}
DISTRICT_MEASURES = {"rate": "Rate per 1,000 (raw)", "shrunk": "Rate per 1,000 (shrunk)",
                     "ratio": "Disparity ratio"}
POINT_COLUMNS = ("force", "month", "latitude", "longitude", "street", "self_defined_broad", "self_defined_group",
                 "officer_defined_broad")
POINT_LIMIT = 20_000
TABLE_COLUMNS = ["district_name", "group", "searches", "population", "rate_per_1000", "ci_low", "ci_high",
                 "shrunk_rate_per_1000", "rate_if_unlocated_spread", "no_location_share", "funnel_flag", "flags"]


@st.cache_data(show_spinner="Placing searches in districts (once per stored month)...", max_entries=32)
def _district_counts(dataset_key: str, selection: Selection, _dataset: Dataset):  # noqa: ANN202
    store = None if _dataset.demo else Store(_dataset.root)
    return district_counts(tables.records(_dataset, selection, COLUMNS_READ["districts"](selection)), selection,
                           store=store)


def _drill(force: str) -> None:
    """Narrow the app to one force and stay on the map (its district view)."""
    state.drilled()
    state.set_value("forces", [force])
    st.session_state["map_drill"] = None
    state.go_to("map")


def _drill_from_chart(key: str, forces: list[str]) -> None:
    event = st.session_state.get(key) or {}
    force = views.force_from_points(event.get("selection", {}).get("points", []), forces)
    if force:
        _drill(force)


def _drill_from_selectbox() -> None:
    force = st.session_state.get("map_drill")
    if force:
        _drill(force)


def _force_map(dataset: Dataset, selection: Selection, group: str, measure: str) -> None:
    everyone = tables.every_force(dataset, selection)
    table = tables.table("compare" if measure == "ratio" else "rates", dataset, everyone)
    fig = force_map_figure(table, group=group, measure=measure, reference=selection.reference, demo=dataset.demo)
    forces = list(dataset.forces)
    key = state.chart_key("map_forces")
    components.chart_with_downloads(fig, table, key=key, dataset=dataset, selection=everyone,
                                    title=fig.layout.title.text, caveats=CAVEATS[:1],
                                    on_select=lambda: _drill_from_chart(key, forces))


def _district_view(dataset: Dataset, selection: Selection, force: str, group: str) -> None:
    name = reference_data.force_name(force)
    st.subheader(f"Districts of {name}")
    one = replace(selection, forces=(force,))
    counts = _district_counts(dataset.key, one, dataset)
    summary = location_summary(counts)
    if not len(summary):
        st.info(f"{name} has no local authority districts of its own (no resident force area), so there is no "
                "district view. Choose a territorial force.", icon=":material/info:")
        return
    row = summary.iloc[0]
    left, right = st.columns(2)
    with left:
        placed = views.Headline(views.fmt_count(row["in_districts"]), "a count: no interval",
                                f"of {views.fmt_count(row['searches_of_persons'])} searches of persons",
                                "placed by the district their point falls in")
        components.headline("Searches placed in a district", placed, key="metric_in_districts")
    with right:
        components.headline("Searches with no location (not in any district)", views.no_location_headline(
            int(row["searches_of_persons"] - row["no_location"]), int(row["searches_of_persons"])),
            key="metric_no_location")
    if row["outside_force"]:
        st.caption(f"{int(row['outside_force']):,} located searches fall outside {name}'s districts (a "
                   "neighbouring area or a point off a generalised coast) and are left out of district rates.")
    if row["in_districts"] == 0:
        why = ("none of its searches of persons in the selection has a location" if row["searches_of_persons"]
               else "it has no searches of persons in the selection")
        st.warning(f"No district figures for {markdown_text(name)}: {why}. data.police.uk publishes some forces' months "
                   "without coordinates (South Yorkshire's recent months, for one), so a district map would be "
                   "empty, not zero. Choose another period or force; force-level rates are on Overview.",
                   icon=":material/location_off:")
        return
    rates = rates_from_district_counts(counts)
    disparity = disparity_from_district_rates(rates, reference=selection.reference, months=one.n_months)
    state.prepare("map_district_measure", list(DISTRICT_MEASURES), "rate")
    st.radio("Colour districts by", list(DISTRICT_MEASURES), key="map_district_measure", horizontal=True,
             format_func=DISTRICT_MEASURES.get)
    measure = st.session_state["map_district_measure"]
    if measure == "ratio" and group == selection.reference:
        st.info("The group shown is the reference group: its ratio is 1 everywhere. Choose another group.")
        return
    table = disparity if measure == "ratio" else rates
    fig = district_map_figure(table, force=force, group=group, measure=measure, reference=selection.reference,
                              demo=dataset.demo)
    components.chart_with_downloads(fig, table.loc[table["force"].eq(force)], key="map_districts",
                                    dataset=dataset, selection=one, title=fig.layout.title.text, caveats=CAVEATS)
    funnel = district_funnel_figure(rates, force=force, group=group, demo=dataset.demo)
    components.chart_with_downloads(funnel, rates.loc[rates["group"].eq(group)], key="map_district_funnel",
                                    dataset=dataset, selection=one, title=funnel.layout.title.text,
                                    caveats=CAVEATS)
    shown = rates.loc[rates["group"].eq(group), TABLE_COLUMNS]
    st.dataframe(shown, hide_index=True, width="stretch", key="map_district_table")
    st.caption("Shrunk rate: Poisson-Gamma empirical Bayes within the force (method of moments): a small "
               "district's rate is pulled towards the force's located rate in proportion to its uncertainty. "
               "'If spread': the force's no-location searches of the group shared among districts in "
               "proportion to their located searches. Flags are a reason to look closer, not a finding.")


def _points(dataset: Dataset, selection: Selection) -> None:
    # drawn only when asked: up to 20,000 points take seconds to build and to draw in the browser
    st.toggle("Show where searches happened (points on a street map)", key="map_show_points",
              help=f"Up to {POINT_LIMIT:,} located searches of the selection as points (a fixed random sample of "
                   "larger selections), each anonymised to a nearby street by data.police.uk.")
    if not st.session_state.get("map_show_points"):
        return
    records = tables.selected(dataset, selection, POINT_COLUMNS)
    points, located, total = views.map_points(records, selection.group_column, limit=POINT_LIMIT)
    st.caption(f"{views.no_location_headline(located, total).value} with no location. Large selections "
               "show a fixed random sample of points.")
    charts.map(points, dataset=dataset, selection=selection, key="map_points")


def render(dataset: Dataset, selection: Selection) -> None:
    st.title("Map")
    components.explainer(EXPLAINER)
    st.caption(markdown_text(selection.describe()))
    groups = [g for g in views.reference_options(selection.level) if g]
    state.prepare("map_choice_group", groups, "Black" if "Black" in groups else groups[0])
    state.prepare("map_measure", list(MEASURES), "rate")
    left, right = st.columns(2)
    left.selectbox("Group", groups, key="map_choice_group")
    right.radio("Colour forces by", list(MEASURES), key="map_measure", format_func=MEASURES.get, horizontal=True)
    group, measure = st.session_state["map_choice_group"], st.session_state["map_measure"]
    if measure == "ratio" and group == selection.reference:
        st.info(f"{group} is the reference group: its ratio is 1 everywhere. Choose another group for ratios.")
    else:
        _force_map(dataset, selection, group, measure)
    forces = [f for f in dataset.forces if reference_data.has_residents(f)]
    st.selectbox("Show the districts of one force", forces, index=None, key="map_drill",
                 format_func=reference_data.force_name, placeholder="Choose a force (or click one on the map)...",
                 on_change=_drill_from_selectbox)
    if len(selection.forces) == 1:
        _district_view(dataset, selection, selection.forces[0], group)
    else:
        st.info("District figures are shown for one force at a time: click a force on the map or choose one "
                "above.", icon=":material/info:")
    _points(dataset, selection)
