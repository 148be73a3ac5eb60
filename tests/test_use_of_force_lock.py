"""The use-of-force store lives in the same store root and takes the same writer lock (data.store_lock) as the
stop-and-search store: while another process writes, its writes wait and then fail with the one-line lock
message, writing nothing; while it writes, a stop-and-search import waits. Real subprocesses."""
from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from data.store import Store
from data.store_lock import StoreBusy, held_by_this_process
from data.use_of_force.store import UseOfForceStore
from tests.test_store_integrity import HOLD, PROJECT, env_for, run, write_csv

UOF_HOLD = ("import sys, time\nfrom data.use_of_force.store import UseOfForceStore\n"
            "lock = UseOfForceStore().writing()\nlock.__enter__()\nprint('held', flush=True)\ntime.sleep(60)\n")
FRAME = pd.DataFrame({"force": ["kent", "essex"], "incidents": [3, 4]})


def _hold(root, script: str) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT, env=env_for(root), stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


@pytest.mark.parametrize("write", ["write", "record_failure", "save_raw"])
def test_use_of_force_writes_wait_for_another_writer_then_fail_with_one_line(store_dir, monkeypatch, write):
    monkeypatch.setenv("STOPSEARCH_LOCK_WAIT", "0.3")
    holder = _hold(store_dir, HOLD)  # e.g. `python -m data fetch` writing stop-and-search months
    store = UseOfForceStore(store_dir)
    try:
        with pytest.raises(StoreBusy) as caught:
            if write == "write":
                store.write("home_office_tables", "2023-24", {"tactics": FRAME}, source="t.ods")
            elif write == "record_failure":
                store.record_failure("home_office_tables", "2023-24", source="t.ods", reason="bad file")
            else:
                store.save_raw("t.ods", b"payload")
        assert f"pid {holder.pid}" in str(caught.value) and "writing to the store" in str(caught.value)
        assert "\n" not in str(caught.value)
        # nothing was written behind the holder's back
        assert not store.folder.exists() or not any(p.is_file() for p in store.folder.rglob("*"))
    finally:
        holder.kill()
        holder.wait()
    # once the holder is gone (the kernel drops its flock), the same write goes ahead
    monkeypatch.setenv("STOPSEARCH_LOCK_WAIT", "5")
    entry = store.write("home_office_tables", "2023-24", {"tactics": FRAME}, source="t.ods")
    assert entry.status == "ok" and entry.rows == 2
    assert store.read("home_office_tables", "2023-24", "tactics").equals(FRAME)
    assert not held_by_this_process(store_dir)  # released after the write


def test_a_stop_search_import_waits_while_the_use_of_force_store_is_writing(tmp_path):
    root = tmp_path / "store"
    csv = write_csv(tmp_path / "in", "kent", "2024-01", 3)
    holder = _hold(root, UOF_HOLD)
    try:
        done = run(root, "import", str(csv), STOPSEARCH_LOCK_WAIT="0.5")
        assert done.returncode != 0
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
        assert f"pid {holder.pid}" in lines[0] and "writing to the store" in lines[0]
        assert Store(root).entries() == []
    finally:
        holder.kill()
        holder.wait()
    assert run(root, "import", str(csv), STOPSEARCH_LOCK_WAIT="5").returncode == 0
    assert Store(root).entry("kent", "2024-01").records == 3


def test_nested_holders_in_one_process_share_the_lock(store_dir):
    """An import that holds the lock for its whole run can still write through both stores."""
    uof = UseOfForceStore(store_dir)
    with uof.writing():
        assert held_by_this_process(store_dir)
        uof.write("met", "2022-23", {"reports": FRAME}, source="met.csv")
        uof.record_failure("home_office_open_data", "2022-23", source="x.csv", reason="no such file")
    assert not held_by_this_process(store_dir)
    assert uof.entry("met", "2022-23").rows == 2 and uof.entry("home_office_open_data", "2022-23").status == "failed"
