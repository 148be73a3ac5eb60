"""Speed measurements: `python -m benchmarks [name ...]` runs each bench_*.py module's main()."""
