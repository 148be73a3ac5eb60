"""Arrow's memory allocator for this process: jemalloc (or the system's), not the wheel's default mimalloc.

Measured on the read copy (15 columns of 0.75 million records, a national year; benchmarks/bench_ten_years):
with mimalloc the first reads of a process take ~1.1 s (read, filter, to pandas: mimalloc hands fresh pages
back and faults them in again), with jemalloc or the system allocator ~0.25 s, at the same peak memory.
Imported for its effect by the modules that read Parquet (data.read_copy, data.store).
"""
from __future__ import annotations

import pyarrow as pa


def _faster_pool() -> pa.MemoryPool:
    try:
        return pa.jemalloc_memory_pool()
    except (NotImplementedError, pa.ArrowException):  # a build without jemalloc (e.g. Windows wheels)
        return pa.system_memory_pool()


if pa.default_memory_pool().backend_name == "mimalloc":
    pa.set_memory_pool(_faster_pool())
