"""Validate throughput benchmark: ``python -m bench.validate`` (``--help`` for options)."""

import sys

from bench.validate.bench_validate import main

sys.exit(main())
