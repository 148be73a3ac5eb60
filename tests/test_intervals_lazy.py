"""The app's first page must not pay for importing scipy.stats (~2 s of CPU), and the intervals it draws
must not change: garwood() and clopper_pearson() now call the scipy.special functions behind
scipy.stats.chi2.ppf / beta.ppf, so they are checked bit for bit against scipy.stats itself (the oracle:
the formulas exactly as they were written before, with scipy.stats)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from analysis import intervals

PROJECT = Path(__file__).resolve().parents[1]
COUNTS = np.array([0, 1, 2, 3, 4, 5, 9, 10, 49, 50, 123, 999, 1e4, 123_456, 6e6, 2.5, np.nan, -1, np.inf])
LEVELS = (0.95, 0.998, 0.5, 0.999999, 1.0, 0.0)


def _garwood_scipy(k: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    alpha = 1 - level
    with np.errstate(invalid="ignore"):
        low = np.where(k > 0, stats.chi2.ppf(alpha / 2, 2 * np.maximum(k, 0.5)) / 2, 0.0)
        high = stats.chi2.ppf(1 - alpha / 2, 2 * np.maximum(k, 0) + 2) / 2
    bad = ~(k >= 0)
    return np.where(bad, np.nan, low), np.where(bad, np.nan, high)


def _clopper_pearson_scipy(x: np.ndarray, n: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    alpha = 1 - level
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(x > 0, stats.beta.ppf(alpha / 2, np.maximum(x, 1), n - x + 1), 0.0)
        high = np.where(x < n, stats.beta.ppf(1 - alpha / 2, x + 1, np.maximum(n - x, 1)), 1.0)
    bad = ~((n > 0) & (x >= 0) & (x <= n))
    return np.where(bad, np.nan, low), np.where(bad, np.nan, high)


@pytest.mark.parametrize("level", LEVELS)
def test_garwood_is_scipy_stats_bit_for_bit(level: float) -> None:
    low, high = intervals.garwood(COUNTS, confidence_level=level)
    want_low, want_high = _garwood_scipy(COUNTS, level)
    assert np.array_equal(low, want_low, equal_nan=True)
    assert np.array_equal(high, want_high, equal_nan=True)


@pytest.mark.parametrize("level", LEVELS)
def test_clopper_pearson_is_scipy_stats_bit_for_bit(level: float) -> None:
    rng = np.random.default_rng(11)
    x = np.concatenate([COUNTS, rng.integers(0, 10**6, 500).astype(float), [5, 7, 0]])
    n = np.concatenate([COUNTS + np.arange(len(COUNTS)), x[len(COUNTS):-3] + rng.integers(0, 10**6, 500),
                        [4, 7, 0]])  # x > n, x == n, 0 of 0
    low, high = intervals.clopper_pearson(x, n, confidence_level=level)
    want_low, want_high = _clopper_pearson_scipy(x, n, level)
    assert np.array_equal(low, want_low, equal_nan=True)
    assert np.array_equal(high, want_high, equal_nan=True)
    # and a scalar, as the result objects pass it: binomtest's exact interval (scipy's own method)
    ci = stats.binomtest(7, 40).proportion_ci(confidence_level=0.95, method="exact")
    assert intervals.clopper_pearson(7, 40) == pytest.approx((ci.low, ci.high), rel=1e-12)


def _fresh_python(code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a new interpreter with the project importable (sys.modules as a fresh app has them)."""
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=300,
                         env={"PYTHONPATH": str(PROJECT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    return out


def test_app_modules_do_not_import_scipy_stats() -> None:
    code = ("import sys, importlib, pkgutil\n"
            "import app.components, app.navigation, app.sidebar, app.tables, app.pages\n"
            "for m in pkgutil.iter_modules(app.pages.__path__): importlib.import_module('app.pages.' + m.name)\n"
            "import analysis.compare, analysis.outcomes, analysis.districts, analysis.figures.maps\n"
            "print([m for m in ('scipy.stats', 'statsmodels') if m in sys.modules])\n")
    out = _fresh_python(code)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


def test_the_app_imports_scipy_stats_in_the_background_once_the_first_page_is_drawn() -> None:
    code = ("import sys, threading\n"
            "from app import warm_up\n"
            "assert 'scipy.stats' not in sys.modules\n"
            "warm_up.after_first_page(); warm_up.after_first_page()\n"
            "threads = [t for t in threading.enumerate() if t.name == 'warm-up-imports']\n"
            "for t in threads: t.join(120)\n"
            "print(len(threads), 'scipy.stats' in sys.modules)\n")
    out = _fresh_python(code)
    assert out.stdout.strip().splitlines()[-1] == "1 True", out.stdout
