"""Outcomes of searches by ethnic group (arrest, no further action, other action), the find rate, and tests."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import combinations

import numpy as np
import pandas as pd

from analysis import intervals
from analysis.lazy_stats import stats
from analysis.rates import POOLED, SMALL_N, codes, group_setup, person_mask
from analysis.selection import Selection
from data import reference_data, vocab

OUTCOME_CLASSES: tuple[str, ...] = ("Arrest", "No further action", "Other action")
NOT_RECORDED = "not recorded by this force"
NOT_RECORDED_ANY = "not recorded by any of these forces"

OUTCOMES_COLUMNS = ["force", "group", "outcome", "count", "total", "share", "ci_low", "ci_high", "ratio",
                    "ratio_ci_low", "ratio_ci_high", "reason", "small_n", "searches", "not_recorded", "forces"]
FIND_RATE_COLUMNS = ["force", "group", "found", "recorded", "share", "ci_low", "ci_high", "ratio",
                     "ratio_ci_low", "ratio_ci_high", "reason", "small_n", "searches", "not_recorded", "forces"]
INDEPENDENCE_COLUMNS = ["force", "measure", "groups", "searches", "statistic", "dof", "p_value",
                        "min_expected", "reason"]
PAIRWISE_COLUMNS = ["force", "measure", "outcome", "group", "other", "group_count", "group_total",
                    "other_count", "other_total", "difference", "test", "statistic", "p_value", "p_holm",
                    "p_bh", "reason"]

INFRA_MARGINALITY_CAVEAT = (
    "Outcome and find rates compare the searches that happened, not the people who could have been "
    "searched. A lower find or arrest rate for one group is consistent with a lower threshold of suspicion "
    "for searching that group, but does not prove it: average rates depend on the whole mix of people "
    "searched (the infra-marginality problem; Ayres 2002; Simoiu, Corbett-Davies and Goel 2017), and "
    "outcomes are decisions officers record after the search. Searches with no recorded outcome are left "
    "out of the shares and counted; a force that does not record a field gets no value.")
OFFICER_NOTE = ("Groups are officer-defined ethnicity (the officer's perception), not the person's "
                "self-defined ethnicity.")


@dataclass(frozen=True)
class Tally:
    """Searches of persons by unit (each selected force, then pooled 'ALL') x group x label.

    `labels` are the values that count in a denominator (e.g. Arrest / No further action / Other action);
    searches where the field is missing are counted in `missing`, never in `counts`.
    """

    units: tuple[str, ...]
    covers: tuple[str, ...]        # comma-joined forces whose records make each unit's values
    groups: tuple[str, ...]
    labels: tuple[str, ...]
    counts: np.ndarray             # (U, G, L) int64
    missing: np.ndarray            # (U, G) searches whose field is not recorded
    searches: np.ndarray           # (U, G) all searches of persons
    usable: np.ndarray             # (U,) bool: the unit has recorded values
    unit_reason: tuple[str, ...]   # why a unit has no values, or a note on its values
    reference: str
    reference_members: tuple[int, ...]  # group indices making the reference ('White' sums its detailed groups)
    what: str                      # the field, in words, for reasons


# the reference tables are fixed files: look each force up once, not on every table
_has_residents = cache(reference_data.has_residents)


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def reference_members(reference: str, groups: Sequence[str]) -> tuple[int, ...]:
    """Indices of the groups that make the reference (a broad reference at the detailed level sums its groups)."""
    if reference in groups and reference != vocab.NOT_STATED:
        return (list(groups).index(reference),)
    if "White British" in groups:
        return tuple(i for i, g in enumerate(groups) if vocab.DETAILED_GROUPS.get(g) == reference)
    return ()


def tally(records: pd.DataFrame, selection: Selection, *, labels: pd.Series | np.ndarray,
          label_names: Sequence[str], missing: pd.Series | np.ndarray, what: str,
          one_sided: str | None = None) -> Tally:
    """Count searches of persons by force x group x label, and pool them (vectorised, every group present).

    `labels` and `missing` are aligned with `records`; a label outside `label_names` (or missing) is left out
    of the denominators. A force whose every search of a person lacks the field is 'not recorded by this force'
    and gets no values; so does a force that never records the label `one_sided` but leaves some blank.
    Pooled values sum the forces that have values (and BTP only with include_btp).
    """
    label_codes = codes(pd.Series(np.asarray(labels, dtype=object), dtype=object), label_names)
    return _tally_codes(records, selection, label_codes=label_codes, label_names=label_names,
                        missing=np.asarray(missing, dtype=bool), what=what, one_sided=one_sided)


def _tally_codes(records: pd.DataFrame, selection: Selection, *, label_codes: np.ndarray,
                 label_names: Sequence[str], missing: np.ndarray, what: str,
                 one_sided: str | None = None) -> Tally:
    """`tally` with the labels already as positions in `label_names` (-1: none), aligned with `records`.

    Counting on category codes (never converting the string columns to Python objects) keeps this fast
    on the whole country's records.
    """
    column, groups, _ = group_setup(selection)
    forces = tuple(selection.forces)
    person = person_mask(records)
    f = codes(records["force"], forces)[person]
    g = codes(records[column], groups)[person]
    lab = np.asarray(label_codes, dtype="int64")[person]
    miss = np.asarray(missing, dtype=bool)[person]
    n_f, n_g, n_l = len(forces), len(groups), len(label_names)
    ok = (f >= 0) & (g >= 0)
    counts = np.bincount((f[ok & (lab >= 0)] * n_g + g[ok & (lab >= 0)]) * n_l + lab[ok & (lab >= 0)],
                         minlength=n_f * n_g * n_l).reshape(n_f, n_g, n_l)
    missing_fg = np.bincount(f[ok & miss] * n_g + g[ok & miss], minlength=n_f * n_g).reshape(n_f, n_g)
    searches = np.bincount(f[ok] * n_g + g[ok], minlength=n_f * n_g).reshape(n_f, n_g)
    known = f >= 0
    persons_f = np.bincount(f[known], minlength=n_f)
    recorded_f = np.bincount(f[known & ~miss], minlength=n_f)

    one_sided_seen = (np.bincount(f[known & (lab == list(label_names).index(one_sided))], minlength=n_f)
                      if one_sided else np.ones(n_f, int))
    reasons, usable = [], []
    for i in range(n_f):
        usable.append(False)
        if persons_f[i] == 0:
            reasons.append("no searches of persons for this force in the selection")
        elif recorded_f[i] == 0:
            reasons.append(NOT_RECORDED)
        elif one_sided_seen[i] == 0 and recorded_f[i] < persons_f[i]:
            # e.g. Dorset 2019-2021 writes True or leaves the field blank, never False
            reasons.append(f"{what} is never recorded as '{one_sided}' by this force (blank instead), so a "
                           f"share among recorded searches is meaningless")
        else:
            usable[-1] = True
            reasons.append(f"{what} recorded for only {recorded_f[i] / persons_f[i]:.0%} of searches of "
                           f"persons by this force" if recorded_f[i] < 0.5 * persons_f[i] else "")
    units, covers = list(forces), list(forces)
    if n_f > 1:
        members = [i for i, force in enumerate(forces)
                   if _has_residents(force) or selection.include_btp]
        left_out = [forces[i] for i in range(n_f) if i not in members]
        recording = [i for i in members if usable[i]]
        silent = [i for i in members if persons_f[i] > 0 and not usable[i]]
        notes = []
        if not recording:
            notes.append(NOT_RECORDED_ANY)
        elif silent:
            names = ", ".join(reference_data.force_name(forces[i]) + (" (not recorded)" if recorded_f[i] == 0
                              else " (recorded one way only)") for i in silent)
            notes.append(f"left out of the pooled figures: {names}")
        if left_out:
            notes.append(f"{', '.join(reference_data.force_name(s) for s in left_out)} left out of the "
                         f"pooled figures (they can be added to pooled figures: the British Transport Police option)")
        # every number in the pooled row covers the same forces: those with values (all members if none)
        use = np.array(recording or members, dtype=int)
        idx = use
        counts = np.concatenate([counts, counts[use].sum(axis=0, keepdims=True)])
        missing_fg = np.concatenate([missing_fg, missing_fg[idx].sum(axis=0, keepdims=True)])
        searches = np.concatenate([searches, searches[idx].sum(axis=0, keepdims=True)])
        units.append(POOLED)
        covers.append(",".join(forces[i] for i in recording))
        reasons.append(_join(*notes))
        usable.append(bool(recording))
    return Tally(tuple(units), tuple(covers), tuple(groups), tuple(label_names), counts, missing_fg, searches,
                 np.array(usable, bool), tuple(reasons), selection.reference,
                 reference_members(selection.reference, groups), what)


def share_frame(t: Tally, label: str, *, count_name: str, total_name: str) -> pd.DataFrame:
    """One row per unit x group: count with `label`, total recorded, share with the Wilson 95% interval,
    and the ratio of shares against the reference group with the Katz log 95% interval."""
    j = t.labels.index(label)
    k = t.counts[:, :, j].astype(float)
    n = t.counts.sum(axis=2).astype(float)
    ref = list(t.reference_members)
    k_ref = k[:, ref].sum(axis=1, keepdims=True) if ref else np.full((len(t.units), 1), np.nan)
    n_ref = n[:, ref].sum(axis=1, keepdims=True) if ref else np.full((len(t.units), 1), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n > 0, k / n, np.nan)
    low, high = intervals.wilson(k, n)
    # the Wilson limits are exactly 0 at k = 0 and 1 at k = n; remove floating-point dust (5.6e-17)
    low, high = np.where(k == 0, 0.0, low), np.where((k == n) & (n > 0), 1.0, high)
    ratio, (r_low, r_high) = intervals.katz(k, n, np.broadcast_to(k_ref, k.shape), np.broadcast_to(n_ref, k.shape))
    ratio, r_low, r_high = (np.array(a, dtype=float, copy=True) for a in (ratio, r_low, r_high))
    reasons = np.empty(k.shape, dtype=object)
    for u in range(len(t.units)):
        for gi in range(len(t.groups)):
            if not t.usable[u]:
                reasons[u, gi] = t.unit_reason[u]
                continue
            parts = [t.unit_reason[u]]
            if n[u, gi] == 0:
                parts.append(f"no searches in this group with {t.what} recorded")
            if ref == [gi]:
                ratio[u, gi], r_low[u, gi], r_high[u, gi] = (1.0 if n[u, gi] > 0 else np.nan), np.nan, np.nan
                parts.append("reference group")
            elif gi in ref:
                ratio[u, gi] = r_low[u, gi] = r_high[u, gi] = np.nan
                parts.append("part of the reference group")
            elif not ref:
                parts.append(f"reference group {t.reference!r} is not a group at this level")
            elif n_ref[u, 0] == 0:
                parts.append(f"no searches in the reference group with {t.what} recorded")
            elif n[u, gi] > 0 and k_ref[u, 0] == 0:
                parts.append(f"no '{label}' in the reference group, so no finite ratio")
            elif n[u, gi] > 0 and k[u, gi] == 0:
                parts.append(f"no '{label}' in this group: the ratio's upper limit is undefined")
            elif n[u, gi] > 0 and k[u, gi] == n[u, gi] and k_ref[u, 0] == n_ref[u, 0]:
                r_low[u, gi] = r_high[u, gi] = np.nan  # Katz standard error is 0 here: no real interval
                parts.append(f"every search in both groups had '{label}': no interval for the ratio")
            reasons[u, gi] = _join(*parts)
    blank = ~t.usable[:, None] & np.ones(k.shape, bool)
    share, low, high, ratio, r_low, r_high = (np.where(blank, np.nan, a) for a in
                                              (share, low, high, ratio, r_low, r_high))
    counts = pd.array(np.where(blank, np.nan, k).ravel(), dtype="Float64").astype("Int64")
    totals = pd.array(np.where(blank, np.nan, n).ravel(), dtype="Float64").astype("Int64")
    size = k.size
    return pd.DataFrame({
        "force": np.repeat(t.units, len(t.groups)), "group": np.tile(t.groups, len(t.units)),
        count_name: counts, total_name: totals, "share": share.ravel(), "ci_low": np.ravel(low),
        "ci_high": np.ravel(high), "ratio": ratio.ravel(), "ratio_ci_low": r_low.ravel(),
        "ratio_ci_high": r_high.ravel(), "reason": reasons.ravel(),
        "small_n": np.where(blank, False, n < SMALL_N).ravel(),
        "searches": t.searches.ravel().astype("int64"), "not_recorded": t.missing.ravel().astype("int64"),
        "forces": np.repeat(t.covers, len(t.groups)),
    }, index=pd.RangeIndex(size))


# ------------------------------------------------------------------------------------------ tests
def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (nan entries ignored and kept nan)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    if q.size:
        order = np.argsort(q, kind="stable")
        adjusted = np.minimum(1.0, np.maximum.accumulate((q.size - np.arange(q.size)) * q[order]))
        filled = np.empty(q.size)
        filled[order] = adjusted
        out[ok] = filled
    return out


def benjamini_hochberg(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (scipy.stats.false_discovery_control), nan entries kept nan."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = stats.false_discovery_control(p[ok], method="bh")
    return out


def benjamini_hochberg_many(families: Sequence[np.ndarray]) -> list[np.ndarray]:
    """`benjamini_hochberg` of each family; families with as many p-values adjust in one scipy call (each row
    of the stack is adjusted on its own, exactly as alone)."""
    out = [np.full(np.shape(p), np.nan) for p in families]
    known = [~np.isnan(np.asarray(p, dtype=float)) for p in families]
    by_size: dict[int, list[int]] = {}
    for k, ok in enumerate(known):
        if ok.any():
            by_size.setdefault(int(ok.sum()), []).append(k)
    for members in by_size.values():
        stacked = np.array([np.asarray(families[k], dtype=float)[known[k]] for k in members])
        for k, adjusted in zip(members, stats.false_discovery_control(stacked, axis=1, method="bh"), strict=True):
            out[k][known[k]] = adjusted
    return out


def two_by_two(a: float, n1: float, c: float, n2: float) -> tuple[str, float, float, str]:
    """Test a/n1 against c/n2: Pearson chi-square (no continuity correction) when every expected count is
    at least 5, else Fisher's exact test. Returns (test, statistic, p_value, reason)."""
    return two_by_two_many([(a, n1, c, n2)])[0]


def two_by_two_many(cases: Sequence[tuple[float, float, float, float]]) -> list[tuple[str, float, float, str]]:
    """`two_by_two` for many (a, n1, c, n2) at once, the chi-square tests in one vectorised scipy call."""
    out: list[tuple[str, float, float, str]] = [("", np.nan, np.nan, "")] * len(cases)
    waiting, observed, expected = [], [], []
    for case, (a, n1, c, n2) in enumerate(cases):
        if not (n1 > 0 and n2 > 0):
            out[case] = ("", np.nan, np.nan, "no searches with a recorded value in one of the two groups")
            continue
        table = np.array([[a, n1 - a], [c, n2 - c]], dtype=float)
        expect = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
        if expect.min() < 5:
            out[case] = ("Fisher exact", np.nan, float(stats.fisher_exact(table.astype(np.int64)).pvalue), "")
        else:
            waiting.append(case)
            observed.append(table.ravel())
            expected.append(expect.ravel())
    if waiting:
        # exactly stats.chi2_contingency(table, correction=False) for each table (its expected counts, and its
        # call power_divergence(table, expected, ddof=4 - 1 - dof, axis=None) with dof 1), one row per table:
        # one scipy call instead of hundreds
        result = stats.power_divergence(np.array(observed), np.array(expected), ddof=2, axis=1)
        for case, statistic, p in zip(waiting, np.atleast_1d(result.statistic), np.atleast_1d(result.pvalue),
                                      strict=True):
            out[case] = ("chi-square", float(statistic), float(p), "")
    return out


def independence(t: Tally, *, measure: str) -> pd.DataFrame:
    """Chi-square test of independence of group and label per unit ('Not stated' and empty rows/columns
    left out); a table smaller than 2 x 2 gives nan with a reason."""
    rows = []
    for u, unit in enumerate(t.units):
        keep = [i for i, g in enumerate(t.groups) if g != vocab.NOT_STATED and t.counts[u, i].sum() > 0]
        table = t.counts[u][keep]
        table = table[:, table.sum(axis=0) > 0] if len(keep) else table
        row = {"force": unit, "measure": measure, "groups": ",".join(t.groups[i] for i in keep),
               "searches": int(table.sum()), "statistic": np.nan, "dof": np.nan, "p_value": np.nan,
               "min_expected": np.nan, "reason": ""}
        if not t.usable[u]:
            row["reason"] = t.unit_reason[u]
        elif table.shape[0] < 2 or table.shape[1] < 2:
            row["reason"] = "fewer than two groups or two outcomes with searches: no test"
        else:
            result = stats.chi2_contingency(table, correction=False)
            row.update(statistic=float(result.statistic), dof=int(result.dof), p_value=float(result.pvalue),
                       min_expected=float(result.expected_freq.min()))
            if row["min_expected"] < 5:
                row["reason"] = "some expected counts are below 5: the chi-square approximation may be poor"
        rows.append(row)
    return pd.DataFrame(rows, columns=INDEPENDENCE_COLUMNS)


def pairwise(t: Tally, *, measure: str, labels: Sequence[str], pairs: str = "reference") -> pd.DataFrame:
    """Two-group tests of each label's share, vs the reference ('reference') or between all groups ('all'),
    adjusted by Holm and Benjamini-Hochberg within each unit x label (the family)."""
    if pairs not in ("reference", "all"):
        raise ValueError(f"pairs must be 'reference' or 'all', not {pairs!r}")
    tested = [i for i, g in enumerate(t.groups) if g != vocab.NOT_STATED and i not in t.reference_members]
    families: list[list[dict[str, object]]] = []
    cases, tested_rows = [], []   # the tests run together once every family is known
    for u, unit in enumerate(t.units):
        n = t.counts[u].sum(axis=1)
        for label in labels:
            k = t.counts[u, :, t.labels.index(label)]
            family: list[dict[str, object]] = []
            if pairs == "reference":
                ref = list(t.reference_members)
                comparisons = [(i, None) for i in tested] if ref else []
            else:
                everyone = [i for i, g in enumerate(t.groups) if g != vocab.NOT_STATED]
                comparisons = list(combinations(everyone, 2))
            for i, j in comparisons:
                a, n1 = float(k[i]), float(n[i])
                if j is None:
                    other = t.reference
                    c, n2 = float(k[list(t.reference_members)].sum()), float(n[list(t.reference_members)].sum())
                else:
                    other, c, n2 = t.groups[j], float(k[j]), float(n[j])
                with np.errstate(divide="ignore", invalid="ignore"):
                    difference = a / n1 - c / n2 if n1 > 0 and n2 > 0 else np.nan
                row = {"force": unit, "measure": measure, "outcome": label, "group": t.groups[i],
                       "other": other, "group_count": int(a), "group_total": int(n1),
                       "other_count": int(c), "other_total": int(n2), "difference": difference,
                       "test": "", "statistic": np.nan, "p_value": np.nan, "reason": t.unit_reason[u]}
                if t.usable[u]:
                    cases.append((a, n1, c, n2))
                    tested_rows.append(row)
                family.append(row)
            families.append(family)
    for row, (test, statistic, p, reason) in zip(tested_rows, two_by_two_many(cases), strict=True):
        row.update(test=test, statistic=statistic, p_value=p, reason=reason)
    rows = []
    p_values = [np.array([r["p_value"] for r in family], dtype=float) for family in families]
    for family, p, bh in zip(families, p_values, benjamini_hochberg_many(p_values), strict=True):
        for r, h, b in zip(family, holm(p), bh, strict=True):
            r["p_holm"], r["p_bh"] = h, b
        rows.extend(family)
    return pd.DataFrame(rows, columns=PAIRWISE_COLUMNS)


# ------------------------------------------------------------------------------------------ public tables
# outcome_group categories (and any outcome the class table knows), and each one's class position in
# OUTCOME_CLASSES (-1: not a class, e.g. 'Not recorded'); the appended -1 is for a missing or unknown group
_OUTCOME_GROUPS: tuple[str, ...] = tuple(dict.fromkeys((*vocab.OUTCOME_CATEGORIES, *vocab.OUTCOME_CLASS)))
_OUTCOME_CLASS_CODE = np.array([OUTCOME_CLASSES.index(vocab.OUTCOME_CLASS[g]) if g in vocab.OUTCOME_CLASS else -1
                                for g in _OUTCOME_GROUPS] + [-1], dtype="int64")


def outcome_tally(records: pd.DataFrame, selection: Selection) -> Tally:
    group = codes(records["outcome_group"], _OUTCOME_GROUPS)
    return _tally_codes(records, selection, label_codes=_OUTCOME_CLASS_CODE[group], label_names=OUTCOME_CLASSES,
                        missing=group == _OUTCOME_GROUPS.index("Not recorded"), what="an outcome")


def boolean_tally(records: pd.DataFrame, selection: Selection, *, column: str, names: tuple[str, str],
                  what: str) -> Tally:
    """Tally of a nullable boolean field: True -> names[0], False -> names[1], <NA> -> not recorded."""
    values = records[column].astype("boolean")
    missing = values.isna().to_numpy(bool)
    label_codes = np.where(missing, -1, np.where(values.fillna(False).to_numpy(bool), 0, 1))
    return _tally_codes(records, selection, label_codes=label_codes, label_names=names, missing=missing,
                        what=what, one_sided=names[1])


def outcomes(records: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    """Arrest / No further action / Other action shares by force and group (columns OUTCOMES_COLUMNS).

    total = searches of persons with a recognised outcome; 'Not recorded' outcomes are left out of it and
    counted in `not_recorded`. Wilson 95% interval; ratio vs the reference group with the Katz log interval.
    """
    return _outcome_frame(outcome_tally(records, selection), selection)


def _outcome_frame(t: Tally, selection: Selection) -> pd.DataFrame:
    frames = []
    for order, label in enumerate(OUTCOME_CLASSES):
        frame = share_frame(t, label, count_name="count", total_name="total")
        frame.insert(2, "outcome", label)
        frame["_order"] = frame.index * len(OUTCOME_CLASSES) + order
        frames.append(frame)
    out = pd.concat(frames).sort_values("_order", kind="stable").reset_index(drop=True)[OUTCOMES_COLUMNS]
    out.attrs.update(ethnicity=_ethnicity_label(selection), caveat=caveat(selection))
    return out


def find_tally(records: pd.DataFrame, selection: Selection) -> Tally:
    return boolean_tally(records, selection, column="outcome_linked_to_object", names=("Found", "Not found"),
                         what="outcome linked to object of search")


def find_rate(records: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    """Share of searches whose outcome was linked to the object searched for (the find rate), over
    searches where that is recorded (columns FIND_RATE_COLUMNS)."""
    return _find_frame(find_tally(records, selection), selection)


def _find_frame(t: Tally, selection: Selection) -> pd.DataFrame:
    out = share_frame(t, "Found", count_name="found", total_name="recorded")[FIND_RATE_COLUMNS]
    out.attrs.update(ethnicity=_ethnicity_label(selection), caveat=caveat(selection))
    return out


def _ethnicity_label(selection: Selection) -> str:
    return "officer-defined" if selection.ethnicity == "officer" else "self-defined"


def caveat(selection: Selection) -> str:
    """The infra-marginality caveat (and the officer-defined note when it applies)."""
    return INFRA_MARGINALITY_CAVEAT + (" " + OFFICER_NOTE if selection.ethnicity == "officer" else "")


@dataclass(frozen=True)
class GroupTests:
    """A chi-square test of independence per unit and the adjusted pairwise tests."""

    independence: pd.DataFrame
    pairwise: pd.DataFrame


@dataclass(frozen=True)
class OutcomesResult:
    """Outcome and find-rate tables, their tests, and the caveat that must travel with them."""

    outcomes: pd.DataFrame
    find_rate: pd.DataFrame
    independence: pd.DataFrame
    pairwise: pd.DataFrame
    ethnicity: str
    reference: str
    caveat: str


def _tests(outcome_t: Tally, find_t: Tally, pairs: str) -> GroupTests:
    return GroupTests(
        pd.concat([independence(outcome_t, measure="outcome"), independence(find_t, measure="find")],
                  ignore_index=True),
        pd.concat([pairwise(outcome_t, measure="outcome", labels=OUTCOME_CLASSES, pairs=pairs),
                   pairwise(find_t, measure="find", labels=("Found",), pairs=pairs)], ignore_index=True))


def analyse_outcomes(records: pd.DataFrame, selection: Selection, *, pairs: str = "reference") -> OutcomesResult:
    """Outcome shares, find rates, chi-square tests of independence and pairwise tests (Holm and BH)."""
    outcome_t, find_t = outcome_tally(records, selection), find_tally(records, selection)
    tests = _tests(outcome_t, find_t, pairs)
    return OutcomesResult(_outcome_frame(outcome_t, selection), _find_frame(find_t, selection),
                          tests.independence, tests.pairwise, _ethnicity_label(selection), selection.reference,
                          caveat(selection))


def outcome_tests(records: pd.DataFrame, selection: Selection, *, pairs: str = "reference") -> pd.DataFrame:
    """The pairwise tests of `analyse_outcomes` (columns PAIRWISE_COLUMNS), for the command line."""
    return _tests(outcome_tally(records, selection), find_tally(records, selection), pairs).pairwise
