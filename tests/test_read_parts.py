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


def _values(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns as plain labels: a part read's categories are its own row groups' labels."""
    return frame.astype({c: object for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)})


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
    monkeypatch.setattr(read_copy, "ONE_PIECE_ROWS", 0)  # parts even for these few records
    got = store.read()
    pd.testing.assert_frame_equal(got, _one_piece(store), check_exact=True)
    assert list(got.columns) == list(schema.CANONICAL_COLUMNS)
    part = store.read(forces=["essex"], months=["2024-02", "2024-03"])
    want = _one_piece(store)
    want = want[(want["force"] == "essex") & want["month"].isin(["2024-02", "2024-03"])].reset_index(drop=True)
    # a part read holds its own row groups' labels as categories (the values are what matters)
    pd.testing.assert_frame_equal(_values(part), _values(want), check_exact=True)
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
    monkeypatch.setattr(read_copy, "ONE_PIECE_ROWS", 0)
    got = store.read()
    assert len(calls) >= 2 and calls[2:4] == calls[:2]  # the stale part stopped the read; it started again
    pd.testing.assert_frame_equal(got, _one_piece(store), check_exact=True)


def test_derived_columns_leave_the_callers_frame_unchanged(store):
    raw = store.read_raw()
    before = raw.copy()
    out = schema.add_derived_columns(raw)
    pd.testing.assert_frame_equal(raw, before, check_exact=True)
    assert list(raw.columns) == list(schema.RAW_COLUMNS)
    assert set(schema.DERIVED_COLUMNS) <= set(out.columns)


def test_the_read_copy_has_one_row_group_per_force_and_year(tmp_path):
    """A page reads only its forces' and years' row groups (the index in the copy's metadata says which)."""
    s = Store(tmp_path / "store")
    for force in ("kent", "essex"):
        for month, n in (("2023-12", 2), ("2024-01", 3), ("2024-02", 4)):
            s.write_month(force, month, records(force, month, n), source="test")
    s.refresh_read_copy()
    parquet = pq.ParquetFile(s.cache_path)
    # oracle: rows are in (force, month) order, so the groups are essex 2023, essex 2024, kent 2023, kent 2024
    sizes = [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)]
    assert sizes == [2, 7, 2, 7]
    got = s.read(["kent"], ["2024-02"])
    assert len(got) == 4 and set(got["force"]) == {"kent"} and set(got["month"]) == {"2024-02"}
    calls = []
    real = pq.ParquetFile.read_row_groups

    def spy(self, groups, *args, **kwargs):
        calls.append(list(groups))
        return real(self, groups, *args, **kwargs)

    import unittest.mock
    with unittest.mock.patch.object(pq.ParquetFile, "read_row_groups", spy):
        assert len(s.read(["kent"], ["2024-01", "2024-02"])) == 7
    assert calls and all(c == [3] for c in calls)  # kent 2024 only


def test_a_column_subset_is_the_same_as_the_whole_read(store):
    whole = store.read(forces=["kent", "essex"], months=["2024-02"])
    columns = ["force", "month", "self_defined_broad", "officer_defined_broad", "legislation_group", "gender"]
    part = store.read(forces=["kent", "essex"], months=["2024-02"], columns=columns)
    assert list(part.columns) == columns
    pd.testing.assert_frame_equal(part, whole.loc[:, columns], check_exact=True)
    with pytest.raises(KeyError, match="not a canonical column"):
        store.read(columns=["force", "postcode"])


def test_label_counts_are_the_records_value_counts(store):
    raw = store.read_raw()
    counts = store.label_counts()
    for column in read_copy.LABEL_COLUMNS:
        oracle = raw[column].value_counts(dropna=False)  # pandas, on every stored record; '' = no label
        assert counts[column] == {("" if pd.isna(k) else str(k)): int(n) for k, n in oracle.items() if n}, column
    assert sum(counts["type"].values()) == len(raw)


def test_an_old_read_copy_without_the_index_is_rebuilt(store):
    """A copy written before row groups were indexed is stale: the next refresh rewrites it."""
    table = pq.read_table(store.cache_path)
    key = pq.read_metadata(store.cache_path).metadata[read_copy.CACHE_KEY]
    pq.write_table(table.replace_schema_metadata({read_copy.CACHE_KEY: key}), store.cache_path)
    assert read_copy.label_counts(store.cache_path, key) is None
    assert len(store.read(["kent"])) == 15  # read from the files meanwhile
    store.refresh_read_copy()
    assert read_copy.label_counts(store.cache_path, key) is not None
