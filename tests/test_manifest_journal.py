"""The manifest's journal (data.store_manifest): a commit is one appended line, not a rewrite of manifest.json;
a torn last line is never a commit; a kill -9 between the append and the rename, or inside a compaction,
leaves a store that reads what was committed; compaction never changes what the manifest says."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from data import store_manifest
from data.errors import StoreError
from data.store import ManifestEntry, Store
from data.store_manifest import Manifest
from data.verify import verify
from tests.test_store import records

PROJECT = Path(__file__).resolve().parents[1]


def journal_lines(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "manifest.journal").read_bytes().splitlines()]


def test_a_commit_appends_one_line_and_leaves_manifest_json_alone(store_dir):
    s = Store()
    s.write_month("kent", "2024-01", records(), source="first")  # its own session: folded in at the end
    manifest = store_dir / "manifest.json"
    before = manifest.read_bytes(), manifest.stat().st_ino
    assert not (store_dir / "manifest.journal").exists()
    with s.batch():
        s.write_month("kent", "2024-02", records(month="2024-02"), source="x")
        s.write_month("essex", "2024-01", records(force="essex"), source="x")
        s.record_failure("essex", "2024-02", source="x", reason="timed out")
        # three commits, three appended lines after the header; manifest.json untouched (was: 3 rewrites)
        assert (manifest.read_bytes(), manifest.stat().st_ino) == before
        lines = journal_lines(store_dir)
        assert lines[0] == {"base": json.loads(before[0])["journal"]} and len(lines) == 4
        assert [item["month"] for line in lines[1:] for item in line["set"]] == ["2024-02", "2024-01", "2024-02"]
        # another reader (a fresh Store, no shared cache) sees every commit
        assert len(Store(store_dir).entries()) == 4
    assert not (store_dir / "manifest.journal").exists()  # folded in when the session ended
    assert [(e["force"], e["month"]) for e in json.loads(manifest.read_text())["entries"]] == [
        ("essex", "2024-01"), ("essex", "2024-02"), ("kent", "2024-01"), ("kent", "2024-02")]
    assert verify(Store(store_dir)).ok


def test_a_torn_last_line_is_not_a_commit_and_the_next_append_cuts_it_off(store_dir):
    s = Store()
    with s.batch():
        s.write_month("kent", "2024-01", records(), source="x")
        journal = store_dir / "manifest.journal"
        whole = journal.read_bytes()
        # a writer killed in the middle of its append: half a line, no newline
        torn = json.dumps({"remove": [], "set": [{"force": "kent", "month": "2024-02", "source": "TORN"}]})[:-5]
        with open(journal, "ab") as handle:
            handle.write(torn.encode())
        assert [(e.force, e.month) for e in Store(store_dir).entries()] == [("kent", "2024-01")]
        report = verify(Store(store_dir))
        assert report.ok, report.lines()
        s.write_month("essex", "2024-01", records(force="essex"), source="x")
        after = journal.read_bytes()
        assert after.startswith(whole) and b"TORN" not in after and after.count(b"\n") == whole.count(b"\n") + 1
        assert [(e.force, e.month) for e in Store(store_dir).entries()] == [("essex", "2024-01"), ("kent", "2024-01")]
    assert len(Store(store_dir).read()) == 6 and verify(Store(store_dir)).ok


def test_a_damaged_journal_line_is_one_clear_error_and_verify_repair_keeps_the_rest(store_dir):
    s = Store()
    with s.batch():
        for month in ("2024-01", "2024-02", "2024-03"):
            s.write_month("kent", month, records(month=month), source="x")
        journal = store_dir / "manifest.journal"
        lines = journal.read_bytes().splitlines(keepends=True)
        lines[2] = b"{garbage\n"  # kent 2024-02's commit, damaged in the middle of the journal
        journal.write_bytes(b"".join(lines))
        with pytest.raises(StoreError, match=r"manifest.journal is unreadable \(line 3.*verify --repair"):
            Store(store_dir).entries()
        report = verify(Store(store_dir))
        assert not report.ok and any("line 3" in f.problem for f in report.problems)
        # the file of 2024-02 is now an orphan; repair describes it from its contents, keeps the others
        repaired = verify(Store(store_dir), repair=True)
        assert repaired.repairs, repaired.lines()
    after = Store(store_dir)
    assert [(e.month, e.records) for e in after.entries()] == [("2024-01", 3), ("2024-02", 3), ("2024-03", 3)]
    assert verify(after).ok and len(after.read()) == 9


_KILL_AT_RENAME = """
import os, signal, sys
from data.store import Store
from tests.test_store import records
real = os.replace
def replace(src, dst, *a, **k):
    if str(dst).endswith("2024-01.parquet"):
        os.kill(os.getpid(), signal.SIGKILL)  # after the journal line (the commit), before the rename
    return real(src, dst, *a, **k)
os.replace = replace
Store(sys.argv[1]).write_month("kent", "2024-01", records(n=2), source="second")
"""

_KILL_IN_COMPACTION = """
import os, signal, sys
from pathlib import Path
from data.store import Store
from tests.test_store import records
real = Path.unlink
def unlink(self, *a, **k):
    if self.name == "manifest.journal":
        os.kill(os.getpid(), signal.SIGKILL)  # manifest.json rewritten, the journal not yet deleted
    return real(self, *a, **k)
Path.unlink = unlink
s = Store(sys.argv[1])
with s.batch():
    s.write_month("essex", "2024-01", records(force="essex", n=2), source="second")
"""


def _killed(script: str, root: Path) -> None:
    done = subprocess.run([sys.executable, "-c", script, str(root)], cwd=PROJECT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(PROJECT)}, timeout=300)
    assert done.returncode == -9, done.stderr


def test_kill_9_between_the_journal_append_and_the_rename(store_dir):
    first = Store().write_month("kent", "2024-01", records(), source="first")
    _killed(_KILL_AT_RENAME, store_dir)
    s = Store(store_dir)
    entry = s.entry("kent", "2024-01")
    assert (entry.source, entry.records) == ("second", 2) and entry.checksum != first.checksum  # committed
    # at this instant the records read are the committed ones (the write's temporary), never the old file's
    assert len(s.read()) == 2
    report = verify(s)
    assert [f.problem for f in report.problems] == [
        "a temporary file left by a write interrupted after its manifest entry was written (committed); "
        "--repair or the next fetch or import finishes it."]
    with s.writing():  # the next writer finishes the rename
        pass
    assert verify(Store(store_dir)).ok
    assert not [p for p in (store_dir / "stop_search" / "kent").iterdir() if p.name.startswith(".")]
    assert len(Store(store_dir).read()) == 2


def test_kill_9_inside_a_compaction_leaves_a_stale_journal_that_is_ignored(store_dir):
    Store().write_month("kent", "2024-01", records(), source="first")
    _killed(_KILL_IN_COMPACTION, store_dir)
    assert (store_dir / "manifest.journal").exists()  # stale: its base is the manifest.json before the rewrite
    on_disk = json.loads((store_dir / "manifest.json").read_text())
    assert journal_lines(store_dir)[0]["base"] != on_disk["journal"]
    s = Store(store_dir)
    assert [(e.force, e.records) for e in s.entries()] == [("essex", 2), ("kent", 3)]
    assert verify(s).ok
    s.write_month("kent", "2024-02", records(month="2024-02"), source="x")  # starts a new journal
    assert [(e.force, e.month) for e in Store(store_dir).entries()] == [
        ("essex", "2024-01"), ("kent", "2024-01"), ("kent", "2024-02")]
    assert verify(Store(store_dir)).ok


def test_compaction_changes_nothing_the_manifest_says(tmp_path, monkeypatch):
    """Random updates, removals and merges against a plain dict (the oracle); every state is read back by a
    fresh reader, by a long-lived reader (which reads only the new lines), before and after compactions."""
    monkeypatch.setattr(store_manifest, "COMPACT_LINES", 7)
    path = tmp_path / "manifest.json"
    writer, follower = Manifest(path), Manifest(path)
    model: dict[tuple[str, str], ManifestEntry] = {}
    rng = random.Random(11)
    keys = [(f, f"2020-{m:02d}") for f in ("kent", "essex", "surrey") for m in range(1, 13)]
    for step in range(120):
        chosen = rng.sample(keys, rng.randint(1, 3))
        new = [ManifestEntry(f, m, rng.choice(["ok", "failed"]), rng.randint(0, 9), f"s{step}", "2024-01-01T00:00:00Z",
                             checksum=f"{step:064x}") for f, m in chosen[1:]]
        remove = (chosen[0],) if rng.random() < 0.3 else ()
        for key in remove:
            model.pop(key, None)
        for entry in new:
            model[(entry.force, entry.month)] = entry
        writer.update_many(new, remove=remove)
        if step % 25 == 0:
            assert writer.compact()
        assert Manifest(path).load() == model
        assert follower.load() == model
    lines = len(journal_lines(tmp_path)) if (tmp_path / "manifest.journal").exists() else 0
    assert 0 < lines <= 7  # compacted when it passed 7 lines
    assert writer.compact() and not (tmp_path / "manifest.journal").exists()
    on_disk = {(e["force"], e["month"]): ManifestEntry.from_json(e) for e in json.loads(path.read_text())["entries"]}
    assert on_disk == model == Manifest(path).load() == follower.load()


_KILL_IN_GROUP = """
import os, signal, sys
from data import archive
from data.store import Store
real, renames = os.replace, []
def replace(src, dst, *a, **k):
    if str(dst).endswith(".parquet"):
        renames.append(dst)
        if len(renames) == 2:
            os.kill(os.getpid(), signal.SIGKILL)  # a group committed (one journal line), one file renamed
    return real(src, dst, *a, **k)
os.replace = replace
archive.import_paths(Store(sys.argv[1]), [sys.argv[2]])
"""


def test_kill_9_inside_a_group_commit_reads_the_whole_group_and_the_next_writer_finishes(store_dir, tmp_path):
    from tests.store_fixtures import write_month

    folder = tmp_path / "csv"
    sizes = {("kent", "2024-01"): 30, ("kent", "2024-02"): 20, ("durham", "2024-01"): 10}
    for k, ((force, month), n) in enumerate(sizes.items()):
        write_month(folder, force, month, n, seed=k)
    done = subprocess.run([sys.executable, "-c", _KILL_IN_GROUP, str(store_dir), str(folder)], cwd=PROJECT,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(PROJECT)}, timeout=300)
    assert done.returncode == -9, done.stderr
    s = Store(store_dir)
    assert {(e.force, e.month): e.records for e in s.entries()} == sizes  # the group line is the commit
    assert len(s.read()) == 60  # two files still under their temporary names: read from there
    assert sum("committed" in f.problem for f in verify(s).problems) == 2
    with s.writing():
        pass
    assert verify(Store(store_dir)).ok and len(Store(store_dir).read()) == 60


def test_a_new_manifest_object_starts_from_what_this_process_read_and_sees_every_later_commit(tmp_path):
    """The app makes a Store per cached read: each must not re-parse every entry, and must still see a
    commit another object (or process) appended since. Oracle: a fresh parse of the files."""
    from data import store_manifest
    from data.store import Store

    first = Store(tmp_path / "store")
    for i in range(1, 5):
        first.record_failure("kent", f"2024-0{i}", source="test", reason="HTTP 500")
    assert len(first.entries()) == 4
    shared = store_manifest._READ[first._manifest.path]
    second = Store(tmp_path / "store")
    second.entries()
    assert second._manifest._state is shared  # nothing parsed again
    first.record_failure("essex", "2024-01", source="test", reason="HTTP 500")  # a later commit
    third = Store(tmp_path / "store")
    store_manifest._READ.clear()
    oracle = {(e.force, e.month): e for e in third.entries()}
    assert {(e.force, e.month): e for e in second.entries()} == oracle and len(oracle) == 5
