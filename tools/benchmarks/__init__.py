"""Benchmarks run by `make bench`: each module has ``run() -> list[(name, value, unit)]``."""
