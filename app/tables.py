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

from analysis import views
from analysis.columns_read import COLUMNS_READ
from analysis.compare import compare, funnel_curve
from analysis.coverage import restrict_to_published
from analysis.mix import mix
from analysis.outcomes import analyse_outcomes
from analysis.quality import agreement, quality
from analysis.rates import (
    count,
    count_columns,
    disparity_from_rates,
    not_stated_from_counts,
    rates_from_counts,
)
from analysis.selection import Selection, select
from analysis.thorough import thorough
from analysis.trend import by_period_census, census_spans, trend
from analysis.use_of_force import (
    SOURCES,
    _resolve,
    caveats,
    check_reference,
    table_from_reports,
    use_of_force_table,
)
from app.dataset import Dataset
from data.demo import DEMO_SOURCE
from data.demo_use_of_force import DEMO_YEAR, demo_use_of_force_reports
from data.schema import unknown_labels
from data.store import Store
from data.use_of_force import vocab as uof_vocab
from data.use_of_force.store import UseOfForceStore

KINDS: dict[str, Callable[[pd.DataFrame, Selection], Any]] = {
    "compare": compare,
    "outcomes": analyse_outcomes,
    "thorough": thorough,
    "mix": mix,
    "agreement": agreement,
}
COUNTED_KINDS = frozenset({"compare"})  # made from analysis.rates.count alone: counted records will do


def records(dataset: Dataset, selection: Selection, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The records of the selection's forces and months that pass its filters (every column, or `columns`
    with what the filters need), read from the store only for this selection."""
    if columns is not None:
        columns = tuple(dict.fromkeys(("force", "month", *columns, *(c for c, _ in selection.filters))))
    return select(dataset.records_for(selection.forces, tuple(selection.months), columns), selection)


def counted(dataset: Dataset, selection: Selection) -> pd.DataFrame:
    """What analysis.rates.count needs for the selection: the counted records kept with the store when no
    record filter is set (a tenth of a second for ten national years), else the records' columns."""
    if not selection.filters:
        counts = dataset.counts_for(selection.forces, tuple(selection.months))
        if counts is not None:
            return counts
    return records(dataset, selection, count_columns(selection))


@st.cache_data(show_spinner="Computing the tables for this selection...", max_entries=512)
def _compute(kind: str, dataset_key: str, selection: Selection, _dataset: Dataset) -> Any:
    # rates, the not-stated summary and disparity are made from one count of the records (the same
    # numbers as analysis.rates.rates / not_stated_summary / disparity, counted once, not three times)
    if kind == "counts":
        return count(counted(_dataset, selection), selection)
    if kind == "rates":
        return rates_from_counts(_compute("counts", dataset_key, selection, _dataset), months=selection.n_months)
    if kind == "not_stated":
        return not_stated_from_counts(_compute("counts", dataset_key, selection, _dataset))
    if kind == "disparity":
        base = _compute("rates", dataset_key, selection, _dataset)
        return disparity_from_rates(base, reference=selection.reference, months=selection.n_months)
    if kind in COUNTED_KINDS:
        return KINDS[kind](counted(_dataset, selection), selection)
    return KINDS[kind](records(_dataset, selection, COLUMNS_READ[kind](selection)), selection)


def table(kind: str, dataset: Dataset, selection: Selection) -> Any:
    """The analysis table `kind` for the selection, computed once per dataset and selection."""
    return _compute(kind, dataset.key, selection, dataset)


@st.cache_data(show_spinner=False, max_entries=16)
def _selected(dataset_key: str, selection: Selection, _dataset: Dataset, columns: tuple[str, ...]) -> pd.DataFrame:
    return records(_dataset, selection, columns).loc[:, list(columns)]


def selected(dataset: Dataset, selection: Selection, columns: tuple[str, ...]) -> pd.DataFrame:
    """The selected records, only the columns a page needs (the map, for one)."""
    return _selected(dataset.key, selection, dataset, columns)


def every_force(dataset: Dataset, selection: Selection) -> Selection:
    """The same selection over every force with published months in the period (for comparing forces)."""
    everything = replace(selection, forces=tuple(dataset.forces))
    covered = restrict_to_published(everything, dataset.manifest).selection
    return covered if covered.forces else everything


def use_of_force_years() -> list[str]:
    """Financial years with any use-of-force data in the store (newest last)."""
    store = UseOfForceStore()
    return sorted({year for source in SOURCES for year in store.years(source)})


@st.cache_data(show_spinner=False, max_entries=32)
def _use_of_force(forces: tuple[str, ...] | str, year: str, reference: str, root: str, signature: str) -> pd.DataFrame:
    return use_of_force_table(forces if isinstance(forces, str) else list(forces), year, store_root=root,
                              reference=reference)


def use_of_force(forces: tuple[str, ...] | str, year: str, *, reference: str) -> pd.DataFrame:
    """The use-of-force table (cached until the use-of-force store changes)."""
    store = UseOfForceStore()
    try:
        stat = store.manifest_path.stat()
        signature = f"{stat.st_mtime_ns}-{stat.st_size}"
    except OSError:
        signature = "none"
    return _use_of_force(forces, year, reference, str(store.root), signature)


DEMO_USE_OF_FORCE_YEARS = [DEMO_YEAR]


@st.cache_data(show_spinner="Computing the synthetic demo use-of-force table...", max_entries=32)
def demo_use_of_force(forces: tuple[str, ...] | str, year: str, *, reference: str) -> pd.DataFrame:
    """The use-of-force table from the synthetic demo reports (only while the app shows the demo and the
    use-of-force store is empty), built exactly as use_of_force_table builds it from stored reports."""
    ids, pooled = _resolve(forces if isinstance(forces, str) else list(forces))
    table = table_from_reports(demo_use_of_force_reports(), forces=ids, year=year, pooled=pooled,
                               reference=check_reference(reference), source=DEMO_SOURCE)
    table.attrs["unit"] = uof_vocab.UNIT
    table.attrs["caveats"] = caveats(table)
    return table


@st.cache_data(show_spinner=False, max_entries=64)
def _trend(dataset_key: str, selection: Selection, _dataset: Dataset) -> pd.DataFrame:
    return trend(counted(_dataset, selection), selection, months_available=views.months_available(_dataset.manifest))


def trend_table(dataset: Dataset, selection: Selection) -> pd.DataFrame:
    """analysis.trend.trend for the selection; the manifest tells a month with no searches from a gap. With
    the Census on auto, windows ending up to 2019/20 divide by Census 2011 and later ones by Census 2021."""
    if selection.census == "auto" and len(trend_selection(selection).census_years) > 1:
        # each Census's trend over only the windows it serves (analysis.trend.census_spans): half the work
        return by_period_census({census: _trend(dataset.key, replace(selection, census=census, start=first, end=last),
                                                dataset)
                                 for census, (first, last) in census_spans(selection.start, selection.end).items()})
    return _trend(dataset.key, selection, dataset)


def trend_selection(selection: Selection) -> Selection:
    """The selection a rolling trend describes: its Census follows each window's end (per period)."""
    return replace(selection, per_period_census=True)


@st.cache_data(show_spinner=False, max_entries=64)
def _quality(dataset_key: str, selection: Selection, _dataset: Dataset) -> pd.DataFrame:
    return quality(records(_dataset, selection, COLUMNS_READ["quality"](selection)), selection,
                   manifest=_dataset.manifest)


def quality_table(dataset: Dataset, selection: Selection) -> pd.DataFrame:
    """analysis.quality.quality for the selection, with the manifest's month statuses."""
    return _quality(dataset.key, selection, dataset)


@st.cache_data(show_spinner=False, max_entries=4)
def _unknown_labels(dataset_key: str, _dataset: Dataset) -> pd.DataFrame:
    if _dataset.records is not None:
        return unknown_labels(_dataset.records)
    return Store(_dataset.root).unknown_labels()  # from the label counts kept with the store


def unknown_labels_table(dataset: Dataset) -> pd.DataFrame:
    """Raw labels no mapping table knows, with how many records carry each (whole dataset)."""
    return _unknown_labels(dataset.key, dataset)


def funnel(dataset: Dataset, selection: Selection) -> pd.DataFrame:
    """The funnel plot's control-limit curves for the compare table of the selection."""
    return _funnel(dataset.key, selection, dataset)


@st.cache_data(show_spinner=False, max_entries=64)
def _funnel(dataset_key: str, selection: Selection, _dataset: Dataset) -> pd.DataFrame:
    return funnel_curve(_compute("compare", dataset_key, selection, _dataset))


@st.cache_data(show_spinner=False, max_entries=4)
def _implausible(dataset_key: str, _manifest: pd.DataFrame) -> pd.DataFrame:
    from analysis.implausible import implausible_months

    return implausible_months(_manifest)


def implausible_months(dataset: Dataset) -> pd.DataFrame:
    """Force-months whose record count is out of line with the force's months around them (whole store)."""
    return _implausible(dataset.key, dataset.manifest)
