"""Known answers for every static method: a constructed case where the right kept set (or ranking) follows
from the method's definition and differs from its reverse and from a random draw. The warm-up model and
the pretrained model differ in each case, so a method that scores with the wrong one is caught too.
``python -m tests.mutation`` runs these against mutated methods (reversed ranking, budget off by one,
warm-up ignored, weights dropped or inverted) and requires every mutant to fail at least one of them.
The cases other test modules reuse (near-boundary molecules, flipped labels, forgetters) are in
``tests.support.cases``."""

from __future__ import annotations

import itertools

import numpy as np
import torch

from molpeg_bench.methods import make_pruner
from molpeg_bench.methods.context import InputEmbeddingBatch
from tests.mutation.registry import known_answer
from tests.support.cases import (
    FLIPPED,
    NEAR,
    WIDE,
    flipped_label_context,
    forgetting_context,
    kept,
    near_boundary_context,
    served_select,
)
from tests.support.context import FakeContext, linear_head
from tests.support.references import autograd_gradients, explicit_shifts, facility


# -- uncertainty: planted near-boundary molecules ----------------------------------------------------------
@known_answer("least_confidence", "entropy")
def test_uncertainty_keeps_the_planted_near_boundary_molecules():
    for name in ("least_confidence", "entropy"):
        assert kept(name, near_boundary_context(), 0.2) == set(NEAR)


@known_answer("least_confidence", "entropy")
def test_least_confidence_and_entropy_differ_on_two_heads():
    # two heads: A = (p .5, p .9), B = (.75, .75), others confident. LC: A .6 > B .5; entropy: A 1.018 < B 1.125
    logit = np.array([[0.0, np.log(9.0)], [np.log(3.0), np.log(3.0)]] + [[6.0, 6.0]] * 6)
    ctx = FakeContext(h=logit, labels=np.ones((8, 2)), head=linear_head(np.eye(2), np.zeros(2)),
                      pretrained_head=linear_head(-np.eye(2), np.full(2, 4.0)))
    assert kept("least_confidence", ctx, 1 / 8) == {0}
    assert kept("entropy", ctx, 1 / 8) == {1}


# -- error norms: planted flipped labels ---------------------------------------------------------------------
@known_answer("el2n_20")
def test_el2n_keeps_the_planted_flipped_labels():
    assert kept("el2n_20", flipped_label_context(), 3 / 20) == set(FLIPPED)


@known_answer("grand_20", "grand_4")
def test_grand_keeps_the_largest_gradient_norms():
    ctx = flipped_label_context()
    # epoch 4 is a model of its own: under its head (2, 0.1) the wide molecule is confidently right (z = 10.5)
    ctx.heads_by_epoch[4] = linear_head(np.array([[2.0, 0.1]]), np.zeros(1))
    # ‖g‖ = |e|·‖h̃‖: after 20 epochs the unsure molecule with ‖h‖ = 100 first, then the two flipped with the
    # largest ‖h‖; after 4 its |e| ≈ 3e-5, and the three flipped (|e| > 0.98, ‖h̃‖ ≥ 2.2) lead
    assert kept("grand_20", ctx, 3 / 20) == {WIDE, 9, 13}
    assert kept("grand_4", ctx, 3 / 20) == set(FLIPPED)
    assert ("warmup", 4, 0) in ctx.calls and ("warmup", 20, 0) in ctx.calls
    g = np.linalg.norm(autograd_gradients(ctx), axis=1)
    assert set(np.argsort(-g)[:3].tolist()) == {WIDE, 9, 13}


# -- forgetting: planted forgetters --------------------------------------------------------------------------
@known_answer("forgetting")
def test_forgetting_keeps_forgetters_and_the_never_learned():
    rows = ["CCCCC", "CICIC", "IIIII", "CCICC", "CCCCC", "ICCCC", "CIIII", "CCCCC"]  # events 0 2 ∞ 1 0 0 1 0
    pruner = make_pruner("forgetting", n_samples=8, keep_ratio=0.5, options={"warmup_epochs": 5})
    sel = served_select(pruner, forgetting_context(rows))
    assert set(sel.indices.tolist()) == {1, 2, 3, 6} and len(sel.indices) == pruner.k
    assert sel.meta["never_learned_count"] == 1 and not sel.meta["never_learned_exceeds_budget"]
    crowded = make_pruner("forgetting", n_samples=8, keep_ratio=0.25, options={"warmup_epochs": 5})
    meta = served_select(crowded, forgetting_context(["IIIII"] * 3 + rows[3:8])).meta
    assert meta["never_learned_count"] == 3 and meta["never_learned_exceeds_budget"]


# -- K-Means: planted outliers -------------------------------------------------------------------------------
def outlier_context() -> tuple[FakeContext, list[int]]:
    rng = np.random.default_rng(2)
    directions = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [-1.0, 0, 0]])
    h, outliers = [], []
    for c, direction in enumerate(directions):
        h += list(direction + rng.normal(scale=0.03, size=(20, 3)))
        other = directions[(c + 1) % 4] if c != 3 else directions[1]
        h.append(direction + 0.6 * other)
        outliers.append(21 * c + 20)
    pretrained = np.array(h)
    ctx = FakeContext(h=rng.normal(size=(84, 3)), labels=np.ones((84, 1)),
                      head=linear_head(np.zeros((1, 3)), np.zeros(1)),
                      pretrained_head=linear_head(np.ones((1, 3)), np.zeros(1)), pretrained_h=pretrained)
    return ctx, outliers


@known_answer("kmeans")
def test_kmeans_keeps_the_planted_outliers_of_each_cluster():
    ctx, outliers = outlier_context()
    assert kept("kmeans", ctx, 4 / 84, n_clusters=4) == set(outliers)


@known_answer("kmeans")
def test_kmeans_fingerprints_keep_the_odd_molecule_of_each_family():
    smiles = ["CCO"] * 10 + ["CCCO"] + ["c1ccccc1"] * 10 + ["Cc1ccccc1"]
    ctx = FakeContext(h=np.zeros((22, 1)), labels=np.ones((22, 1)), head=linear_head(np.zeros((1, 1)), np.zeros(1)),
                      smiles=smiles)
    assert kept("kmeans", ctx, 2 / 22, n_clusters=2, features="fingerprint") == {10, 21}


# -- CD: coverage radius ---------------------------------------------------------------------------------------
@known_answer("cd")
def test_cd_puts_one_centre_in_each_cluster_of_predictions():
    rng = np.random.default_rng(3)
    z = np.repeat([-6.0, -2.0, 2.0, 6.0], 5) + rng.uniform(-0.1, 0.1, 20)
    ctx = FakeContext(h=z[:, None], labels=np.ones((20, 1)), head=linear_head(np.ones((1, 1)), np.zeros(1)),
                      pretrained_head=linear_head(np.zeros((1, 1)), np.zeros(1)))
    chosen = kept("cd", ctx, 0.2)
    assert sorted(i // 5 for i in chosen) == [0, 1, 2, 3]  # radius: every molecule within its cluster's jitter


# -- Herding: the reference implementations' argmax walks out along one side; Welling's argmin matches the mean --
FAR_SIDE, OTHER_SIDE = [7, 21, 40], 33


def herding_context() -> FakeContext:
    """A tight cloud at the origin, three molecules far out on +x and one less far on -x (warm-up model);
    the pretrained model sees unrelated embeddings."""
    rng = np.random.default_rng(4)
    h = rng.normal(scale=0.3, size=(60, 2))
    h[FAR_SIDE] = [[12.0, 0.0], [11.0, 0.5], [10.0, -0.5]]
    h[OTHER_SIDE] = [-9.0, 0.0]
    return FakeContext(h=h, labels=np.ones((60, 1)), head=linear_head(np.zeros((1, 2)), np.zeros(1)),
                       pretrained_head=linear_head(np.ones((1, 2)), np.zeros(1)), pretrained_h=rng.normal(size=(60, 2)))


@known_answer("herding")
def test_herding_default_argmax_keeps_the_far_side_not_the_farthest_from_the_mean():
    # μ ≈ (0.4, 0): the first pick is the farthest from it (12, 0); the residual 2μ − h then points to -x, so
    # the farthest from it are the other two on +x, and after them a cloud molecule, never the -x one,
    # although it is farther from the mean than (10, -0.5): the argmax is no "farthest from the mean" top k
    ctx = herding_context()
    assert kept("herding", ctx, 3 / 60) == set(FAR_SIDE)
    four = kept("herding", herding_context(), 4 / 60)
    assert set(FAR_SIDE) < four and OTHER_SIDE not in four


@known_answer("herding")
def test_herding_paper_direction_matches_the_mean_far_better_than_random():
    rng = np.random.default_rng(4)
    h = rng.normal(size=(60, 2)) * [3.0, 1.0]
    ctx = FakeContext(h=h, labels=np.ones((60, 1)), head=linear_head(np.zeros((1, 2)), np.zeros(1)),
                      pretrained_head=linear_head(np.ones((1, 2)), np.zeros(1)),
                      pretrained_h=rng.normal(size=(60, 2)))

    def error(subset) -> float:
        return float(np.linalg.norm(h[list(subset)].mean(axis=0) - h.mean(axis=0)))

    chosen = kept("herding", ctx, 10 / 60, direction="paper")
    random_errors = [error(rng.choice(60, 10, replace=False)) for _ in range(200)]
    assert error(chosen) < 0.25 * np.median(random_errors)
    first = served_select(make_pruner("herding", n_samples=60, keep_ratio=1 / 60, options={"direction": "paper"}), ctx)
    assert first.indices.tolist() == [int(np.argmin(np.linalg.norm(h - h.mean(axis=0), axis=1)))]


# -- DeepFool: planted near-boundary molecules in input-embedding space -----------------------------------------
class DeepFoolContext(FakeContext):
    """Molecules of two atoms; the model's logit is w·Σ_atoms u + b, so a batch depends on the model."""

    def input_embedding_batches(self, model, batch_size: int):
        w = model.weight.detach()[0]
        b = model.bias.detach()[0]
        u = torch.as_tensor(self.h, dtype=torch.float64).repeat_interleave(2, dim=0) / 2
        node_graph = torch.arange(self.n_samples).repeat_interleave(2)

        def forward(x):
            pooled = torch.zeros(self.n_samples, 1, dtype=x.dtype).index_add(0, node_graph, x)
            return pooled * w + b

        yield InputEmbeddingBatch(np.arange(self.n_samples), u, node_graph, forward)


@known_answer("deepfool")
def test_deepfool_keeps_the_molecules_closest_to_the_boundary():
    rng = np.random.default_rng(5)
    h = rng.choice([-1.0, 1.0], 12) * rng.uniform(2.0, 4.0, 12)
    h[[1, 6, 10]] = [0.05, -0.1, 0.08]
    h[[0, 4, 8]] = [-2.95, -3.05, -3.1]  # closest under the pretrained model (logit + 3)
    ctx = DeepFoolContext(h=h[:, None], labels=np.ones((12, 1)), head=linear_head(np.ones((1, 1)), np.zeros(1)),
                          pretrained_head=linear_head(np.ones((1, 1)), np.full(1, 3.0)))
    assert kept("deepfool", ctx, 0.25) == {1, 6, 10}


# -- Craig: brute-force facility location, weights = cluster sizes ---------------------------------------------
@known_answer("craig")
def test_craig_finds_the_optimal_medoids_and_weights_them_by_cluster_size():
    centres = np.array([[3.0, 0.0], [-3.0, 2.0], [0.0, -4.0]])
    h = np.repeat(centres, [5, 3, 2], axis=0) + np.random.default_rng(6).normal(scale=0.05, size=(10, 2))
    ctx = FakeContext(h=h, labels=np.zeros((10, 1)), head=linear_head(np.zeros((1, 2)), np.zeros(1)),
                      pretrained_head=linear_head(np.zeros((1, 2)), np.zeros(1)),
                      pretrained_h=np.repeat(centres[::-1], [4, 4, 2], axis=0))
    pruner = make_pruner("craig", n_samples=10, keep_ratio=0.3)
    sel = served_select(pruner, ctx)
    assert len(sel.indices) == pruner.k == 3
    g = autograd_gradients(ctx)
    dist = np.linalg.norm(g[:, None] - g[None], axis=2)
    sim = dist.max() - dist + 1e-3
    best = max(facility(sim, c) for c in itertools.combinations(range(10), 3))
    assert facility(sim, sel.indices) >= 0.99 * best  # greedy: one medoid per cluster, not always the best one
    cluster = np.repeat(np.arange(3), [5, 3, 2])[sel.indices]
    assert sel.weights is not None
    weights = dict(zip(cluster.tolist(), sel.weights.tolist(), strict=True))
    assert np.allclose([weights[0], weights[1], weights[2]], [1.5, 0.9, 0.6])  # γ = 5, 3, 2 at mean 1


@known_answer("craig")
def test_craig_per_class_blocks_split_the_budget_by_class():
    rng = np.random.default_rng(7)
    labels = np.array([1.0] * 10 + [0.0] * 30)[:, None]
    ctx = FakeContext(h=rng.normal(size=(40, 2)), labels=labels, head=linear_head(np.ones((1, 2)), np.zeros(1)))
    pruner = make_pruner("craig", n_samples=40, keep_ratio=0.25, options={"per_class": True})
    sel = served_select(pruner, ctx)
    assert len(sel.indices) == 10 and int((labels[sel.indices] == 1).sum()) == 2 + (0 if pruner.k == 10 else 1)


# -- Glister and Influence: planted flipped labels against a clean validation set --------------------------------
def noisy_training_context() -> tuple[FakeContext, list[int]]:
    rng = np.random.default_rng(8)
    x, xv = rng.normal(size=(40, 2)), rng.normal(size=(60, 2))
    y, yv = (x[:, 0] > 0).astype(float), (xv[:, 0] > 0).astype(float)
    x[:, 0] += np.where(y == 1, 1.0, -1.0)  # a margin, so the clean molecules are fitted
    xv[:, 0] += np.where(yv == 1, 1.0, -1.0)
    flipped = [3, 11, 17, 25, 31, 38]
    y[flipped] = 1 - y[flipped]
    ctx = FakeContext(h=x, labels=y[:, None], head=linear_head(np.array([[1.0, 0.0]]), np.zeros(1)),
                      h_valid=xv, valid_labels=yv[:, None], lr=0.5,
                      pretrained_head=linear_head(np.array([[0.0, 1.0]]), np.zeros(1)),
                      pretrained_h=rng.normal(size=(40, 2)))  # before fine-tuning: embeddings unrelated to y
    return ctx, flipped


@known_answer("glister")
def test_glister_leaves_out_the_planted_flipped_labels():
    ctx, flipped = noisy_training_context()
    chosen = kept("glister", ctx, 0.5)
    assert not chosen & set(flipped)


@known_answer("influence")
def test_influence_prunes_the_planted_flipped_labels_first():
    ctx, flipped = noisy_training_context()
    chosen = kept("influence", ctx, 34 / 40)
    assert chosen == set(range(40)) - set(flipped)


# -- DP: brute-force minimal parameter shift ---------------------------------------------------------------------
@known_answer("dp")
def test_dp_prunes_the_set_of_least_parameter_shift():
    ctx, _ = noisy_training_context()
    ctx = FakeContext(h=ctx.h[:10], labels=ctx.labels[:10], head=ctx.head, pretrained_head=ctx.pretrained_head)
    pruner = make_pruner("dp", n_samples=10, keep_ratio=0.6)
    sel = served_select(pruner, ctx)
    assert len(sel.indices) == pruner.k == 6
    s = explicit_shifts(ctx, pruner.options.damping)
    norms = {c: np.sum(s[list(c)].sum(axis=0) ** 2) for c in itertools.combinations(range(10), 4)}
    pruned = tuple(sorted(set(range(10)) - set(sel.indices.tolist())))
    # a local search (Frank–Wolfe start, best-improvement swaps, restarts): here within 10 % of the exhaustive
    # optimum (it finds the second best of the 210 candidate sets), far from a random or reversed choice
    assert norms[pruned] <= 1.1 * min(norms.values())
    assert norms[pruned] <= np.quantile(list(norms.values()), 0.02)


# -- Random and the whole dataset -------------------------------------------------------------------------------
@known_answer("random")
def test_random_is_uniform_without_replacement_and_seeded():
    counts = np.zeros(10)
    for seed in range(400):
        sel = make_pruner("random", n_samples=10, keep_ratio=0.3, seed=seed).select()
        assert len(sel.indices) == 3 == len(np.unique(sel.indices))
        counts[sel.indices] += 1
    assert np.all(np.abs(counts / 400 - 0.3) < 0.08)  # each molecule kept with probability k/N


@known_answer("whole")
def test_whole_trains_every_molecule_once():
    sel = make_pruner("whole", n_samples=17, keep_ratio=1.0).select()
    assert sorted(sel.indices.tolist()) == list(range(17))
