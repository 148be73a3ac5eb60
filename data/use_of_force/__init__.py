"""Use of force: read the Home Office and Met files into tidy tables, store and fetch them."""
from __future__ import annotations

from data.use_of_force.store import UseOfForceStore
from data.use_of_force.vocab import ANALYSIS_TACTICS, TACTIC_GROUPS, TACTICS, UNIT, UNIT_CAVEAT

__all__ = ["ANALYSIS_TACTICS", "TACTICS", "TACTIC_GROUPS", "UNIT", "UNIT_CAVEAT", "UseOfForceStore"]
