"""Bulk import and store read of a national year (~600,000 records) built from the real shared CSVs."""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pyarrow.csv as pacsv

from data import archive, schema
from data.import_pool import usable_cpus
from data.months import month_range
from data.reference_data import resolve_forces
from data.store import Store

PROJECT = Path(__file__).resolve().parents[1]
SHARED_ARCHIVE = PROJECT.parent / "shared" / "data" / "police_uk" / "archive"
START, END = "2023-04", "2024-03"
TARGET = 600_000
DATE = re.compile(rb"^([^,]*,)\d{4}-\d{2}-(\d{2})")   # Type,Date,...: the date's year, month and day


def into_month(line: bytes, month: str) -> bytes:
    """A CSV record with its date moved into `month` (day capped at 28); the importer refuses dates outside
    the month a file is for, so dealt-out records must carry their new month."""
    stamp = month.encode()
    return DATE.sub(lambda m: m.group(1) + stamp + b"-" + min(m.group(2), b"28"), line, count=1)


def build_year(folder: Path, *, target: int = TARGET) -> tuple[list[Path], int]:
    """A year of every force (BTP too) named as data.police.uk names them, made by dealing the records of the
    real CSVs out again under other force ids and months: `target` records in all (oracle for the counts)."""
    sources = sorted(SHARED_ARCHIVE.rglob("*-stop-and-search.csv"))
    if not sources:
        raise SystemExit(f"No stop-and-search CSVs under {SHARED_ARCHIVE}: the benchmark needs the shared data.")
    header = sources[0].read_bytes().partition(b"\n")[0].rstrip(b"\r")
    lines = [line for p in sources for line in p.read_bytes().splitlines()[1:] if line]
    pairs = [(f, m) for m in month_range(START, END) for f in resolve_forces("all")]
    files, start = [], 0
    for k, (force, month) in enumerate(pairs):
        n = target * (k + 1) // len(pairs) - target * k // len(pairs)
        chunk = [into_month(lines[(start + j) % len(lines)], month) for j in range(n)]
        start += n
        path = folder / month / f"{month}-{force}-stop-and-search.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        newline = b"\r\n" if k % 2 else b"\n"  # both line endings occur in the real files
        path.write_bytes(newline.join([header, *chunk]) + newline)
        files.append(path)
    return files, target


def _load() -> str:
    """The one-minute load average: on a shared machine wall times include waiting for a CPU."""
    return Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"


def timed(fn: Callable[[], object], *, repeat: int = 1) -> tuple[float, float, object]:
    """Best wall and CPU seconds over `repeat` runs, and the last result."""
    best_wall = best_cpu = float("inf")
    result = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best_wall, best_cpu, result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", type=int, default=TARGET, help="records to build (default 600,000)")
    args = parser.parse_args(argv or [])  # the benchmarks runner calls main() with no arguments
    with tempfile.TemporaryDirectory(prefix="bench_import_") as tmp:
        tmp = Path(tmp)
        files, records = build_year(tmp / "csv", target=args.target)
        size = sum(p.stat().st_size for p in files)
        print(f"built {len(files)} force-month CSVs, {records:,} records, {size / 1e6:.0f} MB in {tmp}")

        wall, cpu, _ = timed(lambda: [pacsv.read_csv(p) for p in files], repeat=2)
        print(f"pyarrow.csv.read_csv, every file:        {wall:6.2f} s wall {cpu:6.2f} s CPU (baseline: parse only; "
              f"load {_load()})")

        for workers, label in ((0, "in this process"), (usable_cpus(), f"{usable_cpus()} workers")):
            store = Store(tmp / f"store-{workers}")
            wall, cpu, summary = timed(lambda s=store, w=workers: archive.import_paths(s, [tmp / "csv"], workers=w))
            assert summary.ok and summary.records == records, summary.problems[:3]
            print(f"import of the folder, {label + ':':<17}{wall:6.2f} s wall {cpu:6.2f} s CPU + workers "
                  f"{summary.worker_cpu_seconds:5.2f} s CPU ({records / wall:,.0f} records/s; load {_load()})")

        zipped = tmp / "year.zip"
        with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as z:
            for p in files:
                z.write(p, p.relative_to(tmp / "csv").as_posix())
        store2 = Store(tmp / "store2")
        wall, cpu, summary = timed(lambda: archive.import_paths(store2, [zipped], workers=usable_cpus()))
        assert summary.ok and summary.records == records
        print(f"import of the same as one zip:           {wall:6.2f} s wall {cpu:6.2f} s CPU + workers "
              f"{summary.worker_cpu_seconds:5.2f} s CPU")

        wall, cpu, _ = timed(store.read)
        print(f"Store.read(), first after the import:    {wall:6.2f} s wall {cpu:6.2f} s CPU (reads {len(files)} files, "
              "writes the combined read copy)")
        wall, cpu, frame = timed(store.read, repeat=3)
        assert len(frame) == records and list(frame.columns) == list(schema.CANONICAL_COLUMNS)
        print(f"Store.read(), one year of every force:   {wall:6.2f} s wall {cpu:6.2f} s CPU ({len(frame):,} records)")
        wall, cpu, raw = timed(store.read_raw, repeat=3)
        print(f"  of which Store.read_raw (Parquet):     {wall:6.2f} s wall {cpu:6.2f} s CPU")
        wall, cpu, _ = timed(lambda: schema.add_derived_columns(raw), repeat=3)
        print(f"  of which schema.add_derived_columns:   {wall:6.2f} s wall {cpu:6.2f} s CPU")
        wall, cpu, one = timed(lambda: store.read(["metropolitan"]), repeat=3)
        print(f"Store.read(['metropolitan']), one year:  {wall:6.2f} s wall {cpu:6.2f} s CPU ({len(one):,} records)")
        stored = sum(p.stat().st_size for p in store.root.rglob("*.parquet"))
        print(f"store size: {stored / 1e6:.1f} MB Parquet for {size / 1e6:.0f} MB of CSV")


if __name__ == "__main__":
    main(sys.argv[1:])
