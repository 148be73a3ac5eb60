"""Each chart on the dashboard: an analysis table through its analysis.figures builder, then
`components.chart_with_downloads` (the chart, its table and its downloads)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from analysis.selection import Selection
from app.dataset import Dataset


def _table(table: pd.DataFrame, *, key: str, **_: Any) -> None:
    st.dataframe(table, hide_index=True, width="stretch", key=f"{key}_table")


def rates(table: pd.DataFrame, *, dataset: Dataset, selection: Selection, key: str) -> None:
    _table(table, key=key)


def ratios(table: pd.DataFrame, *, dataset: Dataset, selection: Selection, key: str) -> None:
    _table(table, key=key)


def trend(table: pd.DataFrame, *, dataset: Dataset, selection: Selection, key: str) -> None:
    _table(table, key=key)


def mix(table: pd.DataFrame, dimension: str, *, dataset: Dataset, selection: Selection, key: str) -> None:
    _table(table.loc[table["dimension"].eq(dimension)], key=key)


def outcomes(table: pd.DataFrame, *, dataset: Dataset, selection: Selection, key: str,
             caveats: Sequence[str] = ()) -> None:
    _table(table, key=key)


def find_rate(table: pd.DataFrame, *, dataset: Dataset, selection: Selection, key: str,
              caveats: Sequence[str] = ()) -> None:
    _table(table, key=key)


def thorough(table: pd.DataFrame, *, dataset: Dataset, selection: Selection, key: str,
             caveats: Sequence[str] = ()) -> None:
    _table(table, key=key)


def forest(table: pd.DataFrame, group: str, *, dataset: Dataset, selection: Selection, key: str,
           on_select: Callable[[], None] | None = None) -> None:
    _table(table.loc[table["group"].eq(group)], key=key)


def funnel(table: pd.DataFrame, group: str, *, dataset: Dataset, selection: Selection, key: str,
           on_select: Callable[[], None] | None = None) -> None:
    _table(table.loc[table["group"].eq(group)], key=key)


def use_of_force(table: pd.DataFrame, *, dataset: Dataset, selection: Selection, key: str) -> None:
    _table(table, key=key)


def coverage(cells: pd.DataFrame, *, dataset: Dataset, selection: Selection, key: str) -> None:
    _table(cells, key=key)


def agreement(table: pd.DataFrame, *, dataset: Dataset, selection: Selection, key: str) -> None:
    _table(table, key=key)


def map(points: pd.DataFrame, *, dataset: Dataset, selection: Selection, key: str) -> None:  # noqa: A001
    st.map(points, latitude="latitude", longitude="longitude")
