"""Ten national years in the store (issue 11, section 3): import against pyarrow's CSV read, and the app
against a bare Streamlit page with one chart, every page, a filter change and peak memory.

    python -m benchmarks ten_years                    # ten years, ~6 million records (needs ../shared)
    python benchmarks/bench_ten_years.py --years 2    # a smaller run: the same measures on two years

The records are the real shared CSV rows dealt out again under every force id and month (as bench_import
does for one year), so the importer sees real text, both line endings and every quirk. Each app case runs
in a fresh process (AppTest: one full run of dashboard.py on the server side, no browser drawing), which
reports its wall and CPU seconds and its peak resident memory (VmHWM); changes and menu clicks come 3 s
after the first page is drawn, as a user reads it first. Targets from the issue: import
within 2x of pyarrow; first page within 1.5x of the bare page; every page and filter change under 1 s;
peak memory under 1 GB. On a shared machine wall times include waiting for a CPU: CPU seconds do not.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

import pyarrow.csv as pacsv  # noqa: E402

from benchmarks.bench_import import SHARED_ARCHIVE, timed  # noqa: E402
from data import archive  # noqa: E402
from data.months import month_range  # noqa: E402
from data.reference_data import resolve_forces  # noqa: E402
from data.store import Store  # noqa: E402

PER_YEAR = 600_000
DATE = re.compile(rb"^([^,]*,)\d{4}-\d{2}-(\d{2})")   # Type,Date,...: the date's year, month and day
LAST_MONTH = "2025-03"
PAGES = ("overview", "disparity", "long-view", "outcomes", "compare", "map", "quality")

_BARE = """
import plotly.graph_objects as go
import streamlit as st
st.title("Bare page")
st.plotly_chart(go.Figure(go.Scatter(x=list(range(100)), y=list(range(100)))))
"""

_CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter(); c0 = time.process_time()
from streamlit.testing.v1 import AppTest
script, page, change = sys.argv[1], sys.argv[2], sys.argv[3]
at = AppTest.from_file(script, default_timeout=900)
if page:
    at.query_params["page"] = page
t = time.perf_counter(); c = time.process_time(); at.run()
first, first_cpu = time.perf_counter() - t, time.process_time() - c
assert not at.exception, [e.value for e in at.exception]
out = {"first": first, "first_cpu": first_cpu, "total": time.perf_counter() - t0}
if change:
    time.sleep(3)  # a user reads the first page before clicking (the app's background imports run meanwhile)
if change == "pages":  # clicking through the menu of a running app: imports done, caches warm
    for name in sys.argv[4].split(","):
        at.query_params["page"] = name
        t = time.perf_counter(); c = time.process_time(); at.run()
        assert not at.exception, [e.value for e in at.exception]
        out["page:" + name] = (time.perf_counter() - t, time.process_time() - c)
    change = ""
if change:
    t = time.perf_counter(); c = time.process_time()
    at.multiselect(key="forces").set_value(change.split(",")).run()
    out["change"], out["change_cpu"] = time.perf_counter() - t, time.process_time() - c
    assert not at.exception, [e.value for e in at.exception]
    t = time.perf_counter(); c = time.process_time()
    at.radio(key="level").set_value("detailed").run()
    out["level"], out["level_cpu"] = time.perf_counter() - t, time.process_time() - c
# VmHWM, not ru_maxrss: on Linux ru_maxrss survives exec, so a child would report its parent's peak
hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")]
out["peak_rss_mb"] = (int(hwm[0].split()[1]) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024
print(json.dumps(out))
"""


def build_years(folder: Path, *, years: int, per_year: int = PER_YEAR) -> tuple[list[Path], int]:
    """`years` financial years of every force (BTP too) ending at LAST_MONTH, per_year records a year."""
    sources = sorted(SHARED_ARCHIVE.rglob("*-stop-and-search.csv"))
    if not sources:
        raise SystemExit(f"No stop-and-search CSVs under {SHARED_ARCHIVE}: the benchmark needs the shared data.")
    header = sources[0].read_bytes().partition(b"\n")[0].rstrip(b"\r")
    lines = [line for p in sources for line in p.read_bytes().splitlines()[1:] if line]
    last = int(LAST_MONTH[:4])
    months = month_range(f"{last - years}-04", LAST_MONTH)
    forces = resolve_forces("all")
    pairs = [(f, m) for m in months for f in forces]
    target = per_year * years
    files, start = [], 0
    for k, (force, month) in enumerate(pairs):
        n = target * (k + 1) // len(pairs) - target * k // len(pairs)
        # the date moves into the month the file is for (the importer refuses dates outside it)
        stamp = month.encode()
        chunk = [DATE.sub(lambda m, s=stamp: m.group(1) + s + b"-" + min(m.group(2), b"28"),
                          lines[(start + j) % len(lines)], count=1) for j in range(n)]
        start += n
        path = folder / month / f"{month}-{force}-stop-and-search.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        newline = b"\r\n" if k % 2 else b"\n"
        path.write_bytes(newline.join([header, *chunk]) + newline)
        files.append(path)
    return files, target


def _app(script: str, store: Path, *, page: str = "", change: str = "", pages: str = "") -> dict[str, float]:
    env = {**os.environ, "STOPSEARCH_DATA_DIR": str(store), "PYTHONPATH": str(PROJECT)}
    out = subprocess.run([sys.executable, "-c", _CHILD, script, page, change, pages], env=env, cwd=PROJECT,
                         capture_output=True, text=True, timeout=1800)
    if out.returncode:
        raise SystemExit(f"app run failed ({script} {page}): {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure_import(tmp: Path, years: int, per_year: int) -> Path:
    started = time.perf_counter()
    files, records = build_years(tmp / "csv", years=years, per_year=per_year)
    size = sum(p.stat().st_size for p in files)
    print(f"   built {len(files):,} force-month CSVs, {records:,} records, {size / 1e6:,.0f} MB "
          f"({time.perf_counter() - started:.0f} s)", flush=True)
    wall, cpu, _ = timed(lambda: [pacsv.read_csv(p) for p in files])
    print(f"   pyarrow.csv.read_csv, every file: {wall:7.1f} s wall {cpu:7.1f} s CPU", flush=True)
    store = Store(tmp / "store")
    iwall, icpu, summary = timed(lambda: archive.import_paths(store, [tmp / "csv"]))
    assert summary.ok and summary.records == records, summary.problems[:3]
    print(f"   import (normalise + store):       {iwall:7.1f} s wall {icpu:7.1f} s CPU "
          f"= {iwall / wall:.1f}x pyarrow [target 2x]", flush=True)
    return store.root


def measure_app(tmp: Path, store: Path) -> None:
    bare = tmp / "bare.py"
    bare.write_text(_BARE)
    empty = tmp / "empty-store"
    empty.mkdir(exist_ok=True)
    base = _app(str(bare), empty)
    print(f"   bare Streamlit page with one chart: {base['first']:6.2f} s (CPU {base['first_cpu']:.2f} s; "
          f"process {base['total']:.2f} s, peak {base['peak_rss_mb']:.0f} MB)", flush=True)
    dashboard = str(PROJECT / "dashboard.py")
    copy = Store(store).cache_path
    if copy.exists():
        copy.unlink()  # as after an import or a fetch: the first start builds the read copy
    once = _app(dashboard, store)
    print(f"   first start after an import:        {once['first']:6.2f} s (CPU {once['first_cpu']:.2f} s; builds "
          f"the read copy, once per store change; peak {once['peak_rss_mb']:.0f} MB)", flush=True)
    first = _app(dashboard, store, change="kent,essex")
    print(f"   first page, cold:                   {first['first']:6.2f} s (CPU {first['first_cpu']:.2f} s; "
          f"process {first['total']:.2f} s) = {first['first'] / base['first']:.1f}x the bare page's run, "
          f"{first['total'] / base['total']:.1f}x its whole cold process [target 1.5x]", flush=True)
    print(f"   filter change, two forces:          {first['change']:6.2f} s (CPU {first['change_cpu']:.2f} s) "
          "[target 1 s]", flush=True)
    print(f"   filter change, detailed groups:     {first['level']:6.2f} s (CPU {first['level_cpu']:.2f} s)", flush=True)
    peaks = [first["peak_rss_mb"], once["peak_rss_mb"]]
    for page in PAGES:
        result = _app(dashboard, store, page=page)
        peaks.append(result["peak_rss_mb"])
        print(f"   page {page:<10} cold (load + page): {result['first']:6.2f} s (CPU {result['first_cpu']:.2f} s), "
              f"peak {result['peak_rss_mb']:.0f} MB", flush=True)
    clicked = _app(dashboard, store, change="pages", pages=",".join(PAGES))
    peaks.append(clicked["peak_rss_mb"])
    for page in PAGES:
        wall, cpu = clicked["page:" + page]
        print(f"   page {page:<10} from the menu of a running app: {wall:6.2f} s (CPU {cpu:.2f} s) [target 1 s]",
              flush=True)
    print(f"   peak resident memory of an app process: {max(peaks):.0f} MB [target 1,024 MB]", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10, help="financial years to build (default 10)")
    parser.add_argument("--per-year", type=int, default=PER_YEAR, help="records a year (default 600,000)")
    parser.add_argument("--store", type=Path, default=None,
                        help="measure the app on this existing store instead of building one")
    parser.add_argument("--skip-app", action="store_true", help="measure the import only")
    parser.add_argument("--keep", type=Path, default=None,
                        help="build in this folder and keep it (its store/ can be given to --store later)")
    args = parser.parse_args(argv or [])
    with tempfile.TemporaryDirectory(prefix="bench_ten_years_") as tmp_name:
        tmp = args.keep or Path(tmp_name)
        tmp.mkdir(parents=True, exist_ok=True)
        store = args.store or measure_import(tmp, args.years, args.per_year)
        if not args.skip_app:
            measure_app(tmp, store)


if __name__ == "__main__":
    main(sys.argv[1:])
