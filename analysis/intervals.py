"""Confidence intervals for counts, proportions and ratios of rates, as arrays and as small result objects.

Every function accepts numbers or numpy arrays and never raises on degenerate counts (zero cases, zero
totals): it returns nan or inf instead. The array functions are what the tables use (vectorised); the
frozen dataclasses keep their inputs and offer `confidence_interval(confidence_level=0.95)` in the
style of scipy.stats results, and call scipy where scipy has the method.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.special import betaincinv, gammaincinv, ndtri

# scipy.stats costs ~2 s to import and the first page draws intervals, so the array functions call the
# scipy.special functions behind scipy.stats.chi2.ppf and beta.ppf (tests/test_intervals_lazy.py checks that
# they agree bit for bit); only the result objects below import scipy.stats, where they need it.


class Interval(NamedTuple):
    low: float | np.ndarray
    high: float | np.ndarray


def _z(confidence_level: float) -> float:
    return float(ndtri(1 - (1 - confidence_level) / 2))


def _f(x: object) -> np.ndarray:
    return np.asarray(x, dtype="float64")


def _chi2_ppf(q: float, df: np.ndarray) -> np.ndarray:
    """scipy.stats.chi2.ppf(q, df) for 0 < q < 1, bit for bit (scipy's chi2._ppf is 2*gammaincinv(df/2, q)).

    Invalid df (nan, <= 0) gives nan as chi2.ppf does; garwood() masks those counts anyway."""
    df = np.asarray(df, dtype="float64")
    with np.errstate(invalid="ignore"):
        return np.where(df > 0, 2 * gammaincinv(df / 2, q), np.nan)


def _beta_ppf(q: float, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """scipy.stats.beta.ppf(q, a, b) for 0 <= q <= 1 (betaincinv(a, b, q)); a or b not > 0 gives nan."""
    a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    with np.errstate(invalid="ignore"):
        return np.where((a > 0) & (b > 0), betaincinv(a, b, q), np.nan)


# --------------------------------------------------------------------------------------------- arrays
def garwood(count: object, *, confidence_level: float = 0.95) -> Interval:
    """Exact (Garwood 1936) interval for a Poisson mean from an observed count.

    low = chi2.ppf(a/2, 2k) / 2 (0 when k = 0), high = chi2.ppf(1 - a/2, 2k + 2) / 2, a = 1 - level.
    A negative or missing count gives nan.
    """
    k = _f(count)
    alpha = 1 - confidence_level
    with np.errstate(invalid="ignore"):
        low = np.where(k > 0, _chi2_ppf(alpha / 2, 2 * np.maximum(k, 0.5)) / 2, 0.0)
        high = _chi2_ppf(1 - alpha / 2, 2 * np.maximum(k, 0) + 2) / 2
    bad = ~(k >= 0)
    low = np.where(bad, np.nan, low)
    high = np.where(bad, np.nan, high)
    return Interval(low[()], high[()])


def wilson(successes: object, trials: object, *, confidence_level: float = 0.95) -> Interval:
    """Wilson score interval for a binomial proportion (as statsmodels proportion_confint 'wilson').

    Zero trials give nan.
    """
    x, n = _f(successes), _f(trials)
    z = _z(confidence_level)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
        low, high = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    bad = ~(n > 0)
    return Interval(np.where(bad, np.nan, low)[()], np.where(bad, np.nan, high)[()])


def clopper_pearson(successes: object, trials: object, *, confidence_level: float = 0.95) -> Interval:
    """Exact (Clopper-Pearson) binomial interval, as scipy binomtest(...).proportion_ci('exact')."""
    x, n = _f(successes), _f(trials)
    alpha = 1 - confidence_level
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(x > 0, _beta_ppf(alpha / 2, np.maximum(x, 1), n - x + 1), 0.0)
        high = np.where(x < n, _beta_ppf(1 - alpha / 2, x + 1, np.maximum(n - x, 1)), 1.0)
    bad = ~((n > 0) & (x >= 0) & (x <= n))
    return Interval(np.where(bad, np.nan, low)[()], np.where(bad, np.nan, high)[()])


def log_ratio_se(group_cases: object, group_total: object, reference_cases: object,
                 reference_total: object) -> np.ndarray:
    """Katz standard error of log(risk ratio): sqrt(1/a - 1/n1 + 1/c - 1/n2); nan when undefined."""
    a, n1, c, n2 = _f(group_cases), _f(group_total), _f(reference_cases), _f(reference_total)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = 1 / a - 1 / n1 + 1 / c - 1 / n2
        ok = (a > 0) & (c > 0) & (n1 > 0) & (n2 > 0) & (a <= n1) & (c <= n2)
        return np.where(ok, np.sqrt(np.maximum(var, 0)), np.nan)[()]


def katz(group_cases: object, group_total: object, reference_cases: object, reference_total: object, *,
         confidence_level: float = 0.95) -> tuple[np.ndarray, Interval]:
    """Risk ratio (a/n1)/(c/n2) and its Katz log interval, exactly as scipy relative_risk computes them.

    Zero cases follow scipy (the epitools convention): a = 0 -> ratio 0, interval (0, nan);
    c = 0 -> ratio inf, interval (nan, inf); both zero -> nan. A zero total gives nan.
    """
    a, n1, c, n2 = _f(group_cases), _f(group_total), _f(reference_cases), _f(reference_total)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (a / n1) / (c / n2)
        se = log_ratio_se(a, n1, c, n2)
        z = _z(confidence_level)
        low, high = ratio * np.exp(-z * se), ratio * np.exp(z * se)
    low = np.where(a == 0, 0.0, np.where(c == 0, np.nan, low))
    high = np.where(a == 0, np.nan, np.where(c == 0, np.inf, high))
    both = (a == 0) & (c == 0)
    ratio, low, high = (np.where(both, np.nan, x) for x in (ratio, low, high))
    bad = ~((n1 > 0) & (n2 > 0) & (a >= 0) & (c >= 0))
    return (np.where(bad, np.nan, ratio)[()],
            Interval(np.where(bad, np.nan, low)[()], np.where(bad, np.nan, high)[()]))


def exact_conditional(group_cases: object, group_total: object, reference_cases: object,
                      reference_total: object, *, confidence_level: float = 0.95) -> Interval:
    """Exact conditional interval for a ratio of two Poisson rates (good for small counts).

    Given a + c events, a is binomial with p = R n1 / (R n1 + n2) where R is the rate ratio; the
    Clopper-Pearson interval (pL, pU) for p = a / (a + c) gives R = p / (1 - p) * n2 / n1.
    Nothing observed (a + c = 0) or a zero total gives nan.
    """
    a, n1, c, n2 = _f(group_cases), _f(group_total), _f(reference_cases), _f(reference_total)
    p_low, p_high = clopper_pearson(a, a + c, confidence_level=confidence_level)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = n2 / n1
        low = p_low / (1 - p_low) * scale
        high = np.where(p_high >= 1, np.inf, p_high / (1 - p_high) * scale)
    bad = ~((n1 > 0) & (n2 > 0) & (a + c > 0))
    return Interval(np.where(bad, np.nan, low)[()], np.where(bad, np.nan, high)[()])


# --------------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class PoissonCount:
    """An observed count treated as Poisson; interval for its mean (Garwood, exact)."""

    count: int

    def confidence_interval(self, confidence_level: float = 0.95) -> Interval:
        low, high = garwood(self.count, confidence_level=confidence_level)
        return Interval(float(low), float(high))


@dataclass(frozen=True)
class PoissonRate:
    """count / exposure x scale (e.g. searches per 1,000 residents a year) with the Garwood interval."""

    count: int
    exposure: float
    scale: float = 1.0

    @property
    def rate(self) -> float:
        return float(self.count / self.exposure * self.scale) if self.exposure > 0 else float("nan")

    def confidence_interval(self, confidence_level: float = 0.95) -> Interval:
        if not self.exposure > 0:
            return Interval(float("nan"), float("nan"))
        low, high = garwood(self.count, confidence_level=confidence_level)
        factor = self.scale / self.exposure
        return Interval(float(low) * factor, float(high) * factor)


@dataclass(frozen=True)
class Proportion:
    """successes / trials with the Wilson score interval (binomtest(...).proportion_ci('wilson'))."""

    successes: int
    trials: int

    @property
    def proportion(self) -> float:
        return self.successes / self.trials if self.trials > 0 else float("nan")

    def confidence_interval(self, confidence_level: float = 0.95) -> Interval:
        if not self.trials > 0 or not 0 <= self.successes <= self.trials:
            return Interval(float("nan"), float("nan"))
        from scipy import stats

        ci = stats.binomtest(int(self.successes), int(self.trials)).proportion_ci(
            confidence_level=confidence_level, method="wilson")
        return Interval(float(ci.low), float(ci.high))


@dataclass(frozen=True)
class RateRatio:
    """Ratio of two rates (group vs reference): Katz log interval and the exact conditional interval."""

    group_cases: int
    group_total: float
    reference_cases: int
    reference_total: float

    @property
    def ratio(self) -> float:
        return float(katz(self.group_cases, self.group_total, self.reference_cases, self.reference_total)[0])

    def confidence_interval(self, confidence_level: float = 0.95) -> Interval:
        """Katz: scipy.stats.contingency.relative_risk when its inputs are valid, else the nan/inf rules."""
        a, n1, c, n2 = self.group_cases, self.group_total, self.reference_cases, self.reference_total
        if n1 > 0 and n2 > 0 and 0 <= a <= n1 and 0 <= c <= n2 and float(a).is_integer() \
                and float(c).is_integer() and float(n1).is_integer() and float(n2).is_integer():
            from scipy.stats.contingency import relative_risk

            ci = relative_risk(exposed_cases=int(a), exposed_total=int(n1), control_cases=int(c),
                               control_total=int(n2)).confidence_interval(confidence_level)
            return Interval(float(ci.low), float(ci.high))
        _, (low, high) = katz(a, n1, c, n2, confidence_level=confidence_level)
        return Interval(float(low), float(high))

    def exact_interval(self, confidence_level: float = 0.95) -> Interval:
        low, high = exact_conditional(self.group_cases, self.group_total, self.reference_cases,
                                      self.reference_total, confidence_level=confidence_level)
        return Interval(float(low), float(high))
