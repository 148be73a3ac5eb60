"""Dashboard speed on one year of every force (the demo data, ~540,000 records), measured with AppTest.

What is timed: the wall time of `AppTest.run()`, i.e. one complete run of dashboard.py on the server
(loading, filtering, every table and figure of the page, building the page's messages), without the
browser's drawing. Targets: first page ready in under 3 s; a filter change re-rendered in under 0.5 s.

    python -m benchmarks dashboard          # or: python benchmarks/bench_dashboard.py

Cases:
- cold: a fresh process, nothing cached (demo generated, every table computed); imports timed apart;
- restart: a fresh process after an earlier run (the demo comes from Streamlit's disk cache);
- new session: a second visitor on a running server (the load is cached; the tables are too);
- filter changes: each change makes a new selection, so its tables are computed (cache miss);
- page switches with the same selection.
Each run also reports the process CPU seconds it used (time.process_time): on a busy machine the wall
time includes waiting for a CPU, the CPU time does not.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
DASHBOARD = str(PROJECT / "dashboard.py")
FIRST_PAGE_TARGET = 3.0
CHANGE_TARGET = 0.5

_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import pandas, scipy.stats, plotly.graph_objects, streamlit
from streamlit.testing.v1 import AppTest
imports = time.perf_counter() - t0
import streamlit as st
# AppTest has no server runtime, so st.cache_data would fall back to memory only; use the storage a real
# server uses (memory, plus ~/.streamlit/cache for persist="disk") so a restart is measured as it happens.
from streamlit.runtime.caching import cache_data_api
from streamlit.runtime.caching.storage.local_disk_cache_storage import LocalDiskCacheStorageManager
_manager = LocalDiskCacheStorageManager()
cache_data_api._data_caches.get_storage_manager = lambda: _manager
if sys.argv[1] == "cold":
    st.cache_data.clear()
at = AppTest.from_file(sys.argv[2], default_timeout=300)
t = time.perf_counter(); at.run(); first = time.perf_counter() - t
assert not at.exception, [e.value for e in at.exception]
print(json.dumps({"imports": imports, "first": first}))
"""


def _child(kind: str, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", _CHILD, kind, DASHBOARD], env=env, cwd=PROJECT,
                         capture_output=True, text=True, check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


CPU: list[float] = []   # process CPU seconds of the last timed run (load-independent; see main)


def _timed(at, action=None) -> float:  # noqa: ANN001 - AppTest and a widget action
    started, cpu = time.perf_counter(), time.process_time()
    (action() if action else at).run()
    elapsed = time.perf_counter() - started
    CPU[:] = [time.process_time() - cpu]
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as empty_store:
        env = {**os.environ, "STOPSEARCH_DATA_DIR": empty_store, "PYTHONPATH": str(PROJECT)}
        os.environ["STOPSEARCH_DATA_DIR"] = empty_store
        cold = _child("cold", env)
        restart = _child("restart", env)
        print(f"   imports (pandas, scipy, plotly, streamlit): {cold['imports']:.2f} s (paid once per server)")
        print(f"   first page, cold (demo generated, nothing cached): {cold['first']:.2f} s")
        print(f"   first page after a server restart (demo from disk cache): {restart['first']:.2f} s "
              f"[target {FIRST_PAGE_TARGET} s]")

        sys.path.insert(0, str(PROJECT))
        from streamlit.testing.v1 import AppTest

        first = AppTest.from_file(DASHBOARD, default_timeout=300)
        in_process_first = _timed(first)
        at = AppTest.from_file(DASHBOARD, default_timeout=300)
        new_session = _timed(at)
        print(f"   (CPU of the new session's first page: {CPU[0]:.3f} s)")
        print(f"   first page in this process: {in_process_first:.2f} s; a new session on a running server: "
              f"{new_session:.2f} s")
        records = len(__import__("data.demo", fromlist=["demo_records"]).demo_records())
        print(f"   records in the data: {records:,}")

        changes = [
            ("one force", lambda: at.multiselect(key="forces").set_value(["west-midlands"])),
            ("several forces", lambda: at.multiselect(key="forces").set_value(["kent", "essex", "surrey"])),
            ("all forces", lambda: at.multiselect(key="forces").set_value([])),
            ("period from", lambda: at.selectbox(key="start").set_value(at.selectbox(key="start").options[3])),
            ("period to", lambda: at.selectbox(key="end").set_value(at.selectbox(key="end").options[-2])),
            ("officer-defined", lambda: at.radio(key="eth").set_value("officer")),
            ("self-defined", lambda: at.radio(key="eth").set_value("self")),
            ("detailed groups", lambda: at.radio(key="level").set_value("detailed")),
            ("broad groups", lambda: at.radio(key="level").set_value("broad")),
            ("reference Asian", lambda: at.selectbox(key="ref").set_value("Asian")),
            ("legislation s60", lambda: at.multiselect(key="legislation").set_value(["Section 60"])),
            ("object drugs", lambda: at.multiselect(key="object").set_value(["Controlled drugs"])),
            ("age 18-24", lambda: at.multiselect(key="age").set_value(["18-24"])),
            ("gender female", lambda: at.multiselect(key="gender").set_value(["Female"])),
            ("type person", lambda: at.multiselect(key="type").set_value(["Person search"])),
        ]
        times, cpus = [], []
        for name, action in changes:
            elapsed = _timed(at, action)
            times.append(elapsed)
            cpus.append(CPU[0])
            print(f"   filter change, {name}: {elapsed:.3f} s (CPU {CPU[0]:.3f} s)")
        print(f"   filter changes: median {statistics.median(times):.3f} s, worst {max(times):.3f} s "
              f"[target {CHANGE_TARGET} s]; CPU median {statistics.median(cpus):.3f} s, worst {max(cpus):.3f} s")
        print(f"   (load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: wall times include "
              "waiting for a CPU; the CPU figures do not)")

        for page in ("disparity", "outcomes", "use-of-force", "compare", "map", "quality", "overview"):
            page_at = AppTest.from_file(DASHBOARD, default_timeout=300)
            page_at.query_params["page"] = page
            first_time = _timed(page_at)
            first_cpu = CPU[0]
            again = _timed(page_at, lambda p=page_at: p.multiselect(key="forces").set_value(["kent"]))
            print(f"   page {page}: opened in {first_time:.3f} s (CPU {first_cpu:.3f} s); one-force filter change "
                  f"{again:.3f} s (CPU {CPU[0]:.3f} s)")


if __name__ == "__main__":
    main()
