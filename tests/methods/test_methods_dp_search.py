"""DP's swap search: block steps with an exact prefix line search, single swaps to finish, a record per start
(initial and final ‖Σ S‖, swaps, steps, convergence) and the winning start."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from molpeg_bench.methods import make_pruner
from molpeg_bench.methods.dataset_pruning import ParameterShift, swap_search
from molpeg_bench.methods.influence import TrainingFactors
from tests.support.context import random_context


def random_shift(n: int, tasks: int = 2, dim: int = 5, seed: int = 0) -> ParameterShift:
    rng = np.random.default_rng(seed)
    e = rng.normal(size=(n, tasks)).astype(np.float32)
    ht = np.hstack([rng.normal(size=(n, dim - 1)), np.ones((n, 1))]).astype(np.float32)
    h = rng.normal(size=(tasks, dim, dim))
    return ParameterShift(TrainingFactors(e, ht, np.linalg.inv(h @ h.transpose(0, 2, 1) / dim + np.eye(dim))))


def explicit(shift: ParameterShift) -> np.ndarray:
    """[N, T(d+1)] every S_i, one at a time."""
    return np.stack([shift.single(i).ravel() for i in range(shift.n)])


def test_prefix_norms_are_the_norms_of_the_swapped_sums():
    shift = random_shift(40, seed=1)
    s = explicit(shift)
    pruned = np.arange(0, 40, 2)
    q = s[pruned].sum(axis=0)
    a, b = np.array([0, 8, 30, 12]), np.array([1, 39, 5, 17])
    expected = [np.sum((q - s[a[:m]].sum(axis=0) + s[b[:m]].sum(axis=0)) ** 2) for m in range(1, 5)]
    np.testing.assert_allclose(shift.prefix_norms(q.reshape(2, 5), a, b), expected, rtol=1e-6)


def test_a_converged_search_leaves_no_improving_single_swap():
    shift = random_shift(30, seed=2)
    s = explicit(shift)
    start = np.random.default_rng(0).choice(30, 12, replace=False)
    search = swap_search(shift, start, candidates=30, max_swaps=10_000, block=64)  # candidates: every sample
    assert search.converged and search.final_shift_norm < search.initial_shift_norm
    pruned = set(search.pruned.tolist())
    assert len(pruned) == 12
    q = s[sorted(pruned)].sum(axis=0)
    best_swap = min(np.sum((q - s[a] + s[b]) ** 2) for a, b in itertools.product(pruned, set(range(30)) - pruned))
    assert best_swap >= np.sum(q * q) * (1 - 1e-6)
    assert search.final_shift_norm == pytest.approx(np.sqrt(np.sum(q * q)), rel=1e-5)  # float32 factors


def test_block_steps_swap_many_pairs_at_once_and_single_swaps_one():
    shift = random_shift(3000, tasks=1, dim=9, seed=3)
    start = np.random.default_rng(1).choice(3000, 1800, replace=False)
    blocks, singles = (swap_search(shift, start, 64, 100_000, block) for block in (4096, 1))
    assert blocks.converged and singles.converged
    assert blocks.steps < blocks.swaps and singles.steps == singles.swaps + 1  # the last step finds none
    for search in (blocks, singles):
        assert search.final_shift_norm < 0.1 * search.initial_shift_norm and len(search.pruned) == 1800


def test_a_search_stopped_by_its_cap_is_recorded_as_not_converged():
    shift = random_shift(3000, tasks=1, dim=9, seed=3)
    start = np.random.default_rng(1).choice(3000, 1800, replace=False)
    capped = swap_search(shift, start, 64, max_swaps=5, block=4096)
    assert capped.swaps == 5 and not capped.converged and len(capped.pruned) == 1800
    assert capped.final_shift_norm < capped.initial_shift_norm


def test_dp_records_every_start_and_the_winning_one():
    ctx = random_context(n=60, d=4, t=2, seed=8)  # a random restart wins here
    sel = make_pruner("dp", n_samples=60, keep_ratio=0.4, options={"restarts": 3}).select(ctx)
    starts = sel.meta["starts"]
    assert [s["start"] for s in starts] == ["frank_wolfe", "random", "random", "random"]
    assert all(s["converged"] and s["final_shift_norm"] <= s["initial_shift_norm"] for s in starts)
    finals = [s["final_shift_norm"] for s in starts]
    assert sel.meta["winning_start"] == int(np.argmin(finals))
    assert sel.meta["pruned_shift_norm"] == min(finals) and sel.meta["swaps"] == sum(s["swaps"] for s in starts)
    assert make_pruner("dp", n_samples=60, keep_ratio=0.4).version == 2
