"""app.page_head: `python -m app` serves Streamlit's page with plotly's chunk loaded in the head, so the browser
evaluates it while the first page runs (benchmarks/cold_start, ten years: first page 3.06 -> 2.69 s).
Oracles: Streamlit's own static folder (the one PlotlyChart chunk it ships, its other files byte for byte),
the pages a real server answers, and what headless Chromium fetched and drew."""
from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit import file_util

from app import page_head

STREAMLIT_STATIC = Path(file_util.get_static_dir())


def _shipped_plotly_chunk() -> str:
    """The one file of Streamlit's scripts that holds plotly.js (found by listing, not by reading the bundle)."""
    chunks = sorted(p.name for p in (STREAMLIT_STATIC / "static" / "js").glob("PlotlyChart.*.js"))
    assert len(chunks) == 1, chunks
    return chunks[0]


def test_the_folder_links_streamlits_files_and_its_page_loads_plotly_at_once(tmp_path: Path) -> None:
    chunk = _shipped_plotly_chunk()
    assert page_head.early_static_folder(STREAMLIT_STATIC, tmp_path)
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert f'<link rel="modulepreload" crossorigin href="./static/js/{chunk}">' in index
    assert f'import("./static/js/{chunk}")' in index
    # nothing else of Streamlit's page changes
    original = (STREAMLIT_STATIC / "index.html").read_text(encoding="utf-8")
    assert index.replace(page_head.head_lines(chunk), "") == original
    assert index.index(page_head.head_lines(chunk)) < index.index("</head>")
    # every other entry is Streamlit's own
    entries = sorted(p.name for p in STREAMLIT_STATIC.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == entries
    for name in entries:
        if name != "index.html":
            assert (tmp_path / name).resolve() == (STREAMLIT_STATIC / name).resolve()
    assert (tmp_path / "static" / "js" / chunk).read_bytes() == (STREAMLIT_STATIC / "static" / "js" / chunk).read_bytes()


def _fake_static(root: Path, bundle_text: str) -> Path:
    (root / "static" / "js").mkdir(parents=True)
    (root / "index.html").write_text('<html><head><script type="module" crossorigin src="./static/js/index.abc123.js">'
                                     "</script></head><body></body></html>", encoding="utf-8")
    (root / "static" / "js" / "index.abc123.js").write_text(bundle_text, encoding="utf-8")
    return root


def test_a_streamlit_without_the_chunk_is_served_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    static = _fake_static(tmp_path / "static-dir", "import('./Other.x1.js')")
    assert page_head.plotly_chunk(static) is None
    assert not page_head.early_static_folder(static, tmp_path)
    # a chunk named in the bundle but not shipped is not linked either
    named_only = _fake_static(tmp_path / "named-only", "import('./PlotlyChart.zz9.js')")
    assert page_head.plotly_chunk(named_only) is None
    # the server keeps Streamlit's folder
    monkeypatch.setattr(file_util, "get_static_dir", lambda: str(static))
    page_head.serve_plotly_early()
    assert file_util.get_static_dir() == str(static)


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m app` (as `bash dev.sh run` starts it) on an empty store."""
    from tests.test_browser_real_store import _serve

    yield from _serve(tmp_path_factory.mktemp("empty-store"), tmp_path_factory.mktemp("log") / "streamlit.log")


def _get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=30) as reply:
        return reply.status, reply.headers.get("Content-Type", ""), reply.read()


def test_python_m_app_serves_every_page_address_with_plotly_in_the_head(app_server: str) -> None:
    chunk = _shipped_plotly_chunk()
    for address in ("/", "/map", "/compare?forces=kent"):   # the root and the pages' addresses (index.html again)
        status, _, body = _get(app_server + address)
        assert status == 200
        assert page_head.head_lines(chunk).encode() in body, address
    status, kind, body = _get(f"{app_server}/static/js/{chunk}")
    assert status == 200 and "javascript" in kind
    assert body == (STREAMLIT_STATIC / "static" / "js" / chunk).read_bytes()


# the page's time (performance.now) when the first run starts: before it, nothing has asked for a chart
RUN_STARTED = """
window.__runStarted = null;
new MutationObserver((changes, observer) => {
  if (document.querySelector('[data-test-script-state="running"]')) {
    window.__runStarted = performance.now();
    observer.disconnect();
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-test-script-state']});
"""


@pytest.mark.browser
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian chromium (/usr/bin/chromium) is not installed")
def test_the_browser_fetches_plotly_once_with_the_page_and_draws_the_first_chart(app_server: str) -> None:
    """The head's import and the page's own import of the chunk are one module: fetched once, before the first
    run sends its chart, and the chart is drawn (Overview on the demo data)."""
    from playwright.sync_api import sync_playwright

    from tests.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, IDLE

    chunk = _shipped_plotly_chunk()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.add_init_script(RUN_STARTED)
        page.goto(app_server)
        page.wait_for_selector('[data-testid="stMain"] h1', timeout=90_000)
        page.wait_for_selector(IDLE, timeout=90_000)
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=90_000)
        fetched = page.evaluate("""chunk => performance.getEntriesByType('resource')
            .filter(e => e.name.endsWith('/static/js/' + chunk)).map(e => e.startTime)""", chunk)
        run_started = page.evaluate("window.__runStarted")
        assert run_started is not None, "the first run was seen starting"
        assert len(fetched) == 1, fetched
        assert fetched[0] < run_started
        assert page.locator(".js-plotly-plot").count() >= 1
        browser.close()
