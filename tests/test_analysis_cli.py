"""`python -m analysis table ...` end to end on a small store written here, and its one-line errors."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis.cli import main
from analysis.coverage import restrict_to_published
from analysis.selection import Selection, select
from analysis.tables import KINDS, RECORD_KINDS, build_table
from data import normalise
from data.store import Store
from tests.test_outcomes import BLACK, NOT_STATED, stop

PROJECT = Path(__file__).resolve().parents[1]
FORCES, START, END = "kent,metropolitan", "2024-01", "2024-02"
# The contract, written out (docs/DESIGN.md, docs/TABLES.md): these columns come first, in this order.
RATES_FIRST = ["force", "group", "searches", "population", "rate_per_1000", "ci_low", "ci_high"]
DISPARITY_FIRST = ["force", "group", "reference", "ratio", "ci_low", "ci_high", "rate_difference"]


def _month(force: str, month: str, spec: list[tuple[int, dict]]) -> pd.DataFrame:
    replies = [stop(when=f"{month}-10T10:00:00+00:00", **kw) for n, kw in spec for _ in range(n)]
    return normalise.from_api_records(replies, force=force, month=month)


@pytest.fixture()
def store(store_dir: Path) -> Store:
    s = Store(store_dir)
    kent = [(30, {"outcome": "Arrest", "linked": True}), (60, {}), (5, {"removal": True}),
            (12, {"ethnicity": BLACK, "officer": "Black", "outcome": "Arrest"}),
            (20, {"ethnicity": BLACK, "officer": "Black", "removal": True}), (4, {"ethnicity": NOT_STATED})]
    s.write_month("kent", "2024-01", _month("kent", "2024-01", kent), source="test")
    s.write_month("kent", "2024-02", _month("kent", "2024-02", kent[:3]), source="test")
    met = [(40, {"linked": None, "removal": None}),
           (25, {"ethnicity": BLACK, "officer": "Black", "linked": None, "removal": None, "outcome": "Arrest"})]
    s.write_month("metropolitan", "2024-01", _month("metropolitan", "2024-01", met), source="test")
    s.record_not_published("metropolitan", "2024-02", source="test")
    return s


def run(*args: str, env_root: Path) -> subprocess.Popen:
    env = {**os.environ, "STOPSEARCH_DATA_DIR": str(env_root), "PYTHONPATH": str(PROJECT)}
    return subprocess.Popen([sys.executable, "-m", "analysis", *args], cwd=PROJECT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_every_record_table_prints_fixed_columns_and_library_numbers(store: Store, capsys):
    # in-process (main() is the whole command line but the interpreter start); the subprocess tests follow
    full = Selection.build(FORCES, START, END)
    # the CLI applies the store's coverage (forces' published months) to every table but quality
    covered = restrict_to_published(full, store.manifest()).selection
    for kind in RECORD_KINDS:
        selection = full if kind == "quality" else covered
        records = select(store.read(list(selection.forces), selection.months), selection)
        assert main(["table", kind, "--forces", FORCES, "--from", START, "--to", END]) == 0, kind
        out = capsys.readouterr().out
        printed = pd.read_csv(io.StringIO(out))
        fixed = list(KINDS[kind].columns)
        assert list(printed.columns[:len(fixed)]) == fixed, kind
        # the same numbers as the library call (through the same CSV writer, so the comparison is exact)
        expected = pd.read_csv(io.StringIO(build_table(kind, records, selection, manifest=store.manifest())
                                           .to_csv(index=False)))
        pd.testing.assert_frame_equal(printed, expected, check_dtype=False)


def test_end_to_end_subprocess(store: Store):
    common = ["--forces", FORCES, "--from", START, "--to", END]
    procs = {"rates": run("table", "rates", *common, env_root=store.root),
             "disparity": run("table", "disparity", *common, env_root=store.root),
             "find-rate": run("table", "find-rate", *common, "--format", "json", env_root=store.root)}
    outputs = {}
    for kind, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0 and "Traceback" not in err, (kind, err)
        outputs[kind] = out
    assert outputs["rates"].splitlines()[0].split(",")[:7] == RATES_FIRST
    assert outputs["disparity"].splitlines()[0].split(",")[:7] == DISPARITY_FIRST
    rates = pd.read_csv(io.StringIO(outputs["rates"])).set_index(["force", "group"])
    # hand: Kent White searches of persons over the two months: 95 + 95
    assert rates.loc[("kent", "White"), "searches"] == 190 and rates.loc[("kent", "White"), "months"] == 2
    rows = json.loads(outputs["find-rate"])
    met = [r for r in rows if r["force"] == "metropolitan"]
    assert met and all(r["reason"] == "not recorded by this force" and r["share"] is None for r in met)
    kent_white = next(r for r in rows if r["force"] == "kent" and r["group"] == "White")
    # hand: each Kent month has 95 White searches with the link recorded (30 + 60 + 5), 30 of them linked
    assert (kent_white["found"], kent_white["recorded"]) == (60, 190)


@pytest.mark.parametrize(("args", "expected"), [
    (["table", "rates", "--forces", "met", "--from", START, "--to", END], "Did you mean 'metropolitan'"),
    (["table", "rates", "--forces", "kent", "--from", "2024-03", "--to", "2024-01"], "ends before it starts"),
    (["table", "outcomes", "--forces", "kent", "--from", "2019-01", "--to", "2019-03"],
     "no records in the store for kent, 2019-01 to 2019-03; run `python -m data fetch"),
    (["table", "rates", "--forces", "kent", "--from", START], "needs --from YYYY-MM and --to YYYY-MM"),
    (["table", "rates", "--forces", "kent", "--from", START, "--to", END, "--reference", "Whitish"],
     "unknown reference group 'Whitish'"),
    (["table", "shares", "--forces", "kent"], "invalid choice: 'shares'"),
    (["table", "mix", "--forces", "kent", "--from", START, "--to", END, "--filter", "colour=red"],
     "cannot filter on 'colour'"),
    (["table", "mix", "--forces", "kent", "--from", START, "--to", END, "--filter", "gender=Nobody"],
     "no records match the filters"),
    (["table", "rates", "--forces", "kent", "--from", START, "--to", END, "--level", "detailed",
      "--ethnicity", "officer"], "--level detailed needs --ethnicity self"),
    (["table", "use-of-force", "--forces", "kent"], "needs --year YYYY/YY"),
    ([], "required: command"),
])
def test_bad_input_is_one_line_on_stderr(store: Store, capsys, args, expected):
    code = main(args)
    captured = capsys.readouterr()
    assert code != 0 and captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], captured.err


def test_empty_store_mentions_what_it_holds(store: Store, capsys):
    assert main(["table", "rates", "--forces", "metropolitan", "--from", "2024-02", "--to", "2024-02"]) == 2
    err = capsys.readouterr().err
    assert "no records in the store for metropolitan" in err and "1 not published" in err
    assert "python -m data import" in err


def test_errors_in_a_subprocess_have_no_traceback(store: Store):
    proc = run("table", "rates", "--forces", "metropolitn,kent", "--from", START, "--to", END, env_root=store.root)
    uof = run("table", "use-of-force", "--forces", "kent", "--year", "2022/23", env_root=store.root)
    errors = []
    for p in (proc, uof):
        out, err = p.communicate(timeout=300)
        assert p.returncode != 0 and out == "" and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
        errors.append(err)
    assert "Did you mean 'metropolitan'" in errors[0]
    assert "use-of-force" in errors[1].lower()


def test_quality_and_officer_note(store: Store, capsys):
    assert main(["table", "quality", "--forces", FORCES, "--from", START, "--to", END]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("force")
    assert table.loc["metropolitan", "months_not_published"] == 1 and table.loc["kent", "months_ok"] == 2
    assert main(["table", "outcomes", "--forces", "kent", "--from", START, "--to", END,
                 "--ethnicity", "officer"]) == 0
    captured = capsys.readouterr()
    assert "officer-defined" in captured.err and captured.out.startswith("force,group,outcome,count,total,share")


def test_outcome_tests_all_pairs(store: Store, capsys):
    assert main(["table", "outcome-tests", "--forces", "kent", "--from", START, "--to", END, "--pairs", "all"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    arrest = table.loc[table["measure"].eq("outcome") & table["outcome"].eq("Arrest")]
    assert len(arrest) == 10 and set(arrest["other"]) - {"White"}     # C(5, 2) pairs, not only vs White


def test_report_is_delegated():
    proc = run("report", "--help", env_root=PROJECT / "no-such-store")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "analysis report" in out
