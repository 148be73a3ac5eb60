"""The synthetic demo dataset: deterministic, canonical, every label mapped, near the published rates."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from data import demo, reference_data, schema, vocab


def assert_same_frame(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Exact equality, column by column (pandas' assert_frame_equal is very slow on large categoricals)."""
    assert list(left.columns) == list(right.columns) and len(left) == len(right)
    for name in left.columns:
        a, b = left[name], right[name]
        assert a.dtype == b.dtype, name
        if isinstance(a.dtype, pd.CategoricalDtype):
            assert list(a.cat.categories) == list(b.cat.categories), name
            assert np.array_equal(a.cat.codes.to_numpy(), b.cat.codes.to_numpy()), name
        else:
            assert a.equals(b), name


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    return demo.demo_records()


def test_same_seed_same_frame_and_other_seed_differs(records):
    again = demo._generate(demo.DEFAULT_SEED)  # bypass the cache: a fresh generation
    assert_same_frame(records, again)
    other = demo.demo_records(seed=7)
    assert len(other) != len(records) or not other["datetime"].equals(records["datetime"])


def test_cached_and_returns_copies(records):
    first = demo.demo_records()
    first.loc[first.index[0], "latitude"] = -99.0
    assert demo.demo_records().loc[first.index[0], "latitude"] != -99.0


def test_canonical_schema_and_dtypes(records):
    assert tuple(records.columns) == schema.CANONICAL_COLUMNS
    for name, dtype in schema.RAW_COLUMNS.items():
        assert str(records[name].dtype) == dtype, name
    for name, dtype in schema.DERIVED_COLUMNS.items():
        assert records[name].dtype == dtype, name
    # recomputing the derived columns from the raw ones changes nothing
    rederived = schema.add_derived_columns(schema.coerce_raw(records))
    assert_same_frame(rederived, records)


def test_every_label_maps(records):
    assert schema.unknown_labels(records).empty
    for name in schema.DERIVED_COLUMNS:
        assert records[name].notna().all(), name


def test_forces_months_and_volumes(records):
    assert set(records["force"].unique()) == set(reference_data.resolve_forces("all"))
    assert "btp" in set(records["force"])
    assert set(records["month"].unique()) == set(demo.DEMO_MONTHS)
    persons = records[records["type"].ne("Vehicle search")]
    # about 530,000 searches of persons a year (DATA.md 3.2: 529,474 in YE March 2023)
    assert 480_000 < len(persons) < 580_000
    by_force = persons["force"].value_counts()
    assert by_force.idxmax() == "metropolitan"
    assert 10_000 < by_force["btp"] < 20_000
    vehicle = records[records["type"].eq("Vehicle search")]
    assert len(vehicle) > 0 and not vehicle["involved_person"].any()
    assert vehicle["self_defined_ethnicity"].isna().all()
    # the month is consistent with the stamp (no summer-time quirk in the demo)
    assert (records["datetime"].dt.strftime("%Y-%m") == records["month"].astype(str)).all()


def test_national_rates_near_published_order(records):
    """Oracle, DATA.md 3.2 (YE March 2023, excluding BTP): Asian 8.29, Black 23.71, Mixed 9.51, Other 7.33,
    White 5.81 searches per 1,000 residents (searches of persons by self-defined group / Census 2021 residents)."""
    persons = records[records["type"].ne("Vehicle search") & records["force"].ne("btp")]
    counts = persons["self_defined_broad"].value_counts()
    population = reference_data.population("broad")
    population = population[population["force"].isin(reference_data.resolve_forces("all"))]
    residents = population.groupby("group")["population"].sum()
    published = {"Asian": 8.29, "Black": 23.71, "Mixed": 9.51, "Other": 7.33, "White": 5.81}
    rates = {g: counts[g] / residents[g] * 1000 for g in published}
    assert_allclose([rates[g] for g in published], list(published.values()), rtol=0.15)
    assert_allclose(rates["Black"] / rates["White"], 4.08, rtol=0.15)
    all_persons = records[records["type"].ne("Vehicle search")]
    not_stated = all_persons["self_defined_broad"].eq(vocab.NOT_STATED).mean()
    assert 0.15 < not_stated < 0.25                   # published: 108,285 / 529,474 = 20.5%


def test_field_mixes(records):
    persons = records[records["type"].ne("Vehicle search")]
    legislation = persons["legislation_group"].value_counts(normalize=True)
    assert 0.55 < legislation["Misuse of Drugs Act s23"] < 0.65
    assert 0.30 < legislation["PACE s1"] < 0.40
    assert 0.01 < legislation["Section 60"] < 0.04
    outcome = persons["outcome_group"].map(vocab.OUTCOME_CLASS).value_counts(normalize=True)
    assert 0.65 < outcome["No further action"] < 0.75
    assert 0.10 < outcome["Arrest"] < 0.16
    removal = persons["removal_of_more_than_outer_clothing"].dropna().mean()
    assert 0.02 < removal < 0.04
    agree = persons[persons["self_defined_broad"].ne(vocab.NOT_STATED)]
    agree = agree[agree["officer_defined_broad"].ne(vocab.NOT_STATED)]
    assert (agree["self_defined_broad"].astype(str) == agree["officer_defined_broad"].astype(str)).mean() > 0.8
    detailed = persons["self_defined_group"].value_counts()
    assert (detailed.drop(["Roma"]) > 0).all()        # every detailed group but Roma (no published label yet)


def test_quirks(records):
    met = records[records["force"].eq("metropolitan")]
    assert met["outcome_linked_to_object"].isna().all()
    assert met["removal_of_more_than_outer_clothing"].isna().all()
    others = records[records["force"].ne("metropolitan") & records["type"].ne("Vehicle search")]
    assert others["removal_of_more_than_outer_clothing"].notna().mean() > 0.9
    no_location = records["latitude"].isna().mean()
    assert 0.07 < no_location < 0.13
    assert records.loc[records["force"].eq("gwent"), "latitude"].isna().all()
    assert (records["latitude"].isna() == records["longitude"].isna()).all()
    date_only = records.groupby("force", observed=True)["date_only"].mean()
    assert date_only["lancashire"] > 0.2 and date_only["metropolitan"] == 0
    assert (records["date_only"] == (records["datetime"] == records["datetime"].dt.normalize())).all()


def test_locations_inside_force_areas(records):
    located = records.dropna(subset=["latitude"])
    assert located["latitude"].between(49.8, 56.0).all() and located["longitude"].between(-6.0, 2.0).all()
    centre = located.groupby("force", observed=True)[["latitude", "longitude"]].median()
    for force, (lat, lng, _, _) in demo.FORCE_AREAS.items():
        if force in centre.index:
            assert abs(centre.loc[force, "latitude"] - lat) < 0.3, force
            assert abs(centre.loc[force, "longitude"] - lng) < 0.4, force


def test_manifest_matches_records(records):
    manifest = demo.demo_manifest()
    assert list(manifest.columns) == ["force", "month", "status", "records", "source", "retrieved_at",
                                      "checksum", "reason"]
    assert len(manifest) == len(reference_data.resolve_forces("all")) * 12
    assert (manifest["source"] == "synthetic demo").all()
    assert set(manifest["status"]) == {"ok", "empty", "not_published", "failed"}
    counts = records.groupby(["force", "month"], observed=False).size()
    for row in manifest.itertuples():
        assert row.records == counts.get((row.force, row.month), 0)
        assert (row.records > 0) == (row.status == "ok")
    failed = manifest[manifest["status"].isin(["failed", "not_published"])]
    assert failed["reason"].notna().all() and failed["checksum"].isna().all()
    assert np.all(manifest.loc[manifest["status"].eq("ok"), "checksum"].str.len() == 64)
    assert demo.DEMO_LABEL == "Synthetic demo data"
