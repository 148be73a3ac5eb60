"""The dashboard through streamlit.testing.v1.AppTest: every page, widgets by key, URL state, errors, data.

Each test starts with an empty store (STOPSEARCH_DATA_DIR, so the app opens on the demo data) and a
cleared st.cache_data. Oracles: the analysis functions themselves on the same selection.
"""
from __future__ import annotations

import base64
import json
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analysis.compare import compare
from analysis.rates import disparity, rates
from analysis.selection import Selection, select
from app import navigation
from data import schema
from data.demo import DEMO_LABEL, demo_records
from data.store import Store

PROJECT = Path(__file__).resolve().parents[1]
DASHBOARD = str(PROJECT / "dashboard.py")
PAGES = ("overview", "disparity", "long-view", "outcomes", "use-of-force", "compare", "map", "quality", "methods", "get-data")
TIMEOUT = 120


@pytest.fixture()
def fresh(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty store, no cached loads or tables, and no retry waits against an unreachable API."""
    st.cache_data.clear()
    yield store_dir
    st.cache_data.clear()


def _app(**params: str | list[str]) -> AppTest:
    at = AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def _no_problems(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [w.value for w in at.warning]
    parts += [i.value for i in at.info] + [t.value for t in at.title] + [s.value for s in at.success]
    return "\n".join(str(p) for p in parts)


def _metric(at: AppTest, label_start: str) -> str:
    for metric in at.metric:
        if metric.label.startswith(label_start):
            return metric.value
    raise AssertionError(f"no metric starting {label_start!r} in {[m.label for m in at.metric]}")


def _figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _figure(at: AppTest, kind: str) -> go.Figure:
    """The chart of one kind (fig.layout.meta['kind']), decoded back into a plotly Figure."""
    for chart in at.get("plotly_chart"):
        fig = pio.from_json(chart.proto.spec, skip_invalid=True)
        if (fig.layout.meta or {}).get("kind") == kind:
            return fig
    raise AssertionError(f"no {kind} chart on the page")


def _array(value: object) -> np.ndarray:
    """A Plotly spec array: a plain list, or the typed-array form {'dtype': 'f8', 'bdata': base64, 'shape'}."""
    if isinstance(value, dict) and "bdata" in value:
        out = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        return out.reshape([int(n) for n in str(value["shape"]).split(",")]) if value.get("shape") else out
    return np.asarray(value)


def _bars(fig: go.Figure) -> dict[str, float]:
    return {str(t.name): float(_array(t.y).astype(float)[0]) for t in fig.data if t.type == "bar"}


def _params(at: AppTest) -> dict[str, list[str]]:
    """The query string the app wrote (AppTest keeps it as key -> list of values)."""
    return {k: list(v) if isinstance(v, (list, tuple)) else [v] for k, v in at.query_params.items()}


# ------------------------------------------------------------------------------------------ opening
def test_opens_on_the_demo_data_labelled_and_writes_the_view_to_the_url(fresh: Path) -> None:
    at = _app()
    _no_problems(at)
    assert DEMO_LABEL in _texts(at)
    assert at.title[0].value == "Overview"
    assert _metric(at, "Searches of persons")
    assert _metric(at, "Black vs White: disparity ratio").endswith("x")
    assert not at.get("download_button")     # folded under the chart: built when opened, not before
    assert "Table and downloads" in [e.label for e in at.expander]
    at.session_state["overview_rates_more"] = True       # the user opens the fold
    at.run()
    assert len(at.get("download_button")) >= 4          # CSV, PNG, SVG, PDF beside the chart
    params = _params(at)
    assert "page" not in params          # the page is the address's path (/compare), not a query key
    for key in ("forces", "start", "end", "eth", "level", "ref", "legislation", "object", "age", "gender", "type"):
        assert key in params, key


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_error_and_says_demo(fresh: Path, page: str) -> None:
    at = _app(page=page)
    _no_problems(at)
    assert DEMO_LABEL in _texts(at)
    assert at.title, "every page has a title"
    assert at.title[0].value == navigation.BY_SLUG[page].title


# ------------------------------------------------------------------------------------------ numbers
def test_headline_numbers_equal_the_analysis_functions_and_follow_the_filters(fresh: Path) -> None:
    at = _app()
    start, end = at.selectbox(key="start").value, at.selectbox(key="end").value
    at.multiselect(key="forces").set_value(["kent", "essex"]).run()
    at.multiselect(key="legislation").set_value(["Misuse of Drugs Act s23"]).run()
    _no_problems(at)

    records = demo_records()
    selection = Selection.build(["kent", "essex"], start, end, filters={"legislation_group": ["Misuse of Drugs Act s23"]})
    expected = disparity(select(records, selection), selection)
    pooled = expected.loc[expected["force"].eq("ALL") & expected["group"].eq("Black")].iloc[0]
    assert _metric(at, "Black vs White: disparity ratio") == f"{pooled['ratio']:.2f}x"
    rate_table = rates(select(records, selection), selection)
    white = rate_table.loc[rate_table["force"].eq("ALL") & rate_table["group"].eq("White")].iloc[0]
    assert _metric(at, "White: searches per 1,000") == f"{white['rate_per_1000']:,.1f}"

    before = _metric(at, "Black vs White: disparity ratio")
    at.multiselect(key="legislation").set_value([]).run()
    assert _metric(at, "Black vs White: disparity ratio") != before
    assert _params(at)["forces"] == ["kent", "essex"]


def test_the_sentence_in_words_is_on_the_page_and_its_copy_button_is_built_when_asked(fresh: Path) -> None:
    # the sentence is page text; the code block with a copy button (its script costs the first page ~0.3 s in
    # the browser) is built only when its fold is opened, and holds the same sentence
    from analysis import views

    at = _app()
    start, end = at.selectbox(key="start").value, at.selectbox(key="end").value
    at.multiselect(key="forces").set_value(["kent", "essex"]).run()
    _no_problems(at)
    records = demo_records()
    selection = Selection.build(["kent", "essex"], start, end)
    table = disparity(select(records, selection), selection)
    rate_table = rates(select(records, selection), selection)
    pooled = table.loc[table["force"].eq("ALL") & table["group"].eq("Black")].iloc[0]
    sentence = views.headline_sentence(views.group_row(table, "Black"), views.group_row(rate_table, "Black"),
                                       views.group_row(rate_table, "White"), selection)
    assert f"were {pooled['ratio']:.1f} times as likely as White people" in sentence   # the ratio, by hand
    shown = [m.value.replace("\\", "") for m in at.markdown]   # page text, its Markdown escapes removed
    assert shown.count(sentence) == 1
    assert not at.code
    at.session_state["overview_sentence_fold"] = True
    at.run()
    _no_problems(at)
    assert [c.value for c in at.code] == [sentence]


def test_overview_sends_its_chart_before_working_out_the_numbers_drawn_above_it(fresh: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # the browser loads and runs its charting script (~0.9 s without a GPU) once the chart arrives: sent
    # first, that overlaps the server's work on the numbers; on screen the numbers stay above the chart
    from app import charts, tables

    built: list[str] = []
    real_chart, real_table = charts.rates, tables.table
    monkeypatch.setattr(charts, "rates", lambda *a, **k: built.append("chart") or real_chart(*a, **k))
    monkeypatch.setattr(tables, "table", lambda kind, *a, **k: built.append(kind) or real_table(kind, *a, **k))
    at = _app()
    _no_problems(at)
    assert built.index("chart") < built.index("disparity") and built.index("rates") < built.index("chart")

    def kinds(node: object) -> list[str]:
        found = [getattr(node, "type", "")]
        for child in getattr(node, "children", {}).values():
            found += kinds(child)
        return found

    shown = kinds(at.main)
    assert shown.index("metric") < shown.index("plotly_chart")


def test_officer_defined_ethnicity_shows_its_caveat(fresh: Path) -> None:
    at = _app()
    at.radio(key="eth").set_value("officer").run()
    _no_problems(at)
    assert "visual judgement" in _texts(at)
    assert at.radio(key="level").disabled


# ------------------------------------------------------------------------------------------ URL state
def test_a_link_restores_the_same_view(fresh: Path) -> None:
    link = {"page": "disparity", "forces": ["kent", "essex"], "start": "2024-06", "end": "2024-11", "eth": "self",
            "level": "detailed", "ref": "White British", "age": ["18-24"], "btp": "0"}
    at = _app(**link)
    _no_problems(at)
    assert at.title[0].value == "Disparity"
    assert at.multiselect(key="forces").value == ["kent", "essex"]
    assert at.selectbox(key="start").value == "2024-06"
    assert at.selectbox(key="end").value == "2024-11"
    assert at.radio(key="level").value == "detailed"
    assert at.selectbox(key="ref").value == "White British"
    assert at.multiselect(key="age").value == ["18-24"]
    # the app writes back the same view (and nothing it did not understand)
    written = _params(at)
    asked = {k: v for k, v in link.items() if k != "page"}     # the page is the path; AppTest has no path
    assert {k: written[k] for k in asked} == {k: v if isinstance(v, list) else [v] for k, v in asked.items()}
    again = _app(page="disparity", **written)
    assert again.title[0].value == "Disparity"
    assert [f["data"] for f in _figures(again)] == [f["data"] for f in _figures(at)]


def test_bad_values_in_a_link_fall_back_to_defaults(fresh: Path) -> None:
    at = _app(forces=["nowhere", "kent"], start="1999-01", end="not-a-month", eth="psychic", ref="Martian",
              page="no-such-page")
    _no_problems(at)
    assert at.multiselect(key="forces").value == ["kent"]
    assert (at.selectbox(key="start").value, at.selectbox(key="end").value) == ("2024-04", "2025-03")
    assert at.radio(key="eth").value == "self"
    assert at.selectbox(key="ref").value == "White"
    assert at.title[0].value == "Overview"
    # what the link asked for and the app could not show is said on the page, not silently replaced
    said = " ".join(w.value for w in at.warning)
    for asked in ("'nowhere'", "'1999-01'", "'psychic'", "'Martian'"):
        assert asked in said, asked


# ------------------------------------------------------------------------------------------ data
def test_store_data_replace_the_demo_and_are_never_mixed(fresh: Path) -> None:
    records = demo_records()
    store = Store(fresh)
    for month in ("2024-04", "2024-05"):
        part = records.loc[records["force"].eq("kent") & records["month"].eq(month)]
        store.write_month("kent", month, schema.coerce_raw(part), source="test")
    at = _app()
    _no_problems(at)
    text = _texts(at)
    assert DEMO_LABEL not in text
    assert "Local store" in text
    assert at.multiselect(key="forces").options == ["Kent Police"]
    assert (at.selectbox(key="start").value, at.selectbox(key="end").value) == ("2024-04", "2024-05")


def test_a_force_that_published_nothing_is_left_out_not_shown_as_zero(fresh: Path) -> None:
    records = demo_records()
    store = Store(fresh)
    for month in ("2024-04", "2024-05"):
        part = records.loc[records["force"].eq("kent") & records["month"].eq(month)]
        store.write_month("kent", month, schema.coerce_raw(part), source="test")
        store.record_not_published("surrey", month, source="test")
    at = _app(forces=["kent", "surrey"])
    _no_problems(at)
    assert "Surrey Police left out: no published month" in _texts(at)
    # the headline rates are Kent's alone (oracle: analysis.rates on Kent only), not diluted by Surrey's residents
    kent = Selection.build("kent", "2024-04", "2024-05")
    expected = rates(select(store.read(), kent), kent).set_index("group").loc["Black", "rate_per_1000"]
    assert f"{expected:.1f}" in _metric(at, "Black: searches per 1,000")


def test_unreachable_api_says_so_in_one_sentence_and_keeps_the_data(fresh: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:        # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("STOPSEARCH_API_URL", f"http://127.0.0.1:{port}/api/")
    at = _app(page="get-data")
    at.multiselect(key="fetch_forces").set_value(["kent"])
    at.button(key="fetch_go").click().run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert message.startswith("data.police.uk could not be reached") and message.count(". ") <= 1
    assert not (fresh / "stop_search").exists() or not any((fresh / "stop_search").iterdir())


def test_get_data_fetches_through_the_data_layer_and_switches_to_the_store(fresh: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.police_api_server import FakePoliceApi

    with FakePoliceApi() as api:
        monkeypatch.setenv("STOPSEARCH_API_URL", api.url)
        at = _app(page="get-data")
        at.multiselect(key="fetch_forces").set_value(["kent"])
        at.selectbox(key="fetch_start").set_value("2025-01")
        at.selectbox(key="fetch_end").set_value("2025-02")
        at.button(key="fetch_go").click().run()
        _no_problems(at)
    summary = [s.value for s in at.success] + [w.value for w in at.warning]
    assert any("force-months" in s and "ok" in s for s in summary), summary
    assert "Local store" in _texts(at)
    assert Store(fresh).manifest()["status"].eq("ok").sum() == 2


# ------------------------------------------------------------------------------------------ errors
def test_errors_show_one_line_never_a_traceback(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app import tables
    from data.errors import StoreError

    def broken(records: pd.DataFrame, selection: Selection) -> pd.DataFrame:
        raise ZeroDivisionError("internal detail that must not reach the page")

    monkeypatch.setitem(tables.KINDS, "compare", broken)
    at = _app(page="compare")
    assert not at.exception
    assert len(at.error) == 1 and "internal detail" not in at.error[0].value
    assert "server log" in at.error[0].value

    def data_problem(records: pd.DataFrame, selection: Selection) -> pd.DataFrame:
        raise StoreError("The store is damaged.", hint="Fetch again with --refresh.")

    st.cache_data.clear()
    monkeypatch.setitem(tables.KINDS, "compare", data_problem)
    at = _app(page="compare")
    assert not at.exception
    assert at.error[0].value == "The store is damaged. Fetch again with --refresh."


def test_a_force_without_a_meaningful_rate_says_why_instead_of_a_number(fresh: Path) -> None:
    at = _app(forces=["city-of-london"])
    _no_problems(at)
    for metric in at.metric:
        assert "nan" not in str(metric.value).lower()
    assert _metric(at, "Black vs White: disparity ratio") == "n/a"
    assert "resident" in _texts(at)                      # the reason: a tiny resident population


def test_choosing_a_force_on_compare_drills_the_whole_app_into_it(fresh: Path) -> None:
    at = _app(page="compare")
    _no_problems(at)
    at.selectbox(key="drill").set_value("west-midlands").run()
    _no_problems(at)
    assert at.title[0].value == "Overview"
    assert at.multiselect(key="forces").value == ["west-midlands"]
    # A page change completes the address in the browser (history.replaceState, one history entry per
    # click; AppTest has no browser): the view it writes holds the drilled force.
    assert at.session_state["_view_state"]["forces"] == ["west-midlands"]
    assert "West Midlands Police" in _texts(at)


# ------------------------------------------------------------------------------------------ charts
def test_charts_carry_the_analysis_numbers_and_follow_the_filters(fresh: Path) -> None:
    at = _app(forces=["kent", "essex"])
    start, end = at.selectbox(key="start").value, at.selectbox(key="end").value
    records = demo_records()

    def expected(filters: dict[str, list[str]]) -> dict[str, float]:
        selection = Selection.build(["kent", "essex"], start, end, filters=filters)
        table = rates(select(records, selection), selection)
        pooled = table.loc[table["force"].eq("ALL") & table["rate_per_1000"].notna()]
        return dict(zip(pooled["group"].astype(str), pooled["rate_per_1000"].astype(float), strict=True))

    shown = _bars(_figure(at, "rates"))
    assert shown.keys() == expected({}).keys()
    np.testing.assert_allclose([shown[g] for g in shown], [expected({})[g] for g in shown], rtol=1e-12)

    at.multiselect(key="age").set_value(["18-24"]).run()
    _no_problems(at)
    narrowed = _bars(_figure(at, "rates"))
    want = expected({"age_range": ["18-24"]})
    np.testing.assert_allclose([narrowed[g] for g in want], [want[g] for g in want], rtol=1e-12)
    assert narrowed != shown
    # every chart says it is demo data
    for spec in _figures(at):
        assert any(DEMO_LABEL in str(a.get("text", "")) for a in spec["layout"].get("annotations", [])), spec["layout"].get("meta")


def test_compare_page_plots_every_force_ratio_from_analysis_compare(fresh: Path) -> None:
    at = _app(page="compare")
    _no_problems(at)
    start, end = at.selectbox(key="start").value, at.selectbox(key="end").value
    fig = _figure(at, "compare")
    trace = fig.data[0]
    ids = [str(c[0]) if isinstance(c, (list, tuple, np.ndarray)) else str(c) for c in _array(trace.customdata)]
    shown = dict(zip(ids, _array(trace.x).astype(float), strict=True))
    records = demo_records()
    forces = at.multiselect(key="forces").options
    assert forces  # every force in the data is on the chart's selection
    from analysis import views

    selection = Selection.build(views.forces_in(records), start, end)
    table = compare(select(records, selection), selection)
    black = table.loc[table["group"].eq("Black") & table["ratio"].notna() & table["force"].ne("ALL")]
    want = dict(zip(black["force"].astype(str), black["ratio"].astype(float), strict=True))
    assert shown.keys() == want.keys()
    np.testing.assert_allclose([shown[f] for f in want], [want[f] for f in want], rtol=1e-12)
    assert _figure(at, "funnel").data
    league = next(d for d in at.dataframe if "Flag" in d.value.columns).value   # one row per force
    assert len(league) == len(table.loc[table["group"].eq("Black") & table["force"].ne("ALL")])
    assert league["Ratio"].iloc[0] == pytest.approx(max(want.values()))


def test_use_of_force_page_charts_stored_tables_not_the_demo(fresh: Path, shared_dir: Path) -> None:
    at = _app(page="use-of-force")
    _no_problems(at)
    assert at.selectbox(key="uof_year").value == "2024/25"  # the synthetic demo while nothing is stored
    assert _figure(at, "thorough").data                   # from the stop-and-search records themselves

    from data.use_of_force.commands import import_path

    tables = shared_dir / "data" / "use_of_force" / "home_office_tables"
    import_path(tables / "police-use-of-force-apr2019-mar2020-hosb3720-tables.ods", store_root=fresh)
    at = _app(page="use-of-force")
    _no_problems(at)
    assert at.selectbox(key="uof_year").value == "2019/20"
    assert at.selectbox(key="uof_year").options == ["2019/20"]  # stored data only: the demo year is gone
    fig = _figure(at, "use_of_force")
    assert fig.layout.meta["year"] == "2019/20" and fig.data
    assert "officer" in _texts(at)                        # unit and perception caveat beside the chart


def test_an_unreadable_store_says_why_and_still_offers_get_data(fresh: Path) -> None:
    records = demo_records()
    store = Store(fresh)
    part = records.loc[records["force"].eq("kent") & records["month"].eq("2024-04")]
    store.write_month("kent", "2024-04", schema.coerce_raw(part), source="test")
    store.path_for("kent", "2024-04").unlink()          # the manifest now promises a file that is gone
    at = _app()
    assert not at.exception
    assert len(at.error) == 1 and "kent 2024-04" in at.error[0].value and "Traceback" not in at.error[0].value
    assert at.title[0].value == "Get data"
    assert DEMO_LABEL not in _texts(at)                  # never falls back to the demo behind the user's back


def test_use_of_force_page_on_an_empty_store_charts_the_synthetic_demo(fresh: Path) -> None:
    from analysis.use_of_force import table_from_reports
    from data import reference_data
    from data.demo import DEMO_SOURCE
    from data.demo_use_of_force import demo_use_of_force_reports

    at = _app(page="use-of-force")
    _no_problems(at)
    texts = _texts(at)
    assert DEMO_LABEL in texts and "No use-of-force data" not in texts
    assert at.selectbox(key="uof_year").options == ["2024/25"]
    fig = _figure(at, "use_of_force")
    assert fig.layout.meta["year"] == "2024/25" and fig.layout.meta["force"] == "ALL"
    assert DEMO_LABEL in json.dumps(fig.to_plotly_json()["layout"], default=str)  # the chart's demo mark
    # oracle: the same selection (every force, pooled, reference White) through the table builder
    want = table_from_reports(demo_use_of_force_reports(), forces=reference_data.resolve_forces("all"),
                              year="2024/25", pooled=True, reference="White", source=DEMO_SOURCE)
    want = want.loc[want["force"].eq("ALL") & np.isfinite(want["share"].to_numpy(float))]
    plotted = {str(t.name): _array(t.x).astype(float) for t in fig.data if t.type == "scatter"}
    assert set(plotted) == set(want["group"])
    for group, shares in plotted.items():
        np.testing.assert_allclose(shares, want.loc[want["group"].eq(group), "share"].to_numpy(float), rtol=1e-9)
    assert plotted["Black"][0] > plotted["White"][0]      # compliant handcuffing, the published order


def test_disparity_builds_only_the_chosen_tab(fresh: Path) -> None:
    # four Plotly charts at once took the browser ~0.6 s to draw: a tab's charts are sent when it is chosen
    at = _app(page="disparity")
    _no_problems(at)
    assert [t.label for t in at.tabs] == ["Rates and ratios", "Trend", "Search mix"]
    kinds = [f["layout"]["meta"]["kind"] for f in _figures(at)]
    assert sorted(kinds) == ["disparity", "rates"], kinds
    for view, kind in (("Trend", "trend"), ("Search mix", "mix")):
        at.session_state["disparity_view"] = view
        at.run()
        _no_problems(at)
        assert [f["layout"]["meta"]["kind"] for f in _figures(at)] == [kind], view


def test_folded_tables_are_built_when_opened(fresh: Path) -> None:
    # a folded table is not sent to the browser: opening the fold reruns the page and shows it
    from analysis.views import QUALITY_LABELS

    header = QUALITY_LABELS["share_no_location"]
    at = _app(page="quality")
    at.session_state["quality_view"] = "Missing fields"
    at.run()
    _no_problems(at)
    assert "Missing fields as a table" in [e.label for e in at.expander]
    assert not [d for d in at.dataframe if header in d.value.columns]
    at.session_state["quality_missing_table_fold"] = True
    at.run()
    _no_problems(at)
    assert [d for d in at.dataframe if header in d.value.columns]


def test_data_quality_builds_only_the_chosen_tab_and_keeps_the_store_check_in_view(fresh: Path) -> None:
    at = _app(page="quality")
    _no_problems(at)
    assert [t.label for t in at.tabs] == ["Coverage", "Missing fields", "Self- vs officer-defined"]
    assert [f["layout"]["meta"]["kind"] for f in _figures(at)] == ["coverage"]
    texts = " ".join(m.value for m in at.markdown) + " ".join(t.value for t in at.subheader)
    assert "Store health" in texts and "Labels no mapping table knows" in texts
    for view, kind in (("Missing fields", "quality"), ("Self- vs officer-defined", "agreement")):
        at.session_state["quality_view"] = view
        at.run()
        _no_problems(at)
        assert [f["layout"]["meta"]["kind"] for f in _figures(at)] == [kind], view
