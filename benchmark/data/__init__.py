"""Molecular data: featurization, the flat graph store, dataset sources and splits.

The public names are imported on first use, so a light module of the package (the dataset sources the
command line reads) does not bring torch and RDKit with it.
"""

from __future__ import annotations

from molpeg_bench.fileio.lazy import lazy_names

__all__, __getattr__ = lazy_names(__name__, {
    "molpeg_bench.benchmark.data.dataset": ("featurize_smiles", "load_dataset"),
    "molpeg_bench.benchmark.data.graph_store": ("GraphBatch", "GraphStore"),
    "molpeg_bench.benchmark.data.splits": ("make_split",),
})
