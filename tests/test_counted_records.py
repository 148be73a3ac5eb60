"""Counted records kept with the store (a row per force, month, type, person involved and both ethnicity
labels, with how many records it stands for) give exactly the counts, rates, trends and comparisons the
records give. Oracle: analysis.rates.count and friends run on the records themselves."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.compare import compare
from analysis.long_trend import long_trend
from analysis.rates import WEIGHT_COLUMN, count
from analysis.selection import Selection, select
from analysis.trend import trend
from data import read_copy
from data.store import Store
from tests.store_fixtures import build_fixture_store, build_real_store


@pytest.fixture(scope="module")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("counted")
    return build_fixture_store(root / "store", root / "csv")


@pytest.fixture(scope="module")
def real_store(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path) -> Path:
    return build_real_store(tmp_path_factory.mktemp("counted-real") / "store", shared_dir)


def _assert_same_counts(store: Store, selection: Selection) -> None:
    records = select(store.read(), selection)
    counted = store.read_counts(list(selection.forces), selection.months)
    assert counted is not None
    assert int(counted[WEIGHT_COLUMN].sum()) == len(records)
    assert len(counted) < len(records)  # rows stand for several records
    by_records, by_counts = count(records, selection, by_month=True), count(counted, selection, by_month=True)
    for name in ("searches", "monthly", "present", "unrecognised", "persons", "has_records"):
        np.testing.assert_array_equal(getattr(by_counts, name), getattr(by_records, name), err_msg=name)
        assert getattr(by_counts, name).dtype == getattr(by_records, name).dtype, name
    pd.testing.assert_frame_equal(trend(counted, selection), trend(records, selection))
    pd.testing.assert_frame_equal(compare(counted, selection), compare(records, selection))


CHOICES = [{}, {"level": "detailed", "reference": "White British"}, {"ethnicity": "officer"}]


@pytest.mark.parametrize("choices", CHOICES, ids=["broad", "detailed", "officer"])
def test_counted_records_count_as_the_records_do(fixture_store: Path, choices: dict) -> None:
    store = Store(fixture_store)
    store.refresh_read_copy()
    _assert_same_counts(store, Selection.build(["gloucestershire", "durham"], "2019-01", "2020-02", **choices))
    _assert_same_counts(store, Selection.build(["gloucestershire"], "2019-03", "2019-10", **choices))


def test_counted_records_on_the_real_archive_files(real_store: Path) -> None:
    store = Store(real_store)
    store.refresh_read_copy()
    manifest = store.manifest()
    forces = sorted(manifest.loc[manifest["status"].eq("ok"), "force"].unique())
    months = sorted(manifest["month"].unique())
    for choices in CHOICES:
        _assert_same_counts(store, Selection.build(forces, months[0], months[-1], **choices))
    selection = Selection.build(forces, months[0], months[-1])
    records = select(store.read(), selection)
    counted = store.read_counts(forces, selection.months)
    a, b = long_trend(records, selection), long_trend(counted, selection)
    pd.testing.assert_frame_equal(a.periods, b.periods)
    pd.testing.assert_frame_equal(a.coverage, b.coverage)


def test_stale_counts_are_not_used(fixture_store: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "store"
    shutil.copytree(fixture_store, copy)
    store = Store(copy)
    store.refresh_read_copy()
    assert store.read_counts(["durham"], ["2019-01"]) is not None
    read_copy.counts_path(store.cache_path).unlink()
    assert store.read_counts(["durham"], ["2019-01"]) is None  # the app then counts the records
    store.refresh_read_copy()  # the next refresh writes them again
    assert store.read_counts(["durham"], ["2019-01"]) is not None
