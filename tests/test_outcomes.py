"""Outcomes by group, the find rate and their tests, on small API-shaped records, against written-out oracles."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import stats
from scipy.stats.contingency import relative_risk
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from analysis.outcomes import (
    FIND_RATE_COLUMNS,
    INDEPENDENCE_COLUMNS,
    NOT_RECORDED,
    OFFICER_NOTE,
    OUTCOMES_COLUMNS,
    PAIRWISE_COLUMNS,
    analyse_outcomes,
    benjamini_hochberg,
    find_rate,
    holm,
    outcomes,
)
from analysis.selection import Selection, select
from data import normalise, schema

WHITE = "White - English/Welsh/Scottish/Northern Irish/British"
OTHER_WHITE = "White - Any other White background"
BLACK = "Black/African/Caribbean/Black British - African"
ASIAN = "Asian/Asian British - Indian"
NOT_STATED = "Other ethnic group - Not stated"
NFA = "A no further action disposal"
Z95 = 1.959963984540054  # scipy.stats.norm.ppf(0.975)


def stop(*, ethnicity: str | None = WHITE, officer: str | None = "White", outcome: str = NFA,
         linked: bool | None = False, removal: bool | None = False, kind: str = "Person search",
         legislation: str | None = "Misuse of Drugs Act 1971 (section 23)", obj: str | None = "Controlled drugs",
         age: str | None = "18-24", gender: str | None = "Male", when: str = "2024-01-15T12:30:00+00:00",
         located: bool = True) -> dict:
    """One stop as /api/stops-force returns it (DATA.md 1.2)."""
    return {
        "type": kind, "involved_person": kind != "Vehicle search", "datetime": when, "operation": False,
        "operation_name": None, "gender": gender, "age_range": age, "self_defined_ethnicity": ethnicity,
        "officer_defined_ethnicity": officer, "legislation": legislation, "object_of_search": obj,
        "outcome": outcome, "outcome_object": {"id": "", "name": outcome},
        "outcome_linked_to_object_of_search": linked, "removal_of_more_than_outer_clothing": removal,
        "location": {"latitude": "51.5", "longitude": "-0.1", "street": {"id": 1, "name": "On or near X"}}
        if located else None,
    }


def canonical(spec: dict[str, list[tuple[int, dict]]], month: str = "2024-01") -> pd.DataFrame:
    """force -> [(n, stop keywords)] -> canonical records (raw + derived) through the real normaliser."""
    frames = []
    for force, items in spec.items():
        replies = [stop(**kw) for n, kw in items for _ in range(n)]
        frames.append(normalise.from_api_records(replies, force=force, month=month))
    return schema.add_derived_columns(normalise.concat(frames))


def sel(forces: str, **choices: object) -> Selection:
    return Selection.build(forces, "2024-01", "2024-01", **choices)


def row(table: pd.DataFrame, force: str, group: str, outcome: str | None = None) -> pd.Series:
    mask = table["force"].eq(force) & table["group"].eq(group)
    if outcome is not None:
        mask &= table["outcome"].eq(outcome)
    return table.loc[mask].iloc[0]


# Kent: White 100 with an outcome (20 arrest, 70 NFA, 10 community resolution) + 5 with none + 2 with a label no
# table knows; Black 50 (15, 30, 5 caution) + 3 with none; Asian 30 (3, 25, 2 penalty); Not stated 10 (1, 9);
# 7 vehicle-only searches (left out).
KENT = {"kent": [
    (20, {"outcome": "Arrest"}), (70, {}), (10, {"outcome": "Community resolution"}), (5, {"outcome": ""}),
    (2, {"outcome": "Some new disposal"}),
    (15, {"ethnicity": BLACK, "officer": "Black", "outcome": "Arrest"}),
    (30, {"ethnicity": BLACK, "officer": "Black"}),
    (5, {"ethnicity": BLACK, "officer": "Black", "outcome": "Caution (simple or conditional)"}),
    (3, {"ethnicity": BLACK, "officer": "Black", "outcome": ""}),
    (3, {"ethnicity": ASIAN, "officer": "Asian", "outcome": "Arrest"}),
    (25, {"ethnicity": ASIAN, "officer": "Asian"}),
    (2, {"ethnicity": ASIAN, "officer": "Asian", "outcome": "Penalty Notice for Disorder"}),
    (1, {"ethnicity": NOT_STATED, "officer": None, "outcome": "Arrest"}),
    (9, {"ethnicity": NOT_STATED, "officer": None}),
    (7, {"ethnicity": None, "officer": None, "kind": "Vehicle search", "outcome": "Arrest"}),
]}


@pytest.fixture(scope="module")
def kent() -> pd.DataFrame:
    return canonical(KENT)


def test_outcome_shares_wilson_and_not_recorded(kent):
    table = outcomes(select(kent, sel("kent")), sel("kent"))
    assert list(table.columns) == OUTCOMES_COLUMNS
    assert table["group"].tolist() == [g for g in ("Asian", "Black", "Mixed", "White", "Other", "Not stated")
                                       for _ in range(3)]
    white = row(table, "kent", "White", "Arrest")
    # hand: 20 of the 100 with a recognised outcome; the 5 'Not recorded' are counted apart; the 2 unknown
    # labels are in no denominator; vehicle-only searches are not searches of persons
    assert (white["count"], white["total"], white["not_recorded"], white["searches"]) == (20, 100, 5, 107)
    assert white["share"] == 0.2
    # oracle: statsmodels proportion_confint(20, 100, method='wilson')
    assert_allclose((white["ci_low"], white["ci_high"]), proportion_confint(20, 100, method="wilson"), rtol=1e-12)
    other = row(table, "kent", "Black", "Other action")     # caution counts as other action
    assert (other["count"], other["total"]) == (5, 50)
    assert_allclose((other["ci_low"], other["ci_high"]), proportion_confint(5, 50, method="wilson"), rtol=1e-12)
    # the three classes add up to the total in every group with searches
    sums = table.loc[table["total"].gt(0)].groupby("group")["count"].sum()
    assert sums.to_dict() == {"Asian": 30, "Black": 50, "White": 100, "Not stated": 10}
    assert (white["ratio"], white["reason"]) == (1.0, "reference group") and np.isnan(white["ratio_ci_low"])


def test_ratio_against_reference_is_katz(kent):
    table = outcomes(kent, sel("kent"))
    black = row(table, "kent", "Black", "Arrest")
    # hand: (15/50) / (20/100) = 1.5; Katz: se = sqrt(1/15 - 1/50 + 1/20 - 1/100)
    se = math.sqrt(1 / 15 - 1 / 50 + 1 / 20 - 1 / 100)
    assert_allclose(black["ratio"], 1.5, rtol=1e-12)
    assert_allclose((black["ratio_ci_low"], black["ratio_ci_high"]),
                    (1.5 * math.exp(-Z95 * se), 1.5 * math.exp(Z95 * se)), rtol=1e-9)
    # and scipy's relative_risk (Katz log method) agrees
    ci = relative_risk(15, 50, 20, 100).confidence_interval(0.95)
    assert_allclose((black["ratio_ci_low"], black["ratio_ci_high"]), (ci.low, ci.high), rtol=1e-12)


def test_empty_group_and_zero_counts_give_nan_and_reasons(kent):
    table = outcomes(kent, sel("kent"))
    mixed = row(table, "kent", "Mixed", "Arrest")
    assert mixed["total"] == 0 and np.isnan(mixed["share"]) and np.isnan(mixed["ratio"]) and mixed["small_n"]
    assert "no searches in this group" in mixed["reason"]
    # Not stated had no 'Other action': ratio 0 with no upper limit (Katz undefined), said in words
    ns = row(table, "kent", "Not stated", "Other action")
    assert ns["count"] == 0 and ns["ratio"] == 0 and np.isnan(ns["ratio_ci_high"]) and "upper limit" in ns["reason"]
    assert ns["ci_low"] == 0.0   # Wilson at 0 successes is exactly 0


def test_chi_square_of_independence_matches_hand_expected_counts(kent):
    result = analyse_outcomes(kent, sel("kent"))
    assert list(result.independence.columns) == INDEPENDENCE_COLUMNS
    test = result.independence.set_index(["force", "measure"]).loc[("kent", "outcome")]
    # hand: Asian, Black, White x Arrest, NFA, Other ('Not stated' and empty groups left out);
    # E_ij = row_i x col_j / N, X2 = sum (O - E)^2 / E, dof = (3 - 1)(3 - 1) = 4
    observed = np.array([[3, 25, 2], [15, 30, 5], [20, 70, 10]], dtype=float)
    expected = observed.sum(1, keepdims=True) * observed.sum(0, keepdims=True) / observed.sum()
    x2 = ((observed - expected) ** 2 / expected).sum()
    assert test["groups"] == "Asian,Black,White" and test["searches"] == 180 and test["dof"] == 4
    assert_allclose(test["statistic"], x2, rtol=1e-12)
    assert_allclose(test["p_value"], stats.chi2.sf(x2, 4), rtol=1e-10)
    assert_allclose(test["min_expected"], expected.min(), rtol=1e-12)   # 30 x 17 / 180 = 2.83 < 5
    assert "below 5" in test["reason"]


def test_pairwise_tests_match_two_proportion_z_and_fisher(kent):
    pairs = analyse_outcomes(kent, sel("kent")).pairwise
    assert list(pairs.columns) == PAIRWISE_COLUMNS
    arrest = pairs.loc[pairs["force"].eq("kent") & pairs["measure"].eq("outcome") & pairs["outcome"].eq("Arrest")]
    black = arrest.set_index("group").loc["Black"]
    # oracle: the Pearson chi-square of a 2 x 2 table is the square of the pooled two-proportion z statistic
    z, p = proportions_ztest([15, 20], [50, 100])
    assert black["test"] == "chi-square" and black["other"] == "White"
    assert_allclose((black["statistic"], black["p_value"]), (z * z, p), rtol=1e-10)
    assert_allclose(black["difference"], 15 / 50 - 20 / 100, rtol=1e-12)
    # Holm and BH within the family (kent, Arrest): statsmodels multipletests over the tested p-values
    tested = arrest.dropna(subset=["p_value"])
    assert set(tested["group"]) == {"Asian", "Black"}          # Mixed and Other have no searches
    assert_allclose(tested["p_holm"], multipletests(tested["p_value"], method="holm")[1], rtol=1e-12)
    assert_allclose(tested["p_bh"], multipletests(tested["p_value"], method="fdr_bh")[1], rtol=1e-12)
    assert arrest.set_index("group").loc["Mixed", "reason"].startswith("no searches")
    # Asian 'Other action' 2/30 vs White 10/100: an expected count below 5, so Fisher's exact test;
    # hand: two-sided p = sum of hypergeometric P(X = x) <= P(observed), margins 12 'other' of 130
    fisher = pairs.loc[pairs["outcome"].eq("Other action") & pairs["group"].eq("Asian")].iloc[0]

    def prob(x: int) -> float:
        return math.comb(30, x) * math.comb(100, 12 - x) / math.comb(130, 12)
    p_obs = prob(2)
    p_hand = sum(prob(x) for x in range(0, 13) if prob(x) <= p_obs * (1 + 1e-7))
    assert fisher["test"] == "Fisher exact" and np.isnan(fisher["statistic"])
    assert_allclose(fisher["p_value"], p_hand, rtol=1e-9)


def test_all_pairs_option():
    records = canonical(KENT)
    pairs = analyse_outcomes(records, sel("kent"), pairs="all").pairwise
    arrest = pairs.loc[pairs["measure"].eq("outcome") & pairs["outcome"].eq("Arrest")]
    assert len(arrest) == 10                       # 5 groups, 'Not stated' left out: C(5, 2)
    with pytest.raises(ValueError):
        analyse_outcomes(records, sel("kent"), pairs="some")


def test_holm_and_bh_match_statsmodels():
    rng = np.random.default_rng(7)
    p = rng.uniform(0, 0.2, 25)
    p[[3, 11]] = np.nan
    ok = ~np.isnan(p)
    assert_allclose(holm(p)[ok], multipletests(p[ok], method="holm")[1], rtol=1e-12)
    assert_allclose(benjamini_hochberg(p)[ok], multipletests(p[ok], method="fdr_bh")[1], rtol=1e-12)
    assert np.isnan(holm(p)[3]) and np.isnan(benjamini_hochberg(p)[11])
    assert holm([]).size == 0 and np.isnan(benjamini_hochberg([np.nan])).all()


# Find rate: Kent records the link (White 12 of 40 found, Black 9 of 20, 5 White blank); the Met never
# fills the field; Dorset writes True or leaves it blank, never False.
FIND = {
    "kent": [(12, {"linked": True}), (28, {"linked": False}), (5, {"linked": None}),
             (9, {"ethnicity": BLACK, "linked": True}), (11, {"ethnicity": BLACK, "linked": False})],
    "metropolitan": [(30, {"linked": None, "removal": None}), (10, {"ethnicity": BLACK, "linked": None})],
    "dorset": [(8, {"linked": True}), (20, {"linked": None}), (4, {"ethnicity": BLACK, "linked": None})],
}


def test_find_rate_over_recorded_searches():
    records = canonical(FIND)
    table = find_rate(records, sel("kent,metropolitan,dorset"))
    assert list(table.columns) == FIND_RATE_COLUMNS
    white = row(table, "kent", "White")
    assert (white["found"], white["recorded"], white["not_recorded"], white["searches"]) == (12, 40, 5, 45)
    assert_allclose((white["ci_low"], white["ci_high"]), proportion_confint(12, 40, method="wilson"), rtol=1e-12)
    black = row(table, "kent", "Black")
    ci = relative_risk(9, 20, 12, 40).confidence_interval(0.95)
    assert_allclose((black["ratio"], black["ratio_ci_low"], black["ratio_ci_high"]),
                    ((9 / 20) / (12 / 40), ci.low, ci.high), rtol=1e-12)


def test_force_that_never_records_a_field_says_so_not_zero():
    records = canonical(FIND)
    table = find_rate(records, sel("kent,metropolitan,dorset"))
    met = table.loc[table["force"].eq("metropolitan")]
    assert (met["reason"] == NOT_RECORDED).all() and met["share"].isna().all() and met["found"].isna().all()
    assert met["ratio"].isna().all() and not met["small_n"].any()
    assert row(table, "metropolitan", "White")["not_recorded"] == 30
    dorset = table.loc[table["force"].eq("dorset")]
    assert dorset["share"].isna().all() and dorset["reason"].str.contains("never recorded as 'Not found'").all()
    # pooled: only Kent has usable values; the row says who was left out and why
    pooled = row(table, "ALL", "White")
    assert pooled["forces"] == "kent" and (pooled["found"], pooled["recorded"]) == (12, 40)
    assert "Metropolitan Police Service (not recorded)" in pooled["reason"]
    assert "recorded one way only" in pooled["reason"]
    # every selected force silent: 'not recorded by any of these forces'
    alone = find_rate(records, sel("metropolitan,dorset"))
    assert alone["share"].isna().all()
    assert (alone.loc[alone["force"].eq("ALL"), "reason"] == "not recorded by any of these forces").all()


def test_pooled_rows_sum_counts_and_leave_btp_out_unless_asked():
    records = canonical({"kent": [(10, {"outcome": "Arrest"}), (30, {})],
                         "essex": [(5, {"outcome": "Arrest"}), (5, {})],
                         "btp": [(50, {"outcome": "Arrest"})]})
    table = outcomes(records, sel("kent,essex,btp"))
    pooled = row(table, "ALL", "White", "Arrest")
    assert (pooled["count"], pooled["total"], pooled["forces"]) == (15, 50, "kent,essex")
    assert "British Transport Police left out" in pooled["reason"]
    assert row(table, "btp", "White", "Arrest")["count"] == 50       # BTP still has its own rows
    with_btp = row(outcomes(records, sel("kent,essex,btp", include_btp=True)), "ALL", "White", "Arrest")
    assert (with_btp["count"], with_btp["total"]) == (65, 100)


def test_detailed_groups_against_a_broad_reference():
    records = canonical({"kent": [(8, {"outcome": "Arrest"}), (32, {}), (2, {"ethnicity": OTHER_WHITE, "outcome": "Arrest"}),
                                  (8, {"ethnicity": OTHER_WHITE}), (6, {"ethnicity": BLACK, "outcome": "Arrest"}),
                                  (14, {"ethnicity": BLACK})]})
    selection = sel("kent", level="detailed")
    table = outcomes(records, selection)
    african = row(table, "kent", "African", "Arrest")
    # reference White = White British + Other White: 10 arrests of 50
    assert_allclose(african["ratio"], (6 / 20) / (10 / 50), rtol=1e-12)
    assert row(table, "kent", "White British", "Arrest")["reason"] == "part of the reference group"
    assert np.isnan(row(table, "kent", "Other White", "Arrest")["ratio"])


def test_officer_defined_groups_are_labelled():
    records = canonical({"kent": [(10, {"ethnicity": WHITE, "officer": "Black", "outcome": "Arrest"}),
                                  (10, {"ethnicity": WHITE, "officer": "White"})]})
    result = analyse_outcomes(records, sel("kent", ethnicity="officer"))
    assert row(result.outcomes, "kent", "Black", "Arrest")["count"] == 10
    assert result.ethnicity == "officer-defined" and OFFICER_NOTE in result.caveat
    assert "infra-marginality" in result.caveat and result.outcomes.attrs["ethnicity"] == "officer-defined"
    assert "infra-marginality" in analyse_outcomes(records, sel("kent")).caveat


def test_no_records_and_one_group_never_raise():
    empty = schema.empty_frame()
    result = analyse_outcomes(empty, sel("kent,essex"))
    assert result.outcomes["share"].isna().all()
    assert result.outcomes["reason"].str.startswith("no searches of persons").sum() == 36   # 2 forces x 6 x 3
    assert result.independence["p_value"].isna().all() and result.pairwise["p_value"].isna().all()
    only_white = canonical({"kent": [(5, {"outcome": "Arrest"}), (5, {})]})
    one = analyse_outcomes(only_white, sel("kent"))
    assert "fewer than two groups" in one.independence.loc[0, "reason"]
    assert one.pairwise["p_value"].isna().all()


@pytest.mark.shared
def test_met_2018_find_rate_and_thorough_are_not_recorded(shared_dir: Path):
    from analysis.thorough import thorough

    files = sorted((shared_dir / "data/police_uk/archive").glob("2018-*/2018-*-metropolitan-stop-and-search.csv"))
    assert len(files) == 12
    records = schema.add_derived_columns(normalise.concat(
        normalise.from_csv(p, force="metropolitan", month=p.name[:7]) for p in files))
    selection = Selection.build("metropolitan", "2018-01", "2018-12")
    for table in (find_rate(records, selection), thorough(records, selection)):
        assert (table["reason"] == NOT_RECORDED).all()
        assert table["share"].isna().all() and table["ratio"].isna().all()
    # outcomes are recorded by the Met: real shares, and no 'not recorded' reason
    table = outcomes(records, selection)
    assert table.loc[table["group"].ne("Mixed"), "share"].notna().all()
    assert not table["reason"].str.contains("not recorded").any()


def test_reference_without_data_gives_no_ratio():
    records = canonical({"kent": [(5, {"ethnicity": BLACK, "outcome": "Arrest"}), (5, {"ethnicity": BLACK})]})
    table = outcomes(records, sel("kent"))
    white, black = row(table, "kent", "White", "Arrest"), row(table, "kent", "Black", "Arrest")
    assert np.isnan(white["ratio"]) and "no searches in this group" in white["reason"]
    assert np.isnan(black["ratio"]) and "no searches in the reference group" in black["reason"]
    assert black["share"] == 0.5


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([WHITE, BLACK, ASIAN, NOT_STATED]),
                          st.sampled_from(["Arrest", NFA, "Community resolution", ""]),
                          st.integers(min_value=0, max_value=6)), min_size=0, max_size=8))
def test_invariants_on_random_counts(cells):
    """Any counts: the classes add up to the total, each share lies in its interval, nothing raises."""
    spec = [(n, {"ethnicity": e, "outcome": o}) for e, o, n in cells if n]
    records = canonical({"kent": spec}) if spec else schema.empty_frame()
    table = outcomes(records, sel("kent"))
    ok = table["total"].fillna(0).gt(0)
    assert (table.loc[ok, "ci_low"] <= table.loc[ok, "share"] + 1e-12).all()
    assert (table.loc[ok, "share"] <= table.loc[ok, "ci_high"] + 1e-12).all()
    sums = table.loc[ok].groupby("group")["count"].sum()
    totals = table.loc[ok].groupby("group")["total"].first()
    assert (sums == totals).all()
    assert table.loc[~ok, "share"].isna().all()
