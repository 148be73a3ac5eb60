"""One writer at a time and kill -9, with real processes; CLI file-system errors as one line; untrusted labels
escaped in `status`."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from data.store import Store
from data.verify import verify

PROJECT = Path(__file__).resolve().parents[1]
HEADER = ("Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude,Gender,Age range,"
          "Self-defined ethnicity,Officer-defined ethnicity,Legislation,Object of search,Outcome,"
          "Outcome linked to object of search,Removal of more than just outer clothing")
ROW = ("Person search,{month}-03T10:15:00+00:00,False,,51.5,-0.1,Male,18-24,White - Irish,White,"
       "Misuse of Drugs Act 1971 (section 23),Controlled drugs,{outcome},True,False")


def write_csv(folder: Path, force: str, month: str, n: int, outcome: str = "Arrest") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{month}-{force}-stop-and-search.csv"
    path.write_text("\n".join([HEADER, *[ROW.format(month=month, outcome=outcome)] * n]) + "\n")
    return path


def env_for(root: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "STOPSEARCH_DATA_DIR": str(root), "PYTHONPATH": str(PROJECT), **extra}


def run(root: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "data", *args], cwd=PROJECT, env=env_for(root, **extra),
                          capture_output=True, text=True, timeout=300)


def contents(root: Path) -> tuple[dict, dict]:
    """Entries without their times, and every data file's table."""
    entries = {(e.force, e.month): (e.status, e.records, e.checksum, e.source) for e in Store(root).entries()}
    tables = {p.relative_to(root).as_posix(): pq.read_table(p) for p in sorted((root / "stop_search").rglob("*.parquet"))}
    return entries, tables


HOLD = ("import sys, time\nfrom data.store import Store\nlock = Store().writing()\nlock.__enter__()\n"
        "print('held', flush=True)\ntime.sleep(60)\n")


def test_a_second_writer_fails_with_one_line_naming_the_first(tmp_path):
    root = tmp_path / "store"
    csv = write_csv(tmp_path / "in", "kent", "2024-01", 3)
    holder = subprocess.Popen([sys.executable, "-c", HOLD], cwd=PROJECT, env=env_for(root), stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        done = run(root, "import", str(csv), STOPSEARCH_LOCK_WAIT="0.5")
        assert done.returncode != 0
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
        assert f"pid {holder.pid}" in lines[0] and "writing to the store" in lines[0]
        assert Store(root).entries() == []  # nothing written behind the holder's back
    finally:
        holder.kill()
        holder.wait()
    # the kernel drops a killed holder's lock: the next writer goes ahead
    done = run(root, "import", str(csv), STOPSEARCH_LOCK_WAIT="5")
    assert done.returncode == 0, done.stderr
    assert Store(root).entry("kent", "2024-01").records == 3


def test_two_imports_of_the_same_force_month_at_once(tmp_path):
    root = tmp_path / "store"
    a = write_csv(tmp_path / "a", "kent", "2018-01", 12137)
    b = write_csv(tmp_path / "b", "kent", "2018-01", 1200, outcome="Community resolution")
    procs = [subprocess.Popen([sys.executable, "-m", "data", "import", str(p)], cwd=PROJECT, env=env_for(root),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for p in (a, b)]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results  # the second waited for the first
    entry = Store(root).entry("kent", "2018-01")
    records = Store(root).read(["kent"])
    # whichever came last, the manifest describes exactly the file on disk
    assert entry.records == len(records) and entry.records in (12137, 1200)
    assert set(records["outcome"].astype(str)) == ({"Arrest"} if entry.records == 12137 else {"Community resolution"})
    assert verify(Store(root)).ok


def _months(n: int) -> list[str]:
    return [f"{2015 + i // 12}-{i % 12 + 1:02d}" for i in range(n)]


def test_kill_9_mid_import_then_verify_and_rerun_give_an_identical_store(tmp_path):
    folder = tmp_path / "downloads"
    for month in _months(48):
        for force in ("kent", "essex"):
            write_csv(folder, force, month, 400)
    full, killed = tmp_path / "full", tmp_path / "killed"
    assert run(full, "import", str(folder)).returncode == 0
    # a first import, then a kill -9 while the second replaces stored months
    assert run(killed, "import", str(folder)).returncode == 0
    rewrite = tmp_path / "again"
    for month in _months(48):
        for force in ("kent", "essex"):
            write_csv(rewrite, force, month, 150, outcome="Community resolution")
    proc = subprocess.Popen([sys.executable, "-m", "data", "import", str(rewrite)], cwd=PROJECT,
                            env=env_for(killed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120  # loose: only bounds a hang on a loaded machine
    while time.monotonic() < deadline and proc.poll() is None:
        if sum(e.records == 150 for e in Store(killed).entries()) >= 5:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the import finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # at any instant the manifest and the files agree: every read gives what the manifest says
    store = Store(killed)
    entries = store.entries()
    assert len(store.read()) == sum(e.records for e in entries)
    report = verify(store)
    if not report.ok:  # at most a temporary of the write in progress
        assert all("temporary" in f.problem for f in report.problems), report.lines()
        assert verify(store, repair=True) and verify(Store(killed)).ok
    assert run(killed, "import", str(folder)).returncode == 0
    (full_entries, full_tables), (got_entries, got_tables) = contents(full), contents(killed)
    assert got_entries == full_entries
    assert got_tables.keys() == full_tables.keys()
    assert all(got_tables[k].equals(full_tables[k]) for k in full_tables)
    assert verify(Store(killed)).ok


def test_cli_file_system_errors_are_one_line(tmp_path):
    root = tmp_path / "store"
    assert run(root, "import", str(write_csv(tmp_path / "in", "kent", "2024-01", 3))).returncode == 0
    folder = tmp_path / "out"
    folder.mkdir()
    for output, expected in ((folder, "is a folder"), (tmp_path / "in" / "2024-01-kent-stop-and-search.csv" / "x.csv", "is not a folder")):
        done = run(root, "export", "--forces", "kent", "--from", "2024-01", "--to", "2024-01", "--output", str(output))
        assert done.returncode != 0 and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and expected in done.stderr, done.stderr
    assert list(folder.iterdir()) == []  # no temporary file written anywhere
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for args in (["status"], ["import", str(tmp_path / "in")], ["verify"],
                 ["export", "--from", "2024-01", "--to", "2024-01", "--output", str(tmp_path / "y.csv")]):
        done = run(a_file, *args)
        assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "is not a folder" in done.stderr
    done = subprocess.run([sys.executable, "-m", "analysis", "table", "rates", "--forces", "kent", "--from", "2024-01",
                           "--to", "2024-01"], cwd=PROJECT, env=env_for(a_file), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0 and "Traceback" not in done.stderr and "is not a folder" in done.stderr


def test_an_unwritable_store_is_one_clear_error(tmp_path, monkeypatch):
    """Tests run as root, where chmod does not stop writes: the refusal is simulated at os.open."""
    from data import cli, store_lock

    real_open = os.open

    def refuse(path, *args, **kwargs):
        if str(path).endswith(store_lock.LOCK_NAME):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setenv("STOPSEARCH_DATA_DIR", str(tmp_path / "store"))
    monkeypatch.setattr(os, "open", refuse)
    csv = write_csv(tmp_path / "in", "kent", "2024-01", 3)
    assert cli.main(["import", str(csv)]) != 0
    assert cli._os_error_line(PermissionError(13, "Permission denied", "/x/manifest.json")).startswith(
        "Permission denied: /x/manifest.json. Check its permissions")


def test_status_escapes_control_characters(store_dir, capsys):
    from data import cli, normalise

    csv = ("\n".join([HEADER, ROW.format(month="2024-01", outcome="Arrest")]) + "\n").encode()
    frame = normalise.from_csv(csv, force="kent", month="2024-01")
    frame["outcome"] = pd.Categorical(["Arrest\n\x1b[31mred\x1b[0m"])
    Store().write_month("kent", "2024-01", frame, source="file\x1b]0;title\x07.csv")
    for fmt in ("table", "csv"):
        assert cli.main(["status", "--format", fmt]) == 0
        out = capsys.readouterr().out
        assert "\x1b" not in out and "\x07" not in out
        assert "\\x1b[31mred" in out and "file\\x1b]0;title\\x07.csv" in out
        if fmt == "csv":
            assert [line for line in out.splitlines() if line.startswith("kent")] == [
                "kent,2024-01,ok,1,file\\x1b]0;title\\x07.csv"]
