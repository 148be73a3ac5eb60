"""Read the Home Office use-of-force data tables (ODS, years ending March 2018 to 2020) into tidy tables.

Table_4 (national tactic uses and incidents by perceived ethnicity), Table_12 (incidents by force) and
Table_16 (force x tactic x perceived ethnicity, 2019 and 2020 layouts). The tactic rows are a
hierarchy: '*Total ...' rows (kind 'subtotal') and 'X, of which' rows (kind 'grouping') are sums of the
rows below them; only kind 'leaf' rows may be added together.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from data.errors import BadFile
from data.use_of_force import vocab
from data.use_of_force.names import PROJECT_ALL, financial_year, force_id, is_total_row

log = logging.getLogger(__name__)

TACTIC_COLUMNS = ("year", "table", "force", "raw_force", "group", "raw_group", "tactic", "label", "kind",
                  "count")
INCIDENT_COLUMNS = ("year", "table", "force", "raw_force", "group", "raw_group", "incidents")
NOT_AVAILABLE = ":"


@dataclass(frozen=True)
class HomeOfficeTables:
    """One workbook's tidy contents. count = times the tactic was reported (uses); NaN where ':'."""
    year: str
    tactics: pd.DataFrame     # TACTIC_COLUMNS
    incidents: pd.DataFrame   # INCIDENT_COLUMNS; Table_4 by group (force ALL), Table_12 by force (group All)
    path: str


def _key(value: object) -> str:
    return " ".join(str(value).split()).casefold()


def _cell_number(value: object) -> float:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().replace(",", "")
    if text in {NOT_AVAILABLE, "", "..", "-", "*"}:
        return float("nan")
    return float(text)


def read_sheets(path: Path) -> dict[str, pd.DataFrame]:
    try:
        return pd.read_excel(path, sheet_name=None, header=None, engine="calamine", keep_default_na=False,
                             dtype=object)
    except Exception as exc:  # corrupt zip, not a spreadsheet
        raise BadFile(f"Cannot read the spreadsheet {path}: {exc}.",
                      hint="Check that it is the Home Office ODS as downloaded from GOV.UK.",
                      file=str(path)) from exc


def workbook_year(sheets: dict[str, pd.DataFrame], path: Path) -> str:
    """The financial year from the workbook's title ('1 April 2019 to 31 March 2020')."""
    for name in ("Contents", "Cover_sheet", "Table_1", "Table_12"):
        frame = sheets.get(name)
        if frame is None:
            continue
        for value in frame.head(6).to_numpy().ravel():
            text = str(value)
            if "20" in text and ("March" in text or "April" in text or "/" in text):
                try:
                    return financial_year(text)
                except Exception:  # noqa: BLE001 - another cell may carry the year
                    continue
    return financial_year(path.name)


def _group_columns(header: list[object]) -> dict[int, str]:
    return {i: str(h).strip() for i, h in enumerate(header) if _key(h) in vocab.TABLE_GROUPS_KEYED}


def _find_row(frame: pd.DataFrame, predicate, *, what: str, sheet: str, path: Path) -> int:
    for i, row in enumerate(frame.itertuples(index=False)):
        if predicate([str(c).strip() for c in row]):
            return i
    raise BadFile(f"{sheet} of {path} has no {what}.",
                  hint="The Home Office changed the layout; report the file so the reader can be updated.",
                  file=str(path), sheet=sheet)


def _tactic_rows(rows: list[tuple[str, str, list[object]]], *, sheet: str, path: Path,
                 ) -> list[tuple[str, str | None, str, list[object]]]:
    """(force, label, cells) -> (force, tactic, kind, cells) with bare sub-row labels resolved."""
    out: list[tuple[str, str | None, str, list[object]]] = []
    parent: str | None = None
    for force, label, cells in rows:
        bare = vocab.CONTEXT_SUFFIX.get(_key(label))
        if bare is not None:
            tactic = f"{parent}{bare}" if parent else None
            if tactic not in vocab.TACTICS:
                raise BadFile(f"{sheet} of {path}: sub-row {label!r} has no parent tactic row above it.",
                              hint="Report the file; the tactic hierarchy changed.", file=str(path),
                              sheet=sheet, value=label)
        else:
            try:
                tactic = vocab.table_tactic(label)
            except KeyError:
                raise BadFile(f"{sheet} of {path}: unknown tactic row label {label!r}.",
                              hint="Add it to TABLE_TACTICS in data/use_of_force/vocab.py "
                                   "(None if it is a subtotal).", file=str(path), sheet=sheet,
                              value=label) from None
            if tactic in vocab.TACTIC_GROUPS:
                parent = tactic
        out.append((force, tactic, "", cells))
    # A grouping is a 'grouping' only where its parts are also rows (2018's single 'CED' row is a leaf).
    present = {(f, t) for f, t, _, _ in out}
    result = []
    for force, tactic, _, cells in out:
        if tactic is None:
            kind = "subtotal"
        elif tactic in vocab.TACTIC_GROUPS and any((force, p) in present for p in vocab.TACTIC_GROUPS[tactic]):
            kind = "grouping"
        else:
            kind = "leaf"
        result.append((force, tactic, kind, cells))
    return result


def _long(records: list[tuple[str, str, str | None, str, str, list[object]]], groups: dict[int, str],
          *, year: str, table: str, path: Path) -> pd.DataFrame:
    rows = []
    for raw_force, force, tactic, kind, label, cells in records:
        for col, raw_group in groups.items():
            try:
                count = _cell_number(cells[col])
            except ValueError:
                raise BadFile(f"{table} of {path}: value {cells[col]!r} for {label!r} / {raw_group!r} "
                              f"({raw_force}) is not a number.", hint="Report the file.", file=str(path),
                              sheet=table, column=raw_group, value=cells[col]) from None
            rows.append((year, table, force, raw_force, vocab.TABLE_GROUPS_KEYED[_key(raw_group)], raw_group,
                         tactic, label, kind, count))
    return pd.DataFrame(rows, columns=list(TACTIC_COLUMNS))


def parse_table_4(frame: pd.DataFrame, *, year: str, path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """National tactic uses by group, and incidents by group (force ALL)."""
    sheet = "Table_4"
    head = _find_row(frame, lambda r: "White" in r, what="ethnicity header row", sheet=sheet, path=path)
    groups = _group_columns(frame.iloc[head].tolist())
    values = frame.to_numpy()
    counts_row = None
    for i in range(head + 1, len(values)):
        try:
            [_cell_number(values[i][c]) for c in groups]
        except ValueError:
            continue
        if all(str(values[i][c]).strip() != "" for c in groups):
            counts_row = i
            break
    if counts_row is None:
        raise BadFile(f"{sheet} of {path} has no row of incidents by group.", hint="Report the file.",
                      file=str(path), sheet=sheet)
    incidents = pd.DataFrame([(year, sheet, PROJECT_ALL, "Total England and Wales",
                               vocab.TABLE_GROUPS_KEYED[_key(g)], g, _cell_number(values[counts_row][c]))
                              for c, g in groups.items()], columns=list(INCIDENT_COLUMNS))
    rows = []
    for i in range(counts_row + 1, len(values)):
        first, label = str(values[i][0]).strip(), str(values[i][1]).strip()
        if _key(first) == "notes":
            break
        if not label or _key(label) == "tactic":
            continue
        rows.append((PROJECT_ALL, label, list(values[i])))
    resolved = _tactic_rows(rows, sheet=sheet, path=path)
    records = [("Total England and Wales", f, t, k, lab, cells)
               for (f, t, k, cells), (_, lab, _) in zip(resolved, rows, strict=True)]
    return _long(records, groups, year=year, table=sheet, path=path), incidents


def parse_table_12(frame: pd.DataFrame, *, year: str, path: Path) -> pd.DataFrame:
    """Incidents by force (region subtotals dropped; 'Total England and Wales' becomes force ALL)."""
    sheet = "Table_12"
    head = _find_row(frame, lambda r: "Police force" in r and "Total" in r, what="'Police force' header",
                     sheet=sheet, path=path)
    header = [str(h).strip() for h in frame.iloc[head]]
    name_col, total_col = header.index("Police force"), header.index("Total")
    rows = []
    for values in frame.iloc[head + 1:].itertuples(index=False):
        name = str(values[name_col])
        if not name.strip():
            if str(values[0]).strip().casefold() == "notes":
                break
            continue
        if is_total_row(name):
            if "england and wales" not in name.casefold():
                continue  # region subtotal
            force = PROJECT_ALL
        else:
            force = force_id(name)
            if force is None:
                raise BadFile(f"{sheet} of {path}: unknown police force {name!r}.",
                              hint="Add the spelling to forces.csv (home_office_name) or report it.",
                              file=str(path), sheet=sheet, value=name)
        rows.append((year, sheet, force, name, "All", "All", _cell_number(values[total_col])))
    return pd.DataFrame(rows, columns=list(INCIDENT_COLUMNS))


def parse_table_16(frame: pd.DataFrame, *, year: str, path: Path) -> pd.DataFrame:
    """Force x tactic x group uses (2019/2020 layout); 'Total England and Wales' becomes force ALL."""
    sheet = "Table_16"
    head = _find_row(frame, lambda r: "Police force" in r and "Tactic" in r,
                     what="'Police force' / 'Tactic' header", sheet=sheet, path=path)
    header = [str(h).strip() for h in frame.iloc[head]]
    groups = _group_columns(header)
    force_col, tactic_col = header.index("Police force"), header.index("Tactic")
    blocks: dict[str, list[tuple[str, str, list[object]]]] = {}
    raw_names: dict[str, str] = {}
    for values in frame.iloc[head + 1:].itertuples(index=False):
        name, label = str(values[force_col]), str(values[tactic_col]).strip()
        if not name.strip() or not label:
            if _key(values[0]) == "notes":
                break
            continue
        if is_total_row(name):
            force = PROJECT_ALL
        else:
            force = force_id(name)
            if force is None:
                raise BadFile(f"{sheet} of {path}: unknown police force {name!r}.",
                              hint="Add the spelling to forces.csv (home_office_name) or report it.",
                              file=str(path), sheet=sheet, value=name)
        raw_names[force] = name
        blocks.setdefault(force, []).append((force, label, list(values)))
    parts = []
    for force, rows in blocks.items():
        resolved = _tactic_rows(rows, sheet=sheet, path=path)
        records = [(raw_names[force], f, t, k, lab, cells)
                   for (f, t, k, cells), (_, lab, _) in zip(resolved, rows, strict=True)]
        parts.append(_long(records, groups, year=year, table=sheet, path=path))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(TACTIC_COLUMNS))


def read_home_office_tables(path: Path | str, *, year: str | None = None) -> HomeOfficeTables:
    """Parse Table_4, Table_12 and (when present) Table_16 of one Home Office data-tables workbook."""
    path = Path(path)
    sheets = read_sheets(path)
    missing = [s for s in ("Table_4", "Table_12") if s not in sheets]
    if missing:
        raise BadFile(f"{path} has no sheet {', '.join(missing)}: not a Home Office use-of-force data table.",
                      hint="Use the 'data tables' ODS from the GOV.UK release page.", file=str(path))
    year = financial_year(year) if year else workbook_year(sheets, path)
    tactics4, incidents4 = parse_table_4(sheets["Table_4"], year=year, path=path)
    incidents12 = parse_table_12(sheets["Table_12"], year=year, path=path)
    frames = [tactics4]
    if "Table_16" in sheets and "ethnicity" in str(sheets["Table_16"].iat[0, 0]).lower():
        frames.append(parse_table_16(sheets["Table_16"], year=year, path=path))
    tactics = pd.concat(frames, ignore_index=True)
    incidents = pd.concat([incidents4, incidents12], ignore_index=True)
    national = incidents4["incidents"].sum()
    listed = incidents12.loc[incidents12["force"].eq(PROJECT_ALL), "incidents"]
    if len(listed) and not np.isclose(listed.iloc[0], national):
        log.warning("%s: Table_4 groups sum to %s incidents but Table_12 says %s", path.name, national,
                    listed.iloc[0])
    return HomeOfficeTables(year=year, tactics=tactics, incidents=incidents, path=str(path))
