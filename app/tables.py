"""Thin cached wrappers around the analysis tables: one entry per (dataset, selection, table kind).

The records are never hashed: the dataset key names them. Filtering (`analysis.selection.select`) runs
outside the load cache, once per table and new selection; results are small tables, so cache hits are cheap.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pandas as pd
import streamlit as st

from analysis.compare import compare
from analysis.mix import mix
from analysis.outcomes import analyse_outcomes
from analysis.quality import agreement
from analysis.rates import disparity_from_rates, not_stated_summary, rates
from analysis.selection import Selection, select
from analysis.thorough import thorough
from analysis.trend import trend
from app.dataset import Dataset

KINDS: dict[str, Callable[[pd.DataFrame, Selection], Any]] = {
    "rates": rates,
    "not_stated": not_stated_summary,
    "trend": trend,
    "compare": compare,
    "outcomes": analyse_outcomes,
    "thorough": thorough,
    "mix": mix,
    "agreement": agreement,
}


@st.cache_data(show_spinner=False, max_entries=512)
def _compute(kind: str, dataset_key: str, selection: Selection, _records: pd.DataFrame) -> Any:
    if kind == "disparity":
        # the numbers of analysis.rates.disparity, from the rates table already cached (one count, not two)
        base = _compute("rates", dataset_key, selection, _records)
        return disparity_from_rates(base, reference=selection.reference, months=selection.n_months)
    return KINDS[kind](select(_records, selection), selection)


def table(kind: str, dataset: Dataset, selection: Selection) -> Any:
    """The analysis table `kind` for the selection, computed once per dataset and selection."""
    return _compute(kind, dataset.key, selection, dataset.records)


@st.cache_data(show_spinner=False, max_entries=16)
def _selected(dataset_key: str, selection: Selection, _records: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    return select(_records, selection).loc[:, list(columns)]


def selected(dataset: Dataset, selection: Selection, columns: tuple[str, ...]) -> pd.DataFrame:
    """The selected records, only the columns a page needs (the map, for one)."""
    return _selected(dataset.key, selection, dataset.records, columns)


def every_force(dataset: Dataset, selection: Selection) -> Selection:
    """The same selection over every force in the data (for comparing forces)."""
    return replace(selection, forces=tuple(dataset.forces))
