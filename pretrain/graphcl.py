"""GraphCL (You et al., NeurIPS 2020) for molecules, as in its transfer-learning setting.

Follows ``transferLearning_MoleculeNet_PPI/chem/pretrain_graphcl.py`` of Shen-Lab/GraphCL: two
augmented views of every molecule (both ``random``, ratio 0.2; see ``pretrain.augment``), each encoded
separately, mean-pooled and passed through a projection head Linear-ReLU-Linear (emb_dim wide); the
loss is GraphCL's NT-Xent with temperature 0.1, from view 1 to view 2, whose denominator holds only
the other molecules' second views (the positive pair is left out of it):
``loss_i = -log( exp(s_ii / t) / sum_{j != i} exp(s_ij / t) )`` with ``s`` the cosine similarity.

Written here on this project's ``GINEncoder`` and ``GraphBatch`` (the reference code runs on an old
PyG ``Data`` pipeline with a hard-coded width of 300); the loss is computed with ``logsumexp``, which
equals the reference formula but does not overflow.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import global_mean_pool

from molpeg_bench.benchmark.data.graph_store import GraphBatch
from molpeg_bench.benchmark.models.gin import GINConfig, GINEncoder
from molpeg_bench.pretrain.augment import AUGMENTATIONS, SUBGRAPH_MODES, augment


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """GraphCL's contrastive loss of paired embeddings ``z1[i]``, ``z2[i]`` (needs >= 2 pairs)."""
    if len(z1) < 2:
        raise ValueError("the contrastive loss needs at least 2 molecules per batch")
    logits = F.normalize(z1, dim=1) @ F.normalize(z2, dim=1).T / temperature
    positive = logits.diagonal()
    diagonal = torch.eye(len(z1), dtype=torch.bool, device=z1.device)
    negatives = logits.masked_fill(diagonal, float("-inf")).logsumexp(dim=1)
    return (negatives - positive).mean()


class GraphCL(nn.Module):
    """Encoder (a ``GINEncoder``, the part that is saved) + mean pooling + projection head."""

    def __init__(self, config: GINConfig, aug1: str = "random", aug2: str = "random",
                 aug_ratio: float = 0.2, temperature: float = 0.1, subgraph_mode: str = "grow"):
        super().__init__()
        for name in (aug1, aug2):
            if name not in AUGMENTATIONS:
                raise ValueError(f"unknown augmentation {name!r}; expected one of {AUGMENTATIONS}")
        if subgraph_mode not in SUBGRAPH_MODES:
            raise ValueError(f"unknown subgraph mode {subgraph_mode!r}; expected one of {SUBGRAPH_MODES}")
        self.augs, self.aug_ratio, self.temperature = (aug1, aug2), aug_ratio, temperature
        self.subgraph_mode = subgraph_mode
        self.encoder = GINEncoder(config)
        d = config.emb_dim
        self.projection_head = nn.Sequential(nn.Linear(d, d), nn.ReLU(inplace=True), nn.Linear(d, d))

    def project(self, batch: GraphBatch) -> torch.Tensor:
        pooled = global_mean_pool(self.encoder(batch), batch.batch, size=batch.num_graphs)
        return self.projection_head(pooled)

    def loss(self, batch: GraphBatch, generator: torch.Generator) -> torch.Tensor:
        """Contrastive loss of a CPU batch (augmentations drawn from ``generator``)."""
        device = next(self.parameters()).device
        views = [augment(batch, name, self.aug_ratio, generator, self.subgraph_mode).to(device)
                 for name in self.augs]
        return nt_xent(self.project(views[0]), self.project(views[1]), self.temperature)
