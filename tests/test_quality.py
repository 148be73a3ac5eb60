"""Data quality per force and the self- vs officer-defined agreement table, against hand counts and pd.crosstab."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.quality import AGREEMENT_COLUMNS, QUALITY_COLUMNS, agreement, fields_not_recorded, quality
from analysis.selection import Selection
from data import normalise, schema
from tests.test_outcomes import ASIAN, BLACK, NOT_STATED, WHITE, canonical

RECORDS = {
    # Kent: 10 records. 2 without location, 4 stamped at exactly 00:00 (date only), 3 'Not stated' of the 9
    # searches of persons, 2 without outcome, 2 without outcome-linked, 4 without removal, 1 vehicle-only.
    "kent": [
        (2, {"located": False, "when": "2024-01-03T00:00:00+00:00", "ethnicity": NOT_STATED}),
        (2, {"when": "2024-01-04T00:00:00+00:00", "outcome": "", "linked": None, "removal": None}),
        (1, {"ethnicity": NOT_STATED, "removal": None}),
        (4, {}),
        (1, {"ethnicity": None, "officer": None, "kind": "Vehicle search", "removal": None}),
    ],
    # Met-like: never fills outcome-linked or removal
    "metropolitan": [(6, {"linked": None, "removal": None})],
    # Dorset-like: outcome-linked is True or blank, never False
    "dorset": [(3, {"linked": True}), (5, {"linked": None})],
}


def manifest() -> pd.DataFrame:
    rows = [("kent", "2024-01", "ok", 10), ("kent", "2024-02", "empty", 0), ("kent", "2024-03", "not_published", 0),
            ("metropolitan", "2024-01", "ok", 6), ("metropolitan", "2024-02", "failed", 0),
            ("dorset", "2024-01", "ok", 8), ("kent", "2023-12", "ok", 99)]       # outside the period
    return pd.DataFrame(rows, columns=["force", "month", "status", "records"])


def selection(forces: str = "kent,metropolitan,dorset,essex") -> Selection:
    return Selection.build(forces, "2024-01", "2024-04")


def test_quality_months_and_missing_shares_by_hand():
    records = canonical(RECORDS)
    table = quality(records, selection(), manifest=manifest()).set_index("force")
    assert list(table.reset_index().columns) == QUALITY_COLUMNS
    kent = table.loc["kent"]
    assert (kent["months_ok"], kent["months_empty"], kent["months_not_published"], kent["months_failed"],
            kent["months_missing"]) == (1, 1, 1, 0, 1)          # 2024-04 has no manifest entry at all
    assert kent["records"] == 10
    assert_allclose(kent["share_no_location"], 2 / 10)
    assert_allclose(kent["share_date_only"], 4 / 10)
    assert_allclose(kent["share_ethnicity_not_stated"], 3 / 9)   # searches of persons only
    assert_allclose(kent["share_outcome_not_recorded"], 2 / 10)
    assert_allclose(kent["share_outcome_linked_not_recorded"], 2 / 10)
    assert_allclose(kent["share_removal_not_recorded"], 4 / 10)
    assert kent["not_recorded"] == "" and kent["recorded_one_way"] == ""
    met = table.loc["metropolitan"]
    assert (met["months_ok"], met["months_failed"], met["months_missing"]) == (1, 1, 2)
    assert met["share_outcome_linked_not_recorded"] == 1.0 and met["share_removal_not_recorded"] == 1.0
    assert met["not_recorded"] == "outcome linked to object of search, removal of more than outer clothing"
    assert table.loc["dorset", "recorded_one_way"].startswith("outcome linked to object of search (True or blank")
    essex = table.loc["essex"]                                  # selected, nothing stored
    assert essex["records"] == 0 and np.isnan(essex["share_no_location"]) and essex["months_missing"] == 4
    pooled = table.loc["ALL"]
    assert pooled["records"] == 24 and pooled["months_ok"] == 3 and pooled["months_missing"] == 16 - 6
    assert_allclose(pooled["share_removal_not_recorded"], (4 + 6) / 24)


def test_quality_without_manifest_leaves_months_empty():
    table = quality(canonical(RECORDS), selection("kent"))
    assert len(table) == 1 and table["months_ok"].isna().all() and table.loc[0, "records"] == 10


def test_fields_not_recorded_per_force():
    out = fields_not_recorded(canonical(RECORDS))
    assert out["metropolitan"] == ["outcome linked to object of search", "removal of more than outer clothing"]
    assert out["kent"] == [] and out["dorset"] == []


def test_agreement_matches_crosstab():
    records = canonical({"kent": [(7, {"ethnicity": WHITE, "officer": "White"}),
                                  (2, {"ethnicity": WHITE, "officer": "Asian"}),
                                  (4, {"ethnicity": BLACK, "officer": "Black"}),
                                  (1, {"ethnicity": BLACK, "officer": None}),
                                  (3, {"ethnicity": ASIAN, "officer": "Asian"}),
                                  (2, {"ethnicity": "Martian - Any other", "officer": "Other"}),
                                  (1, {"ethnicity": None, "officer": None, "kind": "Vehicle search"})]})
    table = agreement(records, Selection.build("kent", "2024-01", "2024-01"))
    assert list(table.columns) == AGREEMENT_COLUMNS
    # oracle: pandas crosstab of the searches of persons, row-normalised
    persons = records.loc[records["type"].ne("Vehicle search")]
    cross = pd.crosstab(persons["self_defined_broad"].astype(object).fillna("Unrecognised label"),
                        persons["officer_defined_broad"].astype(object).fillna("Unrecognised label"))
    shares = cross.div(cross.sum(axis=1), axis=0)
    got = table.set_index(["self_defined", "officer_defined"])
    for (s, o), n in cross.stack().items():
        assert got.loc[(s, o), "count"] == n
        assert_allclose(got.loc[(s, o), "row_share"], shares.loc[s, o], rtol=1e-12)
    assert got["count"].sum() == 19                      # every search of a person, unknown label included
    assert got.loc[("Unrecognised label", "Other"), "count"] == 2
    assert np.isnan(got.loc[("Mixed", "White"), "row_share"])   # an empty row has no shares


@pytest.mark.shared
def test_real_data_fields_never_recorded(shared_dir: Path):
    archive = shared_dir / "data/police_uk/archive"
    frames = [normalise.from_csv(archive / "2018-07/2018-07-metropolitan-stop-and-search.csv",
                                 force="metropolitan", month="2018-07"),
              normalise.from_csv(archive / "2025-06/2025-06-merseyside-stop-and-search.csv",
                                 force="merseyside", month="2025-06")]
    records = schema.add_derived_columns(normalise.concat(frames))
    met = quality(records, Selection.build("metropolitan", "2018-07", "2018-07")).iloc[0]
    assert met["share_outcome_linked_not_recorded"] == 1.0 and met["share_removal_not_recorded"] == 1.0
    assert "removal of more than outer clothing" in met["not_recorded"]
    mersey = quality(records, Selection.build("merseyside", "2025-06", "2025-06")).iloc[0]
    assert "removal of more than outer clothing" in mersey["not_recorded"]
    assert mersey["share_outcome_not_recorded"] > 0.9            # DATA.md 1.6: outcome almost all empty
