"""While the user reads a page, compute on another thread the tables the other pages will show for the same
selection, so that a click to them only draws (their tables come from the same caches the pages use).

At ten national years a page's tables take 0.3 to 0.7 s (Disparity's search mix and trend, Data quality's
missing fields and store check, Outcomes' tests); drawn from cache, a click takes about half as long
(benchmarks/cold_start). The steps call app.tables exactly as the pages do: tests/test_prefetch.py checks
that after a prefetch no page computes a table again.

A run of the script pauses the prefetch: `run_started` stops it before its next step (a step under way
finishes: at most ~0.4 s), and `after_run` starts it again, after DELAY_SECONDS, for the selection on screen.
Nothing here draws: a failing step is logged and left to the page, which computes and reports it itself.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import replace

from analysis import views
from analysis.selection import Selection
from app import tables
from app.dataset import Dataset

log = logging.getLogger(__name__)
THREAD_NAME = "prefetch-tables"
DELAY_SECONDS = 1.0       # after a run: the browser is still drawing what it sent
SWITCH = "STOPSEARCH_PREFETCH"  # "0": no prefetch (the in-process tests, which count reads, set it)
DONE_KEPT = 64            # selections already prefetched (a later one pushes the oldest out)
_lock = threading.Lock()
_generation = 0
_done: list[tuple[str, Selection]] = []


def _page_modules(dataset: Dataset, selection: Selection) -> None:
    from app.navigation import BY_SLUG

    for slug in ("disparity", "long-view", "outcomes", "compare", "map", "quality"):
        BY_SLUG[slug].render  # noqa: B018 - imports the page's module (the map's: district geometry, 0.2 s)


def _disparity(dataset: Dataset, selection: Selection) -> None:
    tables.table("mix", dataset, selection)
    window = views.trend_window(views.months_available(dataset.manifest), selection, choice="stored")
    tables.trend_table(dataset, replace(selection, start=window.start, end=window.end))
    tables.implausible_months(dataset)


def _long_view(dataset: Dataset, selection: Selection) -> None:
    from app import long_view

    forces = selection.forces if selection.forces else dataset.forces
    long = long_view.long_selection(dataset, selection, tuple(forces))
    if long is not None:
        long_view.long_table(dataset, long)


def _outcomes(dataset: Dataset, selection: Selection) -> None:
    tables.table("outcomes", dataset, selection)


def _compare(dataset: Dataset, selection: Selection) -> None:
    everyone = tables.every_force(dataset, selection)
    tables.table("compare", dataset, everyone)
    tables.funnel(dataset, everyone)
    tables.table("rates", dataset, everyone)


def _quality(dataset: Dataset, selection: Selection) -> None:
    from app import store_health
    from data.store import manifest_signature

    tables.quality_table(dataset, selection)
    tables.table("agreement", dataset, selection)
    tables.unknown_labels_table(dataset)
    if not dataset.demo:
        store_health.report(dataset.root, manifest_signature(dataset.root), False)  # as the page: positional


# in menu order (the page after the one on screen is likely next)
STEPS: tuple[tuple[str, Callable[[Dataset, Selection], None]], ...] = (
    ("pages", _page_modules), ("disparity", _disparity), ("long-view", _long_view), ("outcomes", _outcomes), ("compare", _compare),
    ("quality", _quality),
)


class _NoContextNoteForPrefetch(logging.Filter):
    """Streamlit warns "missing ScriptRunContext" whenever a cached function runs off a script's thread:
    for the prefetch that is by design (it draws nothing), and a line per table filled the server's log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.threadName == THREAD_NAME and "missing ScriptRunContext" in record.getMessage())


logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_NoContextNoteForPrefetch())


def run_started() -> None:
    """A script run began: the prefetch stops before its next step."""
    global _generation  # noqa: PLW0603 - one counter per server process
    with _lock:
        _generation += 1


def after_run(dataset: Dataset, selection: Selection, *, page: str) -> None:
    """The run for `page` ended: prefetch the other pages' tables for this selection (once per selection)."""
    if not selection.forces or os.environ.get(SWITCH, "1") == "0":
        return
    with _lock:
        generation = _generation
        if (dataset.key, selection) in _done:
            return
    timer = threading.Timer(DELAY_SECONDS, _prefetch, args=(generation, dataset, selection, page))
    timer.name, timer.daemon = THREAD_NAME, True
    timer.start()


def _current(generation: int) -> bool:
    with _lock:
        return generation == _generation


def _prefetch(generation: int, dataset: Dataset, selection: Selection, page: str) -> None:
    for name, step in STEPS:
        if not _current(generation):
            return   # a run started: the interpreter is the user's
        if name == page:
            continue
        try:
            step(dataset, selection)
        except Exception:  # noqa: BLE001 - only a head start: the page computes it again and reports errors
            log.warning("prefetch of the %s tables failed", name, exc_info=True)
    with _lock:
        if generation == _generation and (dataset.key, selection) not in _done:
            _done.append((dataset.key, selection))
            del _done[:-DONE_KEPT]
