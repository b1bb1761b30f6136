"""The example method keeps the suite's contract and samples by loss."""

import numpy as np
import torch
from my_pruner import LossProportional

from molpeg_bench.benchmark.method_check import check_method


def test_the_suite_finds_it_by_its_entry_point_and_it_keeps_the_contract():
    outcomes = check_method("my_pruner")
    assert all(o.ok for o in outcomes), [o.line() for o in outcomes if not o.ok]


def test_unseen_first_then_high_loss_samples_are_drawn_more_often():
    pruner = LossProportional(n_samples=10, keep_ratio=0.5, seed=0)
    pruner.observe(np.arange(10), torch.tensor([5.0] * 5 + [0.01] * 5))
    drawn = np.concatenate([pruner.plan_epoch(e).indices for e in range(3, 103)])
    assert (drawn < 5).mean() > 0.9  # the five high-loss samples dominate the draws
