"""Disparity: rates and ratios by group (broad or detailed), rolling 12-month trends, and search mix by group."""
from __future__ import annotations

import streamlit as st

from analysis.selection import Selection
from app import charts, components, state, tables
from app.dataset import Dataset

EXPLAINER = """
**Rates and ratios for every group.** Switch between the five broad groups and the 19 Census groups in the
sidebar. The trend shows each 12-month window ending at a month, so it starts only once twelve months
of data exist. The search mix shows what searches of each group were for: a different mix (say, more
drugs searches) can explain part of a disparity, or be part of it.
"""
MIX_DIMENSIONS = {"legislation_group": "Legislation", "object_of_search": "Object of search",
                  "age_range": "Age range", "gender": "Gender"}


def render(dataset: Dataset, selection: Selection) -> None:
    st.title("Disparity")
    components.explainer(EXPLAINER)
    st.caption(selection.describe())

    rates = tables.table("rates", dataset, selection)
    disparity = tables.table("disparity", dataset, selection)

    st.subheader("Rates and ratios")
    charts.rates(rates, dataset=dataset, selection=selection, key="disparity_rates")
    charts.ratios(disparity, dataset=dataset, selection=selection, key="disparity_ratios")

    st.subheader("Trend: rolling 12 months")
    trend = tables.trend_table(dataset, selection)
    if selection.n_months < 12:
        components.note(f"The selection covers {selection.n_months} months: a rolling 12-month rate needs at "
                        "least 12. Widen the period in the sidebar to see the trend; monthly searches are "
                        "shown below.")
    charts.trend(trend, dataset=dataset, selection=selection, key="disparity_trend")

    st.subheader("Search mix by group")
    state.prepare("mix", list(MIX_DIMENSIONS), "legislation_group")
    st.segmented_control("What the searches were for", list(MIX_DIMENSIONS), key="mix",
                         format_func=MIX_DIMENSIONS.get)
    mix = tables.table("mix", dataset, selection)
    charts.mix(mix, st.session_state["mix"] or "legislation_group", dataset=dataset, selection=selection,
               key="disparity_mix")
