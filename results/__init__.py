"""Results: run records -> tidy frames -> Tables 1-3 (LaTeX + comparison with the paper) and the figures.

The public functions are imported on first use, so ``results.store`` stays light for the sweep workers.
"""

from __future__ import annotations

from molpeg_bench.fileio.lazy import lazy_names

__all__, __getattr__ = lazy_names(__name__, {
    "molpeg_bench.results.frame": ("runs_frame", "epochs_frame"),
    "molpeg_bench.results.paper": ("reported",),
    "molpeg_bench.results.table1": ("write_table1",),
    "molpeg_bench.results.figures": ("figure3", "figure5", "figure6"),
    "molpeg_bench.results.report": ("build_report",),
})
