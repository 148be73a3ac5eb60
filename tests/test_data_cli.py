"""`python -m data` through real subprocesses: happy paths, and every bad input gives one line and changes nothing."""
from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from data.store import Store
from tests.police_api_server import FakePoliceApi, synthetic_availability, synthetic_forces

PROJECT = Path(__file__).resolve().parents[1]
HEADER = ("Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude,Gender,Age range,"
          "Self-defined ethnicity,Officer-defined ethnicity,Legislation,Object of search,Outcome,"
          "Outcome linked to object of search,Removal of more than just outer clothing")
ROW = ("Person search,{month}-03T10:15:00+00:00,False,,51.5,-0.1,Male,18-24,White - Irish,White,"
       "Misuse of Drugs Act 1971 (section 23),Controlled drugs,{outcome},True,")


def csv_bytes(month: str, n: int = 3, *, header: str = HEADER, outcome: str = "Arrest") -> bytes:
    return ("\r\n".join([header, *[ROW.format(month=month, outcome=outcome)] * n]) + "\r\n").encode()


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """The command line as a user runs it; STOPSEARCH_DATA_DIR comes from the store_dir fixture."""
    return subprocess.run([sys.executable, "-m", "data", *map(str, args)], cwd=PROJECT, capture_output=True,
                          text=True, timeout=120)


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def snapshot(store_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(store_dir)): p.read_bytes() for p in sorted(store_dir.rglob("*")) if p.is_file()}


def test_forces_lists_ids_and_names_including_btp(store_dir):
    result = run("forces")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert any(line.split()[0] == "btp" and "British Transport Police" in line for line in lines)
    assert any(line.startswith("metropolitan ") and "Metropolitan Police Service" in line for line in lines)
    assert len(lines) >= 44


FETCH_BAD_INPUT = [
    (["--forces", "met", "--from", "2024-01", "--to", "2024-02"], "Unknown force 'met'. Did you mean 'metropolitan'"),
    (["--forces", "kent,sussexx", "--from", "2024-01", "--to", "2024-02"], "'sussex'"),
    (["--forces", "kent", "--from", "2024-13", "--to", "2024-02"], "'2024-13' is not a month"),
    (["--forces", "kent", "--from", "January", "--to", "2024-02"], "'January' is not a month"),
    (["--forces", "kent", "--from", "2024-03", "--to", "2024-02"], "ends before it starts"),
    (["--forces", "kent", "--from", "2024-01"], "required: --to"),
    (["--forces", "kent", "--from", "2024-01", "--to", "2024-02", "--workers", "0"], "--workers must be at least 1"),
]


def test_fetch_bad_input_is_one_line_and_sends_nothing(store_dir):
    with FakePoliceApi(data_dir=store_dir.parent / "no-replies") as api, ThreadPoolExecutor(4) as pool:
        # the cases run side by side: each is its own process, as a user would start it
        results = list(pool.map(lambda args: run("fetch", *args, "--api-url", api.url),
                                [args for args, _ in FETCH_BAD_INPUT]))
        assert api.log == []  # not one request was made
    for (args, expected), result in zip(FETCH_BAD_INPUT, results, strict=True):
        assert expected in one_error_line(result), args
    assert snapshot(store_dir) == {}


def test_fetch_from_a_local_api_then_resume(store_dir, tmp_path):
    availability = synthetic_availability(last="2024-12", months=12)  # the Met is missing from 2024-09
    with FakePoliceApi(data_dir=tmp_path / "none", forces=synthetic_forces(), availability=availability) as api:
        api.set_stops("kent", "2024-09", [])
        api.fail("not_list", force="kent", month="2024-08", times=None)
        first = run("fetch", "--forces", "kent,metropolitan", "--from", "2024-08", "--to", "2024-09",
                    "--api-url", api.url, "--workers", "2")
        assert first.returncode == 1, first.stderr
        assert "failed: kent 2024-08" in first.stdout
        assert "4 force-months" in first.stdout and "1 empty" in first.stdout and "1 not published" in first.stdout
        assert "requests" in first.stdout and "retries" in first.stdout and " s " in first.stdout
        statuses = {(e.force, e.month): e.status for e in Store().entries()}
        assert statuses == {("kent", "2024-08"): "failed", ("kent", "2024-09"): "empty",
                            ("metropolitan", "2024-08"): "ok", ("metropolitan", "2024-09"): "not_published"}
        api.faults.clear()
        second = run("fetch", "--forces", "kent,metropolitan", "--from", "2024-08", "--to", "2024-09",
                     "--api-url", api.url)
        assert second.returncode == 0, second.stdout + second.stderr
        assert Store().entry("kent", "2024-08").status == "ok"
        expected = len(api.records_for("kent", "2024-08")) + len(api.records_for("metropolitan", "2024-08"))
    assert len(Store().read()) == expected


def test_import_prints_a_summary_per_force_month(store_dir, tmp_path):
    (tmp_path / "2024-01-kent-stop-and-search.csv").write_bytes(csv_bytes("2024-01", 3))
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("2024-02/2024-02-essex-stop-and-search.csv", csv_bytes("2024-02", 2))
        z.writestr("2024-02/2024-02-essex-street.csv", "Crime ID\n")
    result = run("import", tmp_path / "2024-01-kent-stop-and-search.csv", archive)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert ["essex", "2024-02", "ok", "2", "download.zip:2024-02/2024-02-essex-stop-and-search.csv"] in rows
    assert ["kent", "2024-01", "ok", "3", "2024-01-kent-stop-and-search.csv"] in rows
    assert "2 force-months imported (5 records)" in result.stdout and "1 other zip members skipped" in result.stdout


def test_importing_use_of_force_tables_alone_says_what_was_stored_and_nothing_about_force_months(store_dir,
                                                                                            tmp_path):
    from tests.test_readme_commands import uof_ods

    result = run("import", uof_ods(tmp_path / "uof-2019-20.ods"))
    assert result.returncode == 0, result.stderr
    assert "Home Office use-of-force data tables 2019/20: ok" in result.stdout
    assert "force-months imported" not in result.stdout  # it said "0 force-months imported (0 records)"


def test_import_bad_files_leave_the_store_unchanged(store_dir, tmp_path):
    good = tmp_path / "good" / "2024-01-kent-stop-and-search.csv"
    good.parent.mkdir()
    good.write_bytes(csv_bytes("2024-01", 3))
    assert run("import", good).returncode == 0
    before = snapshot(store_dir)

    bad = tmp_path / "2024-01-kent-stop-and-search.csv"
    bad.write_bytes(csv_bytes("2024-01", 5, header=HEADER.replace("Gender,", "Sex,")))
    line = one_error_line(run("import", bad))
    assert str(bad) in line and "'Gender' is missing" in line and "'Sex'" in line

    corrupt = tmp_path / "2024-01.zip"
    corrupt.write_bytes(b"PK\x03\x04 half a download")
    line = one_error_line(run("import", corrupt))
    assert "2024-01.zip" in line and "not a readable zip" in line and "Download it again" in line

    unknown = tmp_path / "2024-01-kentish-stop-and-search.csv"
    unknown.write_bytes(csv_bytes("2024-01"))
    assert "Unknown force 'kentish'" in one_error_line(run("import", unknown))

    assert "no such file" in one_error_line(run("import", tmp_path / "nowhere.zip"))

    notes = tmp_path / "notes.csv"
    notes.write_text("a,b\n1,2\n")
    assert "neither a stop-and-search file" in one_error_line(run("import", notes))
    assert snapshot(store_dir) == before


def test_a_folder_with_one_broken_file_imports_the_others_and_fails(store_dir, tmp_path):
    (tmp_path / "2024-01").mkdir()
    (tmp_path / "2024-01" / "2024-01-kent-stop-and-search.csv").write_bytes(csv_bytes("2024-01"))
    (tmp_path / "2024-01" / "2024-01-essex-stop-and-search.csv").write_bytes(b"Type,Date\nx,y\n")
    result = run("import", tmp_path)
    assert result.returncode == 1
    assert "2024-01-essex-stop-and-search.csv" in one_error_line(result)
    assert [(e.force, e.month, e.status) for e in Store().entries()] == [("kent", "2024-01", "ok")]


def test_status_table_and_csv(store_dir, tmp_path):
    assert "is empty" in run("status").stdout
    (tmp_path / "2024-01-kent-stop-and-search.csv").write_bytes(csv_bytes("2024-01", 3, outcome="Sent home"))
    (tmp_path / "2024-02-kent-stop-and-search.csv").write_bytes(csv_bytes("2024-02", 2))
    assert run("import", tmp_path).returncode == 0
    Store().record_not_published("kent", "2024-03", source="availability")
    table = run("status")
    assert table.returncode == 0
    assert "kent 2024-01            ok        3" in " ".join(table.stdout.split("  ")) or "2024-01" in table.stdout
    assert "not_published" in table.stdout and "Sent home" in table.stdout
    assert "3 force-months: 2 ok, 0 empty, 1 not published, 0 failed; 5 records" in table.stdout
    as_csv = run("status", "--format", "csv")
    assert as_csv.returncode == 0
    frame = pd.read_csv(io.StringIO(as_csv.stdout), comment="#")
    assert list(frame.columns) == ["force", "month", "status", "records", "source"]
    assert frame[["month", "status", "records"]].values.tolist() == [
        ["2024-01", "ok", 3], ["2024-02", "ok", 2], ["2024-03", "not_published", 0]]
    assert "# unknown label: column=outcome; label=Sent home; records=3" in as_csv.stdout


def test_export_csv_and_parquet(store_dir, tmp_path):
    (tmp_path / "2024-01-kent-stop-and-search.csv").write_bytes(csv_bytes("2024-01", 3))
    (tmp_path / "2024-02-essex-stop-and-search.csv").write_bytes(csv_bytes("2024-02", 2))
    assert run("import", tmp_path).returncode == 0
    out = tmp_path / "out"
    result = run("export", "--forces", "kent,essex", "--from", "2024-01", "--to", "2024-02", "--format", "csv",
                 "--output", out / "records.csv")
    assert result.returncode == 0, result.stderr
    exported = pd.read_csv(out / "records.csv")
    assert len(exported) == 5 and "self_defined_broad" in exported.columns
    assert exported["removal_of_more_than_outer_clothing"].isna().all()  # missing, not False
    result = run("export", "--forces", "kent", "--from", "2024-01", "--to", "2024-01", "--format", "parquet",
                 "--output", out / "kent.parquet")
    assert result.returncode == 0
    assert len(pd.read_parquet(out / "kent.parquet")) == 3
    assert sorted(p.name for p in out.iterdir()) == ["kent.parquet", "records.csv"]  # no temp files


def test_export_bad_input(store_dir, tmp_path):
    target = tmp_path / "x.csv"
    assert "holds nothing" in one_error_line(run("export", "--forces", "kent", "--from", "2024-01", "--to",
                                                 "2024-01", "--format", "csv", "--output", target))
    assert "Unknown force" in one_error_line(run("export", "--forces", "kentt", "--from", "2024-01", "--to",
                                                 "2024-01", "--format", "csv", "--output", target))
    assert "ends before it starts" in one_error_line(run("export", "--from", "2024-02", "--to", "2024-01",
                                                         "--format", "csv", "--output", target))
    assert "invalid choice" in one_error_line(run("export", "--from", "2024-01", "--to", "2024-01",
                                                  "--format", "xlsx", "--output", target))
    assert not target.exists()


def test_fetch_use_of_force_is_delegated(store_dir):
    result = run("fetch-use-of-force", "--help")
    assert result.returncode == 0
    assert "fetch-use-of-force" in result.stdout and "--years" in result.stdout
