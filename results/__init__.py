"""Results: run records -> tidy frames -> Tables 1-3 (LaTeX + comparison with the paper) and the figures.

The public functions are imported on first use, so ``results.store`` stays light for the sweep workers.
"""

from __future__ import annotations

from fileio.lazy import lazy_names

__all__, __getattr__ = lazy_names(__name__, {
    "results.frame": ("runs_frame", "epochs_frame"),
    "results.paper": ("reported",),
    "results.table1": ("write_table1",),
    "results.figures": ("figure3", "figure5", "figure6"),
    "results.report": ("build_report",),
})
