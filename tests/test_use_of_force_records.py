"""Record-level use-of-force files written here (both Home Office column styles, the Met layout): exact figures."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy.stats.contingency import relative_risk

from analysis.use_of_force import COLUMNS, stop_search_table, use_of_force_table
from data import reference_data
from data.errors import BadFile
from data.use_of_force import vocab
from data.use_of_force.commands import import_path
from data.use_of_force.detect import detect
from data.use_of_force.store import UseOfForceStore

# ----------------------------------------------------------------------------------------- file makers
OPEN_DATA_TACTICS_2023 = [
    "compliant_handcuffing", "non_compliant_handcuffing", "handcuffing_not_stated", "limb_body_restraints",
    "ground_restraint", "unarmed_skills", "baton_drawn", "baton_used", "baton_not_stated",
    "grouped_irritant_drawn", "grouped_irritant_used", "irritant_spray_not_stated", "spit_guard", "shield",
    "ced", "ced_highest_use", "aep_drawn", "aep_used", "aep_not_stated", "firearms_aimed", "firearms_fired",
    "firearms_not_stated", "dog_deployed", "dog_bite", "dog_not_stated", "other_improvised",
]
STYLE_2023 = {"year": "year", "force": "police_force", "age": "person_perceived_age",
              "gender": "person_perceived_gender", "ethnicity": "person_perceived_ethnicity"}
STYLE_2024 = {"year": "year", "force": "force_name", "age": "person_age", "gender": "person_gender",
              "ethnicity": "person_ethnicity"}
EXTRA_2023 = ["person_mental_health_cond", "person_physical_health_cond"]
EXTRA_2024 = ["health_condition"]
OTHER_COLUMNS = ["reason_protect_self", "reason_effect_arrest", "reason_effect_stop_search",
                 "reason_effect_search_custody", "impact_factor_drugs", "location_street_highway",
                 "officer_injured", "person_injured", "outcome_arrested"]


def kent_reports() -> list[dict[str, object]]:
    """The hand-counted Kent reports (see the expected figures in the tests below)."""
    rows: list[dict[str, object]] = []
    for i in range(40):  # White
        rows.append({"ethnicity": "white", "compliant_handcuffing": i < 10, "ground_restraint": 20 <= i < 25,
                     "reason_effect_stop_search": i % 5 == 0,
                     "ced_highest_use": {10: "drawn", 11: "red_dot", 12: "aimed", 13: "fired"}.get(i),
                     "baton_drawn": i == 14, "baton_used": i == 14, "dog_bite": i == 15})
    for i in range(20):  # Black
        rows.append({"ethnicity": "black", "compliant_handcuffing": i < 9, "reason_effect_stop_search": i % 4 == 0,
                     "ced_highest_use": {9: "fired", 10: "drive_stun", 11: "red_dot"}.get(i),
                     "non_compliant_handcuffing": 12 <= i < 15})
    for i in range(5):
        rows.append({"ethnicity": "not_stated", "compliant_handcuffing": i < 1})
    return rows


def avon_reports() -> list[dict[str, object]]:
    return ([{"ethnicity": "white", "compliant_handcuffing": i < 2} for i in range(10)]
            + [{"ethnicity": "black", "compliant_handcuffing": i < 3} for i in range(4)])


def open_data_row(report: dict[str, object], *, header: list[str], style: dict[str, str], force: str,
                  year: str) -> list[object]:
    rename = {"grouped_irritant_drawn": "irritant_spray_drawn", "grouped_irritant_used": "irritant_spray_used"}
    values: dict[str, object] = {style["year"]: year, style["force"]: force, style["age"]: "18_34",
                                 style["gender"]: "male", style["ethnicity"]: report["ethnicity"]}
    highest = report.get("ced_highest_use")
    for column in header:
        if column in values:
            continue
        if column == "ced":
            values[column] = "yes" if highest else "no"
        elif column == "ced_highest_use":
            values[column] = highest or "not_applicable"
        else:
            key = {v: k for k, v in rename.items()}.get(column, column)
            flag = report.get(key, False)
            values[column] = "yes" if flag is True else "no" if flag is False else flag
    return [values[c] for c in header]


def open_data_header(style: dict[str, str], *, year_2024: bool) -> list[str]:
    tactics = [{"grouped_irritant_drawn": "irritant_spray_drawn",
                "grouped_irritant_used": "irritant_spray_used"}.get(t, t) if year_2024 else t
               for t in OPEN_DATA_TACTICS_2023]
    extra = EXTRA_2024 if year_2024 else EXTRA_2023
    return [style["year"], style["force"], style["age"], style["gender"], style["ethnicity"], *extra, *tactics,
            *OTHER_COLUMNS]


def write_open_data(path: Path, *, year_2024: bool = False, year: str = "2022/23",
                    extra_column: str | None = None, mutate=None) -> Path:
    """An open data table workbook: a notes sheet, the year's sheet, and a small earlier-year sheet."""
    style = STYLE_2024 if year_2024 else STYLE_2023
    header = open_data_header(style, year_2024=year_2024)
    if extra_column:
        header.append(extra_column)
    rows = ([open_data_row(r, header=header, style=style, force="Kent", year=year) for r in kent_reports()]
            + [open_data_row(r, header=header, style=style, force="Avon & Somerset ", year=year)
               for r in avon_reports()])
    if mutate:
        mutate(header, rows)
    workbook = openpyxl.Workbook()
    notes = workbook.active
    notes.title = "Notes"
    notes.append(["Police use of force statistics, open data table"])
    sheet = workbook.create_sheet(year.replace("/", "_"))
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    earlier = workbook.create_sheet("earlier")
    earlier.append(header)
    earlier_year = f"{int(year[:4]) - 1}/{int(year[5:]) - 1:02d}"
    for i in range(3):
        earlier.append(open_data_row({"ethnicity": "white", "compliant_handcuffing": i == 0}, header=header,
                                     style=style, force="Kent", year=earlier_year))
    workbook.save(path)
    return path


MET_TACTIC_NAMES = {
    "compliant_handcuffing": "Compliant Handcuffing", "non_compliant_handcuffing": "Non-Compliant Handcuffing",
    "ground_restraint": "Ground Restraint", "baton_drawn": "Baton Drawn", "baton_used": "Baton Used",
    "dog_bite": "Dog Bite",
}
MET_CED = {"drawn": "CED (Taser) Drawn", "red_dot": "CED (Taser) Red-Dotted", "aimed": "CED (Taser) Aimed",
           "fired": "CED (Taser) Fired", "drive_stun": "CED (Taser) Drive Stun"}
MET_ETHNICITY = {"white": "White", "black": "Black (or Black British)", "not_stated": "Don't know"}


def met_header() -> list[str]:
    return (["IncidentDate", "IncidentTime", "Incident Location: Street/Highway", "Borough", "PrimaryConduct",
             "Impact Factor: Possesion of a weapon", "Reason for Force: Protect self",
             "Reason for Force: Effect Stop and search", "MainDuty"]
            + [c for n in range(1, 21) for c in (f"Tactic {n}", f"Effective {n}" if n < 20 else "Tactic Effective 20")]
            + ["CED Device Serial No", "SubjectAge", "SubjectGender", "SubjectEthnicity", "Outcome: Arrested"])


def met_rows(header: list[str]) -> list[list[object]]:
    """Kent's hand-counted reports in the Met layout (dates in 2022/23), plus one report in April 2023."""
    rows = []
    for k, report in enumerate(kent_reports()):
        tactics = [MET_TACTIC_NAMES[t] for t in MET_TACTIC_NAMES if report.get(t)]
        if report.get("compliant_handcuffing"):
            tactics.append("Compliant Handcuffing")  # listed twice: counts once
        highest = report.get("ced_highest_use")
        if highest:
            tactics = ["CED (Taser) Drawn", *tactics, MET_CED[highest]]  # drawn then the highest use
        tactics.append("Tactical Communications")
        values = {"IncidentDate": f"2022-{4 + k % 9:02d}-15", "IncidentTime": "12:00",
                  "Reason for Force: Effect Stop and search": "Yes" if report.get("reason_effect_stop_search") else "No",
                  "SubjectEthnicity": MET_ETHNICITY[str(report["ethnicity"])], "SubjectAge": "18-34",
                  "SubjectGender": "Male"}
        for n, name in enumerate(tactics, start=1):
            values[f"Tactic {n}"] = name
            values[f"Effective {n}"] = "Yes"
        rows.append([values.get(c, "") for c in header])
    later = {"IncidentDate": "2023-04-02", "SubjectEthnicity": "White", "Tactic 1": "Ground Restraint",
             "Reason for Force: Effect Stop and search": "No"}
    rows.append([later.get(c, "") for c in header])
    return rows


def write_met(path: Path, *, csv: bool = False, mutate=None) -> Path:
    header = met_header()
    rows = met_rows(header)
    if mutate:
        mutate(header, rows)
    if csv:
        pd.DataFrame(rows, columns=header).to_csv(path, index=False)
        return path
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "MPS Use of Force"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


# ----------------------------------------------------------------------------------------- oracles
Z95 = 1.959963984540054


def wilson_by_hand(x: float, n: float) -> tuple[float, float]:
    """Wilson (1927) score interval, written out (Brown, Cai & DasGupta 2001, Statistical Science 16, eq. 4):
    centre = (p + z^2/2n) / (1 + z^2/n), half = z sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n)."""
    p = x / n
    denom = 1 + Z95 ** 2 / n
    centre = (p + Z95 ** 2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95 ** 2 / (4 * n * n)) / denom
    return centre - half, centre + half


def row(table: pd.DataFrame, force: str, group: str, tactic: str) -> pd.Series:
    match = table.loc[table["force"].eq(force) & table["group"].eq(group) & table["tactic"].eq(tactic)]
    assert len(match) == 1, (force, group, tactic)
    return match.iloc[0]


# ----------------------------------------------------------------------------------------- tests
@pytest.mark.parametrize("year_2024", [False, True], ids=["2022-2023 style", "2024 style"])
def test_open_data_counts_shares_intervals(tmp_path: Path, year_2024: bool) -> None:
    year = "2023/24" if year_2024 else "2022/23"
    source = write_open_data(tmp_path / "download (3).xlsx", year_2024=year_2024, year=year)
    assert detect(source) == "home_office_open_data"
    lines = import_path(source, store_root=tmp_path / "store")
    assert lines is not None and any(f"{year}: ok, 79 officer reports on a person" in x for x in lines)
    table = use_of_force_table("kent,avon-and-somerset", year, store_root=tmp_path / "store")
    assert list(table.columns[:9]) == COLUMNS
    assert set(table["unit"]) == {vocab.UNIT}

    # Kent, by hand: White 40 reports, 10 compliant handcuffing; Black 20 reports, 9.
    white, black = row(table, "kent", "White", "compliant_handcuffing"), row(table, "kent", "Black",
                                                                            "compliant_handcuffing")
    assert (white["count"], white["reports"], black["count"], black["reports"]) == (10, 40, 9, 20)
    assert_allclose([white["share"], black["share"]], [10 / 40, 9 / 20])
    assert_allclose([white["ci_low"], white["ci_high"]], wilson_by_hand(10, 40), rtol=1e-12)
    assert_allclose([black["ci_low"], black["ci_high"]], wilson_by_hand(9, 20), rtol=1e-12)
    # ratio vs White: scipy's relative_risk (Katz log interval) is the oracle
    rr = relative_risk(exposed_cases=9, exposed_total=20, control_cases=10, control_total=40)
    ci = rr.confidence_interval(confidence_level=0.95)
    assert_allclose([black["ratio"], black["ratio_ci_low"], black["ratio_ci_high"]],
                    [rr.relative_risk, ci.low, ci.high], rtol=1e-12)
    assert white["ratio"] == 1.0
    # Black share of Kent's compliant-handcuffing reports: 9 of 10 + 9 + 1
    assert_allclose(black["group_share"], 9 / 20)

    # Taser at its highest use; baton once per report though drawn and used; dog bite
    assert row(table, "kent", "White", "taser")["count"] == 4
    assert row(table, "kent", "White", "taser_drawn")["count"] == 3
    assert row(table, "kent", "White", "taser_discharged")["count"] == 1
    assert row(table, "kent", "Black", "taser_discharged")["count"] == 2
    assert row(table, "kent", "Black", "taser_drawn")["count"] == 1
    assert row(table, "kent", "White", "baton")["count"] == 1
    assert row(table, "kent", "White", "dog")["count"] == 1
    assert row(table, "kent", "Black", "non_compliant_handcuffing")["count"] == 3
    # no Asian reports: zero denominators give NaN, not errors
    asian = row(table, "kent", "Asian", "compliant_handcuffing")
    assert asian["reports"] == 0 and np.isnan(asian["share"])

    # Pooled over both forces (Avon & Somerset spelled with '&' and a trailing space)
    pooled = row(table, "ALL", "White", "compliant_handcuffing")
    assert (pooled["count"], pooled["reports"]) == (12, 50)
    assert row(table, "ALL", "Black", "compliant_handcuffing")["count"] == 12
    assert row(table, "ALL", "Black", "all_reports")["count"] == 24
    assert_allclose(row(table, "ALL", "White", "all_reports")["group_share"], 50 / 79)

    # Reports per 1,000 residents (Census 2021): Kent Black reports / Kent Black residents x 1000
    pop = reference_data.population("broad").set_index(["force", "group"])["population"]
    assert_allclose(row(table, "kent", "Black", "all_reports")["per_1000_residents"],
                    20 / pop[("kent", "Black")] * 1000)
    assert np.isnan(row(table, "kent", "Not stated", "all_reports")["per_1000_residents"])

    # the earlier sheet is its own year
    earlier = use_of_force_table("kent", f"{int(year[:4]) - 1}/{int(year[5:]) - 1:02d}",
                                 store_root=tmp_path / "store")
    assert row(earlier, "kent", "White", "compliant_handcuffing")[["count", "reports"]].tolist() == [1, 3]


def test_stop_search_subset_and_rate_per_1000_searches(tmp_path: Path) -> None:
    import_path(write_open_data(tmp_path / "a.xlsx"), store_root=tmp_path / "store")
    searches = pd.DataFrame({
        "force": ["kent"] * 261,
        "self_defined_broad": ["White"] * 210 + ["Black"] * 50 + ["Black"],
        "type": ["Person search"] * 200 + ["Vehicle search"] * 10 + ["Person and Vehicle search"] * 50
        + ["Person search"],
        "involved_person": [True] * 200 + [False] * 10 + [True] * 50 + [False],
    })
    table = stop_search_table("kent", "2022/23", store_root=tmp_path / "store", searches=searches)
    # Kent, by hand: force to effect a stop and search in White reports 0,5,...,35 (8; 2 handcuffed
    # compliantly) and Black reports 0,4,8,12,16 (5; 3 handcuffed compliantly)
    white = row(table, "kent", "White", "compliant_handcuffing")
    black = row(table, "kent", "Black", "compliant_handcuffing")
    assert (white["count"], white["reports"], black["count"], black["reports"]) == (2, 8, 3, 5)
    assert_allclose([black["ci_low"], black["ci_high"]], wilson_by_hand(3, 5), rtol=1e-12)
    # per 1,000 searches of persons (vehicle-only and no-person searches left out): 8/200, 5/50
    assert row(table, "kent", "White", "all_reports")["stop_searches"] == 200
    assert_allclose(row(table, "kent", "White", "all_reports")["per_1000_stop_searches"], 8 / 200 * 1000)
    assert_allclose(row(table, "kent", "Black", "all_reports")["per_1000_stop_searches"], 5 / 50 * 1000)
    assert "officer-perceived" in row(table, "kent", "Black", "all_reports")["reason"]


@pytest.mark.parametrize("as_csv", [False, True], ids=["xlsx", "csv"])
def test_met_file_counts(tmp_path: Path, as_csv: bool) -> None:
    source = write_met(tmp_path / ("export.csv" if as_csv else "export.xlsx"), csv=as_csv)
    assert detect(source) == "met"
    lines = import_path(source, store_root=tmp_path / "store")
    assert lines and any("2022/23: ok, 65 officer reports on a person" in x for x in lines)
    assert any("2023/24: ok, 1 officer reports" in x for x in lines)
    table = use_of_force_table("metropolitan", "2022/23", store_root=tmp_path / "store")
    assert set(table["source"]) == {"met"}
    white = row(table, "metropolitan", "White", "compliant_handcuffing")
    assert (white["count"], white["reports"]) == (10, 40)  # listed twice in a row, counted once
    assert_allclose([white["ci_low"], white["ci_high"]], wilson_by_hand(10, 40), rtol=1e-12)
    assert row(table, "metropolitan", "White", "taser_drawn")["count"] == 3   # drawn then red-dot/aimed
    assert row(table, "metropolitan", "White", "taser_discharged")["count"] == 1
    assert row(table, "metropolitan", "Black", "taser_discharged")["count"] == 2
    assert row(table, "metropolitan", "Not stated", "all_reports")["count"] == 5  # "Don't know"
    ess = use_of_force_table("metropolitan", "2022/23", store_root=tmp_path / "store", stop_search_only=True)
    assert row(ess, "metropolitan", "Black", "compliant_handcuffing")[["count", "reports"]].tolist() == [3, 5]


def test_unknown_column_is_named(tmp_path: Path) -> None:
    source = write_open_data(tmp_path / "x.xlsx", extra_column="mystery_tactic")
    with pytest.raises(BadFile, match="mystery_tactic"):
        import_path(source, store_root=tmp_path / "store")
    assert not (tmp_path / "store" / "use_of_force" / "home_office_open_data").exists()


def test_bad_values_are_named(tmp_path: Path) -> None:
    def bad_ethnicity(header: list[str], rows: list[list[object]]) -> None:
        rows[3][header.index("person_perceived_ethnicity")] = "purple"

    with pytest.raises(BadFile, match=r"person_perceived_ethnicity.*'purple'"):
        import_path(write_open_data(tmp_path / "e.xlsx", mutate=bad_ethnicity), store_root=tmp_path / "s")

    def bad_flag(header: list[str], rows: list[list[object]]) -> None:
        rows[0][header.index("ground_restraint")] = "maybe"

    with pytest.raises(BadFile, match=r"ground_restraint.*'maybe'"):
        import_path(write_open_data(tmp_path / "f.xlsx", mutate=bad_flag), store_root=tmp_path / "s")

    def bad_force(header: list[str], rows: list[list[object]]) -> None:
        rows[0][header.index("police_force")] = "Atlantis"

    with pytest.raises(BadFile, match=r"police_force.*'Atlantis'"):
        import_path(write_open_data(tmp_path / "g.xlsx", mutate=bad_force), store_root=tmp_path / "s")

    def bad_tactic(header: list[str], rows: list[list[object]]) -> None:
        rows[0][header.index("Tactic 3")] = "Levitation"

    with pytest.raises(BadFile, match=r"Tactic 3.*'Levitation'"):
        import_path(write_met(tmp_path / "m.xlsx", mutate=bad_tactic), store_root=tmp_path / "s")

    def unknown_met_column(header: list[str], rows: list[list[object]]) -> None:
        header.append("Weather")
        for r in rows:
            r.append("Rain")

    with pytest.raises(BadFile, match="Weather"):
        import_path(write_met(tmp_path / "w.xlsx", mutate=unknown_met_column), store_root=tmp_path / "s")
    assert UseOfForceStore(tmp_path / "s").manifest().empty


def test_other_files_are_not_claimed(tmp_path: Path) -> None:
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")
    workbook = openpyxl.Workbook()
    workbook.active.append(["Force", "Month"])
    workbook.save(tmp_path / "other.xlsx")
    import zipfile

    with zipfile.ZipFile(tmp_path / "archive.zip", "w") as archive:
        archive.writestr("2023-03/2023-03-kent-stop-and-search.csv", "Type,Date\n")
    for name in ("notes.csv", "other.xlsx", "archive.zip"):
        assert import_path(tmp_path / name, store_root=tmp_path / "store") is None


def test_stop_search_counts_come_from_the_store_for_the_financial_year(tmp_path: Path) -> None:
    from data.store import Store
    from tests.synthetic_records import records_from_counts

    root = tmp_path / "store"
    import_path(write_open_data(tmp_path / "a.xlsx"), store_root=root)
    store = Store(root)
    counts = pd.DataFrame({"force": "kent", "month": ["2022-04", "2022-04", "2023-03", "2023-04"],
                           "group": ["White", "Black", "White", "White"], "n": [150, 50, 50, 999]})
    records = records_from_counts(counts)
    for month, frame in records.groupby("month", observed=True):
        store.write_month("kent", str(month), frame, source="test")
    table = stop_search_table("kent", "2022/23", store_root=root)
    # April 2022 .. March 2023 only: White 150 + 50, Black 50 (April 2023 is the next year)
    white = row(table, "kent", "White", "all_reports")
    assert white["stop_searches"] == 200
    assert_allclose(white["per_1000_stop_searches"], 8 / 200 * 1000)
    assert_allclose(row(table, "kent", "Black", "all_reports")["per_1000_stop_searches"], 5 / 50 * 1000)


def test_detection_reads_inline_string_workbooks_without_loading_them(tmp_path: Path) -> None:
    # openpyxl's write-only mode stores strings inline (no shared-strings table), as some exporters do
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("2022_23")
    header = open_data_header(STYLE_2023, year_2024=False)
    sheet.append(header)
    for report in kent_reports():
        sheet.append(open_data_row(report, header=header, style=STYLE_2023, force="Kent", year="2022/23"))
    workbook.save(tmp_path / "inline.xlsx")
    from data.use_of_force.detect import _xlsx_strings_kind

    assert _xlsx_strings_kind(tmp_path / "inline.xlsx") == "home_office_open_data"
    lines = import_path(tmp_path / "inline.xlsx", store_root=tmp_path / "store")
    assert lines and "65 officer reports" in lines[0]


def test_force_names_and_years_as_sources_spell_them() -> None:
    from data.use_of_force.names import financial_year, force_id

    table = reference_data.forces()
    for force, name in zip(table["force"], table["home_office_name"], strict=True):
        if not name:
            continue
        for spelling in (name, f"{name} ", name.upper(), name.replace("&", "and"), name.replace(" and ", " & ")):
            assert force_id(spelling) == force, spelling
    assert force_id("Metropolitan") == "metropolitan" and force_id("City of London") == "city-of-london"
    assert force_id("Dyfed Powys") == "dyfed-powys" and force_id("Total North West ") is None
    for text in ("2022/23", "2022-23", "2022_23", "2022 to 2023", "April 2022 to March 2023",
                 "year ending March 2023", "FY22-23", "apr2022-mar2023"):
        assert financial_year(text) == "2022/23", text


def test_import_through_the_data_command_line_whatever_the_file_name(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    write_met(tmp_path / "download")
    write_open_data(tmp_path / "od.dat")
    env = {**os.environ, "STOPSEARCH_DATA_DIR": str(tmp_path / "store")}
    result = subprocess.run([sys.executable, "-m", "data", "import", str(tmp_path / "download"),
                             str(tmp_path / "od.dat")], cwd=Path(__file__).resolve().parents[1], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Metropolitan Police use-of-force file 2022/23: ok, 65 officer reports on a person." in result.stdout
    assert "Home Office use-of-force open data table 2022/23: ok, 79 officer reports on a person." in result.stdout
    store = UseOfForceStore(tmp_path / "store")
    assert set(store.manifest()["dataset"]) == {"met", "home_office_open_data"}


def test_met_file_without_the_stop_search_reason(tmp_path: Path) -> None:
    from data.errors import StoreError

    def older(header: list[str], rows: list[list[object]]) -> None:
        i = header.index("Reason for Force: Effect Stop and search")
        header.pop(i)
        for r in rows:
            r.pop(i)

    import_path(write_met(tmp_path / "old.xlsx", mutate=older), store_root=tmp_path / "store")
    with pytest.raises(StoreError, match="does not record whether force was used to effect a stop and search"):
        use_of_force_table("metropolitan", "2022/23", store_root=tmp_path / "store", stop_search_only=True)
    with pytest.raises(ValueError, match="Metropolitan Police only"):
        use_of_force_table("kent", "2022/23", store_root=tmp_path / "store", source="met")
