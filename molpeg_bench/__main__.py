"""``python -m molpeg_bench``: the same command line as the ``molpeg-bench`` console script."""

import sys

from molpeg_bench.benchmark.cli import main

sys.exit(main())
