"""Arrow's memory allocator for this process: the system's (glibc malloc), not the wheel's default mimalloc.

Measured on the read copy (15 columns of 0.75 million records, a national year; benchmarks/bench_ten_years):
with mimalloc the first reads of a process take ~1.1 s (read, filter, to pandas: mimalloc hands fresh pages
back and faults them in again), with the system allocator (or jemalloc) ~0.25 s, at the same peak memory.
The system allocator rather than jemalloc: it is in every build, and Arrow's jemalloc settings keep freed
huge chunks unused (apache/arrow#46929), which a long-running app server would feel.
Imported for its effect by the modules that read Parquet (data.read_copy, data.store).
"""
from __future__ import annotations

import pyarrow as pa

if pa.default_memory_pool().backend_name == "mimalloc":
    pa.set_memory_pool(pa.system_memory_pool())
