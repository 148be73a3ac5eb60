"""A user's cold start, in a real browser: from `streamlit run` to the first page drawn and idle in headless
Chromium, for the dashboard on a store and for a bare Streamlit page with one chart (issue 11's yardstick:
"first page within 1.5x of a bare page"). Then the same browser clicks through the menu (each page drawn and
idle), as a user moving between pages of a running app.

    python -m benchmarks cold_start --store /path/to/store     # e.g. bench_ten_years --keep DIR's DIR/store
    python -m benchmarks cold_start                            # the demo data (no store)

Each start is measured `--repeat` times (default 3), the bare page and the dashboard in turn (a machine that
slows down part-way slows both), and the medians are printed with the range of the paired ratios. The read
copy is built beforehand (it is built once after each import or fetch: bench_ten_years measures that).

Times are read in the page, not from Playwright's polling (which noticed a finished run up to 0.5 s late):
a script in the page records the menu click, each change of the app's run state, the first frame painted
after the run, and the browser's long tasks (drawing charts takes ~1 s after the run has ended). A page
counts as drawn when the run has ended, a frame has been painted and the browser's main thread has been
quiet for half a second: the end of its last long task, or the paint.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
RUNNING = '[data-testid="stApp"][data-test-script-state="running"]'
CHROMIUM = "/usr/bin/chromium"
MENU = ("Disparity", "Long view", "Outcomes", "Compare forces", "Map", "Data quality", "Overview")
_BARE = """
import plotly.graph_objects as go
import streamlit as st
st.title("Bare page")
st.plotly_chart(go.Figure(go.Scatter(x=list(range(100)), y=list(range(100)))))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Recorded in the page (Date.now(), the same clock as time.time()): each click, each change of the run state,
# and the first frame painted after each change to notRunning.
_RECORDER = """
window.__bench = [];
new PerformanceObserver(list => {
  for (const task of list.getEntries())
    window.__bench.push(['busy until', Math.round(performance.timeOrigin + task.startTime + task.duration)]);
}).observe({type: 'longtask', buffered: true});
document.addEventListener('click', () => window.__bench.push(['click', Date.now()]), true);
const watch = new MutationObserver(changes => {
  for (const change of changes) {
    const state = change.target.getAttribute('data-test-script-state');
    window.__bench.push([state, Date.now()]);
    if (state === 'notRunning')
      requestAnimationFrame(() => setTimeout(() => window.__bench.push(['painted', Date.now()]), 0));
  }
});
document.addEventListener('DOMContentLoaded', () => watch.observe(document.body,
  {attributes: true, subtree: true, attributeFilter: ['data-test-script-state']}));
"""


QUIET = 0.5  # seconds without a long task after the paint: the page is drawn


def _painted_since(page, since: float) -> float:
    """Seconds (epoch) when the page was drawn after `since`: the later of the last paint after a finished
    run and the end of the browser's last long task, once the main thread has been quiet for QUIET."""
    page.wait_for_function("() => window.__bench.some(e => e[0] === 'painted')", timeout=30_000)
    while True:
        events = [(name, t / 1000) for name, t in page.evaluate("window.__bench") if t / 1000 >= since]
        painted = [t for name, t in events if name == "painted"]
        busy = [t for name, t in events if name == "busy until"]
        drawn = max([*painted, *busy]) if painted else None
        if drawn is not None and time.time() - drawn >= QUIET and events[-1][0] in ("painted", "busy until"):
            return drawn
        time.sleep(0.1)


def _clicked_at(page) -> float:
    return [t / 1000 for name, t in page.evaluate("window.__bench") if name == "click"][-1]


def _wait_idle(page, timeout_ms: int = 300_000) -> None:
    # a rerun may start just after the first idle (the app completes its address): wait out a second one
    page.wait_for_selector(IDLE, timeout=timeout_ms)
    time.sleep(0.3)
    page.wait_for_selector(IDLE, timeout=timeout_ms)


# The dashboard starts as `bash dev.sh run` starts it (`python -m app`: streamlit run dashboard.py, with the
# first page's imports under way while the browser loads); the bare page with `streamlit run`.
DASHBOARD = [sys.executable, "-m", "app"]


def streamlit_run(script: Path) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(script)]


def cold_start(command: list[str], store: Path | None, browser, *, menu: bool = False) -> dict[str, float]:
    """Seconds from launching the server to the first page idle in the browser (and each menu click)."""
    port = _free_port()
    env = {**os.environ, "STOPSEARCH_DATA_DIR": str(store or Path(tempfile.mkdtemp()) / "none")}
    started = time.time()
    server = subprocess.Popen([*command, "--server.port", str(port), "--server.headless", "true",
                               "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
                              cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out: dict[str, float] = {}
    try:
        url = f"http://127.0.0.1:{port}"
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit(f"streamlit did not start: {' '.join(command)}") from None
                time.sleep(0.05)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.add_init_script(_RECORDER)
        page.goto(url)
        _wait_idle(page)
        out["first"] = _painted_since(page, started) - started
        if menu:
            time.sleep(3)  # a user reads the first page before clicking (background imports finish meanwhile)
            for name in MENU:
                page.locator('[data-testid="stSidebarNav"] a', has_text=name).first.click()
                try:  # the run starts (no fixed sleep: it would be counted as the page's time)
                    page.wait_for_selector(RUNNING, timeout=3000)
                except Exception:  # noqa: BLE001 - a run shorter than the poll: it already ended
                    pass
                page.wait_for_selector(IDLE, timeout=300_000)
                clicked = _clicked_at(page)
                out[name] = _painted_since(page, clicked) - clicked
        page.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=None, help="the store to open (default: none, the demo)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv or [])
    from playwright.sync_api import sync_playwright

    if args.store is not None:
        from data.store import Store

        Store(args.store).refresh_read_copy()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else None,
                                    args=["--headless", "--no-sandbox", "--disable-gpu"])
        bare = Path(tmp) / "bare.py"
        bare.write_text(_BARE)
        bare_times: list[float] = []
        runs: list[dict[str, float]] = []
        for i in range(args.repeat):  # interleaved: a machine that slows down mid-way slows both alike
            bare_times.append(cold_start(streamlit_run(bare), None, browser)["first"])
            runs.append(cold_start(DASHBOARD, args.store, browser, menu=(i == 0)))
        browser.close()
    base = statistics.median(bare_times)
    first = statistics.median(r["first"] for r in runs)
    spread = sorted(r["first"] / b for r, b in zip(runs, bare_times, strict=True))
    print(f"   bare page, launch to drawn in Chromium: {base:6.2f} s (median of {args.repeat})", flush=True)
    print(f"   dashboard first page, launch to drawn:  {first:6.2f} s = {first / base:.2f}x the bare page "
          f"[target 1.5x] (pairs: {spread[0]:.2f}x to {spread[-1]:.2f}x)", flush=True)
    for name in MENU:
        print(f"   menu click to {name:<15} drawn:   {runs[0][name]:6.2f} s [target 1 s]", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
