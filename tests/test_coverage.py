"""Forces without published months are left out of a selection (never a rate of 0), partial ones named."""
from __future__ import annotations

import pandas as pd

from analysis.coverage import restrict_to_published
from analysis.selection import Selection


def _manifest(rows):
    return pd.DataFrame(rows, columns=["force", "month", "status"])


def test_unpublished_and_unfetched_forces_are_left_out_with_reasons():
    selection = Selection.build("kent,surrey,greater-manchester,essex", "2024-01", "2024-03")
    manifest = _manifest(
        [("kent", m, "ok") for m in ("2024-01", "2024-02", "2024-03")]
        + [("surrey", "2024-01", "ok"), ("surrey", "2024-02", "not_published"), ("surrey", "2024-03", "failed")]
        + [("greater-manchester", m, "not_published") for m in ("2024-01", "2024-02", "2024-03")]
        + [("essex", "2024-02", "empty")])
    coverage = restrict_to_published(selection, manifest)
    assert coverage.selection.forces == ("kent", "surrey", "essex")
    assert set(coverage.left_out) == {"greater-manchester"}
    assert "3 not published" in coverage.left_out["greater-manchester"]
    assert coverage.partial["surrey"].startswith("1 of 3 months published")
    assert "2024-02 not published" in coverage.partial["surrey"] and "2024-03 failed" in coverage.partial["surrey"]
    assert "2 not fetched" not in coverage.partial["essex"] and "2024-01 not fetched" in coverage.partial["essex"]
    assert "kent" not in coverage.partial
    assert any("Greater Manchester" in line for line in coverage.notes())


def test_no_manifest_keeps_the_selection():
    selection = Selection.build("kent", "2024-01", "2024-03")
    assert restrict_to_published(selection, None).selection == selection


def test_cli_leaves_an_unpublished_force_out_of_pooled_rates(store_dir):
    import json
    import subprocess
    import sys

    from data import normalise
    from data.store import Store

    store = Store(store_dir)
    rows = [{"type": "Person search", "datetime": "2024-01-05T10:00:00+00:00",
             "self_defined_ethnicity": "White - Irish"}] * 30
    for month in ("2024-01", "2024-02"):
        store.write_month("kent", month, normalise.from_api_records(rows, force="kent", month=month), source="test")
        store.record_not_published("surrey", month, source="test")
    run = subprocess.run([sys.executable, "-m", "analysis", "table", "rates", "--forces", "kent,surrey",
                          "--from", "2024-01", "--to", "2024-02", "--format", "json"],
                         capture_output=True, text=True, check=True)
    assert "Surrey Police left out" in run.stderr
    table = json.loads(run.stdout)
    assert {row["force"] for row in table} == {"kent"}  # one force left: no pooled row diluted by Surrey
