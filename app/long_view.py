"""The long view on the Disparity page: financial-year and rolling 12-month rates and ratios since 2015,
each period on its own Census, with force coverage per year (analysis.long_trend), cached per selection."""
from __future__ import annotations

from dataclasses import replace

import streamlit as st

from analysis import views
from analysis.figures.long_trend_chart import long_trend_figure
from analysis.long_trend import FIRST_MONTH, LongTrend, long_trend
from analysis.selection import Selection
from app import components, tables
from app.dataset import Dataset

CAVEAT = ("Each financial year and 12-month window is divided by the Census its last month calls for (auto: "
          "Census 2011 up to 2019/20, Census 2021 from 2020/21, as the Home Office): the step at the dashed "
          "line is partly the change of denominator. A force that published no month of a period is left out "
          "of it; one that missed months counts its residents for the months it published.")


@st.cache_data(show_spinner="Computing the long view...", max_entries=16)
def _long(dataset_key: str, selection: Selection, _dataset: Dataset) -> LongTrend:
    # every month of the chosen forces: counted records (or, with filters, only the columns the counts read)
    return long_trend(tables.counted(_dataset, selection), selection,
                      months_available=views.months_available(_dataset.manifest))


def long_table(dataset: Dataset, long: Selection) -> LongTrend:
    """The long trend for `long` (see long_selection), cached per dataset and selection."""
    return _long(dataset.key, long, dataset)


def long_selection(dataset: Dataset, selection: Selection, forces: tuple[str, ...]) -> Selection | None:
    """The selection over every month held from 2015 (None when fewer than 12 months are held)."""
    months = [m for m in dataset.months if m >= FIRST_MONTH]
    if len(months) < 12:
        return None
    return replace(selection, forces=forces, start=months[0], end=months[-1], months_published=())


def show(dataset: Dataset, selection: Selection, *, forces: tuple[str, ...], measure: str) -> None:
    """The long-trend chart (or a note saying why there is none)."""
    long = long_selection(dataset, selection, forces)
    if long is None:
        components.note("The long view needs at least 12 months of data from 2015 on; the data hold "
                        f"{len(dataset.months)} month(s).")
        return
    result = long_table(dataset, long)
    fig = long_trend_figure(result.periods, result.coverage, measure=measure, demo=dataset.demo)
    components.chart_with_downloads(fig, result.periods, key="disparity_long_trend", dataset=dataset,
                                    selection=result.selection, title=fig.layout.title.text, caveats=(CAVEAT,))
