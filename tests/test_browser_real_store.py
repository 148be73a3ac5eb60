"""The dashboard in headless Chromium on a store built by `data import` (fixture CSVs; ../shared's archive
files too when present): the selection survives moving between pages, Back undoes a page change and a
filter change in one press, a comma-joined link works, a click on the forest plot drills in, and the
numbers drawn equal the analysis functions. Screenshots of every page go to artifacts/screenshots/real/.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from analysis import views
from analysis.coverage import restrict_to_published
from analysis.rates import disparity
from analysis.selection import Selection, select
from data.store import Store
from tests.store_fixtures import build_fixture_store, build_real_store
from tests.test_dashboard_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PAGES,
    _free_port,
    _metric_values,
    _screenshot,
    _settle,
    _wait_for_page,
)

PROJECT = Path(__file__).resolve().parents[1]
SHOTS = PROJECT / "artifacts" / "screenshots" / "real"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) is not installed"),
]


def _serve(store: Path, log: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "STOPSEARCH_DATA_DIR": str(store), "STOPSEARCH_API_URL": "http://127.0.0.1:9/api/",
           "STOPSEARCH_PREFETCH": "1"}  # as a user runs it (tests/conftest.py turns it off in-process)
    with log.open("w") as out:
        # started as `bash dev.sh run` starts it: `python -m app` is `streamlit run dashboard.py` with the
        # first page's imports under way while the browser loads (app.warm_up)
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "--server.port", str(port),
             "--server.headless", "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=PROJECT, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                        if reply.status == 200:
                            break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not start (see {log})")
                time.sleep(0.3)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser-fixture")
    return build_fixture_store(root / "store", root / "csv")


@pytest.fixture(scope="module")
def server(fixture_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _serve(fixture_store, tmp_path_factory.mktemp("log") / "streamlit.log")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


def _open(browser: object, url: str, *, expect: str | None = None) -> object:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    _wait_for_page(page)
    if expect:
        page.wait_for_selector(expect, timeout=90_000)
        _settle(page)
    return page


METRICS = '[data-testid="stMetricValue"]'


def _metrics_after(page: object) -> list[str]:
    page.wait_for_selector(METRICS, timeout=90_000)
    _settle(page)
    return _metric_values(page)


def _nav(page: object, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    _settle(page)
    page.wait_for_selector(f'[data-testid="stMain"] h1:has-text("{title}")', timeout=90_000)
    _settle(page)


def _back(page: object) -> None:
    page.go_back()
    _settle(page)


def _title(page: object) -> str:
    return page.locator('[data-testid="stMain"] h1').first.inner_text().strip()


def _choose(page: object, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label).first.click()
    page.get_by_role("option", name=option, exact=True).click()
    _settle(page)


def _selected(page: object, label: str) -> str:
    return page.get_by_role("combobox", name=label).first.input_value().strip()


def test_the_compared_group_survives_moving_between_pages(server: str, browser: object) -> None:
    page = _open(browser, f"{server}/?forces=gloucestershire")
    _choose(page, "Group compared with the reference", "Mixed")
    assert "Mixed vs White: disparity ratio" in page.inner_text("body")
    _nav(page, "Compare forces")
    assert _selected(page, "Group compared with the reference") == "Mixed"
    _nav(page, "Outcomes")
    assert _selected(page, "Group compared with the reference") == "Mixed"
    _nav(page, "Overview")
    assert "Mixed vs White: disparity ratio" in page.inner_text("body")
    page.close()


def test_back_undoes_a_page_change_and_a_filter_change_in_one_press(server: str, browser: object) -> None:
    page = _open(browser, f"{server}/?forces=gloucestershire", expect=METRICS)
    before = _metric_values(page)
    _nav(page, "Compare forces")
    _back(page)
    assert _title(page) == "Overview"
    assert _metrics_after(page) == before
    # a filter change in the sidebar, then Back: the earlier view returns, Forward brings the change back
    _choose(page, "Reference group", "Asian")
    changed = _metrics_after(page)
    assert changed != before and "ref=Asian" in page.url
    _back(page)
    assert _metrics_after(page) == before and "ref=White" in page.url
    page.go_forward()
    _settle(page)
    assert _metrics_after(page) == changed
    page.close()


def test_a_comma_joined_link_shows_the_analysis_ratio(server: str, browser: object, fixture_store: Path) -> None:
    page = _open(browser, f"{server}/?forces=durham,gloucestershire&start=2019-01&end=2019-06", expect=METRICS)
    selection = Selection.build(["durham", "gloucestershire"], "2019-01", "2019-06")
    selection = restrict_to_published(selection, Store(fixture_store).manifest()).selection
    table = disparity(select(Store(fixture_store).read(), selection), selection)
    expected = views.ratio_headline(views.group_row(table, "Black")).value
    assert expected in _metric_values(page)
    assert "Durham Constabulary" in page.locator('[data-testid="stSidebar"]').inner_text()
    page.close()


def test_every_page_on_the_store_draws_without_error_and_is_screenshotted(server: str, browser: object) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for slug in PAGES:
        path = "" if slug == "overview" else slug          # the first page is the app's root address
        page = _open(browser, f"{server}/{path}?forces=gloucestershire&start=2019-03&end=2020-02")
        body = page.inner_text("body")
        assert "Traceback" not in body and "Something went wrong" not in body, slug
        assert "Page not found" not in body, slug
        _screenshot(page, SHOTS / f"fixture-{slug}.png")
        page.close()


@pytest.fixture(scope="module")
def real_server(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = build_real_store(tmp_path_factory.mktemp("browser-real") / "store", shared_dir)
    yield from _serve(store, tmp_path_factory.mktemp("log-real") / "streamlit.log")


def test_every_page_on_real_archive_files_is_screenshotted(real_server: str, browser: object) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for slug in PAGES:
        path = "" if slug == "overview" else slug
        page = _open(browser, f"{real_server}/{path}?forces=dorset&forces=wiltshire&start=2020-04&end=2021-03")
        body = page.inner_text("body")
        assert "Traceback" not in body and "Something went wrong" not in body, slug
        assert "Page not found" not in body, slug
        _screenshot(page, SHOTS / f"real-{slug}.png")
        page.close()
    page = _open(browser, f"{real_server}/?forces=metropolitan&start=2019-04&end=2020-03")
    body = page.inner_text("body")
    assert "No stop-and-search data for Metropolitan Police Service" in body
    assert not _metric_values(page)
    _screenshot(page, SHOTS / "real-missing-period.png")
    page.close()


def test_a_click_on_a_force_in_the_forest_plot_drills_the_app_into_it(server: str, browser: object) -> None:
    page = _open(browser, f"{server}/compare?start=2019-01&end=2019-06", expect=".js-plotly-plot")
    forest = page.locator(".js-plotly-plot").first
    names = page.evaluate("""() => {
        const plot = document.querySelectorAll('.js-plotly-plot')[0];
        return plot.data.filter(t => t.type === 'scatter' && t.mode && t.mode.includes('markers'))
            .map(t => [t.name, (t.customdata || []).map(c => Array.isArray(c) ? c[0] : c)]);
    }""")
    assert names, "the forest plot has force markers"
    point = forest.locator(".scatterlayer .trace .points path").first
    point.click(force=True)
    _settle(page)
    page.wait_for_selector('[data-testid="stMain"] h1:has-text("Overview")', timeout=90_000)
    _settle(page)
    chosen = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').first.inner_text()
    assert "Durham Constabulary" in chosen or "Gloucestershire Constabulary" in chosen
    assert "forces=" in page.url and ("forces=durham" in page.url or "forces=gloucestershire" in page.url)
    _back(page)
    assert _title(page) == "Compare forces"
    page.wait_for_selector(".js-plotly-plot .scatterlayer", timeout=90_000)
    _settle(page)
    # the click went with the drill: back on Compare, no force is left selected (plotly would dim the rest)
    selected = page.evaluate("""() => document.querySelectorAll('.js-plotly-plot')[0].data
        .map(t => t.selectedpoints === undefined || t.selectedpoints === null ? null : Array.from(t.selectedpoints))""")
    assert all(s is None for s in selected), selected
    page.close()


def test_the_force_map_draws_offline_and_a_click_on_a_force_shows_its_districts(server: str, browser: object) -> None:
    requested: list[str] = []
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{server}/map?forces=durham,gloucestershire&start=2019-01&end=2019-06")
    _wait_for_page(page)
    page.wait_for_selector(".js-plotly-plot .choroplethlayer path", timeout=90_000)
    _settle(page)
    # drawn in SVG from the project's boundaries: plotly fetched no world topojson (nor anything else) from
    # outside the app's own server, and showed no error in place of the map
    outside = [url for url in requested if not url.startswith((server, "data:", "blob:"))]
    assert not outside, outside
    body = page.inner_text("body")
    assert "topojson" not in body and "Traceback" not in body
    traces = page.evaluate("""() => document.querySelectorAll('.js-plotly-plot')[0].data
        .map(t => [t.type, t.name, t.showscale !== false, (t.locations || []).length])""")
    assert [t[0] for t in traces if t[0].startswith("choropleth")] == ["choropleth"] * 2, traces
    valued = next(i for i, t in enumerate(traces) if t[0] == "choropleth" and t[2])
    assert traces[valued][3] == 2                                   # Durham and Gloucestershire coloured
    _screenshot(page, SHOTS / "fixture-map-forces.png")
    # a click on one of the two coloured areas narrows the app to that force and shows its districts
    page.locator(".js-plotly-plot").first.locator(".choroplethlayer .trace").nth(valued).locator("path").first \
        .click(force=True)
    _settle(page)
    page.wait_for_selector('[data-testid="stMain"] h3:has-text("Districts of")', timeout=90_000)
    _settle(page)
    heading = page.locator('[data-testid="stMain"] h3:has-text("Districts of")').first.inner_text()
    assert ("Durham" in heading and "forces=durham" in page.url) or \
           ("Gloucestershire" in heading and "forces=gloucestershire" in page.url), (heading, page.url)
    assert _title(page) == "Map"
    _screenshot(page, SHOTS / "fixture-map-districts.png")
    _back(page)
    page.wait_for_selector(".js-plotly-plot .choroplethlayer path", timeout=90_000)
    _settle(page)
    assert "Districts of" not in page.inner_text("body") and _title(page) == "Map"
    # the click's selection went with the drill: back on both forces, neither is dimmed as unselected
    selected = page.evaluate("""() => document.querySelectorAll('.js-plotly-plot')[0].data
        .map(t => t.selectedpoints === undefined || t.selectedpoints === null ? null : Array.from(t.selectedpoints))""")
    assert all(s is None for s in selected), selected
    page.close()
