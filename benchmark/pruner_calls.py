"""The fine-tuning loop's calls into a pruning method, each guarded (``methods.guard``: a failure, ``sys.exit``
included, is one error naming the method and the call) and what it returns checked against the contract
(``methods.contract``) before a sample of it is trained.

A dynamic method's plan is checked every epoch and the loop trains a copy of it, so a method that rewrites
the plan's arrays while the epoch runs cannot change what is trained; the rewrite itself is found when the
epoch ends, before its checkpoint is saved.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch

from molpeg_bench.methods.base import DynamicPruner, EpochPlan, Selection, shuffled_plan
from molpeg_bench.methods.contract import check_batch, check_selection, check_unchanged, checked_plan
from molpeg_bench.methods.driving import PrunerDriver
from molpeg_bench.methods.guard import method_call, method_output


def method_requirements(pruner) -> object:
    """The ``Requirements`` a method declares for its options (``requirements(options)``, else ``requires``)."""
    with method_call(pruner.name, "requirements()"):
        declare = getattr(type(pruner), "requirements", None)
        if declare is not None:
            return declare(pruner.options)
        return getattr(pruner, "requires", None)


def select_coreset(pruner, ctx, n: int, device: torch.device) -> Selection:
    """A static method's checked selection from ``ctx``, drawn from its own RNG stream (models it builds,
    dropout passes), so training starts from the same state whether the warm-up and the scores were computed
    here or reused from the cache."""
    with method_call(pruner.name, "check_context()"):
        pruner.check_context(ctx)  # a refusal comes before any warm-up is trained
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        ctx.prepare()
        with method_call(pruner.name, "select()"):
            selection = pruner.select(ctx)
    check_selected(pruner, selection, n)
    return selection


def check_selected(pruner, selection: Selection, n: int) -> None:
    """The selection keeps the contract (also one read back from an epoch checkpoint)."""
    with method_output(pruner.name, "select()"):
        check_selection(selection, n, pruner.k)


def epoch_plan(pruner, epoch: int, selection: Selection | None, n: int) -> tuple[EpochPlan, EpochPlan]:
    """(the plan as the method returned it, the checked copy the loop trains); a static ``selection`` is
    shuffled into the epoch's order."""
    if selection is not None:
        weights = 1.0 if selection.weights is None else selection.weights
        plan = shuffled_plan(pruner.epoch_rng(epoch), selection.indices, weights)
        return plan, plan
    call = f"plan_epoch({epoch})"
    with method_call(pruner.name, call):
        plan = pruner.plan_epoch(epoch)
    with method_output(pruner.name, call):
        trained = checked_plan(plan, n, pruner.k if getattr(pruner, "exact_budget", True) else None,
                               unique=not getattr(pruner, "draws_with_replacement", False))
    if type(trained).batches is not EpochPlan.batches:  # the method's class makes the batches: check each one
        trained = CheckedBatches(trained.indices, trained.weights, trained.info, plan=trained,
                                 method=pruner.name, call=call)
    return plan, trained


@dataclass(frozen=True)
class CheckedBatches(EpochPlan):
    """A plan whose class makes its own batches (MolPeg weighs the last one when it is reached), each batch
    checked as it is made: the plan's positions in order, finite positive weights."""

    plan: EpochPlan | None = None
    method: str = ""
    call: str = ""

    def batches(self, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        start = 0
        with method_call(self.method, f"{self.call}.batches()"):
            for positions, weights in self.plan.batches(batch_size):
                with method_output(self.method, self.call):
                    check_batch(positions, weights, self.indices[start:start + len(positions)])
                start += len(positions)
                yield positions, weights


def check_plan_kept(pruner, epoch: int, returned: EpochPlan, trained: EpochPlan) -> None:
    """After the epoch: the method did not rewrite the plan it returned while the epoch trained its copy."""
    if returned is not trained:
        with method_output(pruner.name, f"plan_epoch({epoch})"):
            check_unchanged(returned, trained)


class RunDriver(PrunerDriver):
    """The run's ``PrunerDriver``: every call guarded, each epoch's plan checked and a copy of it trained, and
    the plan found unchanged after the epoch; a static method's ``selection`` is shuffled into each epoch's
    plan (no method calls while it trains)."""

    def __init__(self, pruner, selection: Selection | None, n: int):
        super().__init__(pruner if isinstance(pruner, DynamicPruner) else None, partial(method_call, pruner.name))
        self.method, self.selection, self.n = pruner, selection, n
        self.returned: EpochPlan | None = None

    def plan(self, epoch: int) -> EpochPlan:
        self.returned, trained = epoch_plan(self.method, epoch, self.selection, self.n)
        return trained

    def trained(self, epoch: int, plan: EpochPlan) -> None:
        check_plan_kept(self.method, epoch, self.returned, plan)


def describe_pruner(pruner, method: str) -> dict:
    """The record's ``pruner`` section; a whole-data run made as MolPeg at keep ratio 1 stays ``whole``."""
    with method_call(pruner.name, "describe()"):
        described = pruner.describe()
    if described["method"] != method:
        described |= {"method": method, "family": "whole", "made_as": described["method"]}
    return described
