"""Molecular data: featurization, the flat graph store, dataset sources and splits."""

from benchmark.data.dataset import featurize_smiles, load_dataset
from benchmark.data.graph_store import GraphBatch, GraphStore
from benchmark.data.splits import make_split

__all__ = ["GraphBatch", "GraphStore", "featurize_smiles", "load_dataset", "make_split"]
