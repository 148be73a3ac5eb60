"""The record columns each table made from records reads, so a page asks the store for those alone.

A national year is ~0.6 million records: reading every column of it takes ~1 s, reading the eight the search
mix needs ~0.15 s. Each function here names what its table reads for a selection (tests/test_columns_read.py
checks that the table made from only these columns equals the one made from every column).
"""
from __future__ import annotations

from analysis.mix import MIX_DIMENSIONS
from analysis.quality import BOOLEAN_FIELDS, FIELDS
from analysis.rates import count_columns
from analysis.selection import ETHNICITY_COLUMNS, Selection


def mix_columns(selection: Selection) -> tuple[str, ...]:
    return (*count_columns(selection), *MIX_DIMENSIONS)


def outcome_columns(selection: Selection) -> tuple[str, ...]:
    return (*count_columns(selection), "outcome_group", "outcome_linked_to_object")


def thorough_columns(selection: Selection) -> tuple[str, ...]:
    return (*count_columns(selection), "removal_of_more_than_outer_clothing")


def agreement_columns(selection: Selection) -> tuple[str, ...]:
    return (*count_columns(selection), "self_defined_broad", "officer_defined_broad")


def quality_columns(selection: Selection) -> tuple[str, ...]:
    # both broad groups (mapped from ethnicity labels the table reads anyway): the agreement table on the
    # same page is then a subset of this read (app.dataset reuses it)
    broad = ETHNICITY_COLUMNS[selection.ethnicity]["broad"]
    return tuple(dict.fromkeys((*count_columns(selection), broad, *agreement_columns(selection), "date_only",
                                *FIELDS, *BOOLEAN_FIELDS, "outcome_group")))


def district_columns(selection: Selection) -> tuple[str, ...]:
    return (*count_columns(selection), "latitude", "longitude")


# table kind (app.tables) -> the columns it reads
COLUMNS_READ = {"mix": mix_columns, "outcomes": outcome_columns, "thorough": thorough_columns,
                "agreement": agreement_columns, "quality": quality_columns, "districts": district_columns}
