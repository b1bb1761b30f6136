"""Constructed selection cases with a planted answer (near-boundary molecules, flipped labels, forgetters),
and a pruner's selection from a context that holds exactly the warm-up it declares."""

from __future__ import annotations

import numpy as np

from molpeg_bench.methods import make_pruner
from tests.support.context import FakeContext, linear_head


def served_select(pruner, ctx):
    """``pruner.select(ctx)`` with ``ctx`` holding warm-up models of exactly the length the pruner declares."""
    ctx.serve(type(pruner).requirements(pruner.options).warmup_epochs)
    return pruner.select(ctx)


def kept(name: str, ctx, keep: float, **options) -> set[int]:
    """The kept positions, after checking the budget: exactly k unique indices."""
    pruner = make_pruner(name, n_samples=ctx.n_samples, keep_ratio=keep, seed=0, options=options)
    sel = served_select(pruner, ctx)
    assert len(sel.indices) == pruner.k == len(np.unique(sel.indices)), f"{name}: not exactly k unique indices"
    return set(sel.indices.tolist())


NEAR = [3, 7, 11, 15]  # |z| ≈ 0 under the warm-up head
SHIFTED = [0, 5, 9, 18]  # |z| ≈ 0 under the pretrained head (z + 3)


def near_boundary_context() -> FakeContext:
    rng = np.random.default_rng(0)
    h = rng.choice([-1.0, 1.0], 20) * rng.uniform(4.0, 6.0, 20)
    h[NEAR] = [0.05, -0.04, 0.03, -0.06]
    h[SHIFTED] = [-3.01, -2.98, -3.02, -2.99]
    labels = (h > 0).astype(float)[:, None]
    return FakeContext(h=h[:, None], labels=labels, head=linear_head(np.ones((1, 1)), np.zeros(1)),
                       pretrained_head=linear_head(np.ones((1, 1)), np.full(1, 3.0)))


FLIPPED = [2, 9, 13]
WIDE = 5  # correct but unsure (z = 0.5), with a huge embedding norm: GraNd ranks it first, EL2N does not


def flipped_label_context() -> FakeContext:
    rng = np.random.default_rng(1)
    x1 = rng.choice([-1.0, 1.0], 20) * 2.0
    x1[FLIPPED] = [2.0, 2.5, 3.0]
    x1[WIDE] = 0.25
    x2 = np.zeros(20)
    x2[WIDE] = 100.0
    labels = (x1 > 0).astype(float)
    labels[FLIPPED] = 0.0
    return FakeContext(h=np.stack([x1, x2], 1), labels=labels[:, None],
                       head=linear_head(np.array([[2.0, 0.0]]), np.zeros(1)),
                       pretrained_head=linear_head(np.array([[-2.0, 0.0]]), np.zeros(1)))


def forgetting_context(rows: list[str]) -> FakeContext:
    steps = [np.array([[r[e] == "C"] for r in rows]) for e in range(len(rows[0]))]
    n = len(rows)
    return FakeContext(h=np.zeros((n, 1)), labels=np.ones((n, 1)), head=linear_head(np.zeros((1, 1)), np.zeros(1)),
                       correctness=steps)
