"""Benchmarks: each measures a credit-etl component against the raw tool it replaces, in the same run."""
