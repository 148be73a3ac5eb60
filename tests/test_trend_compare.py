"""Rolling 12-month trends and the force comparison (funnel limits, over-dispersion, q-values) against oracles."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats
from scipy.stats.contingency import relative_risk
from statsmodels.stats.multitest import multipletests

from analysis.compare import COMPARE_COLUMNS, MIN_UNITS, compare, funnel_curve
from analysis.selection import Selection, select
from analysis.trend import TREND_COLUMNS, trend
from data import reference_data
from data.months import month_range
from tests.synthetic_records import records_from_counts

POP = reference_data.population("broad").set_index(["force", "group"])["population"]
MONTHS = month_range("2021-01", "2022-12")


def monthly_records(forces: list[str], skip: set[tuple[str, str]] = frozenset()) -> pd.DataFrame:
    rows = [(f, m, g, n + i % 5 + 3 * j) for j, f in enumerate(forces) for i, m in enumerate(MONTHS)
            if (f, m) not in skip for g, n in (("Black", 7), ("White", 40), ("Not stated", 2))]
    return records_from_counts(pd.DataFrame(rows, columns=["force", "month", "group", "n"]))


def test_rolling_sums_rates_and_ratios() -> None:
    sel = Selection.build("kent,essex", MONTHS[0], MONTHS[-1])
    records = select(monthly_records(["kent", "essex"]), sel)
    table = trend(records, sel)
    assert list(table.columns) == TREND_COLUMNS
    kent = table.loc[table["force"].eq("kent") & table["group"].eq("Black")].set_index("month")
    # oracle: pandas rolling(12).sum over the monthly counts, by hand
    monthly = pd.Series([7 + i % 5 for i in range(len(MONTHS))], index=MONTHS)
    assert kent["searches"].tolist() == monthly.tolist()
    expected = monthly.rolling(12).sum()
    assert kent["rolling_searches"].iloc[:11].isna().all()
    assert kent["rolling_searches"].iloc[11:].astype(int).tolist() == expected.iloc[11:].astype(int).tolist()
    pop_b, pop_w = POP["kent", "Black"], POP["kent", "White"]
    assert_allclose(kent["rolling_rate"].iloc[11:], expected.iloc[11:] / pop_b * 1000, rtol=1e-12)
    k = int(expected.iloc[-1])
    assert_allclose(kent[["rolling_ci_low", "rolling_ci_high"]].iloc[-1],
                    [stats.chi2.ppf(0.025, 2 * k) / 2 / pop_b * 1000, stats.chi2.ppf(0.975, 2 * k + 2) / 2 / pop_b * 1000],
                    rtol=1e-12)
    white = int(pd.Series([40 + i % 5 for i in range(len(MONTHS))]).iloc[-12:].sum())
    oracle = relative_risk(exposed_cases=k, exposed_total=int(pop_b), control_cases=white,
                           control_total=int(pop_w))
    ci = oracle.confidence_interval()
    assert_allclose(kent[["rolling_ratio", "rolling_ratio_ci_low", "rolling_ratio_ci_high"]].iloc[-1],
                    [oracle.relative_risk, ci.low, ci.high], rtol=1e-12)
    ref = table.loc[table["force"].eq("kent") & table["group"].eq("White")]
    assert ref["rolling_ratio"].iloc[-1] == 1.0
    assert table.loc[table["group"].eq("Not stated"), "rolling_rate"].isna().all()
    pooled = table.loc[table["force"].eq("ALL") & table["group"].eq("Black")].set_index("month")
    essex = table.loc[table["force"].eq("essex") & table["group"].eq("Black")].set_index("month")
    assert_allclose(pooled["rolling_searches"].iloc[11:].astype(float),
                    (kent["rolling_searches"] + essex["rolling_searches"]).iloc[11:].astype(float))
    assert_allclose(pooled["rolling_rate"].iloc[-1], pooled["rolling_searches"].iloc[-1] /
                    (POP["kent", "Black"] + POP["essex", "Black"]) * 1000, rtol=1e-12)


def test_a_missing_month_blanks_the_windows_that_hold_it() -> None:
    sel = Selection.build("kent", MONTHS[0], MONTHS[-1])
    records = select(monthly_records(["kent"], skip={("kent", "2022-03")}), sel)
    table = trend(records, sel)
    black = table.loc[table["group"].eq("Black")].set_index("month")["rolling_searches"]
    # windows ending 2021-12, 2022-01, 2022-02 are complete; from 2022-03 on they hold the missing month
    assert black.loc[["2021-12", "2022-01", "2022-02"]].notna().all()
    assert black.loc["2022-03":].isna().all()
    # told that 2022-03 was published (a real zero), the windows are computed
    told = trend(records, sel, months_available={"kent": MONTHS})
    assert told.loc[told["group"].eq("Black"), "rolling_searches"].iloc[11:].notna().all()


def test_short_selection_has_no_rolling_values() -> None:
    sel = Selection.build("kent", "2022-01", "2022-06")
    table = trend(select(monthly_records(["kent"]), sel), sel)
    assert len(table) == 6 * 6 and table["rolling_rate"].isna().all()


COMPARE_FORCES = ["kent", "essex", "surrey", "sussex", "hampshire", "thames-valley", "norfolk", "suffolk",
                  "city-of-london", "btp"]
BLACK = [300, 500, 150, 200, 900, 1200, 60, 12, 40, 80]
WHITE = [9000, 9500, 5000, 7000, 11000, 12000, 4000, 4500, 30, 900]


@pytest.fixture(scope="module")
def comparison() -> tuple[pd.DataFrame, Selection]:
    rows = [(f, "2023-01", g, n) for f, b, w in zip(COMPARE_FORCES, BLACK, WHITE, strict=True)
            for g, n in (("Black", b), ("White", w))]
    sel = Selection.build(COMPARE_FORCES, "2023-01", "2023-12")
    return select(records_from_counts(pd.DataFrame(rows, columns=["force", "month", "group", "n"])), sel), sel


def test_compare_against_hand_funnel(comparison) -> None:
    records, sel = comparison
    table = compare(records, sel)
    assert list(table.columns) == COMPARE_COLUMNS
    black = table.loc[table["group"].eq("Black")].set_index("force")
    # hand: pooled ratio = summed searches / summed residents over the areas with residents (City in, BTP out)
    areas = COMPARE_FORCES[:-1]
    a_sum, c_sum = sum(BLACK[:-1]), sum(WHITE[:-1])
    n1_sum = sum(POP[f, "Black"] for f in areas)
    n2_sum = sum(POP[f, "White"] for f in areas)
    theta0 = (a_sum / n1_sum) / (c_sum / n2_sum)
    assert_allclose(black["pooled_ratio"].iloc[0], theta0, rtol=1e-12)
    # hand: Katz se and z for the eight forces on the funnel
    on = COMPARE_FORCES[:8]
    se = {f: math.sqrt(1 / a - 1 / POP[f, "Black"] + 1 / c - 1 / POP[f, "White"])
          for f, a, c in zip(on, BLACK, WHITE, strict=False)}
    y = {f: math.log((a / POP[f, "Black"]) / (c / POP[f, "White"])) for f, a, c in zip(on, BLACK, WHITE, strict=False)}
    z0 = {f: (y[f] - math.log(theta0)) / se[f] for f in on}
    assert_allclose(black.loc[on, "se"], [se[f] for f in on], rtol=1e-12)
    assert_allclose(black.loc[on, "z_unadjusted"], [z0[f] for f in on], rtol=1e-10)
    # Spiegelhalter 2005 section 6: the 10% most extreme z in each tail (at least one force: 8 forces -> 1)
    # set to the next one in, phi = mean(zw^2), tau2 = max(0, (I phi - (I-1)) / (sum w - sum w^2 / sum w))
    ordered = sorted(z0.values())
    lo, hi = ordered[1], ordered[-2]
    phi = sum(min(max(z, lo), hi) ** 2 for z in z0.values()) / len(on)
    w = [1 / se[f] ** 2 for f in on]
    tau2 = max(0.0, (len(on) * phi - (len(on) - 1)) / (sum(w) - sum(x * x for x in w) / sum(w)))
    assert_allclose(black["phi"].iloc[0], phi, rtol=1e-10)
    assert_allclose(black["tau2"].iloc[0], tau2, rtol=1e-10)
    assert tau2 > 0  # these made-up forces are over-dispersed
    z95, z998 = stats.norm.ppf(0.975), stats.norm.ppf(0.999)
    for f in on:
        spread = math.sqrt(se[f] ** 2 + tau2)
        assert_allclose(black.loc[f, ["limit95_low", "limit95_high", "limit998_low", "limit998_high"]].astype(float),
                        [theta0 * math.exp(-z95 * spread), theta0 * math.exp(z95 * spread),
                         theta0 * math.exp(-z998 * spread), theta0 * math.exp(z998 * spread)], rtol=1e-10)
        z = (y[f] - math.log(theta0)) / spread
        assert_allclose(black.loc[f, "z"], z, rtol=1e-10)
        assert_allclose(black.loc[f, "p_value"], 2 * stats.norm.sf(abs(z)), rtol=1e-10)
        ratio = math.exp(y[f])
        # one rule: flagged outside the 99.8% limits; the 95% position is said but not flagged
        expected = ("flagged: above the 99.8% limit" if z > z998 else "flagged: below the 99.8% limit"
                    if z < -z998 else "not flagged: above the 95% limit, within the 99.8% limits" if z > z95 else
                    "not flagged: below the 95% limit, within the 99.8% limits" if z < -z95 else
                    "not flagged: within the 95% limits")
        assert black.loc[f, "flag"] == expected, (f, ratio)
        assert black.loc[f, "flagged"] == (abs(z) > z998)
    # Benjamini-Hochberg: statsmodels multipletests(method='fdr_bh')
    _, q, _, _ = multipletests(black.loc[on, "p_value"], method="fdr_bh")
    assert_allclose(black.loc[on, "q_value"], q, rtol=1e-10)
    assert black.loc["city-of-london", "flag"].startswith("not compared") and pd.isna(black.loc["btp", "z"])
    assert black.loc["suffolk", "small_n"] and not black.loc["kent", "small_n"]  # 12 < SMALL_N


def test_compare_methods_none_and_multiplicative(comparison) -> None:
    records, sel = comparison
    plain = compare(records, sel, overdispersion="none")
    kent = plain.loc[plain["group"].eq("Black") & plain["force"].eq("kent")].iloc[0]
    assert kent["phi"] == 1 and kent["tau2"] == 0
    # plain limits: theta0 exp(+-1.96 se); z = z_unadjusted
    assert_allclose(kent["limit95_high"], kent["pooled_ratio"] * math.exp(stats.norm.ppf(0.975) * kent["se"]))
    assert_allclose(kent["z"], kent["z_unadjusted"])
    mult = compare(records, sel, overdispersion="multiplicative")
    kent = mult.loc[mult["group"].eq("Black") & mult["force"].eq("kent")].iloc[0]
    assert kent["phi"] > 1 and kent["tau2"] == 0
    assert_allclose(kent["limit95_high"],
                    kent["pooled_ratio"] * math.exp(stats.norm.ppf(0.975) * math.sqrt(kent["phi"]) * kent["se"]))
    assert_allclose(kent["z"], kent["z_unadjusted"] / math.sqrt(kent["phi"]))
    with pytest.raises(ValueError, match="overdispersion"):
        compare(records, sel, overdispersion="bogus")


def test_funnel_curve_matches_the_limits(comparison) -> None:
    records, sel = comparison
    table = compare(records, sel)
    curve = funnel_curve(table, points=50)
    black = curve.loc[curve["group"].eq("Black")]
    row = table.loc[table["group"].eq("Black")].iloc[0]
    spread = np.sqrt(black["se"] ** 2 + row["tau2"])
    assert_allclose(black["limit998_high"], row["pooled_ratio"] * np.exp(stats.norm.ppf(0.999) * spread))
    assert_allclose(black["precision"], 1 / black["se"])
    on = table.loc[table["group"].eq("Black"), "se"].dropna()
    assert black["precision"].min() < (1 / on).min() and black["precision"].max() > (1 / on).max()


def test_few_forces_get_no_dispersion_adjustment() -> None:
    sel = Selection.build("kent,essex", "2023-01", "2023-12")
    rows = [("kent", "2023-01", "Black", 30), ("kent", "2023-01", "White", 900),
            ("essex", "2023-01", "Black", 90), ("essex", "2023-01", "White", 800)]
    table = compare(select(records_from_counts(pd.DataFrame(rows, columns=["force", "month", "group", "n"])), sel),
                    sel)
    assert MIN_UNITS > 2 and table["phi"].eq(1).all() and table["tau2"].eq(0).all()


def test_compare_on_empty_records_does_not_raise() -> None:
    sel = Selection.build("kent,essex", "2023-01", "2023-12")
    table = compare(select(records_from_counts(pd.DataFrame({"force": [], "month": [], "group": [], "n": []})),
                           sel), sel)
    assert table["ratio"].isna().all() and table["flag"].str.startswith("not compared").all()
    assert funnel_curve(table).empty


def test_core_tables_equal_the_separate_functions(comparison) -> None:
    # oracle: each table function called on its own
    from analysis.core import core_tables
    from analysis.rates import disparity, not_stated_summary, rates

    records, sel = comparison
    both = core_tables(records, sel)
    pd.testing.assert_frame_equal(both.rates, rates(records, sel))
    pd.testing.assert_frame_equal(both.not_stated, not_stated_summary(records, sel))
    pd.testing.assert_frame_equal(both.disparity, disparity(records, sel))
    pd.testing.assert_frame_equal(both.trend, trend(records, sel))
    pd.testing.assert_frame_equal(both.compare, compare(records, sel))


def test_additive_without_excess_dispersion_gives_plain_limits() -> None:
    # searches proportional to residents: every force sits on the target, phi < 1, tau2 = 0, so the
    # additive limits must be the plain ones theta0 exp(+-z se) (not narrowed by sqrt(phi))
    forces = COMPARE_FORCES[:8]
    rows = [(f, "2023-01", g, int(POP[f, g] * rate)) for f in forces for g, rate in (("Black", 0.02), ("White", 0.005))]
    sel = Selection.build(forces, "2023-01", "2023-12")
    table = compare(select(records_from_counts(pd.DataFrame(rows, columns=["force", "month", "group", "n"])), sel),
                    sel)
    black = table.loc[table["group"].eq("Black")]
    assert black["phi"].iloc[0] < 1 and black["tau2"].iloc[0] == 0
    assert_allclose(black["limit95_high"], black["pooled_ratio"] * np.exp(stats.norm.ppf(0.975) * black["se"]))
    assert_allclose(black["z"], black["z_unadjusted"])
    curve = funnel_curve(table).query("group == 'Black'")
    assert_allclose(curve["limit998_low"], curve["pooled_ratio"] * np.exp(-stats.norm.ppf(0.999) * curve["se"]))
