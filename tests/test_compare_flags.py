"""Compare forces (issue 9, defect 5): a robust over-dispersion estimate, one flag rule everywhere, readable
log axes, named funnel points and the per-force rates table, against hand calculations and real data."""
from __future__ import annotations

import math
import subprocess
import sys
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from analysis.compare import FLAG_RULE, FLAGGED_ABOVE, FLAGGED_BELOW, compare, is_flagged, winsorise
from analysis.figures.force_charts import compare_figure, funnel_figure, log_ticks
from analysis.force_rates import force_rate_table, rate_columns
from analysis.rates import rates
from analysis.selection import Selection, select
from data import reference_data
from tests.synthetic_records import records_from_counts

PROJECT = Path(__file__).resolve().parents[1]
POP = reference_data.population("broad").set_index(["force", "group"])["population"]
Z998 = stats.norm.ppf(0.999)

# Eleven forces: nine near the pooled ratio, Warwickshire at z = 5.8 and Dorset far out (z = 20.6), the
# shape of the real 2019/20 case in the issue. Searches of Black and White people (White at 4 per 1,000).
BLACK = {"kent": 681, "essex": 799, "surrey": 235, "sussex": 267, "hampshire": 342, "thames-valley": 1141,
         "norfolk": 92, "devon-and-cornwall": 80, "avon-and-somerset": 468, "warwickshire": 164,
         "dorset": 255}
WHITE = {"kent": 6579, "essex": 6606, "surrey": 4115, "sussex": 6210, "hampshire": 7244, "thames-valley": 7890,
         "norfolk": 3469, "devon-and-cornwall": 6877, "avon-and-somerset": 6338,
         "warwickshire": 2127, "dorset": 2936}
FORCES = list(BLACK)


@pytest.fixture(scope="module")
def outlier_case() -> tuple[pd.DataFrame, Selection]:
    rows = [(f, "2023-01", g, n) for f in FORCES for g, n in (("Black", BLACK[f]), ("White", WHITE[f]))]
    sel = Selection.build(FORCES, "2023-01", "2023-12")
    return select(records_from_counts(pd.DataFrame(rows, columns=["force", "month", "group", "n"])), sel), sel


def _hand(zs: dict[str, float], se: dict[str, float], lo: float, hi: float) -> tuple[float, float]:
    """phi and tau2 from z winsorised to [lo, hi] (Spiegelhalter 2005, Stat Med 24:1185, section 6; tau2 as
    in Spiegelhalter 2005, Qual Saf Health Care 14:347: (I phi - (I-1)) / (sum w - sum w^2 / sum w))."""
    n = len(zs)
    phi = sum(min(max(z, lo), hi) ** 2 for z in zs.values()) / n
    w = [1 / se[f] ** 2 for f in zs]
    return phi, max(0.0, (n * phi - (n - 1)) / (sum(w) - sum(x * x for x in w) / sum(w)))


def test_winsorised_estimate_by_hand_unhides_the_z58_force(outlier_case) -> None:
    records, sel = outlier_case
    black = compare(records, sel).query("group == 'Black'").set_index("force")
    n1 = {f: POP[f, "Black"] for f in FORCES}
    n2 = {f: POP[f, "White"] for f in FORCES}
    theta0 = (sum(BLACK.values()) / sum(n1.values())) / (sum(WHITE.values()) / sum(n2.values()))
    se = {f: math.sqrt(1 / BLACK[f] - 1 / n1[f] + 1 / WHITE[f] - 1 / n2[f]) for f in FORCES}
    z0 = {f: (math.log(BLACK[f] / n1[f] / (WHITE[f] / n2[f])) - math.log(theta0)) / se[f] for f in FORCES}
    assert 5.7 < z0["warwickshire"] < 5.9 and z0["dorset"] > 20           # the case in the issue
    assert_allclose(black.loc[FORCES, "z_unadjusted"], [z0[f] for f in FORCES], rtol=1e-10)

    # Spiegelhalter's steps: rank the z; the 10% most extreme at each end (11 forces: ceil(1.1) = 2) are set
    # to the next value inward; phi = mean of the squares
    ordered = sorted(z0.values())
    phi, tau2 = _hand(z0, se, ordered[2], ordered[-3])
    assert_allclose(black["phi"].iloc[0], phi, rtol=1e-10)
    assert_allclose(black["tau2"].iloc[0], tau2, rtol=1e-10)
    z_w = (math.log(theta0 * math.exp(z0["warwickshire"] * se["warwickshire"])) - math.log(theta0)) \
        / math.sqrt(se["warwickshire"] ** 2 + tau2)
    assert_allclose(black.loc["warwickshire", "z"], z_w, rtol=1e-10)
    assert z_w > Z998 and black.loc["warwickshire", "flag"] == FLAGGED_ABOVE and black.loc["warwickshire", "flagged"]
    assert black.loc["dorset", "flag"] == FLAGGED_ABOVE

    # what it replaces: without winsorising, or with percentiles interpolated (R's type 7, the previous code:
    # with 11 forces its 90th percentile is Warwickshire's own z, so Dorset is only pulled in to 5.8 and the
    # two together set the spread), Warwickshire (z = 5.8) is not flagged
    for lo, hi in ((-math.inf, math.inf), tuple(np.quantile(list(z0.values()), [0.1, 0.9]))):
        _, tau2_old = _hand(z0, se, lo, hi)
        assert z0["warwickshire"] * se["warwickshire"] / math.sqrt(se["warwickshire"] ** 2 + tau2_old) < Z998


def test_winsorise_rounds_up_to_at_least_one_force_per_tail() -> None:
    z = np.array([-6.1, -3.0, -2.4, -1.1, -0.8, 5.8, 16.8])          # the seven real forces' shape
    assert_allclose(winsorise(z), [-3.0, -3.0, -2.4, -1.1, -0.8, 5.8, 5.8])
    assert_allclose(winsorise(np.array([1.0, 2.0])), [1.0, 2.0])     # nothing between the tails: unchanged


def test_flags_follow_the_one_stated_rule(outlier_case) -> None:
    records, sel = outlier_case
    table = compare(records, sel)
    on = table["z"].notna()
    # the rule in words (FLAG_RULE) and in numbers: outside the 99.8% limits <=> |adjusted z| > 3.09
    assert "outside the 99.8% limits" in FLAG_RULE and "do not set the flag" in FLAG_RULE
    outside = (table["ratio"] > table["limit998_high"]) | (table["ratio"] < table["limit998_low"])
    assert (table.loc[on, "flagged"] == outside[on]).all()
    assert (table.loc[on, "flagged"] == (table.loc[on, "z"].abs() > Z998)).all()
    assert (is_flagged(table["flag"]) == table["flagged"]).all()
    assert table.loc[table["flagged"], "flag"].isin([FLAGGED_ABOVE, FLAGGED_BELOW]).all()
    assert table.loc[~table["flagged"], "flag"].str.startswith(("not flagged", "not compared")).all()
    # the charts say the same: flagged forces, and only they, carry "(flagged)"
    forest = compare_figure(table, group="Black")
    names = list(forest.data[0].y)
    flagged = set(table.loc[table["group"].eq("Black") & table["flagged"], "force"])
    assert {f for f, n in zip(forest.data[0].customdata, names, strict=True) if n.endswith("(flagged)")} == flagged
    labels = next(t for t in funnel_figure(table, group="Black").data if (t.meta or {}).get("series") == "labels")
    assert {n.removesuffix(" (flagged)") for n in labels.text if n.endswith("(flagged)")} == \
        {reference_data.force_name(f) for f in flagged}


def test_log_axis_ticks_are_full_numbers(outlier_case) -> None:
    values, text = log_ticks([math.log10(0.8), math.log10(40)])
    assert text == ["1", "2", "3", "5", "10", "20", "30"] and values == [1, 2, 3, 5, 10, 20, 30]
    assert log_ticks([math.log10(0.15), math.log10(0.9)])[1] == ["0.15", "0.2", "0.25", "0.3", "0.4", "0.5",
                                                                 "0.6", "0.7", "0.8"]
    assert log_ticks([0, 4])[1] == ["1", "3", "10", "30", "100", "300", "1,000", "3,000", "10,000"]
    records, sel = outlier_case
    table = compare(records, sel)
    forest = compare_figure(table, group="Black")
    funnel = funnel_figure(table, group="Black")
    for axis in (forest.layout.xaxis, funnel.layout.yaxis):
        assert axis.type == "log" and axis.tickmode == "array"
        assert list(axis.ticktext) == [f"{v:,.0f}" if float(v).is_integer() else f"{v:g}" for v in axis.tickvals]
        lo, hi = axis.range
        assert all(lo <= math.log10(v) <= hi for v in axis.tickvals)
    assert "10" in funnel.layout.yaxis.ticktext and "2" in funnel.layout.yaxis.ticktext   # 10 reads "10", not "1"


def test_funnel_points_carry_force_names_and_the_hover_says_ratio_interval_z_q(outlier_case) -> None:
    records, sel = outlier_case
    table = compare(records, sel)
    fig = funnel_figure(table, group="Black")
    points = next(t for t in fig.data if (t.meta or {}).get("series") == "forces")
    assert list(points.customdata) == FORCES
    assert list(points.text) == [reference_data.force_name(f) for f in FORCES]
    for hover, force in zip(points.hovertext, FORCES, strict=True):
        assert reference_data.force_name(force) in hover and "ratio" in hover and "95% CI" in hover
        assert "z " in hover and "q " in hover
    labels = next(t for t in fig.data if (t.meta or {}).get("series") == "labels")
    named = {n.removesuffix(" (flagged)") for n in labels.text}
    flagged = table.loc[table["group"].eq("Black") & table["flagged"], "force"].map(reference_data.force_name)
    assert set(flagged) <= named and len(named) >= len(FORCES) - 3   # flagged always; most others fit
    if len(named) < len(FORCES):   # the figure says who is not named and where to find them
        assert any("hover" in (a.text or "") for a in fig.layout.annotations)
    pooled = [t for t in fig.data if list(t.text or []) and str(t.text[0]).startswith("pooled")]
    assert pooled and pooled[0].textposition == "top right" and pooled[0].x[0] == fig.layout.xaxis.range[0]


def test_rates_table_has_every_group_from_the_rates_function(outlier_case) -> None:
    records, sel = outlier_case
    long = rates(records, sel)
    wide = force_rate_table(long)
    assert list(wide["force"]) == [*FORCES, "ALL"]
    for group in ("Black", "White"):
        rate, low, high, searches = rate_columns(group)
        expected = long.loc[long["group"].eq(group)].set_index("force")
        assert_allclose(wide.set_index("force")[rate], expected.loc[wide["force"], "rate_per_1000"].astype(float))
        assert_allclose(wide.set_index("force")[low], expected.loc[wide["force"], "ci_low"].astype(float))
        assert_allclose(wide.set_index("force")[high], expected.loc[wide["force"], "ci_high"].astype(float))
        assert wide.set_index("force")[searches].tolist() == expected.loc[wide["force"], "searches"].tolist()
    # hand: Kent's Black rate = 681 searches / residents x 1,000 (a 12-month period, no annualising)
    assert_allclose(wide.set_index("force").loc["kent", "Black per 1,000"], 681 / POP["kent", "Black"] * 1000)


def test_a_force_without_residents_is_blank_with_a_reason_never_zero() -> None:
    sel = Selection.build("kent,btp", "2023-01", "2023-12", include_btp=True)
    rows = [(f, "2023-01", g, n) for f in ("kent", "btp") for g, n in (("Black", 30), ("White", 300))]
    wide = force_rate_table(rates(select(records_from_counts(pd.DataFrame(
        rows, columns=["force", "month", "group", "n"])), sel), sel)).set_index("force")
    assert np.isnan(wide.loc["btp", "Black per 1,000"]) and "no resident population" in wide.loc["btp", "Why blank"]
    assert wide.loc["btp", "Black searches"] == 30 and wide.loc["kent", "Why blank"] == ""


def test_real_archive_compare_flags_match_the_rule(shared_dir: Path, store_dir: Path) -> None:
    archive = shared_dir / "data" / "police_uk" / "archive"
    months = [f"2019-{m:02d}" for m in range(4, 13)] + [f"2020-{m:02d}" for m in range(1, 4)]
    folders = [str(archive / m) for m in months if (archive / m).is_dir()]
    done = subprocess.run([sys.executable, "-m", "data", "import", *folders], cwd=PROJECT, capture_output=True,
                          text=True, timeout=600)      # generous: an import on a loaded 2-core machine
    assert done.returncode == 0, done.stderr
    out = subprocess.run([sys.executable, "-m", "analysis", "table", "compare", "--forces", "all", "--from",
                          "2019-04", "--to", "2020-03"], cwd=PROJECT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    table = pd.read_csv(StringIO(out.stdout))
    on = table["z"].notna()
    assert on.sum() >= 5 * 4                       # at least five forces on the funnel in four groups
    outside = (table["ratio"] > table["limit998_high"]) | (table["ratio"] < table["limit998_low"])
    assert (table.loc[on, "flag"].isin([FLAGGED_ABOVE, FLAGGED_BELOW]) == outside[on]).all()
    assert (outside[on] == (table.loc[on, "z"].abs() > Z998)).all()
    assert table.loc[~on, "flag"].str.startswith("not compared").all()
    # the 95% position is said in words, never as a flag
    assert not table["flag"].str.match(r"^(above|below) 95%").any()
