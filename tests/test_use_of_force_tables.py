"""Home Office use-of-force data tables (ODS): the published figures in DATA.md 2.1, and no double counting."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.use_of_force import use_of_force_table
from data.errors import BadFile
from data.use_of_force.commands import import_path
from data.use_of_force.home_office_tables import read_home_office_tables
from data.use_of_force.names import force_id

TABLES = Path("data/use_of_force/home_office_tables")
ODS_2018 = "police-use-of-force-apr2017-mar2018-hosb3018-tables.ods"
ODS_2020 = "police-use-of-force-apr2019-mar2020-hosb3720-tables.ods"
ORACLE = Path("data/use_of_force/resistancelab_cleaned")
GROUP_COLUMNS = ["White", "Black (or Black British)", "Asian (or Asian British)", "Mixed", "Other", "Not reported"]


@pytest.fixture(scope="module")
def store(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("uof_store")
    for name in (ODS_2018, ODS_2020):
        lines = import_path(shared_dir / TABLES / name, store_root=root)
        assert lines and "ok" in lines[0]
    return root


def row(table: pd.DataFrame, force: str, group: str, tactic: str) -> pd.Series:
    match = table.loc[table["force"].eq(force) & table["group"].eq(group) & table["tactic"].eq(tactic)]
    assert len(match) == 1
    return match.iloc[0]


@pytest.mark.shared
def test_year_ending_march_2020_published_figures(store: Path) -> None:
    table = use_of_force_table("all", "2019/20", store_root=store)
    national = table.loc[table["force"].eq("ALL") & table["tactic"].eq("all_reports")].set_index("group")
    # DATA.md 2.1: 491,984 incidents; White 341,119 (69.3%), Black 80,394 (16.3%), Asian 34,716,
    # Mixed 11,011, Other 12,185, Not reported 12,559
    assert national["count"].sum() == 491_984
    assert national["count"].to_dict() == {"Asian": 34_716, "Black": 80_394, "Mixed": 11_011, "White": 341_119,
                                           "Other": 12_185, "Not stated": 12_559}
    assert round(national.loc["White", "group_share"], 3) == 0.693
    assert round(national.loc["Black", "group_share"], 3) == 0.163
    # compliant handcuffing in 36.9% of incidents with White subjects and 48.6% with Black subjects
    assert round(row(table, "ALL", "White", "compliant_handcuffing")["share"], 3) == 0.369
    assert round(row(table, "ALL", "Black", "compliant_handcuffing")["share"], 3) == 0.486
    # Black subjects in 20.6% of CED incidents and 25.6% of firearms incidents
    assert round(row(table, "ALL", "Black", "taser")["group_share"], 3) == 0.206
    assert round(row(table, "ALL", "Black", "firearms")["group_share"], 3) == 0.256
    # groupings summed from uses (baton drawn + used + not stated) give no share of reports
    baton = row(table, "ALL", "Black", "baton")
    assert baton["basis"] == "tactic uses" and np.isnan(baton["share"]) and baton["count"] == 1312


@pytest.mark.shared
def test_year_ending_march_2018_published_figures(store: Path) -> None:
    table = use_of_force_table("all", "2017/18", store_root=store)
    national = table.loc[table["force"].eq("ALL") & table["tactic"].eq("all_reports")].set_index("group")
    # DATA.md 2.1: 313,137 incidents; White 73.2%, Black 11.8% (Chinese counted with Asian, Don't know
    # and Not reported as Not stated)
    assert national["count"].sum() == 313_137
    assert round(national.loc["White", "group_share"], 3) == 0.732
    assert round(national.loc["Black", "group_share"], 3) == 0.118
    # 2018 layout: bare 'Not stated' sub-rows take their parent; one CED row
    assert row(table, "ALL", "White", "taser")["count"] == 8450
    assert row(table, "ALL", "White", "baton")["count"] == 3308
    # no force x ethnicity table that year: forces get no figures, and say why
    kent = row(table, "kent", "White", "compliant_handcuffing")
    assert np.isnan(kent["count"]) and "no force x ethnicity table" in kent["reason"]


@pytest.mark.shared
def test_table_16_leaves_never_double_count_and_match_resistancelab(shared_dir: Path, store: Path) -> None:
    tables = read_home_office_tables(shared_dir / TABLES / ODS_2020)
    t16 = tables.tactics.loc[tables.tactics["table"].eq("Table_16")]
    oracle = pd.read_csv(shared_dir / ORACLE / "by-ethnicity-force" / "april2019-march2020.csv")
    oracle["force"] = [("ALL" if n.startswith("Total England") else force_id(n)) for n in oracle["Police Force"]]
    assert oracle["force"].notna().all()
    totals = oracle.loc[oracle["Tactic"].eq("*Total Tactics")].set_index("force")
    leaves = t16.loc[t16["kind"].eq("leaf") & t16["tactic"].ne("tactical_communication")]
    summed = leaves.groupby(["force", "raw_group"])["count"].sum()  # ':' rows are NaN, skipped
    checked = 0
    for force in totals.index:
        for group in GROUP_COLUMNS:
            # independent oracle: Resistance Lab's extraction of the '*Total Tactics' row
            assert summed[(force, group)] == totals.loc[force, group], (force, group)
            checked += 1
    assert checked == 44 * 6
    # and every leaf and grouping row, value by value
    merged = t16.loc[t16["kind"].ne("subtotal")].merge(
        oracle.melt(id_vars=["force", "Tactic"], value_vars=GROUP_COLUMNS, var_name="raw_group",
                    value_name="oracle"), left_on=["force", "label", "raw_group"],
        right_on=["force", "Tactic", "raw_group"], how="left")
    assert (merged["oracle"].notna() | merged["count"].isna()).all()
    assert_allclose(merged["count"].to_numpy(float), merged["oracle"].to_numpy(float), equal_nan=True)
    # the analysis table for a force: uses, no report totals, from Table_16 (pooled forces add up)
    table = use_of_force_table("metropolitan,kent", "2019/20", store_root=store)
    met_black = row(table, "metropolitan", "Black", "compliant_handcuffing")
    expected = oracle.loc[oracle["force"].eq("metropolitan") & oracle["Tactic"].eq("Compliant handcuffing"),
                          "Black (or Black British)"].iloc[0]
    assert met_black["count"] == expected and np.isnan(met_black["reports"]) and met_black["basis"] == "tactic uses"
    kent_black = row(table, "kent", "Black", "compliant_handcuffing")["count"]
    assert row(table, "ALL", "Black", "compliant_handcuffing")["count"] == expected + kent_black


@pytest.mark.shared
@pytest.mark.parametrize(("ods", "csv"), [(ODS_2018, "april2017-march2018.csv"), (ODS_2020, "april2019-march2020.csv")])
def test_table_12_matches_resistancelab(shared_dir: Path, ods: str, csv: str) -> None:
    incidents = read_home_office_tables(shared_dir / TABLES / ods).incidents
    ours = incidents.loc[incidents["table"].eq("Table_12")].set_index("force")["incidents"]
    oracle = pd.read_csv(shared_dir / ORACLE / "incidents" / csv)
    oracle = oracle.loc[~oracle["Police Force"].str.startswith("Total") | oracle["Police Force"].eq(
        "Total England and Wales")]
    oracle.index = ["ALL" if n == "Total England and Wales" else force_id(n) for n in oracle["Police Force"]]
    assert len(ours) == 44
    assert ours.sort_index().to_dict() == oracle["Total"].sort_index().to_dict()


def _write_ods(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    with pd.ExcelWriter(path, engine="odf") as writer:
        for name, rows in sheets.items():
            width = max(len(r) for r in rows)
            pd.DataFrame([[*r, *[""] * (width - len(r))] for r in rows]).to_excel(writer, sheet_name=name, header=False, index=False)
    return path


def layout_2019(tactic_label: str = "Not stated handcuffing") -> dict[str, list[list[object]]]:
    """A 2019-style workbook: Chinese and Don't know columns, 'Not stated handcuffing', one CED row."""
    groups = ["White", "Black (or Black British)", "Asian (or Asian British)", "Chinese", "Mixed", "Other",
              "Don't know", "Not reported"]
    body = [["Restraint", "*Total Restraint", 30, 9, 4, 2, 1, 1, 1, 1, 49],
            ["Restraint", "Handcuffing, of which", 20, 6, 3, 2, 1, 1, 1, 1, 35],
            ["Restraint", "Compliant handcuffing", 12, 4, 2, 1, 1, 0, 0, 0, 20],
            ["Restraint", "Non-compliant handcuffing", 5, 1, 1, 1, 0, 1, 0, 0, 9],
            ["Restraint", tactic_label, 3, 1, 0, 0, 0, 0, 1, 1, 6],
            ["Restraint", "Ground restraint", 10, 3, 1, 0, 0, 0, 0, 0, 14],
            ["Less lethal weapons", "CED", 4, 2, 1, 0, 0, 0, 0, 0, 7]]
    title = "Police use of force statistics, England and Wales, 1 April 2018 to 31 March 2019"
    return {
        "Contents": [[title]],
        "Table_4": [["Table 4. Number of times tactics were used, by officer perceived ethnicity"], ["Contents"],
                    [""], ["", "", *groups, "Total number of incidents"],
                    ["", "", 50, 15, 6, 2, 3, 2, 4, 1, 83],
                    ["Type of force", "Tactic", "", "", "", "", "", "", "", "", "Number of times tactic reported"],
                    *[r[:1] + r[1:] for r in body], [""], ["Notes"]],
        "Table_12": [["Table 12. Incidents by police force"], ["Contents"], [""], ["Region", "Police force", "Total"],
                     ["England and Wales", "Total England and Wales", 83], ["South East", "Total South East ", 83],
                     ["South East", "Kent", 83], [""], ["Notes"]],
        "Table_16": [["Table 16. Number of times tactics were used, by police force and officer perceived ethnicity"],
                     ["Contents"], [""], ["Police force", "Type of force", "Tactic", *groups,
                                          "Number of times tactic reported"],
                     *[["Kent", *r] for r in body], [""], ["Notes"]],
    }


def test_2019_layout_labels_and_groups(tmp_path: Path) -> None:
    path = _write_ods(tmp_path / "uof-2019.ods", layout_2019())
    tables = read_home_office_tables(path)
    assert tables.year == "2018/19"
    kent = tables.tactics.loc[tables.tactics["force"].eq("kent")]
    assert set(kent.loc[kent["label"].eq("Not stated handcuffing"), "tactic"]) == {"handcuffing_not_stated"}
    assert set(kent.loc[kent["label"].eq("CED"), "kind"]) == {"leaf"}  # no parts below it that year
    lines = import_path(path, store_root=tmp_path / "store")
    assert lines and "2018/19: ok" in lines[0]
    table = use_of_force_table("all", "2018/19", store_root=tmp_path / "store")
    # Chinese joins Asian (2 + 1 compliant handcuffing); Don't know and Not reported are Not stated
    assert row(table, "ALL", "Asian", "compliant_handcuffing")["count"] == 3
    assert row(table, "ALL", "Asian", "all_reports")["count"] == 8
    assert row(table, "ALL", "Not stated", "all_reports")["count"] == 5
    assert_allclose(row(table, "ALL", "White", "compliant_handcuffing")["share"], 12 / 50)
    assert row(table, "kent", "Black", "taser")["count"] == 2


def test_unknown_tactic_label_is_named(tmp_path: Path) -> None:
    path = _write_ods(tmp_path / "bad.ods", layout_2019(tactic_label="Handcuffing (mystery)"))
    with pytest.raises(BadFile, match=r"Handcuffing \(mystery\)"):
        import_path(path, store_root=tmp_path / "store")
