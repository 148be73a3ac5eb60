"""Recognise a use-of-force file by its content (never its name): Home Office tables, open data, Met."""
from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from pathlib import Path

from python_calamine import CalamineWorkbook

from data.use_of_force.met import looks_like_met
from data.use_of_force.open_data import looks_like_open_data

log = logging.getLogger(__name__)
KINDS = ("home_office_tables", "home_office_open_data", "met")
_HEADER_ROWS = 10


def _spreadsheet_kind(path: Path) -> str | None:
    """'ods'/'xlsx' for a zip holding a spreadsheet, None for any other zip (a stop-search archive)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and b"spreadsheet" in archive.read("mimetype"):
                return "ods"
            if "xl/workbook.xml" in names:
                return "xlsx"
    except (zipfile.BadZipFile, OSError):
        return None
    return None


def _xlsx_strings_kind(path: Path) -> str | None:
    """Fast path for big xlsx files: the header's names, without loading a 750k-row sheet.

    They sit early in the shared-strings table (Excel) or inline at the top of the sheet (some writers).
    """
    texts = []
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            parts = [n for n in names if n == "xl/sharedStrings.xml"]
            parts += [n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")]
            for name in parts:
                with archive.open(name) as handle:
                    limit = 2_000_000 if name.endswith("sharedStrings.xml") else 400_000
                    texts.append(handle.read(limit).decode("utf-8", errors="replace"))
    except (zipfile.BadZipFile, OSError):
        return None
    words = list({w.strip() for text in texts for w in re.findall(r"<t[^>]*>([^<>]{1,80})</t>", text)})
    if looks_like_open_data(words):
        return "home_office_open_data"
    if looks_like_met(words):
        return "met"
    return None


def _first_rows(workbook: CalamineWorkbook, sheet: str) -> list[list[str]]:
    rows = []
    for row in workbook.get_sheet_by_name(sheet).iter_rows():
        rows.append([str(v) for v in row])
        if len(rows) >= _HEADER_ROWS:
            break
    return rows


def detect(path: Path | str) -> str | None:
    """One of KINDS, or None when the file is not a use-of-force file this project reads."""
    path = Path(path)
    if not path.is_file():
        return None
    with path.open("rb") as handle:
        start = handle.read(4)
    if start.startswith(b"PK"):
        container = _spreadsheet_kind(path)
        if container is None:
            return None
        if container == "xlsx":
            quick = _xlsx_strings_kind(path)
            if quick is not None:
                return quick
        try:
            workbook = CalamineWorkbook.from_path(str(path))
        except Exception as exc:  # noqa: BLE001 - unreadable spreadsheet: not ours to claim
            log.info("%s: not a readable spreadsheet (%s)", path, exc)
            return None
        sheets = list(workbook.sheet_names)
        if "Table_4" in sheets and "Table_12" in sheets:
            title = " ".join(" ".join(r) for s in ("Contents", "Table_4") if s in sheets
                             for r in _first_rows(workbook, s))
            return "home_office_tables" if "use of force" in title.lower() or "tactic" in title.lower() else None
        for sheet in sheets:
            for row in _first_rows(workbook, sheet):
                if looks_like_open_data(row):
                    return "home_office_open_data"
                if looks_like_met(row):
                    return "met"
        return None
    if path.suffix.lower() in {".csv", ".txt"} or start[:1].isascii():
        try:
            with path.open("rb") as handle:
                text = handle.read(64_000).decode("utf-8-sig", errors="replace")
        except OSError:
            return None
        for row in list(csv.reader(io.StringIO(text)))[:_HEADER_ROWS]:
            if looks_like_open_data(row):
                return "home_office_open_data"
            if looks_like_met(row):
                return "met"
    return None
