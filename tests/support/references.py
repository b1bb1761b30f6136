"""Slow, explicit forms of what the last-layer methods compute in closed form: per-sample gradients by
autograd, parameter shifts from explicit inverse Hessians, and the facility-location objective."""

from __future__ import annotations

import numpy as np
import torch

from molpeg_bench.methods.last_layer import hessian_weights, inverse_task_hessians
from tests.support.context import FakeContext


def autograd_gradients(ctx: FakeContext) -> np.ndarray:
    """[N, T(d+1)] per-sample gradients of the sum-reduced masked BCE, bias block first."""
    rows = []
    for x, y in zip(ctx.h, ctx.labels, strict=True):
        ctx.head.zero_grad()
        z = ctx.head(torch.as_tensor(x)[None])[0]
        mask = torch.as_tensor(~np.isnan(y))
        target = torch.as_tensor(np.nan_to_num(y))
        loss = (torch.nn.functional.binary_cross_entropy_with_logits(z, target, reduction="none") * mask).sum()
        loss.backward()
        rows.append(np.concatenate([ctx.head.bias.grad.numpy(), ctx.head.weight.grad.numpy().ravel()]))
    return np.array(rows)


def explicit_shifts(ctx: FakeContext, damping: float) -> np.ndarray:
    """[N, T(d+1)] S_i = H⁻¹g_i / N built explicitly, per task block."""
    e, ht = ctx.last_layer_factors(ctx.head)
    e = np.where(np.isnan(ctx.labels), 0.0, e)
    h_inv = inverse_task_hessians(hessian_weights(ctx.logits(ctx.head), ctx.labels, False), ht, damping)
    return np.concatenate([(e[:, t, None] * ht) @ h_inv[t] for t in range(e.shape[1])], axis=1) / len(e)


def facility(sim: np.ndarray, chosen) -> float:
    """The facility-location value of ``chosen``: every molecule's similarity to its closest chosen one, summed."""
    return float(sim[:, list(chosen)].max(axis=1).sum())
