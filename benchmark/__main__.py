import sys

from molpeg_bench.benchmark.cli import main

sys.exit(main())
