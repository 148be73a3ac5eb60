"""The one explicit table that turns every raw label into its category (ethnicity, outcome, legislation).

Labels change between years and forces (../shared/DATA.md 1.5). Each mapping is a plain dict from the
published label to the category, so users and tests can read exactly which label became what.
Lookup ignores case and repeated whitespace. A label that is not in a table maps to <NA> and is kept
raw: `unknown_labels()` reports it, nothing is dropped.
"""
from __future__ import annotations

import re

import pandas as pd

BROAD_GROUPS: tuple[str, ...] = ("Asian", "Black", "Mixed", "White", "Other")
NOT_STATED = "Not stated"
BROAD_WITH_NOT_STATED: tuple[str, ...] = (*BROAD_GROUPS, NOT_STATED)

# Census 2021 TS021 detailed groups (codes 1-19) and their broad group.
DETAILED_GROUPS: dict[str, str] = {
    "Bangladeshi": "Asian", "Chinese": "Asian", "Indian": "Asian", "Pakistani": "Asian",
    "Other Asian": "Asian",
    "African": "Black", "Caribbean": "Black", "Other Black": "Black",
    "White and Asian": "Mixed", "White and Black African": "Mixed", "White and Black Caribbean": "Mixed",
    "Other Mixed": "Mixed",
    "White British": "White", "White Irish": "White", "Gypsy or Irish Traveller": "White", "Roma": "White",
    "Other White": "White",
    "Arab": "Other", "Any other ethnic group": "Other",
}
DETAILED_WITH_NOT_STATED: tuple[str, ...] = (*DETAILED_GROUPS, NOT_STATED)

# Self-defined ethnicity: published label -> Census 2021 detailed group (or Not stated).
# Two styles: the 2011 Census style (2017 on) and the coded PACE Code A / 2001 style (older files).
SELF_DEFINED_ETHNICITY: dict[str, str] = {
    "": NOT_STATED,
    # 2011 Census style
    "White - English/Welsh/Scottish/Northern Irish/British": "White British",
    "White - Irish": "White Irish",
    "White - Gypsy or Irish Traveller": "Gypsy or Irish Traveller",
    "White - Roma": "Roma",
    "White - Any other White background": "Other White",
    "Black/African/Caribbean/Black British - African": "African",
    "Black/African/Caribbean/Black British - Caribbean": "Caribbean",
    "Black/African/Caribbean/Black British - Any other Black/African/Caribbean background": "Other Black",
    "Asian/Asian British - Indian": "Indian",
    "Asian/Asian British - Pakistani": "Pakistani",
    "Asian/Asian British - Bangladeshi": "Bangladeshi",
    "Asian/Asian British - Chinese": "Chinese",
    "Asian/Asian British - Any other Asian background": "Other Asian",
    "Mixed/Multiple ethnic groups - White and Black Caribbean": "White and Black Caribbean",
    "Mixed/Multiple ethnic groups - White and Black African": "White and Black African",
    "Mixed/Multiple ethnic groups - White and Asian": "White and Asian",
    "Mixed/Multiple ethnic groups - Any other Mixed/Multiple ethnic background": "Other Mixed",
    "Other ethnic group - Arab": "Arab",
    "Other ethnic group - Any other ethnic group": "Any other ethnic group",
    "Other ethnic group - Not stated": NOT_STATED,
    # Coded 2001 / PACE Code A style
    "White - White British (W1)": "White British",
    "White - White Irish (W2)": "White Irish",
    "White - Irish (W2)": "White Irish",
    "White - Gypsy or Irish Traveller (W3)": "Gypsy or Irish Traveller",
    "White - Roma (W4)": "Roma",
    "White - Any other White ethnic background (W9)": "Other White",
    "White - Any other White background (W9)": "Other White",
    "Mixed - White and Black Caribbean (M1)": "White and Black Caribbean",
    "Mixed - White and Black African (M2)": "White and Black African",
    "Mixed - White and Asian (M3)": "White and Asian",
    "Mixed - Any other Mixed ethnic background (M9)": "Other Mixed",
    "Asian or Asian British - Indian (A1)": "Indian",
    "Asian or Asian British - Pakistani (A2)": "Pakistani",
    "Asian or Asian British - Bangladeshi (A3)": "Bangladeshi",
    "Asian or Asian British - Chinese (A4)": "Chinese",
    "Asian or Asian British - Any other Asian ethnic background (A9)": "Other Asian",
    "Black or Black British - Caribbean (B1)": "Caribbean",
    "Black or Black British - African (B2)": "African",
    "Black or Black British - Any other Black ethnic background (B9)": "Other Black",
    "Chinese or other ethnic group - Chinese (O1)": "Chinese",
    "Chinese or other ethnic group - Arab (O1)": "Arab",
    "Other ethnic group - Arab (O1)": "Arab",
    "Chinese or other ethnic group - Any other ethnic group (O9)": "Any other ethnic group",
    "Other ethnic group - Any other ethnic group (O9)": "Any other ethnic group",
    "Not Stated (NS)": NOT_STATED,
    "Not stated": NOT_STATED,
}

# Officer-defined ethnicity: a visual judgement in five broad groups.
OFFICER_DEFINED_ETHNICITY: dict[str, str] = {
    "": NOT_STATED, "White": "White", "Black": "Black", "Asian": "Asian", "Other": "Other", "Mixed": "Mixed",
}

# Outcome: one harmonised category across the old (to 2018) and new vocabularies.
OUTCOME_CATEGORIES: tuple[str, ...] = (
    "Arrest", "No further action", "Community resolution", "Cannabis or khat warning", "Penalty notice",
    "Summons", "Caution", "Article found, outcome unavailable", "Not recorded",
)
OUTCOME: dict[str, str] = {
    "": "Not recorded",
    # new vocabulary
    "Arrest": "Arrest",
    "A no further action disposal": "No further action",
    "Community resolution": "Community resolution",
    "Khat or Cannabis warning": "Cannabis or khat warning",
    "Penalty Notice for Disorder": "Penalty notice",
    "Summons / charged by post": "Summons",
    "Caution (simple or conditional)": "Caution",
    # old vocabulary
    "Suspect arrested": "Arrest",
    "Nothing found - no further action": "No further action",
    "Local resolution": "Community resolution",
    "Offender given drugs possession warning": "Cannabis or khat warning",
    "Offender given penalty notice": "Penalty notice",
    "Suspect summonsed to court": "Summons",
    "Offender cautioned": "Caution",
    "Article found - Detailed outcome unavailable": "Article found, outcome unavailable",
    "Suspected psychoactive substances seized - No further action": "No further action",
    # old API replies used JSON false for "nothing found"
    "False": "No further action",
}
# The three headline outcome classes used in analysis.
OUTCOME_CLASS: dict[str, str] = {
    "Arrest": "Arrest", "No further action": "No further action", "Community resolution": "Other action",
    "Cannabis or khat warning": "Other action", "Penalty notice": "Other action", "Summons": "Other action",
    "Caution": "Other action", "Article found, outcome unavailable": "Other action",
}

LEGISLATION_GROUPS: tuple[str, ...] = ("PACE s1", "Misuse of Drugs Act s23", "Section 60", "Other", "Not recorded")
LEGISLATION: dict[str, str] = {
    "": "Not recorded",
    "Police and Criminal Evidence Act 1984 (section 1)": "PACE s1",
    "Misuse of Drugs Act 1971 (section 23)": "Misuse of Drugs Act s23",
    "Criminal Justice and Public Order Act 1994 (section 60)": "Section 60",
    "Firearms Act 1968 (section 47)": "Other",
    "Criminal Justice Act 1988 (section 139B)": "Other",
    "Psychoactive Substances Act 2016 (s36(2))": "Other",
    "Psychoactive Substances Act 2016 (s37(2))": "Other",
    "Poaching Prevention Act 1862 (section 2)": "Other",
    "Wildlife and Countryside Act 1981 (section 19)": "Other",
    "Customs and Excise Management Act 1979 (section 163)": "Other",
    "Public Stores Act 1875 (section 6)": "Other",
    "Deer Act 1991 (section 12)": "Other",
    "Crossbows Act 1987 (section 4)": "Other",
    "Police and Criminal Evidence Act 1984 (section 6)": "Other",
    "Protection of Badgers Act 1992 (section 11)": "Other",
    "Terrorism Act 2000 (section 43)": "Other",
    "Terrorism Act 2000 (section 43A)": "Other",
    "Terrorism Act 2000 (section 47A)": "Other",
    "Aviation Security Act 1982 (section 27(1))": "Other",
    "Sporting Events (Control of Alcohol etc.) Act 1985 (section 7)": "Other",
    "Conservation of Seals Act 1970 (section 4)": "Other",
}

# Which mapping applies to which raw column of the canonical record.
MAPPINGS: dict[str, dict[str, str]] = {
    "self_defined_ethnicity": SELF_DEFINED_ETHNICITY,
    "officer_defined_ethnicity": OFFICER_DEFINED_ETHNICITY,
    "outcome": OUTCOME,
    "legislation": LEGISLATION,
}

_SPACE = re.compile(r"\s+")


def _key(label: object) -> str:
    if label is None or (isinstance(label, float) and label != label) or label is pd.NA:
        return ""
    return _SPACE.sub(" ", str(label)).strip().casefold()


_LOOKUP: dict[str, dict[str, str]] = {col: {_key(k): v for k, v in table.items()} for col, table in MAPPINGS.items()}


def lookup(column: str, label: object) -> str | None:
    """The category of one raw label, or None when the table has never seen it."""
    return _LOOKUP[column].get(_key(label))


def unknown_labels(column: str, raw: pd.Series) -> dict[str, int]:
    """Labels in `raw` that the table has never seen, with how many records carry each."""
    counts = raw.value_counts(dropna=True)
    return {str(label): int(n) for label, n in counts.items() if n and lookup(column, label) is None}


def broad_of_detailed(detailed: str | None) -> str | None:
    if detailed is None:
        return None
    return NOT_STATED if detailed == NOT_STATED else DETAILED_GROUPS.get(detailed)
