"""Eval-mode logits of the GIN ``GraphPredictor`` with two of its ten node-level matmuls removed.

Evaluation is matmul-bound on a CPU: each layer's MLP multiplies every node state by a 300 x 600 and a
600 x 300 matrix. In eval mode (no dropout, BatchNorm an affine map of its running statistics) two of
those products are linear maps that can be moved off the nodes, by the same algebra as ``gin.py``'s
neighbourhood sum:

- layer 1: the input of its first Linear is A·h0 + C·T with h0 = E1[atom] + E2[chirality], so
  ``Linear1(A·h0 + C·T) = A·R[atom, chirality] + C·(T W1ᵀ) + b1`` with the 360-row table R = h0-table W1ᵀ:
  a table gather and a sparse product instead of a [n, 300] x [300, 600] matmul;
- the last layer (``jk="last"``): its second Linear and BatchNorm are affine and mean pooling is linear,
  so they are applied after pooling, to one row per molecule instead of one per atom;
- every BatchNorm is folded into the Linear before it.

The result equals ``model(batch)`` in eval mode up to float32 rounding (tested). It is used for the
validation and test metrics only, so the training trajectory of a run is untouched.
"""

from __future__ import annotations

import torch
from torch import nn
from torch_geometric.nn import global_mean_pool

from molpeg_bench.benchmark.data.featurize import NUM_CHIRALITY_TAG
from molpeg_bench.benchmark.data.graph_store import GraphBatch
from molpeg_bench.benchmark.models.gin import GraphPredictor, HuGINConv, Neighbourhood


def foldable(model: nn.Module) -> bool:
    """Whether ``evaluation_logits`` may take the folded path: a plain GIN predictor with ``jk="last"``
    in eval mode whose BatchNorms hold running statistics."""
    return (type(model) is GraphPredictor and not model.training and model.encoder.config.jk == "last"
            and all(bn.running_mean is not None for bn in model.encoder.batch_norms))


def evaluation_logits(model: nn.Module, batch: GraphBatch) -> torch.Tensor:
    """Logits of ``model`` on ``batch``: the folded path when ``foldable(model)``, else ``model(batch)``."""
    return folded_logits(model, batch) if foldable(model) else model(batch)


def _folded_second_linear(conv: HuGINConv, bn: nn.BatchNorm1d) -> tuple[torch.Tensor, torch.Tensor]:
    """(weight, bias) of ``bn(conv.mlp[2](u))`` as one affine map of ``u`` (eval-mode BatchNorm)."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    linear = conv.mlp[2]
    return linear.weight * scale[:, None], (linear.bias - bn.running_mean) * scale + bn.bias


@torch.inference_mode()
def folded_logits(model: GraphPredictor, batch: GraphBatch) -> torch.Tensor:
    """``model(batch)`` in eval mode, computed with the folded layers (see the module docstring)."""
    encoder = model.encoder
    convs, norms = encoder.gnns, encoder.batch_norms
    x = batch.x
    neighbourhood = Neighbourhood(x.size(0), batch.edge_index, batch.edge_attr, encoder.x_embedding1.weight.dtype)
    first = convs[0].mlp[0]
    atom_table = (encoder.x_embedding1.weight[:, None, :] + encoder.x_embedding2.weight[None, :, :])
    projected = atom_table.reshape(-1, atom_table.size(-1)) @ first.weight.T
    atoms = projected[x[:, 0] * NUM_CHIRALITY_TAG + x[:, 1]]
    pre = neighbourhood.sum(atoms, convs[0].bond_table() @ first.weight.T)
    u = torch.relu_(pre + first.bias)
    weight, bias = _folded_second_linear(convs[0], norms[0])
    for conv, bn in zip(convs[1:], norms[1:], strict=True):  # ReLU after every layer but the last
        h = torch.relu_(torch.addmm(bias, u, weight.T))
        u = torch.relu_(conv.mlp[0](neighbourhood.sum(h, conv.bond_table())))
        weight, bias = _folded_second_linear(conv, bn)
    pooled = global_mean_pool(u, batch.batch, size=batch.num_graphs)
    present = torch.bincount(batch.batch, minlength=batch.num_graphs).gt(0).to(pooled.dtype)
    graph = pooled @ weight.T + present[:, None] * bias
    return model.head(graph)
