"""Molecular data: featurization, the flat graph store, dataset sources and splits.

The public names are imported on first use, so a light module of the package (the dataset sources the
command line reads) does not bring torch and RDKit with it.
"""

from __future__ import annotations

import importlib
from typing import Any

_PUBLIC = {
    "featurize_smiles": "benchmark.data.dataset",
    "load_dataset": "benchmark.data.dataset",
    "GraphBatch": "benchmark.data.graph_store",
    "GraphStore": "benchmark.data.graph_store",
    "make_split": "benchmark.data.splits",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'benchmark.data' has no attribute {name!r}")
    return getattr(importlib.import_module(_PUBLIC[name]), name)
