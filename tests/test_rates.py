"""Rates, the 'Not stated' summary and disparity ratios on small hand-made records, against hand sums."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import stats
from scipy.stats.contingency import relative_risk

from analysis import SMALL_N
from analysis.rates import (
    DISPARITY_COLUMNS,
    NOT_STATED_COLUMNS,
    RATES_COLUMNS,
    disparity,
    not_stated_summary,
    rates,
)
from analysis.selection import Selection, select
from data import reference_data, schema, vocab
from tests.synthetic_records import records_from_counts

POP = reference_data.population("broad").set_index(["force", "group"])["population"]
POP_DETAILED = reference_data.population("detailed").set_index(["force", "group"])["population"]


def make(rows: list[tuple], selection: Selection) -> pd.DataFrame:
    rows = [(*r, "Person search") if len(r) == 4 else r for r in rows]
    counts = pd.DataFrame(rows, columns=["force", "month", "group", "n", "type"])
    return select(records_from_counts(counts), selection)


def row(table: pd.DataFrame, force: str, group: str) -> pd.Series:
    return table.loc[table["force"].eq(force) & table["group"].eq(group)].iloc[0]


def test_rate_is_searches_over_residents_annualised() -> None:
    sel = Selection.build("kent", "2023-01", "2023-03")  # 3 months: x 12 / 3
    records = make([("kent", "2023-01", "Black", 30), ("kent", "2023-02", "Black", 12),
                    ("kent", "2023-02", "White", 500), ("kent", "2023-03", "Not stated", 7),
                    ("kent", "2023-03", "Black", 4, "Vehicle search")], sel)
    table = rates(records, sel)
    assert list(table.columns) == RATES_COLUMNS
    assert table["group"].tolist() == list(vocab.BROAD_WITH_NOT_STATED)  # one force: no pooled row
    black = row(table, "kent", "Black")
    # hand: 42 searches of persons (the vehicle-only 4 left out) / residents x 1,000 x 12 / 3
    assert black["searches"] == 42 and black["population"] == POP["kent", "Black"] and black["months"] == 3
    assert_allclose(black["rate_per_1000"], 42 / POP["kent", "Black"] * 1000 * 4, rtol=1e-12)
    # Garwood: chi2.ppf(0.025, 84)/2 and chi2.ppf(0.975, 86)/2, scaled the same way
    scale = 1000 * 4 / POP["kent", "Black"]
    assert_allclose((black["ci_low"], black["ci_high"]),
                    (stats.chi2.ppf(0.025, 84) / 2 * scale, stats.chi2.ppf(0.975, 86) / 2 * scale), rtol=1e-12)
    assert not black["small_n"] and row(table, "kent", "Asian")["small_n"]
    assert row(table, "kent", "Asian")["rate_per_1000"] == 0
    not_stated = row(table, "kent", "Not stated")
    assert not_stated["searches"] == 7 and pd.isna(not_stated["population"]) and pd.isna(not_stated["rate_per_1000"])
    assert "not stated" in not_stated["reason"]


def test_unrecognised_labels_are_counted_not_dropped() -> None:
    sel = Selection.build("kent", "2023-01", "2023-01")
    counts = pd.DataFrame({"force": "kent", "month": "2023-01", "n": [5, 3, 2, 1],
                           "label": ["Martian - Any", "White - Irish", None, "Vulcan"]})
    records = select(records_from_counts(counts), sel)
    summary = not_stated_summary(records, sel)
    assert list(summary.columns) == NOT_STATED_COLUMNS
    kent = summary.iloc[0]
    # hand: 11 searches of persons; the empty label (2) is Not stated; 5 + 1 unrecognised
    assert (kent["searches_of_persons"], kent["not_stated"], kent["unrecognised"]) == (11, 2, 6)
    assert_allclose(kent["share"], 2 / 11)
    assert rates(records, sel)["searches"].sum() == 11 - 6


def test_detailed_level_and_broad_reference() -> None:
    sel = Selection.build("metropolitan", "2023-01", "2023-12", level="detailed")
    records = make([("metropolitan", "2023-05", "Caribbean", 900), ("metropolitan", "2023-05", "African", 700),
                    ("metropolitan", "2023-05", "White British", 2000), ("metropolitan", "2023-05", "Other White", 800)],
                   sel)
    table = rates(records, sel)
    assert table["group"].tolist() == list(vocab.DETAILED_WITH_NOT_STATED)
    car = row(table, "metropolitan", "Caribbean")
    assert_allclose(car["rate_per_1000"], 900 / POP_DETAILED["metropolitan", "Caribbean"] * 1000, rtol=1e-12)
    # reference 'White' at the detailed level = all White detailed groups together (their residents summed)
    ratios = disparity(records, sel)
    white_pop = POP["metropolitan", "White"]
    assert sum(POP_DETAILED["metropolitan", g] for g, b in vocab.DETAILED_GROUPS.items() if b == "White") == white_pop
    car = row(ratios, "metropolitan", "Caribbean")
    oracle = relative_risk(exposed_cases=900, exposed_total=int(POP_DETAILED["metropolitan", "Caribbean"]),
                           control_cases=2800, control_total=int(white_pop))
    assert_allclose(car["ratio"], oracle.relative_risk, rtol=1e-12)
    assert "White British" in set(ratios["group"])  # a detailed White group compared with all White


def test_disparity_against_scipy_and_hand() -> None:
    sel = Selection.build("kent", "2022-01", "2022-06")  # 6 months
    records = make([("kent", "2022-02", "Black", 150), ("kent", "2022-03", "White", 2000),
                    ("kent", "2022-03", "Asian", 5), ("kent", "2022-04", "Not stated", 300)], sel)
    table = disparity(records, sel)
    assert list(table.columns) == DISPARITY_COLUMNS
    assert table["group"].tolist() == ["Asian", "Black", "Mixed", "Other"]
    n1, n2 = int(POP["kent", "Black"]), int(POP["kent", "White"])
    black = row(table, "kent", "Black")
    oracle = relative_risk(exposed_cases=150, exposed_total=n1, control_cases=2000, control_total=n2)
    ci = oracle.confidence_interval(0.95)
    assert_allclose((black["ratio"], black["ci_low"], black["ci_high"]), (oracle.relative_risk, ci.low, ci.high),
                    rtol=1e-12)
    # exact conditional: binomtest(150, 2150) Clopper-Pearson, p/(1-p) x n2/n1
    cp = stats.binomtest(150, 2150).proportion_ci(method="exact")
    assert_allclose((black["exact_ci_low"], black["exact_ci_high"]),
                    (cp.low / (1 - cp.low) * n2 / n1, cp.high / (1 - cp.high) * n2 / n1), rtol=1e-9)
    # rate difference per 1,000 a year: (150/n1 - 2000/n2) x 1,000 x 12/6
    assert_allclose(black["rate_difference"], (150 / n1 - 2000 / n2) * 1000 * 2, rtol=1e-12)
    # sensitivity: all 300 'Not stated' in the group / in the reference
    assert_allclose(black["ratio_if_not_stated_group"], (450 / n1) / (2000 / n2), rtol=1e-12)
    assert_allclose(black["ratio_if_not_stated_reference"], (150 / n1) / (2300 / n2), rtol=1e-12)
    assert (black["group_searches"], black["reference_searches"]) == (150, 2000)
    assert not black["small_n"] and row(table, "kent", "Asian")["small_n"]  # 5 < SMALL_N
    assert SMALL_N == 20


def test_city_of_london_and_btp_have_reasons_and_join_the_pool_correctly() -> None:
    sel = Selection.build("metropolitan,city-of-london,btp", "2023-01", "2023-12")
    rows = [("metropolitan", "2023-01", "Black", 1000), ("city-of-london", "2023-01", "Black", 300),
            ("btp", "2023-01", "Black", 50), ("metropolitan", "2023-01", "White", 2000)]
    records = make(rows, sel)
    table = rates(records, sel)
    city, btp = row(table, "city-of-london", "Black"), row(table, "btp", "Black")
    assert pd.isna(city["rate_per_1000"]) and "8,584 residents" in city["reason"]
    assert pd.isna(btp["rate_per_1000"]) and pd.isna(btp["population"]) and "no resident" in btp["reason"]
    pooled = row(table, "ALL", "Black")
    # hand: Met + City searches and residents; BTP left out unless include_btp
    assert pooled["searches"] == 1300
    assert pooled["population"] == POP["metropolitan", "Black"] + POP["city-of-london", "Black"]
    assert pooled["forces"] == "metropolitan,city-of-london"
    with_btp = rates(records, Selection.build("metropolitan,city-of-london,btp", "2023-01", "2023-12",
                                              include_btp=True))
    assert row(with_btp, "ALL", "Black")["searches"] == 1350
    assert row(with_btp, "ALL", "Black")["population"] == pooled["population"]
    ratios = disparity(records, sel)
    assert pd.isna(row(ratios, "city-of-london", "Black")["ratio"]) and row(ratios, "city-of-london", "Black")["reason"]


def test_officer_defined_is_labelled() -> None:
    sel = Selection.build("kent", "2023-01", "2023-01", ethnicity="officer")
    counts = pd.DataFrame({"force": "kent", "month": "2023-01", "group": "White", "n": [4, 6],
                           "officer": ["Black", "White"]})
    table = rates(select(records_from_counts(counts), sel), sel)
    assert row(table, "kent", "Black")["searches"] == 4
    assert table.loc[table["group"].ne("Not stated"), "reason"].str.contains("officer-defined").all()
    assert table["reason"].str.contains("self-identified Census").any()


def test_empty_records_and_zero_population_give_nan_or_reason_not_errors() -> None:
    sel = Selection.build("kent,btp", "2023-01", "2023-12")
    empty = select(schema.empty_frame(), sel)
    table = rates(empty, sel)
    assert table["searches"].eq(0).all()
    assert row(table, "kent", "Black")["rate_per_1000"] == 0
    assert "no records" in row(table, "kent", "Black")["reason"]
    ratios = disparity(empty, sel)
    assert ratios["ratio"].isna().all()
    assert not_stated_summary(empty, sel)["share"].isna().all()
    only_btp = Selection.build("btp", "2023-01", "2023-12")
    assert rates(empty, only_btp)["rate_per_1000"].isna().all()
    pooled = rates(empty, only_btp, pooled=True)
    assert row(pooled, "ALL", "White")["reason"].startswith("no selected force")
    # a group with no residents in the area: Roma somewhere with population 0 (if any), else a zero-total check
    zero = POP_DETAILED[POP_DETAILED.eq(0)]
    if len(zero):
        force, group = zero.index[0]
        sel = Selection.build(force, "2023-01", "2023-12", level="detailed")
        table = rates(make([(force, "2023-01", group, 3)], sel), sel)
        assert pd.isna(row(table, force, group)["rate_per_1000"]) and row(table, force, group)["reason"]


def test_one_group_only() -> None:
    sel = Selection.build("kent", "2023-01", "2023-12")
    records = make([("kent", "2023-01", "Black", 10)], sel)
    ratios = disparity(records, sel)
    black = row(ratios, "kent", "Black")
    # no reference searches: scipy's convention, ratio inf and interval (nan, inf)
    assert black["ratio"] == np.inf and np.isnan(black["ci_low"]) and black["ci_high"] == np.inf


def test_unknown_reference_is_a_clear_error() -> None:
    sel = Selection.build("kent", "2023-01", "2023-12", reference="Martian")
    with pytest.raises(ValueError, match="reference group 'Martian'"):
        disparity(select(schema.empty_frame(), sel), sel)


FORCES = ["kent", "essex", "surrey", "sussex", "city-of-london"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 400), st.integers(0, 400)), min_size=len(FORCES), max_size=len(FORCES)))
def test_pooling_is_consistent_with_its_parts(counts: list[tuple[int, int]]) -> None:
    sel = Selection.build(FORCES, "2023-01", "2023-12")
    rows = [(f, "2023-03", g, n) for f, (b, w) in zip(FORCES, counts, strict=True)
            for g, n in (("Black", b), ("White", w)) if n]
    if not rows:
        return
    table = rates(make(rows, sel), sel)
    for group in ("Black", "White"):
        parts = table.loc[table["group"].eq(group) & table["force"].ne("ALL")]
        pooled = row(table, "ALL", group)
        assert pooled["searches"] == parts["searches"].sum()
        assert pooled["population"] == parts["population"].sum()
        # City of London is in the pool though its own rate is not shown: compare with raw parts' rates
        raw = parts["searches"] / parts["population"].astype(float) * 1000
        assert raw.min() - 1e-12 <= pooled["rate_per_1000"] <= raw.max() + 1e-12


@settings(max_examples=30, deadline=None)
@given(black=st.integers(1, 500), asian=st.integers(1, 500))
def test_disparity_inverts_when_groups_swap(black: int, asian: int) -> None:
    rows = [("kent", "2023-02", "Black", black), ("kent", "2023-02", "Asian", asian)]
    one = Selection.build("kent", "2023-01", "2023-12", reference="Asian")
    other = Selection.build("kent", "2023-01", "2023-12", reference="Black")
    a = row(disparity(make(rows, one), one), "kent", "Black")
    b = row(disparity(make(rows, other), other), "kent", "Asian")
    assert_allclose(a["ratio"] * b["ratio"], 1, rtol=1e-12)
    assert_allclose((a["ci_low"], a["ci_high"]), (1 / b["ci_high"], 1 / b["ci_low"]), rtol=1e-10)
    assert_allclose((a["exact_ci_low"], a["exact_ci_high"]), (1 / b["exact_ci_high"], 1 / b["exact_ci_low"]),
                    rtol=1e-7)


def test_detailed_group_inside_a_broad_reference_has_no_interval() -> None:
    # White Irish vs all White: the counts overlap, so the independent-counts intervals do not apply
    sel = Selection.build("metropolitan", "2023-01", "2023-12", level="detailed")
    records = make([("metropolitan", "2023-05", "White Irish", 90), ("metropolitan", "2023-05", "White British", 2000),
                    ("metropolitan", "2023-05", "African", 700)], sel)
    table = disparity(records, sel)
    irish = row(table, "metropolitan", "White Irish")
    # hand: (90 / Irish residents) / (2090 / all White residents)
    expected = (90 / POP_DETAILED["metropolitan", "White Irish"]) / (2090 / POP["metropolitan", "White"])
    assert_allclose(irish["ratio"], expected, rtol=1e-12)
    assert np.isnan(irish["ci_low"]) and np.isnan(irish["exact_ci_high"]) and "part of the reference" in irish["reason"]
    assert np.isfinite(row(table, "metropolitan", "African")["ci_low"])
