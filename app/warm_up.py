"""Once the first page is on screen, import what later pages need on another thread, so that a click to
Outcomes or Compare does not wait for scipy.stats (about a second of CPU, which the first page never needs:
analysis.lazy_stats keeps it off the first page's path)."""
from __future__ import annotations

import importlib
import logging
import threading

log = logging.getLogger(__name__)
LATER = ("scipy.stats",)
DELAY_SECONDS = 2.0
_started = threading.Event()


def _import(names: tuple[str, ...]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - only a head start: the page imports it again and reports errors
            log.warning("warm-up import of %s failed", name, exc_info=True)


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
