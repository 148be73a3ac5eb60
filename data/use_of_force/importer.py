"""Read any recognised use-of-force file and write its tidy tables into the store, one entry per year."""
from __future__ import annotations

import logging
from pathlib import Path

from data.errors import BadFile
from data.use_of_force.detect import detect
from data.use_of_force.home_office_tables import read_home_office_tables
from data.use_of_force.met import read_met
from data.use_of_force.open_data import read_open_data
from data.use_of_force.store import ManifestEntry, UseOfForceStore
from data.use_of_force.vocab import UNIT

log = logging.getLogger(__name__)
LABELS = {"home_office_tables": "Home Office use-of-force data tables",
          "home_office_open_data": "Home Office use-of-force open data table",
          "met": "Metropolitan Police use-of-force file"}


def import_file(path: Path | str, *, store: UseOfForceStore, source: str | None = None,
                kind: str | None = None) -> list[ManifestEntry] | None:
    """Parse `path` (kind detected from its content) and store it; None when not a use-of-force file."""
    path = Path(path)
    kind = kind or detect(path)
    if kind is None:
        return None
    source = source or str(path)
    if kind == "home_office_tables":
        tables = read_home_office_tables(path)
        return [store.write("home_office_tables", tables.year,
                            {"tactics": tables.tactics, "incidents": tables.incidents}, source=source,
                            rows=len(tables.tactics))]
    reports = read_open_data(path) if kind == "home_office_open_data" else read_met(path)
    if reports.empty:
        raise BadFile(f"{path} has the {LABELS[kind]} columns but no rows.", hint="Check the download.",
                      file=str(path))
    entries = []
    for year, frame in reports.groupby("year", sort=True):
        entries.append(store.write(kind, str(year), {"reports": frame}, source=source, rows=len(frame)))
    return entries


def summary_lines(entries: list[ManifestEntry], *, kind_label: str | None = None) -> list[str]:
    lines = []
    for entry in entries:
        label = kind_label or LABELS.get(entry.dataset, entry.dataset)
        if entry.dataset == "home_office_tables":
            what = f"{entry.rows:,} tactic rows (Table_4, Table_12, Table_16 where published)"
        else:
            what = f"{entry.rows:,} {UNIT}"
        lines.append(f"{label} {entry.year}: {entry.status}, {what}.")
    return lines
