"""The local store: atomic Parquet per force-month, the manifest's statuses, threads, reading selections."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from data import normalise, schema, store
from data.errors import StoreError
from data.store import STATUSES, ManifestEntry, Store, store_root

HEADER = ("Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude,Gender,Age range,"
          "Self-defined ethnicity,Officer-defined ethnicity,Legislation,Object of search,Outcome,"
          "Outcome linked to object of search,Removal of more than just outer clothing")
ROWS = [
    "Person search,2024-01-03T10:15:00+00:00,False,,51.5,-0.1,Male,18-24,White - Irish,White,"
    "Misuse of Drugs Act 1971 (section 23),Controlled drugs,Arrest,True,False",
    "Vehicle search,2024-01-04T00:00:00+00:00,,,,,,,,,,,A no further action disposal,,",
    "Person search,2024-01-05T23:59:00+00:00,True,Op X,51.6,-0.2,Female,over 34,"
    "Black/African/Caribbean/Black British - African,Black,"
    "Police and Criminal Evidence Act 1984 (section 1),Stolen goods,Community resolution,False,",
]


def records(force: str = "kent", month: str = "2024-01", n: int = 3) -> pd.DataFrame:
    rows = (ROWS * (n // len(ROWS) + 1))[:n]
    return normalise.from_csv(("\n".join([HEADER, *rows]) + "\n").encode(), force=force, month=month)


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Values as Python objects with every kind of missing as None (categories may be str or string)."""
    return frame.astype(object).where(frame.notna(), None)


def test_store_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("STOPSEARCH_DATA_DIR", str(tmp_path / "elsewhere"))
    assert store_root() == tmp_path / "elsewhere"
    assert Store().root == tmp_path / "elsewhere"
    monkeypatch.delenv("STOPSEARCH_DATA_DIR")
    assert store_root() == Path(store.__file__).resolve().parents[1] / "store"


def test_write_and_read_back_one_month(store_dir):
    s = Store()
    entry = s.write_month("kent", "2024-01", records(), source="https://example/api/stops-force?force=kent")
    assert (entry.status, entry.records) == ("ok", 3)
    path = store_dir / "stop_search" / "kent" / "2024-01.parquet"
    # oracle: the checksum is the sha256 of the file on disk
    import hashlib
    assert entry.checksum == hashlib.sha256(path.read_bytes()).hexdigest()
    assert entry.retrieved_at.endswith("Z") and entry.reason is None
    back = s.read()
    assert list(back.columns) == list(schema.CANONICAL_COLUMNS)
    assert back.dtypes.astype(str).to_dict() == schema.empty_frame().dtypes.astype(str).to_dict()
    expected = schema.add_derived_columns(records())
    pd.testing.assert_frame_equal(plain(back), plain(expected))
    # booleans stay nullable: missing is <NA>, not False
    assert back["removal_of_more_than_outer_clothing"].isna().sum() == 2
    assert back["self_defined_broad"].tolist() == ["White", "Not stated", "Black"]


def test_statuses_and_manifest_frame(store_dir):
    s = Store()
    s.write_month("kent", "2024-01", records(), source="a")
    s.write_month("kent", "2024-02", records(month="2024-02", n=0), source="b")
    s.record_not_published("kent", "2024-03", source="availability")
    s.record_failure("kent", "2024-04", source="d", reason="HTTP 500 six times")
    manifest = s.manifest()
    assert list(manifest.columns) == ["force", "month", "status", "records", "source", "retrieved_at",
                                      "checksum", "reason"]
    assert manifest["status"].tolist() == ["ok", "empty", "not_published", "failed"]
    assert set(manifest["status"]) <= set(STATUSES)
    assert manifest["records"].tolist() == [3, 0, 0, 0]
    assert manifest.loc[3, "reason"] == "HTTP 500 six times"
    assert s.entry("kent", "2024-03").status == "not_published"
    assert s.entry("kent", "2099-01") is None
    # only ok months are read; empty, unpublished and failed months add no rows
    assert len(s.read(["kent"])) == 3
    # the manifest is plain JSON anyone can read
    payload = json.loads((store_dir / "manifest.json").read_text())
    assert len(payload["entries"]) == 4


def test_a_failure_never_replaces_stored_data(store_dir):
    s = Store()
    ok = s.write_month("kent", "2024-01", records(), source="first")
    before = (store_dir / "stop_search" / "kent" / "2024-01.parquet").read_bytes()
    failed = s.record_failure("kent", "2024-01", source="second", reason="timed out")
    # decision (documented in ManifestEntry): status still says what is stored; the failure goes in reason
    assert (failed.status, failed.records, failed.source, failed.checksum) == ("ok", 3, "first", ok.checksum)
    assert "refresh failed" in failed.reason and "timed out" in failed.reason
    assert (store_dir / "stop_search" / "kent" / "2024-01.parquet").read_bytes() == before
    assert len(s.read()) == 3
    kept = s.record_not_published("kent", "2024-01", source="availability")
    assert kept.status == "ok" and "kept" in kept.reason and len(s.read()) == 3
    # a later successful write clears the note
    assert s.write_month("kent", "2024-01", records(n=2), source="third").reason is None


def test_a_crash_while_writing_leaves_the_previous_file(store_dir, monkeypatch):
    s = Store()
    s.write_month("kent", "2024-01", records(), source="first")
    folder = store_dir / "stop_search" / "kent"
    before = (folder / "2024-01.parquet").read_bytes()
    manifest_before = (store_dir / "manifest.json").read_bytes()

    def crash(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)  # the moment the new file would take the old one's place
    with pytest.raises(OSError):
        s.write_month("kent", "2024-01", records(n=1), source="second")
    monkeypatch.undo()
    assert (folder / "2024-01.parquet").read_bytes() == before
    assert (store_dir / "manifest.json").read_bytes() == manifest_before
    assert sorted(p.name for p in folder.iterdir()) == ["2024-01.parquet"]  # no temp file left behind
    assert not [p for p in store_dir.iterdir() if p.name.endswith(".tmp")]
    assert len(s.read()) == 3 and s.entry("kent", "2024-01").source == "first"


def test_records_of_another_force_are_refused(store_dir):
    with pytest.raises(StoreError, match="carry force"):
        Store().write_month("essex", "2024-01", records(force="kent"), source="x")
    assert not (store_dir / "manifest.json").exists()


def test_concurrent_writers_and_readers(store_dir):
    writers = [Store() for _ in range(2)]  # two Store objects on one folder share the lock
    errors: list[BaseException] = []
    stop = threading.Event()
    forces = ["kent", "essex", "surrey", "sussex", "dorset", "devon-and-cornwall"]

    def write(i: int) -> None:
        try:
            force = forces[i]
            for m in range(1, 7):
                month = f"2023-{m:02d}"
                writers[i % 2].write_month(force, month, records(force=force, month=month, n=m), source=f"t{i}")
                if m % 3 == 0:
                    writers[i % 2].record_failure(force, month, source="again", reason="flaky")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    def read() -> None:
        reader = Store()
        try:
            while not stop.is_set():
                reader.manifest()  # never sees a torn manifest
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    reading = threading.Thread(target=read)
    reading.start()
    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(forces))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    reading.join()
    assert errors == []
    manifest = Store().manifest()
    assert len(manifest) == 6 * 6 and set(manifest["status"]) == {"ok"}
    assert manifest["reason"].notna().sum() == 6 * 2
    # oracle: sum over forces of 1 + 2 + ... + 6 records
    assert len(Store().read()) == 6 * 21


def test_read_a_selection(store_dir):
    s = Store()
    for force in ("kent", "essex"):
        for month, n in (("2024-01", 2), ("2024-02", 3), ("2024-03", 4)):
            s.write_month(force, month, records(force=force, month=month, n=n), source="x")
    got = s.read(["kent"], ["2024-02", "2024-03"])
    assert len(got) == 7
    assert set(got["force"]) == {"kent"} and set(got["month"]) == {"2024-02", "2024-03"}
    assert len(s.read(months=["2024-01"])) == 4
    assert len(s.read(["essex"])) == 9


def test_an_empty_selection_is_the_empty_canonical_frame(store_dir):
    s = Store()
    empty = s.read()
    pd.testing.assert_frame_equal(empty, schema.empty_frame())
    s.write_month("kent", "2024-01", records(), source="x")
    pd.testing.assert_frame_equal(s.read(["essex"]), schema.empty_frame())
    assert len(s.read(["kent"], ["2023-12"])) == 0


def test_a_missing_data_file_is_reported(store_dir):
    s = Store()
    s.write_month("kent", "2024-01", records(), source="x")
    (store_dir / "stop_search" / "kent" / "2024-01.parquet").unlink()
    with pytest.raises(StoreError, match="missing.*verify --repair"):
        s.read()


def test_reads_check_every_file_in_one_stat_call_and_still_catch_a_changed_one(store_dir, monkeypatch):
    # one os.stat per file lets go of the interpreter per file: with another thread busy (the server, the
    # prefetch), ten years' 5,280 stats took 0.4 s of the first page and seconds against a busy loop. The
    # files are stat'ed in one call; only a file that differs gets the one-file check (and its hash).
    s = Store()
    for month in ("2024-01", "2024-02", "2024-03"):
        s.write_month("kent", month, records(month=month), source="x")
    one_by_one = []
    real_stat = os.stat

    def stat(path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202 - os.stat's signature
        if os.fspath(path).endswith(".parquet"):
            one_by_one.append(os.path.basename(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    assert len(s.read()) == 9
    assert one_by_one == []
    changed = store_dir / "stop_search" / "kent" / "2024-02.parquet"
    os.utime(changed, ns=(1, 1))  # touched: the one-file check hashes it, and it is still the stored file
    assert len(s.read()) == 9 and one_by_one == ["2024-02.parquet"]
    changed.write_bytes(changed.read_bytes()[:-9] + b"123456789")  # damaged: caught
    with pytest.raises(StoreError, match="2024-02"):
        s.read()


def test_batch_commits_every_write_at_once(store_dir):
    s = Store()
    with s.batch():  # holds the writer lock; the manifest entry is on disk as soon as write_month returns
        s.write_month("kent", "2024-01", records(), source="x")
        # on disk = manifest.json plus its journal (data.store_manifest), as another process reads them
        script = "import sys; from data.store import Store; print([(e.force, e.month) for e in Store(sys.argv[1]).entries()])"
        seen = subprocess.run([sys.executable, "-c", script, str(store_dir)], capture_output=True, text=True,
                              check=True, cwd=Path(store.__file__).resolve().parents[1]).stdout.strip()
        assert seen == "[('kent', '2024-01')]"
    on_disk = json.loads((store_dir / "manifest.json").read_text())["entries"]  # folded in when the batch ends
    assert [(e["force"], e["month"]) for e in on_disk] == [("kent", "2024-01")]


def test_unknown_labels_are_reported(store_dir):
    frame = records(n=1)
    frame["outcome"] = pd.Categorical(["Sent to the moon"])
    s = Store()
    s.write_month("kent", "2024-01", frame, source="x")
    unknown = s.unknown_labels()
    assert unknown.to_dict("records") == [{"column": "outcome", "label": "Sent to the moon", "records": 1}]
    assert s.read()["outcome_group"].isna().all()  # <NA>, never 'Not stated'


def test_entries_round_trip_through_json():
    entry = ManifestEntry("kent", "2024-01", "failed", 0, "u", "2024-01-01T00:00:00Z", None, "why")
    assert ManifestEntry.from_json(json.loads(json.dumps(entry.to_json()))) == entry


def test_an_unreadable_manifest_is_a_store_error(store_dir):
    (store_dir / "manifest.json").write_text("{not json")
    with pytest.raises(StoreError, match="unreadable"):
        Store().manifest()


def test_the_read_cache_follows_every_write(store_dir):
    s = Store()
    s.write_month("kent", "2024-01", records(n=3), source="x")
    s.write_month("essex", "2024-01", records(force="essex", n=2), source="x")
    assert len(s.read()) == 5 and s.cache_path.is_file()  # a whole-store read leaves the combined copy
    direct = s.read(["essex"])  # served from the copy, filtered
    s.write_month("kent", "2024-02", records(month="2024-02", n=4), source="x")  # the copy is now stale
    assert len(s.read()) == 9 and len(s.read(["kent"])) == 7
    s.write_month("kent", "2024-01", records(n=1), source="again")  # replaced, same number of files
    assert len(s.read(["kent"], ["2024-01"])) == 1 and len(s.read()) == 7
    pd.testing.assert_frame_equal(plain(s.read(["essex"])), plain(direct))
    s.cache_path.unlink()
    assert len(s.read()) == 7
    s.cache_path.write_bytes(b"not parquet")  # a damaged copy is ignored, never trusted
    assert len(s.read(["kent"])) == 5
