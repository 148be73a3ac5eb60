"""Every table the command line prints: KIND -> function, and the fixed columns each table starts with."""
from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from analysis.selection import Selection


@dataclass(frozen=True)
class TableKind:
    """One table kind: where its function lives ('module:function') and its fixed leading columns."""

    name: str
    target: str
    columns: tuple[str, ...]
    description: str


# Fixed leading columns, in order (docs/DESIGN.md, docs/TABLES.md). A table may add columns after them.
KINDS: dict[str, TableKind] = {k.name: k for k in (
    TableKind("rates", "analysis.rates:rates",
              ("force", "group", "searches", "population", "rate_per_1000", "ci_low", "ci_high", "months",
               "reason", "small_n"),
              "searches of persons per 1,000 residents a year by group (Garwood 95% interval)"),
    TableKind("disparity", "analysis.rates:disparity",
              ("force", "group", "reference", "ratio", "ci_low", "ci_high", "rate_difference", "exact_ci_low",
               "exact_ci_high", "group_searches", "reference_searches", "ratio_if_not_stated_group",
               "ratio_if_not_stated_reference", "reason", "small_n"),
              "rate ratio against the reference group (Katz and exact intervals)"),
    TableKind("outcomes", "analysis.outcomes:outcomes",
              ("force", "group", "outcome", "count", "total", "share", "ci_low", "ci_high", "ratio",
               "ratio_ci_low", "ratio_ci_high", "reason"),
              "arrest / no further action / other action shares by group (Wilson; Katz ratio)"),
    TableKind("find-rate", "analysis.outcomes:find_rate",
              ("force", "group", "found", "recorded", "share", "ci_low", "ci_high", "ratio", "ratio_ci_low",
               "ratio_ci_high", "reason"),
              "share of searches with the outcome linked to the object of search"),
    TableKind("outcome-tests", "analysis.outcomes:outcome_tests",
              ("force", "measure", "outcome", "group", "other", "group_count", "group_total", "other_count",
               "other_total", "difference", "test", "statistic", "p_value", "p_holm", "p_bh", "reason"),
              "pairwise tests of outcome and find shares against the reference, Holm and BH adjusted"),
    TableKind("thorough", "analysis.thorough:thorough",
              ("force", "group", "thorough", "recorded", "share", "ci_low", "ci_high", "ratio", "ratio_ci_low",
               "ratio_ci_high", "reason"),
              "share of searches removing more than outer clothing"),
    TableKind("mix", "analysis.mix:mix",
              ("force", "group", "dimension", "category", "count", "share"),
              "legislation, object of search, age range and gender within each group"),
    TableKind("trend", "analysis.trend:trend",
              ("force", "month", "group", "searches", "rolling_searches", "rolling_population", "rolling_rate",
               "rolling_ci_low", "rolling_ci_high", "rolling_ratio", "rolling_ratio_ci_low",
               "rolling_ratio_ci_high"),
              "monthly searches and rolling 12-month rates and ratios"),
    TableKind("compare", "analysis.compare:compare",
              ("force", "group", "reference", "group_searches", "reference_searches", "ratio", "ci_low",
               "ci_high", "pooled_ratio", "z", "limit95_low", "limit95_high", "limit998_low", "limit998_high",
               "p_value", "q_value", "flag", "small_n"),
              "each force's ratio against the pooled ratio with funnel limits"),
    TableKind("quality", "analysis.quality:quality",
              ("force", "months_ok", "months_empty", "months_not_published", "months_failed", "records",
               "share_no_location", "share_date_only", "share_ethnicity_not_stated", "share_outcome_not_recorded",
               "share_outcome_linked_not_recorded", "share_removal_not_recorded"),
              "months stored and fields left empty, per force"),
    TableKind("agreement", "analysis.quality:agreement",
              ("force", "self_defined", "officer_defined", "count", "row_share"),
              "self-defined against officer-defined broad ethnicity"),
    TableKind("district-rates", "analysis.districts:district_rates",
              ("force", "district", "district_name", "group", "searches", "population", "rate_per_1000", "ci_low",
               "ci_high", "shrunk_rate_per_1000", "shrunk_ci_low", "shrunk_ci_high", "no_location_share",
               "rate_if_unlocated_spread", "funnel_flag", "small_n", "flags", "reason"),
              "rates per 1,000 by local authority district within each force (located searches; shrunk rate)"),
    TableKind("district-disparity", "analysis.districts:district_disparity",
              ("force", "district", "district_name", "group", "reference", "ratio", "ci_low", "ci_high",
               "exact_ci_low", "exact_ci_high", "group_searches", "reference_searches", "shrunk_ratio",
               "ratio_if_unlocated_spread", "small_n", "reason"),
              "ratio against the reference group by local authority district within each force"),
    TableKind("use-of-force", "analysis.use_of_force:use_of_force_table",
              ("force", "year", "group", "tactic", "count", "reports", "share", "ci_low", "ci_high"),
              "use-of-force tactics by perceived ethnicity (Home Office, by financial year)"),
)}
# Kinds computed from stop-and-search records and a Selection (use-of-force has its own inputs).
RECORD_KINDS: tuple[str, ...] = tuple(k for k in KINDS if k != "use-of-force")


class TableUnavailable(RuntimeError):
    """The module behind a table kind is missing or does not give the promised columns."""


def table_function(kind: str) -> Callable[..., pd.DataFrame]:
    """The function behind a kind (imported on demand, so one missing module never breaks the others)."""
    if kind not in KINDS:
        raise KeyError(f"unknown table kind {kind!r}; choose from {', '.join(KINDS)}")
    module_name, _, name = KINDS[kind].target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise TableUnavailable(f"the '{kind}' table is not available: {module_name} cannot be imported "
                               f"({error})") from error
    function = getattr(module, name, None)
    if function is None:
        raise TableUnavailable(f"the '{kind}' table is not available: {module_name} has no {name}()")
    return function


def fixed_columns(kind: str) -> tuple[str, ...]:
    return KINDS[kind].columns


def with_fixed_columns(kind: str, table: pd.DataFrame) -> pd.DataFrame:
    """The table with its kind's fixed columns first, in order, then any others; a missing one is an error."""
    fixed = list(KINDS[kind].columns)
    missing = [c for c in fixed if c not in table.columns]
    if missing:
        raise TableUnavailable(f"the '{kind}' table lacks its fixed column(s) {', '.join(missing)}")
    rest = [c for c in table.columns if c not in fixed]
    out = table.loc[:, fixed + rest]
    out.attrs = dict(table.attrs)
    return out


def months_available(manifest: pd.DataFrame | None) -> dict[str, list[str]] | None:
    """force -> months the store holds as published ('ok' or 'empty'), for the trend's complete windows."""
    if manifest is None or not len(manifest):
        return None
    held = manifest.loc[manifest["status"].isin(["ok", "empty"])]
    return {str(force): sorted(group["month"].astype(str)) for force, group in held.groupby("force")}


def build_table(kind: str, records: pd.DataFrame, selection: Selection, *,
                manifest: pd.DataFrame | None = None, pairs: str | None = None,
                store: object | None = None) -> pd.DataFrame:
    """The table of one record kind over `records` (already passed through `select`), fixed columns first.

    `manifest` (a Store.manifest() frame) feeds the quality table and the trend's list of published months;
    `pairs` ('reference' or 'all') goes to the tables of pairwise tests; `store` (a data.store.Store) to the
    district tables.
    """
    if kind not in RECORD_KINDS:
        raise KeyError(f"{kind!r} is not a stop-and-search table; choose from {', '.join(RECORD_KINDS)}")
    function = table_function(kind)
    options: dict[str, object] = {}
    parameters = inspect.signature(function).parameters
    if "manifest" in parameters:
        options["manifest"] = manifest
    if pairs is not None and "pairs" in parameters:
        options["pairs"] = pairs
    if store is not None and "store" in parameters:  # district tables keep their point-in-polygon per month
        options["store"] = store
    if "months_available" in parameters:
        options["months_available"] = months_available(manifest)
    return with_fixed_columns(kind, function(records, selection, **options))
