"""Bulk import: zips built here (skipped members, unsafe members, corrupt archives), loose CSVs, folders,
and every real stop-and-search CSV in ../shared compared value by value with an independent csv reader."""
from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from data import archive
from data.archive import import_paths, parse_name
from data.errors import UnknownForce
from data.store import Store

HEADER = ("Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude,Gender,Age range,"
          "Self-defined ethnicity,Officer-defined ethnicity,Legislation,Object of search,Outcome,"
          "Outcome linked to object of search,Removal of more than just outer clothing")
ROW = ("Person search,{month}-03T10:15:00+00:00,False,,51.5,-0.1,Male,18-24,White - Irish,White,"
       "Misuse of Drugs Act 1971 (section 23),Controlled drugs,Arrest,True,False")


def csv_bytes(month: str = "2024-01", n: int = 3, *, newline: str = "\n", header: str = HEADER) -> bytes:
    return (newline.join([header, *[ROW.format(month=month)] * n]) + newline).encode()


def make_zip(path: Path, members: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=method) as z:
        for name, payload in members.items():
            z.writestr(name, payload)
    return path


def test_names_give_force_and_month():
    assert parse_name("2024-08/2024-08-avon-and-somerset-stop-and-search.csv") == ("avon-and-somerset", "2024-08")
    assert parse_name("2024-08-btp-stop-and-search.csv") == ("btp", "2024-08")
    assert parse_name("2024-08/2024-08-kent-street.csv") is None
    with pytest.raises(UnknownForce, match="metropolitan"):
        parse_name("2024-08-metropolitain-stop-and-search.csv")


def test_a_zip_imports_only_stop_and_search_members(tmp_path, store_dir):
    path = make_zip(tmp_path / "download.zip", {
        "2024-01/2024-01-kent-stop-and-search.csv": csv_bytes("2024-01", 3),
        "2024-01/2024-01-kent-street.csv": b"Crime ID,Month\n1,2024-01\n",
        "2024-01/2024-01-kent-outcomes.csv": b"Crime ID,Month\n1,2024-01\n",
        "2024-02/2024-02-essex-stop-and-search.csv": csv_bytes("2024-02", 2, newline="\r\n"),
    })
    summary = import_paths(Store(), [path])
    assert summary.ok and summary.skipped_members == 2
    assert [(r.force, r.month, r.records) for r in summary.imported] == [("kent", "2024-01", 3), ("essex", "2024-02", 2)]
    assert summary.imported[0].source == "download.zip:2024-01/2024-01-kent-stop-and-search.csv"
    manifest = Store().manifest()
    assert manifest[["force", "month", "status", "records"]].values.tolist() == [
        ["essex", "2024-02", "ok", 2], ["kent", "2024-01", "ok", 3]]
    assert not any(store_dir.rglob("*.csv"))  # nothing extracted


def test_unsafe_members_are_refused_and_the_rest_imported(tmp_path, store_dir):
    bomb = csv_bytes("2024-03", 1) + b" " * (8 << 20)  # 8 MB of spaces deflate ~1000 times
    path = make_zip(tmp_path / "evil.zip", {
        "../2024-01-kent-stop-and-search.csv": csv_bytes("2024-01"),
        "/abs/2024-01-essex-stop-and-search.csv": csv_bytes("2024-01"),
        "2024-03/2024-03-surrey-stop-and-search.csv": bomb,
        "2024-02/2024-02-kent-stop-and-search.csv": csv_bytes("2024-02"),
    })
    summary = import_paths(Store(), [path])
    assert [(r.force, r.month) for r in summary.imported] == [("kent", "2024-02")]
    messages = "\n".join(p.message for p in summary.problems)
    assert messages.count("leaves the archive") == 2
    assert "zip bomb" in messages and "surrey" in messages
    assert Store().entry("surrey", "2024-03") is None and Store().entry("kent", "2024-01") is None


def test_an_oversized_member_is_refused(tmp_path, store_dir):
    path = make_zip(tmp_path / "big.zip", {"2024-01/2024-01-kent-stop-and-search.csv": csv_bytes(n=50)},
                    method=zipfile.ZIP_STORED)
    summary = import_paths(Store(), [path], max_member_bytes=1000)
    assert not summary.ok and not summary.imported
    assert "over the limit of 1,000" in summary.problems[0].message
    assert Store().manifest().empty


@pytest.mark.parametrize("damage", ["garbage", "truncated", "crc"])
def test_a_corrupt_zip_is_a_clear_problem(tmp_path, store_dir, damage):
    good = make_zip(tmp_path / "good.zip", {"2024-01/2024-01-kent-stop-and-search.csv": csv_bytes(n=200)},
                    method=zipfile.ZIP_STORED)
    payload = good.read_bytes()
    if damage == "garbage":
        payload = b"PK\x03\x04 this is not really a zip"
    elif damage == "truncated":
        payload = payload[: len(payload) // 2]
    else:  # flip bytes inside the stored member: the CRC check fails while reading
        at = payload.index(b"Person search") + 200
        payload = payload[:at] + b"XXXX" + payload[at + 4:]
    path = tmp_path / "2024-01.zip"
    path.write_bytes(payload)
    summary = import_paths(Store(), [path])
    assert not summary.ok and not summary.imported
    message = summary.problems[0].message
    assert "2024-01.zip" in message and "download it again" in message.lower()
    assert Store().manifest().empty


def test_loose_csvs_with_crlf_and_lf_give_the_same_records(tmp_path, store_dir):
    (tmp_path / "2024-01-kent-stop-and-search.csv").write_bytes(csv_bytes("2024-01", 4, newline="\r\n"))
    (tmp_path / "2024-01-essex-stop-and-search.csv").write_bytes(csv_bytes("2024-01", 4, newline="\n"))
    summary = import_paths(Store(), [tmp_path / "2024-01-kent-stop-and-search.csv",
                                     tmp_path / "2024-01-essex-stop-and-search.csv"])
    assert summary.ok and summary.records == 8
    kent, essex = (Store().read([f]).drop(columns=["force"]) for f in ("kent", "essex"))
    pd.testing.assert_frame_equal(kent, essex)
    assert kent["outcome"].astype(str).tolist() == ["Arrest"] * 4  # no stray '\r'
    assert kent["removal_of_more_than_outer_clothing"].tolist() == [False] * 4


def test_a_folder_with_a_broken_file_imports_the_rest(tmp_path, store_dir):
    Store().write_month("kent", "2024-02", archive.normalise.from_csv(csv_bytes("2024-02", 5), force="kent",
                                                                       month="2024-02"), source="earlier")
    before = Store().entry("kent", "2024-02")
    folder = tmp_path / "downloads"
    (folder / "2024-01").mkdir(parents=True)
    (folder / "2024-02").mkdir()
    (folder / "2024-01" / "2024-01-kent-stop-and-search.csv").write_bytes(csv_bytes("2024-01", 2))
    renamed = csv_bytes("2024-02", 1, header=HEADER.replace("Outcome,", "Result,"))
    (folder / "2024-02" / "2024-02-kent-stop-and-search.csv").write_bytes(renamed)
    make_zip(folder / "2024-02" / "more.zip", {"2024-02/2024-02-essex-stop-and-search.csv": csv_bytes("2024-02")})
    (folder / "notes.txt").write_text("my notes")
    summary = import_paths(Store(), [folder], other=lambda path: None)
    assert [(r.force, r.month) for r in summary.imported] == [("kent", "2024-01"), ("essex", "2024-02")]
    assert len(summary.problems) == 1
    message = summary.problems[0].message
    assert "2024-02-kent-stop-and-search.csv" in message and "'Outcome'" in message and "'Result'" in message
    assert Store().entry("kent", "2024-02") == before  # unchanged
    assert any("notes.txt" in line for line in summary.unrecognised)


def test_other_files_go_to_the_other_handler(tmp_path, store_dir):
    other = tmp_path / "use-of-force.csv"
    other.write_text("year,police_force\n")
    seen: list[Path] = []

    def handler(path: Path) -> list[str] | None:
        seen.append(path)
        return [f"use of force: {path.name}"]

    summary = import_paths(Store(), [other], other=handler)
    assert seen == [other] and summary.other_lines == ["use of force: use-of-force.csv"] and summary.ok
    unrecognised = import_paths(Store(), [other], other=lambda path: None)
    assert not unrecognised.ok and "neither a stop-and-search file" in unrecognised.problems[0].message


def test_an_unknown_force_in_a_file_name(tmp_path, store_dir):
    path = tmp_path / "2024-01-kentt-stop-and-search.csv"
    path.write_bytes(csv_bytes())
    summary = import_paths(Store(), [path])
    assert not summary.ok and "Unknown force 'kentt'" in summary.problems[0].message
    assert "'kent'" in summary.problems[0].message


# ---- the real published files ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_import(shared_dir, tmp_path_factory):
    """Every stop-and-search CSV under ../shared/data/police_uk/archive, imported once into a fresh store."""
    folder = shared_dir / "data" / "police_uk" / "archive"
    files = sorted(folder.rglob("*-stop-and-search.csv"))
    if not files:
        pytest.skip("no stop-and-search CSVs in ../shared/data/police_uk/archive")
    store = Store(tmp_path_factory.mktemp("real") / "store")
    summary = import_paths(store, [folder])
    return files, store, summary


def _independent_rows(path: Path) -> list[dict[str, str]]:
    """The oracle: Python's csv module, knowing nothing of the project's reader."""
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.shared
def test_real_files_records_stored_equal_records_in_the_files(real_import):
    files, store, summary = real_import
    assert summary.ok, summary.problems[:3]
    assert len(summary.imported) == len(files)
    manifest = store.manifest().set_index(["force", "month"])
    records = store.read()
    for path in files:
        force, month = parse_name(path.name)
        rows = _independent_rows(path)
        assert manifest.loc[(force, month), "records"] == len(rows), path.name
    # a few columns value by value, in file order, for a sample of files (every force present)
    by_force: dict[str, Path] = {}
    for path in files:
        by_force.setdefault(parse_name(path.name)[0], path)
    for path in by_force.values():
        force, month = parse_name(path.name)
        rows = _independent_rows(path)
        got = records.loc[records["force"].eq(force) & records["month"].eq(month)]
        for column, canonical in (("Type", "type"), ("Gender", "gender"), ("Outcome", "outcome"),
                                  ("Self-defined ethnicity", "self_defined_ethnicity"),
                                  ("Legislation", "legislation")):
            expected = [r[column].strip() or None for r in rows]
            assert got[canonical].astype(object).where(got[canonical].notna(), None).tolist() == expected, \
                (path.name, column)
        expected_lat = [float(r["Latitude"]) if r["Latitude"] else None for r in rows]
        assert got["latitude"].astype(object).where(got["latitude"].notna(), None).tolist() == expected_lat
        linked = {"True": True, "False": False, "": None}
        expected_linked = [linked[r["Outcome linked to object of search"]] for r in rows]
        got_linked = got["outcome_linked_to_object"]
        assert got_linked.astype(object).where(got_linked.notna(), None).tolist() == expected_linked


@pytest.mark.shared
def test_real_files_every_label_is_mapped(real_import):
    _, store, _ = real_import
    unknown = store.unknown_labels()
    assert unknown.empty, unknown.to_string()


@pytest.mark.shared
def test_real_files_met_empty_columns_are_missing_not_false(real_import):
    files, store, _ = real_import
    met_files = [p for p in files if parse_name(p.name)[0] == "metropolitan"]
    assert met_files
    # oracle: the Met's files leave these columns empty in every record
    for path in met_files:
        rows = _independent_rows(path)
        assert {r["Outcome linked to object of search"] for r in rows} == {""}
        assert {r["Removal of more than just outer clothing"] for r in rows} == {""}
    met = store.read(["metropolitan"])
    assert len(met) == sum(len(_independent_rows(p)) for p in met_files)
    for column in ("outcome_linked_to_object", "removal_of_more_than_outer_clothing"):
        assert str(met[column].dtype) == "boolean"
        assert met[column].isna().all(), column


def test_zip_members_are_read_without_extracting(tmp_path, store_dir, monkeypatch):
    path = make_zip(tmp_path / "a.zip", {"2024-01/2024-01-kent-stop-and-search.csv": csv_bytes()})

    def no_extract(*args, **kwargs):
        raise AssertionError("extract called")

    monkeypatch.setattr(zipfile.ZipFile, "extract", no_extract)
    monkeypatch.setattr(zipfile.ZipFile, "extractall", no_extract)
    assert import_paths(Store(), [path]).ok
    assert io.BytesIO  # the members were read into memory, one at a time
