"""Benchmarks: the real workloads measured against bare baselines (see README.md)."""
