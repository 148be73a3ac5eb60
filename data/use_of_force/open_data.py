"""Read the Home Office use-of-force open data table (record level, 2020/21 on) into the tidy report table.

One row per officer report on one person; one sheet per year. Two column styles: the 2022/2023
workbooks (`police_force`, `person_perceived_ethnicity`, `grouped_irritant_drawn`, ...) and the 2024
one (`force_name`, `person_ethnicity`, `irritant_spray_drawn`, ...). Columns are mapped by name; a
column that is neither known nor ignorable stops the import with its name.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from python_calamine import CalamineWorkbook

from data.errors import BadFile
from data.use_of_force import vocab
from data.use_of_force.names import financial_year, map_forces
from data.use_of_force.reports import add_person_columns, finish, map_values

log = logging.getLogger(__name__)
SOURCE = "home_office_open_data"

# Source column -> our field. Both styles; a field may have several spellings.
FIELD_COLUMNS: dict[str, str] = {
    "year": "year", "financial_year": "year",
    "police_force": "force", "force_name": "force",
    "person_perceived_ethnicity": "ethnicity", "person_ethnicity": "ethnicity",
    "person_perceived_age": "age", "person_age": "age",
    "person_perceived_gender": "gender", "person_gender": "gender",
    "reason_effect_stop_search": "effect_stop_search",
    "ced": "ced", "ced_highest_use": "ced_highest_use",
}
# Source column -> leaf tactic (yes/no flags).
TACTIC_COLUMNS: dict[str, str] = {
    "compliant_handcuffing": "compliant_handcuffing",
    "non_compliant_handcuffing": "non_compliant_handcuffing",
    "handcuffing_not_stated": "handcuffing_not_stated",
    "limb_body_restraints": "limb_body_restraints",
    "ground_restraint": "ground_restraint",
    "unarmed_skills": "unarmed_skills",
    "baton_drawn": "baton_drawn", "baton_used": "baton_used", "baton_not_stated": "baton_not_stated",
    "grouped_irritant_drawn": "irritant_spray_drawn", "irritant_spray_drawn": "irritant_spray_drawn",
    "grouped_irritant_used": "irritant_spray_used", "irritant_spray_used": "irritant_spray_used",
    "irritant_spray_not_stated": "irritant_spray_not_stated",
    "grouped_irritant_not_stated": "irritant_spray_not_stated",
    "spit_guard": "spit_guard", "shield": "shield",
    "aep_drawn": "aep_drawn", "aep_used": "aep_used", "aep_not_stated": "aep_not_stated",
    "firearms_aimed": "firearms_aimed", "firearms_fired": "firearms_fired",
    "firearms_not_stated": "firearms_not_stated",
    "dog_deployed": "dog_deployed", "dog_bite": "dog_bite", "dog_not_stated": "dog_not_stated",
    "other_improvised": "other_improvised",
    "tactical_communication": "tactical_communication",
}
# Columns read for other analyses or not at all: whole families by prefix or by a word they contain.
IGNORABLE_PREFIXES: tuple[str, ...] = ("reason_", "impact_factor_", "location_", "outcome_", "person_",
                                       "officer_", "incident_", "ced_")
IGNORABLE_WORDS: tuple[str, ...] = ("injur", "health", "_effective")
REQUIRED_FIELDS = ("force", "ethnicity")
ALL_KNOWN = {*FIELD_COLUMNS, *TACTIC_COLUMNS}


def column_role(name: str) -> str:
    """'field', 'tactic', 'ignored' or 'unknown' for one source column name."""
    key = name.strip().lower()
    if key in FIELD_COLUMNS:
        return "field"
    if key in TACTIC_COLUMNS:
        return "tactic"
    if key.startswith(IGNORABLE_PREFIXES) or any(w in key for w in IGNORABLE_WORDS):
        return "ignored"
    return "unknown"


def looks_like_open_data(header: list[str]) -> bool:
    keys = {str(h).strip().lower() for h in header}
    return bool(keys & {"police_force", "force_name"}) and bool(
        keys & {"person_perceived_ethnicity", "person_ethnicity"})


def parse_sheet(frame: pd.DataFrame, *, sheet: str, path: object, warn: bool = True) -> pd.DataFrame:
    """One sheet (header already applied) -> tidy reports."""
    columns = [str(c).strip() for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    unknown = [c for c in columns if column_role(c) == "unknown" and c and not c.startswith("Unnamed")]
    if unknown:
        raise BadFile(f"Sheet '{sheet}' of {path} has column(s) the reader does not know: "
                      f"{', '.join(repr(c) for c in unknown)}.",
                      hint="If the Home Office renamed a column, add it to FIELD_COLUMNS or TACTIC_COLUMNS in "
                           "data/use_of_force/open_data.py (or to the ignorable families).",
                      file=str(path), column=unknown[0])
    by_field = {FIELD_COLUMNS[c.lower()]: c for c in columns if c.lower() in FIELD_COLUMNS}
    missing = [f for f in REQUIRED_FIELDS if f not in by_field]
    if missing:
        raise BadFile(f"Sheet '{sheet}' of {path} lacks the {' and '.join(missing)} column.",
                      hint="Expected police_force/force_name and person_perceived_ethnicity/person_ethnicity.",
                      file=str(path), column=missing[0])
    force_text = frame[by_field["force"]].astype("string").str.strip().fillna("")
    frame = frame.loc[force_text.ne("").to_numpy()]  # blank trailing rows of a sheet
    out = pd.DataFrame(index=frame.index)
    out["source"] = SOURCE
    if "year" in by_field:
        col = by_field["year"]
        codes, uniques = pd.factorize(frame[col].astype("string").fillna(""))
        try:
            years = np.array([financial_year(u) for u in uniques], dtype=object)
        except Exception as exc:  # noqa: BLE001 - re-raised with the column named
            raise BadFile(f"Column '{col}' of {path} has a value that is not a financial year: {exc}",
                          hint="Expected values such as 2022/23.", file=str(path), column=col) from exc
        out["year"] = years[codes]
    else:
        out["year"] = financial_year(sheet)
    out["force"] = map_forces(frame[by_field["force"]], column=by_field["force"], path=path)
    add_person_columns(out, frame, by_field, groups=vocab.RECORD_GROUPS, path=path)
    present: set[str] = set()
    for column in columns:
        tactic = TACTIC_COLUMNS.get(column.lower())
        if tactic is None:
            continue
        out[tactic] = map_values(frame[column], vocab.FLAG_VALUES, column=column, path=path)
        present.add(tactic)
    if "ced_highest_use" in by_field:
        col = by_field["ced_highest_use"]
        highest = map_values(frame[col], vocab.CED_HIGHEST_USE, column=col, path=path)
        if "ced" in by_field:
            used = map_values(frame[by_field["ced"]], vocab.FLAG_VALUES, column=by_field["ced"], path=path)
            # CED used but highest use blank: Taser used, level not stated
            highest = highest.where(~(used.eq(True) & highest.isna()), "taser_not_stated")
        for tactic in vocab.TASER_ORDER:
            out[tactic] = highest.eq(tactic)
        present.update(vocab.TASER_ORDER)
    # tactical communication is not a documented open data column: its absence is expected
    absent = [t for t in vocab.TACTICS if t not in present and t != "tactical_communication"]
    if absent and warn:
        log.warning("%s sheet %s has no column for %s: left as not recorded", path, sheet, ", ".join(absent))
    return finish(out)


CHUNK_ROWS = 50_000  # rows parsed at a time: a 750k x 100 sheet never sits in memory as Python objects


def _sheet_chunks(path: Path) -> Iterator[tuple[str, list[str], list[list[object]]]]:
    """(sheet, header, rows) chunks of every data sheet; sheets without the open data header are skipped."""
    if path.suffix.lower() == ".csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, header=None)
        rows_iter: Iterator[list[object]] = iter(frame.to_numpy().tolist())
        sheets: Iterator[tuple[str, Iterator[list[object]]]] = iter([(path.stem, rows_iter)])
    else:
        try:
            workbook = CalamineWorkbook.from_path(str(path))
        except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file to the user
            raise BadFile(f"Cannot read the workbook {path}: {exc}.",
                          hint="Check it is the open data table (.xlsx) downloaded from GOV.UK.",
                          file=str(path)) from exc
        sheets = ((name, iter(workbook.get_sheet_by_name(name).iter_rows())) for name in workbook.sheet_names)
    for name, rows in sheets:
        header: list[str] | None = None
        for _ in range(10):
            first = next(rows, None)
            if first is None:
                break
            if looks_like_open_data([str(v) for v in first]):
                header = [str(v) for v in first]
                break
        if header is None:
            log.info("%s: sheet %r is not a data sheet (no police_force/person_ethnicity header)", path, name)
            continue
        chunk: list[list[object]] = []
        for values in rows:
            chunk.append(list(values))
            if len(chunk) >= CHUNK_ROWS:
                yield name, header, chunk
                chunk = []
        yield name, header, chunk


def read_open_data(path: Path | str) -> pd.DataFrame:
    """Every year sheet of an open data workbook (or one CSV) -> tidy reports (reports.REPORT_COLUMNS)."""
    path = Path(path)
    parts = []
    warned: set[str] = set()
    for sheet, header, rows in _sheet_chunks(path):
        width = len(header)
        if any(len(r) != width for r in rows):  # ragged rows (trailing empty cells left out by some writers)
            rows = [(r + [""] * (width - len(r)))[:width] for r in rows]
        body = pd.DataFrame(rows, columns=header, dtype=object)
        parts.append(parse_sheet(body, sheet=str(sheet), path=path, warn=sheet not in warned))
        warned.add(sheet)
    if not parts:
        raise BadFile(f"{path} has no sheet with the open data columns (police_force, person_perceived_ethnicity).",
                      hint="Use the 'open data table' xlsx from the GOV.UK use-of-force release.", file=str(path))
    return pd.concat(parts, ignore_index=True)
