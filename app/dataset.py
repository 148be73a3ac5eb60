"""Which records the app shows, loaded once and cached: the local store when it holds data, else the demo.

Demo and real records are never mixed: as soon as the store has one 'ok' force-month the app shows only
the store, and says so. A store is read per selection (its forces and months, the columns a view needs)
and kept in a small shared cache; the filters' options come from label counts kept with the store.
"""
from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from analysis import views
from data import demo
from data.store import Store, manifest_signature, store_root

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Dataset:
    """The records on screen, their manifest, where they came from, and a key that changes with them.

    `records` holds the demo's records; for the store it is None and `records_for` reads each selection's
    force-months (and only the columns asked for) from the store when a view needs them, so a page never
    loads ten national years to show one."""

    records: pd.DataFrame | None
    manifest: pd.DataFrame
    demo: bool
    key: str
    root: str
    months: tuple[str, ...]
    forces: tuple[str, ...]
    options: dict[str, list[str]]

    @property
    def label(self) -> str:
        return demo.DEMO_LABEL if self.demo else "Local store"

    @property
    def record_count(self) -> int:
        if self.records is not None:
            return len(self.records)
        return int(self.manifest.loc[self.manifest["status"].eq("ok"), "records"].sum()) if len(self.manifest) else 0

    def records_for(self, forces: tuple[str, ...], months: tuple[str, ...],
                    columns: tuple[str, ...] | None = None) -> pd.DataFrame:
        """The records of these forces and months (every column, or `columns`), read-only and shared."""
        if self.records is not None:
            return self.records if columns is None else self.records.loc[:, list(columns)]
        where = (self.root, self.key, tuple(sorted(forces)), tuple(sorted(months)))
        held = _held_columns(where, columns)
        if held is not None and held != columns:   # a read with more columns has these: no second read
            return _store_slice(*where, held).loc[:, list(columns)]  # type: ignore[arg-type]
        return _store_slice(*where, columns)

    def counts_for(self, forces: tuple[str, ...], months: tuple[str, ...]) -> pd.DataFrame | None:
        """Counted records of these forces and months (see analysis.rates.count), or None where only the
        records will do (the demo, or a store whose read copy is being rebuilt)."""
        if self.records is not None:
            return None
        every = _store_counts(self.root, self.key)
        if every is None:
            return None
        keep = every["force"].isin(forces).to_numpy(bool) & every["month"].isin(months).to_numpy(bool)
        return every.loc[keep]

    @property
    def description(self) -> str:
        if self.demo:
            return (f"{self.record_count:,} generated records, {len(self.forces)} forces, {self.months[0]} to "
                    f"{self.months[-1]}. Not police records: do not publish them as findings. Fetch real data "
                    "on Get data.")
        span = f"{self.months[0]} to {self.months[-1]}" if self.months else "no months"
        forces = f"{len(self.forces)} force{'s' if len(self.forces) != 1 else ''}"
        return (f"Showing the local store only ({self.root}): {self.record_count:,} records from "
                f"data.police.uk, {forces}, {span}.")


def _signature(root: Path) -> str:
    """Changes with every commit: manifest.json or its journal (a writing session appends to the journal
    and rewrites manifest.json only when it ends). 'no-manifest' for a store never written."""
    return manifest_signature(root)


@st.cache_data(show_spinner=False, max_entries=4)
def _manifest(root: str, signature: str) -> pd.DataFrame:
    return Store(root).manifest()


# st.cache_resource, not st.cache_data: cache_data hands every run its own unpickled copy of the records;
# they are read-only everywhere, so share them. A few selections are kept (a year of every force is ~25 MB).
@st.cache_resource(show_spinner="Reading the stored records for this selection...", max_entries=8)
def _store_slice(root: str, key: str, forces: tuple[str, ...], months: tuple[str, ...],
                 columns: tuple[str, ...] | None) -> pd.DataFrame:
    return Store(root).read(list(forces), list(months), columns=None if columns is None else list(columns))


# Which column sets were read for a slice (store, state, forces, months), so that a table needing fewer
# columns of the same slice (the Data quality page's agreement, after its missing fields) takes them from
# that read. The cache below may have let the read go: then it is read again, with its columns.
_READS: dict[tuple, list[tuple[str, ...] | None]] = {}
_READS_LOCK = threading.Lock()
_READS_KEPT = 32


def _held_columns(where: tuple, columns: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The columns of an earlier read of `where` that include `columns` (None: every column); records
    `columns` as read when none does."""
    with _READS_LOCK:
        reads = _READS.setdefault(where, [])
        for held in reads:
            if held is None or (columns is not None and set(columns) <= set(held)):
                return held
        reads.append(columns)
        while len(_READS) > _READS_KEPT:
            _READS.pop(next(iter(_READS)))
        return columns


# Every counted record of the store (~0.4 million rows, ~10 MB at ten national years), read once per store
# state; a selection's rows are a mask away.
@st.cache_resource(show_spinner=False, max_entries=2)
def _store_counts(root: str, key: str) -> pd.DataFrame | None:
    return Store(root).read_counts(None, None)


@st.cache_resource(show_spinner="Indexing the store for quick reading (once after each fetch or import)...",
                   max_entries=2)
def _store_options(root: str, signature: str) -> dict[str, list[str]]:
    """The filters' options from every stored record's labels (kept in the store's read copy)."""
    return views.filter_options_from_counts(Store(root).label_counts())


def _demo_version() -> str:
    """Changes when the demo generator changes (the disk cache below must not outlive it)."""
    return hashlib.sha256(Path(demo.__file__).read_bytes()).hexdigest()[:16]


# Generating the demo takes seconds; kept on disk (~/.streamlit/cache) so a restarted server opens at once.
@st.cache_data(show_spinner="Preparing the synthetic demo data...", max_entries=1, persist="disk")
def _demo(version: str) -> tuple[pd.DataFrame, pd.DataFrame, list[str], list[str], dict[str, list[str]]]:
    records = demo.demo_records()
    manifest = demo.demo_manifest()
    return (records, manifest, views.months_in(records, manifest), views.forces_in(records, manifest),
            views.filter_options(records))


@st.cache_resource(show_spinner=False, max_entries=1)
def _demo_shared(version: str) -> tuple[pd.DataFrame, pd.DataFrame, list[str], list[str], dict[str, list[str]]]:
    """The demo from its disk cache, once per server process, shared by every run without a copy."""
    return _demo(version)


def load() -> Dataset:
    """The dataset for this run (cached; re-read when the store's manifest changes)."""
    root = store_root()
    signature = _signature(root)
    manifest = _manifest(str(root), signature) if signature != "no-manifest" else pd.DataFrame()
    if len(manifest) and manifest["status"].eq("ok").any():
        no_records = pd.DataFrame()  # the store's months and forces are the manifest's
        return Dataset(None, manifest, False, f"store:{root}:{signature}", str(root),
                       tuple(views.months_in(no_records, manifest)), tuple(views.forces_in(no_records, manifest)),
                       _store_options(str(root), signature))
    records, manifest, months, forces, options = _demo_shared(_demo_version())
    return Dataset(records, manifest, True, "demo", str(root), tuple(months), tuple(forces), options)


def forget() -> None:
    """Drop every cached load and table (after a fetch or an import changed the store)."""
    st.cache_data.clear()
    _store_slice.clear()
    _store_counts.clear()
    _store_options.clear()
    _demo_shared.clear()
