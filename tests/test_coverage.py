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
    assert "2 not in the store" not in coverage.partial["essex"] and "2024-01 not in the store" in coverage.partial["essex"]
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


def test_a_force_that_missed_months_gets_person_time_not_a_full_year_of_residents(store_dir):
    import numpy as np

    from analysis.rates import disparity, rates
    from analysis.selection import select
    from data import normalise, reference_data
    from data.store import Store

    store = Store(store_dir)
    black = {"type": "Person search", "datetime": "2024-01-05T10:00:00+00:00",
             "self_defined_ethnicity": "Black/African/Caribbean/Black British - African"}
    white = dict(black, self_defined_ethnicity="White - Irish")
    for month in ("2024-01", "2024-02", "2024-03", "2024-04"):
        store.write_month("kent", month, normalise.from_api_records([black] * 40 + [white] * 100, force="kent",
                                                                    month=month), source="test")
    store.write_month("surrey", "2024-01", normalise.from_api_records([black] * 10 + [white] * 30, force="surrey",
                                                                      month="2024-01"), source="test")
    for month in ("2024-02", "2024-03", "2024-04"):
        store.record_not_published("surrey", month, source="test")
    selection = restrict_to_published(Selection.build("kent,surrey", "2024-01", "2024-04"), store.manifest()).selection
    table = rates(select(store.read(), selection), selection).set_index(["force", "group"])
    pop = reference_data.population("broad").set_index(["force", "group"])["population"]
    # hand calculation: searches / (residents x months published / 12) x 1,000
    np.testing.assert_allclose(table.loc[("surrey", "Black"), "rate_per_1000"],
                               10 / (pop["surrey", "Black"] * 1 / 12) * 1000)
    np.testing.assert_allclose(table.loc[("kent", "Black"), "rate_per_1000"],
                               160 / (pop["kent", "Black"] * 4 / 12) * 1000)
    # pooled: all searches over the person-time of both areas (never Surrey's residents for 4 months)
    pooled_person_years = pop["kent", "Black"] * 4 / 12 + pop["surrey", "Black"] * 1 / 12
    np.testing.assert_allclose(table.loc[("ALL", "Black"), "rate_per_1000"], 170 / pooled_person_years * 1000)
    assert table.loc[("surrey", "Black"), "months"] == 1 and table.loc[("ALL", "Black"), "months"] == 4
    assert table.loc[("surrey", "Black"), "population"] == pop["surrey", "Black"]  # residents, as published
    # the pooled ratio uses the same person-time for both groups
    ratio = disparity(select(store.read(), selection), selection).set_index(["force", "group"])
    white_years = pop["kent", "White"] * 4 / 12 + pop["surrey", "White"] * 1 / 12
    np.testing.assert_allclose(ratio.loc[("ALL", "Black"), "ratio"], (170 / pooled_person_years) / (430 / white_years))
