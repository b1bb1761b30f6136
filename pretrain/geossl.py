"""GeoSSL-DDM (Liu et al., ICLR 2023): distance denoising between two views of a conformer.

Follows GeoSSL ``pretrain_GeoSSL.py: do_DDM`` with the ``NCSN_version_03`` head. The second view adds
N(0, σ_v²) noise (σ_v = 0.3 Å) to every coordinate; the encoder gives atom latents h¹ (clean) and h²
(noisy). Over all i < j pairs of each molecule (not cutoff-limited), head A sees h¹ with the noisy
view's distances d², head B h² with d¹. A head draws one noise level ℓ per molecule from L levels
σ_ℓ = exp(linspace(log 10, log 0.01, L)), perturbs the distance d̃ = d + σ_ℓ z and regresses the
score s = MLP_out([h_i + h_j ; MLP_in(d̃)]) / σ_ℓ on t = -(d̃ - d)/σ_ℓ² with the loss
Σ_pairs ½ (s - t)² σ_ℓ^γ per molecule, averaged over molecules; the total is (L_A + L_B) / 2.
With a mask ratio m > 0 every molecule first keeps a random subgraph of ⌊(1 − m)·N⌋ + 1 atoms
(``pretrain.subgraph_mask``), shared by both views.
Written here because GeoSSL's code is a script on its own data classes; the heads are discarded after
pretraining, only the encoder is saved.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch_geometric.utils import scatter

from molpeg_bench.benchmark.data.graph_store import GraphBatch
from molpeg_bench.benchmark.models.interaction_graph import molecule_pairs
from molpeg_bench.pretrain.subgraph_mask import check_mask_ratio, subgraph_mask


def mlp(dims: list[int]) -> nn.Sequential:
    """Linear layers with ReLU between them, Xavier-uniform weights and zero biases (GeoSSL's MLP)."""
    layers: list[nn.Module] = []
    for k, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        linear = nn.Linear(a, b)
        nn.init.xavier_uniform_(linear.weight)
        nn.init.zeros_(linear.bias)
        layers += [linear] if k == len(dims) - 2 else [linear, nn.ReLU()]
    return nn.Sequential(*layers)


def all_pairs(batch: torch.Tensor, num_graphs: int) -> torch.Tensor:
    """[2, P] atom pairs (i, j), i < j, of every molecule."""
    i, j = molecule_pairs(batch, num_graphs)
    keep = i < j
    return torch.stack([i[keep], j[keep]])


def denoising_loss(raw_score: torch.Tensor, noise: torch.Tensor, sigma: torch.Tensor, pair_graph: torch.Tensor,
                   num_graphs: int, gamma: float) -> torch.Tensor:
    """Mean over molecules of Σ_pairs ½ (raw/σ - t)² σ^γ with t = -noise/σ (per-pair ``sigma``)."""
    score = raw_score / sigma
    target = -noise / sigma
    per_pair = 0.5 * (score - target) ** 2 * sigma**gamma
    return scatter(per_pair, pair_graph, 0, dim_size=num_graphs, reduce="sum").mean()


class DistanceDenoisingHead(nn.Module):
    """NCSN_version_03: MLP_in 1 → F → 1 on the perturbed distance, MLP_out (F + 1) → F → F/2 → 1."""

    def __init__(self, hidden: int, num_levels: int = 50, sigma_max: float = 10.0, sigma_min: float = 0.01,
                 gamma: float = 2.0):
        super().__init__()
        self.gamma = gamma
        self.register_buffer("sigmas", torch.exp(torch.linspace(math.log(sigma_max), math.log(sigma_min),
                                                                num_levels)))
        self.distance_in = mlp([1, hidden, 1])
        self.score_out = mlp([hidden + 1, hidden, hidden // 2, 1])

    def raw_score(self, h: torch.Tensor, pairs: torch.Tensor, perturbed: torch.Tensor) -> torch.Tensor:
        feature = torch.cat([h[pairs[0]] + h[pairs[1]], self.distance_in(perturbed[:, None])], dim=-1)
        return self.score_out(feature).squeeze(-1)

    def forward(self, h: torch.Tensor, pairs: torch.Tensor, distance: torch.Tensor, pair_graph: torch.Tensor,
                num_graphs: int, generator: torch.Generator) -> torch.Tensor:
        level = torch.randint(0, len(self.sigmas), (num_graphs,), generator=generator).to(h.device)
        sigma = self.sigmas[level][pair_graph]
        noise = torch.randn(len(distance), generator=generator).to(h.device)
        raw = self.raw_score(h, pairs, distance + sigma * noise)
        return denoising_loss(raw, noise, sigma, pair_graph, num_graphs, self.gamma)


class GeoSSLDDM(nn.Module):
    """A 3D encoder with ``atom_features(batch, pos)`` (PaiNN: scalar part), the two heads and the
    mask ratio (0: whole molecules)."""

    def __init__(self, encoder: nn.Module, hidden: int, num_levels: int = 50, gamma: float = 2.0,
                 view_sigma: float = 0.3, mask_ratio: float = 0.0):
        super().__init__()
        self.encoder, self.view_sigma, self.mask_ratio = encoder, view_sigma, check_mask_ratio(mask_ratio)
        self.head_a = DistanceDenoisingHead(hidden, num_levels, gamma=gamma)
        self.head_b = DistanceDenoisingHead(hidden, num_levels, gamma=gamma)

    def atom_latents(self, batch: GraphBatch, pos: torch.Tensor) -> torch.Tensor:
        out = self.encoder.atom_features(batch, pos)
        return out[0] if isinstance(out, tuple) else out

    def loss(self, batch: GraphBatch, generator: torch.Generator) -> torch.Tensor:
        """The DDM loss of a batch; the kept atoms and all noise are drawn from the CPU ``generator``."""
        if self.mask_ratio > 0:
            batch = subgraph_mask(batch.to("cpu"), self.mask_ratio, generator)
        batch = batch.to(self.head_a.sigmas.device)
        pos1 = batch.pos
        pos2 = pos1 + self.view_sigma * torch.randn(pos1.shape, generator=generator).to(pos1.device)
        h1, h2 = self.atom_latents(batch, pos1), self.atom_latents(batch, pos2)
        pairs = all_pairs(batch.batch, batch.num_graphs)
        d1 = (pos1[pairs[0]] - pos1[pairs[1]]).norm(dim=-1)
        d2 = (pos2[pairs[0]] - pos2[pairs[1]]).norm(dim=-1)
        pair_graph = batch.batch[pairs[0]]
        loss_a = self.head_a(h1, pairs, d2, pair_graph, batch.num_graphs, generator)
        loss_b = self.head_b(h2, pairs, d1, pair_graph, batch.num_graphs, generator)
        return (loss_a + loss_b) / 2
