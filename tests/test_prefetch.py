"""The background prefetch computes what the other pages show, through the same caches: after it, no page
computes a table again (the oracle: counting calls of the functions that make the tables). A run that
starts stops it."""
from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app import long_view, prefetch, store_health, tables
from tests.store_fixtures import build_fixture_store

PROJECT = Path(__file__).resolve().parents[1]
PAGES = ("disparity", "long-view", "outcomes", "compare", "quality")


@pytest.fixture(scope="module")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("prefetch")
    return build_fixture_store(root / "store", root / "csv")


@pytest.fixture()
def computed(fixture_store: Path, monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Calls of every function that makes a page's table (below the caches)."""
    monkeypatch.setenv("STOPSEARCH_DATA_DIR", str(fixture_store))
    monkeypatch.setenv(prefetch.SWITCH, "1")
    monkeypatch.setattr(prefetch, "DELAY_SECONDS", 0.0)
    st.cache_data.clear()
    st.cache_resource.clear()
    prefetch._done.clear()
    calls: Counter = Counter()

    def counting(name, real):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)
        return wrapper

    for kind, real in list(tables.KINDS.items()):
        monkeypatch.setitem(tables.KINDS, kind, counting(kind, real))
    for module, name in ((tables, "quality"), (tables, "trend"), (tables, "funnel_curve"), (tables, "count"),
                         (long_view, "long_trend"), (store_health, "verify")):
        monkeypatch.setattr(module, name, counting(name, getattr(module, name)))
    yield calls
    _wait_for_prefetch()
    st.cache_data.clear()
    st.cache_resource.clear()


def _wait_for_prefetch(timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    for thread in [t for t in threading.enumerate() if t.name == "prefetch-tables"]:
        thread.join(max(deadline - time.monotonic(), 0))
        assert not thread.is_alive(), "the prefetch did not finish"


def test_after_the_prefetch_no_page_computes_a_table(computed: Counter) -> None:
    at = AppTest.from_file(str(PROJECT / "dashboard.py"), default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    time.sleep(0.2)
    _wait_for_prefetch()
    assert computed["mix"] and computed["quality"] and computed["verify"], computed  # it did the work
    computed.clear()
    for page in PAGES:
        at.query_params["page"] = page
        at.run()
        assert not at.exception, (page, [e.value for e in at.exception])
        time.sleep(0.2)
        _wait_for_prefetch()  # the run of another page starts a prefetch of its own (nothing left to do)
    assert not computed, f"pages computed tables the prefetch had made: {dict(computed)}"


def test_a_run_that_starts_stops_the_prefetch(computed: Counter, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(prefetch.SWITCH, "0")
    at = AppTest.from_file(str(PROJECT / "dashboard.py"), default_timeout=180)
    at.run()                      # the first page, without a prefetch
    computed.clear()
    monkeypatch.setenv(prefetch.SWITCH, "1")
    monkeypatch.setattr(prefetch, "DELAY_SECONDS", 0.5)
    from analysis.selection import Selection
    from app.dataset import load

    dataset = load()
    selection = Selection(forces=tuple(dataset.forces), start=dataset.months[-12], end=dataset.months[-1])
    prefetch.after_run(dataset, selection, page="overview")
    prefetch.run_started()        # a user's run begins before the prefetch's first step
    _wait_for_prefetch()
    assert not computed, dict(computed)


def test_no_prefetch_when_switched_off(computed: Counter, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(prefetch.SWITCH, "0")
    at = AppTest.from_file(str(PROJECT / "dashboard.py"), default_timeout=180)
    at.run()
    time.sleep(0.2)
    assert not [t for t in threading.enumerate() if t.name == "prefetch-tables"]
    assert not computed["mix"], dict(computed)


def test_the_prefetch_leaves_no_context_warnings_in_the_server_log(fixture_store: Path, monkeypatch) -> None:
    # Streamlit warns "missing ScriptRunContext" for cached functions run off a script's thread: a line per
    # table in the server's log, for the prefetch (which draws nothing) only noise. Other threads still warn.
    import logging

    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(f"{record.threadName}: {record.getMessage()}")

    logger = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    handler = Keep()
    logger.addHandler(handler)
    monkeypatch.setattr(logger, "disabled", False)
    try:
        for name in (prefetch.THREAD_NAME, "someone-else"):
            thread = threading.Thread(target=get_script_run_ctx, name=name)
            thread.start()
            thread.join()
    finally:
        logger.removeHandler(handler)
    assert not [line for line in seen if line.startswith(prefetch.THREAD_NAME)], seen
    assert [line for line in seen if line.startswith("someone-else")], "the filter hid other threads too"
