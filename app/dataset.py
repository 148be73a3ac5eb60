"""Which records the app shows, loaded once and cached: the local store when it holds data, else the demo.

Demo and real records are never mixed: as soon as the store has one 'ok' force-month the app shows only
the store, and says so. The expensive load is cached (st.cache_data); filtering happens outside it.
"""
from __future__ import annotations

import hashlib
import logging
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
    """The records on screen, their manifest, where they came from, and a key that changes with them."""

    records: pd.DataFrame
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
    def description(self) -> str:
        if self.demo:
            return (f"{len(self.records):,} generated records, {len(self.forces)} forces, {self.months[0]} to "
                    f"{self.months[-1]}. Not police records: do not publish them as findings. Fetch real data "
                    "on Get data.")
        span = f"{self.months[0]} to {self.months[-1]}" if self.months else "no months"
        forces = f"{len(self.forces)} force{'s' if len(self.forces) != 1 else ''}"
        return (f"Showing the local store only ({self.root}): {len(self.records):,} records from "
                f"data.police.uk, {forces}, {span}.")


def _signature(root: Path) -> str:
    """Changes with every commit: manifest.json or its journal (a writing session appends to the journal
    and rewrites manifest.json only when it ends). 'no-manifest' for a store never written."""
    return manifest_signature(root)


@st.cache_data(show_spinner=False, max_entries=4)
def _manifest(root: str, signature: str) -> pd.DataFrame:
    return Store(root).manifest()


# st.cache_resource, not st.cache_data: cache_data hands every run its own unpickled copy of the whole
# frame (seconds and gigabytes at ten national years); the records are read-only everywhere, so share them.
@st.cache_resource(show_spinner="Loading the stored records...", max_entries=2)
def _store_records(root: str, signature: str) -> tuple[pd.DataFrame, list[str], list[str], dict[str, list[str]]]:
    records = Store(root).read()
    manifest = _manifest(root, signature)  # the one load() just made (the manifest costs ~0.8 s at ten years)
    return (records, views.months_in(records, manifest), views.forces_in(records, manifest),
            views.filter_options(records))


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
        records, months, forces, options = _store_records(str(root), signature)
        return Dataset(records, manifest, False, f"store:{root}:{signature}", str(root), tuple(months),
                       tuple(forces), options)
    records, manifest, months, forces, options = _demo_shared(_demo_version())
    return Dataset(records, manifest, True, "demo", str(root), tuple(months), tuple(forces), options)


def forget() -> None:
    """Drop every cached load and table (after a fetch or an import changed the store)."""
    st.cache_data.clear()
    _store_records.clear()
    _demo_shared.clear()
