"""The canonical stop-and-search record: one table shape for API replies and bulk files alike.

Raw columns are what the source said (labels kept verbatim). Derived columns (groups and harmonised
categories) are computed from them by `add_derived_columns` through the tables in `data.vocab`, so a
better mapping applies to everything already stored.
"""
from __future__ import annotations

import pandas as pd

from data import vocab

# name -> pandas dtype of the raw canonical columns, in order. "category" = open vocabulary.
RAW_COLUMNS: dict[str, str] = {
    "force": "category",                      # data.police.uk force id, e.g. "metropolitan"
    "month": "category",                      # "YYYY-MM", from the request or file name, never the stamp
    "datetime": "datetime64[ns]",             # as published: UK local clock time (written as +00:00)
    "date_only": "boolean",                   # True when the time is exactly 00:00:00 (date-only records)
    "type": "category",
    "involved_person": "boolean",
    "gender": "category",
    "age_range": "category",
    "self_defined_ethnicity": "category",     # raw label
    "officer_defined_ethnicity": "category",  # raw label
    "legislation": "category",
    "object_of_search": "category",
    "outcome": "category",                    # raw label
    "outcome_linked_to_object": "boolean",
    "removal_of_more_than_outer_clothing": "boolean",
    "operation": "boolean",
    "operation_name": "category",
    "latitude": "float64",
    "longitude": "float64",
    "street": "category",
}

# Derived columns with fixed category lists (the same categories in every frame, so they concatenate).
DERIVED_COLUMNS: dict[str, pd.CategoricalDtype] = {
    "self_defined_group": pd.CategoricalDtype(vocab.DETAILED_WITH_NOT_STATED),
    "self_defined_broad": pd.CategoricalDtype(vocab.BROAD_WITH_NOT_STATED),
    "officer_defined_broad": pd.CategoricalDtype(vocab.BROAD_WITH_NOT_STATED),
    "outcome_group": pd.CategoricalDtype(vocab.OUTCOME_CATEGORIES),
    "legislation_group": pd.CategoricalDtype(vocab.LEGISLATION_GROUPS),
}

CANONICAL_COLUMNS: tuple[str, ...] = (*RAW_COLUMNS, *DERIVED_COLUMNS)


def empty_frame() -> pd.DataFrame:
    """A zero-row canonical frame (raw and derived columns) with the right dtypes."""
    frame = pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in RAW_COLUMNS.items()})
    return add_derived_columns(frame)


def coerce_raw(frame: pd.DataFrame) -> pd.DataFrame:
    """Give a frame exactly the raw canonical columns, in order, with their dtypes."""
    missing = [c for c in RAW_COLUMNS if c not in frame.columns]
    if missing:
        raise KeyError(f"canonical frame lacks columns {missing}")
    out = frame.loc[:, list(RAW_COLUMNS)].copy()
    for name, dtype in RAW_COLUMNS.items():
        if str(out[name].dtype) != dtype:
            out[name] = out[name].astype(dtype)
    return out.reset_index(drop=True)


def _mapped(column: str, raw: pd.Series, dtype: pd.CategoricalDtype, *, via=None) -> pd.Series:
    """Map a raw label column into a fixed-category column, once per distinct label, not per record."""
    labels_of = raw if isinstance(raw.dtype, pd.CategoricalDtype) else raw.astype("category")
    labels = [vocab.lookup(column, c) for c in labels_of.cat.categories] + [vocab.lookup(column, "")]
    if via is not None:
        labels = [via(v) for v in labels]
    target = dtype.categories.get_indexer(pd.Index(labels, dtype=object))  # unseen label -> -1 (<NA>)
    # code -1 (missing raw value) indexes the last entry: the table's category for an empty label
    codes = target[labels_of.cat.codes.to_numpy()]
    return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype), index=raw.index)


# Each derived column, the raw column it is mapped from, and (for broad groups) the step after the mapping.
DERIVED_SOURCES: dict[str, str] = {
    "self_defined_group": "self_defined_ethnicity",
    "self_defined_broad": "self_defined_ethnicity",
    "officer_defined_broad": "officer_defined_ethnicity",
    "outcome_group": "outcome",
    "legislation_group": "legislation",
}
_DERIVED_VIA = {"self_defined_broad": vocab.broad_of_detailed}


def raw_columns_for(columns: list[str]) -> list[str]:
    """The raw columns to read for `columns` (raw or derived names), in canonical order."""
    wanted = {DERIVED_SOURCES.get(c, c) for c in columns}
    unknown = wanted - set(RAW_COLUMNS)
    if unknown:
        raise KeyError(f"not a canonical column: {', '.join(sorted(unknown))}")
    return [c for c in RAW_COLUMNS if c in wanted]


def add_derived_columns(frame: pd.DataFrame, names: list[str] | tuple[str, ...] | None = None) -> pd.DataFrame:
    """Add the mapped categories (every derived column, or `names`). Unseen labels become <NA> in the
    derived column; the raw label stays."""
    out = frame.copy(deep=False)  # new columns only: the caller's frame is never changed (copy-on-write)
    for name in DERIVED_COLUMNS if names is None else names:
        source = DERIVED_SOURCES[name]
        out[name] = _mapped(source, out[source], DERIVED_COLUMNS[name], via=_DERIVED_VIA.get(name))
    return out


def label_counts(records: pd.DataFrame, columns) -> dict[str, dict[str, int]]:
    """{raw column: {label: records}}, most frequent first; records without a label are counted under ''."""
    counts: dict[str, dict[str, int]] = {}
    for column in columns:
        values = records[column].value_counts(dropna=False) if len(records) else pd.Series(dtype="int64")
        counts[column] = {("" if pd.isna(k) else str(k)): int(n) for k, n in values.items() if n}
    return counts


def unknown_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """Every raw label no mapping table knows: column, label, records. Shown by `python -m data status`."""
    rows = [
        {"column": column, "label": label, "records": n}
        for column in vocab.MAPPINGS
        for label, n in vocab.unknown_labels(column, frame[column]).items()
    ]
    return pd.DataFrame(rows, columns=["column", "label", "records"])
