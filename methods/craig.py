"""Craig (Mirzasoleiman et al., ICML 2020), METHODS.md §3.11: weighted facility-location medoids of the
last-layer gradients.

Within each block of at most ``chunk_size`` samples (random chunks, each with a proportional share of k,
so memory is O(chunk_size²) rather than N²) the lazy greedy maximises F(S) = Σ_i max_{j∈S} s_ij with
s_ij = max(d) − d_ij + 1e-3 and d_ij = ‖g_i − g_j‖ from the factorised Gram matrix. Each medoid j is
weighted by γ_j = |C_j|, the number of samples whose most similar medoid it is (``weight_convention=
"deepcore"``: |C_j| + 1); weights are rescaled to mean 1 so the loss scale matches unweighted training.
Hand-written lazy greedy: the facility-location greedy is a few lines and no library in the stack has it.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from methods.base import Requirements, Selection
from methods.last_layer import check_factors, gradient_gram
from methods.options import choice
from methods.registry import register
from methods.scored import WarmupOptions, WarmupPruner, check_task_type, label_mask


@dataclass(frozen=True)
class CraigOptions(WarmupOptions):
    chunk_size: int = 5000  # random blocks of at most this many samples (memory chunk_size² floats)
    weighted: bool = True  # train on the coreset with the medoid weights γ (CRAIG, DeepCore)
    weight_convention: str = choice("paper", "paper", "deepcore")  # "paper": γ_j = |C_j|; "deepcore": |C_j| + 1


def similarity(e: np.ndarray, ht: np.ndarray) -> np.ndarray:
    """[M, M] s_ij = max(d) − d_ij + 1e-3, d_ij = ‖g_i − g_j‖ (DeepCore's similarity)."""
    dist = gradient_gram(e, ht, e, ht)  # the Gram matrix, turned into distances in place
    sq = np.diag(dist).copy()
    dist *= -2.0
    dist += sq[:, None]
    dist += sq[None, :]
    np.sqrt(np.maximum(dist, 0.0, out=dist), out=dist)
    np.subtract(dist.max() + 1e-3, dist, out=dist)
    return dist


def lazy_greedy(sim: np.ndarray, k: int) -> np.ndarray:
    """Greedy maximiser of F(S) = Σ_i max_{j∈S} sim[j, i] with lazy (upper-bound) gain evaluations.
    Candidates are rows: the similarity is symmetric, and a row is contiguous (a column read strides
    through the whole matrix, 3-4x slower)."""
    best = np.zeros(sim.shape[1])
    scratch = np.empty(sim.shape[1])
    heap = [(-float(g), j) for j, g in enumerate(sim.sum(axis=1))]
    heapq.heapify(heap)
    chosen: list[int] = []
    while len(chosen) < k:
        _, j = heapq.heappop(heap)
        np.subtract(sim[j], best, out=scratch)
        gain = float(np.maximum(scratch, 0.0, out=scratch).sum())
        if not heap or gain >= -heap[0][0]:
            chosen.append(j)
            np.maximum(best, sim[j], out=best)
        else:
            heapq.heappush(heap, (-gain, j))
    return np.asarray(chosen, dtype=np.int64)


def chunk_budgets(sizes: np.ndarray, k: int) -> np.ndarray:
    """Per-chunk shares of k proportional to the chunk sizes, summing to exactly k (largest remainder)."""
    exact = sizes * k / sizes.sum()
    share = np.floor(exact).astype(np.int64)
    share[np.argsort(-(exact - share), kind="stable")[:k - share.sum()]] += 1
    return share


@register("craig")
class Craig(WarmupPruner):
    Options = CraigOptions
    requires = Requirements(needs_last_layer_grads=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.options.chunk_size < 1:
            raise ValueError(f"craig chunk_size must be >= 1, got {self.options.chunk_size}")

    def select(self, ctx) -> Selection:
        regression = check_task_type(ctx, self.name)
        self.adapted = "regression: MSE gradients" if regression else None
        e, ht = ctx.last_layer_factors(ctx.warmup_model(self.options.warmup_epochs))
        check_factors(e, ht, self.name)
        e = np.where(label_mask(ctx.labels), e, 0.0)
        rng = self.epoch_rng(0)
        n_chunks = -(-self.n_samples // self.options.chunk_size)
        chunks = np.array_split(rng.permutation(self.n_samples), n_chunks) if n_chunks > 1 else [
            np.arange(self.n_samples)]
        budgets = chunk_budgets(np.array([len(c) for c in chunks]), self.k)
        indices, weights = [], []
        for chunk, k_chunk in zip(chunks, budgets, strict=True):
            if k_chunk == 0:
                continue
            sim = similarity(e[chunk].astype(np.float32), ht[chunk].astype(np.float32))
            medoids = lazy_greedy(sim, int(k_chunk))
            sizes = np.bincount(np.argmax(sim[medoids], axis=0), minlength=len(medoids)).astype(np.float64)
            indices.append(chunk[medoids])
            weights.append(sizes + (self.options.weight_convention == "deepcore"))
        indices, gamma = np.concatenate(indices), np.concatenate(weights)
        order = np.argsort(indices)
        indices, gamma = indices[order], gamma[order]
        meta = {"adapted": self.adapted, "chunks": n_chunks, "cluster_sizes_max": float(gamma.max())}
        weights = gamma / gamma.mean() if self.options.weighted else None
        return Selection(indices=indices.astype(np.int64), weights=weights, meta=meta)
