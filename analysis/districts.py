"""Rates and ratios by local authority district within a force, with exact intervals, shrinkage and funnel flags.

Counting. Searches of persons (as analysis.rates) of one force are placed in a district of that force by
data.districts (point-in-polygon on British National Grid). Three kinds are kept apart, never dropped:
in a district of the force (`searches`, the numerator of every rate here), no location (`no_location`), and
located outside the force's own districts (`outside_force`: a neighbouring area, the sea, a snap point over
a generalised border). Residents: Census 2021 by district and group, x the share of the period the force
published (person-time, as analysis.rates).

Rate per 1,000 a year and its exact Garwood interval as analysis.rates. Ratios against the reference group
with Katz and exact conditional intervals through analysis.rates.disparity_from_rates.

Shrinkage (Poisson-Gamma empirical Bayes; Marshall 1991, Applied Statistics 40:283, method of moments),
within one force and group across its districts: y_i searches, E_i person-years / 1,000, r_i = y_i / E_i.
m = sum y / sum E; s2 = sum E_i (r_i - m)^2 / sum E; A = max(0, s2 - m / mean(E)). Prior Gamma(alpha = m^2/A,
beta = m/A); posterior mean (y_i + alpha) / (E_i + beta) = m + A / (A + m / E_i) (r_i - m), 95% interval from
Gamma(alpha + y_i, beta + E_i). A = 0 (no variation beyond chance): every district gets m. Needs
MIN_DISTRICTS districts with residents in the group.

If unlocated searches were spread in proportion: the force's no-location searches of a group shared among its
districts in proportion to their located searches of that group: r_i x (1 + U / sum y).

Funnel (Spiegelhalter 2005): each district's rate against the force's located rate m, se_i = sqrt(m / E_i),
additive over-dispersion tau^2 from winsorised z-scores (analysis.compare.dispersion), limits
m +- z sqrt(se_i^2 + tau^2) at 95% and 99.8%.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis import SMALL_N, intervals
from analysis.compare import Z95, Z998, dispersion
from analysis.lazy_stats import stats
from analysis.rates import codes as group_codes
from analysis.rates import disparity_from_rates, group_setup, person_mask
from analysis.selection import Selection
from data import districts as geo
from data import vocab

MIN_DISTRICTS = 3
HIGH_NO_LOCATION = 0.2   # a no-location share above this makes located rates understate: flagged
RATES_COLUMNS = ["force", "district", "district_name", "group", "searches", "population", "rate_per_1000",
                 "ci_low", "ci_high", "shrunk_rate_per_1000", "shrunk_ci_low", "shrunk_ci_high",
                 "no_location_share", "rate_if_unlocated_spread", "funnel_flag", "small_n", "flags", "reason",
                 "force_rate_per_1000", "limit95_low", "limit95_high", "limit998_low", "limit998_high",
                 "no_location_searches", "outside_force_searches", "months", "effective_population", "census"]
DISPARITY_COLUMNS = ["force", "district", "district_name", "group", "reference", "ratio", "ci_low", "ci_high",
                     "exact_ci_low", "exact_ci_high", "group_searches", "reference_searches", "shrunk_ratio",
                     "ratio_if_unlocated_spread", "small_n", "reason", "rate_difference",
                     "ratio_if_not_stated_group", "ratio_if_not_stated_reference", "census"]
SUMMARY_COLUMNS = ["force", "searches_of_persons", "in_districts", "outside_force", "no_location",
                   "no_location_share", "districts"]


@dataclass(frozen=True)
class ForceDistricts:
    """One force's searches of persons by district x group, and those with no location or outside it."""

    force: str
    districts: tuple[str, ...]
    names: tuple[str, ...]
    searches: np.ndarray        # (D, G) int64
    population: np.ndarray      # (D, G) float residents (nan for 'Not stated')
    no_location: np.ndarray     # (G,)
    outside_force: np.ndarray   # (G,)
    coverage: float             # share of the period the force published


@dataclass(frozen=True)
class DistrictCounts:
    groups: tuple[str, ...]
    months: int
    forces: tuple[ForceDistricts, ...]
    census_note: str = ""       # set when the force-level tables divide by another census than 2021


@dataclass(frozen=True)
class Shrinkage:
    """Poisson-Gamma empirical-Bayes estimates for one set of areas (see the module docstring)."""

    prior_mean: float
    between_variance: float     # A: variance of true rates beyond chance (0: all shrunk to the mean)
    estimate: np.ndarray
    low: np.ndarray
    high: np.ndarray


def poisson_gamma(cases: np.ndarray, exposure: np.ndarray, *, confidence_level: float = 0.95) -> Shrinkage:
    """Method-of-moments Poisson-Gamma shrinkage of rates cases / exposure (areas with exposure > 0 only;
    others get nan). Fewer than MIN_DISTRICTS usable areas: nothing to borrow from, all nan."""
    y, e = np.asarray(cases, dtype=float), np.asarray(exposure, dtype=float)
    ok = np.isfinite(e) & (e > 0) & np.isfinite(y)
    nan = np.full(len(y), np.nan)
    if ok.sum() < MIN_DISTRICTS or y[ok].sum() == 0:
        return Shrinkage(np.nan, np.nan, nan, nan.copy(), nan.copy())
    m = y[ok].sum() / e[ok].sum()
    r = y[ok] / e[ok]
    s2 = (e[ok] * (r - m) ** 2).sum() / e[ok].sum()
    a = max(0.0, s2 - m / e[ok].mean())
    est, low, high = nan.copy(), nan.copy(), nan.copy()
    if a == 0:
        est[ok] = low[ok] = high[ok] = m
        return Shrinkage(float(m), 0.0, est, low, high)
    alpha, beta = m * m / a, m / a
    shape, rate = alpha + y[ok], beta + e[ok]
    tail = (1 - confidence_level) / 2
    est[ok] = shape / rate
    low[ok] = stats.gamma.ppf(tail, shape, scale=1 / rate)
    high[ok] = stats.gamma.ppf(1 - tail, shape, scale=1 / rate)
    return Shrinkage(float(m), float(a), est, low, high)


def district_counts(records: pd.DataFrame, selection: Selection, *, store: object | None = None,
                    district: np.ndarray | None = None) -> DistrictCounts:
    """Count searches of persons by force, district and group (forces without districts, e.g. BTP, skipped).

    `district`: data.districts indexes aligned with `records`; computed (with the store's kept side tables
    when `store` is given) when not passed."""
    column, groups, level = group_setup(selection)
    known = geo.districts()
    index = geo.district_index(records, store=store) if district is None else np.asarray(district)
    person = person_mask(records)
    g_all = group_codes(records[column], groups)
    population = geo.district_population(level).pivot_table(index="district", columns="group",
                                                            values="population", aggfunc="sum")
    n_g = len(groups)
    f_all = group_codes(records["force"], selection.forces)
    out = []
    for k, force in enumerate(selection.forces):
        own = known.of_force(force)
        if not own:
            continue
        mask = person & (f_all == k) & (g_all >= 0)
        g, d = g_all[mask], index[mask]
        position = np.full(len(known.codes) + 2, -1)          # district index -> row in this force (-1 none)
        position[np.array(own)] = np.arange(len(own))
        row = np.where(d >= 0, position[np.maximum(d, 0)], -1)
        inside = row >= 0
        searches = np.bincount(row[inside] * n_g + g[inside], minlength=len(own) * n_g).reshape(len(own), n_g)
        no_location = np.bincount(g[d == geo.NO_LOCATION], minlength=n_g)
        outside = np.bincount(g[(d != geo.NO_LOCATION) & ~inside], minlength=n_g)
        codes = [known.codes[i] for i in own]
        pop = population.reindex(index=codes, columns=list(groups)).to_numpy(dtype="float64", copy=True)
        out.append(ForceDistricts(force, tuple(codes), tuple(known.names[i] for i in own), searches, pop,
                                  no_location, outside, selection.coverage_share(force)))
    wanted = str(getattr(selection, "census_year", "2021"))
    note = ("district residents are Census 2021 (LAD22 districts); the force tables for this period use "
            f"Census {wanted}") if wanted != "2021" else ""
    return DistrictCounts(tuple(groups), selection.n_months, tuple(out), note)


def location_summary(counts: DistrictCounts) -> pd.DataFrame:
    """Per force: searches of persons, in its districts, located outside them, with no location (and share)."""
    rows = []
    for f in counts.forces:
        inside, outside, missing = int(f.searches.sum()), int(f.outside_force.sum()), int(f.no_location.sum())
        total = inside + outside + missing
        rows.append([f.force, total, inside, outside, missing, missing / total if total else np.nan,
                     len(f.districts)])
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def _funnel_flag(rate: float, l95: float, h95: float, l998: float, h998: float) -> str:
    if not np.isfinite(rate) or not np.isfinite(l95) or not h95 > 0:
        return "not on the funnel"
    for value, limit, word in ((rate > h998, "99.8%", "above"), (rate > h95, "95%", "above"),
                               (rate < l998, "99.8%", "below"), (rate < l95, "95%", "below")):
        if value:
            return f"{word} {limit} limit"
    return "within 95% limits"


def _group_rows(f: ForceDistricts, j: int, group: str, months: int) -> dict[str, np.ndarray | list]:
    """Every column of one force x group over its districts."""
    y = f.searches[:, j].astype(float)
    pop = f.population[:, j]
    effective = pop * f.coverage
    years = months / 12
    exposure = np.where(np.isfinite(effective) & (effective > 0), effective * years / 1000, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = y / exposure
        low, high = (np.asarray(b) / exposure for b in intervals.garwood(y))
        located = np.nansum(np.where(np.isfinite(exposure), y, np.nan))
        m = located / np.nansum(exposure) if np.isfinite(exposure).any() else np.nan
        u, o = float(f.no_location[j]), float(f.outside_force[j])
        share = u / (y.sum() + u + o) if y.sum() + u + o else np.nan
        spread = rate * (1 + u / located) if located > 0 else np.full(len(y), np.nan)
        se = np.sqrt(m / exposure)
        z = (rate - m) / se
    shrink = poisson_gamma(y, exposure)
    on_funnel = np.isfinite(se) & (se > 0) & np.isfinite(z)
    _, tau2 = dispersion(z[on_funnel], se[on_funnel]) if on_funnel.any() and m > 0 else (1.0, 0.0)
    width = np.sqrt(se**2 + tau2)
    l95, h95 = np.maximum(m - Z95 * width, 0), m + Z95 * width
    l998, h998 = np.maximum(m - Z998 * width, 0), m + Z998 * width
    not_stated = group == vocab.NOT_STATED
    funnel = ["" if not_stated else _funnel_flag(*v) for v in zip(rate, l95, h95, l998, h998, strict=True)]
    reasons, flags = [], []
    for i in range(len(y)):
        if not_stated:
            reasons.append("ethnicity not stated: counted, but has no population")
        elif not np.isfinite(exposure[i]):
            reasons.append("no Census residents in this group in the district")
        elif not located > 0:
            reasons.append("no located searches in this group in the force's districts")
        elif not np.isfinite(shrink.estimate[i]):
            reasons.append(f"no shrinkage: fewer than {MIN_DISTRICTS} districts with residents or no searches")
        else:
            reasons.append("")
        notes = []
        if y[i] < SMALL_N:
            notes.append(f"fewer than {SMALL_N} searches")
        if funnel[i].startswith(("above", "below")):
            notes.append(f"funnel: {funnel[i]}")
        if share > HIGH_NO_LOCATION:
            notes.append(f"{share:.0%} of the force's searches in the group have no location")
        flags.append("; ".join(notes))
    return {"district": list(f.districts), "district_name": list(f.names), "searches": y.astype("int64"),
            "population": pop, "rate_per_1000": rate, "ci_low": low, "ci_high": high,
            "shrunk_rate_per_1000": shrink.estimate, "shrunk_ci_low": shrink.low, "shrunk_ci_high": shrink.high,
            "no_location_share": np.full(len(y), share), "rate_if_unlocated_spread": spread,
            "funnel_flag": funnel, "small_n": y < SMALL_N, "flags": flags, "reason": reasons,
            "force_rate_per_1000": np.full(len(y), m), "limit95_low": l95, "limit95_high": h95,
            "limit998_low": l998, "limit998_high": h998, "no_location_searches": np.full(len(y), int(u)),
            "outside_force_searches": np.full(len(y), int(o)), "effective_population": effective}


def rates_from_district_counts(counts: DistrictCounts) -> pd.DataFrame:
    """The district-rates table (RATES_COLUMNS) from `district_counts`."""
    columns: dict[str, list] = {}
    for f in counts.forces:
        for j, group in enumerate(counts.groups):
            part = _group_rows(f, j, group, counts.months)
            part["force"] = [f.force] * len(f.districts)
            part["group"] = [group] * len(f.districts)
            for name, values in part.items():
                columns.setdefault(name, []).append(np.asarray(values, dtype=object if isinstance(values, list)
                                                               else None))
    if not columns:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in RATES_COLUMNS})
    out = pd.DataFrame({name: np.concatenate(parts) for name, parts in columns.items()})
    for name in ("force", "district", "district_name", "group", "funnel_flag", "flags", "reason"):
        out[name] = out[name].astype(str)
    out["small_n"] = out["small_n"].astype(bool)
    out["census"] = "2021"
    if counts.census_note:
        out["reason"] = [f"{r}; {counts.census_note}" if r else counts.census_note for r in out["reason"]]
    out["months"] = counts.months
    out["population"] = pd.array(out["population"], dtype="Float64").astype("Int64")
    out = out.sort_values(["force", "district"], kind="stable")  # groups keep their order within a district
    return out.reset_index(drop=True)[RATES_COLUMNS]


def disparity_from_district_rates(table: pd.DataFrame, *, reference: str, months: int) -> pd.DataFrame:
    """The district-disparity table (DISPARITY_COLUMNS) from a district-rates table."""
    if not len(table):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in DISPARITY_COLUMNS})
    keyed = table.assign(key=table["force"] + "|" + table["district"])
    as_forces = keyed.assign(force=keyed["key"], forces=keyed["force"])
    out = disparity_from_rates(as_forces, reference=reference, months=months)
    out["census"] = "2021"
    out = out.rename(columns={"force": "key"}).merge(
        keyed[["key", "force", "district", "district_name"]].drop_duplicates("key"), on="key", how="left")
    wide = keyed.set_index(["key", "group"])
    ref = wide.xs(reference, level="group") if reference in set(table["group"]) else None
    pairs = pd.MultiIndex.from_frame(out[["key", "group"]])
    with np.errstate(divide="ignore", invalid="ignore"):
        if ref is not None:
            for column, source in (("shrunk_ratio", "shrunk_rate_per_1000"),
                                   ("ratio_if_unlocated_spread", "rate_if_unlocated_spread")):
                out[column] = (wide[source].reindex(pairs).to_numpy(float)
                               / ref[source].reindex(out["key"]).to_numpy(float))
        else:  # a broad reference at the detailed level: its shrunk rate is not a sum of shrunk rates
            out["shrunk_ratio"] = np.nan
            out["ratio_if_unlocated_spread"] = np.nan
    return out.reset_index(drop=True)[DISPARITY_COLUMNS]


def district_rates(records: pd.DataFrame, selection: Selection, *, store: object | None = None,
                   district: np.ndarray | None = None) -> pd.DataFrame:
    """Per force, district and group: searches of persons located in the district, residents, rate per 1,000
    a year with its Garwood 95% interval, the shrunk rate, the no-location share, the rate if unlocated
    searches were spread in proportion, funnel flag, flags, reason (columns RATES_COLUMNS)."""
    return rates_from_district_counts(district_counts(records, selection, store=store, district=district))


def district_disparity(records: pd.DataFrame, selection: Selection, *, store: object | None = None,
                       district: np.ndarray | None = None) -> pd.DataFrame:
    """Per force, district and group: the ratio to the reference group with Katz and exact intervals, the
    ratio of shrunk rates and the ratio if unlocated searches were spread (columns DISPARITY_COLUMNS)."""
    table = district_rates(records, selection, store=store, district=district)
    return disparity_from_district_rates(table, reference=selection.reference, months=selection.n_months)
