"""More thorough searches and the search mix, on small API-shaped records, against hand counts and scipy."""
from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.testing import assert_allclose
from scipy import stats
from scipy.stats.contingency import relative_risk
from statsmodels.stats.proportion import proportion_confint

from analysis.mix import MIX_COLUMNS, mix
from analysis.outcomes import NOT_RECORDED
from analysis.selection import Selection
from analysis.thorough import THOROUGH_COLUMNS, thorough, thorough_tests
from data import schema, vocab
from tests.test_outcomes import BLACK, canonical, row, sel

PACE = "Police and Criminal Evidence Act 1984 (section 1)"
S60 = "Criminal Justice and Public Order Act 1994 (section 60)"

THOROUGH = {
    "kent": [(5, {"removal": True}), (40, {"removal": False}), (5, {"removal": None}),
             (6, {"ethnicity": BLACK, "removal": True}), (14, {"ethnicity": BLACK, "removal": False}),
             (3, {"ethnicity": None, "officer": None, "kind": "Vehicle search", "removal": True})],
    "merseyside": [(12, {"removal": None}), (3, {"ethnicity": BLACK, "removal": None})],
}


def test_thorough_share_wilson_and_katz_ratio():
    records = canonical(THOROUGH)
    table = thorough(records, sel("kent,merseyside"))
    assert list(table.columns) == THOROUGH_COLUMNS
    white = row(table, "kent", "White")
    # hand: 5 of the 45 with the field recorded; 5 blank counted apart; vehicle-only searches left out
    assert (white["thorough"], white["recorded"], white["not_recorded"], white["searches"]) == (5, 45, 5, 50)
    assert_allclose(white["share"], 5 / 45, rtol=1e-12)
    # oracle: statsmodels proportion_confint(method='wilson')
    assert_allclose((white["ci_low"], white["ci_high"]), proportion_confint(5, 45, method="wilson"), rtol=1e-12)
    black = row(table, "kent", "Black")
    ci = relative_risk(6, 20, 5, 45).confidence_interval(0.95)   # Katz log, scipy
    assert_allclose((black["ratio"], black["ratio_ci_low"], black["ratio_ci_high"]),
                    ((6 / 20) / (5 / 45), ci.low, ci.high), rtol=1e-12)
    assert not black["small_n"] and not white["small_n"]   # small_n: fewer than SMALL_N (20) recorded
    assert table.attrs["caveat"].startswith("'More thorough'")


def test_thorough_not_recorded_by_force_is_nan_with_reason():
    records = canonical(THOROUGH)
    table = thorough(records, sel("kent,merseyside"))
    mersey = table.loc[table["force"].eq("merseyside")]
    assert (mersey["reason"] == NOT_RECORDED).all()
    assert mersey["share"].isna().all() and mersey["thorough"].isna().all() and mersey["recorded"].isna().all()
    assert row(table, "merseyside", "Black")["not_recorded"] == 3
    pooled = row(table, "ALL", "White")
    assert pooled["forces"] == "kent" and pooled["thorough"] == 5 and "Merseyside Police (not recorded)" in pooled["reason"]


def test_thorough_tests_hand_chi_square_and_fisher():
    records = canonical(THOROUGH)
    tests = thorough_tests(records, sel("kent"))
    ind = tests.independence.iloc[0]
    observed = np.array([[6, 14], [5, 40]], dtype=float)          # Black, White x thorough, not
    expected = observed.sum(1, keepdims=True) * observed.sum(0, keepdims=True) / observed.sum()
    x2 = ((observed - expected) ** 2 / expected).sum()            # Pearson, no continuity correction
    assert ind["groups"] == "Black,White" and ind["dof"] == 1
    assert_allclose((ind["statistic"], ind["p_value"]), (x2, stats.chi2.sf(x2, 1)), rtol=1e-10)
    black = tests.pairwise.set_index("group").loc["Black"]
    # expected count 65 x ... : 11 x 20 / 65 = 3.4 < 5, so Fisher's exact test (scipy, the reference
    # implementation of the hypergeometric two-sided p)
    assert black["test"] == "Fisher exact"
    assert_allclose(black["p_value"], stats.fisher_exact([[6, 14], [5, 40]]).pvalue, rtol=1e-12)


MIX = {
    "kent": [
        (3, {"legislation": PACE, "obj": "Offensive weapons", "age": "25-34"}),
        (6, {}),                                                         # s23, controlled drugs, 18-24
        (1, {"legislation": None, "obj": None, "age": None, "gender": None}),
        (4, {"ethnicity": BLACK, "legislation": S60, "obj": "Anything to threaten or harm anyone",
             "age": "10-17", "gender": "Female"}),
        (1, {"ethnicity": BLACK, "legislation": "Some Act 2099 (section 1)"}),
        (2, {"ethnicity": None, "officer": None, "kind": "Vehicle search"}),
    ],
    "essex": [(5, {"legislation": PACE})],
}


def test_mix_counts_and_shares_by_hand():
    records = canonical(MIX)
    table = mix(records, sel("kent,essex"))
    assert list(table.columns) == MIX_COLUMNS

    def cell(force: str, group: str, dimension: str, category: str) -> pd.Series:
        m = table["force"].eq(force) & table["group"].eq(group) & table["dimension"].eq(dimension)
        return table.loc[m & table["category"].eq(category)].iloc[0]

    # White in Kent: 10 searches of persons (the 2 vehicle-only searches are not)
    assert cell("kent", "White", "legislation_group", "Misuse of Drugs Act s23")[["count", "share"]].tolist() == [6, 0.6]
    assert cell("kent", "White", "legislation_group", "PACE s1")["count"] == 3
    assert cell("kent", "White", "legislation_group", "Not recorded")["count"] == 1   # missing legislation
    assert cell("kent", "White", "legislation_group", "Section 60")["count"] == 0     # fixed list: zeros kept
    assert cell("kent", "White", "object_of_search", "Not recorded")["count"] == 1
    assert cell("kent", "White", "age_range", "25-34")["share"] == 0.3
    assert cell("kent", "White", "gender", "Not recorded")["count"] == 1
    black = cell("kent", "Black", "legislation_group", "Section 60")
    assert (black["count"], black["group_searches"], black["small_n"]) == (4, 5, True)
    assert_allclose(black["share"], 0.8)
    # a raw legislation label no table knows is kept, as its own category
    assert cell("kent", "Black", "legislation_group", "Unrecognised label")["count"] == 1
    assert cell("kent", "Black", "gender", "Female")["count"] == 4
    # pooled: Kent + Essex White, 15 searches, 8 under PACE s1
    pooled = cell("ALL", "White", "legislation_group", "PACE s1")
    assert (pooled["count"], pooled["group_searches"], pooled["forces"]) == (8, 15, "kent,essex")


def test_mix_shares_add_to_one_and_order_is_stable():
    records = canonical(MIX)
    table = mix(records, sel("kent,essex"))
    sums = table.groupby(["force", "group", "dimension"])["share"].sum()
    assert_allclose(sums.to_numpy(), 1.0, rtol=1e-12)
    # groups without searches get no rows; order force, group (vocab order), dimension
    assert set(table.loc[table["force"].eq("kent"), "group"]) == {"Black", "White"}
    assert table["force"].drop_duplicates().tolist() == ["kent", "essex", "ALL"]
    kent_groups = table.loc[table["force"].eq("kent"), "group"].drop_duplicates().tolist()
    assert kent_groups == [g for g in vocab.BROAD_WITH_NOT_STATED if g in kent_groups]
    objects = table.loc[table["force"].eq("kent") & table["group"].eq("White")
                        & table["dimension"].eq("object_of_search"), "category"].tolist()
    # object of search: most frequent in the selection first, 'Not recorded' last
    assert objects[0] == "Controlled drugs" and objects[-1] == "Not recorded"


def test_mix_of_nothing_is_an_empty_table():
    out = mix(schema.empty_frame(), Selection.build("kent", "2024-01", "2024-01"))
    assert list(out.columns) == MIX_COLUMNS and out.empty
