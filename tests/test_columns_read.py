"""A page reads from the store only the columns its tables read (analysis.columns_read). Oracle: each table
made from every canonical column; the table made from only the named columns must equal it exactly, on the
synthetic demo and on a store of real published months (whose blanks and labels the demo does not have)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.columns_read import COLUMNS_READ
from analysis.districts import district_counts
from analysis.mix import mix
from analysis.outcomes import analyse_outcomes
from analysis.quality import agreement, quality
from analysis.selection import Selection, select
from analysis.thorough import thorough
from data import demo
from data.schema import CANONICAL_COLUMNS
from data.store import Store
from tests.store_fixtures import build_real_store

TABLES = {"mix": mix, "outcomes": analyse_outcomes, "thorough": thorough, "agreement": agreement,
          "quality": quality, "districts": district_counts}


def _same(a: object, b: object) -> None:
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    elif hasattr(a, "__dataclass_fields__"):
        for name in a.__dataclass_fields__:
            _same(getattr(a, name), getattr(b, name))
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b


def _selections(forces: tuple[str, ...], start: str, end: str) -> list[Selection]:
    out = [Selection(forces=forces, start=start, end=end, ethnicity=ethnicity, level=level)
           for ethnicity in ("self", "officer") for level in ("broad", "detailed")]
    out.append(Selection(forces=forces, start=start, end=end, filters=(("gender", ("Female",)),)))
    return out


def _check(records: pd.DataFrame, selection: Selection) -> None:
    every = select(records.loc[:, list(CANONICAL_COLUMNS)], selection)
    for kind, table in TABLES.items():
        named = COLUMNS_READ[kind](selection)
        assert set(named) < set(CANONICAL_COLUMNS), kind  # fewer than every column, all of them real
        only = select(records.loc[:, list(dict.fromkeys(("force", "month", *named, "gender")))], selection)
        _same(table(every, selection), table(only.loc[:, list(dict.fromkeys(("force", "month", *named)))],
                                             selection))


def test_every_table_kind_is_named() -> None:
    assert set(COLUMNS_READ) == set(TABLES)


@pytest.mark.parametrize("index", range(5))
def test_the_named_columns_give_the_same_tables_on_the_demo(index: int) -> None:
    records = demo.demo_records()
    months = sorted(records["month"].unique())
    forces = tuple(sorted(records["force"].unique())[:3])
    _check(records, _selections(forces, months[-12], months[-1])[index])


@pytest.fixture(scope="module")
def real_store(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path) -> Path:
    return build_real_store(tmp_path_factory.mktemp("columns-real") / "store", shared_dir)


def test_the_named_columns_give_the_same_tables_on_real_months(real_store: Path) -> None:
    store = Store(real_store)
    records = store.read()
    months = sorted(records["month"].unique())
    forces = tuple(sorted(records["force"].unique()))
    for selection in _selections(forces, months[0], months[-1]):
        _check(records, selection)
