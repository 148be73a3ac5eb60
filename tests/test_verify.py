"""`python -m data verify [--repair]` and the read checks: damaged, swapped, missing and orphan files, hand-edited
and lost manifests, stale temporaries; each found, named on one line, and repaired to a clean store."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from data import normalise
from data.errors import StoreError
from data.store import Store
from data.verify import verify

PROJECT = Path(__file__).resolve().parents[1]
HEADER = ("Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude,Gender,Age range,"
          "Self-defined ethnicity,Officer-defined ethnicity,Legislation,Object of search,Outcome,"
          "Outcome linked to object of search,Removal of more than just outer clothing")
ROW = ("Person search,{month}-03T10:15:00+00:00,False,,51.5,-0.1,Male,18-24,{eth},White,"
       "Misuse of Drugs Act 1971 (section 23),Controlled drugs,Arrest,True,False")


def records(force: str, month: str, n: int, eth: str = "White - Irish"):
    body = [HEADER, *[ROW.format(month=month, eth=eth)] * n]
    return normalise.from_csv(("\n".join(body) + "\n").encode(), force=force, month=month)


def filled(root: Path) -> Store:
    """kent 2024-01 (3), kent 2024-02 (5), cumbria 2024-01 (4), essex 2024-01 empty, essex 2024-02 not published."""
    s = Store(root)
    s.write_month("kent", "2024-01", records("kent", "2024-01", 3), source="a")
    s.write_month("kent", "2024-02", records("kent", "2024-02", 5), source="b")
    s.write_month("cumbria", "2024-01", records("cumbria", "2024-01", 4, "Black/African/Caribbean/Black British - "
                                                "African"), source="c")
    s.write_month("essex", "2024-01", records("essex", "2024-01", 0), source="d")
    s.record_not_published("essex", "2024-02", source="availability")
    return s


def cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "STOPSEARCH_DATA_DIR": str(root), "PYTHONPATH": str(PROJECT)}
    return subprocess.run([sys.executable, "-m", "data", *args], cwd=PROJECT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_a_clean_store_verifies_clean(store_dir):
    filled(store_dir)
    report = verify(Store())
    # oracle: 4 files written (3 ok + 1 empty), 3 + 5 + 4 records
    assert report.ok and (report.files, report.records) == (4, 12)
    done = cli(store_dir, "verify")
    assert done.returncode == 0 and "intact" in done.stdout and not done.stderr


def test_no_store_yet_is_clean(tmp_path):
    assert verify(Store(tmp_path / "nothing")).ok


def _other_month_file(root: Path) -> bytes:
    """A valid store file of another store (same force-month, other records): a swap no reader would notice."""
    other = Store(root.parent / "other")
    other.write_month("cumbria", "2024-01", records("cumbria", "2024-01", 4), source="c")
    return other.path_for("cumbria", "2024-01").read_bytes()


@pytest.mark.parametrize("damage", ["swapped", "truncated", "garbage", "flipped", "deleted"])
def test_damage_with_the_read_copy_present_fails_the_read_and_is_repaired(store_dir, damage):
    s = filled(store_dir)
    before = s.read()
    assert s.cache_path.is_file()  # the combined read copy exists: it must not hide the damage
    path = s.path_for("cumbria", "2024-01")
    payload = path.read_bytes()
    if damage == "swapped":  # same size class, another valid Parquet file: 4 White records instead of 4 Black
        path.write_bytes(_other_month_file(store_dir))
    elif damage == "truncated":
        path.write_bytes(payload[: len(payload) // 2])
    elif damage == "garbage":
        path.write_bytes(b"x" * len(payload))
    elif damage == "flipped":  # one bit in the middle, same size; restore mtime so only the hash can tell
        stat = path.stat()
        middle = len(payload) // 2
        path.write_bytes(payload[:middle] + bytes([payload[middle] ^ 1]) + payload[middle + 1:])
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    else:
        path.unlink()
    if damage != "flipped":  # flipped keeps size and mtime: only the full hash (verify) finds it
        with pytest.raises(StoreError, match=r"cumbria.*2024-01.*verify --repair"):
            Store(store_dir).read()
        with pytest.raises(StoreError, match="verify --repair"):
            Store(store_dir).read(["cumbria"])
        assert len(Store(store_dir).read(["kent"])) == 8  # undamaged months still read
    done = cli(store_dir, "verify")
    assert done.returncode == 1
    problems = [line for line in done.stderr.splitlines() if line.startswith("problem:")]
    assert len(problems) == 1 and "cumbria" in problems[0], done.stderr
    repaired = cli(store_dir, "verify", "--repair")
    assert repaired.returncode == 0, repaired.stderr
    assert "now verifies clean" in repaired.stdout
    entry = Store(store_dir).entry("cumbria", "2024-01")
    assert entry.status == "failed" and "fetch or import it again" in entry.reason
    after = Store(store_dir).read()
    assert len(after) == len(before) - 4 and set(after["force"]) == {"kent"}
    assert verify(Store(store_dir)).ok


def test_hand_edited_manifest_is_reported_and_repaired_from_the_files(store_dir):
    s = filled(store_dir)
    payload = json.loads(s.manifest_path.read_text())
    for item in payload["entries"]:
        if (item["force"], item["month"]) == ("kent", "2024-02"):
            item["records"] *= 10          # 50, the file holds 5
        if (item["force"], item["month"]) == ("kent", "2024-01"):
            item["status"] = "verified"    # unknown status
        if (item["force"], item["month"]) == ("essex", "2024-02"):
            item["records"] = 7            # records on a not_published month
    payload["entries"].append({"force": "kent", "month": "2024-13", "status": "ok", "records": -1,
                               "source": "x", "retrieved_at": ""})
    s.manifest_path.write_text(json.dumps(payload))
    with pytest.raises(StoreError, match="hold 12 records but the manifest says 57|verify"):
        Store(store_dir).read()
    report = verify(Store(store_dir))
    text = "\n".join(f.line() for f in report.problems)
    assert "the manifest says 50 records but the file holds 5" in text
    assert "unknown status 'verified'" in text
    assert "7 records on a not_published month" in text
    assert "2024-13" in text
    repaired = verify(Store(store_dir), repair=True)
    assert repaired.repairs
    assert verify(Store(store_dir)).ok
    fixed = Store(store_dir)
    # the checksums prove the files are the ones written, so the entries are corrected from them
    assert (fixed.entry("kent", "2024-02").status, fixed.entry("kent", "2024-02").records) == ("ok", 5)
    assert (fixed.entry("kent", "2024-01").status, fixed.entry("kent", "2024-01").records) == ("ok", 3)
    assert fixed.entry("essex", "2024-02").records == 0
    assert len(fixed.read()) == 12


@pytest.mark.parametrize("how", ["deleted", "garbled"])
def test_a_lost_manifest_is_rebuilt_from_the_files(store_dir, how):
    s = filled(store_dir)
    expected = {(e.force, e.month): (e.status, e.records, e.checksum, e.source)
                for e in s.entries() if e.status in ("ok", "empty")}
    before = s.read()
    if how == "deleted":
        s.manifest_path.unlink()
        assert Store(store_dir).read().empty  # what the issue saw: 4 files read as an empty store
    else:
        s.manifest_path.write_text('{"entries": [ {"force": "kent"')
    done = cli(store_dir, "verify")
    assert done.returncode == 1 and "manifest.json" in done.stderr
    assert cli(store_dir, "verify", "--repair").returncode == 0
    rebuilt = {(e.force, e.month): (e.status, e.records, e.checksum, e.source) for e in Store(store_dir).entries()}
    assert rebuilt == expected  # sources come back from the files' own metadata
    assert len(Store(store_dir).read()) == len(before)


def test_orphans_and_stale_temporaries(store_dir):
    s = filled(store_dir)
    orphan = s.path_for("surrey", "2024-01")
    orphan.parent.mkdir(parents=True)
    other = Store(store_dir.parent / "elsewhere")
    other.write_month("surrey", "2024-01", records("surrey", "2024-01", 2), source="e")
    orphan.write_bytes(other.path_for("surrey", "2024-01").read_bytes())
    (s.data_dir / "kent" / ".2024-01.parquet.abc123.tmp").write_bytes(b"half a file")
    (store_dir / ".manifest.json.xyz.tmp").write_text("{")
    (s.data_dir / "kent" / "notes.parquet").write_bytes(b"not ours")
    report = verify(Store(store_dir))
    lines = [f.line() for f in report.problems]
    assert sum("a temporary file left" in line for line in lines) == 2
    assert sum("(an orphan)" in line for line in lines) == 2, lines
    verify(Store(store_dir), repair=True)
    assert verify(Store(store_dir)).ok
    assert Store(store_dir).entry("surrey", "2024-01").records == 2   # a store file of its month: adopted
    assert not (s.data_dir / "kent" / "notes.parquet").exists()        # anything else: moved aside
    assert list((store_dir / "quarantine").rglob("notes.parquet.*"))
    assert not list(store_dir.rglob(".*.tmp"))


def test_a_copied_store_still_reads(store_dir, tmp_path):
    """Copies change mtimes: the cheap check falls back to the hash, which still matches."""
    s = filled(store_dir)
    for path in s.data_dir.rglob("*.parquet"):
        os.utime(path, ns=(1, 1))
    assert len(Store(store_dir).read()) == 12
    assert verify(Store(store_dir)).ok


def _health_page():
    import os

    import pandas as pd

    from app import store_health
    from app.dataset import Dataset

    store_health.render(Dataset(records=pd.DataFrame(), manifest=pd.DataFrame(), demo=False, key="k",
                                root=os.environ["STOPSEARCH_DATA_DIR"], months=(), forces=(), options={}))


def test_the_data_quality_page_shows_store_health(store_dir):
    from streamlit.testing.v1 import AppTest

    filled(store_dir).path_for("kent", "2024-01").write_bytes(b"junk")
    at = AppTest.from_function(_health_page).run(timeout=120)
    assert not at.exception
    assert at.text[0].value.startswith("Attention:") and "1 problem" in at.text[0].value
    assert "kent/2024-01.parquet" in at.code[0].value


def test_a_quick_check_hashes_only_files_that_changed(store_dir):
    """The Data quality page's first look: a file whose size and time match its entry is not read, one that
    differs is hashed (oracle: the full verify finds the same problem)."""
    s = filled(store_dir)
    quick = verify(s, quick=True)
    assert quick.ok and not quick.hashed and "by size and time" in quick.summary()
    full = verify(s)
    assert (quick.files, quick.records) == (full.files, full.records) and full.hashed
    path = s.path_for("kent", "2024-01")
    path.write_bytes(b"junk")
    quick, full = verify(s, quick=True), verify(s)
    assert [f.where for f in quick.problems] == [f.where for f in full.problems] == [str(path)]
    assert verify(s, quick=True, repair=True).hashed  # repairing always hashes
