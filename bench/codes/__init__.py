"""USCC check throughput: ``etl.codes.check`` against python-stdnum one code at a time.

Run as ``python -m bench.codes`` (or ``python bench/codes/bench_codes.py``); ``--help`` for options.
"""
