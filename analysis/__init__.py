"""Statistics and figures over the canonical records (never imports streamlit, never touches the network)."""
from __future__ import annotations

SMALL_N = 20  # searches in a group below which a value is flagged small (charts draw it hollow or not at all)

from analysis.compare import compare, funnel_curve  # noqa: E402
from analysis.core import core_tables  # noqa: E402
from analysis.rates import disparity, not_stated_summary, rates  # noqa: E402
from analysis.trend import trend  # noqa: E402

__all__ = ["SMALL_N", "compare", "core_tables", "disparity", "funnel_curve", "not_stated_summary", "rates", "trend"]
