"""The tidy report-level table that both record-level sources (Home Office open data, Met) are read into."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from data.errors import BadFile
from data.use_of_force import vocab

# One row per officer report on one person. Tactic columns are nullable booleans: True = the report
# involved it, False = it did not, <NA> = the source did not say (or has no such column).
ID_COLUMNS: dict[str, str] = {
    "source": "string",           # 'home_office_open_data' | 'met'
    "year": "string",             # financial year 'YYYY/YY'
    "force": "string",            # project force id
    "group": "string",            # vocab.GROUPS (officer-perceived)
    "raw_ethnicity": "string",
    "age": "string",
    "gender": "string",
    "effect_stop_search": "boolean",  # force used to effect a stop and search (<NA> if not recorded)
}
REPORT_COLUMNS: tuple[str, ...] = (*ID_COLUMNS, *vocab.TACTICS)


def map_values(raw: pd.Series, table: Mapping[str, object], *, column: str, path: object,
               lower: bool = True) -> pd.Series:
    """Map a column through `table` per distinct value (fast on 750k rows); BadFile naming bad values."""
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    keys = ["" if v is None or (isinstance(v, float) and v != v) else " ".join(str(v).split())
            for v in uniques]
    if lower:
        keys = [k.casefold() for k in keys]
    unknown = sorted({k for k in keys if k not in table})
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:6])
        raise BadFile(f"Column '{column}' of {path} has value(s) the reader does not know: {shown}.",
                      hint="Check the file is the published one; if the source added a value, add it to "
                           "data/use_of_force/vocab.py.", file=str(path), column=column, value=unknown[0])
    mapped = np.array([table[k] for k in keys] + [table.get("")], dtype=object)  # code -1 -> ""
    return pd.Series(mapped[codes], index=raw.index, dtype=object)


def add_person_columns(out: pd.DataFrame, frame: pd.DataFrame, by_field: Mapping[str, str], *,
                       groups: Mapping[str, object], path: object) -> None:
    """Fill the person columns both record-level readers share: raw and mapped perceived ethnicity, age,
    gender, and the stop-and-search flag where the source has it (`by_field`: field -> the file's column)."""
    out["raw_ethnicity"] = frame[by_field["ethnicity"]].astype("string")
    out["group"] = map_values(frame[by_field["ethnicity"]], groups, column=by_field["ethnicity"], path=path)
    for field in ("age", "gender"):
        if field in by_field:
            out[field] = frame[by_field[field]].astype("string")
    if "effect_stop_search" in by_field:
        column = by_field["effect_stop_search"]
        out["effect_stop_search"] = map_values(frame[column], vocab.FLAG_VALUES, column=column, path=path)


def finish(frame: pd.DataFrame) -> pd.DataFrame:
    """Fix column order and dtypes (missing tactic columns become all <NA>)."""
    out = pd.DataFrame(index=frame.index)
    for column, dtype in ID_COLUMNS.items():
        out[column] = (frame[column] if column in frame else pd.Series(pd.NA, index=frame.index)).astype(dtype)
    for tactic in vocab.TACTICS:
        values = frame[tactic] if tactic in frame else pd.Series(pd.NA, index=frame.index)
        out[tactic] = values.astype("boolean")
    return out.reset_index(drop=True)


def any_of(frame: pd.DataFrame, tactic: str) -> pd.Series:
    """Report-level flag for a tactic or grouping: True if any part is True; <NA> if all parts unknown."""
    parts = [frame[p] for p in vocab.tactic_parts(tactic)]
    result = parts[0].copy()
    for part in parts[1:]:
        result = result | part  # Kleene logic: True | NA = True, False | NA = NA
    return result
