"""Head starts on other threads, so that no page waits for an import.

- Before the first page (`python -m app` starts the server): what the first page imports (pandas, plotly,
  the app's modules: ~0.7 s), while the server starts and the browser loads Streamlit's scripts; then one
  chart built and styled as the first page's is (plotly imports each layout property's class the first
  time it is set: 0.13 s of the first page's run); then inspect's map of module files, which Streamlit
  walks once, when it draws the first element (0.2 s); then the objects made so far are frozen out of the
  garbage collector's full passes (gc.freeze).
  (Reading the store's manifest and counted records here as well made the first page slower, not faster:
  it then competes with the page's own run.)
- Once the first page is on screen: what later pages need, so that a click to Outcomes or Compare does not
  wait for scipy.stats (about a second of CPU, which the first page never needs: analysis.lazy_stats keeps
  it off the first page's path)."""
from __future__ import annotations

import gc
import importlib
import inspect
import logging
import threading
import time

log = logging.getLogger(__name__)
FIRST_PAGE = ("pandas", "pyarrow.parquet", "plotly.graph_objects", "scipy.special", "app.components", "app.dataset",
              "app.navigation", "app.sidebar", "app.state", "app.tables", "app.charts", "app.pages.overview",
              # Streamlit's lists of emoji and icon names, read when the tab's icon and the menu's are checked
              "streamlit.emojis", "streamlit.material_icon_names")
LATER = ("scipy.stats",)
DELAY_SECONDS = 2.0
_started = threading.Event()


def _import(names: tuple[str, ...]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - only a head start: the page imports it again and reports errors
            log.warning("warm-up import of %s failed", name, exc_info=True)


def _server_listening(timeout: float = 30.0) -> None:
    """Wait (sleeping, so the server has the interpreter) until Streamlit's runtime has started: importing
    at the same time as the server starts delayed its first reply by ~0.8 s (benchmarks/cold_start)."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.runtime import RuntimeState

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Runtime.exists() and Runtime.instance().state is not RuntimeState.INITIAL:
            return
        time.sleep(0.02)


def _chart_once() -> None:
    """A small rates chart, built and styled for the screen as the first page's chart is."""
    import pandas as pd

    from analysis import export
    from analysis.figures.group_charts import rates_figure

    nan = float("nan")  # 'Not stated' has no rate: the chart names it in a note, as the page's does
    table = pd.DataFrame({"force": ["ALL"] * 3, "group": ["Black", "White", "Not stated"], "searches": [30, 20, 5],
                          "population": [1000, 2000, nan], "rate_per_1000": [30.0, 10.0, nan],
                          "ci_low": [20.0, 6.0, nan], "ci_high": [43.0, 15.0, nan], "small_n": [False, False, True]})
    try:
        export.screen(rates_figure(table))
    except Exception:  # noqa: BLE001 - only a head start: the page builds its own chart and reports errors
        log.warning("warm-up chart failed", exc_info=True)


def _first_page() -> None:
    _server_listening()
    _import(FIRST_PAGE)
    _chart_once()
    # inspect.getmodule maps every loaded module's file (a realpath each) the first time it is asked;
    # Streamlit asks, through inspect.stack(), when the first element of the first page is drawn
    inspect.stack()
    # The ~150,000 objects made by these imports live as long as the server: frozen, Python's full garbage
    # collections stop walking them. Unfrozen, one such collection fell inside the first page's run and held
    # the interpreter for ~0.15 s (py-spy --gil), while the browser waited for its scripts.
    gc.freeze()


def before_first_page() -> None:
    """Start importing what the first page needs (call before the server starts)."""
    # Streamlit's runtime is imported here, before the thread starts: the thread asks it whether the server
    # has started, and importing it there while this thread imports Streamlit's command line (which
    # imports it too) could hand one of them a partly initialised module: an ImportError, no server
    import streamlit.runtime.runtime  # noqa: F401

    thread = threading.Thread(target=_first_page, name="warm-up-first-page", daemon=True)
    thread.start()


def after_first_page() -> None:
    """Start the background imports (once per server process)."""
    if _started.is_set():
        return
    _started.set()
    # a moment later: importing holds the interpreter for about a second, which would delay sending the
    # first page to the browser (measured: 0.5 to 1 s later drawn in Chromium when started at once)
    timer = threading.Timer(DELAY_SECONDS, _import, args=(LATER,))
    timer.name, timer.daemon = "warm-up-imports", True
    timer.start()
