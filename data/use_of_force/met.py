"""Read a Metropolitan Police use-of-force file (London Datastore; xlsx or csv) into the tidy report table.

One row per officer per subject. Tactics are names in `Tactic 1` ... `Tactic 20`; each counts once per
row, and Taser only at its highest use (as the Home Office counts it).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from data.errors import BadFile
from data.use_of_force import vocab
from data.use_of_force.names import financial_year, financial_year_of_dates
from data.use_of_force.reports import add_person_columns, finish

SOURCE = "met"
TACTIC_COLUMN = re.compile(r"^tactic\s*(\d+)$", re.IGNORECASE)
FIELD_COLUMNS: dict[str, str] = {
    "incidentdate": "date", "subjectethnicity": "ethnicity", "subjectage": "age",
    "subjectgender": "gender", "reason for force: effect stop and search": "effect_stop_search",
}
# Families the reader does not use. Met files carry ~270 columns: 'Incident Location: ...',
# 'Impact Factor: ...', 'Reason for Force: ...', 'Outcome: ...', 'Effective N', CED detail, officer and
# subject detail. Anything else stops the import with its name.
IGNORABLE_WORDS: tuple[str, ...] = (
    ":", "effective", "ced", "taser", "injur", "officer", "subject", "staff", "borough", "ward",
    "location", "duty", "conduct", "incidenttime", "time", "outcome", "impact", "reason", "assault",
    "medical", "arrest", "crew", "month", "year", "date",
)


def column_role(name: str) -> str:
    key = " ".join(name.split()).lower()
    if key in FIELD_COLUMNS:
        return "field"
    if TACTIC_COLUMN.match(key):
        return "tactic"
    if any(word in key for word in IGNORABLE_WORDS):
        return "ignored"
    return "unknown"


def looks_like_met(header: list[str]) -> bool:
    keys = {" ".join(str(h).split()).lower() for h in header}
    return "subjectethnicity" in keys and "tactic 1" in keys


def parse_met(frame: pd.DataFrame, *, path: object, year_hint: str | None = None) -> pd.DataFrame:
    """A Met table (header applied) -> tidy reports."""
    columns = [str(c).strip() for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    unknown = [c for c in columns if c and not c.startswith("Unnamed") and column_role(c) == "unknown"]
    if unknown:
        raise BadFile(f"{path} has Met column(s) the reader does not know: {', '.join(map(repr, unknown))}.",
                      hint="Add the column to FIELD_COLUMNS or IGNORABLE_WORDS in data/use_of_force/met.py.",
                      file=str(path), column=unknown[0])
    by_field = {FIELD_COLUMNS[" ".join(c.split()).lower()]: c for c in columns if column_role(c) == "field"}
    for field in ("ethnicity", "date"):
        if field not in by_field:
            name = {"ethnicity": "SubjectEthnicity", "date": "IncidentDate"}[field]
            raise BadFile(f"{path} lacks the Met column '{name}'.", hint="Is this the MPS use-of-force file?",
                          file=str(path), column=name)
    tactic_cols = [c for c in columns if column_role(c) == "tactic"]
    blank = (frame[by_field["date"]].astype("string").str.strip().fillna("").eq("")
             & frame[by_field["ethnicity"]].astype("string").str.strip().fillna("").eq(""))
    frame = frame.loc[~blank.to_numpy()]  # empty trailing rows
    out = pd.DataFrame(index=frame.index)
    out["source"] = SOURCE
    out["force"] = "metropolitan"
    years = financial_year_of_dates(frame[by_field["date"]])
    if years.isna().any():
        if year_hint is None:
            bad = frame.loc[years.isna().to_numpy(), by_field["date"]].iloc[0]
            raise BadFile(f"Column '{by_field['date']}' of {path} has a value that is not a date: {bad!r}.",
                          hint="Fix the file or name it with its financial year (FY22-23).",
                          file=str(path), column=by_field["date"], value=bad)
        years = years.fillna(year_hint)
    out["year"] = years
    add_person_columns(out, frame, by_field, groups=vocab.MET_GROUPS, path=path)

    n = len(frame)
    flags = {t: np.zeros(n, dtype=bool) for t in vocab.TACTICS}
    taser_rank = np.full(n, -1)
    for column in tactic_cols:
        codes, uniques = pd.factorize(frame[column].astype("string").fillna(""))
        names = []
        for value in uniques:
            try:
                names.append(vocab.met_tactic(value))
            except ValueError:
                raise BadFile(f"Column '{column}' of {path} has a tactic name the reader does not know: "
                              f"{value!r}.", hint="Add a rule to MET_TACTIC_RULES in data/use_of_force/vocab.py.",
                              file=str(path), column=column, value=value) from None
        for code, tactic in enumerate(names):
            if tactic is None:
                continue
            hit = codes == code
            if tactic in vocab.TASER_ORDER:
                taser_rank = np.where(hit, np.maximum(taser_rank, vocab.TASER_ORDER.index(tactic)), taser_rank)
            else:
                flags[tactic] |= hit
    for rank, tactic in enumerate(vocab.TASER_ORDER):
        flags[tactic] = taser_rank == rank
    for tactic, values in flags.items():
        out[tactic] = values
    return finish(out)


def read_met(path: Path | str) -> pd.DataFrame:
    """A Met use-of-force xlsx (first data sheet) or csv -> tidy reports."""
    path = Path(path)
    try:
        year_hint: str | None = financial_year(path.stem)
    except Exception:  # noqa: BLE001 - the file name need not carry a year
        year_hint = None
    if path.suffix.lower() == ".csv":
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding_errors="replace")
        return parse_met(raw, path=path, year_hint=year_hint)
    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None, engine="calamine", dtype=object,
                               keep_default_na=False)
    except Exception as exc:  # noqa: BLE001
        raise BadFile(f"Cannot read the workbook {path}: {exc}.", hint="Check the file.", file=str(path)) from exc
    for raw in sheets.values():
        for i in range(min(len(raw), 10)):
            header = [str(v) for v in raw.iloc[i].tolist()]
            if looks_like_met(header):
                body = raw.iloc[i + 1:]
                body.columns = header
                return parse_met(body, path=path, year_hint=year_hint)
    raise BadFile(f"{path} has no sheet with the Met columns (SubjectEthnicity, Tactic 1).",
                  hint="Use the MPS use-of-force file from the London Datastore.", file=str(path))
