"""The one use-of-force vocabulary: tactic names, ethnic groups, units, and every source label mapped to them.

Documented in docs/USE_OF_FORCE.md. Each source (Home Office data tables, Home Office open data table,
Metropolitan Police file) spells tactics and ethnic groups its own way; the dicts below turn them into
one set of names so years and sources line up. Lookups ignore case and repeated whitespace.
"""
from __future__ import annotations

import re

from data.vocab import BROAD_WITH_NOT_STATED, NOT_STATED

# Every use-of-force figure counts what the source counts: one officer's report of force used on one
# person. Not people (a person can be in several reports), not events (several officers may report
# one event).
UNIT = "officer reports on a person"
UNIT_CAVEAT = ("Counts are officer reports of force used on one person, not people and not events; "
               "ethnicity is as perceived by the reporting officer; recording improved year by year, so "
               "rises are partly better recording.")
USES_CAVEAT = ("The Home Office force tables give only the number of times each tactic was reported per "
               "group, not each group's number of reports in the force, so shares of a group's reports "
               "cannot be computed; shares of tactic uses and uses per 1,000 residents are given instead.")
PERCEIVED_VS_SELF_CAVEAT = ("Use-of-force ethnicity is perceived by the officer; Census residents and "
                            "stop-and-search groups are self-identified, so rates mix two definitions.")

GROUPS: tuple[str, ...] = BROAD_WITH_NOT_STATED  # Asian, Black, Mixed, White, Other, Not stated

# Tactic names: leaf tactics (one per report; a report either involved it or not) ...
TACTICS: dict[str, str] = {
    "compliant_handcuffing": "Compliant handcuffing",
    "non_compliant_handcuffing": "Non-compliant handcuffing",
    "handcuffing_not_stated": "Handcuffing, compliance not stated",
    "limb_body_restraints": "Limb / body restraints",
    "ground_restraint": "Ground restraint",
    "unarmed_skills": "Unarmed skills",
    "baton_drawn": "Baton drawn",
    "baton_used": "Baton used",
    "baton_not_stated": "Baton, use not stated",
    "irritant_spray_drawn": "Irritant spray drawn",
    "irritant_spray_used": "Irritant spray used",
    "irritant_spray_not_stated": "Irritant spray, use not stated",
    "spit_guard": "Spit and bite guard",
    "shield": "Shield",
    "taser_drawn": "Taser (CED) drawn, not discharged (highest use: drawn, aimed, red-dot, arced)",
    "taser_discharged": "Taser (CED) discharged (highest use: fired, drive-stun, angled drive-stun)",
    "taser_not_stated": "Taser (CED), highest use not stated",
    "aep_drawn": "AEP drawn or aimed, not fired",
    "aep_used": "AEP used (fired)",
    "aep_not_stated": "AEP, use not stated",
    "firearms_aimed": "Firearm aimed",
    "firearms_fired": "Firearm fired",
    "firearms_not_stated": "Firearm, use not stated",
    "dog_deployed": "Dog deployed",
    "dog_bite": "Dog bite",
    "dog_not_stated": "Dog, use not stated",
    "other_improvised": "Other / improvised",
    "tactical_communication": "Tactical communication (with another tactic; not force in itself)",
}
# ... and groupings: a report involved the grouping if it involved any of its parts. In the Home Office
# tables these are the 'X, of which' rows (sums of uses of their parts, never to be added again).
TACTIC_GROUPS: dict[str, tuple[str, ...]] = {
    "handcuffing": ("compliant_handcuffing", "non_compliant_handcuffing", "handcuffing_not_stated"),
    "baton": ("baton_drawn", "baton_used", "baton_not_stated"),
    "irritant_spray": ("irritant_spray_drawn", "irritant_spray_used", "irritant_spray_not_stated"),
    "taser": ("taser_drawn", "taser_discharged", "taser_not_stated"),
    "aep": ("aep_drawn", "aep_used", "aep_not_stated"),
    "firearms": ("firearms_aimed", "firearms_fired", "firearms_not_stated"),
    "dog": ("dog_deployed", "dog_bite", "dog_not_stated"),
}
# The tactics every analysis table reports, in this order.
ANALYSIS_TACTICS: tuple[str, ...] = (
    "compliant_handcuffing", "non_compliant_handcuffing", "ground_restraint", "limb_body_restraints",
    "unarmed_skills", "spit_guard", "baton", "irritant_spray", "taser", "taser_drawn", "taser_discharged",
    "firearms", "dog",
)
ALL_REPORTS = "all_reports"  # the pseudo-tactic row whose count is every report of the group

# Tactics whose Home Office table count is a count of incidents (reports), not of uses: a leaf tactic
# is counted once per report; Taser is counted once at its highest use; firearms is one row. For the
# other groupings (baton, irritant spray, dog, AEP, handcuffing) the table sums uses of the parts, which
# can exceed the number of reports involving the grouping.
COUNTED_ONCE_PER_REPORT: frozenset[str] = frozenset({*TACTICS, "taser", "firearms"})


def _key(label: object) -> str:
    return re.sub(r"\s+", " ", str(label or "")).strip().casefold()


# Home Office data tables (ODS), both layouts: row label -> tactic. Labels that are totals of a type of
# force ('*Total Restraint') map to None: they are subtotals we never add. Bare 'Not stated', 'Drawn'
# and 'Used' (2018 layout) take their meaning from the 'X, of which' row above them: see
# CONTEXT_SUFFIX.
TABLE_TACTICS: dict[str, str | None] = {
    "Compliant handcuffing": "compliant_handcuffing",
    "Non-compliant handcuffing": "non_compliant_handcuffing",
    "Handcuffing not stated": "handcuffing_not_stated",
    "Not stated handcuffing": "handcuffing_not_stated",      # 2019 label
    "Handcuffing, of which": "handcuffing",
    "Limb / Body restraints": "limb_body_restraints",
    "Ground restraint": "ground_restraint",
    "Total Unarmed skills": "unarmed_skills",                # a type of force with one tactic
    "Unarmed skills": "unarmed_skills",
    "Baton, of which": "baton",
    "Baton drawn": "baton_drawn",
    "Baton used": "baton_used",
    "Baton not stated": "baton_not_stated",
    "Not stated baton": "baton_not_stated",
    "Irritant spray, of which": "irritant_spray",
    "Irritant spray - drawn": "irritant_spray_drawn",
    "Irritant spray - used": "irritant_spray_used",
    "Irritant spray not stated": "irritant_spray_not_stated",
    "Not stated irritant spray": "irritant_spray_not_stated",
    "Spit and bite guard": "spit_guard",
    "Spit guard": "spit_guard",
    "Shield": "shield",
    "CED": "taser",                                          # 2018 and 2019: one row
    "CED, of which": "taser",
    "CED of which": "taser",
    "CED non-discharge": "taser_drawn",
    "CED discharge": "taser_discharged",
    "CED not stated": "taser_not_stated",
    "AEP, of which": "aep",
    "AEP drawn": "aep_drawn",
    "AEP aimed": "aep_drawn",                                # 2018: aimed (not fired) ~ drawn
    "AEP used": "aep_used",
    "AEP fired": "aep_used",
    "AEP not stated": "aep_not_stated",
    "Not stated AEP": "aep_not_stated",
    "Total Firearms": "firearms",
    "Firearms": "firearms",
    "Dog use, of which": "dog",
    "Dog deployed": "dog_deployed",
    "Dog bite": "dog_bite",
    "Dog not stated": "dog_not_stated",
    "Not stated dog": "dog_not_stated",
    "Other / improvised": "other_improvised",
    "Tactical communication": "tactical_communication",
    "Tactical communication (with other tactic)": "tactical_communication",
    # subtotals of a type of force and the grand total: kept out of every sum
    "Total Tactics": None, "Total Restraint": None, "Total Other equipment": None,
    "Total Less lethal weapons": None, "Total Other": None, "Total Not reported": None,
}
TABLE_TACTICS_KEYED: dict[str, str | None] = {_key(k): v for k, v in TABLE_TACTICS.items()}
# 2018 layout: bare sub-row label -> suffix appended to the parent grouping ('baton' + '_not_stated').
CONTEXT_SUFFIX: dict[str, str] = {"not stated": "_not_stated", "drawn": "_drawn", "used": "_used"}

# Home Office data tables: perceived-ethnicity column heading -> group. The 2018/2019 tables had
# 'Chinese' apart; from 2020 it is within Asian (the Census 2021 grouping), so Chinese -> Asian.
TABLE_GROUPS: dict[str, str] = {
    "White": "White", "Black (or Black British)": "Black", "Asian (or Asian British)": "Asian",
    "Chinese": "Asian", "Mixed": "Mixed", "Other": "Other", "Don't know": NOT_STATED,
    "Not reported": NOT_STATED, "Not stated": NOT_STATED,
    "Black": "Black", "Asian": "Asian",
}
TABLE_GROUPS_KEYED: dict[str, str] = {_key(k): v for k, v in TABLE_GROUPS.items()}

# Open data table and Met file: perceived ethnicity value -> group (case-insensitive).
RECORD_GROUPS: dict[str, str] = {
    "white": "White", "black": "Black", "asian": "Asian", "mixed": "Mixed", "other": "Other",
    "chinese": "Asian", "not_stated": NOT_STATED, "not stated": NOT_STATED, "not_reported": NOT_STATED,
    "not reported": NOT_STATED, "don't know": NOT_STATED, "dont_know": NOT_STATED, "unknown": NOT_STATED,
    "": NOT_STATED,
    "black (or black british)": "Black", "asian (or asian british)": "Asian",
}

# Open data yes/no flags: value -> True/False/None (None = not stated, kept as <NA>).
FLAG_VALUES: dict[str, bool | None] = {
    "yes": True, "no": False, "not_applicable": False, "not applicable": False, "n/a": False,
    "not_stated": None, "not stated": None, "": None, "1": True, "0": False, "true": True, "false": False,
    "y": True, "n": False,
}
# Open data ced_highest_use -> tactic ('' = no CED: no Taser tactic).
CED_HIGHEST_USE: dict[str, str | None] = {
    "drawn": "taser_drawn", "aimed": "taser_drawn", "red_dot": "taser_drawn", "red-dot": "taser_drawn",
    "red_dotted": "taser_drawn", "red dot": "taser_drawn", "arced": "taser_drawn",
    "fired": "taser_discharged", "drive_stun": "taser_discharged", "drive-stun": "taser_discharged",
    "drive stun": "taser_discharged", "angled_drive_stun": "taser_discharged",
    "angle_drive_stun": "taser_discharged", "angled drive stun": "taser_discharged",
    "not_stated": "taser_not_stated", "not stated": "taser_not_stated",
    "not_applicable": None, "": None, "no": None,
}

# Met file: tactic name -> tactic, by ordered regular expressions on the lower-cased name (the Met's
# names vary between years: 'CED (Taser) Fired', 'Irritant Spray - CS Used', 'Firearm Aimed' ...).
MET_TACTIC_RULES: tuple[tuple[str, str], ...] = (
    (r"non[- ]?compliant handcuff", "non_compliant_handcuffing"),
    (r"compliant handcuff", "compliant_handcuffing"),
    (r"handcuff", "handcuffing_not_stated"),
    (r"ground", "ground_restraint"),
    (r"limb|body restrain", "limb_body_restraints"),
    (r"unarmed", "unarmed_skills"),
    (r"spit", "spit_guard"),
    (r"shield", "shield"),
    (r"baton.*(used|strike|jab)", "baton_used"),
    (r"baton.*drawn", "baton_drawn"),
    (r"baton", "baton_not_stated"),
    (r"(irritant|spray|pava|\bcs\b).*used", "irritant_spray_used"),
    (r"(irritant|spray|pava|\bcs\b).*drawn", "irritant_spray_drawn"),
    (r"irritant|spray|pava", "irritant_spray_not_stated"),
    (r"(ced|taser).*(fired|drive|stun)", "taser_discharged"),
    (r"(ced|taser).*(drawn|aimed|red|arced)", "taser_drawn"),
    (r"ced|taser", "taser_not_stated"),
    (r"(aep|attenuating).*(fired|used|discharged)", "aep_used"),
    (r"(aep|attenuating).*(drawn|aimed)", "aep_drawn"),
    (r"aep|attenuating", "aep_not_stated"),
    (r"firearm.*(fired|discharged)", "firearms_fired"),
    (r"firearm.*aimed", "firearms_aimed"),
    (r"firearm", "firearms_not_stated"),
    (r"dog.*bite", "dog_bite"),
    (r"dog", "dog_deployed"),
    (r"tactical comm", "tactical_communication"),
    (r"other|improvised", "other_improvised"),
)
# Met SubjectEthnicity -> group.
MET_GROUPS: dict[str, str] = {
    "white": "White", "black (or black british)": "Black", "black": "Black",
    "asian (or asian british)": "Asian", "asian": "Asian", "chinese": "Asian", "mixed": "Mixed",
    "other": "Other", "don't know": NOT_STATED, "not stated": NOT_STATED, "unknown": NOT_STATED,
    "": NOT_STATED,
}
# Higher index = higher Taser use: a report keeps only its highest (as the Home Office counts it).
TASER_ORDER: tuple[str, ...] = ("taser_not_stated", "taser_drawn", "taser_discharged")


def table_tactic(label: str) -> str | None:
    """Tactic name of a Home Office table row label; KeyError if the label is unknown."""
    return TABLE_TACTICS_KEYED[_key(label.lstrip("*"))]


def met_tactic(name: str) -> str | None:
    """Tactic of one Met tactic name (None for an empty cell); ValueError when no rule matches."""
    text = _key(name)
    if not text or text in {"nan", "none", "n/a", "-"}:
        return None
    for pattern, tactic in MET_TACTIC_RULES:
        if re.search(pattern, text):
            return tactic
    raise ValueError(name)


def tactic_parts(tactic: str) -> tuple[str, ...]:
    """The leaf tactics a name stands for (itself for a leaf)."""
    return TACTIC_GROUPS.get(tactic, (tactic,))
