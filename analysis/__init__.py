"""Statistics and figures over the canonical records (never imports streamlit, never touches the network).

Import what you need from its module (`from analysis.rates import rates`); this package file stays light
so that `python -m analysis` starts quickly.
"""
from __future__ import annotations

SMALL_N = 20  # searches in a group below which a value is flagged small (charts draw it hollow or not at all)
