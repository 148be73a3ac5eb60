"""The app re-reads the store when any commit lands: a commit is one line appended to the manifest's
journal (manifest.json is rewritten only at compaction), so the records' cache key must follow both."""
from __future__ import annotations

from app import dataset
from data.store import Store
from tests.test_store import records


def test_the_records_cache_key_changes_with_every_commit(tmp_path):
    s = Store(tmp_path / "store")
    assert dataset._signature(s.root) == "no-manifest"
    s.write_month("kent", "2024-01", records("kent", "2024-01", 3), source="test")
    first = dataset._signature(s.root)
    assert first != "no-manifest"
    s.write_month("essex", "2024-01", records("essex", "2024-01", 2), source="test")
    second = dataset._signature(s.root)
    assert second != first
    s.record_failure("essex", "2024-02", source="test", reason="HTTP 500")
    assert dataset._signature(s.root) not in (first, second)


def test_the_key_changes_while_a_long_fetch_is_still_writing(tmp_path):
    """Inside one writing session (a fetch or import in another process) manifest.json stays as it was
    until the session ends; the app must still see each committed month."""
    s = Store(tmp_path / "store")
    s.write_month("kent", "2024-01", records("kent", "2024-01", 3), source="test")
    with s.writing():
        before = dataset._signature(s.root)
        s.write_month("essex", "2024-01", records("essex", "2024-01", 2), source="test")
        assert dataset._signature(s.root) != before
