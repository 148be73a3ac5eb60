"""data.fetch.fetch() (what the app's Get data page runs) holds the store's writer lock for its whole run: an
import started meanwhile in another process waits for it, or fails with the one-line lock message. Real
subprocesses, a real local API server whose reply is held back until the test lets it go."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from data.api import PoliceApiClient
from data.fetch import fetch
from data.ratelimit import RateLimiter
from data.store import Store
from data.verify import verify
from tests.police_api_server import FakePoliceApi, synthetic_forces
from tests.test_store_integrity import PROJECT, env_for, write_csv

MONTHS = ["2024-01", "2024-02"]
AVAILABILITY = [{"date": m, "stop-and-search": ["kent", "essex"]} for m in reversed(MONTHS)]
HELD_MONTH = "2024-02"  # the API holds its kent reply for this month until the test opens the gate
BOUND = 120.0  # loose upper bound on every wait: only stops a hang on a loaded 2-core machine


class GatedApi(FakePoliceApi):
    """A 'slow' fault that lasts until `gate` is set (not a fixed delay), so the test decides when fetch ends."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.gate = threading.Event()

    def wait(self, seconds: float) -> bool:
        self.gate.wait(seconds)
        return self._stop.is_set()


@pytest.fixture()
def api():
    with GatedApi(forces=synthetic_forces(), availability=AVAILABILITY) as server:
        server.fail("slow", force="kent", month=HELD_MONTH, delay=BOUND)
        yield server
        server.gate.set()


def _start_app_style_fetch(root, api: GatedApi) -> tuple[threading.Thread, dict]:
    """fetch() in a thread of this process, as app/pages/getdata.py runs it; returns once it is mid-run."""
    out: dict = {}
    client = PoliceApiClient(api.url, limiter=RateLimiter(rate=1000, burst=1000), timeout=BOUND, max_attempts=1)

    def run() -> None:
        try:
            out["summary"] = fetch(Store(root), ["kent", "essex"], MONTHS, client=client, workers=2)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            out["error"] = exc
        finally:
            client.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + BOUND
    while api.count("stops-force", force="kent", month=HELD_MONTH) == 0:
        assert time.monotonic() < deadline and thread.is_alive(), out
        time.sleep(0.02)
    return thread, out


def _finish(api: GatedApi, thread: threading.Thread, out: dict) -> None:
    api.gate.set()
    thread.join(BOUND)
    assert not thread.is_alive() and "error" not in out, out
    assert out["summary"].ok == 4 and not out["summary"].failed, out["summary"]


def test_an_import_during_an_app_fetch_fails_with_the_one_line_lock_message(tmp_path, api):
    root = tmp_path / "store"
    csv = write_csv(tmp_path / "in", "kent", HELD_MONTH, 3)
    thread, out = _start_app_style_fetch(root, api)
    try:
        done = subprocess.run([sys.executable, "-m", "data", "import", str(csv)], cwd=PROJECT,
                              env=env_for(root, STOPSEARCH_LOCK_WAIT="0.5"), capture_output=True, text=True,
                              timeout=BOUND)
    finally:
        _finish(api, thread, out)
    assert done.returncode != 0, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"pid {os.getpid()}" in lines[0] and "writing to the store" in lines[0]
    # the fetch's reply is what is stored, and the manifest describes exactly the files on disk
    entry = Store(root).entry("kent", HELD_MONTH)
    assert entry.source.startswith("http") and entry.records == len(api.records_for("kent", HELD_MONTH))
    assert verify(Store(root)).ok


def test_an_import_during_an_app_fetch_waits_for_it_then_goes_ahead(tmp_path, api):
    root = tmp_path / "store"
    csv = write_csv(tmp_path / "in", "kent", HELD_MONTH, 3)
    thread, out = _start_app_style_fetch(root, api)
    proc = subprocess.Popen([sys.executable, "-m", "data", "import", str(csv)], cwd=PROJECT,
                            env=env_for(root, STOPSEARCH_LOCK_WAIT=str(BOUND)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        # while the fetch is held up, the import cannot have written anything (it is queued on the lock)
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
    finally:
        _finish(api, thread, out)
    stdout, stderr = proc.communicate(timeout=BOUND)
    assert proc.returncode == 0, stderr
    # the import ran after the fetch: its 3 records are what is stored for kent 2024-02 (before the fix the
    # import went through at once and the fetch then replaced it behind the user's back)
    entry = Store(root).entry("kent", HELD_MONTH)
    assert entry.records == 3 and len(Store(root).read(["kent"], [HELD_MONTH])) == 3
    assert verify(Store(root)).ok
