"""Molecular data: featurization, the flat graph store, dataset sources and splits.

The public names are imported on first use, so a light module of the package (the dataset sources the
command line reads) does not bring torch and RDKit with it.
"""

from __future__ import annotations

from fileio.lazy import lazy_names

__all__, __getattr__ = lazy_names(__name__, {
    "benchmark.data.dataset": ("featurize_smiles", "load_dataset"),
    "benchmark.data.graph_store": ("GraphBatch", "GraphStore"),
    "benchmark.data.splits": ("make_split",),
})
