"""The app on stores built as users build them (CSV files imported by `python -m data import`): the real
archive files in ../shared when present, and a small fixture store of our own that reproduces each case.

Every headline number on screen must equal the analysis function for the same selection; a selection with
no published data shows what to fetch, never zeros; links in the command line's form are understood; the
report command shown in the README works. Oracles: analysis.rates.rates / disparity on the records the store
holds, restricted to the published forces exactly as the app documents (analysis.coverage).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analysis import views
from analysis.coverage import restrict_to_published
from analysis.rates import disparity, rates
from analysis.selection import Selection, select
from data.store import Store
from tests.store_fixtures import build_fixture_store, build_real_store

PROJECT = Path(__file__).resolve().parents[1]
DASHBOARD = str(PROJECT / "dashboard.py")


@pytest.fixture(scope="module")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fixture-store")
    return build_fixture_store(root / "store", root / "csv")


@pytest.fixture(scope="module")
def real_store(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path) -> Path:
    return build_real_store(tmp_path_factory.mktemp("real-store") / "store", shared_dir)


@pytest.fixture()
def use_store(monkeypatch: pytest.MonkeyPatch):
    def use(path: Path) -> Path:
        monkeypatch.setenv("STOPSEARCH_DATA_DIR", str(path))
        st.cache_data.clear()
        return path
    yield use
    st.cache_data.clear()


def _app(page: str = "overview", *, view: str | None = None, **params: str | list[str]) -> AppTest:
    at = AppTest.from_file(DASHBOARD, default_timeout=180)
    at.query_params["page"] = page
    if view is not None:
        at.session_state["disparity_view"] = view  # a tab of the Disparity page, as the user picks it
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def _metric(at: AppTest, label: str) -> str:
    for metric in at.metric:
        if metric.label == label:
            return metric.value
    raise AssertionError(f"no metric {label!r} in {[m.label for m in at.metric]}")


def _screen_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [w.value for w in at.warning]
    parts += [i.value for i in at.info] + [m.value for m in at.metric] + [c.value for c in at.code]
    return "\n".join(str(p) for p in parts)


def _oracle(store: Path, forces: list[str], start: str, end: str, **choices: object):
    """rates and disparity from the analysis functions, on the published forces of the selection."""
    selection = Selection.build(forces, start, end, **choices)
    selection = restrict_to_published(selection, Store(store).manifest()).selection
    records = select(Store(store).read(), selection)
    return rates(records, selection), disparity(records, selection), selection


def _assert_overview_equals_analysis(at: AppTest, store: Path, forces: list[str], start: str, end: str,
                                     group: str, **choices: object) -> None:
    assert not at.exception, [e.value for e in at.exception]
    rate_table, ratio_table, selection = _oracle(store, forces, start, end, **choices)
    reference = selection.reference
    ratio = views.ratio_headline(views.group_row(ratio_table, group))
    assert _metric(at, f"{group} vs {reference}: disparity ratio") == ratio.value
    assert _metric(at, f"{group}: searches per 1,000 a year") == views.rate_headline(
        views.group_row(rate_table, group)).value
    reference_value = views.rate_headline(views.group_row(rate_table, reference)).value
    assert reference_value != "n/a", "the reference group has its own rate"
    assert _metric(at, f"{reference}: searches per 1,000 a year") == reference_value


# ------------------------------------------------------------------------------ numbers on screen
SELECTIONS = [
    ("one force", {"forces": ["gloucestershire"]}, {}, "Black"),
    ("pooled", {"forces": ["gloucestershire", "durham"], "start": "2019-01", "end": "2019-06"}, {}, "Black"),
    ("detailed", {"forces": ["gloucestershire"], "level": "detailed"},
     {"level": "detailed", "reference": "White British"}, "Caribbean"),
    ("officer-defined", {"forces": ["gloucestershire"], "eth": "officer"}, {"ethnicity": "officer"}, "Black"),
]


@pytest.mark.parametrize(("name", "link", "choices", "group"), SELECTIONS, ids=[s[0] for s in SELECTIONS])
def test_overview_numbers_equal_the_analysis_on_a_fixture_store(fixture_store: Path, use_store, name: str,
                                                                 link: dict, choices: dict, group: str) -> None:
    use_store(fixture_store)
    at = _app(group=group, **link)
    start, end = at.selectbox(key="start").value, at.selectbox(key="end").value
    _assert_overview_equals_analysis(at, fixture_store, link["forces"], start, end, group, **choices)


def test_overview_numbers_equal_the_analysis_on_real_archive_files(real_store: Path, use_store) -> None:
    use_store(real_store)
    # Dorset and Wiltshire, 2020/21, detailed groups against White British (real published CSVs)
    at = _app(forces=["dorset", "wiltshire"], start="2020-04", end="2021-03", level="detailed", group="African")
    _assert_overview_equals_analysis(at, real_store, ["dorset", "wiltshire"], "2020-04", "2021-03", "African",
                                     level="detailed", reference="White British")
    at = _app(forces=["leicestershire"], start="2019-04", end="2020-03")
    _assert_overview_equals_analysis(at, real_store, ["leicestershire"], "2019-04", "2020-03", "Black")


# ------------------------------------------------------------------------------ missing data
@pytest.mark.parametrize("page", ["overview", "disparity", "outcomes", "map"])
def test_a_selection_with_no_published_month_says_what_to_fetch_never_zero(fixture_store: Path, use_store,
                                                                          page: str) -> None:
    use_store(fixture_store)
    at = _app(page, forces=["durham"], start="2019-07", end="2020-02")     # Durham stopped after 2019-06
    assert not at.exception
    text = _screen_text(at)
    assert "No stop-and-search data for Durham Constabulary in 2019-07 to 2020-02" in text
    assert "python -m data fetch --forces durham --from 2019-07 --to 2020-02" in text
    assert not at.metric, "no number is drawn for a selection with no data"
    assert not at.get("plotly_chart")


def test_the_met_outside_its_stored_year_is_an_empty_state_on_real_data(real_store: Path, use_store) -> None:
    use_store(real_store)
    at = _app(forces=["metropolitan"], start="2019-04", end="2020-03")   # the link
    assert not at.exception
    assert "No stop-and-search data for Metropolitan Police Service" in _screen_text(at)
    assert not any(m.value.startswith("0") for m in at.metric)


# ------------------------------------------------------------------------------ reference groups
def test_detailed_groups_offer_detailed_references_and_the_same_default_by_click_or_link(
        fixture_store: Path, use_store) -> None:
    use_store(fixture_store)
    by_link = _app(forces=["gloucestershire"], level="detailed")
    assert by_link.selectbox(key="ref").value == "White British"
    assert "White" not in by_link.selectbox(key="ref").options
    by_click = _app(forces=["gloucestershire"])
    by_click.radio(key="level").set_value("detailed").run()
    assert by_click.selectbox(key="ref").value == "White British"
    assert _metric(by_click, "White British: searches per 1,000 a year") != "n/a"


# ------------------------------------------------------------------------------ links
def test_a_comma_joined_force_list_is_understood_like_the_command_line(fixture_store: Path, use_store) -> None:
    use_store(fixture_store)
    at = _app(forces="durham,gloucestershire", start="2019-01", end="2019-06")
    assert at.multiselect(key="forces").value == ["durham", "gloucestershire"]
    _assert_overview_equals_analysis(at, fixture_store, ["durham", "gloucestershire"], "2019-01", "2019-06",
                                     "Black")
    assert not at.warning


def test_a_link_part_the_app_does_not_know_is_said_not_replaced_silently(fixture_store: Path, use_store) -> None:
    use_store(fixture_store)
    at = _app(forces=["gloucestershire", "atlantis"], ref="Martian")
    said = " ".join(w.value for w in at.warning)
    assert "'atlantis'" in said and "'Martian'" in said
    assert at.multiselect(key="forces").value == ["gloucestershire"]


# ------------------------------------------------------------------------------ trend
def _trend_charts(at: AppTest) -> list:
    return [c for c in at.get("plotly_chart") if json.loads(c.proto.spec).get("layout", {}).get("meta", {})
            .get("kind") == "trend"]


def test_the_trend_covers_every_stored_month_by_default(fixture_store: Path, use_store) -> None:
    use_store(fixture_store)
    at = _app("disparity", view="Trend", forces=["gloucestershire"])   # sidebar default: the latest 12 months
    assert not at.exception
    assert _trend_charts(at), "a trend is drawn"
    assert "2019-01 to 2020-02 (14 months, every month stored" in _screen_text(at)
    # the 9-record month is named beside the trend
    assert "Gloucestershire Constabulary 2019-09: 9 records" in _screen_text(at)


def test_a_trend_with_fewer_than_twelve_months_is_one_explained_empty_state(fixture_store: Path, use_store) -> None:
    use_store(fixture_store)
    at = _app("disparity", view="Trend", forces=["durham"], start="2019-01", end="2019-06")
    assert not at.exception
    notes = [i.value for i in at.info if "12 months" in i.value]
    assert len(notes) == 1 and "holds 6 months" in notes[0]
    assert not _trend_charts(at), "no empty trend panel"


# ------------------------------------------------------------------------------ the README's report command
def test_the_pooled_report_command_writes_a_report_and_a_missing_period_is_one_line(fixture_store: Path,
                                                                                   tmp_path: Path) -> None:
    env = {**os.environ, "STOPSEARCH_DATA_DIR": str(fixture_store)}
    ok = subprocess.run([sys.executable, "-m", "analysis", "report", "--forces", "durham,gloucestershire", "--from",
                         "2019-01", "--to", "2019-06", "--out", str(tmp_path / "pooled"), "--formats", "html"],
                        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=600)
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "pooled" / "report.html").is_file()
    missing = subprocess.run([sys.executable, "-m", "analysis", "report", "--forces", "durham", "--from", "2020-01",
                              "--to", "2020-02", "--out", str(tmp_path / "none"), "--formats", "html"],
                             cwd=PROJECT, env=env, capture_output=True, text=True, timeout=600)
    assert missing.returncode == 2
    errors = [line for line in missing.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "python -m data fetch --forces durham --from 2020-01 --to 2020-02" in errors[0]
    assert "Traceback" not in missing.stderr
    each = subprocess.run([sys.executable, "-m", "analysis", "report", "--forces", "all", "--each-force", "--from",
                           "2019-01", "--to", "2019-06", "--out", str(tmp_path / "each"), "--formats", "html"],
                          cwd=PROJECT, env=env, capture_output=True, text=True, timeout=600)
    assert each.returncode == 0, each.stderr
    assert "error:" not in each.stderr
    assert sorted(p.name for p in (tmp_path / "each").iterdir() if p.is_dir()) == ["durham", "gloucestershire"]


