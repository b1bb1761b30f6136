"""``score_alignment``: ``aligned`` keeps the planted top k; ``official_shuffled`` attributes the scores by a
shuffled loader's positions, as the official MolPeg code writes them, so it keeps exactly {j : order[j] in the
top k} for the documented loader order, a set unrelated to the scores."""

from __future__ import annotations

import numpy as np
import pytest

from molpeg_bench.methods import make_pruner
from molpeg_bench.methods.alignment import attribute, loader_order
from molpeg_bench.methods.last_layer import gradient_norms
from tests.mutation.registry import known_answer
from tests.support.cases import FLIPPED, NEAR, WIDE, flipped_label_context, near_boundary_context, served_select
from tests.support.context import FakeContext, linear_head


def kept(name: str, ctx, keep: float, seed: int = 0, **options) -> set[int]:
    pruner = make_pruner(name, n_samples=ctx.n_samples, keep_ratio=keep, seed=seed, options=options)
    sel = served_select(pruner, ctx)
    assert len(sel.indices) == pruner.k == len(np.unique(sel.indices)), f"{name}: not exactly k unique indices"
    return set(sel.indices.tolist())


def grand_context() -> FakeContext:
    ctx = flipped_label_context()
    ctx.heads_by_epoch[4] = linear_head(np.array([[2.0, 0.1]]), np.zeros(1))  # GraNd-4's own model
    return ctx


# (method, context, keep ratio, the planted top k of its scores)
SCORED = [("least_confidence", near_boundary_context, 0.2, set(NEAR)),
          ("entropy", near_boundary_context, 0.2, set(NEAR)),
          ("grand_20", grand_context, 3 / 20, {WIDE, 9, 13}),
          ("grand_4", grand_context, 3 / 20, set(FLIPPED))]


def positions_of(molecules: set[int], order: np.ndarray) -> set[int]:
    """{j : order[j] in molecules}: where the loader put them."""
    return {j for j, m in enumerate(order.tolist()) if m in molecules}


@known_answer("least_confidence", "entropy", "grand_4", "grand_20")
def test_official_shuffled_keeps_the_loader_positions_of_the_top_k():
    for name, context, keep, top in SCORED:
        assert kept(name, context(), keep) == top, name
        for seed in (0, 3):
            order = loader_order(seed, name, 20, draw=0)
            expected = positions_of(top, order)
            assert kept(name, context(), keep, seed, score_alignment="official_shuffled") == expected, (name, seed)
            assert expected != top  # at these seeds the loader moved them


ROWS = ["CCCCC"] * 12
FORGETTERS = [2, 5, 9]  # wrong in epochs 1 and 3 (0-based): two forgetting events each
for _m in FORGETTERS:
    ROWS[_m] = "CICIC"


def forgetting_context() -> FakeContext:
    steps = [np.array([[r[e] == "C"] for r in ROWS]) for e in range(5)]
    return FakeContext(h=np.zeros((12, 1)), labels=np.ones((12, 1)), head=linear_head(np.zeros((1, 1)), np.zeros(1)),
                       correctness=steps)


@known_answer("forgetting")
def test_forgetting_official_shuffled_counts_events_through_each_epochs_loader_order():
    assert kept("forgetting", forgetting_context(), 0.25, warmup_epochs=5) == set(FORGETTERS)
    # every molecule is right in epochs 0, 2 and 4, so position j forgets at 0→1 iff epoch 1's loader put a
    # forgetter at j, and at 2→3 iff epoch 3's did: its score is [order_1[j] ∈ F] + [order_3[j] ∈ F]
    for seed in (0, 1, 2):
        epoch1, epoch3 = (positions_of(set(FORGETTERS), loader_order(seed, "forgetting", 12, draw=e)) for e in (1, 3))
        chosen = kept("forgetting", forgetting_context(), 0.25, seed, warmup_epochs=5,
                      score_alignment="official_shuffled")
        assert epoch1 & epoch3 <= chosen <= epoch1 | epoch3, seed  # both events first, then one (ties drawn)
        assert chosen != set(FORGETTERS)


@pytest.mark.parametrize("name,context,keep,top", SCORED)
def test_official_shuffled_selection_is_unrelated_to_the_scores(name, context, keep, top):
    hits = np.zeros(20)
    for seed in range(200):
        hits[list(kept(name, context(), keep, seed, score_alignment="official_shuffled"))] += 1
    k = len(top)
    rate_top, rate_rest = hits[sorted(top)].mean() / 200, np.delete(hits, sorted(top)).mean() / 200
    # every molecule is kept with probability k/N whatever its score (aligned: the top ones always)
    assert abs(rate_top - k / 20) < 0.1 and abs(rate_rest - k / 20) < 0.05, (rate_top, rate_rest)


def test_forgetting_official_shuffled_is_unrelated_to_the_events():
    hits = np.zeros(12)
    for seed in range(200):
        hits[list(kept("forgetting", forgetting_context(), 0.25, seed, warmup_epochs=5,
                       score_alignment="official_shuffled"))] += 1
    rate_forgetters, rate_rest = hits[FORGETTERS].mean() / 200, np.delete(hits, FORGETTERS).mean() / 200
    assert abs(rate_forgetters - 0.25) < 0.1 and abs(rate_rest - 0.25) < 0.05, (rate_forgetters, rate_rest)


@known_answer("grand_4", "grand_20")
def test_grand_attributes_each_warmup_run_through_its_own_loader_order():
    ctx = flipped_label_context()
    ctx.heads_by_seed[1] = linear_head(np.array([[-1.0, 0.5]]), np.full(1, 0.3))
    valid = ~np.isnan(ctx.labels)
    for name in ("grand_4", "grand_20"):
        pruner = make_pruner(name, n_samples=20, keep_ratio=0.25, seed=7,
                             options={"repeats": 2, "score_alignment": "official_shuffled"})
        sel = served_select(pruner, ctx)
        norms = []
        for run in (0, 1):
            e, ht = ctx.last_layer_factors(ctx.heads_by_seed.get(run, ctx.head))
            norms.append(gradient_norms(np.where(valid, e, 0.0), ht)[loader_order(7, name, 20, draw=run)])
        np.testing.assert_allclose(sel.scores, (norms[0] + norms[1]) / 2, rtol=1e-12)


def test_loader_orders_are_seeded_permutations_of_their_own_stream():
    order = loader_order(5, "entropy", 30, draw=0)
    assert sorted(order.tolist()) == list(range(30))
    np.testing.assert_array_equal(order, loader_order(5, "entropy", 30, draw=0))  # reproducible
    others = [loader_order(6, "entropy", 30), loader_order(5, "least_confidence", 30),
              loader_order(5, "entropy", 30, draw=1)]
    assert all(not np.array_equal(order, other) for other in others)  # seed, method and draw each matter
    # not the run's other streams: the tie-breaking draw of the selection is left where it was
    assert not np.array_equal(order, np.random.default_rng([5, 0]).permutation(30))
    values = np.arange(30.0)[:, None] * [1.0, -1.0]
    np.testing.assert_array_equal(attribute(values, "aligned", 5, "entropy"), values)
    np.testing.assert_array_equal(attribute(values, "official_shuffled", 5, "entropy"), values[order])
    with pytest.raises(ValueError, match="score_alignment must be one of"):
        attribute(values, "shuffled", 5, "entropy")
