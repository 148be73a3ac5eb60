"""Map: searches with a location, coloured by group, and the share with no location beside it."""
from __future__ import annotations

import streamlit as st

from analysis import views
from analysis.selection import Selection
from app import charts, components, tables
from app.dataset import Dataset

EXPLAINER = """
**Where searches happened.** Each point is a search with a location, coloured by the person's ethnic
group. Locations are anonymised by data.police.uk to a nearby street point, so many searches share one
point; searches with no location (at a police station, in transit, or not recorded) cannot be shown and
are counted beside the map. Large selections show a fixed random sample of points.
"""
COLUMNS = ("force", "month", "latitude", "longitude", "street", "self_defined_broad", "self_defined_group",
           "officer_defined_broad")
LIMIT = 20_000      # points drawn; more make the page slow to send and draw


def render(dataset: Dataset, selection: Selection) -> None:
    st.title("Map")
    components.explainer(EXPLAINER)
    st.caption(selection.describe())
    records = tables.selected(dataset, selection, COLUMNS)
    points, located, total = views.map_points(records, selection.group_column, limit=LIMIT)

    left, right = st.columns(2)
    with left:
        components.headline("Searches with no location (not on the map)",
                            views.no_location_headline(located, total), key="metric_no_location")
    with right:
        components.headline("Searches on the map", views.map_sample_headline(len(points), located),
                            key="metric_on_map")
    charts.map(points, dataset=dataset, selection=selection, key="map_points")
