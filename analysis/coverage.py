"""Which selected forces have published data in the period, so no rate is computed from months nobody holds.

A force with no 'ok' or 'empty' month in the period (never published, failed, or never fetched) would
otherwise show 0 searches and put its residents into pooled denominators. It is left out of the selection,
with the reason, and forces with only some months are named so that their figures can be read with care.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from analysis.selection import Selection
from data import reference_data

PUBLISHED = ("ok", "empty")


@dataclass(frozen=True)
class Coverage:
    selection: Selection                                   # the forces with at least one published month
    left_out: dict[str, str] = field(default_factory=dict)  # force -> why it was left out
    partial: dict[str, str] = field(default_factory=dict)   # force -> which months are missing

    def notes(self) -> list[str]:
        """Plain-English lines for the screen, the report and stderr."""
        lines = [f"{reference_data.force_name(f)} left out: {why}." for f, why in self.left_out.items()]
        lines += [f"{reference_data.force_name(f)}: {what}; its residents count only for the months it "
                  "published, so its rates are annualised over those months." for f, what in self.partial.items()]
        return lines


def restrict_to_published(selection: Selection, manifest: pd.DataFrame | None) -> Coverage:
    """Keep the forces that published at least one month of the period; say what is missing for the rest."""
    if manifest is None:
        return Coverage(selection)
    months = selection.months
    in_period = manifest.loc[manifest["force"].astype(str).isin(selection.forces)
                             & manifest["month"].astype(str).isin(months)]
    status = {(str(f), str(m)): str(s) for f, m, s in
              zip(in_period["force"], in_period["month"], in_period["status"], strict=True)}
    kept: list[str] = []
    left_out: dict[str, str] = {}
    partial: dict[str, str] = {}
    held: list[tuple[str, int]] = []
    for force in selection.forces:
        states = [status.get((force, m), "not in the store") for m in months]
        published = sum(s in PUBLISHED for s in states)
        if not published:
            counts = pd.Series(states).value_counts()
            left_out[force] = "no published month in the store for this period (" + ", ".join(
                f"{n} {s.replace('_', ' ')}" for s, n in counts.items()) + ")"
            continue
        kept.append(force)
        if published < len(months):
            held.append((force, published))
            missing = [f"{m} {s.replace('_', ' ')}" for m, s in zip(months, states, strict=True)
                       if s not in PUBLISHED]
            partial[force] = f"{published} of {len(months)} months published (missing: {', '.join(missing)})"
    return Coverage(replace(selection, forces=tuple(kept), months_published=tuple(held)), left_out, partial)
