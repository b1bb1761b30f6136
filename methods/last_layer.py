"""Closed forms over the last-layer gradient factors, never forming N×P or N×N
(docs/methods/index.md#last-layer-gradient-factors).

The per-sample last-layer gradient of the sum-reduced loss is g_i = [e_i ; e_i ⊗ h_i]; with
h̃_i = [h_i ; 1] its task-t block is e_it·h̃_i. Hence ‖g_i‖ = ‖e_i‖·‖h̃_i‖, ⟨g_i, g_j⟩ = (e_i·e_j)(h̃_i·h̃_j),
and the Hessian of a linear head (BCE or MSE) is block-diagonal over tasks. Everything is computed in
row chunks so that memory stays O(N·T + N·d + T·d²). Hand-written because no library exposes these
factorised forms.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy.special import expit

CHUNK = 8192  # rows per chunk: bounds the temporaries to CHUNK·T·(d+1) floats


def _chunks(n: int, size: int = CHUNK) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def check_factors(e: np.ndarray, ht: np.ndarray, where: str) -> None:
    """One clear error for factors of the wrong shape."""
    if e.ndim != 2 or ht.ndim != 2 or len(e) != len(ht):
        raise ValueError(f"{where}: expected e [N, T] and h̃ [N, d+1] with the same N, got {e.shape} and {ht.shape}")


def gradient_norms(e: np.ndarray, ht: np.ndarray) -> np.ndarray:
    """[N] ‖g_i‖ = ‖e_i‖₂·‖h̃_i‖₂ (= ‖e_i‖·sqrt(1 + ‖h_i‖²))."""
    check_factors(e, ht, "gradient_norms")
    return np.sqrt(np.einsum("it,it->i", e, e, dtype=np.float64) * np.einsum("id,id->i", ht, ht, dtype=np.float64))


def gradient_gram(e_a: np.ndarray, ht_a: np.ndarray, e_b: np.ndarray, ht_b: np.ndarray) -> np.ndarray:
    """[A, B] inner products ⟨g_a, g_b⟩ = (e_a·e_b)(h̃_a·h̃_b); only for blocks that fit in memory."""
    return (e_a @ e_b.T) * (ht_a @ ht_b.T)


def weighted_gradient_sum(c: np.ndarray, e: np.ndarray, ht: np.ndarray) -> np.ndarray:
    """[T, d+1] the task blocks of Σ_i c_i g_i, i.e. A_t = Σ_i c_i e_it h̃_i."""
    out = np.zeros((e.shape[1], ht.shape[1]), dtype=np.float64)
    c = np.asarray(c, dtype=np.result_type(e.dtype, ht.dtype))
    for s in _chunks(len(e)):
        out += (e[s] * c[s, None]).T @ ht[s]
    return out


def project(e: np.ndarray, ht: np.ndarray, v: np.ndarray) -> np.ndarray:
    """[N] ⟨g_i, V⟩ = Σ_t e_it (h̃_i · V_t) for a last-layer direction V given as task blocks [T, d+1]."""
    out = np.empty(len(e), dtype=np.float64)
    v = np.asarray(v, dtype=np.result_type(e.dtype, ht.dtype))  # float32 factors stay float32 (BLAS speed)
    for s in _chunks(len(e)):
        out[s] = np.einsum("it,it->i", e[s], ht[s] @ v.T, dtype=np.float64)
    return out


def hessian_weights(logits: np.ndarray, labels: np.ndarray, regression: bool) -> np.ndarray:
    """[N, T] per-(sample, task) curvature of the sum-reduced masked loss w.r.t. the logit:
    m·σ(z)(1−σ(z)) for BCE, m for MSE (½(ŷ−y)², whose gradient is e = ŷ − y)."""
    mask = ~np.isnan(labels)
    if regression:
        return mask.astype(np.float32)
    weights = expit(np.asarray(logits, dtype=np.float32))
    weights *= 1.0 - weights  # in place: one [N, T] float32 array
    weights *= mask
    return weights


def inverse_task_hessians(weights: np.ndarray, ht: np.ndarray, damping: float) -> np.ndarray:
    """[T, d+1, d+1] inverses of H_t = (1/N) Σ_i w_it h̃_i h̃_iᵀ + λI, the per-task blocks of the Hessian
    of the mean training loss of the linear head (damped)."""
    if damping <= 0:
        raise ValueError(f"damping must be > 0 (it makes every task block invertible), got {damping}")
    n, t, d1 = len(ht), weights.shape[1], ht.shape[1]
    hess = np.zeros((t, d1, d1), dtype=np.float64)
    for s in _chunks(n):
        h = ht[s].astype(np.float64)
        h_t = np.ascontiguousarray(h.T)
        w = weights[s]
        for task in range(t):
            hess[task] += (h_t * w[:, task]) @ h  # one BLAS product per task block
    hess /= n
    hess += damping * np.eye(d1)
    return np.linalg.inv(hess)


def apply_blocks(blocks: np.ndarray, v: np.ndarray) -> np.ndarray:
    """[T, d+1] the block-diagonal matrix ``blocks`` [T, d+1, d+1] applied to task blocks ``v`` [T, d+1]."""
    return np.einsum("tij,tj->ti", blocks, v)
