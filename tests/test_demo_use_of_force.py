"""The synthetic use-of-force demo: deterministic, the importers' exact report shape, the published national order.

Oracles: a frame read by the real open data importer from a small CSV written here (schema), and national
shares counted by hand with numpy from the demo frame against ../shared/DATA.md 2.1 (YE March 2020:
White 69.3% and Black 16.3% of reports; compliant handcuffing in 36.9% of reports on White and 48.6% on
Black subjects; Black subjects in 20.6% of CED (Taser) and 25.6% of firearms reports), within +-15%.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.use_of_force import table_from_reports
from data import reference_data
from data.demo_use_of_force import DEMO_YEAR, _cached, demo_use_of_force_reports
from data.use_of_force import vocab
from data.use_of_force.open_data import read_open_data
from data.use_of_force.reports import REPORT_COLUMNS

TOLERANCE = 0.15  # relative


@pytest.fixture(scope="module")
def reports() -> pd.DataFrame:
    return demo_use_of_force_reports()


def test_same_seed_same_frame_other_seed_differs() -> None:
    # how fast the demo builds is measured in benchmarks/, never asserted here (a busy machine is slower)
    _cached.cache_clear()
    first = demo_use_of_force_reports()
    _cached.cache_clear()
    pd.testing.assert_frame_equal(first, demo_use_of_force_reports(2021))
    other = demo_use_of_force_reports(7)
    assert len(other) != len(first) or not other.equals(first)
    first.loc[0, "force"] = "changed"                              # a copy: the cache is untouched
    assert _cached(2021).loc[0, "force"] != "changed"


def test_schema_is_what_the_open_data_importer_produces(tmp_path: Path, reports: pd.DataFrame) -> None:
    header = ["year", "police_force", "person_perceived_age", "person_perceived_gender",
              "person_perceived_ethnicity", "compliant_handcuffing", "non_compliant_handcuffing",
              "handcuffing_not_stated", "limb_body_restraints", "ground_restraint", "unarmed_skills",
              "baton_drawn", "baton_used", "baton_not_stated", "grouped_irritant_drawn", "grouped_irritant_used",
              "irritant_spray_not_stated", "spit_guard", "shield", "ced", "ced_highest_use", "aep_drawn",
              "aep_used", "aep_not_stated", "firearms_aimed", "firearms_fired", "firearms_not_stated",
              "dog_deployed", "dog_bite", "dog_not_stated", "other_improvised", "reason_effect_stop_search"]
    rows = [["2024/25", "Kent", "18_34", "male", "white", *(["no"] * 14), "yes", "drawn", *(["no"] * 10), "yes"],
            ["2024/25", "Avon & Somerset", "35_49", "female", "black", "yes", *(["no"] * 13), "no",
             "not_applicable", *(["no"] * 10), "no"]]
    path = tmp_path / "open_data.csv"
    pd.DataFrame(rows, columns=header).to_csv(path, index=False)
    imported = read_open_data(path)
    assert list(reports.columns) == list(REPORT_COLUMNS) == list(imported.columns)
    assert reports.dtypes.astype(str).to_dict() == imported.dtypes.astype(str).to_dict()
    # values in the importer's vocabularies
    assert set(reports["group"]) <= set(vocab.GROUPS)
    assert set(reports["year"]) == {DEMO_YEAR}
    assert reports["raw_ethnicity"].str.casefold().map(vocab.RECORD_GROUPS).eq(reports["group"]).all()
    assert reports["tactical_communication"].isna().all()          # no open data column, as imported
    others = [t for t in vocab.TACTICS if t != "tactical_communication"]
    assert reports[others].notna().all().all() and reports["effect_stop_search"].notna().all()
    # Taser once per report at its highest use; a used baton or spray was drawn; a bite is a deployment
    taser = reports[["taser_drawn", "taser_discharged", "taser_not_stated"]].to_numpy(bool)
    assert taser.sum(axis=1).max() <= 1
    for drawn, used in (("baton_drawn", "baton_used"), ("irritant_spray_drawn", "irritant_spray_used"),
                        ("dog_deployed", "dog_bite"), ("firearms_aimed", "firearms_fired")):
        assert not (reports[used].to_numpy(bool) & ~reports[drawn].to_numpy(bool)).any()


def test_forces_volume_and_the_table_builder_accept_it(reports: pd.DataFrame) -> None:
    forces = [f for f in reference_data.resolve_forces("all") if reference_data.has_residents(f)]
    assert sorted(set(reports["force"])) == sorted(forces) and "btp" not in set(reports["force"])
    assert 700_000 <= len(reports) <= 800_000
    counts = reports["force"].value_counts()
    assert counts.idxmax() == "metropolitan" and counts.min() > 500
    table = table_from_reports(reports, forces=["kent", "essex"], year=DEMO_YEAR, pooled=True)
    assert set(table["force"]) == {"kent", "essex", "ALL"}
    assert table["reason"].eq("").sum() > 0


def _near(value: float, target: float) -> None:
    assert abs(value - target) <= TOLERANCE * target, (value, target)


def test_national_shares_counted_by_hand_sit_near_the_published_order(reports: pd.DataFrame) -> None:
    group = reports["group"].to_numpy(str)
    white, black = group == "White", group == "Black"
    n = len(group)
    _near(white.sum() / n, 0.693)
    _near(black.sum() / n, 0.163)
    cuffs = reports["compliant_handcuffing"].to_numpy(bool)
    _near(cuffs[white].sum() / white.sum(), 0.369)
    _near(cuffs[black].sum() / black.sum(), 0.486)
    taser = reports[["taser_drawn", "taser_discharged", "taser_not_stated"]].to_numpy(bool).any(axis=1)
    _near(black[taser].sum() / taser.sum(), 0.206)
    firearms = reports[["firearms_aimed", "firearms_fired", "firearms_not_stated"]].to_numpy(bool).any(axis=1)
    _near(black[firearms].sum() / firearms.sum(), 0.256)
    assert black[taser].mean() > black.mean() and black[firearms].mean() > black.mean()  # over-represented
    stop_search = reports["effect_stop_search"].to_numpy(bool)
    assert 0.10 <= stop_search.mean() <= 0.15
