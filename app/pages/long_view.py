"""Long view: has it changed since 2015? Rates and ratios by financial year and rolling 12 months, each on
the Census its period calls for, with force coverage per year (a gap shows as coverage, never as a dip)."""
from __future__ import annotations

import streamlit as st

from analysis.selection import Selection
from app import components, long_view, state
from app.dataset import Dataset

EXPLAINER = """
**Has it changed since 2015?** Each financial year (April to March) and each 12-month window is divided by
the Census residents its last month calls for: Census 2011 up to 2019/20 and Census 2021 from 2020/21, as
the Home Office does (the dashed line marks the change, which is partly a change of denominator). The bars
below show what share of the chosen forces' months were published each year, so a gap is visible, never
read as a fall. The chosen forces are the sidebar's (every force when none is chosen), over every month
held, whatever the sidebar's period.
"""
MEASURES = {"rate": "Rate per 1,000", "ratio": "Ratio to the reference group"}


def render(dataset: Dataset, selection: Selection) -> None:
    st.title("Long view")
    components.explainer(EXPLAINER)  # the chart's own line names its forces, months and Censuses
    state.prepare("long_measure", list(MEASURES), "rate")
    st.segmented_control("Show", list(MEASURES), key="long_measure", format_func=MEASURES.get)
    long_view.show(dataset, selection, forces=tuple(st.session_state.get("forces") or dataset.forces),
                   measure=st.session_state["long_measure"] or "rate")
