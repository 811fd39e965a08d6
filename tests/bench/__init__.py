"""Benchmarks of the repository: `python -m tests.bench [--only SECTION]` prints one table per section."""
