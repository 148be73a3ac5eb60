"""Thin cached wrappers around the analysis tables: one entry per (dataset, selection, table kind).

The records are never hashed: the dataset key names them. Filtering (`analysis.selection.select`) runs
outside the load cache, once per new selection; results are small tables, so cache hits are cheap.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pandas as pd
import streamlit as st

from analysis.rates import disparity, not_stated_summary, rates
from analysis.selection import Selection, select
from app.dataset import Dataset

KINDS: dict[str, Callable[[pd.DataFrame, Selection], Any]] = {
    "rates": rates,
    "disparity": disparity,
    "not_stated": not_stated_summary,
}


@st.cache_data(show_spinner=False, max_entries=512)
def _compute(kind: str, dataset_key: str, selection: Selection, _records: pd.DataFrame) -> Any:
    return KINDS[kind](select(_records, selection), selection)


def table(kind: str, dataset: Dataset, selection: Selection) -> Any:
    """The analysis table `kind` for the selection, computed once per dataset and selection."""
    return _compute(kind, dataset.key, selection, dataset.records)


@st.cache_data(show_spinner=False, max_entries=64)
def _selected(dataset_key: str, selection: Selection, _records: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    return select(_records, selection).loc[:, list(columns)]


def selected(dataset: Dataset, selection: Selection, columns: tuple[str, ...]) -> pd.DataFrame:
    """The selected records, only the columns a page needs (the map, for one)."""
    return _selected(dataset.key, selection, dataset.records, columns)


def every_force(dataset: Dataset, selection: Selection) -> Selection:
    """The same selection over every force in the data (for comparing forces)."""
    return replace(selection, forces=tuple(dataset.forces))
