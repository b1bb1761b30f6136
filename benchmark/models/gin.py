"""The GIN of Hu et al. (pretrain-gnns), with the parameter names and shapes of the published
pretrain-gnns / GraphMAE / GraphCL checkpoints, so their files load with ``strict=True``.

PyG's ``GINEConv`` applies a ReLU to ``x_j + e`` and embeds edges with one linear layer; the Hu
layer sums two edge-attribute embeddings, adds self-loops with bond id 4 and has no ReLU in the
message, so the layer is written here. Its neighbourhood sum Σ_j (h_j + E1[t_ij] + E2[d_ij]) is linear,
so it is computed as A·h + C·T: a sparse adjacency product (self-loops included) plus the per-node counts
C of incoming (bond type, direction) pairs times the 18-row table T of summed bond embeddings. A and C
are built once per batch and shared by every layer; this avoids the [n_edges, d] gather, add and
scatter of message passing, which cost more than the layer's matmuls on a CPU.

Dropout is drawn from a uniform threshold (``rand >= p``) instead of ``F.dropout``: on the CPU,
``F.dropout`` samples with ``bernoulli_``, which on a 6,400 x 300 node tensor costs 30 ms, more than
the layer's 300 x 600 matmul (14 ms); the threshold mask has the same distribution and costs 10 ms.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch
from torch import nn
from torch_geometric.nn import global_mean_pool

from molpeg_bench.benchmark.data.featurize import (
    NUM_ATOM_TYPE,
    NUM_BOND_DIRECTION,
    NUM_BOND_TYPE,
    NUM_CHIRALITY_TAG,
    SELF_LOOP_BOND_ID,
)
from molpeg_bench.benchmark.data.graph_store import GraphBatch


@dataclass(frozen=True)
class GINConfig:
    num_layers: int = 5
    emb_dim: int = 300
    dropout: float = 0.5
    jk: str = "last"  # "last" or "sum"


def node_dropout(h: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Inverted dropout with a uniform-threshold mask (see the module docstring)."""
    if not training or p == 0.0:
        return h
    if p >= 1.0:
        return torch.zeros_like(h)
    keep = torch.rand_like(h).ge_(p).to(h.dtype).mul_(1.0 / (1.0 - p))
    return h * keep


class _AdjacencyProduct(torch.autograd.Function):
    """A·h for a sparse A, with the gradient A^T·g from the batch's transpose (built once, on the first
    backward, and shared by every layer)."""

    @staticmethod
    def forward(ctx, neighbourhood: Neighbourhood, h: torch.Tensor) -> torch.Tensor:
        ctx.neighbourhood = neighbourhood
        return torch.sparse.mm(neighbourhood.adjacency, h)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[None, torch.Tensor]:
        return None, torch.sparse.mm(ctx.neighbourhood.adjacency_t, grad)


def _sparse_sum_matrix(rows: np.ndarray, cols: np.ndarray, n: int, dtype: torch.dtype,
                       device: torch.device) -> torch.Tensor:
    """The [n, n] COO matrix counting each (row, col) pair. The index bookkeeping is done in numpy:
    torch's parallel sort (``coalesce``, ``index_put_(accumulate=True)``) stalls on a busy CPU (0.5 s for
    70k edges on 2 contended threads, against 0.5 ms for ``np.argsort``)."""
    key = rows * n + cols
    order = np.argsort(key, kind="stable")
    key = key[order]
    unique = len(key) < 2 or bool((key[1:] != key[:-1]).all())
    indices = torch.from_numpy(np.stack([rows[order], cols[order]])).to(device)
    values = torch.ones(len(key), dtype=dtype, device=device)
    matrix = torch.sparse_coo_tensor(indices, values, (n, n), check_invariants=False, is_coalesced=unique)
    return matrix if unique else matrix.coalesce()


class Neighbourhood:
    """What a Hu GIN layer sums over each node's neighbourhood (self-loop included), built once per batch:
    A [n, n] sparse (A_ij = number of edges j -> i) and the counts [n, 18] of incoming edges per (bond
    type, bond direction) pair; A's transpose is built on the first backward pass."""

    def __init__(self, num_nodes: int, edge_index: torch.Tensor, edge_attr: torch.Tensor,
                 dtype: torch.dtype = torch.float32):
        edges, attr, loops = edge_index.cpu().numpy(), edge_attr.cpu().numpy(), np.arange(num_nodes)
        n_pairs = NUM_BOND_TYPE * NUM_BOND_DIRECTION
        self._source = np.concatenate([edges[0], loops])
        self._target = np.concatenate([edges[1], loops])
        pair = np.concatenate([attr[:, 0] * NUM_BOND_DIRECTION + attr[:, 1],
                               np.full(num_nodes, SELF_LOOP_BOND_ID * NUM_BOND_DIRECTION)])
        self._shape = (num_nodes, dtype, edge_index.device)
        self.adjacency = _sparse_sum_matrix(self._target, self._source, *self._shape)
        counts = np.bincount(self._target * n_pairs + pair, minlength=num_nodes * n_pairs)
        self.bond_counts = torch.from_numpy(counts.reshape(num_nodes, n_pairs)).to(edge_index.device, dtype)

    @cached_property
    def adjacency_t(self) -> torch.Tensor:
        return _sparse_sum_matrix(self._source, self._target, *self._shape)

    def sum(self, h: torch.Tensor, bond_table: torch.Tensor) -> torch.Tensor:
        """Σ_{j -> i} (h_j + bond_table[pair_ji]) for every node i."""
        return _AdjacencyProduct.apply(self, h) + self.bond_counts @ bond_table


class HuGINConv(nn.Module):
    """GIN layer: h_i' = MLP( sum_{j in N(i) ∪ {i}} (h_j + E1[bond_type_ij] + E2[bond_dir_ij]) )."""

    def __init__(self, emb_dim: int):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(emb_dim, 2 * emb_dim), nn.ReLU(inplace=True),
                                 nn.Linear(2 * emb_dim, emb_dim))
        self.edge_embedding1 = nn.Embedding(NUM_BOND_TYPE, emb_dim)
        self.edge_embedding2 = nn.Embedding(NUM_BOND_DIRECTION, emb_dim)
        nn.init.xavier_uniform_(self.edge_embedding1.weight)
        nn.init.xavier_uniform_(self.edge_embedding2.weight)

    def reset_parameters(self) -> None:
        """The initialisation of a freshly built layer: PyTorch's default for the MLP, xavier-uniform
        edge embeddings (as pretrain-gnns and the official MolPeg ``model/gnn.py``)."""
        for layer in (self.mlp[0], self.mlp[2]):
            layer.reset_parameters()
        nn.init.xavier_uniform_(self.edge_embedding1.weight)
        nn.init.xavier_uniform_(self.edge_embedding2.weight)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor,
                neighbourhood: Neighbourhood | None = None) -> torch.Tensor:
        """``neighbourhood``: the batch's prebuilt ``Neighbourhood`` (built here when omitted)."""
        if neighbourhood is None:
            neighbourhood = Neighbourhood(x.size(0), edge_index, edge_attr, x.dtype)
        return self.mlp(neighbourhood.sum(x, self.bond_table()))

    def bond_table(self) -> torch.Tensor:
        """The 18 summed (bond type, direction) embeddings E1[t] + E2[d], [18, emb_dim]."""
        e1, e2 = self.edge_embedding1.weight, self.edge_embedding2.weight
        return (e1[:, None, :] + e2[None, :, :]).reshape(-1, e1.size(1))


class GINEncoder(nn.Module):
    """Node encoder. Input: a ``GraphBatch`` (x [n, 2] long: atom type, chirality). Output: node
    representations [n, emb_dim] (BatchNorm after every layer, ReLU on all but the last, dropout)."""

    def __init__(self, config: GINConfig = GINConfig()):
        super().__init__()
        if config.num_layers < 2:
            raise ValueError(f"num_layers must be >= 2, got {config.num_layers}")
        self.config = config
        self.x_embedding1 = nn.Embedding(NUM_ATOM_TYPE, config.emb_dim)
        self.x_embedding2 = nn.Embedding(NUM_CHIRALITY_TAG, config.emb_dim)
        nn.init.xavier_uniform_(self.x_embedding1.weight)
        nn.init.xavier_uniform_(self.x_embedding2.weight)
        self.gnns = nn.ModuleList(HuGINConv(config.emb_dim) for _ in range(config.num_layers))
        self.batch_norms = nn.ModuleList(nn.BatchNorm1d(config.emb_dim) for _ in range(config.num_layers))

    def reset_parameters(self) -> None:
        """Re-draw every parameter as a freshly built encoder (xavier-uniform atom embeddings, see
        ``HuGINConv.reset_parameters``) and reset the BatchNorm statistics."""
        nn.init.xavier_uniform_(self.x_embedding1.weight)
        nn.init.xavier_uniform_(self.x_embedding2.weight)
        for conv, bn in zip(self.gnns, self.batch_norms, strict=True):
            conv.reset_parameters()
            bn.reset_parameters()

    def embed_atoms(self, x: torch.Tensor) -> torch.Tensor:
        return self.x_embedding1(x[:, 0]) + self.x_embedding2(x[:, 1])

    def forward(self, batch: GraphBatch, h: torch.Tensor | None = None) -> torch.Tensor:
        """Node states; ``h`` optionally replaces the atom input embedding (e.g. for input gradients)."""
        h = self.embed_atoms(batch.x) if h is None else h
        neighbourhood = Neighbourhood(h.size(0), batch.edge_index, batch.edge_attr, h.dtype)
        layers = []
        last = len(self.gnns) - 1
        for i, (conv, bn) in enumerate(zip(self.gnns, self.batch_norms, strict=True)):
            h = bn(conv(h, batch.edge_index, batch.edge_attr, neighbourhood))
            if i < last:
                h = torch.relu_(h)  # BatchNorm's backward needs its input, not its output
            h = node_dropout(h, self.config.dropout, self.training)
            layers.append(h)
        return layers[-1] if self.config.jk == "last" else torch.stack(layers).sum(0)


class GraphPredictor(nn.Module):
    """Encoder + mean pooling + a linear head. ``forward`` returns logits [num_graphs, num_tasks];
    ``embed`` returns the pooled graph embedding h [num_graphs, emb_dim] (the head's input)."""

    def __init__(self, num_tasks: int, config: GINConfig = GINConfig()):
        super().__init__()
        self.encoder = GINEncoder(config)
        self.head = nn.Linear(config.emb_dim, num_tasks)

    def embed(self, batch: GraphBatch, h: torch.Tensor | None = None) -> torch.Tensor:
        return global_mean_pool(self.encoder(batch, h), batch.batch, size=batch.num_graphs)

    def forward(self, batch: GraphBatch, h: torch.Tensor | None = None) -> torch.Tensor:
        """Logits; ``h`` optionally replaces the node input embeddings (see ``GINEncoder.forward``)."""
        return self.head(self.embed(batch, h))
