"""Disparity: rates and ratios by group (broad or detailed), rolling 12-month trends, and search mix by group."""
from __future__ import annotations

from dataclasses import replace

import streamlit as st

from analysis import implausible, views
from analysis.selection import Selection
from app import charts, components, state, tables
from app.dataset import Dataset
from app.safe_text import markdown_text

EXPLAINER = """
**Rates and ratios for every group.** Switch between the five broad groups and the 19 Census groups in the
sidebar; the tabs show the rates and ratios, the trend, or the search mix. The trend shows each 12-month window ending at a month, so it starts only once twelve months
of data exist; by default it covers every month stored for the chosen forces. The search mix shows what searches of each group were for: a different mix (say, more
drugs searches) can explain part of a disparity, or be part of it.
"""
TREND_WINDOWS = {"stored": "Every stored month", "period": "The sidebar's period"}
TREND_MEASURES = {"rate": "Rate per 1,000", "ratio": "Ratio to the reference group"}
MIX_DIMENSIONS = {"legislation_group": "Legislation", "object_of_search": "Object of search",
                  "age_range": "Age range", "gender": "Gender"}


def render(dataset: Dataset, selection: Selection) -> None:
    st.title("Disparity")
    components.explainer(EXPLAINER)
    st.caption(markdown_text(selection.describe()))
    # one view at a time: a tab's charts are built and sent when it is chosen (four Plotly charts at once took
    # the browser ~0.6 s to draw on every visit)
    components.tabs({"Rates and ratios": lambda: _rates_and_ratios(dataset, selection),
                     "Trend": lambda: _trend(dataset, selection),
                     "Search mix": lambda: _mix(dataset, selection)}, key="disparity_view")


def _rates_and_ratios(dataset: Dataset, selection: Selection) -> None:
    rates = tables.table("rates", dataset, selection)
    disparity = tables.table("disparity", dataset, selection)
    charts.rates(rates, dataset=dataset, selection=selection, key="disparity_rates")
    charts.ratios(disparity, dataset=dataset, selection=selection, key="disparity_ratios")


def _trend(dataset: Dataset, selection: Selection) -> None:
    st.subheader("Trend: rolling 12 months")
    state.prepare("trend_window", list(TREND_WINDOWS), "stored")
    st.segmented_control("Months", list(TREND_WINDOWS), key="trend_window", format_func=TREND_WINDOWS.get)
    window = views.trend_window(views.months_available(dataset.manifest), selection,
                                choice=st.session_state["trend_window"] or "stored")
    trend_selection = replace(selection, start=window.start, end=window.end)
    st.caption(window.sentence)
    flagged = implausible.in_selection(tables.implausible_months(dataset), selection.forces, window.start,
                                       window.end)
    if len(flagged):
        components.note("Months out of line with their neighbours in this window (see Data quality): "
                        + "; ".join(flagged["reason"].head(5)) + ("; and more." if len(flagged) > 5 else "."))
    trend = tables.trend_table(dataset, trend_selection)
    if not views.has_rolling_points(trend):
        components.note(window.too_short)
    else:
        state.prepare("trend", list(TREND_MEASURES), "rate")
        st.segmented_control("Show", list(TREND_MEASURES), key="trend", format_func=TREND_MEASURES.get)
        charts.trend(trend, dataset=dataset, selection=tables.trend_selection(trend_selection), key="disparity_trend",
                     measure=st.session_state["trend"] or "rate")
    st.caption("By financial year since 2015, each year on its own Census, with force coverage per year: see the "
               "**Long view** page.")


def _mix(dataset: Dataset, selection: Selection) -> None:
    st.subheader("Search mix by group")
    state.prepare("mix", list(MIX_DIMENSIONS), "legislation_group")
    st.segmented_control("What the searches were for", list(MIX_DIMENSIONS), key="mix",
                         format_func=MIX_DIMENSIONS.get)
    mix = tables.table("mix", dataset, selection)
    charts.mix(mix, st.session_state["mix"] or "legislation_group", dataset=dataset, selection=selection,
               key="disparity_mix")
