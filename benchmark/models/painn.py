"""PaiNN (Schütt et al., ICML 2021) with the GeoSSL configuration (128 features, 3 layers, 5 Å, 20
Gaussians, cosine cutoff, SiLU) and the GeoSSL readout (sum over atoms, then 128 → 64 → 1).

Written here on torch + PyG's scatter because PyG ships no PaiNN, and the schnetpack module of the
reference code depends on schnetpack's own input dictionaries and neighbour lists. Equations follow
schnetpack's ``representation/painn.py``: ``Dense`` layers use Xavier-uniform weights and zero bias,
filters are unshared across layers, and the vector features start at zero.

The model splits as the suite's other predictors: ``encoder(batch)`` → graph embedding h_G (the
pretrained part), ``readout`` (Dense 128 → 64 + SiLU) and ``head`` (Dense 64 → 1); ``embed(batch)``
returns the head's input SiLU(readout(h_G)), the last-layer input of DP and the gradient methods.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.utils import scatter

from molpeg_bench.benchmark.data.graph_store import GraphBatch
from molpeg_bench.benchmark.models.atom_index import embedding_rows
from molpeg_bench.benchmark.models.encoder3d import Encoder3DConfig
from molpeg_bench.benchmark.models.interaction_graph import NUM_ELEMENTS, atoms_and_positions, interaction_graph


@dataclass(frozen=True)
class PaiNNConfig(Encoder3DConfig):
    """PaiNN's sizes (the paper's: 128 features, 3 message-passing blocks, a 5 Å cosine cutoff on 20
    radial basis functions); ``epsilon`` keeps the vector norms differentiable at zero."""

    hidden: int = 128
    num_layers: int = 3
    cutoff: float = 5.0
    num_rbf: int = 20
    epsilon: float = 1e-8
    readout_hidden: int = 64


def dense(n_in: int, n_out: int, bias: bool = True) -> nn.Linear:
    """schnetpack's ``Dense``: Xavier-uniform weights, zero bias."""
    layer = nn.Linear(n_in, n_out, bias=bias)
    nn.init.xavier_uniform_(layer.weight)
    if bias:
        nn.init.zeros_(layer.bias)
    return layer


def gaussian_rbf(d: torch.Tensor, cutoff: float, num: int) -> torch.Tensor:
    """exp(-(d - μ_k)² / 2w²), μ = linspace(0, cutoff, num), w = the spacing of μ."""
    centers = torch.linspace(0.0, cutoff, num, device=d.device, dtype=d.dtype)
    width = cutoff / (num - 1)
    return torch.exp(-((d[:, None] - centers) ** 2) / (2 * width**2))


def cosine_cutoff(d: torch.Tensor, cutoff: float) -> torch.Tensor:
    return 0.5 * (torch.cos(d * math.pi / cutoff) + 1.0) * (d < cutoff).to(d.dtype)


class PaiNNMessage(nn.Module):
    def __init__(self, hidden: int):
        super().__init__()
        self.hidden = hidden
        self.context = nn.Sequential(dense(hidden, hidden), nn.SiLU(), dense(hidden, 3 * hidden))

    def forward(self, s: torch.Tensor, v: torch.Tensor, edge_index: torch.Tensor, filters: torch.Tensor,
                unit: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        src, dst = edge_index
        a, b, c = torch.split(self.context(s)[src] * filters, self.hidden, dim=-1)
        dv = b[:, None, :] * unit[:, :, None] + c[:, None, :] * v[src]
        n = s.shape[0]
        return (s + scatter(a, dst, 0, dim_size=n, reduce="sum"),
                v + scatter(dv, dst, 0, dim_size=n, reduce="sum"))


class PaiNNUpdate(nn.Module):
    def __init__(self, hidden: int, epsilon: float):
        super().__init__()
        self.hidden, self.epsilon = hidden, epsilon
        self.mix = dense(hidden, 2 * hidden, bias=False)
        self.mlp = nn.Sequential(dense(2 * hidden, hidden), nn.SiLU(), dense(hidden, 3 * hidden))

    def forward(self, s: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        v_v, v_w = torch.split(self.mix(v), self.hidden, dim=-1)
        norm = torch.sqrt((v_v**2).sum(dim=1) + self.epsilon)
        e, f, g = torch.split(self.mlp(torch.cat([s, norm], dim=-1)), self.hidden, dim=-1)
        return s + e + g * (v_v * v_w).sum(dim=1), v + f[:, None, :] * v_w


class PaiNNEncoder(nn.Module):
    """Atoms → (scalar [n, F], vector [n, 3, F]) features; ``forward`` sums the scalars per molecule."""

    def __init__(self, config: PaiNNConfig = PaiNNConfig()):
        super().__init__()
        self.config = config
        F_ = config.hidden
        self.embedding = nn.Embedding(NUM_ELEMENTS, F_, padding_idx=0)
        self.filter_net = dense(config.num_rbf, 3 * F_ * config.num_layers)
        self.messages = nn.ModuleList(PaiNNMessage(F_) for _ in range(config.num_layers))
        self.updates = nn.ModuleList(PaiNNUpdate(F_, config.epsilon) for _ in range(config.num_layers))

    def atom_features(self, batch: GraphBatch, pos: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Final scalar and vector atom features; ``pos`` overrides the batch coordinates (noisy views)."""
        z, pos = atoms_and_positions(batch, pos, "PaiNN")
        cfg = self.config
        edge_index, dist = interaction_graph(pos, batch.batch, cfg.cutoff, batch.num_graphs, cfg.max_num_neighbors)
        src, dst = edge_index
        unit = (pos[dst] - pos[src]) / dist[:, None]
        filters = self.filter_net(gaussian_rbf(dist, cfg.cutoff, cfg.num_rbf))
        filters = torch.split(filters * cosine_cutoff(dist, cfg.cutoff)[:, None], 3 * cfg.hidden, dim=-1)
        s = self.embedding(embedding_rows(z, cfg.atom_index))
        v = s.new_zeros(s.shape[0], 3, cfg.hidden)
        for message, update, w in zip(self.messages, self.updates, filters, strict=True):
            s, v = message(s, v, edge_index, w, unit)
            s, v = update(s, v)
        return s, v

    def forward(self, batch: GraphBatch) -> torch.Tensor:
        s, _ = self.atom_features(batch)
        return scatter(s, batch.batch, 0, dim_size=batch.num_graphs, reduce="sum")


class PaiNNPredictor(nn.Module):
    """PaiNN encoder + GeoSSL readout. ``forward`` → [num_graphs, num_tasks]."""

    def __init__(self, num_tasks: int = 1, config: PaiNNConfig = PaiNNConfig()):
        super().__init__()
        self.encoder = PaiNNEncoder(config)
        self.readout = dense(config.hidden, config.readout_hidden)
        self.head = dense(config.readout_hidden, num_tasks)

    def embed(self, batch: GraphBatch) -> torch.Tensor:
        return F.silu(self.readout(self.encoder(batch)))

    def forward(self, batch: GraphBatch) -> torch.Tensor:
        return self.head(self.embed(batch))
