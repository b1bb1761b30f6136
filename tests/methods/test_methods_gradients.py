"""Last-layer gradient methods: closed forms vs autograd, Influence vs leave-one-out retraining, DP and
Craig vs exhaustive search, Glister's gain vs the recomputed validation loss."""

import itertools

import numpy as np
import pytest
from scipy.optimize import minimize

from molpeg_bench.methods import make_pruner
from molpeg_bench.methods.budget import proportional_shares
from molpeg_bench.methods.craig import lazy_greedy, similarity
from molpeg_bench.methods.glister import ValidationLoss
from molpeg_bench.methods.last_layer import (
    gradient_gram,
    gradient_norms,
    project,
)
from tests.support.context import FakeContext, linear_head, random_context
from tests.support.references import autograd_gradients, explicit_shifts, facility


def test_closed_forms_equal_autograd():
    ctx = random_context(n=25, d=4, t=3)
    g = autograd_gradients(ctx)
    e, ht = ctx.last_layer_factors(ctx.head)
    assert np.allclose(gradient_norms(e, ht), np.linalg.norm(g, axis=1))
    assert np.allclose(gradient_gram(e, ht, e, ht), g @ g.T)
    v = np.random.default_rng(1).normal(size=(3, 5))  # a direction as task blocks [T, d+1]
    flat = np.concatenate([v[:, -1], v[:, :-1].ravel()])  # bias block first, then the T×d weights
    assert np.allclose(project(e, ht, v), g @ flat)


def test_grand_keeps_largest_autograd_norms_and_averages_warmup_runs():
    ctx = random_context(n=30, d=4, t=2, seed=3)
    other = linear_head(np.random.default_rng(9).normal(size=(2, 4)), np.zeros(2))
    ctx.heads_by_seed = {1: other}
    pruner = make_pruner("grand_20", n_samples=30, keep_ratio=0.3, options={"repeats": 2})
    req = type(pruner).requirements(pruner.options)
    assert (req.warmup_epochs, req.warmup_seeds) == (20, 2)
    sel = pruner.select(ctx)
    norms0 = np.linalg.norm(autograd_gradients(ctx), axis=1)
    ctx_other = FakeContext(h=ctx.h, labels=ctx.labels, head=other)
    expected = (norms0 + np.linalg.norm(autograd_gradients(ctx_other), axis=1)) / 2
    assert np.allclose(sel.scores, expected)
    assert set(sel.indices) == set(np.argsort(-expected)[:9])
    assert ("warmup", 20, 1) in ctx.calls
    g4 = make_pruner("grand_4", n_samples=30, keep_ratio=0.3)
    assert type(g4).requirements(g4.options).warmup_epochs == 4 and g4.name == "grand_4"


def test_el2n_uses_valid_tasks_only():
    h = np.zeros((4, 1))
    labels = np.array([[1.0, np.nan], [0.0, 1.0], [np.nan, np.nan], [1.0, 1.0]])
    ctx = FakeContext(h=h, labels=labels, head=linear_head(np.zeros((2, 1)), np.zeros(2)))  # p = 0.5 everywhere
    scores = make_pruner("el2n_20", n_samples=4, keep_ratio=0.5).select(ctx).scores
    assert np.allclose(scores, [0.5, np.sqrt(0.5), 0.0, np.sqrt(0.5)])
    norm = make_pruner("el2n_20", n_samples=4, keep_ratio=0.5, options={"normalize_by_valid": True}).select(ctx)
    assert np.allclose(norm.scores, [0.5, 0.5, 0.0, 0.5])


def _fit_logistic(x: np.ndarray, y: np.ndarray, damping: float, drop: int | None = None) -> np.ndarray:
    """argmin (1/N) Σ_{j≠drop} BCE_j + (λ/2)‖θ‖², θ = [w ; b]."""
    keep = np.ones(len(x), dtype=bool)
    if drop is not None:
        keep[drop] = False
    xt = np.hstack([x, np.ones((len(x), 1))])

    def objective(theta):
        z = xt[keep] @ theta
        loss = np.sum(np.logaddexp(0, z) - y[keep] * z) / len(x) + 0.5 * damping * theta @ theta
        grad = xt[keep].T @ (1 / (1 + np.exp(-z)) - y[keep]) / len(x) + damping * theta
        return loss, grad

    return minimize(objective, np.zeros(xt.shape[1]), jac=True, method="BFGS", options={"gtol": 1e-12}).x


def test_influence_matches_leave_one_out_retraining():
    rng = np.random.default_rng(0)
    n, damping = 80, 0.05
    x, xv = rng.normal(size=(n, 2)), rng.normal(size=(30, 2))
    y = (x @ [1.5, -1.0] + rng.normal(size=n) > 0).astype(float)
    yv = (xv @ [1.5, -1.0] + rng.normal(size=30) > 0).astype(float)
    theta = _fit_logistic(x, y, damping)

    def val_loss(th):
        z = np.hstack([xv, np.ones((30, 1))]) @ th
        return np.mean(np.logaddexp(0, z) - yv * z)

    loo = np.array([val_loss(_fit_logistic(x, y, damping, drop=i)) - val_loss(theta) for i in range(n)])
    ctx = FakeContext(h=x, labels=y[:, None], head=linear_head(theta[None, :2], theta[2:]), h_valid=xv,
                      valid_labels=yv[:, None])
    sel = make_pruner("influence", n_samples=n, keep_ratio=0.25, options={"damping": damping}).select(ctx)
    predicted = -sel.scores / n  # removing i changes the validation loss by ≈ −I_i / N
    assert np.corrcoef(predicted, loo)[0, 1] > 0.99
    assert np.allclose(predicted, loo, atol=0.1 * np.abs(loo).max())
    assert set(sel.indices) == set(np.argsort(sel.scores)[:20])  # the lowest (most negative) influence


@pytest.mark.parametrize("seed,keep", [(0, 0.5), (1, 0.3), (2, 0.7), (3, 0.4), (4, 0.6)])
def test_dp_matches_exhaustive_search(seed, keep):
    ctx = random_context(n=10, d=3, t=2, seed=seed)
    pruner = make_pruner("dp", n_samples=10, keep_ratio=keep)
    sel = pruner.select(ctx)
    s = explicit_shifts(ctx, pruner.options.damping)
    n_pruned = 10 - pruner.k
    best = min(np.sum(s[list(c)].sum(axis=0) ** 2) for c in itertools.combinations(range(10), n_pruned))
    pruned = np.setdiff1d(np.arange(10), sel.indices)
    assert len(sel.indices) == pruner.k
    assert np.sum(s[pruned].sum(axis=0) ** 2) == pytest.approx(best, rel=1e-9)
    assert sel.meta["pruned_shift_norm"] == pytest.approx(np.sqrt(best), rel=1e-6)


def test_craig_matches_exhaustive_search_on_clustered_gradients():
    centres = np.array([[3.0, 0.0], [-3.0, 2.0], [0.0, -4.0]])
    sizes = [5, 3, 2]  # clusters of identical molecules: any 3 with one per cluster are optimal medoids
    h = np.repeat(centres, sizes, axis=0)
    labels = np.zeros((10, 1))  # e = σ(z) > 0: gradients follow the embeddings
    ctx = FakeContext(h=h, labels=labels, head=linear_head(np.zeros((1, 2)), np.zeros(1)))
    sel = make_pruner("craig", n_samples=10, keep_ratio=0.3).select(ctx)
    g = autograd_gradients(ctx)
    dist = np.linalg.norm(g[:, None] - g[None], axis=2)
    sim = dist.max() - dist + 1e-3
    best = max(itertools.combinations(range(10), 3), key=lambda c: facility(sim, c))
    assert facility(sim, sel.indices) == pytest.approx(facility(sim, best))
    assert sorted(np.repeat(np.arange(3), sizes)[sel.indices]) == [0, 1, 2]
    assert sorted(sel.weights * 10 / 3) == pytest.approx([2, 3, 5])  # γ = cluster sizes, rescaled to mean 1


def test_lazy_greedy_equals_plain_greedy_and_chunks_keep_exact_budget():
    rng = np.random.default_rng(1)
    e, ht = rng.normal(size=(60, 2)), np.hstack([rng.normal(size=(60, 3)), np.ones((60, 1))])
    sim = similarity(e, ht)
    plain, best = [], np.zeros(60)
    for _ in range(12):
        gains = np.maximum(sim - best[:, None], 0).sum(axis=0)
        gains[plain] = -1
        plain.append(int(np.argmax(gains)))
        best = np.maximum(best, sim[:, plain[-1]])
    assert lazy_greedy(sim, 12).tolist() == plain
    assert proportional_shares(np.array([34, 33, 33]), 50).sum() == 50
    ctx = random_context(n=100, d=3, t=2)
    sel = make_pruner("craig", n_samples=100, keep_ratio=0.37, options={"chunk_size": 30}).select(ctx)
    assert len(np.unique(sel.indices)) == 37 and sel.meta["chunks"] == 4 and sel.weights.mean() == pytest.approx(1)


def test_glister_gain_equals_recomputed_validation_loss_change():
    ctx = random_context(n=15, d=3, t=2, seed=5)
    eta = 1e-4
    pruner = make_pruner("glister", n_samples=15, keep_ratio=2 / 15,
                         options={"picks_per_update": 0.0, "lr": eta})
    sel = pruner.select(ctx)
    e, ht = ctx.last_layer_factors(ctx.head)
    e = np.where(np.isnan(ctx.labels), 0.0, e)
    _, ht_val = ctx.last_layer_factors(ctx.head, "valid")
    val = ValidationLoss(ctx.logits(ctx.head, "valid"), ht_val, ctx.valid_labels, False)
    blocks = [e[i][:, None] * ht[i][None] for i in range(15)]  # g_i as task blocks [T, d+1]
    zero = np.zeros((2, 4))
    change = np.array([val.loss(zero) - val.loss(eta * b) for b in blocks])
    assert np.allclose(sel.scores, change, rtol=1e-3, atol=1e-3 * np.abs(change).max())  # O(η²) remainder
    first = int(np.argmax(change))
    after = np.array([val.loss(eta * blocks[first]) - val.loss(eta * (blocks[first] + b)) for b in blocks])
    after[first] = -np.inf
    assert sorted(sel.indices.tolist()) == sorted([first, int(np.argmax(after))])
    assert sel.meta["validation_loss_after"] < sel.meta["validation_loss_before"]


def test_glister_records_what_its_update_did():
    ctx = random_context(n=40, d=3, t=2, seed=0)
    e, ht = ctx.last_layer_factors(ctx.head)
    e = np.where(np.isnan(ctx.labels), 0.0, e)
    _, ht_val = ctx.last_layer_factors(ctx.head, "valid")
    val = ValidationLoss(ctx.logits(ctx.head, "valid"), ht_val, ctx.valid_labels, False)

    def select(lr: float, **options):
        return make_pruner("glister", n_samples=40, keep_ratio=0.25,
                           options={"picks_per_update": 0.0, "lr": lr, **options}).select(ctx)

    # η 0 is the context's fine-tuning rate (1e-3, Adam's): too small a step for the update to change a pick
    for lr, effective in ((1e-6, False), (0.0, False), (10.0, True)):
        sel, without = select(lr), set(select(lr, update=False).indices.tolist())
        meta, eta = sel.meta, lr or ctx.lr
        changed = len(set(sel.indices.tolist()) - without)
        assert meta["lr"] == eta and meta["update_changed_picks"] == changed
        assert meta["update_effective"] is effective and (changed > 0) is effective
        # the recorded change is the validation loss at θ_S = θ − η·mean_{j∈S} g_j minus that at θ
        delta = eta * np.mean([e[i][:, None] * ht[i][None] for i in sel.indices], axis=0)
        assert meta["validation_loss_change"] == pytest.approx(val.loss(delta) - val.loss(np.zeros_like(delta)),
                                                               rel=1e-6, abs=1e-12)
        assert abs(meta["validation_loss_change"]) < (1e-4 if not effective else np.inf)
    with pytest.raises(ValueError, match="glister lr must be >= 0"):
        make_pruner("glister", n_samples=40, keep_ratio=0.25, options={"lr": -1.0})


def test_glister_deepcore_mode_is_top_k_by_initial_gain_on_training_set():
    ctx = random_context(n=30, d=3, t=2, seed=2)
    sel = make_pruner("glister", n_samples=30, keep_ratio=0.2,
                      options={"update": False, "validation": "train"}).select(ctx)
    assert set(sel.indices) == set(np.argsort(-sel.scores)[:6])
