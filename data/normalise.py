"""Turn API replies and bulk CSV files into canonical raw records (see data.schema)."""
from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from data import schema, validate
from data.errors import BadFile, BadResponse, printable

# The bulk CSV header (identical in every file 2017..2025) and the canonical column each feeds.
CSV_COLUMNS: dict[str, str] = {
    "Type": "type",
    "Date": "datetime",
    "Part of a policing operation": "operation",
    "Policing operation": "operation_name",
    "Latitude": "latitude",
    "Longitude": "longitude",
    "Gender": "gender",
    "Age range": "age_range",
    "Self-defined ethnicity": "self_defined_ethnicity",
    "Officer-defined ethnicity": "officer_defined_ethnicity",
    "Legislation": "legislation",
    "Object of search": "object_of_search",
    "Outcome": "outcome",
    "Outcome linked to object of search": "outcome_linked_to_object",
    "Removal of more than just outer clothing": "removal_of_more_than_outer_clothing",
}
CSV_NAMES: dict[str, str] = {canonical: header for header, canonical in CSV_COLUMNS.items()}
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def parse_bool(values: pd.Series, *, where: str, column: str) -> pd.Series:
    """'True'/'False'/'' (any case) or JSON true/false/null -> nullable boolean; anything else is an error."""
    text = values.astype("string").str.strip().str.lower()
    text = text.mask(text.eq(""))
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[text.isin(_TRUE).fillna(False).to_numpy(bool)] = True
    out[text.isin(_FALSE).fillna(False).to_numpy(bool)] = False
    bad = text.notna() & ~text.isin(_TRUE | _FALSE)
    if bad.any():
        example = values[bad.to_numpy(bool)].iloc[0]
        raise BadFile(f"{where}: column '{column}' holds '{printable(example)}', which is not True, False or empty.",
                      hint="Check that the file is a data.police.uk stop-and-search file.", file=where, column=column)
    return out


def parse_datetime(values: pd.Series, *, where: str, column: str = "Date", rows: str = "record",
                   offset: int = 1) -> pd.Series:
    """ISO 8601 stamps, with or without fractional seconds or time; the clock time is kept as published.
    A value that is not a date raises InvalidRecords: one line naming the record and the value."""
    parsed, bad = validate.parse_datetimes(values)
    if bad.any():
        raise validate.first_bad_date(values, bad, where=where, column=column, rows=rows, offset=offset)
    return parsed


def _finish(frame: pd.DataFrame, *, force: str, month: str, where: str, check: bool, source: str,
            record_months: Sequence[str] | np.ndarray | None = None, missing_keys: list[str] | None = None
            ) -> pd.DataFrame:
    names = CSV_NAMES if source == "csv" else validate.API_NAMES
    rows, offset = ("line", 2) if source == "csv" else ("record", 1)
    if check:  # validation at the door: on the values as they arrived (see data.validate)
        clean = validate.check_records(
            frame, month=month if record_months is None else record_months, where=where, source=source,
            names=names, rows=rows, offset=offset, missing_keys=missing_keys)
    else:
        clean = {"datetime": parse_datetime(frame["datetime"], where=where, column=names.get("datetime", "datetime"),
                                            rows=rows, offset=offset)}
    for name, values in clean.items():
        frame[name] = values
    frame["force"] = force
    frame["month"] = month
    stamp = frame["datetime"]
    frame["date_only"] = pd.array(stamp.notna() & stamp.eq(stamp.dt.normalize()), dtype="boolean")
    frame.loc[stamp.isna().to_numpy(), "date_only"] = pd.NA
    for name in ("operation", "outcome_linked_to_object", "removal_of_more_than_outer_clothing", "involved_person"):
        frame[name] = parse_bool(frame[name], where=where, column=name)
    for name in ("latitude", "longitude"):
        if name in clean:
            continue
        numbers = pd.to_numeric(frame[name].astype("string").str.strip().replace("", pd.NA), errors="coerce")
        frame[name] = numbers.astype("float64")
    text_columns = [c for c, d in schema.RAW_COLUMNS.items() if d == "category" and c not in ("force", "month")]
    for name in [c for c in text_columns if c not in clean]:
        column = frame[name].astype("string").str.strip()
        frame[name] = column.mask(column.eq(""))
    return schema.coerce_raw(frame)


def from_api_records(records: object, *, force: str, month: str, where: str | None = None, check: bool = False,
                     record_months: Sequence[str] | np.ndarray | None = None) -> pd.DataFrame:
    """One /api/stops-force reply (a JSON list of stop objects) -> canonical raw records.

    `check=True` (what fetch does) refuses a reply holding anything that is not a published stop record
    (data.validate); `record_months` gives each record's month when several replies are read at once."""
    where = where or f"stops-force {force} {month}"
    if not isinstance(records, list):
        raise BadResponse(f"{where}: the reply is a JSON {type(records).__name__}, not a list of searches.",
                          hint="The API may have changed or returned an error page; try again later.",
                          force=force, month=month)
    rows = []
    missing = []
    for number, item in enumerate(records, 1):
        if not isinstance(item, Mapping):
            raise BadResponse(f"{where}: record {number} of the reply is not an object: {printable(repr(item), limit=80)}.",
                              hint="The API may have changed or answered with an error; try again later.",
                              force=force, month=month)
        if check:
            missing.append(validate.missing_api_keys(item))
        location = item.get("location") or {}
        street = location.get("street") or {}
        outcome = item.get("outcome")
        if outcome is None or outcome == "":
            outcome = (item.get("outcome_object") or {}).get("name") or ""
        vehicle_only = item.get("type") == "Vehicle search"
        involved = item.get("involved_person")
        rows.append({
            "datetime": item.get("datetime"),
            "type": item.get("type"),
            "involved_person": (not vehicle_only) if involved is None else involved,
            "gender": item.get("gender"),
            "age_range": item.get("age_range"),
            "self_defined_ethnicity": item.get("self_defined_ethnicity"),
            "officer_defined_ethnicity": item.get("officer_defined_ethnicity"),
            "legislation": item.get("legislation"),
            "object_of_search": item.get("object_of_search"),
            "outcome": "False" if outcome is False else outcome,
            "outcome_linked_to_object": item.get("outcome_linked_to_object_of_search"),
            "removal_of_more_than_outer_clothing": item.get("removal_of_more_than_outer_clothing"),
            "operation": item.get("operation"),
            "operation_name": item.get("operation_name"),
            "latitude": location.get("latitude"),
            "longitude": location.get("longitude"),
            "street": street.get("name"),
        })
    columns = [c for c in schema.RAW_COLUMNS if c not in ("force", "month", "date_only")]
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    return _finish(frame, force=force, month=month, where=where, check=check, source="api",
                   record_months=record_months, missing_keys=missing if check else None)


def _is_utf16(payload: bytes) -> bool:
    """A UTF-16 byte-order mark, or ASCII text with a NUL after (or before) every character."""
    head = payload[:64]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return len(head) >= 8 and max(head[0::2].count(0), head[1::2].count(0)) >= len(head) // 2 - 1


def read_csv_table(source: bytes | str | Path, *, where: str) -> pd.DataFrame:
    """Read a stop-and-search CSV as strings (empty = missing); check the header, naming any missing column."""
    table = read_csv_arrow(source, where=where)
    return table.to_pandas(types_mapper={pa.string(): pd.StringDtype()}.get)


def read_csv_arrow(source: bytes | str | Path, *, where: str) -> pa.Table:
    """read_csv_table's columns (CSV header names, in CSV_COLUMNS order) as an Arrow table of strings."""
    payload = Path(source).read_bytes() if isinstance(source, (str, Path)) else source
    if _is_utf16(payload):
        raise BadFile(f"{where}: the file is UTF-16 text; data.police.uk files are UTF-8 (or plain ASCII).",
                      hint="Use the file as downloaded, or save it again as 'CSV UTF-8'.", file=where)
    if payload.startswith(b"\xef\xbb\xbf"):
        payload = payload[3:]
    if not payload.endswith((b"\n", b"\r")):
        payload += b"\n"  # a header-only file without a final newline is an empty month, not a broken file
    if not payload.strip():
        raise BadFile(f"{where}: the file is empty (no header).",
                      hint="Download the file again from data.police.uk.", file=where)
    try:
        table = pacsv.read_csv(
            io.BytesIO(payload),
            read_options=pacsv.ReadOptions(block_size=1 << 24),
            parse_options=pacsv.ParseOptions(newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in CSV_COLUMNS},
                strings_can_be_null=True, null_values=[""], quoted_strings_can_be_null=True),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise BadFile(f"{where}: not a readable CSV file ({str(exc).splitlines()[0]}).",
                      hint="Download the file again; a half-finished download is a common cause.", file=where) from exc
    present = [str(c).strip() for c in table.column_names]
    missing = [c for c in CSV_COLUMNS if c not in present]
    if missing:
        unexpected = [c for c in present if c not in CSV_COLUMNS]
        instead = ", ".join(f"'{printable(u, limit=60)}'" for u in unexpected[:5])
        renamed = f" The file has instead: {instead}." if unexpected else ""
        raise BadFile(f"{where}: column {', '.join(repr(m) for m in missing)} is missing.{renamed}",
                      hint="A data.police.uk stop-and-search file's header names these 15 columns: "
                           + ", ".join(CSV_COLUMNS) + ". Download the file again from data.police.uk.",
                      file=where, column=missing[0])
    table = table.rename_columns(present)
    return table.select(list(CSV_COLUMNS))


def from_csv(source: bytes | str | Path, *, force: str, month: str, where: str | None = None, check: bool = False,
             record_months: Sequence[str] | np.ndarray | None = None) -> pd.DataFrame:
    """One force-month CSV (bulk-archive layout) -> canonical raw records; no record is dropped or merged.

    `check=True` (what import does) refuses a file holding anything that is not a published stop record
    (data.validate); `record_months` gives each record's month when several files are read at once."""
    where = where or str(source if not isinstance(source, bytes) else f"{month}-{force}-stop-and-search.csv")
    frame = read_csv_table(source, where=where).rename(columns=CSV_COLUMNS)
    frame["street"] = pd.NA  # the bulk files carry coordinates but no street name
    # the bulk files have no involved_person column: a person is involved unless it was a vehicle-only search
    frame["involved_person"] = np.where(frame["type"].eq("Vehicle search").fillna(False), "False", "True")
    frame.loc[frame["type"].isna().to_numpy(), "involved_person"] = pd.NA
    return _finish(frame, force=force, month=month, where=where, check=check, source="csv",
                   record_months=record_months)


def concat(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate canonical raw frames keeping categorical dtypes (categories unioned)."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return schema.coerce_raw(schema.empty_frame())
    from pandas.api.types import union_categoricals
    out = {}
    for name, dtype in schema.RAW_COLUMNS.items():
        if dtype == "category":
            out[name] = union_categoricals([f[name] for f in frames], ignore_order=True)
        else:
            out[name] = pd.concat([f[name] for f in frames], ignore_index=True)
    return pd.DataFrame(out)
