"""Data quality per force: months stored, fields left empty, and how self- and officer-defined ethnicity agree."""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.rates import POOLED, codes, searches_of_persons
from analysis.selection import ETHNICITY_COLUMNS, Selection
from data import vocab

QUALITY_COLUMNS = ["force", "months_ok", "months_empty", "months_not_published", "months_failed", "records",
                   "share_no_location", "share_date_only", "share_ethnicity_not_stated",
                   "share_outcome_not_recorded", "share_outcome_linked_not_recorded",
                   "share_removal_not_recorded", "months_missing", "not_recorded", "recorded_one_way", "forces"]
AGREEMENT_COLUMNS = ["force", "self_defined", "officer_defined", "count", "row_share", "forces"]
UNRECOGNISED = "Unrecognised label"
STATUS_COLUMNS = {"ok": "months_ok", "empty": "months_empty", "not_published": "months_not_published",
                  "failed": "months_failed"}
# Fields whose complete absence for a force matters to some table, and how to say so.
FIELDS: dict[str, str] = {
    "latitude": "location", "gender": "gender", "age_range": "age range",
    "self_defined_ethnicity": "self-defined ethnicity", "officer_defined_ethnicity": "officer-defined ethnicity",
    "legislation": "legislation", "object_of_search": "object of search", "outcome": "outcome",
    "outcome_linked_to_object": "outcome linked to object of search",
    "removal_of_more_than_outer_clothing": "removal of more than outer clothing",
}
BOOLEAN_FIELDS = ("outcome_linked_to_object", "removal_of_more_than_outer_clothing")


def _missing(records: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per field: True where the record lacks it ('Not recorded' outcome = empty raw outcome)."""
    out = {name: records[name].isna().to_numpy(bool) for name in FIELDS}
    out["outcome"] = records["outcome_group"].eq("Not recorded").fillna(False).to_numpy(bool) \
        | records["outcome"].isna().to_numpy(bool)
    return out


def fields_not_recorded(records: pd.DataFrame) -> dict[str, list[str]]:
    """For each force with records: the fields (in words) that are empty in every one of its records."""
    missing = _missing(records)
    forces = records["force"].astype(str).to_numpy()
    out: dict[str, list[str]] = {}
    for force in dict.fromkeys(forces):
        rows = forces == force
        out[force] = [FIELDS[name] for name, empty in missing.items() if empty[rows].all()]
    return out


def _unit_row(records: pd.DataFrame, persons: pd.DataFrame, ethnicity_column: str) -> dict[str, object]:
    n = len(records)
    missing = _missing(records)
    one_way = []
    for name in BOOLEAN_FIELDS:
        values = records[name]
        if 0 < values.notna().sum() < n and not values.eq(False).fillna(False).any():
            one_way.append(FIELDS[name] + " (True or blank, never False)")

    def share(mask: np.ndarray, of: int) -> float:
        return float(mask.sum() / of) if of else np.nan

    dated = records["date_only"].dropna()
    return {
        "records": n,
        "share_no_location": share(missing["latitude"], n),
        "share_date_only": share(dated.to_numpy(bool), len(dated)),
        "share_ethnicity_not_stated": share(persons[ethnicity_column].eq(vocab.NOT_STATED).fillna(False)
                                            .to_numpy(bool), len(persons)),
        "share_outcome_not_recorded": share(missing["outcome"], n),
        "share_outcome_linked_not_recorded": share(missing["outcome_linked_to_object"], n),
        "share_removal_not_recorded": share(missing["removal_of_more_than_outer_clothing"], n),
        "not_recorded": ", ".join(FIELDS[k] for k, v in missing.items() if n and v.all()),
        "recorded_one_way": "; ".join(one_way),
    }


def quality(records: pd.DataFrame, selection: Selection, *, manifest: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per selected force (and pooled 'ALL'): months by store status (from a Store.manifest() frame),
    records, and the share of records lacking each field. Columns QUALITY_COLUMNS.

    Shares are of all records, except share_ethnicity_not_stated (searches of persons, in the selection's
    ethnicity definition). `not_recorded` names fields empty in every record of the force: tables that need
    them say 'not recorded by this force'. A force without records has nan shares.
    """
    forces = list(selection.forces)
    months = set(selection.months)
    ethnicity_column = ETHNICITY_COLUMNS[selection.ethnicity]["broad"]
    entries = None
    if manifest is not None:
        entries = manifest.loc[manifest["force"].isin(forces) & manifest["month"].isin(months)]
    force_ids = records["force"].astype(str).to_numpy()
    rows = []
    units = [(f, [f]) for f in forces] + ([(POOLED, forces)] if len(forces) > 1 else [])
    for unit, covered in units:
        subset = records.loc[np.isin(force_ids, covered)]
        row: dict[str, object] = {"force": unit, "forces": ",".join(covered)}
        row.update(_unit_row(subset, searches_of_persons(subset), ethnicity_column))
        if entries is not None:
            mine = entries.loc[entries["force"].isin(covered)]
            for status, name in STATUS_COLUMNS.items():
                row[name] = int(mine["status"].eq(status).sum())
            row["months_missing"] = len(covered) * len(months) - len(mine.drop_duplicates(["force", "month"]))
        rows.append(row)
    out = pd.DataFrame(rows)
    for name in (*STATUS_COLUMNS.values(), "months_missing"):
        out[name] = pd.array(out[name] if name in out else [pd.NA] * len(out), dtype="Int64")
    out["records"] = out["records"].astype("int64")
    return out[QUALITY_COLUMNS]


def agreement(records: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    """Self-defined (rows) against officer-defined (columns) broad ethnicity for searches of persons, by
    force and pooled: count and the share of the self-defined row. A label no table knows is its own
    category ('Unrecognised label'), never dropped. Columns AGREEMENT_COLUMNS."""
    forces = list(selection.forces)
    persons = searches_of_persons(records)
    categories = (*vocab.BROAD_WITH_NOT_STATED, UNRECOGNISED)
    self_codes = codes(persons["self_defined_broad"].astype(object).fillna(UNRECOGNISED), categories)
    officer_codes = codes(persons["officer_defined_broad"].astype(object).fillna(UNRECOGNISED), categories)
    f = codes(persons["force"], forces)
    n_c, n_f = len(categories), len(forces)
    ok = f >= 0
    counts = np.bincount((f[ok] * n_c + self_codes[ok]) * n_c + officer_codes[ok],
                         minlength=n_f * n_c * n_c).reshape(n_f, n_c, n_c)
    units, covers = list(forces), list(forces)
    if n_f > 1:
        counts = np.concatenate([counts, counts.sum(axis=0, keepdims=True)])
        units.append(POOLED)
        covers.append(",".join(forces))
    # keep the unrecognised row/column only when something is in it
    keep = n_c if counts[:, -1, :].sum() + counts[:, :, -1].sum() else n_c - 1
    counts = counts[:, :keep, :keep]
    labels = np.array(categories[:keep], dtype=object)
    row_totals = counts.sum(axis=2, keepdims=True).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = np.where(row_totals > 0, counts / row_totals, np.nan)
    u = len(units)
    return pd.DataFrame({
        "force": np.repeat(np.array(units, dtype=object), keep * keep),
        "self_defined": np.tile(np.repeat(labels, keep), u),
        "officer_defined": np.tile(labels, u * keep),
        "count": counts.ravel().astype("int64"),
        "row_share": shares.ravel(),
        "forces": np.repeat(np.array(covers, dtype=object), keep * keep),
    })[AGREEMENT_COLUMNS]
