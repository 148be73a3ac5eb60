"""The long view (analysis.long_trend): every period on its own Census, gaps as coverage (never a dip), the
figure's census-change marker and coverage panel, and the Disparity page showing it."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy.stats.contingency import relative_risk

from analysis.figures.long_trend_chart import long_trend_figure
from analysis.long_trend import long_trend
from analysis.rates import disparity, rates
from analysis.selection import Selection, select
from data import reference_data
from data.months import month_range
from tests.synthetic_records import records_from_counts

MONTHS = month_range("2018-04", "2022-03")        # financial years 2018/19 .. 2021/22
GAP = month_range("2019-06", "2019-11")           # Kent publishes nothing for six months of 2019/20
PER_MONTH = {"Black": 10, "White": 100, "Asian": 5, "Not stated": 3}


def _pop(census: str, force: str, group: str) -> int:
    table = reference_data.population("broad", census)
    return int(table.loc[table["force"].eq(force) & table["group"].eq(group), "population"].iloc[0])


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    rows = [(f, m, g, n) for f in ("kent", "leicestershire") for m in MONTHS for g, n in PER_MONTH.items()
            if not (f == "kent" and m in GAP)]
    return records_from_counts(pd.DataFrame(rows, columns=["force", "month", "group", "n"]))


def _available(records: pd.DataFrame) -> dict[str, list[str]]:
    return {f: sorted(g["month"].astype(str).unique()) for f, g in records.groupby("force", observed=True)}


def test_each_financial_year_equals_the_rates_tables_on_its_own_census(records: pd.DataFrame) -> None:
    sel = Selection.build("kent,leicestershire", MONTHS[0], MONTHS[-1])
    result = long_trend(records, sel, months_available=_available(records))
    years = result.financial_years()
    assert list(dict.fromkeys(years["period"])) == ["2018/19", "2019/20", "2020/21", "2021/22"]
    assert years.groupby("period")["census"].first().to_dict() == {
        "2018/19": 2011, "2019/20": 2011, "2020/21": 2021, "2021/22": 2021}
    assert result.census_change == "2020/21" and result.census_change_month == "2020-04"
    for label, start, end in (("2018/19", "2018-04", "2019-03"), ("2019/20", "2019-04", "2020-03"),
                              ("2020/21", "2020-04", "2021-03")):
        # oracle: the rates and disparity tables for that one year, with its census and Kent's gap as
        # months published (what analysis.coverage gives the app and the CLI)
        held = (("kent", 6),) if label == "2019/20" else ()
        one = replace(Selection.build("kent,leicestershire", start, end), months_published=held)
        table = rates(select(records, one), one)
        expected = table.loc[table["force"].eq("ALL")].set_index("group")
        got = years.loc[years["period"].eq(label)].set_index("group")
        assert_allclose(got.loc[["Asian", "Black", "White"], "rate_per_1000"].astype(float),
                        expected.loc[["Asian", "Black", "White"], "rate_per_1000"].astype(float), rtol=1e-12)
        ratios = disparity(select(records, one), one)
        ratios = ratios.loc[ratios["force"].eq("ALL")].set_index("group")
        assert_allclose(got.loc["Black", ["ratio", "ratio_ci_low", "ratio_ci_high"]].astype(float),
                        ratios.loc["Black", ["ratio", "ci_low", "ci_high"]].astype(float), rtol=1e-12)
    # and a hand calculation for 2018/19 (Census 2011): 2 forces x 12 months x 10 Black searches
    black = _pop("2011", "kent", "Black") + _pop("2011", "leicestershire", "Black")
    white = _pop("2011", "kent", "White") + _pop("2011", "leicestershire", "White")
    row = years.loc[years["period"].eq("2018/19")].set_index("group")
    assert_allclose(row.loc["Black", "rate_per_1000"], 240 / black * 1000, rtol=1e-12)
    oracle = relative_risk(exposed_cases=240, exposed_total=black, control_cases=2400, control_total=white)
    assert_allclose(row.loc["Black", "ratio"], oracle.relative_risk, rtol=1e-12)


def test_a_gap_is_coverage_not_a_dip(records: pd.DataFrame) -> None:
    # constant searches per published month: with person-time the rate does not move when months are missing
    kent = Selection.build("kent", MONTHS[0], MONTHS[-1], census="2011")
    result = long_trend(records, kent, months_available=_available(records))
    years = result.financial_years().set_index(["period", "group"])
    full, gap = years.loc[("2018/19", "Black")], years.loc[("2019/20", "Black")]
    assert_allclose(gap["rate_per_1000"], full["rate_per_1000"], rtol=1e-12)
    # hand: 6 months x 10 searches over residents x 6/12, annualised x 12/12
    assert_allclose(gap["rate_per_1000"], 60 / (_pop("2011", "kent", "Black") * 6 / 12) * 1000, rtol=1e-12)
    assert (gap["force_months_published"], gap["force_months"]) == (6, 12)
    assert "6 of 12 force-months not published" in gap["reason"]
    cover = result.coverage.set_index(["force", "financial_year"])
    assert cover.loc[("kent", "2019/20"), "months_published"] == 6
    assert cover.loc[("kent", "2018/19"), "months_published"] == 12
    # rolling windows never dip either: every window's Black rate is the same on one census
    rolling = result.rolling()
    black = rolling.loc[rolling["group"].eq("Black"), "rate_per_1000"].astype(float)
    assert_allclose(black, full["rate_per_1000"], rtol=1e-12)


def test_a_force_with_no_month_in_a_year_is_left_out_of_that_year(records: pd.DataFrame) -> None:
    only_leics = records.loc[~(records["force"].eq("kent") & records["month"].astype(str).lt("2020-04"))]
    sel = Selection.build("kent,leicestershire", MONTHS[0], MONTHS[-1])
    years = long_trend(only_leics, sel, months_available=_available(only_leics)).financial_years()
    first = years.loc[years["period"].eq("2018/19")].set_index("group")
    assert first.loc["Black", "forces_reporting"] == 1 and first.loc["Black", "force_months"] == 24
    # Kent's residents are not in the denominator: the pooled rate is Leicestershire's alone (hand)
    assert_allclose(first.loc["Black", "rate_per_1000"], 120 / _pop("2011", "leicestershire", "Black") * 1000,
                    rtol=1e-12)


def test_census_choice_applies_to_every_period(records: pd.DataFrame) -> None:
    sel = Selection.build("kent,leicestershire", MONTHS[0], MONTHS[-1], census="2021")
    result = long_trend(records, sel)
    assert set(result.periods["census"]) == {2021} and result.census_change == ""
    assert "Census 2021 residents for every period (chosen)" in result.selection.describe()
    auto = long_trend(records, Selection.build("kent,leicestershire", MONTHS[0], MONTHS[-1]))
    assert "2011 up to 2019/20, 2021 from 2020/21" in auto.selection.describe()
    assert auto.selection.census_label == "Census 2011 and 2021"


def test_roma_has_no_rate_in_census_2011_years() -> None:
    rows = [("leicestershire", m, g, n) for m in MONTHS for g, n in (("Roma", 1), ("White British", 50), ("African", 5))]
    recs = records_from_counts(pd.DataFrame(rows, columns=["force", "month", "group", "n"]))
    sel = Selection.build("leicestershire", MONTHS[0], MONTHS[-1], level="detailed", reference="White")
    years = long_trend(recs, sel).financial_years().set_index(["period", "group"])
    roma11, roma21 = years.loc[("2019/20", "Roma")], years.loc[("2020/21", "Roma")]
    assert np.isnan(roma11["rate_per_1000"]) and pd.isna(roma11["population"])
    assert "Census 2011 has no Roma group" in roma11["reason"]
    assert roma21["rate_per_1000"] > 0
    assert np.isfinite(years.loc[("2019/20", "African"), "ratio"])   # Roma searches stay in the White reference


def test_figure_marks_the_census_change_and_shows_coverage(records: pd.DataFrame) -> None:
    sel = Selection.build("kent,leicestershire", MONTHS[0], MONTHS[-1])
    result = long_trend(records, sel, months_available=_available(records))
    fig = long_trend_figure(result.periods, result.coverage, demo=True)
    assert fig.layout.meta["kind"] == "long_trend" and fig.layout.meta["census_change"] == "2020/21"
    assert any(s.type == "line" and str(s.x0).startswith("2020-04") for s in fig.layout.shapes)
    assert any(a.name == "census-change" for a in fig.layout.annotations)
    bars = [t for t in fig.data if (t.meta or {}).get("series") == "coverage"]
    assert len(bars) == 1
    hover = dict(zip([str(x)[:4] for x in bars[0].x], bars[0].hovertext, strict=True))
    assert "Kent Police: 6 of 12 months" in hover["2019"] and "missing" not in hover["2018"]
    assert_allclose(np.asarray(bars[0].y, float), [1.0, 18 / 24, 1.0, 1.0])
    year_points = [t for t in fig.data if (t.meta or {}).get("series") == "financial_year" and t.name == "Black"][0]
    assert list(year_points.marker.symbol) == ["circle", "circle-open", "circle", "circle"]
    ratio = long_trend_figure(result.periods, result.coverage, measure="ratio")
    assert ratio.layout.meta["measure"] == "ratio"
    empty = long_trend_figure(result.periods.iloc[:0], result.coverage.iloc[:0])
    assert empty.layout.meta.get("empty")


def test_the_long_view_page_shows_the_long_view(store_dir: Path) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    try:
        at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "dashboard.py"), default_timeout=180)
        at.query_params["page"] = "long-view"
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.title[0].value == "Long view"
        # the demo holds one financial year (2024/25): the chart or its explained empty state is there
        charts = [c for c in at.get("plotly_chart") if '"long_trend"' in c.proto.spec]
        assert charts
    finally:
        st.cache_data.clear()


def test_select_returns_the_records_themselves_when_nothing_is_left_out(records: pd.DataFrame) -> None:
    # speed at ten years (issue 11 section 3): selecting the whole store must not copy it
    whole = Selection.build("kent,leicestershire", MONTHS[0], MONTHS[-1])
    assert select(records, whole) is records
    part = Selection.build("kent", MONTHS[0], MONTHS[-1])
    chosen = select(records, part)
    assert chosen is not records and set(chosen["force"].astype(str)) == {"kent"}
    assert len(chosen) == int(records["force"].eq("kent").sum())


def test_the_rolling_trend_switches_census_where_the_official_series_did() -> None:
    # Oracle: the rolling rate of a window ending 2020-03 (2019/20) divides by Census 2011 residents, one ending
    # 2020-04 (2020/21) by Census 2021 residents (Home Office re-basing, March 2023): each equals the trend made
    # wholly on that Census at that month.
    import pandas as pd

    from analysis.selection import Selection
    from analysis.trend import by_period_census, trend
    from tests.synthetic_records import records_from_counts

    months = [f"{y}-{m:02d}" for y in (2019, 2020) for m in range(1, 13)]
    counts = pd.DataFrame([{"force": "kent", "month": m, "group": g, "n": n}
                           for m in months for g, n in (("Black", 20), ("White", 400))])
    records = records_from_counts(counts)
    made = {c: trend(records, Selection.build(["kent"], months[0], months[-1], census=c)) for c in ("2011", "2021")}
    spliced = by_period_census(made)
    for month, census in (("2020-03", "2011"), ("2020-04", "2021")):
        got = spliced.loc[spliced["month"].eq(month) & spliced["group"].eq("Black"), "rolling_rate"].iloc[0]
        want = made[census].loc[made[census]["month"].eq(month) & made[census]["group"].eq("Black"),
                                "rolling_rate"].iloc[0]
        assert got == want
    assert len(spliced) == len(made["2021"])


def test_each_census_needs_only_the_windows_it_serves() -> None:
    """The app makes each Census's trend over census_spans only: spliced, the same table as trends over the
    whole span (oracle), for two forces with a pooled row, a gap month and spans starting and ending on
    either side of the switch."""
    import numpy as np
    import pandas as pd

    from analysis.selection import Selection
    from analysis.trend import by_period_census, census_spans, trend
    from tests.synthetic_records import records_from_counts

    rng = np.random.default_rng(3)
    months = [f"{y}-{m:02d}" for y in (2018, 2019, 2020, 2021) for m in range(1, 13)]
    counts = pd.DataFrame([{"force": f, "month": m, "group": g, "n": int(rng.integers(1, 60))}
                           for f in ("kent", "essex") for m in months for g in ("Black", "White", "Asian")
                           if not (f == "essex" and m == "2019-07")])
    records = records_from_counts(counts)
    assert census_spans("2019-01", "2021-06") == {"2011": ("2019-01", "2020-03"), "2021": ("2019-05", "2021-06")}
    for start, end in (("2018-01", "2021-12"), ("2019-06", "2020-09"), ("2020-01", "2020-06")):
        def made(census: str, first: str, last: str) -> pd.DataFrame:
            return trend(records, Selection.build(["kent", "essex"], first, last, census=census))

        whole = by_period_census({c: made(c, start, end) for c in ("2011", "2021")})
        split = by_period_census({c: made(c, *span) for c, span in census_spans(start, end).items()})
        pd.testing.assert_frame_equal(split, whole)
