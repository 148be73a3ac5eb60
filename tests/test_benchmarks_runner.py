"""`python -m benchmarks NAME --option` hands the options to the benchmark (they were taken for names)."""
from __future__ import annotations

from benchmarks.__main__ import split_arguments


def test_names_come_first_and_options_follow():
    assert split_arguments(["ten_years", "--skip-app", "--keep", "/tmp/x"]) == (
        ["ten_years"], ["--skip-app", "--keep", "/tmp/x"])
    assert split_arguments(["import", "ten_years"]) == (["import", "ten_years"], [])
    assert split_arguments([]) == ([], [])
