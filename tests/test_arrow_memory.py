"""The store's reads use the system allocator, not the pyarrow wheel's default mimalloc, with
which a process's first reads of the read copy took ~4x longer (data/arrow_memory.py has the figures)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def test_reading_the_store_does_not_use_mimalloc() -> None:
    # a fresh interpreter: the allocator is chosen once per process, when the store's modules are imported
    done = subprocess.run([sys.executable, "-c", "import pyarrow as pa; import data.store; "
                           "print(pa.default_memory_pool().backend_name)"],
                          cwd=PROJECT, capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "system", done.stdout
