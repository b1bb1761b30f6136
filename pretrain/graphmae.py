"""GraphMAE (Hou et al., KDD 2022) for molecules: mask atoms, reconstruct their type.

Follows the official ``chem/`` code of THUDM/GraphMAE (``pretraining.py``, ``model.py``,
``util.MaskAtom``): in each molecule ``int(n * 0.25 + 1)`` atoms are masked (atom type -> mask token
119, chirality -> 0); the encoder's node states go through PReLU and a bias-free linear
encoder-to-decoder map, the states of the masked atoms are zeroed again (re-masking), and a single
GIN layer decodes every atom to 119 atom-type scores. The loss is the scaled cosine error
``mean((1 - cos(pred, onehot(type))) ** gamma)`` with gamma (``alpha_l``) = 1, over masked atoms only.

Written on this project's ``HuGINConv`` so the encoder keeps the Hu et al. parameter layout. Atoms
whose type is already the unknown/mask id 119 have no reconstruction target among the 119 classes;
they are masked only when a molecule has no other atoms left, and never enter the loss.
"""

from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn

from molpeg_bench.benchmark.data.featurize import MASK_ATOM_ID
from molpeg_bench.benchmark.data.graph_store import GraphBatch
from molpeg_bench.benchmark.models.gin import GINConfig, GINEncoder, HuGINConv
from molpeg_bench.pretrain.graph_ops import choose_per_group, group_sizes

NUM_TARGET_TYPES = MASK_ATOM_ID  # atom types 0..118 (GraphMAE: one_hot(..., num_classes=119))


def sce_loss(pred: torch.Tensor, target: torch.Tensor, gamma: float = 1.0) -> torch.Tensor:
    """Scaled cosine error: ``mean_i (1 - cos(pred_i, target_i)) ** gamma``."""
    cos = (F.normalize(pred, dim=-1) * F.normalize(target, dim=-1)).sum(-1)
    return (1 - cos).pow(gamma).mean()


def reconstruction_loss(pred: torch.Tensor, atom_type: torch.Tensor, masked: torch.Tensor,
                        gamma: float = 1.0) -> torch.Tensor:
    """SCE between the decoder output and the one-hot true atom type, on masked atoms with a
    known type only (the decoder output of every other atom is ignored)."""
    rows = masked & (atom_type < NUM_TARGET_TYPES)
    if not rows.any():
        return pred.sum() * 0.0  # keeps the graph; no target in this batch
    return sce_loss(pred[rows], F.one_hot(atom_type[rows], NUM_TARGET_TYPES).to(pred.dtype), gamma)


def choose_masked_atoms(batch: GraphBatch, mask_rate: float, generator: torch.Generator) -> torch.Tensor:
    """Boolean [n_atoms]: ``int(n * mask_rate + 1)`` random atoms of each molecule (GraphMAE's count),
    taken among atoms of known type first."""
    n = group_sizes(batch.batch, batch.num_graphs)
    unknown = batch.x[:, 0] >= NUM_TARGET_TYPES
    count = torch.minimum((n * mask_rate + 1).long(), n)
    return choose_per_group(batch.batch, batch.num_graphs, count, generator, last=unknown)


class AtomDecoder(nn.Module):
    """PReLU -> bias-free linear (encoder-to-decoder) -> zero the masked atoms -> one GIN layer
    whose MLP ends in ``num_classes`` outputs."""

    def __init__(self, emb_dim: int, num_classes: int = NUM_TARGET_TYPES):
        super().__init__()
        self.activation = nn.PReLU()
        self.enc_to_dec = nn.Linear(emb_dim, emb_dim, bias=False)
        self.conv = HuGINConv(emb_dim)
        self.conv.mlp[2] = nn.Linear(2 * emb_dim, num_classes)

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor,
                masked: torch.Tensor) -> torch.Tensor:
        z = self.enc_to_dec(self.activation(h)).masked_fill(masked[:, None], 0.0)
        return self.conv(z, edge_index, edge_attr)


class GraphMAE(nn.Module):
    """Encoder (a ``GINEncoder``, the part that is saved) + atom decoder."""

    def __init__(self, config: GINConfig, mask_rate: float = 0.25, gamma: float = 1.0):
        super().__init__()
        if not 0 <= mask_rate < 1:
            raise ValueError(f"mask_rate must lie in [0, 1), got {mask_rate}")
        self.mask_rate, self.gamma = mask_rate, gamma
        self.encoder = GINEncoder(config)
        self.decoder = AtomDecoder(config.emb_dim)

    def loss(self, batch: GraphBatch, generator: torch.Generator) -> torch.Tensor:
        """Masked-atom reconstruction loss of a CPU batch (masking drawn from ``generator``)."""
        masked = choose_masked_atoms(batch, self.mask_rate, generator)
        x = batch.x.clone()
        x[masked] = torch.tensor([MASK_ATOM_ID, 0], dtype=x.dtype)
        device = next(self.parameters()).device
        inputs = replace(batch, x=x).to(device)
        masked, atom_type = masked.to(device), batch.x[:, 0].to(device)
        pred = self.decoder(self.encoder(inputs), inputs.edge_index, inputs.edge_attr, masked)
        return reconstruction_loss(pred, atom_type, masked, self.gamma)
