"""Search mix by ethnic group: legislation, object of search, age range and gender, as counts and shares."""
from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from analysis.rates import POOLED, SMALL_N, codes, group_setup, person_mask
from analysis.selection import Selection
from data import reference_data, vocab

MIX_COLUMNS = ["force", "group", "dimension", "category", "count", "share", "group_searches", "small_n", "forces"]
NOT_RECORDED = "Not recorded"
UNRECOGNISED = "Unrecognised label"
# Fixed category orders (a category with no searches still gets a row, so groups line up); object of search
# is an open list, ordered by how often it occurs in the selection.
FIXED_CATEGORIES: dict[str, tuple[str, ...]] = {
    "legislation_group": vocab.LEGISLATION_GROUPS,
    "age_range": ("under 10", "10-17", "18-24", "25-34", "over 34", NOT_RECORDED),
    "gender": ("Male", "Female", "Other", NOT_RECORDED),
}
MIX_DIMENSIONS: tuple[str, ...] = ("legislation_group", "object_of_search", "age_range", "gender")
# the reference tables are fixed files: look each force up once, not on every table
_has_residents = cache(reference_data.has_residents)


def _labels(values: pd.Series) -> tuple[np.ndarray, list[object]]:
    """Per record, a code into the distinct labels (missing: -1), and the labels: the categories of a
    categorical column (no conversion of the records to Python objects), else the values seen."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy().astype("int64"), list(values.cat.categories)
    found, uniques = pd.factorize(values, use_na_sentinel=True)
    return found.astype("int64"), list(uniques)


def _values(column: pd.Series, person: np.ndarray, dimension: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """For the searches of persons (`person`, a mask on `column`): each one's position in the category
    order, and that order. Missing is 'Not recorded' (a raw legislation label no table knows: 'Unrecognised
    label'); fixed dimensions keep their order and add unexpected labels sorted; object of search is ordered
    by how often each occurs, 'Not recorded' last."""
    found, labels = _labels(column)
    found = found[person]
    labels.append(UNRECOGNISED if dimension == "legislation_group" else NOT_RECORDED)  # code -1 takes this
    per_code = np.bincount(np.where(found < 0, len(labels) - 1, found), minlength=len(labels))
    seen: dict[object, int] = {}
    for label, n in zip(labels, per_code, strict=True):
        if n:
            seen[label] = seen.get(label, 0) + int(n)
    fixed = FIXED_CATEGORIES.get(dimension)
    if fixed is not None:
        extra = tuple(sorted(str(v) for v in seen if v not in fixed))  # unexpected labels, kept
        categories = (*fixed, *extra)
    else:
        ordered = sorted((str(v) for v in seen if v != NOT_RECORDED), key=lambda v: (-seen[v], v))
        categories = (*ordered, NOT_RECORDED)
    lookup = pd.Index(list(categories)).get_indexer(pd.Index(labels, dtype=object)).astype("int64")
    return lookup[found], categories


def mix(records: pd.DataFrame, selection: Selection, *,
        dimensions: tuple[str, ...] = MIX_DIMENSIONS) -> pd.DataFrame:
    """Within each force (and pooled 'ALL') and group: how many searches of persons fell in each category of
    each dimension, and the share of the group's searches. Columns MIX_COLUMNS.

    Groups with no searches get no rows; every category of a dimension gets a row (0 when none), missing
    values are the category 'Not recorded', never dropped.
    """
    column, groups, _ = group_setup(selection)
    forces = tuple(selection.forces)
    person = person_mask(records)
    f = codes(records["force"], forces)[person]
    g = codes(records[column], groups)[person]
    ok = (f >= 0) & (g >= 0)
    n_f, n_g = len(forces), len(groups)
    totals = np.bincount(f[ok] * n_g + g[ok], minlength=n_f * n_g).reshape(n_f, n_g)
    members = [i for i, force in enumerate(forces) if _has_residents(force) or selection.include_btp]
    units = list(forces)
    covers = list(forces)
    if n_f > 1:
        units.append(POOLED)
        covers.append(",".join(forces[i] for i in members))
    frames = []
    for dimension in dimensions:
        c, categories = _values(records[dimension], person, dimension)
        n_c = len(categories)
        use = ok & (c >= 0)
        counts = np.bincount((f[use] * n_g + g[use]) * n_c + c[use], minlength=n_f * n_g * n_c)
        counts = counts.reshape(n_f, n_g, n_c)
        unit_totals = totals
        if n_f > 1:
            counts = np.concatenate([counts, counts[members].sum(axis=0, keepdims=True)])
            unit_totals = np.concatenate([totals, totals[members].sum(axis=0, keepdims=True)])
        u_idx, g_idx = np.nonzero(unit_totals > 0)
        if not len(u_idx):
            continue
        block = counts[u_idx, g_idx]                        # (rows, categories)
        denominators = unit_totals[u_idx, g_idx][:, None].astype(float)
        frames.append(pd.DataFrame({
            "force": np.repeat(np.array(units, dtype=object)[u_idx], n_c),
            "group": np.repeat(np.array(groups, dtype=object)[g_idx], n_c),
            "dimension": dimension,
            "category": np.tile(np.array(categories, dtype=object), len(u_idx)),
            "count": block.ravel().astype("int64"),
            "share": (block / denominators).ravel(),
            "group_searches": np.repeat(unit_totals[u_idx, g_idx], n_c).astype("int64"),
            "small_n": np.repeat(unit_totals[u_idx, g_idx] < SMALL_N, n_c),
            "forces": np.repeat(np.array(covers, dtype=object)[u_idx], n_c),
        }))
    if not frames:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in MIX_COLUMNS})
    out = pd.concat(frames, ignore_index=True)
    order = {name: i for i, name in enumerate(units)}
    out["_u"] = out["force"].map(order)
    out["_g"] = out["group"].map({name: i for i, name in enumerate(groups)})
    out["_d"] = out["dimension"].map({name: i for i, name in enumerate(dimensions)})
    out = out.sort_values(["_u", "_g", "_d"], kind="stable").reset_index(drop=True)
    return out[MIX_COLUMNS]
