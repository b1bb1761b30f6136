"""Input-embedding batches as a graph model exposes them to DeepFool: node embeddings, the graph of each node,
a forward from the embeddings to the logits, and optionally a subset of the batch's graphs."""

from __future__ import annotations

import numpy as np
import torch

from molpeg_bench.methods.context import InputEmbeddingBatch


def sum_pool(values: torch.Tensor, node_graph: torch.Tensor, n_graphs: int) -> torch.Tensor:
    return torch.zeros(n_graphs, values.shape[1], dtype=values.dtype).index_add(0, node_graph, values)


def _exposed(sizes: list[int], u: torch.Tensor, forward, indices: np.ndarray, subsettable: bool):
    node_graph = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes, dtype=torch.long))

    def subset(graphs: torch.Tensor) -> InputEmbeddingBatch:
        keep = graphs.tolist()
        return _exposed([sizes[g] for g in keep], u[torch.isin(node_graph, graphs)], forward, indices[keep], True)

    return InputEmbeddingBatch(indices=indices, node_embeddings=u, node_graph=node_graph,
                               forward=lambda x: forward(x, node_graph, len(sizes)),
                               subset=subset if subsettable else None)


def embedding_batch(sizes: list[int], d0: int, forward, seed: int = 0, start: int = 0,
                    subsettable: bool = False) -> InputEmbeddingBatch:
    """Random float64 node embeddings of molecules of ``sizes`` atoms at positions ``start``..., under ``forward``."""
    gen = torch.Generator().manual_seed(seed)
    u = torch.randn(int(sum(sizes)), d0, generator=gen, dtype=torch.float64)
    return _exposed(sizes, u, forward, np.arange(start, start + len(sizes)), subsettable)


W = torch.tensor([[1.0, -2.0, 0.5], [0.3, 0.1, -1.0]], dtype=torch.float64)  # two heads, d0 = 3
C = torch.tensor([0.2, -0.1], dtype=torch.float64)


def linear_in_u(u, node_graph, n_graphs):
    return sum_pool(u, node_graph, n_graphs) @ W.T + C
