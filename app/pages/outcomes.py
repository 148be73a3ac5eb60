"""Outcomes: outcome mix by group, arrest and find rates with intervals, tests in plain words, the caveat."""
from __future__ import annotations

import streamlit as st

from analysis import views
from analysis.selection import Selection
from app import charts, components, state, tables
from app.dataset import Dataset
from app.safe_text import markdown_text

EXPLAINER = """
**What happened after the search.** The share of searches of each group that ended in arrest, no further
action or another outcome, and the *find rate*: how often the outcome was linked to what the officer
was looking for. Searches with no recorded outcome are left out of the shares and counted.
"""


def render(dataset: Dataset, selection: Selection) -> None:
    st.title("Outcomes")
    components.explainer(EXPLAINER)
    st.caption(markdown_text(selection.describe()))
    result = tables.table("outcomes", dataset, selection)

    groups = [g for g in views.comparison_groups(result.outcomes) if g != selection.reference]
    state.prepare("group", groups, views.default_group(groups))
    group = st.session_state["group"]
    arrest = views.outcome_row(result.outcomes, group, "Arrest")
    reference_arrest = views.outcome_row(result.outcomes, selection.reference, "Arrest")
    left, middle, right = st.columns(3)
    with left:
        components.headline(f"{group}: searches ending in arrest",
                            views.share_headline(arrest, numerator="count", denominator="total",
                                                 what="searches with a recorded outcome"), key="metric_arrest")
    with middle:
        components.headline(f"{selection.reference}: searches ending in arrest",
                            views.share_headline(reference_arrest, numerator="count", denominator="total",
                                                 what="searches with a recorded outcome"),
                            key="metric_reference_arrest")
    with right:
        components.headline(f"{group}: find rate",
                            views.share_headline(views.group_row(result.find_rate, group), numerator="found",
                                                 denominator="recorded", what="searches where it is recorded"),
                            key="metric_find")
    st.selectbox("Group compared with the reference", groups, key="group")
    components.fallback_note("group")

    charts.outcomes(result.outcomes, dataset=dataset, selection=selection, key="outcomes_mix",
                    caveats=(result.caveat,))
    charts.arrest(result.outcomes, dataset=dataset, selection=selection, key="outcomes_arrest",
                  caveats=(result.caveat,))
    charts.find_rate(result.find_rate, dataset=dataset, selection=selection, key="outcomes_find",
                     caveats=(result.caveat,))

    st.subheader("Are the differences larger than chance?")
    st.markdown("\n".join(f"- {s}" for s in views.plain_tests(result.pairwise, group=group)))
    with st.expander("Every group against the reference"):
        st.markdown("\n".join(f"- {s}" for s in views.plain_tests(result.pairwise)))
    st.warning(result.caveat, icon=":material/warning:")
