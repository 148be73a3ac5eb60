"""Build canonical records from counts (vectorised), for tests and benchmarks of the analysis tables."""
from __future__ import annotations

import numpy as np
import pandas as pd

from data import schema, vocab

# One published raw label per Census group, so the records go through the real label mapping.
LABEL_OF_GROUP: dict[str, str] = {}
for _label, _group in vocab.SELF_DEFINED_ETHNICITY.items():
    if _label and "(" not in _label:
        LABEL_OF_GROUP.setdefault(_group, _label)
LABEL_OF_GROUP[vocab.NOT_STATED] = "Other ethnic group - Not stated"
# A broad group stands for its first detailed group's label.
for _broad in vocab.BROAD_GROUPS:
    LABEL_OF_GROUP[_broad] = LABEL_OF_GROUP[next(g for g, b in vocab.DETAILED_GROUPS.items() if b == _broad)]


def records_from_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """counts: columns force, month, n and optionally group (a Census group name, broad or detailed, or
    'Not stated'), label (a raw self-defined label, overrides group), officer (raw officer label),
    type (default 'Person search'). Returns raw + derived canonical records, n rows per count row."""
    n = counts["n"].to_numpy("int64")
    idx = np.repeat(np.arange(len(counts)), n)

    def col(name: str, default: object) -> np.ndarray:
        if name in counts:
            return counts[name].to_numpy(object)[idx]
        return np.full(len(idx), default, dtype=object)

    if "label" in counts:
        label = col("label", None)
    else:
        label = np.array([LABEL_OF_GROUP[g] for g in counts["group"]], dtype=object)[idx]
    empty = {"float64": np.nan, "datetime64[ns]": pd.NaT}
    frame = pd.DataFrame({name: pd.Series(empty.get(dtype), index=range(len(idx)),
                                          dtype=dtype if dtype in empty else object)
                          for name, dtype in schema.RAW_COLUMNS.items()})
    frame["force"] = col("force", None)
    frame["month"] = col("month", None)
    frame["type"] = col("type", "Person search")
    frame["involved_person"] = pd.array(frame["type"].ne("Vehicle search"), dtype="boolean")
    frame["self_defined_ethnicity"] = label
    frame["officer_defined_ethnicity"] = col("officer", None)
    frame["datetime"] = pd.to_datetime(frame["month"] + "-15")
    return schema.add_derived_columns(schema.coerce_raw(frame))


def spread(total: int, weights: np.ndarray) -> np.ndarray:
    """Split an integer total in proportion to weights, largest remainder first (sums exactly)."""
    weights = np.asarray(weights, dtype=float)
    share = total * weights / weights.sum()
    out = np.floor(share).astype("int64")
    left = int(total - out.sum())
    out[np.argsort(-(share - out), kind="stable")[:left]] += 1
    return out
