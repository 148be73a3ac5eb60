"""Arrow tables in the store's on-disk schema, cut per force-month out of a batch of many files.

A bulk import normalises ~64 files at once (data.archive); making each file's Arrow table from its own
pandas slice cost ~15 ms a file (coercion, dictionary encoding), most of a ten-year import's time. The
batch is converted once and each force-month is a slice of it, with force and month set and every
dictionary cut down to the labels the slice uses, in the same order: the very table (and so the very
Parquet bytes and checksum) data.store would make from that force-month's records alone.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa


def _compact(chunk: pa.DictionaryArray) -> pa.DictionaryArray:
    """The same values with a dictionary of only the labels used, in dictionary order (as data.store._to_arrow)."""
    codes = chunk.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
    used = np.unique(codes[codes >= 0])
    remap = np.full(len(chunk.dictionary) + 1, -1, dtype=np.int32)  # [-1] keeps missing missing
    remap[used] = np.arange(len(used), dtype=np.int32)
    indices = remap[codes]
    labels = chunk.dictionary.take(pa.array(used, type=pa.int32())) if len(used) else pa.array([], pa.string())
    return pa.DictionaryArray.from_arrays(pa.array(indices, type=pa.int32(), mask=indices < 0), labels)


def month_slice(table: pa.Table, start: int, length: int, *, force: str, month: str) -> pa.Table:
    """Rows [start, start + length) of a table in the store's schema as force-month (force, month)'s table."""
    part = table.slice(start, length)
    arrays = []
    for field, column in zip(part.schema, part.columns, strict=True):
        if field.name in ("force", "month"):
            label = force if field.name == "force" else month
            chunk = pa.DictionaryArray.from_arrays(pa.array(np.zeros(length, np.int32), pa.int32()),
                                                   pa.array([label], pa.string()))
            arrays.append(_compact(chunk))
        elif pa.types.is_dictionary(field.type):
            arrays.append(_compact(column.combine_chunks()))
        else:
            arrays.append(column.combine_chunks())
    return pa.Table.from_arrays(arrays, schema=part.schema)
