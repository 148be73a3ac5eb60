"""End to end on real data.police.uk files: the rates table equals a direct count of the raw CSVs over Census."""
from __future__ import annotations

import csv
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy.stats.contingency import relative_risk

from analysis.rates import disparity, not_stated_summary, rates
from analysis.selection import Selection, select
from data import normalise, schema

pytestmark = pytest.mark.shared
BROAD = ("Asian", "Black", "Mixed", "White", "Other")


def broad_by_prefix(label: str) -> str | None:
    """The test's own mapping of a raw self-defined label to a broad group, by its group prefix
    (DATA.md 1.5 and 3.2: Census 2021 puts Chinese in Asian). None = a label this rule does not know."""
    label = label.strip()
    if label in ("", "Other ethnic group - Not stated", "Not Stated (NS)", "Not stated"):
        return "Not stated"
    if label.startswith("Chinese or other ethnic group - Chinese"):
        return "Asian"
    for prefix, group in (("White", "White"), ("Black", "Black"), ("Asian", "Asian"), ("Mixed", "Mixed"),
                          ("Other ethnic group", "Other"), ("Chinese or other ethnic group", "Other")):
        if label.startswith(prefix):
            return group
    return None


def force_years(archive: Path) -> list[tuple[str, int]]:
    months = defaultdict(set)
    for path in archive.glob("*/*-stop-and-search.csv"):
        month = path.parent.name
        force = path.name[len(month) + 1: -len("-stop-and-search.csv")]
        months[(force, int(month[:4]))].add(month)
    return sorted(k for k, v in months.items() if len(v) == 12)


def census(shared: Path) -> dict[tuple[str, str], int]:
    """(data.police.uk force id, broad group) -> Census 2021 residents, from the shared reference files."""
    with open(shared / "reference" / "pfa_reference.csv", newline="") as f:
        force_of_code = {r["pfa_code"]: r["police_uk_force_id"] for r in csv.DictReader(f)}
    with open(shared / "reference" / "census2021_pfa_ethnicity.csv", newline="") as f:
        return {(force_of_code[r["pfa_code"]], r["ethnic_group"]): int(r["population"])
                for r in csv.DictReader(f) if r["ethnic_group_level"] == "broad"}


def direct_count(files: list[Path]) -> tuple[Counter, int, int]:
    """Searches of persons by broad group straight from the CSV text; also unrecognised and all persons."""
    counts: Counter = Counter()
    unknown = persons = 0
    for path in files:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                if row["Type"] == "Vehicle search":
                    continue
                persons += 1
                group = broad_by_prefix(row["Self-defined ethnicity"])
                if group is None:
                    unknown += 1
                else:
                    counts[group] += 1
    return counts, unknown, persons


@cache
def _read(path: Path, force: str) -> pd.DataFrame:
    return normalise.from_csv(path, force=force, month=path.parent.name)


def load(files: list[Path], force: str) -> pd.DataFrame:
    """The project's own loader: from_csv per file, concat, add_derived_columns (files read once per run)."""
    return schema.add_derived_columns(normalise.concat([_read(p, force) for p in files]))


def test_every_twelve_month_force_year_matches_a_direct_count(shared_dir: Path) -> None:
    archive = shared_dir / "data" / "police_uk" / "archive"
    residents = census(shared_dir)
    years = force_years(archive)
    assert ("metropolitan", 2018) in years and len(years) >= 10
    for force, year in years:
        files = sorted(archive.glob(f"{year}-*/{year}-*-{force}-stop-and-search.csv"))
        sel = Selection.build(force, f"{year}-01", f"{year}-12", census="2021")  # Census 2021 oracle
        records = select(load(files, force), sel)
        table = rates(records, sel).set_index("group")
        counts, unknown, persons = direct_count(files)
        assert table["searches"].to_dict() == {g: counts[g] for g in (*BROAD, "Not stated")}, (force, year)
        summary = not_stated_summary(records, sel).iloc[0]
        assert (summary["searches_of_persons"], summary["not_stated"], summary["unrecognised"]) == \
            (persons, counts["Not stated"], unknown), (force, year)
        if (force, "White") not in residents:  # BTP: no residents, no rate
            assert table["rate_per_1000"].isna().all() and table["population"].isna().all()
            continue
        pops = np.array([residents[force, g] for g in BROAD])
        assert table.loc[list(BROAD), "population"].astype(int).tolist() == pops.tolist()
        if pops.sum() < 50_000:  # City of London: counted, but no resident rate
            assert table["rate_per_1000"].isna().all(), (force, year)
            continue
        expected = np.array([counts[g] for g in BROAD]) / pops * 1000  # 12 months: no annualising
        assert_allclose(table.loc[list(BROAD), "rate_per_1000"], expected, rtol=1e-12, err_msg=f"{force} {year}")
        ratios = disparity(records, sel).set_index("group")
        if counts["Black"] and counts["White"]:
            oracle = relative_risk(exposed_cases=counts["Black"], exposed_total=residents[force, "Black"],
                                   control_cases=counts["White"], control_total=residents[force, "White"])
            ci = oracle.confidence_interval()
            assert_allclose(ratios.loc["Black", ["ratio", "ci_low", "ci_high"]].astype(float),
                            [oracle.relative_risk, ci.low, ci.high], rtol=1e-12)


def test_metropolitan_2018_headline(shared_dir: Path) -> None:
    # a hand-checkable headline: the Met's 2018 Black and White rates from the direct count
    archive = shared_dir / "data" / "police_uk" / "archive"
    files = sorted(archive.glob("2018-*/2018-*-metropolitan-stop-and-search.csv"))
    sel = Selection.build("metropolitan", "2018-01", "2018-12", census="2021")
    table = rates(select(load(files, "metropolitan"), sel), sel).set_index("group")
    counts, _, _ = direct_count(files)
    # DATA.md 3.1: Metropolitan Police area residents Black 1,188,137; White 4,725,217
    assert_allclose(table.loc["Black", "rate_per_1000"], counts["Black"] / 1_188_137 * 1000, rtol=1e-12)
    assert_allclose(table.loc["White", "rate_per_1000"], counts["White"] / 4_725_217 * 1000, rtol=1e-12)
    assert table.loc["Black", "rate_per_1000"] > table.loc["White", "rate_per_1000"]


def test_pooled_2019_forces_sum_searches_and_residents(shared_dir: Path) -> None:
    archive = shared_dir / "data" / "police_uk" / "archive"
    residents = census(shared_dir)
    forces = [f for f, y in force_years(archive) if y == 2019]
    frames, all_files = [], []
    for force in forces:
        files = sorted(archive.glob(f"2019-*/2019-*-{force}-stop-and-search.csv"))
        all_files += [(force, p) for p in files]
        frames += [_read(p, force) for p in files]
    records = schema.add_derived_columns(normalise.concat(frames))
    for include_btp in (False, True):
        sel = Selection.build(forces, "2019-01", "2019-12", include_btp=include_btp, census="2021")
        pooled = rates(select(records, sel), sel)
        pooled = pooled.loc[pooled["force"].eq("ALL")].set_index("group")
        counted = [f for f in forces if (f, "White") in residents or include_btp]
        counts, _, _ = direct_count([p for f, p in all_files if f in counted])
        for g in BROAD:
            pop = sum(residents[f, g] for f in forces if (f, g) in residents)
            assert pooled.loc[g, "searches"] == counts[g]
            assert_allclose(pooled.loc[g, "rate_per_1000"], counts[g] / pop * 1000, rtol=1e-12)
