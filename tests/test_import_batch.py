"""A bulk import normalises many files at once and cuts each force-month out of one Arrow table
(data.store_table); every stored file must be byte for byte the one an import of that file alone writes
(oracle: the one-file path, normalise.from_csv -> Store.write_month), so checksums are equal."""
from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from data import archive
from data.errors import StoreError
from data.store import STORE_SCHEMA, Store, to_arrow
from data.store_table import month_slice
from data.verify import verify
from tests.store_fixtures import write_month
from tests.test_store import records


def _one_by_one(files: list[Path], root: Path) -> dict[tuple[str, str], tuple[str, int]]:
    store = Store(root)
    for path in files:
        summary = archive.import_paths(store, [path])  # one file: the from_csv -> write_month path
        assert summary.ok, summary.problems
    return {(e.force, e.month): (e.checksum, e.records) for e in store.entries()}


def _batched(folder: Path, root: Path) -> dict[tuple[str, str], tuple[str, int]]:
    store = Store(root)
    summary = archive.import_paths(store, [folder])
    assert summary.ok, summary.problems
    assert verify(store).ok
    return {(e.force, e.month): (e.checksum, e.records) for e in store.entries()}


def test_batched_files_are_stored_exactly_as_one_file_alone(tmp_path):
    folder = tmp_path / "csv"
    files = [write_month(folder, force, month, n, seed=k)
             for k, (force, month, n) in enumerate([("kent", "2024-01", 40), ("durham", "2024-01", 7),
                                                    ("kent", "2024-02", 1), ("gloucestershire", "2024-02", 25)])]
    header_only = folder / "2024-03" / "2024-03-kent-stop-and-search.csv"
    header_only.parent.mkdir()
    header_only.write_bytes(files[0].read_bytes().partition(b"\n")[0] + b"\n")  # an empty month in the batch
    files.append(header_only)
    batched = _batched(folder, tmp_path / "batched")
    assert batched == _one_by_one(files, tmp_path / "alone")
    assert batched[("kent", "2024-03")][1] == 0 and len(batched) == 5


def test_real_files_batched_are_stored_exactly_as_one_file_alone(tmp_path, shared_dir):
    sources = sorted((shared_dir / "data" / "police_uk" / "archive").rglob("*-stop-and-search.csv"))[:12]
    folder = tmp_path / "csv"
    for path in sources:
        (folder / path.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, folder / path.parent.name / path.name)  # a temporary copy for the test, not the project
    copies = sorted(folder.rglob("*.csv"))
    batched = _batched(folder, tmp_path / "batched")
    assert batched == _one_by_one(copies, tmp_path / "alone") and len(batched) == len(copies)


def test_month_slice_is_the_table_of_those_records_alone():
    both = records(n=3)
    both["force"], both["month"] = "kent", "2024-01"
    table = to_arrow(both)
    part = month_slice(table, 1, 2, force="essex", month="2024-02")
    alone = records(n=3).iloc[1:].reset_index(drop=True)
    alone["force"], alone["month"] = "essex", "2024-02"
    assert part.equals(to_arrow(alone)) and part.schema.equals(STORE_SCHEMA)
    assert month_slice(table, 0, 0, force="essex", month="2024-02").equals(to_arrow(alone.iloc[:0]))


def test_write_table_refuses_another_force_or_schema(store_dir):
    table = to_arrow(records())
    with pytest.raises(StoreError, match="carry force"):
        Store().write_table("essex", "2024-01", table, source="x")
    with pytest.raises(StoreError, match="schema"):
        Store().write_table("kent", "2024-01", table.cast(pa.schema([f.with_nullable(True) for f in table.schema]))
                            .drop(["street"]), source="x")
    assert Store().write_table("kent", "2024-01", table, source="x").records == 3


def test_many_batches_stored_on_the_storing_thread_match_one_by_one(tmp_path):
    folder = tmp_path / "csv"
    files = [write_month(folder, force, f"20{20 + k // 12}-{1 + k % 12:02d}", 3 + k % 5, seed=k)
             for k in range(36) for force in ("kent", "durham")]  # 72 files: two batches of the import
    batched = _batched(folder, tmp_path / "batched")
    assert len(batched) == 72 and batched == _one_by_one(files, tmp_path / "alone")


def test_an_error_while_storing_a_batch_reaches_the_caller(tmp_path, monkeypatch):
    folder = tmp_path / "csv"
    for k in range(3):
        write_month(folder, "kent", f"2024-0{k + 1}", 5, seed=k)

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Store, "_commit", full)  # the group commit's disk writes
    with pytest.raises(OSError, match="No space"):
        archive.import_paths(Store(tmp_path / "store"), [folder])
