"""The Home Office national rates for the year ending March 2023 (../shared/DATA.md 3.2), reproduced."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.rates import disparity, not_stated_summary, rates
from analysis.selection import Selection, select
from data import reference_data
from tests.synthetic_records import records_from_counts, spread

# DATA.md 3.2: searches of persons by self-defined group, England and Wales excluding BTP, YE March 2023.
NATIONAL = {"Asian": 45_725, "Black": 57_121, "Mixed": 16_341, "Other": 9_209, "White": 282_957}
# DATA.md 3.2: Census 2021 totals of these groups and the published rates per 1,000 and ratio (2 d.p.).
CENSUS = {"Asian": 5_515_455, "Black": 2_409_283, "Mixed": 1_717_977, "Other": 1_255_632, "White": 48_699_231}
PUBLISHED = {"Asian": 8.29, "Black": 23.71, "Mixed": 9.51, "Other": 7.33, "White": 5.81}
PUBLISHED_BLACK_WHITE = 4.08
MONTHS = [f"2022-{m:02d}" for m in range(4, 13)] + [f"2023-{m:02d}" for m in range(1, 4)]
BTP_SEARCHES = {"Black": 1_000, "White": 2_000}
NOT_STATED = 60_000
VEHICLE_ONLY = 5_000


@pytest.fixture(scope="module")
def national() -> tuple[pd.DataFrame, Selection]:
    """Every group's national count spread over the 42 force areas in proportion to its residents,
    then over the 12 months; plus BTP searches, 'Not stated' searches and vehicle-only searches."""
    pop = reference_data.population("broad")
    forces = [f for f in reference_data.resolve_forces("all") if reference_data.has_residents(f)]
    rows = []
    for group, total in NATIONAL.items():
        weights = pop.loc[pop["group"].eq(group)].set_index("force")["population"].reindex(forces).to_numpy()
        for force, n in zip(forces, spread(total, weights), strict=True):
            for month, k in zip(MONTHS, spread(int(n), np.ones(12)), strict=True):
                rows.append((force, month, group, int(k), "Person search"))
    for force, n in zip(forces, spread(NOT_STATED, np.ones(len(forces))), strict=True):
        rows.append((force, "2022-06", "Not stated", int(n), "Person search"))
    for group, n in BTP_SEARCHES.items():
        rows.append(("btp", "2022-07", group, n, "Person and Vehicle search"))
    rows.append(("metropolitan", "2022-08", "Black", VEHICLE_ONLY, "Vehicle search"))
    counts = pd.DataFrame(rows, columns=["force", "month", "group", "n", "type"])
    selection = Selection.build("all", "2022-04", "2023-03")
    return select(records_from_counts(counts), selection), selection


def test_census_totals_match_data_md() -> None:
    # DATA.md 3.2: "Census 2021 totals in census2021_pfa_ethnicity.csv (Asian 5,515,455; ...)"
    pop = reference_data.population("broad").groupby("group")["population"].sum()
    assert pop.reindex(list(CENSUS)).tolist() == list(CENSUS.values())


def test_national_rates_reproduce_published_figures(national) -> None:
    records, selection = national
    table = rates(records, selection)
    pooled = table.loc[table["force"].eq("ALL")].set_index("group")
    groups = list(PUBLISHED)
    assert pooled.loc[groups, "searches"].tolist() == [NATIONAL[g] for g in groups]  # BTP, vehicle-only left out
    assert pooled.loc[groups, "population"].tolist() == [CENSUS[g] for g in groups]
    # published to 2 d.p.: agree within half a unit in the last place
    assert_allclose(pooled.loc[groups, "rate_per_1000"], [PUBLISHED[g] for g in groups], atol=0.005)
    # hand calculation: 57,121 / 2,409,283 x 1,000 = 23.7087...
    assert_allclose(pooled.loc["Black", "rate_per_1000"], 57_121 / 2_409_283 * 1000, rtol=1e-12)
    assert pooled.loc["Not stated", "searches"] == NOT_STATED
    assert pd.isna(pooled.loc["Not stated", "rate_per_1000"])
    assert "btp" not in pooled["forces"].iloc[0].split(",")
    ratio = disparity(records, selection)
    black = ratio.loc[ratio["force"].eq("ALL") & ratio["group"].eq("Black")].iloc[0]
    assert_allclose(black["ratio"], PUBLISHED_BLACK_WHITE, atol=0.005)
    # hand: (57121/2409283) / (282957/48699231) = 4.0804...
    assert_allclose(black["ratio"], (57_121 / 2_409_283) / (282_957 / 48_699_231), rtol=1e-12)


def test_each_force_area_near_national_rate(national) -> None:
    # counts were spread in proportion to residents, so each area's rate is the national one up to rounding
    records, selection = national
    table = rates(records, selection)
    area = table.loc[table["group"].eq("Black") & table["population"].gt(20_000) & table["force"].ne("ALL")]
    assert_allclose(area["rate_per_1000"], 57_121 / 2_409_283 * 1000, rtol=0.01)
    city = table.loc[table["force"].eq("city-of-london")]
    assert city["rate_per_1000"].isna().all() and city["reason"].str.contains("residents").all()
    btp = table.loc[table["force"].eq("btp")]
    assert btp["rate_per_1000"].isna().all() and btp["population"].isna().all()
    assert btp.set_index("group").loc["Black", "searches"] == BTP_SEARCHES["Black"]


def test_including_btp_adds_btp_searches_to_the_pooled_numerator_only(national) -> None:
    records, selection = national
    with_btp = Selection.build("all", "2022-04", "2023-03", include_btp=True)
    table = rates(records, with_btp)
    pooled = table.loc[table["force"].eq("ALL")].set_index("group")
    assert pooled.loc["Black", "searches"] == NATIONAL["Black"] + BTP_SEARCHES["Black"]
    assert pooled.loc["Black", "population"] == CENSUS["Black"]
    assert_allclose(pooled.loc["Black", "rate_per_1000"], 58_121 / 2_409_283 * 1000, rtol=1e-12)
    assert "btp" in pooled["forces"].iloc[0].split(",")
    assert "British Transport Police" in pooled.loc["Black", "reason"]


def test_not_stated_summary_national(national) -> None:
    records, selection = national
    summary = not_stated_summary(records, selection).set_index("force")
    persons = sum(NATIONAL.values()) + NOT_STATED
    assert summary.loc["ALL", "searches_of_persons"] == persons
    assert summary.loc["ALL", "not_stated"] == NOT_STATED
    assert_allclose(summary.loc["ALL", "share"], NOT_STATED / persons, rtol=1e-12)
    assert summary["unrecognised"].eq(0).all()
