"""Every interval against an independent oracle: chi2/beta formulas by hand, scipy and statsmodels."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import stats
from scipy.stats.contingency import relative_risk
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.rates import confint_poisson

from analysis.intervals import (
    PoissonCount,
    PoissonRate,
    Proportion,
    RateRatio,
    clopper_pearson,
    exact_conditional,
    garwood,
    katz,
    log_ratio_se,
    wilson,
)

COUNTS = [0, 1, 2, 5, 10, 19, 20, 100, 1234, 57_121]


def test_garwood_against_chi2_formula_by_hand() -> None:
    # Garwood (1936): low = chi2.ppf(0.025, 2k)/2, high = chi2.ppf(0.975, 2k+2)/2; low = 0 at k = 0
    for k in COUNTS:
        low = 0.0 if k == 0 else stats.chi2.ppf(0.025, 2 * k) / 2
        high = stats.chi2.ppf(0.975, 2 * k + 2) / 2
        assert_allclose(PoissonCount(k).confidence_interval(), (low, high), rtol=1e-12)
    assert_allclose(garwood(COUNTS).high, [stats.chi2.ppf(0.975, 2 * k + 2) / 2 for k in COUNTS], rtol=1e-12)


def test_garwood_against_statsmodels_and_published_table() -> None:
    # statsmodels.stats.rates.confint_poisson(method='exact-c') is the Garwood interval
    for k in COUNTS[1:]:
        assert_allclose(garwood(k), confint_poisson(k, 1, method="exact-c"), rtol=1e-9)
    # Published exact Poisson limits (e.g. Ulm 1990, Am J Epidemiol 131:373, table): k=0 (0, 3.689),
    # k=1 (0.0253, 5.572), k=10 (4.795, 18.390)
    assert_allclose(garwood([0, 1, 10]).low, [0, 0.0253, 4.795], atol=5e-4)
    assert_allclose(garwood([0, 1, 10]).high, [3.689, 5.572, 18.390], atol=5e-4)
    # 90% level: chi2.ppf(0.05, 20)/2, chi2.ppf(0.95, 22)/2
    assert_allclose(garwood(10, confidence_level=0.9), (stats.chi2.ppf(0.05, 20) / 2, stats.chi2.ppf(0.95, 22) / 2))


def test_poisson_rate_scales_the_count_interval() -> None:
    # 57,121 searches over 2,409,283 residents x 1,000 (DATA.md 3.2); interval = Garwood / residents x 1,000
    rate = PoissonRate(57_121, 2_409_283, 1000)
    assert_allclose(rate.rate, 23.7087, atol=5e-5)
    low, high = garwood(57_121)
    assert_allclose(rate.confidence_interval(), (low / 2_409.283, high / 2_409.283), rtol=1e-12)
    assert np.isnan(PoissonRate(3, 0).rate) and np.isnan(PoissonRate(3, 0).confidence_interval().low)


def test_wilson_against_statsmodels() -> None:
    x = np.array([0, 1, 3, 10, 17, 50, 999])
    n = np.array([10, 10, 10, 10, 40, 50, 1000])
    low, high = proportion_confint(x, n, alpha=0.05, method="wilson")
    assert_allclose(wilson(x, n), (low, high), rtol=1e-10, atol=1e-14)
    low99, high99 = proportion_confint(x, n, alpha=0.01, method="wilson")
    assert_allclose(wilson(x, n, confidence_level=0.99), (low99, high99), rtol=1e-10, atol=1e-14)
    for xi, ni, lo, hi in zip(x, n, low, high, strict=True):
        assert_allclose(Proportion(int(xi), int(ni)).confidence_interval(), (lo, hi), rtol=1e-10, atol=1e-14)


def test_clopper_pearson_against_scipy_binomtest() -> None:
    for x, n in [(0, 10), (1, 10), (5, 10), (10, 10), (3, 1000), (400, 401)]:
        ci = stats.binomtest(x, n).proportion_ci(method="exact")
        assert_allclose(clopper_pearson(x, n), (ci.low, ci.high), rtol=1e-9, atol=1e-15)
        assert_allclose(clopper_pearson(x, n), proportion_confint(x, n, method="beta"), rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize(("a", "n1", "c", "n2"), [
    (10, 75, 12, 225),                     # scipy relative_risk docstring example: 2.5, (1.126, 5.550)
    (57_121, 2_409_283, 282_957, 48_699_231),
    (1, 1000, 1, 1000), (3, 50, 200, 10_000), (5, 5, 1, 1000),
])
def test_katz_against_scipy_relative_risk(a: int, n1: int, c: int, n2: int) -> None:
    oracle = relative_risk(exposed_cases=a, exposed_total=n1, control_cases=c, control_total=n2)
    ci = oracle.confidence_interval()
    ratio, interval = katz(a, n1, c, n2)
    assert_allclose(ratio, oracle.relative_risk, rtol=1e-12)
    assert_allclose(interval, (ci.low, ci.high), rtol=1e-12)
    assert_allclose(RateRatio(a, n1, c, n2).confidence_interval(), (ci.low, ci.high), rtol=1e-12)
    ci90 = oracle.confidence_interval(0.9)
    assert_allclose(katz(a, n1, c, n2, confidence_level=0.9)[1], (ci90.low, ci90.high), rtol=1e-12)


def test_katz_docstring_numbers() -> None:
    # scipy docs: relative_risk(10, 75, 12, 225) -> 2.5, ConfidenceInterval(1.1261564003469628, 5.549850800541033)
    ratio, (low, high) = katz(10, 75, 12, 225)
    assert_allclose((ratio, low, high), (2.5, 1.1261564003469628, 5.549850800541033), rtol=1e-12)
    # hand: se = sqrt(1/10 - 1/75 + 1/12 - 1/225)
    assert_allclose(log_ratio_se(10, 75, 12, 225), np.sqrt(1 / 10 - 1 / 75 + 1 / 12 - 1 / 225), rtol=1e-12)


@pytest.mark.parametrize(("a", "c"), [(0, 5), (5, 0), (0, 0)])
def test_katz_zero_cases_follow_scipy(a: int, c: int) -> None:
    oracle = relative_risk(exposed_cases=a, exposed_total=100, control_cases=c, control_total=200)
    ci = oracle.confidence_interval()
    ratio, interval = katz(a, 100, c, 200)
    assert_allclose(ratio, oracle.relative_risk)
    assert_allclose(interval, (ci.low, ci.high))
    assert_allclose(RateRatio(a, 100, c, 200).confidence_interval(), (ci.low, ci.high))


@pytest.mark.parametrize(("a", "n1", "c", "n2"), [(3, 1000, 7, 2000), (0, 500, 4, 800), (12, 5000, 0, 9000),
                                                  (45, 1e5, 400, 2e6), (1, 10, 1, 10)])
def test_exact_conditional_against_binomtest_on_conditional_counts(a, n1, c, n2) -> None:
    # a | a + c ~ Binomial(a + c, p), p = R n1 / (R n1 + n2)  =>  R = p / (1 - p) x n2 / n1
    ci = stats.binomtest(a, a + c).proportion_ci(confidence_level=0.95, method="exact")
    with np.errstate(divide="ignore"):
        expected = (ci.low / (1 - ci.low) * n2 / n1,
                    np.inf if ci.high == 1 else ci.high / (1 - ci.high) * n2 / n1)
    assert_allclose(exact_conditional(a, n1, c, n2), expected, rtol=1e-9)
    assert_allclose(RateRatio(a, n1, c, n2).exact_interval(), expected, rtol=1e-9)


def test_degenerate_inputs_give_nan_not_exceptions() -> None:
    assert np.isnan(garwood(-1).low) and np.isnan(garwood(np.nan).high)
    assert np.isnan(wilson(0, 0).low)
    assert np.isnan(clopper_pearson(0, 0).low)
    assert all(np.isnan(katz(3, 0, 4, 100)[1]))
    assert np.isnan(katz(3, 0, 4, 100)[0])
    assert all(np.isnan(exact_conditional(0, 100, 0, 100)))
    assert all(np.isnan(exact_conditional(3, 100, 4, 0)))
    assert all(np.isnan(Proportion(0, 0).confidence_interval()))
    assert all(np.isnan(RateRatio(3, 0, 4, 10).confidence_interval()))


@settings(max_examples=200, deadline=None)
@given(a=st.integers(1, 10_000), c=st.integers(1, 10_000), n1=st.integers(10_000, 10**7),
       n2=st.integers(10_000, 10**7))
def test_ratio_inverts_when_groups_swap(a: int, c: int, n1: int, n2: int) -> None:
    # ratio(A vs B) = 1 / ratio(B vs A); the interval bounds swap and invert (Katz and exact conditional)
    ratio, (low, high) = katz(a, n1, c, n2)
    back, (b_low, b_high) = katz(c, n2, a, n1)
    assert_allclose(ratio * back, 1.0, rtol=1e-10)
    assert_allclose((low, high), (1 / b_high, 1 / b_low), rtol=1e-10)
    e_low, e_high = exact_conditional(a, n1, c, n2)
    f_low, f_high = exact_conditional(c, n2, a, n1)
    assert_allclose((e_low, e_high), (1 / f_high, 1 / f_low), rtol=1e-7)
    assert low <= ratio <= high and e_low <= ratio <= e_high
