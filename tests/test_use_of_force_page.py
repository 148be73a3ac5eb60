"""The Use of force page on Home Office tables (issue 9, defect 1): force figures in their own unit, handcuffing
first, national figures never shown under a force's name, the page's year deciding what is shown.

Two stores: a project fixture (tests/fixtures/use_of_force: rows of the published 2017/18 and 2019/20 ODS tables
for the Met, Kent and City of London, in the importer's tidy form) so the tests run without ../shared, and the
real ODS files from ../shared (skipped when absent). Oracles: the published Met figures quoted in issue 9
(compliant handcuffing 2019/20: Black 26.4, White 7.8 per 1,000 residents), hand calculations from the table
counts, scipy's relative_risk, and analysis.use_of_force.use_of_force_table for the same selection.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest
import streamlit as st
from scipy.stats.contingency import relative_risk
from streamlit.testing.v1 import AppTest

from analysis.use_of_force import use_of_force_table
from data.demo import DEMO_LABEL
from data.use_of_force.store import UseOfForceStore

PROJECT = Path(__file__).resolve().parents[1]
DASHBOARD = str(PROJECT / "dashboard.py")
FIXTURES = PROJECT / "tests" / "fixtures" / "use_of_force"
ODS = {"2017/18": "police-use-of-force-apr2017-mar2018-hosb3018-tables.ods",
       "2019/20": "police-use-of-force-apr2019-mar2020-hosb3720-tables.ods"}
TIMEOUT = 180
# Census 2021 residents of the Met area (data/reference, as in the table): Black 1,188,137, White 4,725,217.
# Table_16 2019/20, Metropolitan Police: compliant handcuffing Black 31,405, White 36,683 uses.
MET_BLACK_USES, MET_BLACK_RESIDENTS = 31_405, 1_188_137
MET_WHITE_USES, MET_WHITE_RESIDENTS = 36_683, 4_725_217


def _write_fixture(root: Path) -> None:
    store = UseOfForceStore(root)
    for year in ("2017/18", "2019/20"):
        slug = year.replace("/", "-")
        parts = {part: pd.read_csv(FIXTURES / f"{slug}.{part}.csv", dtype={"year": str, "force": str})
                 for part in ("tactics", "incidents")}
        store.write("home_office_tables", year, parts, source=f"tests/fixtures/use_of_force ({year})")


@pytest.fixture(params=["fixture", "real"])
def uof_store(request: pytest.FixtureRequest, store_dir: Path) -> Path:
    """A store holding both years of Home Office tables: the project fixture, or the real ODS from ../shared."""
    st.cache_data.clear()
    if request.param == "fixture":
        _write_fixture(store_dir)
    else:
        from data.use_of_force.commands import import_path

        shared = request.getfixturevalue("shared_dir")
        for name in ODS.values():
            import_path(shared / "data" / "use_of_force" / "home_office_tables" / name, store_root=store_dir)
    yield store_dir
    st.cache_data.clear()


def _app(**params: str | list[str]) -> AppTest:
    at = AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def _metric(at: AppTest, label: str) -> str:
    for metric in at.metric:
        if metric.label == label:
            return metric.value
    raise AssertionError(f"no metric {label!r} in {[m.label for m in at.metric]}")


def _array(value: object) -> np.ndarray:
    """A Plotly spec array: a plain list, or the typed-array form {'dtype': 'f8', 'bdata': base64, 'shape'}."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
    return np.asarray(value)


def _figures(at: AppTest) -> list:
    return [pio.from_json(chart.proto.spec, skip_invalid=True) for chart in at.get("plotly_chart")]


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [w.value for w in at.warning]
    parts += [i.value for i in at.info] + [s.value for s in at.subheader] + [t.value for t in at.title]
    return "\n".join(str(p) for p in parts)


def _row(table: pd.DataFrame, force: str, tactic: str, group: str) -> pd.Series:
    return table.loc[table["force"].eq(force) & table["tactic"].eq(tactic) & table["group"].eq(group)].iloc[0]


# ------------------------------------------------------------------------------------------ the analysis
def test_met_handcuffing_rates_and_rate_ratio_match_the_published_figures(uof_store: Path) -> None:
    table = use_of_force_table("metropolitan", "2019/20", store_root=uof_store)
    black = _row(table, "metropolitan", "compliant_handcuffing", "Black")
    white = _row(table, "metropolitan", "compliant_handcuffing", "White")
    # issue 9: "Met compliant handcuffing: Black 26.4, White 7.8 per 1,000 residents"
    assert round(black["per_1000_residents"], 1) == 26.4 and round(white["per_1000_residents"], 1) == 7.8
    assert black["per_1000_residents"] == pytest.approx(MET_BLACK_USES / MET_BLACK_RESIDENTS * 1000, rel=1e-12)
    # oracle: scipy's relative risk with residents as the totals (the Katz log interval)
    rr = relative_risk(MET_BLACK_USES, MET_BLACK_RESIDENTS, MET_WHITE_USES, MET_WHITE_RESIDENTS)
    ci = rr.confidence_interval(0.95)
    np.testing.assert_allclose([black["rate_ratio"], black["rate_ratio_ci_low"], black["rate_ratio_ci_high"]],
                               [rr.relative_risk, ci.low, ci.high], rtol=1e-10)
    assert white["rate_ratio"] == 1.0 and np.isnan(white["rate_ratio_ci_low"])
    assert black["area"] == "Metropolitan Police Service"
    assert np.isnan(_row(table, "metropolitan", "compliant_handcuffing", "Not stated")["rate_ratio"])


def test_the_view_names_national_figures_england_and_wales_never_the_force(uof_store: Path) -> None:
    from analysis import use_of_force_views as uofv

    def table_for(forces: str | tuple[str, ...]) -> pd.DataFrame:
        return use_of_force_table(forces if isinstance(forces, str) else list(forces), "2017/18",
                                  store_root=uof_store)

    view = uofv.choose_view(table_for, ("metropolitan",), "2017/18", selected="Metropolitan Police Service")
    assert view.national_only and view.area == "England and Wales"
    assert set(view.rows["force"]) == {"ALL"} and set(view.rows["area"]) == {"England and Wales"}
    assert "not published" in view.notice and "not for Metropolitan Police Service" in view.notice
    national = use_of_force_table("all", "2017/18", store_root=uof_store)
    want = _row(national, "ALL", "compliant_handcuffing", "Black")
    assert uofv.rate_headline(view.rows, "compliant_handcuffing", "Black",
                              count_unit=view.count_unit).value == f"{want['per_1000_residents']:.1f}"

    later = uofv.choose_view(lambda f: use_of_force_table(f if isinstance(f, str) else list(f), "2019/20",
                                                          store_root=uof_store),
                             ("metropolitan",), "2019/20", selected="Metropolitan Police Service")
    assert not later.national_only and later.area == "Metropolitan Police Service" and not later.notice
    assert later.count_unit == "tactic uses" and later.measures[0] == "per_1000_residents"
    assert "share" not in later.measures          # force tables give no per-group report totals


def test_a_force_without_figures_gets_an_explained_empty_view_not_zero(uof_store: Path) -> None:
    from analysis import use_of_force_views as uofv

    view = uofv.choose_view(lambda f: use_of_force_table(f if isinstance(f, str) else list(f), "2019/20",
                                                         store_root=uof_store),
                            ("btp",), "2019/20", selected="British Transport Police")
    assert view.empty and "British Transport Police" in view.notice and "no force x ethnicity table" in view.notice
    headline = uofv.rate_headline(view.rows if len(view.rows) else pd.DataFrame(
        columns=["tactic", "group"]), "compliant_handcuffing", "Black", count_unit="uses")
    assert headline.value == "n/a"


def test_per_force_table_has_every_force_and_keeps_missing_cells_empty(uof_store: Path) -> None:
    from analysis import use_of_force_views as uofv

    table = use_of_force_table("all", "2019/20", store_root=uof_store)
    per_force = uofv.forces_table(table, "compliant_handcuffing", group="Black", reference="White")
    met = per_force.loc[per_force["force"].eq("metropolitan")].iloc[0]
    assert met["Black per 1,000"] == pytest.approx(26.43, abs=0.005) and met["White per 1,000"] == 7.76
    assert met["Black uses"] == MET_BLACK_USES
    city = per_force.loc[per_force["force"].eq("city-of-london")].iloc[0]
    assert np.isnan(city["Black per 1,000"]) and "resident" in city["Note"]   # no meaningful residents: no rate
    assert "ALL" not in set(per_force["force"])


def test_the_figure_plots_rates_where_the_source_has_no_shares(uof_store: Path) -> None:
    from analysis.figures import use_of_force_figure

    table = use_of_force_table("metropolitan", "2019/20", store_root=uof_store)
    empty = use_of_force_figure(table)                   # shares: the force tables have none
    assert not empty.data
    fig = use_of_force_figure(table, measure="per_1000_residents",
                              tactics=("compliant_handcuffing", "non_compliant_handcuffing"))
    plotted = {t.name: np.asarray(t.x, float) for t in fig.data}
    assert plotted["Black"][0] == pytest.approx(MET_BLACK_USES / MET_BLACK_RESIDENTS * 1000)
    assert "Metropolitan Police Service" in fig.layout.title.text and "per 1,000 residents" in fig.layout.xaxis.title.text


# ------------------------------------------------------------------------------------------ the page
def test_use_of_force_page_shows_met_handcuffing_per_1000_residents(uof_store: Path) -> None:
    at = _app(page="use-of-force", forces="metropolitan", uof_year="2019/20")
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    table = use_of_force_table("metropolitan", "2019/20", store_root=uof_store)
    black = _row(table, "metropolitan", "compliant_handcuffing", "Black")
    white = _row(table, "metropolitan", "compliant_handcuffing", "White")
    assert _metric(at, "Compliant handcuffing: Black per 1,000") == f"{black['per_1000_residents']:.1f}" == "26.4"
    assert _metric(at, "Compliant handcuffing: White per 1,000") == f"{white['per_1000_residents']:.1f}" == "7.8"
    assert _metric(at, "Compliant handcuffing: Black vs White") == f"{black['rate_ratio']:.2f}x"
    nc = _row(table, "metropolitan", "non_compliant_handcuffing", "Black")
    assert _metric(at, "Non-compliant handcuffing: Black per 1,000") == f"{nc['per_1000_residents']:.1f}"
    texts = _texts(at)
    assert "Handcuffing by perceived ethnicity: Metropolitan Police Service, 2019/20" in texts
    assert "tactic uses per 1,000 residents" in texts        # the unit is said
    assert "England and Wales" not in [s.value for s in at.subheader][0]
    figures = _figures(at)
    dump = json.dumps([f.to_plotly_json()["layout"] for f in figures], default=str)
    assert "No data for this selection" not in dump and "No share" not in dump
    first = figures[0]                                        # handcuffing is the first thing the page answers
    assert first.layout.meta["kind"] == "use_of_force_handcuffing"
    assert first.layout.meta["measure"] == "per_1000_residents" and first.layout.meta["force"] == "metropolitan"
    plotted = {t.name: _array(t.x).astype(float) for t in first.data}
    assert plotted["Black"] == pytest.approx([black["per_1000_residents"], nc["per_1000_residents"]])
    # real Home Office figures beside the synthetic stop-and-search demo: never marked as demo, and their
    # subtitle names the use-of-force year, not the stop-and-search period (caption under each chart title)
    for fig in figures:
        if str(fig.layout.meta.get("kind", "")).startswith("use_of_force"):
            layout = json.dumps(fig.to_plotly_json()["layout"], default=str)
            assert DEMO_LABEL not in layout, fig.layout.title.text
    assert "Metropolitan Police Service; use of force 2019/20 (financial year" in _texts(at)
    forces = next(f for f in figures if f.layout.meta.get("kind") == "use_of_force_forces")
    assert len(_array(forces.data[0].x)) >= 2                          # one point per force with a ratio


def test_use_of_force_page_labels_2017_18_national(uof_store: Path) -> None:
    at = _app(page="use-of-force", forces="metropolitan", uof_year="2017/18")
    assert not at.exception, [e.value for e in at.exception]
    national = use_of_force_table("all", "2017/18", store_root=uof_store)
    black = _row(national, "ALL", "compliant_handcuffing", "Black")
    assert _metric(at, "Compliant handcuffing: Black per 1,000") == f"{black['per_1000_residents']:.1f}"
    subheaders = [s.value for s in at.subheader]
    assert subheaders[0] == "Handcuffing by perceived ethnicity: England and Wales, 2017/18"
    assert not any("Metropolitan" in s for s in subheaders)
    warning = " ".join(w.value for w in at.warning)
    assert "not published" in warning and "not for Metropolitan Police Service" in warning
    for fig in _figures(at):
        title = fig.layout.title.text or ""
        assert "Metropolitan" not in title, title
    assert "Force figures by ethnicity are not published for 2017/18" in _texts(at)


def test_the_pages_year_not_the_stop_search_period_decides(uof_store: Path) -> None:
    at = _app(page="use-of-force", forces="metropolitan")
    assert at.selectbox(key="uof_year").value == "2019/20"            # newest stored year by default
    at.selectbox(key="uof_year").set_value("2017/18").run()
    assert [s.value for s in at.subheader][0].startswith("Handcuffing by perceived ethnicity: England and Wales")
    at.selectbox(key="uof_year").set_value("2019/20").run()
    assert _metric(at, "Compliant handcuffing: Black per 1,000") == "26.4"


def test_share_of_uses_is_drawn_against_share_of_residents(uof_store: Path) -> None:
    from analysis.figures import use_of_force_figure

    table = use_of_force_table("metropolitan", "2019/20", store_root=uof_store)
    fig = use_of_force_figure(table, measure="group_share", tactics=("compliant_handcuffing",))
    dots = {t.meta["group"]: float(np.asarray(t.x, float)[0]) for t in fig.data if t.meta["measure"] == "group_share"}
    marks = {t.meta["group"]: float(np.asarray(t.x, float)[0]) for t in fig.data
             if t.meta["measure"] == "resident_share"}
    # hand calculation: 31,405 Black uses of 88,563 compliant-handcuffing uses in the Met (all groups, Not
    # stated included); 1,188,137 Black of 8,791,152 residents in the five groups (Census 2021)
    assert dots["Black"] == pytest.approx(MET_BLACK_USES / 88_563, rel=1e-12)
    assert marks["Black"] == pytest.approx(MET_BLACK_RESIDENTS / 8_791_152, rel=1e-12)
    assert "Not stated" in dots and "Not stated" not in marks     # no residents are 'not stated'


def test_forces_come_from_the_sidebar_not_from_the_stop_search_coverage(uof_store: Path) -> None:
    from data.store import Store
    from tests.synthetic_records import records_from_counts

    # stop-and-search records: Kent in 2024-04 only, the Met in 2024-05 only
    store = Store(uof_store)
    for force, month in (("kent", "2024-04"), ("metropolitan", "2024-05")):
        records = records_from_counts(pd.DataFrame({"force": [force] * 2, "month": [month] * 2,
                                                    "group": ["Black", "White"], "n": [5, 20]}))
        store.write_month(force, month, records, source="test")
    # the period 2024-05 leaves Kent out of the stop-and-search selection; use of force keeps both forces
    at = _app(page="use-of-force", forces=["kent", "metropolitan"], start="2024-05", end="2024-05",
              uof_year="2019/20")
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.subheader][0] == ("Handcuffing by perceived ethnicity: Kent Police and Metropolitan Police Service pooled, 2019/20")
    pooled = use_of_force_table(["kent", "metropolitan"], "2019/20", store_root=uof_store)
    black = _row(pooled, "ALL", "compliant_handcuffing", "Black")
    assert _metric(at, "Compliant handcuffing: Black per 1,000") == f"{black['per_1000_residents']:.1f}"
    # oracle by hand: pooled uses / pooled residents (Met 31,405 + Kent uses; Met 1,188,137 + Kent residents)
    kent = _row(use_of_force_table("kent", "2019/20", store_root=uof_store), "kent", "compliant_handcuffing", "Black")
    assert black["per_1000_residents"] == pytest.approx(
        (MET_BLACK_USES + kent["count"]) / (MET_BLACK_RESIDENTS + kent["population"]) * 1000, rel=1e-12)


def test_england_and_wales_rates_divide_by_every_resident_of_england_and_wales(uof_store: Path) -> None:
    table = use_of_force_table("all", "2019/20", store_root=uof_store)
    national = table.loc[table["force"].eq("ALL") & table["tactic"].eq("compliant_handcuffing")]
    assert set(national["area"]) == {"England and Wales"}
    # ONS Census 2021: 59,597,542 usual residents in England and Wales (the force tables add small noise:
    # they sum to 59,597,578, ../shared/DATA.md). City of London's residents are in: its uses are counted.
    assert national["population"].sum() == pytest.approx(59_597_542, abs=100)
    black = national.loc[national["group"].eq("Black")].iloc[0]
    # Table_4 2019/20: compliant handcuffing in 39,083 reports with Black subjects
    assert black["count"] == 39_083
    assert black["per_1000_residents"] == pytest.approx(39_083 / black["population"] * 1000, rel=1e-12)


def test_record_level_open_data_shows_shares_of_officer_reports(store_dir: Path) -> None:
    from data.use_of_force.commands import import_path
    from tests.test_use_of_force_records import write_open_data

    st.cache_data.clear()
    import_path(write_open_data(store_dir / "open.xlsx", year="2022/23"), store_root=store_dir)
    at = _app(page="use-of-force", forces="kent", uof_year="2022/23")
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="uof_measure").value == "share"       # record-level: shares of reports by default
    assert at.radio(key="uof_measure").options == ["Per 1,000 residents", "Share of uses vs share of residents",
                                                   "Share of officer reports"]
    texts = _texts(at)
    assert "Unit: officer reports; share of officer reports" in texts
    tactics = next(f for f in _figures(at) if f.layout.meta.get("kind") == "use_of_force")
    assert tactics.layout.meta["measure"] == "share" and tactics.layout.meta["area"] == "Kent Police"
    shares = {t.name: _array(t.x).astype(float) for t in tactics.data}
    # by hand (tests/test_use_of_force_records.kent_reports): compliant handcuffing in 9 of 20 Black and
    # 10 of 40 White reports; the first tactic row is compliant handcuffing
    assert shares["Black"][0] == pytest.approx(9 / 20) and shares["White"][0] == pytest.approx(10 / 40)
    table = use_of_force_table("kent", "2022/23", store_root=store_dir)
    black = _row(table, "kent", "compliant_handcuffing", "Black")
    assert _metric(at, "Compliant handcuffing: Black per 1,000") == f"{black['per_1000_residents']:.1f}"
    st.cache_data.clear()
