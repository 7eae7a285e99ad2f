"""Benchmarks: `make bench`. Results are recorded in BENCHMARKS.md."""
