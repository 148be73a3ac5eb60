"""Store.read reads the combined read copy a few columns at a time (peak memory at ten years) and adds the
derived columns on a shallow copy: the frame must be exactly the one-piece read, and a read copy swapped
for another state between two parts must never be mixed in."""
from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data import read_copy, schema
from data.store import Store
from tests.test_store import records


def _one_piece(store: Store) -> pd.DataFrame:
    """The oracle: the whole read copy in one read_table/to_pandas, as Store.read did before."""
    table = pq.read_table(store.cache_path)
    frame = table.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get, ignore_metadata=True)
    return schema.add_derived_columns(frame.loc[:, list(schema.RAW_COLUMNS)])


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(tmp_path / "store")
    for force in ("kent", "essex", "metropolitan"):
        for month, n in (("2024-01", 3), ("2024-02", 7), ("2024-03", 5)):
            s.write_month(force, month, records(force, month, n), source="test")
    s.read()  # leaves the combined read copy
    assert s.cache_path.is_file()
    return s


@pytest.mark.parametrize("group", [1, 3, 4, 100])
def test_read_in_column_parts_is_the_one_piece_read(store, monkeypatch, group):
    monkeypatch.setattr(read_copy, "COLUMN_GROUP", group)
    got = store.read()
    pd.testing.assert_frame_equal(got, _one_piece(store), check_exact=True)
    assert list(got.columns) == list(schema.CANONICAL_COLUMNS)
    part = store.read(forces=["essex"], months=["2024-02", "2024-03"])
    want = _one_piece(store)
    want = want[(want["force"] == "essex") & want["month"].isin(["2024-02", "2024-03"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(part, want, check_exact=True)
    assert store.read_raw(columns=[]).shape[1] == 0


def test_a_read_copy_replaced_between_parts_is_not_mixed_in(store, monkeypatch):
    """The second part comes from a copy keyed for another state: the parts read so far are dropped and the
    checked files are read instead (same records, never half of each)."""
    real = read_copy.read_cache
    calls = []

    def swapped(path, key, **kwargs):
        calls.append(kwargs["columns"])
        return real(path, b"another-state" if len(calls) == 2 else key, **kwargs)

    monkeypatch.setattr(read_copy, "read_cache", swapped)
    monkeypatch.setattr(read_copy, "COLUMN_GROUP", 5)
    got = store.read()
    assert len(calls) == 2  # stopped at the stale part
    pd.testing.assert_frame_equal(got, _one_piece(store), check_exact=True)


def test_derived_columns_leave_the_callers_frame_unchanged(store):
    raw = store.read_raw()
    before = raw.copy()
    out = schema.add_derived_columns(raw)
    pd.testing.assert_frame_equal(raw, before, check_exact=True)
    assert list(raw.columns) == list(schema.RAW_COLUMNS)
    assert set(schema.DERIVED_COLUMNS) <= set(out.columns)
