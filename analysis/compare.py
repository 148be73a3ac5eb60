"""Force comparison: each force's disparity ratio against the pooled ratio, funnel-plot limits and q-values.

Method (Spiegelhalter 2005, "Funnel plots for comparing institutional performance", Stat Med 24:1185,
and "Handling over-dispersion of performance indicators", Qual Saf Health Care 14:347). On the log
scale each force has y = log(ratio) with the Katz standard error s = sqrt(1/a - 1/n1 + 1/c - 1/n2)
(a, c searches of the group and the reference; n1, n2 their residents); precision = 1/s. The target is
the pooled ratio theta0 (summed searches over summed residents of every selected force area with
residents; BTP never joins it). z = (y - log theta0) / s. Over-dispersion is estimated robustly from
winsorised z-scores (Spiegelhalter 2005, section 6): rank the forces by z, set the k lowest to the (k+1)-th
lowest and the k highest to the (k+1)-th highest, k = ceil(0.1 I) for I forces on the funnel (10% in each
tail, rounded up: at least one force, so that a single extreme force never sets the spread; percentile
interpolation would leave most of its z in place when there are few forces), then phi = mean(z_w^2).
Default `overdispersion='additive'` (random effects): tau^2 =
max(0, (I phi - (I - 1)) / (sum w - sum w^2 / sum w)), w = 1/s^2, limits log theta0 +- z_p sqrt(s^2 + tau^2)
and z = (y - log theta0) / sqrt(s^2 + tau^2). This suits forces with large counts, where multiplicative
limits still shrink to nothing. 'multiplicative': limits +- z_p sqrt(phi) s when phi > 1, z / sqrt(phi).
'none': plain Poisson-style limits. Fewer than MIN_UNITS forces on the funnel: no adjustment.
p-values are two-sided normal from the (adjusted) z; q-values are Benjamini-Hochberg within each group
(scipy.stats.false_discovery_control), shown for reference.

One flag rule (FLAG_RULE), used by the table, the charts, the captions and the league table: a force is
flagged when its ratio lies outside the 99.8% limits (|adjusted z| > 3.09, two-sided p < 0.002). The
`flag` text says so in words; `flagged` is the same as a boolean.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from scipy.special import ndtri

from analysis.intervals import log_ratio_se
from analysis.lazy_stats import stats
from analysis.rates import POOLED, Counts, count, disparity_from_rates, rates_from_counts, reference_columns
from analysis.selection import Selection

Z95 = float(ndtri(0.975))  # = scipy.stats.norm.ppf(0.975), bit for bit (norm._ppf is ndtri)
Z998 = float(ndtri(0.999))
MIN_UNITS = 5
WINSOR = 0.10
METHODS = ("additive", "multiplicative", "none")
COMPARE_COLUMNS = ["force", "group", "reference", "group_searches", "reference_searches", "ratio", "ci_low",
                   "ci_high", "pooled_ratio", "z", "limit95_low", "limit95_high", "limit998_low", "limit998_high",
                   "p_value", "q_value", "flag", "small_n", "se", "z_unadjusted", "phi", "tau2", "overdispersion",
                   "flagged"]
FLAG_RULE = ("A force is flagged when its ratio lies outside the 99.8% limits of the funnel (two-sided p < 0.002 "
             "after allowing for genuine variation between forces, estimated robustly). q-values (Benjamini-"
             "Hochberg false discovery rate across the forces compared) are shown for reference and do not set "
             "the flag. A flag is a reason to look closer, not a finding.")
FLAGGED_ABOVE = "flagged: above the 99.8% limit"
FLAGGED_BELOW = "flagged: below the 99.8% limit"


def winsorise(z: np.ndarray, fraction: float = WINSOR) -> np.ndarray:
    """z with the k lowest values set to the (k+1)-th lowest and the k highest to the (k+1)-th highest,
    k = ceil(fraction * n) (Spiegelhalter 2005, section 6; rounded up, so at least one value per tail). Too
    few values to leave any between the tails (n < 2k + 1) are returned unchanged."""
    z = np.asarray(z, dtype=float)
    n = len(z)
    k = max(1, int(np.ceil(fraction * n - 1e-9)))
    if n < 2 * k + 1:
        return z.copy()
    ordered = np.sort(z)
    return np.clip(z, ordered[k], ordered[n - 1 - k])


def dispersion(z: np.ndarray, se: np.ndarray, *, method: str = "additive") -> tuple[float, float]:
    """(phi, tau2) from the unadjusted z-scores and standard errors of the forces on the funnel.

    phi: mean of squared winsorised z (`winsorise`, Spiegelhalter 2005); tau2: the additive
    (DerSimonian-Laird style) between-force variance on the log scale. 'multiplicative' gives
    (max(phi, 1), 0); 'additive' gives (phi, tau2) and only tau2 enters the limits; 'none' or too few
    forces give (1, 0).
    """
    keep = np.isfinite(z) & np.isfinite(se) & (se > 0)
    z, se = z[keep], se[keep]
    n = len(z)
    if method == "none" or n < MIN_UNITS:
        return 1.0, 0.0
    phi = float(np.mean(winsorise(z) ** 2))
    if method == "multiplicative":
        return max(phi, 1.0), 0.0  # only ever widens the limits
    w = 1 / se**2
    tau2 = max(0.0, (n * phi - (n - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    return phi, float(tau2)


def spread(se: np.ndarray, *, phi: float, tau2: float, method: str) -> np.ndarray:
    """The log-scale standard deviation of a force's ratio around the target under the method:
    multiplicative sqrt(phi) s; additive sqrt(s^2 + tau^2); none s."""
    if method == "multiplicative":
        return np.sqrt(phi) * se
    if method == "additive":
        return np.sqrt(se**2 + tau2)
    return np.asarray(se, dtype=float)


def limits(pooled_ratio: float, se: np.ndarray, *, phi: float, tau2: float, z: float,
           method: str = "additive") -> tuple[np.ndarray, np.ndarray]:
    """Control limits on the ratio scale at standard errors `se` (log-scale), with the adjustment given."""
    width = spread(se, phi=phi, tau2=tau2, method=method)
    centre = np.log(pooled_ratio) if pooled_ratio > 0 else np.nan
    return np.exp(centre - z * width), np.exp(centre + z * width)


def _flag(y: float, l95: float, h95: float, l998: float, h998: float) -> str:
    """The flag in words, under FLAG_RULE (outside the 99.8% limits); the 95% position is said, not flagged."""
    if y > h998:
        return FLAGGED_ABOVE
    if y < l998:
        return FLAGGED_BELOW
    if y > h95:
        return "not flagged: above the 95% limit, within the 99.8% limits"
    if y < l95:
        return "not flagged: below the 95% limit, within the 99.8% limits"
    return "not flagged: within the 95% limits"


def is_flagged(flag: pd.Series) -> pd.Series:
    """True where a `flag` text says the force is flagged under FLAG_RULE."""
    return flag.astype(str).isin([FLAGGED_ABOVE, FLAGGED_BELOW])


def compare(records: pd.DataFrame, selection: Selection, *, overdispersion: str = "additive") -> pd.DataFrame:
    """Every selected force's ratio (group vs reference) with its Katz interval, set against the pooled
    ratio and the funnel limits (95%, 99.8%) at its precision. Columns: force, group, reference,
    group_searches, reference_searches, ratio, ci_low, ci_high, pooled_ratio, z, limit95_low, limit95_high,
    limit998_low, limit998_high, p_value, q_value, flag, small_n, then se, z_unadjusted, phi, tau2,
    overdispersion (what `funnel_curve` needs) and flagged (FLAG_RULE as a boolean)."""
    if overdispersion not in METHODS:
        raise ValueError(f"overdispersion must be one of {', '.join(METHODS)}, not {overdispersion!r}")
    return compare_from_counts(count(records, selection), reference=selection.reference,
                               months=selection.n_months, overdispersion=overdispersion)


def compare_from_counts(counts: Counts, *, reference: str, months: int, overdispersion: str = "additive"
                        ) -> pd.DataFrame:
    """The comparison table from `count(...)`."""
    if overdispersion not in METHODS:
        raise ValueError(f"overdispersion must be one of {', '.join(METHODS)}, not {overdispersion!r}")
    # the target never includes BTP searches (no residents): compare like with like
    counts = dataclasses.replace(counts, pooled_numerator_extra=())
    rate_table = rates_from_counts(counts, months=months, pooled=True)
    table = disparity_from_rates(rate_table, reference=reference, months=months)
    residents = rate_table.set_index(["force", "group"])["effective_population"].astype("Float64")
    table["_n1"] = residents.reindex(pd.MultiIndex.from_frame(table[["force", "group"]])).to_numpy(
        float, na_value=np.nan)
    ref = reference_columns(rate_table, reference, tuple(dict.fromkeys(rate_table["group"])))
    table["_n2"] = ref["reference_population"].astype("Float64").reindex(table["force"]).to_numpy(
        float, na_value=np.nan)
    pooled = table.loc[table["force"].eq(POOLED)].set_index("group")["ratio"]
    forces = table.loc[table["force"].ne(POOLED)].reset_index(drop=True)
    frames = []
    for group, rows in forces.groupby("group", sort=False):
        frames.append(_compare_group(rows, float(pooled.get(group, np.nan)), overdispersion))
    if not frames:
        return pd.DataFrame(columns=COMPARE_COLUMNS)
    out = pd.concat(frames).sort_index()
    return out.reset_index(drop=True)[COMPARE_COLUMNS]


def _compare_group(rows: pd.DataFrame, pooled_ratio: float, method: str) -> pd.DataFrame:
    a = rows["group_searches"].to_numpy(float)
    c = rows["reference_searches"].to_numpy(float)
    ratio = rows["ratio"].to_numpy(float)
    se = np.asarray(log_ratio_se(a, rows["_n1"].to_numpy(float), c, rows["_n2"].to_numpy(float)), dtype=float)
    # a finite Katz interval marks a ratio the funnel can hold (not a part of a broad reference, no zero counts)
    has_interval = np.isfinite(rows["ci_low"].to_numpy(float)) & np.isfinite(rows["ci_high"].to_numpy(float))
    on_funnel = np.isfinite(ratio) & (ratio > 0) & np.isfinite(se) & (se > 0) & has_interval
    target = np.log(pooled_ratio) if pooled_ratio > 0 and np.isfinite(pooled_ratio) else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(on_funnel, np.log(np.where(ratio > 0, ratio, np.nan)), np.nan)
        z_raw = (y - target) / se
    phi, tau2 = dispersion(z_raw[on_funnel], se[on_funnel], method=method) if np.isfinite(target) else (1.0, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (y - target) / spread(se, phi=phi, tau2=tau2, method=method)
    l95, h95 = limits(pooled_ratio, se, phi=phi, tau2=tau2, z=Z95, method=method)
    l998, h998 = limits(pooled_ratio, se, phi=phi, tau2=tau2, z=Z998, method=method)
    p = np.where(np.isfinite(z), 2 * stats.norm.sf(np.abs(z)), np.nan)
    q = np.full(len(p), np.nan)
    finite = np.isfinite(p)
    if finite.any():
        q[finite] = stats.false_discovery_control(p[finite], method="bh")
    flags = []
    for i in range(len(rows)):
        if on_funnel[i] and np.isfinite(target):
            flags.append(_flag(ratio[i], l95[i], h95[i], l998[i], h998[i]))
        elif rows["reason"].iloc[i]:
            flags.append(f"not compared: {rows['reason'].iloc[i]}")
        elif a[i] == 0 or c[i] == 0:
            flags.append("not compared: no searches in the group or the reference group")
        else:
            flags.append("not compared: no pooled ratio")
    return pd.DataFrame({
        "force": rows["force"], "group": rows["group"], "reference": rows["reference"],
        "group_searches": rows["group_searches"], "reference_searches": rows["reference_searches"],
        "ratio": rows["ratio"], "ci_low": rows["ci_low"], "ci_high": rows["ci_high"],
        "pooled_ratio": pooled_ratio, "z": np.where(on_funnel, z, np.nan),
        "limit95_low": np.where(on_funnel, l95, np.nan), "limit95_high": np.where(on_funnel, h95, np.nan),
        "limit998_low": np.where(on_funnel, l998, np.nan), "limit998_high": np.where(on_funnel, h998, np.nan),
        "p_value": p, "q_value": q, "flag": flags, "small_n": rows["small_n"],
        "se": np.where(on_funnel, se, np.nan), "z_unadjusted": np.where(on_funnel, z_raw, np.nan),
        "phi": phi, "tau2": tau2, "overdispersion": method,
        "flagged": [f in (FLAGGED_ABOVE, FLAGGED_BELOW) for f in flags],
    }, index=rows.index)


def funnel_curve(table: pd.DataFrame, *, points: int = 200) -> pd.DataFrame:
    """The funnel lines for a `compare` table: per group, over a precision grid (1/se, geometric, spanning
    the forces shown), the pooled ratio and the 95% and 99.8% limits on the ratio scale.
    Columns: group, precision, se, pooled_ratio, limit95_low, limit95_high, limit998_low, limit998_high."""
    frames = []
    for group, rows in table.groupby("group", sort=False):
        precision = 1 / rows["se"].to_numpy(float)
        precision = precision[np.isfinite(precision)]
        pooled_ratio = float(rows["pooled_ratio"].iloc[0])
        if not len(precision) or not np.isfinite(pooled_ratio) or pooled_ratio <= 0:
            continue
        grid = np.geomspace(precision.min() * 0.5, precision.max() * 1.5, points)
        se = 1 / grid
        phi, tau2 = float(rows["phi"].iloc[0]), float(rows["tau2"].iloc[0])
        method = str(rows["overdispersion"].iloc[0])
        l95, h95 = limits(pooled_ratio, se, phi=phi, tau2=tau2, z=Z95, method=method)
        l998, h998 = limits(pooled_ratio, se, phi=phi, tau2=tau2, z=Z998, method=method)
        frames.append(pd.DataFrame({"group": group, "precision": grid, "se": se, "pooled_ratio": pooled_ratio,
                                    "limit95_low": l95, "limit95_high": h95,
                                    "limit998_low": l998, "limit998_high": h998}))
    columns = ["group", "precision", "se", "pooled_ratio", "limit95_low", "limit95_high", "limit998_low",
               "limit998_high"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
