"""methods page (being built)."""
from __future__ import annotations

import streamlit as st

from analysis.selection import Selection
from app.dataset import Dataset


def render(dataset: Dataset, selection: Selection) -> None:
    st.title("methods")
