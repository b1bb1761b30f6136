"""DeepFool (Ducoffe & Precup 2018) in the node input-embedding space: docs/methods/static-scores.md#deepfool.

All node input embeddings u of a molecule are perturbed jointly (edges untouched). Each iteration
linearises every considered head t, picks per molecule the head with the smallest distance
|z_t| / ‖∇_u z_t‖ and steps r ← r − z_t ∇_u z_t / ‖∇_u z_t‖²; the forward pass sees u + (1 + overshoot)·r
and a molecule stops once a considered head changes sign (or after ``max_iter``). Score = ‖(1 + overshoot)
r‖² summed over the molecule's nodes; keep the lowest (closest to the decision boundary).
``heads="valid"`` considers the heads with a label (falls back to all heads for a molecule without any);
``heads="all"`` is label-free. ``overshoot=0`` is DeepCore's choice (the original uses 0.02).
Regression (adapted): no decision boundary; score = 1 / max_t ‖∇_u ŷ_t‖ (small = sensitive), keep lowest.
Hand-written: the batched per-graph, per-head linearisation over PyG-style node batches is specific here.
The code bundle (``--fidelity code``) is DeepCore's DeepFool, which the official MolPeg code does not ship:
class-balanced (its main.py's ``balance=true``) and without overshoot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from molpeg_bench.methods.base import Requirements
from molpeg_bench.methods.context import InputEmbeddingBatch
from molpeg_bench.methods.options import choice
from molpeg_bench.methods.registry import register
from molpeg_bench.methods.scored import ScoredPruner, WarmupOptions, check_task_type, label_mask


@dataclass(frozen=True)
class DeepFoolOptions(WarmupOptions):
    max_iter: int = 50
    overshoot: float = 0.02  # original DeepFool; DeepCore uses 0
    heads: str = choice("valid", "valid", "all")  # "valid" (heads with a label) or "all" (label-free)
    normalize_by_atoms: bool = False  # divide ‖r‖² by the number of atoms
    batch_size: int = 128


def head_gradients(batch: InputEmbeddingBatch, u: torch.Tensor,
                   heads: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[int], torch.Tensor]:
    """At ``u``: logits z [B, T], the per-graph squared gradient norms ‖∇_u z_bt‖² [B, T] for the heads set
    in ``heads`` [B, T] (+inf elsewhere), the heads differentiated (``columns``) and their node gradients
    [len(columns), n_nodes, d0]. Graphs in a batch are independent (eval mode), so ∇_u Σ_b z_bt holds every
    graph's gradient of head t on its own nodes."""
    u = u.detach().requires_grad_(True)
    z = batch.forward(u)
    sq = torch.full(z.shape, float("inf"), dtype=torch.float64, device=u.device)
    columns = torch.nonzero(heads.any(dim=0)).flatten().tolist()
    grads = []
    for j, t in enumerate(columns):
        (g,) = torch.autograd.grad(z[:, t].sum(), u, retain_graph=j + 1 < len(columns))
        per_graph = torch.zeros(len(z), dtype=torch.float64, device=u.device).index_add_(
            0, batch.node_graph, (g.double() ** 2).sum(1))
        sq[:, t] = torch.where(heads[:, t], per_graph, sq[:, t])
        grads.append(g.detach())
    return z.detach(), sq, columns, torch.stack(grads) if grads else u.new_zeros((0, *u.shape))


def deepfool_batch(batch: InputEmbeddingBatch, heads: torch.Tensor, max_iter: int,
                   overshoot: float) -> tuple[np.ndarray, torch.Tensor]:
    """Per-graph ‖(1+overshoot)·r‖² [B] and the final node perturbation (1+overshoot)·r [n_nodes, d0].
    A graph stops when a considered head flips, or when its gradient vanishes (no linearised step reaches
    the boundary: its perturbation stays where it is). The step reuses the head gradients of the distance
    computation, so an iteration costs one forward and one backward per considered head, over the graphs
    still moving when the batch offers ``subset`` (else over all)."""
    u0 = batch.node_embeddings.detach()
    heads = heads.to(u0.device)
    r = torch.zeros_like(u0)
    active = torch.ones(heads.shape[0], dtype=torch.bool, device=u0.device)
    part, graphs, nodes = batch, torch.arange(len(active), device=u0.device), torch.arange(len(u0), device=u0.device)
    z0 = None
    for iteration in range(max_iter + 1):
        part_heads = heads[graphs]
        z, sq, columns, grads = head_gradients(part, u0[nodes] + (1.0 + overshoot) * r[nodes], part_heads)
        zd = z.double()
        z0 = zd if z0 is None else z0  # the first pass covers every graph
        moving = active[graphs] & ~((zd * z0[graphs] <= 0) & part_heads).any(dim=1)
        if not moving.any() or iteration == max_iter:
            break
        dist = torch.where(part_heads, zd.abs() / torch.sqrt(sq), torch.full_like(zd, float("inf")))
        best = dist.argmin(dim=1)  # per graph: the closest considered head
        coeff = -zd.gather(1, best[:, None])[:, 0] / sq.gather(1, best[:, None])[:, 0]
        moving &= torch.isfinite(coeff)
        coeff = torch.where(moving, coeff, torch.zeros_like(coeff))
        slot = torch.full((zd.shape[1],), -1, dtype=torch.long, device=u0.device)
        slot[torch.as_tensor(columns, dtype=torch.long, device=u0.device)] = torch.arange(
            len(columns), device=u0.device)
        node_slot = slot[best][part.node_graph]  # each node: its graph's chosen head among the columns
        step = grads[node_slot.clamp_min(0), torch.arange(len(nodes), device=u0.device)]
        r[nodes] += coeff[part.node_graph, None].to(r.dtype) * step
        active[graphs] = moving
        if part.subset is not None and not moving.all():  # the next pass computes the moving graphs only
            nodes = nodes[moving[part.node_graph]]
            part, graphs = part.subset(torch.nonzero(moving).flatten()), graphs[moving]
    total = (1.0 + overshoot) * r
    per_graph = torch.zeros(heads.shape[0], dtype=torch.float64, device=u0.device).index_add_(
        0, batch.node_graph, (total.double() ** 2).sum(dim=1))
    return per_graph.cpu().numpy(), total


def sensitivity_batch(batch: InputEmbeddingBatch, heads: torch.Tensor) -> np.ndarray:
    """Regression adaptation: 1 / max_t ‖∇_u ŷ_bt‖ per graph."""
    _, sq, _, _ = head_gradients(batch, batch.node_embeddings, heads.to(batch.node_embeddings.device))
    sq = torch.where(torch.isinf(sq), torch.zeros_like(sq), sq)
    return (1.0 / torch.sqrt(sq.max(dim=1).values).clamp_min(1e-12)).cpu().numpy()


@register("deepfool")
class DeepFool(ScoredPruner):
    Options = DeepFoolOptions
    requires = Requirements(needs_input_grads=True)
    code_options = {"balance": True, "overshoot": 0.0}
    code_reference = "DeepCore: main.py defaults, deepcore/methods/deepfool.py"
    keep_highest = False  # the smallest perturbations: closest to the decision boundary

    def score(self, ctx) -> tuple[np.ndarray, dict]:
        regression = check_task_type(ctx, self.name)
        adapted = "regression: inverse input-gradient sensitivity 1/max_t ‖∇_u ŷ_t‖" if regression else None
        valid = torch.as_tensor(label_mask(ctx.labels))
        model = self.warmup_model(ctx)
        scores = np.full(self.n_samples, np.nan)
        for batch in ctx.input_embedding_batches(model, self.options.batch_size):
            idx = torch.as_tensor(batch.indices)
            heads = valid[idx] if self.options.heads == "valid" else torch.ones(len(idx), ctx.num_tasks, dtype=bool)
            heads = torch.where(heads.any(dim=1, keepdim=True), heads, torch.ones_like(heads))
            with torch.enable_grad():
                if regression:
                    batch_scores = sensitivity_batch(batch, heads)
                else:
                    batch_scores, _ = deepfool_batch(batch, heads, self.options.max_iter, self.options.overshoot)
            if self.options.normalize_by_atoms:
                batch_scores = batch_scores / np.bincount(batch.node_graph.cpu().numpy(), minlength=len(idx))
            scores[batch.indices] = batch_scores
        if np.isnan(scores).any():
            raise ValueError(f"deepfool: the context's input_embedding_batches missed "
                             f"{int(np.isnan(scores).sum())} training samples")
        return scores, {"adapted": adapted}
