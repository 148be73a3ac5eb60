"""Census 2011 and 2021 denominators: the Home Office 'auto' rule, hand-calculated rates on fixtures and on a
real force-year, detailed groups the 2011 Census lacks, and the --census switch on the command line."""
from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy.stats.contingency import relative_risk

from analysis.cli import main
from analysis.rates import disparity, rates
from analysis.selection import Selection
from data import reference_data
from data.months import month_range
from data.store import Store
from tests.synthetic_records import records_from_counts
from tests.test_rates_real_data import broad_by_prefix

FY_2019_20 = month_range("2019-04", "2020-03")
FY_2020_21 = month_range("2020-04", "2021-03")
# Leicestershire police force area (E23000021), copied from the ONS-derived files described in
# data/reference/SOURCES.md (census2011_pfa_ethnicity.csv / census2021_pfa_ethnicity.csv):
LEICS_2011 = {"Asian": 163_612, "Black": 24_623, "Mixed": 20_520, "White": 797_704, "Other": 11_238}
LEICS_2021 = {"Asian": 218_679, "Black": 37_231, "Mixed": 30_185, "White": 812_992, "Other": 22_898}


def _records(months: list[str], per_month: dict[str, int], force: str = "leicestershire") -> pd.DataFrame:
    rows = [(force, m, g, n) for m in months for g, n in per_month.items()]
    return records_from_counts(pd.DataFrame(rows, columns=["force", "month", "group", "n"]))


@pytest.mark.parametrize(("end", "expected"), [
    ("2019-04", "2011"), ("2020-01", "2011"), ("2020-03", "2011"),   # financial year 2019/20 and before
    ("2020-04", "2021"), ("2021-03", "2021"), ("2025-03", "2021"),   # 2020/21 on (March 2023 re-basing)
    ("2016-03", "2011"),
])
def test_auto_picks_the_census_by_the_financial_year_the_period_ends_in(end: str, expected: str) -> None:
    # DATA.md 3.2 (Home Office): Census 2011 for every year up to 2019/20, Census 2021 from 2020/21
    assert reference_data.census_for_period(end) == expected
    assert reference_data.census_for_period(end, "2011") == "2011"
    assert reference_data.census_for_period(end, "2021") == "2021"


def test_selection_resolves_and_describes_its_census() -> None:
    fy1920 = Selection.build("leicestershire", "2019-04", "2020-03")
    fy2021 = Selection.build("leicestershire", "2020-04", "2021-03")
    # a period that starts in 2019/20 and ends in 2020/21 takes the census of its end
    spanning = Selection.build("leicestershire", "2019-10", "2020-09")
    assert (fy1920.census_year, fy2021.census_year, spanning.census_year) == ("2011", "2021", "2021")
    assert Selection.build("leicestershire", "2020-04", "2021-03", census="2011").census_year == "2011"
    assert "Census 2011 residents (auto: the period ends in 2019/20)" in fy1920.describe()
    assert "Census 2021 residents (chosen)" in Selection.build("kent", "2019-04", "2020-03", census="2021").describe()
    with pytest.raises(ValueError, match="census must be one of auto, 2011, 2021"):
        Selection.build("kent", "2019-04", "2020-03", census="2001")


def test_2011_rates_and_ratio_are_the_hand_calculation_on_a_fixture() -> None:
    records = _records(FY_2019_20, {"Black": 50, "White": 400, "Asian": 30, "Not stated": 7})
    sel = Selection.build("leicestershire", "2019-04", "2020-03")
    table = rates(records, sel).set_index("group")
    assert set(table["census"]) == {2011}
    # hand calculation: 12 months x 50 searches / 24,623 Black residents (Census 2011) x 1,000
    assert_allclose(table.loc["Black", "rate_per_1000"], 600 / 24_623 * 1000, rtol=1e-12)
    assert_allclose(table.loc["White", "rate_per_1000"], 4800 / 797_704 * 1000, rtol=1e-12)
    assert table.loc[list(LEICS_2011), "population"].astype(int).to_dict() == LEICS_2011
    ratios = disparity(records, sel).set_index("group")
    assert set(ratios["census"]) == {2011}
    oracle = relative_risk(exposed_cases=600, exposed_total=24_623, control_cases=4800, control_total=797_704)
    ci = oracle.confidence_interval()
    assert_allclose(ratios.loc["Black", ["ratio", "ci_low", "ci_high"]].astype(float),
                    [oracle.relative_risk, ci.low, ci.high], rtol=1e-12)
    # the same records on Census 2021, when asked
    table21 = rates(records, Selection.build("leicestershire", "2019-04", "2020-03", census="2021")).set_index("group")
    assert set(table21["census"]) == {2021}
    assert_allclose(table21.loc["Black", "rate_per_1000"], 600 / 37_231 * 1000, rtol=1e-12)


def test_roma_gets_no_2011_rate_and_still_counts_in_a_white_reference() -> None:
    per_month = {"Roma": 2, "White British": 300, "Other White": 20, "African": 15, "Not stated": 3}
    records = _records(FY_2019_20, per_month)
    sel = Selection.build("leicestershire", "2019-04", "2020-03", level="detailed", reference="White")
    table = rates(records, sel).set_index("group")
    roma = table.loc["Roma"]
    assert roma["searches"] == 24                      # counted ...
    assert pd.isna(roma["population"]) and np.isnan(roma["rate_per_1000"])  # ... never a zero population
    assert "Census 2011 has no Roma group" in roma["reason"]
    pop = reference_data.population("detailed", "2011").set_index(["force", "group"])["population"]
    white = sum(int(pop["leicestershire", g]) for g in ("White British", "White Irish", "Gypsy or Irish Traveller",
                                                          "Other White"))
    assert white == LEICS_2011["White"]                 # the 2011 White total holds the Roma residents
    ratios = disparity(records, sel).set_index("group")
    # every White search, Roma included, over every White resident (Katz interval as scipy)
    oracle = relative_risk(exposed_cases=12 * 15, exposed_total=int(pop["leicestershire", "African"]),
                           control_cases=12 * (2 + 300 + 20), control_total=white)
    assert_allclose(ratios.loc["African", "ratio"], oracle.relative_risk, rtol=1e-12)
    assert_allclose(ratios.loc["African", ["ci_low", "ci_high"]].astype(float),
                    list(oracle.confidence_interval()), rtol=1e-12)
    assert np.isnan(ratios.loc["Roma", "ratio"]) and "Census 2011 has no Roma group" in ratios.loc["Roma", "reason"]
    # with Census 2021 Roma has residents and a rate
    sel21 = Selection.build("leicestershire", "2019-04", "2020-03", level="detailed", census="2021")
    roma21 = rates(records, sel21).set_index("group").loc["Roma"]
    assert_allclose(roma21["rate_per_1000"], 24 / 1_245 * 1000, rtol=1e-12)   # Census 2021 Roma: 1,245


def test_census_2011_table_matches_its_source_totals() -> None:
    table = reference_data.census_table("2011")
    totals = table.loc[table["level"].eq("total"), "population"].sum()
    assert totals == 56_075_912   # ONS Census 2011, usual residents of England and Wales (published)
    assert "Roma" not in set(table["group"]) and len(reference_data.census_groups("2011")) == 18
    broad = table.loc[table["level"].eq("broad")].groupby("force")["population"].sum()
    detail = table.loc[table["level"].eq("detailed")].groupby("force")["population"].sum()
    pd.testing.assert_series_equal(broad, detail)


def _write(store: Store, records: pd.DataFrame) -> None:
    for (force, month), frame in records.groupby(["force", "month"]):
        store.write_month(str(force), str(month), frame, source="test")


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, pd.DataFrame | None, str]:
    code = main(["table", *args])
    out, err = capsys.readouterr()
    return code, (pd.read_csv(io.StringIO(out)) if code == 0 else None), err


def test_cli_census_switch_on_a_fixture_store(store_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = Store(store_dir)
    _write(store, _records(FY_2019_20 + FY_2020_21, {"Black": 10, "White": 100}))
    common = ["--forces", "leicestershire"]
    for period, choice, census, black in (
            (("2019-04", "2020-03"), None, "2011", 24_623), (("2020-04", "2021-03"), None, "2021", 37_231),
            (("2019-04", "2020-03"), "2021", "2021", 37_231), (("2020-04", "2021-03"), "2011", "2011", 24_623)):
        extra = ["--census", choice] if choice else []
        code, table, _ = _cli(capsys, "rates", *common, "--from", period[0], "--to", period[1], *extra)
        assert code == 0
        rows = table.set_index("group")
        assert set(rows["census"].astype(str)) == {census}
        assert rows.loc["Black", "population"] == black
        assert_allclose(rows.loc["Black", "rate_per_1000"], 120 / black * 1000, rtol=1e-12)
        code, ratios, _ = _cli(capsys, "disparity", *common, "--from", period[0], "--to", period[1], *extra)
        assert set(ratios["census"].astype(str)) == {census}
    code, _, err = _cli(capsys, "rates", *common, "--from", "2019-04", "--to", "2020-03", "--census", "2001")
    assert code == 2 and err.count("\n") == 1 and "--census" in err and "2011" in err


# --- on real published files ----------------------------------------------------------------------------

def _hand_count(files: list[Path]) -> Counter:
    """Searches of persons by broad self-defined group, straight from the CSV text (vehicle-only left out)."""
    counts: Counter = Counter()
    for path in files:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                if row["Type"] != "Vehicle search":
                    counts[broad_by_prefix(row["Self-defined ethnicity"])] += 1
    return counts


def _residents(shared: Path, census: str, pfa_code: str) -> dict[str, int]:
    with open(shared / "reference" / f"census{census}_pfa_ethnicity.csv", newline="") as f:
        return {r["ethnic_group"]: int(r["population"]) for r in csv.DictReader(f)
                if r["pfa_code"] == pfa_code and r["ethnic_group_level"] == "broad"}


@pytest.mark.shared
def test_real_force_year_on_census_2011_equals_a_hand_calculation(shared_dir: Path, store_dir: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from data.archive import import_paths

    archive = shared_dir / "data" / "police_uk" / "archive"
    force = "leicestershire"     # the archive holds its whole financial year 2019/20 (2019-04..2020-03)
    files = [archive / m / f"{m}-{force}-stop-and-search.csv" for m in FY_2019_20]
    if not all(p.is_file() for p in files):
        pytest.skip("Leicestershire 2019/20 is not complete in ../shared")
    store = Store(store_dir)
    import_paths(store, files)
    counts = _hand_count(files)
    code, table, _ = _cli(capsys, "rates", "--forces", force, "--from", "2019-04", "--to", "2020-03")
    assert code == 0
    rows = table.set_index("group")
    residents = _residents(shared_dir, "2011", "E23000021")
    assert set(rows["census"].astype(str)) == {"2011"}           # auto: the year ends in 2019/20
    for group in ("Asian", "Black", "Mixed", "White", "Other"):
        assert rows.loc[group, "searches"] == counts[group]
        assert rows.loc[group, "population"] == residents[group]
        # hand calculation: searches of persons in the financial year / Census 2011 residents x 1,000
        assert_allclose(rows.loc[group, "rate_per_1000"], counts[group] / residents[group] * 1000, rtol=1e-12)
    # the switch: the same year on Census 2021
    code, table21, _ = _cli(capsys, "rates", "--forces", force, "--from", "2019-04", "--to", "2020-03",
                            "--census", "2021")
    residents21 = _residents(shared_dir, "2021", "E23000021")
    rows21 = table21.set_index("group")
    assert set(rows21["census"].astype(str)) == {"2021"}
    assert_allclose(rows21.loc["Black", "rate_per_1000"], counts["Black"] / residents21["Black"] * 1000, rtol=1e-12)
