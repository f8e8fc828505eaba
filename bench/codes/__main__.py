import sys

from bench.codes.bench_codes import main

sys.exit(main())
