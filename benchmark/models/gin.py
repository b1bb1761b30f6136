"""The GIN of Hu et al. (pretrain-gnns), with the parameter names and shapes of the published
pretrain-gnns / GraphMAE / GraphCL checkpoints, so their files load with ``strict=True``.

PyG's ``GINEConv`` applies a ReLU to ``x_j + e`` and embeds edges with one linear layer; the Hu
layer sums two edge-attribute embeddings, adds self-loops with bond id 4 and has no ReLU in the
message, so the layer is written here on PyG's ``MessagePassing``.

Dropout is drawn from a uniform threshold (``rand >= p``) instead of ``F.dropout``: on the CPU,
``F.dropout`` samples with ``bernoulli_``, which on a 6,400 x 300 node tensor costs 30 ms, more than
the layer's 300 x 600 matmul (14 ms); the threshold mask has the same distribution and costs 10 ms.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch_geometric.nn import MessagePassing, global_mean_pool

from benchmark.data.featurize import (
    NUM_ATOM_TYPE,
    NUM_BOND_DIRECTION,
    NUM_BOND_TYPE,
    NUM_CHIRALITY_TAG,
    SELF_LOOP_BOND_ID,
)
from benchmark.data.graph_store import GraphBatch


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


class HuGINConv(MessagePassing):
    """GIN layer: h_i' = MLP( sum_{j in N(i) ∪ {i}} (h_j + E1[bond_type_ij] + E2[bond_dir_ij]) )."""

    def __init__(self, emb_dim: int):
        super().__init__(aggr="add")
        self.mlp = nn.Sequential(nn.Linear(emb_dim, 2 * emb_dim), nn.ReLU(), nn.Linear(2 * emb_dim, emb_dim))
        self.edge_embedding1 = nn.Embedding(NUM_BOND_TYPE, emb_dim)
        self.edge_embedding2 = nn.Embedding(NUM_BOND_DIRECTION, emb_dim)
        nn.init.xavier_uniform_(self.edge_embedding1.weight)
        nn.init.xavier_uniform_(self.edge_embedding2.weight)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor) -> torch.Tensor:
        n = x.size(0)
        loops = torch.arange(n, device=x.device)
        edge_index = torch.cat([edge_index, torch.stack([loops, loops])], dim=1)
        loop_attr = torch.zeros(n, 2, dtype=edge_attr.dtype, device=x.device)
        loop_attr[:, 0] = SELF_LOOP_BOND_ID
        edge_attr = torch.cat([edge_attr, loop_attr], dim=0)
        edge_emb = self.edge_embedding1(edge_attr[:, 0]) + self.edge_embedding2(edge_attr[:, 1])
        return self.mlp(self.propagate(edge_index, x=x, edge_attr=edge_emb))

    def message(self, x_j: torch.Tensor, edge_attr: torch.Tensor) -> torch.Tensor:
        return x_j + edge_attr


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

    def embed_atoms(self, x: torch.Tensor) -> torch.Tensor:
        return self.x_embedding1(x[:, 0]) + self.x_embedding2(x[:, 1])

    def forward(self, batch: GraphBatch, h: torch.Tensor | None = None) -> torch.Tensor:
        """Node states; ``h`` optionally replaces the atom input embedding (e.g. for input gradients)."""
        h = self.embed_atoms(batch.x) if h is None else h
        layers = []
        last = len(self.gnns) - 1
        for i, (conv, bn) in enumerate(zip(self.gnns, self.batch_norms, strict=True)):
            h = bn(conv(h, batch.edge_index, batch.edge_attr))
            if i < last:
                h = torch.relu(h)
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
