"""Implausible months: a force-month whose record count is far out of line with the force's nearby months.

A month holding 12 records between months of ~430 (Leicestershire 2021-05) is stored as 'ok' yet is almost
certainly a partial upload; it dips every rolling rate that contains it. Each month is compared with the
median of the force's published months around it (up to six either side, itself left out), on a log scale
so that a halving and a doubling weigh alike; the spread is the force's own median absolute deviation of
those log ratios (a robust scale: one bad month cannot hide another, Iglewicz and Hoaglin 1993). A month is
flagged when its modified z-score exceeds 3.5 (their recommended cut-off) and it is at least twice or at
most half its neighbours (so a force with very steady counts is not flagged for small changes).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from data import reference_data

Z_CUTOFF = 3.5          # Iglewicz & Hoaglin (1993), modified z-scores
MIN_FOLD = 2.0          # and at least a two-fold departure from the neighbours
NEIGHBOURS = 6          # months either side
MIN_MONTHS = 7          # fewer published months than this: no test
COLUMNS = ["force", "month", "records", "neighbour_median", "fold", "robust_z", "reason"]


def _neighbour_medians(values: np.ndarray) -> np.ndarray:
    """For each month, the median of the NEIGHBOURS months either side that exist (itself left out)."""
    padded = np.concatenate([np.full(NEIGHBOURS, np.nan), values, np.full(NEIGHBOURS, np.nan)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * NEIGHBOURS + 1)
    around = np.delete(windows, NEIGHBOURS, axis=1)  # (months, 2 * NEIGHBOURS) with nan past either end
    return np.nanmedian(around, axis=1)


def implausible_months(manifest: pd.DataFrame) -> pd.DataFrame:
    """Flagged force-months from a store manifest (status ok or empty), with the reason in words."""
    if manifest is None or not len(manifest):
        return pd.DataFrame(columns=COLUMNS)
    rows = manifest.loc[manifest["status"].isin(["ok", "empty"]), ["force", "month", "records"]]
    rows = pd.DataFrame({"force": rows["force"].astype(str).to_numpy(), "month": rows["month"].astype(str).to_numpy(),
                         "records": pd.to_numeric(rows["records"], errors="coerce").fillna(0).to_numpy(float)})
    rows = rows.sort_values(["force", "month"], kind="stable")  # each force's months in order, forces sorted
    all_forces, all_months, all_counts = (rows[c].to_numpy() for c in ("force", "month", "records"))
    starts = np.flatnonzero(np.r_[True, all_forces[1:] != all_forces[:-1]])[:len(rows)]
    out = []
    for start, stop in zip(starts, [*starts[1:], len(rows)][:len(starts)], strict=True):  # one force at a time
        force, counts = str(all_forces[start]), all_counts[start:stop]
        if len(counts) < MIN_MONTHS:
            continue
        logs = np.log1p(counts)
        medians = _neighbour_medians(logs)
        residual = logs - medians
        mad = float(np.median(np.abs(residual - np.median(residual))))
        if mad == 0:
            mad = float(np.mean(np.abs(residual - np.median(residual)))) or 1e-9
        z = 0.6745 * (residual - np.median(residual)) / mad
        fold = np.expm1(logs) / np.maximum(np.expm1(medians), 1e-9)
        flagged = (np.abs(z) > Z_CUTOFF) & ((fold >= MIN_FOLD) | (fold <= 1 / MIN_FOLD))
        months = all_months[start:stop]
        for i in np.flatnonzero(flagged):
            neighbours = float(np.expm1(medians[i]))
            direction = "fewer" if fold[i] < 1 else "more"
            out.append({
                "force": force, "month": months[i], "records": int(counts[i]),
                "neighbour_median": round(neighbours, 1), "fold": float(fold[i]), "robust_z": float(z[i]),
                "reason": (f"{reference_data.force_name(force)} {months[i]}: {int(counts[i]):,} records against a "
                           f"median of {neighbours:,.0f} in the months around it ({direction} than expected, "
                           f"robust z = {z[i]:.1f}); probably an incomplete or duplicated upload, so rolling "
                           "figures that contain it are affected"),
            })
    return pd.DataFrame(out, columns=COLUMNS)


def in_selection(flags: pd.DataFrame, forces: tuple[str, ...] | list[str], start: str, end: str) -> pd.DataFrame:
    """The flags for some forces and months."""
    if not len(flags):
        return flags
    keep = flags["force"].isin(list(forces)) & flags["month"].between(start, end)
    return flags.loc[keep]
