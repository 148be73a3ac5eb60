"""Overview: searches, rates per 1,000 by group, the headline disparity ratio, share not stated, coverage."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis import views
from analysis.selection import Selection
from app import charts, components, state, tables
from app.dataset import Dataset
from app.safe_text import markdown_text

EXPLAINER = """
**How often are people in each ethnic group stopped and searched, for every 1,000 residents of that group?**
A *disparity ratio* divides one group's rate by the reference group's: 3x means three times as many
searches per resident. {definition} every number has a 95% confidence interval and the count behind it.
"""
SELF_DEFINED = ("Rates use the ethnicity people gave (self-defined) and Census residents, as official "
                "statistics do;")
OFFICER_DEFINED = ("These rates use the ethnicity the officer saw (officer-defined), divided by Census residents "
                   "who described themselves: compare them with the self-defined figures, not on their own;")


def render(dataset: Dataset, selection: Selection) -> None:
    st.title("Overview")
    components.explainer(EXPLAINER.format(
        definition=OFFICER_DEFINED if selection.ethnicity == "officer" else SELF_DEFINED))
    st.caption(markdown_text(selection.describe()))
    pooled = views.pooled_sentence(selection)
    if pooled:
        st.caption(pooled)

    rates = tables.table("rates", dataset, selection)
    cells = views.coverage(dataset.manifest, selection.forces, selection.months)
    headlines, chart = st.container(), st.container()
    with chart:  # drawn below the numbers but sent before them: the browser loads and runs its charting
        # script (~0.9 s without a GPU) while the server works the numbers out (first page: 0.3 s sooner)
        charts.rates(rates, dataset=dataset, selection=selection, key="overview_rates")
    with headlines:
        _headlines(dataset, selection, rates, cells)

    gaps = views.coverage_gaps(cells)
    if len(gaps):
        with components.fold(f"Force-months without data in this selection ({len(gaps)})",
                             key="overview_gaps_fold") as shown:
            if shown:
                st.dataframe(gaps, hide_index=True, width="stretch", key="overview_gaps")


def _headlines(dataset: Dataset, selection: Selection, rates: pd.DataFrame, cells: pd.DataFrame) -> None:
    """The compared group, the headline numbers with their intervals and the sentence in words."""
    disparity = tables.table("disparity", dataset, selection)
    not_stated = tables.table("not_stated", dataset, selection)
    summary = views.coverage_summary(cells)

    groups = views.comparison_groups(disparity)
    state.prepare("group", groups, views.default_group(groups))
    st.selectbox("Group compared with the reference", groups, key="group")
    group = st.session_state["group"]
    components.fallback_note("group")

    ratio, group_rate, reference_rate = st.columns(3)
    with ratio:
        components.headline(f"{group} vs {selection.reference}: disparity ratio",
                            views.ratio_headline(views.group_row(disparity, group)), key="metric_ratio")
    with group_rate:
        components.headline(f"{group}: searches per 1,000 a year",
                            views.rate_headline(views.group_row(rates, group)), key="metric_group_rate")
    with reference_rate:
        components.headline(f"{selection.reference}: searches per 1,000 a year",
                            views.rate_headline(views.group_row(rates, selection.reference)),
                            key="metric_reference_rate")
    sentence = views.headline_sentence(views.group_row(disparity, group), views.group_row(rates, group),
                                       views.group_row(rates, selection.reference), selection)
    if sentence:
        st.markdown("**In words** (ready to copy):")
        st.markdown(markdown_text(sentence))   # a plain paragraph: Streamlit's quote style fades its text
        # a code block's copy button costs the first page ~0.3 s in the browser (its highlighter's script
        # is loaded and run before the chart's): it is built when asked for
        with components.fold("As plain text, with a copy button", key="overview_sentence_fold") as shown:
            if shown:
                st.code(sentence, language=None, wrap_lines=True)
    searches, unstated, coverage = st.columns(3)
    with searches:
        components.headline("Searches of persons", views.searches_headline(not_stated, selection),
                            key="metric_searches")
    with unstated:
        components.headline("Ethnicity not stated", views.not_stated_headline(not_stated), key="metric_not_stated")
    with coverage:
        components.headline("Data coverage", views.coverage_headline(summary), key="metric_coverage")
