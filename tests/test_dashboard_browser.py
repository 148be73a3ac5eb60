"""The dashboard in a real browser: `streamlit run` on a free port, driven by Playwright and Debian Chromium.

The app loads on the demo data (empty store), a filter change updates a chart, a copied URL restores the
same view, and a screenshot of every page is saved to artifacts/screenshots/ (gitignored).
"""
from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = PROJECT / "artifacts" / "screenshots"
PAGES = ("overview", "disparity", "long-view", "outcomes", "use-of-force", "compare", "map", "quality", "methods", "get-data")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) is not installed"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`streamlit run dashboard.py` on a free port with an empty store; yields its base URL."""
    from tests.test_browser_real_store import _serve

    store = tmp_path_factory.mktemp("empty-store")
    yield from _serve(store, tmp_path_factory.mktemp("server-log") / "streamlit.log")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


def _settle(page: object, timeout: float = 90_000) -> None:
    """Wait until the script run that the last action started has finished and the page is drawn."""
    page.wait_for_timeout(400)                                   # let the rerun start
    page.wait_for_selector(IDLE, timeout=timeout)
    page.wait_for_timeout(300)                                   # let the last deltas draw


def _screenshot(page: object, path: Path) -> None:
    """The whole page: Streamlit scrolls inside its main block, so grow the window to the content first."""
    height = page.evaluate("""() => Math.max(...['[data-testid="stMain"]', '[data-testid="stMainBlockContainer"]']
        .map(s => document.querySelector(s)).filter(Boolean).map(e => e.scrollHeight))""")
    page.set_viewport_size({"width": 1400, "height": min(max(int(height) + 40, 1000), 12_000)})
    page.wait_for_timeout(1200)                                  # charts re-lay out at the new size
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1000})


def _metric_values(page: object) -> list[str]:
    return page.locator('[data-testid="stMetricValue"]').all_inner_texts()


def _plotly_data(page: object) -> list[str]:
    """The data of every Plotly chart on the page, as JSON strings (what the browser actually draws)."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
        .map(el => JSON.stringify((el.data || []).map(t => [t.name, t.x, t.y])))""")


def _open(browser: object, url: str, *, expect: str = '[data-testid="stMetricValue"]') -> object:
    """A new tab on `url`, once the page is drawn and `expect` is on it."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    _wait_for_page(page)
    page.wait_for_selector(expect, timeout=90_000)
    _settle(page)
    return page


def _wait_for_page(page: object) -> None:
    """A freshly loaded page: its title drawn, then no script run going on."""
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=90_000)
    _settle(page)


def test_loads_filters_restores_from_the_url_and_screenshots_every_page(server: str, browser: object) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = _open(browser, server)
    assert "Synthetic demo data" in page.inner_text("body")
    assert page.locator("h1").first.inner_text().startswith("Overview")
    assert "Traceback" not in page.inner_text("body")
    before_metrics, before_charts = _metric_values(page), _plotly_data(page)
    assert before_metrics, "the overview shows its headline numbers"

    # a filter change: narrow to one force through the sidebar multiselect
    forces = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').first
    forces.click()
    page.keyboard.type("Kent")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    _settle(page)
    after_metrics, after_charts = _metric_values(page), _plotly_data(page)
    assert after_metrics != before_metrics
    if before_charts:
        assert after_charts != before_charts, "a chart follows the filter"
    assert "forces=kent" in page.url

    # the copied URL restores the same view in a fresh tab (a new session)
    copied = page.url
    other = _open(browser, copied)
    other.screenshot(path=str(SHOTS / "restored-from-url.png"), full_page=True)
    assert _metric_values(other) == after_metrics
    assert _plotly_data(other) == after_charts
    assert "Kent" in other.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').first.inner_text()
    other.close()

    # every page, with the same selection, screenshotted
    query = copied.split("?", 1)[1] if "?" in copied else ""
    for slug in PAGES:
        params = "&".join(p for p in query.split("&") if not p.startswith("page="))
        path = "" if slug == PAGES[0] else slug            # the first page is the app's root URL
        page.goto(f"{server}/{path}?{params}&page={slug}")
        _wait_for_page(page)
        body = page.inner_text("body")
        assert "Traceback" not in body and "Something went wrong" not in body, slug
        assert "Synthetic demo data" in body, slug
        _screenshot(page, SHOTS / f"{slug}.png")
    page.close()
    assert json.dumps(after_metrics)


def test_clicking_a_force_on_the_forest_plot_drills_the_app_into_it(server: str, browser: object) -> None:
    page = _open(browser, f"{server}/compare?page=compare", expect=".js-plotly-plot")
    page.wait_for_timeout(1500)
    points = page.locator(".js-plotly-plot").first.locator(".scatterlayer .points path")
    assert points.count() > 30, "one point per force with a ratio"
    points.nth(0).click(force=True)                          # the bottom row: the smallest ratio
    page.wait_for_selector('[data-testid="stMain"] h1:has-text("Overview")', timeout=90_000)
    _settle(page)
    # the page is the address's path (the root for Overview), the drilled force in the query
    assert "/compare" not in page.url and "page=" not in page.url and page.url.count("forces=") == 1
    chosen = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').first.inner_text()
    assert "Police" in chosen or "Constabulary" in chosen
    page.close()


def test_uploading_a_file_imports_it_and_the_app_switches_to_the_store(server: str, browser: object,
                                                                      tmp_path: Path) -> None:
    """Runs after the test above (same server): the store stops being empty, so the demo is gone."""
    header = ("Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude,Gender,Age range,"
              "Self-defined ethnicity,Officer-defined ethnicity,Legislation,Object of search,Outcome,"
              "Outcome linked to object of search,Removal of more than just outer clothing")
    row = ("Person search,2024-05-03T10:15:00+00:00,False,,51.27,1.08,Male,18-24,White - Irish,White,"
           "Misuse of Drugs Act 1971 (section 23),Controlled drugs,Arrest,True,False")
    upload = tmp_path / "2024-05-kent-stop-and-search.csv"
    upload.write_text("\n".join([header, *[row] * 5]) + "\n")

    page = _open(browser, f"{server}/get-data?page=get-data", expect='[data-testid="stFileUploader"]')
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(upload))
    page.wait_for_timeout(1000)
    page.get_by_role("button", name="Import").click()
    page.wait_for_selector("text=Import finished", timeout=90_000)
    _settle(page)
    body = page.inner_text("body")
    assert "kent 2024-05: ok, 5 records" in body
    assert "Local store" in body and "Synthetic demo data" not in body
    _screenshot(page, SHOTS / "get-data-after-import.png")
    page.close()


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of its own on an empty store: another test here imports a file into `server`'s store."""
    from tests.test_browser_real_store import _serve

    store = tmp_path_factory.mktemp("demo-store")
    yield from _serve(store, tmp_path_factory.mktemp("demo-server-log") / "streamlit.log")


def test_a_chart_table_opens_and_its_csv_downloads_the_analysis_numbers(demo_server: str, browser: object) -> None:
    """The fold under a chart is built when opened (not before: it cost the browser ~0.3 s a chart), and its
    CSV holds the numbers. Oracle: analysis.rates.rates on the demo records for the selection in the URL."""
    server = demo_server
    from analysis.export import read_table_csv
    from analysis.rates import rates
    from analysis.selection import Selection
    from data import demo

    page = _open(browser, f"{server}/?forces=kent")
    assert page.get_by_role("button", name="CSV", exact=True).count() == 0         # folded: no buttons sent yet
    page.locator('[data-testid="stExpander"] summary', has_text="Table and downloads").first.click()
    _settle(page)
    with page.expect_download(timeout=60_000) as download:
        page.get_by_test_id("stDownloadButton").get_by_role("button", name="CSV", exact=True).first.click()
    got = read_table_csv(Path(download.value.path()).read_bytes())
    query = dict(p.split("=", 1) for p in page.url.split("?", 1)[1].split("&"))
    assert query["forces"] == "kent"
    expected = rates(demo.demo_records(), Selection(forces=("kent",), start=query["start"], end=query["end"]))
    merged = got.merge(expected, on=["force", "group"], suffixes=("_csv", ""))
    assert len(merged) == len(expected) > 0
    assert (merged["searches_csv"] == merged["searches"]).all()
    assert merged["rate_per_1000_csv"].to_numpy() == pytest.approx(merged["rate_per_1000"].to_numpy(), nan_ok=True)
    # the figure downloads too: an SVG with the chart's title in it (on screen the title is page text)
    title = page.locator('[data-testid="stMarkdownContainer"] strong', has_text="rate").first.inner_text()
    with page.expect_download(timeout=120_000) as download:
        page.get_by_test_id("stDownloadButton").get_by_role("button", name="SVG", exact=True).first.click()
    svg = Path(download.value.path()).read_text()
    assert svg.startswith("<svg") and title.split(":")[0] in svg, title
    page.close()
