"""Shared fixtures: the real published data in ../shared (skipped cleanly when absent) and a temporary store."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("STOPSEARCH_SHARED_DIR", PROJECT.parent / "shared"))
# No background prefetch of other pages' tables in the in-process app tests: they count reads and clear
# caches between runs. The real-browser tests turn it back on for their servers (tests/test_prefetch.py
# tests it in-process, on purpose).
os.environ["STOPSEARCH_PREFETCH"] = "0"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared, the real published data; tests that need it skip when it is not there."""
    if not (SHARED / "DATA.md").is_file():
        pytest.skip("../shared (real published data) is not present")
    return SHARED


@pytest.fixture()
def store_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty store folder, also exported as STOPSEARCH_DATA_DIR for code and subprocesses."""
    path = tmp_path / "store"
    path.mkdir()
    monkeypatch.setenv("STOPSEARCH_DATA_DIR", str(path))
    return path
