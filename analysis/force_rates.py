"""Rates per 1,000 residents for every group, one row per force: the Compare forces page's rates table.

Built from `analysis.rates.rates` (or `rates_from_counts`) output, nothing recomputed: each force's rate,
exact 95% interval and searches per group side by side, the pooled row last. A rate that cannot be given
(no residents, a small resident population, a group with no population such as 'Not stated') stays
blank (NaN), never zero, and the `Why blank` column says why.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.rates import POOLED
from data import reference_data

RATE_NEEDS = ("force", "group", "searches", "rate_per_1000", "ci_low", "ci_high", "reason")
POOLED_NAME = "All selected forces"


def force_name(force: object) -> str:
    text = str(force)
    return POOLED_NAME if text == POOLED else reference_data.force_name(text)


def rate_columns(group: str) -> tuple[str, str, str, str]:
    """The four column names a group gets: rate, interval low, interval high, searches."""
    return (f"{group} per 1,000", f"{group} 95% CI low", f"{group} 95% CI high", f"{group} searches")


def force_rate_table(rates: pd.DataFrame) -> pd.DataFrame:
    """One row per force (pooled last): `Force`, `force` (id), then per group with residents
    `<group> per 1,000`, `<group> 95% CI low`, `<group> 95% CI high`, `<group> searches`, then
    `Not stated searches` when present and `Why blank` (the reasons for any blank rate in the row)."""
    missing = [c for c in RATE_NEEDS if c not in rates.columns]
    if missing:
        raise ValueError(f"a rates table (analysis.rates.rates) is needed; missing columns: {', '.join(missing)}")
    if not len(rates):
        return pd.DataFrame(columns=["Force", "force", "Why blank"])
    forces = list(dict.fromkeys(rates["force"].astype(str)))
    forces = [f for f in forces if f != POOLED] + ([POOLED] if POOLED in forces else [])
    groups = list(dict.fromkeys(rates["group"].astype(str)))
    rated = set(rates.loc[pd.to_numeric(rates["rate_per_1000"], errors="coerce").notna(), "group"].astype(str))
    with_rates = [g for g in groups if g in rated]
    by = rates.assign(force=rates["force"].astype(str), group=rates["group"].astype(str)).set_index(["force", "group"])
    out = pd.DataFrame({"Force": [force_name(f) for f in forces], "force": forces})
    for group in with_rates:
        keys = pd.MultiIndex.from_product([forces, [group]])
        part = by.reindex(keys)
        rate, low, high, searches = rate_columns(group)
        out[rate] = pd.to_numeric(part["rate_per_1000"], errors="coerce").to_numpy(float)
        out[low] = pd.to_numeric(part["ci_low"], errors="coerce").to_numpy(float)
        out[high] = pd.to_numeric(part["ci_high"], errors="coerce").to_numpy(float)
        out[searches] = pd.to_numeric(part["searches"], errors="coerce").astype("Int64").to_numpy()
    for group in groups:
        if group not in rated:   # counted, but no population in any force: searches only
            part = by.reindex(pd.MultiIndex.from_product([forces, [group]]))
            out[f"{group} searches"] = pd.to_numeric(part["searches"], errors="coerce").astype("Int64").to_numpy()
    out["Why blank"] = [_why_blank(by, f, with_rates) for f in forces]
    return out


def _why_blank(by: pd.DataFrame, force: str, groups: list[str]) -> str:
    reasons: list[str] = []
    for group in groups:
        if (force, group) not in by.index:
            reasons.append(f"{group}: not in the selection")
            continue
        row = by.loc[(force, group)]
        rate = pd.to_numeric(pd.Series([row["rate_per_1000"]]), errors="coerce").iloc[0]
        reason = row["reason"]
        if np.isnan(rate) and isinstance(reason, str) and reason and reason not in reasons:
            reasons.append(reason)
    return "; ".join(reasons)
