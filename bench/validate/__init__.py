"""Validate throughput: the Arrow engine and GX on the same 1M typed 行政处罚 rows, vs DuckDB read_csv."""
