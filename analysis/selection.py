"""What the user asked for: forces, period, filters and choices, and the records that match."""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from data import reference_data
from data.months import month_range

FILTERABLE = ("type", "legislation_group", "legislation", "object_of_search", "age_range", "gender")
ETHNICITY_COLUMNS = {
    "self": {"broad": "self_defined_broad", "detailed": "self_defined_group"},
    "officer": {"broad": "officer_defined_broad", "detailed": "officer_defined_broad"},
}


@dataclass(frozen=True)
class Selection:
    forces: tuple[str, ...]
    start: str
    end: str
    ethnicity: str = "self"          # 'self' (default, as the Home Office) or 'officer'
    level: str = "broad"             # 'broad' (5 groups) or 'detailed' (19 Census groups; self-defined only)
    reference: str = "White"
    include_btp: bool = False        # BTP searches join pooled numerators only when asked
    filters: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())
    # force -> months of the period it published, for forces that missed some (analysis.coverage sets it):
    # their residents count only for the months they published (person-time), so a rate is not understated
    months_published: tuple[tuple[str, int], ...] = field(default=())
    # which Census divides: 'auto' (Home Office: 2011 up to 2019/20, 2021 from 2020/21, by the financial
    # year in which the period ends), or '2011' / '2021'
    census: str = "auto"
    # a view whose every period (financial year, 12-month window) is divided by its own Census
    # (analysis.long_trend); describe() and exports then name the Census of each part of the span
    per_period_census: bool = False

    def __post_init__(self) -> None:
        if self.ethnicity not in ETHNICITY_COLUMNS:
            raise ValueError(f"ethnicity must be 'self' or 'officer', not {self.ethnicity!r}")
        if self.level not in ("broad", "detailed"):
            raise ValueError(f"level must be 'broad' or 'detailed', not {self.level!r}")
        for column, _ in self.filters:
            if column not in FILTERABLE:
                raise ValueError(f"cannot filter on {column!r}; choose from {', '.join(FILTERABLE)}")
        if self.census not in reference_data.CENSUS_CHOICES:
            raise ValueError(f"census must be one of {', '.join(reference_data.CENSUS_CHOICES)}, "
                             f"not {self.census!r}")
        month_range(self.start, self.end)  # raises BadMonthRange on a malformed or reversed range

    @classmethod
    def build(cls, forces: str | list[str] | tuple[str, ...], start: str, end: str, *,
              filters: dict[str, list[str] | tuple[str, ...]] | None = None, **choices: object) -> Selection:
        """Resolve force ids ('all' allowed) and normalise filters into the hashable form."""
        ids = tuple(reference_data.resolve_forces(list(forces) if not isinstance(forces, str) else forces))
        pairs = tuple(sorted((k, tuple(v)) for k, v in (filters or {}).items() if v))
        return cls(forces=ids, start=start, end=end, filters=pairs, **choices)  # type: ignore[arg-type]

    @property
    def months(self) -> list[str]:
        return month_range(self.start, self.end)

    @property
    def n_months(self) -> int:
        return len(self.months)

    @property
    def filter_dict(self) -> dict[str, tuple[str, ...]]:
        return dict(self.filters)

    def coverage_share(self, force: str) -> float:
        """The share of the period's months this force published (1.0 unless told otherwise)."""
        held = dict(self.months_published).get(force)
        return 1.0 if held is None else held / self.n_months

    @property
    def census_year(self) -> str:
        """'2011' or '2021': the Census whose residents divide this period's searches."""
        return reference_data.census_for_period(self.end, self.census)

    @property
    def census_years(self) -> tuple[str, ...]:
        """The Censuses the view divides by: one, or for a per-period view every one its periods use."""
        if not self.per_period_census:
            return (self.census_year,)
        first = reference_data.census_for_period(self.start, self.census)
        return tuple(dict.fromkeys((first, self.census_year)))

    @property
    def census_label(self) -> str:
        """'Census 2011', 'Census 2021' or 'Census 2011 and 2021' (for export source lines)."""
        return "Census " + " and ".join(self.census_years)

    def census_note(self) -> str:
        """e.g. 'Census 2011 residents (auto: the period ends in 2019/20)'."""
        if len(self.census_years) > 1:
            return ("Census residents by period: 2011 up to 2019/20, 2021 from 2020/21 (auto, as the Home "
                    "Office)")
        if self.per_period_census:
            return f"Census {self.census_year} residents for every period ({'auto' if self.census == 'auto' else 'chosen'})"
        why = (f" (auto: the period ends in {reference_data.financial_year_label(self.end)})"
               if self.census == "auto" else " (chosen)")
        return f"Census {self.census_year} residents{why}"

    @property
    def group_column(self) -> str:
        return ETHNICITY_COLUMNS[self.ethnicity][self.level]

    def describe(self) -> str:
        """Plain English: forces, period, filters, ethnicity definition, reference group, census."""
        if len(self.forces) > 3:
            forces = f"{len(self.forces)} forces"
        else:
            forces = ", ".join(reference_data.force_name(f) for f in self.forces)
        period = self.start if self.start == self.end else f"{self.start} to {self.end}"
        ethnicity = "self-defined ethnicity" if self.ethnicity == "self" else "officer-defined ethnicity"
        parts = [forces, period, ethnicity, f"reference group {self.reference}", self.census_note()]
        for column, values in self.filters:
            parts.append(f"{column.replace('_', ' ')}: {', '.join(values)}")
        if self.include_btp:
            parts.append("BTP searches included in pooled figures")
        return "; ".join(parts)


def select(records: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    """The records in the selection's forces and months that pass every filter (never de-duplicated).

    When every record passes (the whole store selected), the records themselves are returned, not a copy:
    callers treat records as read-only."""
    mask = records["force"].isin(selection.forces) & records["month"].isin(selection.months)
    for column, allowed in selection.filters:
        mask &= records[column].isin(allowed)
    keep = mask.to_numpy(bool)
    return records if keep.all() else records.loc[keep]
