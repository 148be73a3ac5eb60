"""Data quality per force: months stored, fields left empty, and how self- and officer-defined ethnicity agree."""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.rates import POOLED, codes, person_mask
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
    found, forces = pd.factorize(records["force"].astype(str), use_na_sentinel=False)  # in order of appearance
    n = np.bincount(found, minlength=len(forces))
    empty_counts = {name: np.bincount(found[empty], minlength=len(forces)) for name, empty in missing.items()}
    # a missing force id matches no record (nan != nan), so every field counts as empty for it
    return {force: [FIELDS[name] for name, counts in empty_counts.items() if pd.isna(force) or counts[i] == n[i]]
            for i, force in enumerate(forces)}


def _share(count: np.int64, of: int) -> float:
    return float(count / of) if of else np.nan


def _per_force(f: np.ndarray, mask: np.ndarray, n_f: int) -> np.ndarray:
    """How many records of each force (codes `f`, -1: not selected) have `mask`, the pooled sum appended."""
    counts = np.bincount(f[mask & (f >= 0)], minlength=n_f).astype("int64")
    return np.append(counts, counts.sum())


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
    n_f = len(forces)
    # every count is per force on category codes (the pooled unit, last, sums them): no per-force copies
    f = codes(records["force"], forces)
    n = _per_force(f, np.ones(len(records), bool), n_f)
    missing = {name: _per_force(f, empty, n_f) for name, empty in _missing(records).items()}
    dated_values = records["date_only"]
    dated = dated_values.notna().to_numpy(bool)
    date_only = np.zeros(len(records), bool)
    date_only[dated] = dated_values[dated].to_numpy(bool)
    n_dated, n_date_only = _per_force(f, dated, n_f), _per_force(f, date_only, n_f)
    person = person_mask(records)
    n_persons = _per_force(f, person, n_f)
    n_not_stated = _per_force(f, person & records[ethnicity_column].eq(vocab.NOT_STATED).fillna(False)
                              .to_numpy(bool), n_f)
    recorded = {name: _per_force(f, records[name].notna().to_numpy(bool), n_f) for name in BOOLEAN_FIELDS}
    false = {name: _per_force(f, records[name].eq(False).fillna(False).to_numpy(bool), n_f)
             for name in BOOLEAN_FIELDS}
    status_counts = unique_pairs = None
    if manifest is not None:
        entries = manifest.loc[manifest["force"].isin(forces) & manifest["month"].isin(months)]
        entry_force = codes(entries["force"], forces)
        status = entries["status"]
        status_counts = {name: _per_force(entry_force, status.eq(key).to_numpy(bool), n_f)
                         for key, name in STATUS_COLUMNS.items()}
        pairs = entries.drop_duplicates(["force", "month"])
        unique_pairs = _per_force(codes(pairs["force"], forces), np.ones(len(pairs), bool), n_f)
    rows = []
    units = [(force, [force]) for force in forces] + ([(POOLED, forces)] if len(forces) > 1 else [])
    for i, (unit, covered) in enumerate(units):
        size = int(n[i])
        one_way = [FIELDS[name] + " (True or blank, never False)" for name in BOOLEAN_FIELDS
                   if 0 < recorded[name][i] < size and not false[name][i] > 0]
        row: dict[str, object] = {
            "force": unit, "forces": ",".join(covered), "records": size,
            "share_no_location": _share(missing["latitude"][i], size),
            "share_date_only": _share(n_date_only[i], int(n_dated[i])),
            "share_ethnicity_not_stated": _share(n_not_stated[i], int(n_persons[i])),
            "share_outcome_not_recorded": _share(missing["outcome"][i], size),
            "share_outcome_linked_not_recorded": _share(missing["outcome_linked_to_object"][i], size),
            "share_removal_not_recorded": _share(missing["removal_of_more_than_outer_clothing"][i], size),
            "not_recorded": ", ".join(FIELDS[k] for k, v in missing.items() if size and v[i] == size),
            "recorded_one_way": "; ".join(one_way),
        }
        if status_counts is not None and unique_pairs is not None:
            for name, counts in status_counts.items():
                row[name] = int(counts[i])
            row["months_missing"] = len(covered) * len(months) - int(unique_pairs[i])
        rows.append(row)
    out = pd.DataFrame(rows)
    for name in (*STATUS_COLUMNS.values(), "months_missing"):
        out[name] = pd.array(out[name] if name in out else [pd.NA] * len(out), dtype="Int64")
    out["records"] = out["records"].astype("int64")
    return out[QUALITY_COLUMNS]


def _broad_codes(values: pd.Series, categories: tuple[str, ...]) -> np.ndarray:
    """Positions in `categories` (on category codes); a missing value is the last category, 'Unrecognised label'."""
    out = codes(values, categories)
    out[values.isna().to_numpy(bool)] = len(categories) - 1
    return out


def agreement(records: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    """Self-defined (rows) against officer-defined (columns) broad ethnicity for searches of persons, by
    force and pooled: count and the share of the self-defined row. A label no table knows is its own
    category ('Unrecognised label'), never dropped. Columns AGREEMENT_COLUMNS."""
    forces = list(selection.forces)
    person = person_mask(records)
    categories = (*vocab.BROAD_WITH_NOT_STATED, UNRECOGNISED)
    self_codes = _broad_codes(records["self_defined_broad"], categories)[person]
    officer_codes = _broad_codes(records["officer_defined_broad"], categories)[person]
    f = codes(records["force"], forces)[person]
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
