"""SchNet for HIV-3D from PyG's SchNet blocks, with the readout of the reference code.

PyG's ``SchNet`` model ends in a 300 → 150 → 1 sum readout; the reference (MolPeg ``model/schnet.py``
+ ``MLP(num_layers=1)``) keeps 300 features per atom (lin1, shifted softplus, lin2, both 300 → 300),
averages them over the molecule and applies one ``Linear(300, tasks)``. So the encoder is composed here
from ``InteractionBlock``, ``GaussianSmearing`` and ``ShiftedSoftplus`` with the suite's interaction
graph (no ``torch_cluster`` needed). Atoms are embedded by atomic number (0 is padding) unless
``atom_index`` says otherwise (``benchmark.models.atom_index``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch_geometric.nn.models.schnet import GaussianSmearing, InteractionBlock, ShiftedSoftplus
from torch_geometric.utils import scatter

from molpeg_bench.benchmark.data.graph_store import GraphBatch
from molpeg_bench.benchmark.models.atom_index import embedding_rows
from molpeg_bench.benchmark.models.encoder3d import Encoder3DConfig
from molpeg_bench.benchmark.models.interaction_graph import NUM_ELEMENTS, atoms_and_positions, interaction_graph


@dataclass(frozen=True)
class SchNetConfig(Encoder3DConfig):
    """SchNet's sizes (the paper's: 300 features, 128 filters, 6 interactions, 51 Gaussians to 10 Å)."""

    hidden: int = 300
    num_filters: int = 128
    num_interactions: int = 6
    num_gaussians: int = 51
    cutoff: float = 10.0


class SchNetEncoder(nn.Module):
    """Atoms → per-atom features h_i = lin2(ssp(lin1(h^L_i))); ``forward`` averages them per molecule."""

    def __init__(self, config: SchNetConfig = SchNetConfig()):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(NUM_ELEMENTS, config.hidden, padding_idx=0)
        self.distance_expansion = GaussianSmearing(0.0, config.cutoff, config.num_gaussians)
        self.interactions = nn.ModuleList(
            InteractionBlock(config.hidden, config.num_gaussians, config.num_filters, config.cutoff)
            for _ in range(config.num_interactions))
        self.lin1 = nn.Linear(config.hidden, config.hidden)
        self.act = ShiftedSoftplus()
        self.lin2 = nn.Linear(config.hidden, config.hidden)

    def atom_features(self, batch: GraphBatch, pos: torch.Tensor | None = None) -> torch.Tensor:
        z, pos = atoms_and_positions(batch, pos, "SchNet")
        cfg = self.config
        edge_index, dist = interaction_graph(pos, batch.batch, cfg.cutoff, batch.num_graphs, cfg.max_num_neighbors)
        edge_attr = self.distance_expansion(dist)
        h = self.embedding(embedding_rows(z, cfg.atom_index))
        for block in self.interactions:
            h = h + block(h, edge_index, dist, edge_attr)
        return self.lin2(self.act(self.lin1(h)))

    def forward(self, batch: GraphBatch) -> torch.Tensor:
        return scatter(self.atom_features(batch), batch.batch, 0, dim_size=batch.num_graphs, reduce="mean")


class SchNetPredictor(nn.Module):
    """SchNet encoder (mean readout) + ``Linear(hidden, num_tasks)``; ``embed`` is the head's input."""

    def __init__(self, num_tasks: int = 1, config: SchNetConfig = SchNetConfig()):
        super().__init__()
        self.encoder = SchNetEncoder(config)
        self.head = nn.Linear(config.hidden, num_tasks)

    def embed(self, batch: GraphBatch) -> torch.Tensor:
        return self.encoder(batch)

    def forward(self, batch: GraphBatch) -> torch.Tensor:
        return self.head(self.embed(batch))
