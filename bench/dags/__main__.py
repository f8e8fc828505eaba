import sys

from bench.dags.bench_parse import main

sys.exit(main())
