"""A bulk import stores exactly the same thing whether batches are normalised here or on worker processes,
and both are exactly what importing each file alone stores (the oracle: the one-file path, normalise.from_csv
on pandas, then Store.write_month): the same Parquet bytes (manifest checksums), records, manifest entries
(apart from timestamps), problems and one-line messages."""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pandas as pd
import pytest

from data import archive
from data.store import Store
from tests.store_fixtures import HEADER

FORCES = ("kent", "essex", "durham", "gloucestershire", "metropolitan", "btp", "merseyside", "suffolk")
ROW = ("{type},{date},{operation},{operation_name},{lat},{lon},{gender},{age},{self},{officer},"
       "Misuse of Drugs Act 1971 (section 23),{object},{outcome},{linked},{removal}")
SELF = ["White - English/Welsh/Scottish/Northern Irish/British", "Other ethnic group - Not stated",
        "Black/African/Caribbean/Black British - Caribbean", " Asian/Asian British - Indian ", "", "Ärger (not a label)"]


def _stamp(month: str, i: int) -> str:
    day = 2 + i % 26
    return [f"{month}-{day:02d}T{i % 24:02d}:{i % 60:02d}:00+00:00",      # the published form
            f"{month}-{day:02d}T00:00:00+00:00",                            # date-only, as published
            f"{month}-{day:02d}",                                           # date-only, no time at all
            f"{month}-{day:02d}T10:15:30.250000+00:00",                     # fractional seconds
            f"{month}-{day:02d}T10:15:30.5Z",                               # fraction and Z
            f"{month}-{day:02d}T23:30:00+01:00",                            # an offset: converted to UTC
            f" {month}-{day:02d}T08:00:00 "][i % 7]                         # blanks around it


def _row(month: str, i: int) -> str:
    located = i % 4 != 0
    return ROW.format(
        type=["Person search", "Vehicle search", "Person and Vehicle search", " Person search "][i % 4],
        date=_stamp(month, i), operation=["False", "True", "", "TRUE", "false"][i % 5],
        operation_name=["", "Operation Ärmel", "Op  Two "][i % 3],
        lat=f"{51 + (i % 50) / 100:.6f}" if located else "", lon=f"{-1 + (i % 30) / 100:.6f}" if located else "",
        gender=["Male", "Female", "", "  ", " Male"][i % 5], age=["18-24", "over 34", "", "10-17"][i % 4],
        self=SELF[i % len(SELF)], officer=["White", "Black", "", "Asian", "Other"][i % 5],
        object=["Controlled drugs", "Offensive weapons", ""][i % 3],
        outcome=["Arrest", "A no further action disposal", "", "Community resolution"][i % 4],
        linked=["", "True", "False"][i % 3], removal=["False", "", "True", "false"][i % 4])


def _quirky_folder(folder: Path) -> list[Path]:
    """~130 force-month files (three batches) with the quirks of real downloads, some refused."""
    header = ",".join(HEADER)
    files: list[Path] = []

    def write(month: str, force: str, payload: bytes, sub: str = "") -> None:
        path = folder / (sub or month) / f"{month}-{force}-stop-and-search.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)
        files.append(path)

    months = [f"2023-{m:02d}" for m in range(1, 13)] + [f"2024-{m:02d}" for m in range(1, 6)]
    for k, (month, force) in enumerate((m, f) for m in months for f in FORCES):
        n = [0, 1, 3, 17, 40][k % 5]                                   # n = 0: a header-only (empty) month
        newline = "\r\n" if k % 2 else "\n"
        text = newline.join([header, *[_row(month, k + i) for i in range(n)]])
        text += "" if k % 9 == 4 else newline                          # sometimes no final newline
        if k % 11 == 3 and n > 1:
            text = text.replace(newline, newline + newline, 2)          # an empty line among the records
        write(month, force, (b"\xef\xbb\xbf" if k % 7 == 0 else b"") + text.encode())
    quoted = "\n".join([header, _row("2024-06", 1).replace("Controlled drugs", '"Drugs, controlled"')]) + "\n"
    write("2024-06", "kent", quoted.encode())                           # quotes: the one-file path
    bad = "\n".join([header, _row("2024-06", 2), _row("2024-06", 3).replace("51.", "north", 1)]) + "\n"
    write("2024-06", "essex", bad.encode())                             # refused: not a number
    early = "\n".join([header, _row("2024-06", 5).replace("2024-06-", "2024-04-", 1)]) + "\n"
    write("2024-06", "durham", early.encode())                          # refused: outside its month
    write("2024-01", "kent", ("\n".join([header, _row("2024-01", 9)]) + "\n").encode(), sub="again")  # twice
    return files


def _import(paths: list[Path], root: Path, workers: int) -> tuple[archive.ImportSummary, Store]:
    store = Store(root)
    summary = archive.import_paths(store, paths, workers=workers)
    return summary, store


def _manifest(store: Store) -> pd.DataFrame:
    """Every manifest entry (checksum and size included) apart from when it was written."""
    frame = pd.DataFrame([dataclasses.asdict(e) for e in store.entries()]).drop(columns=["retrieved_at", "mtime_ns"])
    return frame.sort_values(["force", "month"]).reset_index(drop=True)


def _one_by_one(files: list[Path], root: Path) -> tuple[list[str], Store]:
    store, problems = Store(root), []
    for path in files:  # one file per import: always normalise.from_csv -> Store.write_month
        problems += [p.message for p in archive.import_paths(store, [path], workers=0).problems]
    return problems, store


def _assert_same(folder: Path, files: list[Path], tmp_path: Path) -> archive.ImportSummary:
    here, here_store = _import([folder], tmp_path / "here", workers=0)
    pooled, pooled_store = _import([folder], tmp_path / "pooled", workers=2)
    assert pooled.worker_cpu_seconds > 0 and here.worker_cpu_seconds == 0  # the workers did the normalising
    assert pooled.lines() == here.lines()
    problems, alone = _one_by_one(sorted(files), tmp_path / "alone")
    assert [p.message for p in here.problems] == problems
    reference = _manifest(alone)
    pd.testing.assert_frame_equal(_manifest(here_store), reference)  # checksums: the very Parquet bytes
    pd.testing.assert_frame_equal(_manifest(pooled_store), reference)
    expected = alone.read_raw()
    pd.testing.assert_frame_equal(here_store.read_raw(), expected)
    pd.testing.assert_frame_equal(pooled_store.read_raw(), expected)
    return here


def test_quirky_files_are_stored_alike_here_on_workers_and_one_by_one(tmp_path):
    files = _quirky_folder(tmp_path / "csv")
    summary = _assert_same(tmp_path / "csv", files, tmp_path)
    assert len(summary.problems) == 2
    assert "is not a number" in summary.problems[0].message or "not a number" in summary.problems[1].message
    assert any("outside 2024-06" in p.message for p in summary.problems)
    statuses = {(r.force, r.month): r.status for r in summary.latest()}
    assert statuses[("kent", "2023-01")] == "empty" and statuses[("kent", "2024-06")] == "ok"
    assert summary.records == sum(r.records for r in summary.imported)


def test_real_files_are_stored_alike_here_on_workers_and_one_by_one(tmp_path, shared_dir):
    sources = sorted((shared_dir / "data" / "police_uk" / "archive").rglob("*-stop-and-search.csv"))[:90]
    folder = tmp_path / "csv"
    for path in sources:
        (folder / path.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, folder / path.parent.name / path.name)  # a temporary copy for the test, not the project
    summary = _assert_same(folder, sorted(folder.rglob("*.csv")), tmp_path)
    assert summary.ok and len(summary.latest()) == len(sources)


@pytest.mark.parametrize("workers", [0, 2])
def test_a_refused_file_in_a_batch_does_not_stop_the_others(tmp_path, workers):
    files = _quirky_folder(tmp_path / "csv")
    summary, store = _import([tmp_path / "csv"], tmp_path / "store", workers=workers)
    failed = store.entry("essex", "2024-06")
    assert failed.status == "failed" and "north" in failed.reason
    assert len({(r.force, r.month) for r in summary.imported}) == len(files) - 3  # 2 refused, 1 month twice
