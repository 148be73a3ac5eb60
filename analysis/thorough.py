"""More thorough searches (removal of more than outer clothing) by ethnic group, with ratios and tests."""
from __future__ import annotations

import pandas as pd

from analysis.outcomes import GroupTests, Tally, boolean_tally, independence, pairwise, share_frame
from analysis.selection import Selection

THOROUGH_COLUMNS = ["force", "group", "thorough", "recorded", "share", "ci_low", "ci_high", "ratio",
                    "ratio_ci_low", "ratio_ci_high", "reason", "small_n", "searches", "not_recorded", "forces"]
THOROUGH_CAVEAT = ("'More thorough' is the published field 'Removal of more than just outer clothing': not the "
                   "same as a strip search. Shares are over searches of persons where the field is recorded.")


def thorough_tally(records: pd.DataFrame, selection: Selection) -> Tally:
    return boolean_tally(records, selection, column="removal_of_more_than_outer_clothing",
                         names=("More thorough", "Not more thorough"), what="removal of more than outer clothing")


def thorough(records: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    """Share of searches of persons that removed more than outer clothing, by force and group, over searches
    where that is recorded: Wilson 95% interval, ratio vs the reference group with the Katz log interval.

    Columns THOROUGH_COLUMNS. A force that never fills the field gets 'not recorded by this force' and nan.
    """
    out = share_frame(thorough_tally(records, selection), "More thorough", count_name="thorough",
                      total_name="recorded")
    out.attrs["ethnicity"] = "officer-defined" if selection.ethnicity == "officer" else "self-defined"
    out.attrs["caveat"] = THOROUGH_CAVEAT
    return out[THOROUGH_COLUMNS]


def thorough_tests(records: pd.DataFrame, selection: Selection, *, pairs: str = "reference") -> GroupTests:
    """Chi-square test of independence across groups and pairwise tests (Holm and Benjamini-Hochberg)."""
    t = thorough_tally(records, selection)
    return GroupTests(independence(t, measure="thorough"),
                      pairwise(t, measure="thorough", labels=("More thorough",), pairs=pairs))
