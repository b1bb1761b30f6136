"""Results: run records -> tidy frames -> Tables 1-3 (LaTeX + comparison with the paper) and the figures.

The public functions are imported on first use, so ``results.store`` stays light for the sweep workers.
"""

from __future__ import annotations

import importlib
from typing import Any

_PUBLIC = {
    "runs_frame": "results.frame",
    "epochs_frame": "results.frame",
    "reported": "results.paper",
    "write_table1": "results.table1",
    "figure3": "results.figures",
    "figure5": "results.figures",
    "figure6": "results.figures",
    "build_report": "results.report",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'results' has no attribute {name!r}")
    return getattr(importlib.import_module(_PUBLIC[name]), name)
