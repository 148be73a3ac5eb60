"""Stored labels are untrusted text: a store imported from CSVs whose labels are Markdown/HTML payloads pointing at
a recording HTTP server on 127.0.0.1 is shown on every page in headless Chromium (the filter multiselects'
options opened and one chosen, the Data quality table of unknown labels) without the browser ever requesting
anything from that server, and without a javascript: link in the DOM. The door (data/validate.py) refuses
control characters but accepts printable text, so these labels do reach the store."""
from __future__ import annotations

import csv
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import plotly.graph_objects as go
import pytest

from analysis.figures.base import finish, plotly_text
from app.safe_text import markdown_text
from data.store import Store
from tests.store_fixtures import HEADER, import_folder, months
from tests.test_browser_real_store import _open, _serve
from tests.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, PAGES, _settle


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.seen: list[str] = []
        super().__init__(("127.0.0.1", 0), _Record)


class _Record(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        self.server.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def payloads(base: str) -> dict[str, str]:
    return {
        "legislation": f"![t]({base}/md-image.png)",
        "object": f'<img src="{base}/html-image.png">',
        "outcome": "[link](javascript:alert(1))",
        "self": f'<a href="{base}/a">White</a><span style="background:url({base}/css.png)">x</span>',
        "operation": f"<script src='{base}/s.js'></script>",
    }


def write_hostile(folder: Path, base: str) -> None:
    bad = payloads(base)
    for month in months("2019-01", 3):
        path = folder / f"{month}-kent-stop-and-search.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            for j in range(60):
                hostile = j % 3 == 0
                writer.writerow([
                    "Person search", f"{month}-{1 + j % 27:02d}T12:00:00+00:00", "True" if hostile else "False",
                    bad["operation"] if hostile else "", "51.27", "0.52", "Male", "18-24",
                    bad["self"] if j % 4 == 0 else "White - English/Welsh/Scottish/Northern Irish/British"
                    if j % 2 else "Black/African/Caribbean/Black British - African", "White" if j % 2 else "Black",
                    bad["legislation"] if hostile else "Misuse of Drugs Act 1971 (section 23)",
                    bad["object"] if j % 5 == 0 else "Controlled drugs",
                    bad["outcome"] if j % 2 == 0 else "Arrest", "", "False"])


@pytest.fixture(scope="module")
def recorder() -> Iterator[_Recorder]:
    server = _Recorder()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def hostile_store(recorder: _Recorder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    write_hostile(root / "csv", f"http://127.0.0.1:{recorder.server_address[1]}")
    done = import_folder(root / "store", root / "csv")
    assert done.returncode == 0, done.stderr
    return root / "store"


def test_the_hostile_labels_reach_the_store(hostile_store: Path, recorder: _Recorder) -> None:
    records = Store(hostile_store).read(["kent"])
    base = f"http://127.0.0.1:{recorder.server_address[1]}"
    assert payloads(base)["legislation"] in set(records["legislation"].astype(str))
    assert payloads(base)["outcome"] in set(records["outcome"].astype(str))


def test_markdown_and_plotly_escapes() -> None:
    assert markdown_text("![t](http://h/x.png)") == "\\!\\[t\\](http://h/x.png)"
    assert plotly_text("<a href='x'>&</a>") == "&lt;a href='x'&gt;&amp;&lt;/a&gt;"
    fig = finish(go.Figure(go.Bar(x=['<a href="http://h">l</a>'], y=[1], hovertext=["<b>g</b><br><img src=x>"],
                                  name="<span style='x'>n</span>")), kind="k", title="<a href=x>t</a>", demo=False)
    assert fig.data[0].x == ('&lt;a href="http://h"&gt;l&lt;/a&gt;',)
    assert fig.data[0].hovertext == ("<b>g</b><br>&lt;img src=x&gt;",)  # the figure's own tags are kept
    assert fig.data[0].name == "&lt;span style='x'&gt;n&lt;/span&gt;" and fig.layout.title.text.startswith("&lt;a")


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) is not installed")
def test_no_page_makes_the_browser_fetch_a_label_or_draws_a_javascript_link(
        hostile_store: Path, recorder: _Recorder, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    port = recorder.server_address[1]
    server = _serve(hostile_store, tmp_path / "streamlit.log")
    url = next(server)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            chosen: list[str] = []
            for slug in PAGES:
                path = "" if slug == "overview" else slug
                page = _open(browser, f"{url}/{path}?forces=kent&start=2019-01&end=2019-03")
                if slug == "overview":   # the sidebar is the same on every page: its options are checked once
                    # the filter multiselects: open each list of options; choose the hostile legislation
                    page.get_by_text("Filter the records").first.click()
                    for label in ("Object of search",):  # legislation options are mapped groups
                        box = page.get_by_role("combobox", name=label).first
                        box.wait_for(state="visible", timeout=90_000)
                        _settle(page)                      # the expander has opened and the page is idle
                        for _ in range(3):                 # a busy machine can drop the first click
                            box.click()
                            page.keyboard.press("ArrowDown")
                            try:
                                page.wait_for_selector('[role="option"]', timeout=30_000)
                                break
                            except Exception:  # noqa: BLE001 - retried, then the wait below fails clearly
                                page.keyboard.press("Escape")
                        page.wait_for_selector('[role="option"]', timeout=30_000)
                        page.wait_for_function(    # the list is drawn with its texts (not an empty frame)
                            "() => [...document.querySelectorAll('[role=option]')].some(o => o.innerText.trim())",
                            timeout=60_000)
                        options = page.get_by_role("option").all_inner_texts()
                        assert options, label
                        hostile = [o for o in options if "127.0.0.1" in o]  # shown as text, when not mapped
                        if hostile:
                            page.get_by_role("option").filter(has_text="127.0.0.1").first.click()
                            _settle(page)
                            chosen.append(hostile[0])
                        page.keyboard.press("Escape")
                        page.locator('[data-testid="stMain"] h1').first.click()  # close the list
                        page.wait_for_timeout(300)
                    _settle(page)
                body = page.inner_text("body")
                assert "Traceback" not in body and "Something went wrong" not in body, slug
                html = page.content()
                assert page.locator('a[href^="javascript:" i]').count() == 0, slug
                assert page.locator(f'img[src*="{port}"]').count() == 0, slug
                assert 'href="javascript' not in html.lower(), slug
                if slug == "quality":
                    assert "Labels no mapping table knows" in body
                page.close()
            browser.close()
    finally:
        server.close()
    assert chosen, "no hostile label reached a filter's options: the multiselect case was not exercised"
    assert recorder.seen == [], recorder.seen
