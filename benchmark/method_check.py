"""``molpeg-bench check-method NAME``: the contract every pruning method must keep, checked on any
method (built-in, an entry point or ``module.path:ClassName``) in seconds on a CPU.

A static method selects from the suite's real selection context (RDKit's bundled NCI molecules, a GIN 2×16,
its warm-ups trained into a temporary cache); a dynamic method is driven by the training loop's own
driver (``methods.driving``: plan an epoch, forward each batch, ``reference_forward`` if it has a reference,
``observe``, optimizer step, ``after_step``, ``score_pass`` after the epoch) on a small logistic model. Each
property prints ✓ or ✗ with the reason; the check exits 1 on any ✗. The properties are the generic part of the
known-answer and mutation tests: they cannot tell whether a method ranks the right molecules, only that it keeps
the contract the suite's loop, records and statistics rely on.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from molpeg_bench.benchmark.method_drive import DrivenRun, drive, resumed, start_run
from molpeg_bench.methods import DynamicPruner, get_method, make_pruner
from molpeg_bench.methods.contract import ContractViolation, check_output, check_selection
from molpeg_bench.methods.guard import failure

DYNAMIC_EPOCHS = 8
RESUME_AFTER = 3


@dataclass(frozen=True)
class Outcome:
    name: str
    ok: bool
    detail: str = ""

    def line(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.name}" + (f": {self.detail}" if self.detail else "")


class Violation(AssertionError):
    """A broken property, with the reason."""


def _property(name: str, check: Callable[[], str | None]) -> Outcome:
    try:
        return Outcome(name, True, check() or "")
    except (Violation, ContractViolation) as exc:
        return Outcome(name, False, str(exc))
    except (Exception, SystemExit) as exc:  # noqa: BLE001  (the method's own error, or exit, breaks the property)
        return Outcome(name, False, failure(exc))


def returned(call: str, check: Callable, *args) -> None:
    """``check(*args)``, a rule of the contract the run checks too (``methods.contract``), on what ``call``
    returned; a broken rule is a ``Violation`` naming the call."""
    try:
        check(*args)
    except ContractViolation as exc:
        raise Violation(f"{call} returned {exc}") from None


def check_options_round_trip(name: str, pruner) -> str:
    from molpeg_bench.benchmark.config import RunConfig

    recorded = json.loads(json.dumps(pruner.describe()["options"]))
    if type(pruner).resolve_options(recorded) != pruner.options:
        raise Violation(f"options {recorded} read back from the record resolve to other options")
    ratio = 0.0 if pruner.family == "whole" else 0.5
    RunConfig(method=name, prune_ratio=ratio, method_options=recorded)
    return f"{len(recorded)} option(s)"


# -- static methods --------------------------------------------------------------------------------------
def static_context(name: str, options: dict, cache_root: Path):
    """The suite's selection context of a tiny real run (nci-tpsa, 160 molecules, GIN 2×16)."""
    from molpeg_bench.benchmark.config import RunConfig
    from molpeg_bench.benchmark.pruner_calls import method_requirements
    from molpeg_bench.benchmark.run import load_run_data
    from molpeg_bench.benchmark.selection.context import build_context
    from molpeg_bench.benchmark.selection.warmup_cache import WarmupCache
    from molpeg_bench.benchmark.tasks import build_model, make_task, task_split

    config = RunConfig(dataset="nci-tpsa", subsample=160, num_layers=2, emb_dim=16, dropout=0.1, batch_size=32,
                       epochs=1, method=name, prune_ratio=0.0 if name == "whole" else 0.5, method_options=options,
                       eval_batch_size=256)
    store = load_run_data(config)
    split, task = task_split(config, store), make_task(config, store)
    pruner = make_pruner(name, n_samples=len(split.train), keep_ratio=config.keep_ratio, options=options)
    ctx = build_context(config, store, split.train, split.valid,
                        lambda pretrained=True: build_model(config, store.num_tasks), None,
                        method_requirements(pruner), torch.device("cpu"), WarmupCache(cache_root), task=task)
    return ctx, len(split.train)


def static_properties(name: str, options: dict) -> list[Outcome]:
    cls = get_method(name)
    with tempfile.TemporaryDirectory(prefix="molpeg-check-") as tmp:
        ctx, n = static_context(name, options, Path(tmp) / "warmups")
        keeps = [1.0] if cls.family == "whole" else [1 / n, 0.3, 0.7, (n - 1) / n]

        def select(keep: float, seed: int = 0):
            pruner = make_pruner(name, n_samples=n, keep_ratio=keep, seed=seed, options=options)
            pruner.check_context(ctx)
            with torch.random.fork_rng(devices=[]):
                ctx.prepare()
                return pruner, pruner.select(ctx)

        def budget() -> str:
            ks = []
            for keep in keeps:
                pruner, sel = select(keep)
                returned(f"keep {keep:.3g}: select()", check_selection, sel, n, pruner.k)
                ks.append(pruner.k)
            return f"k = {', '.join(map(str, ks))} of N = {n}, unique, in range, weights finite and positive"

        def determinism() -> str:
            (_, a), (_, b) = select(keeps[len(keeps) // 2]), select(keeps[len(keeps) // 2])
            if not np.array_equal(a.indices, b.indices):
                raise Violation("the same seed selected different samples")
            if (a.weights is None) != (b.weights is None) or (a.weights is not None
                                                               and not np.array_equal(a.weights, b.weights)):
                raise Violation("the same seed gave different weights")
            return "the same seed selects the same samples and weights"

        outcomes = [_property("exact budget at several ratios (1 sample ... N - 1)", budget),
                    _property("deterministic under the seed", determinism)]
        pruner = make_pruner(name, n_samples=n, keep_ratio=keeps[0], options=options)
        outcomes.append(_property("options round-trip through the record", lambda: check_options_round_trip(name,
                                                                                                             pruner)))
        return outcomes


# -- dynamic methods -------------------------------------------------------------------------------------
def dynamic_properties(name: str, options: dict, n: int = 60, keep: float = 0.3) -> list[Outcome]:
    cls = get_method(name)
    exact = getattr(cls, "exact_budget", True)
    runs: dict[str, DrivenRun] = {}

    def straight() -> DrivenRun:
        if "straight" not in runs:
            runs["straight"] = drive(start_run(name, options, n, keep, DYNAMIC_EPOCHS), 1, DYNAMIC_EPOCHS)
        return runs["straight"]

    def budget() -> str:
        run = straight()
        # the extremes (1 sample, N - 1) for three epochs each, then the checked ratio for every epoch
        extremes = [drive(start_run(name, options, n, k / n, 3), 1, 3) for k in (1, n - 1)]
        for each in [*extremes, run]:
            for epoch, (indices, weights) in enumerate(each.plans, 1):
                returned(f"keep {each.pruner.keep_ratio:.3g}: plan_epoch({epoch})", check_output, indices, weights,
                         n, each.pruner.k if exact else None, not each.pruner.draws_with_replacement)
            if each.rewrites:
                raise Violation(f"keep {each.pruner.keep_ratio:.3g}: {each.rewrites[0]}")
        ks = ", ".join(str(e.pruner.k) for e in extremes)
        return (f"k = {ks} (3 epochs) and {run.pruner.k} ({DYNAMIC_EPOCHS} epochs) of N = {n}" if exact else
                f"{min(len(p[0]) for p in run.plans)}..{max(len(p[0]) for p in run.plans)} of N = {n} per epoch "
                "(it declares exact_budget = False)") + (
            ", in range (drawn with replacement)" if run.pruner.draws_with_replacement else ", unique, in range") + (
            ", weights finite and positive")

    def rotation() -> str:
        bound = straight().pruner.rotation_epochs()
        if bound is None:
            return "declares no rotation bound (rotation_epochs() is None)"
        if bound > DYNAMIC_EPOCHS:
            return f"declares {bound} epochs, more than the {DYNAMIC_EPOCHS} checked"
        seen = np.unique(np.concatenate([p[0] for p in straight().plans[:bound]]))
        if len(seen) != n:
            raise Violation(f"{n - len(seen)} of {n} samples not trained within its declared {bound} epochs")
        return f"every sample trained within its declared {bound} epochs"

    def determinism() -> str:
        other = drive(start_run(name, options, n, keep, DYNAMIC_EPOCHS), 1, DYNAMIC_EPOCHS)
        _same_plans(straight().plans, other.plans, "a second run with the same seed")
        return f"{DYNAMIC_EPOCHS} epochs identical under the same seed"

    def resume() -> str:
        _same_plans(straight().plans, resumed(name, options, n, keep, DYNAMIC_EPOCHS, RESUME_AFTER).plans,
                    f"a run resumed after epoch {RESUME_AFTER}")
        return f"saved after epoch {RESUME_AFTER} and resumed: the same epochs {RESUME_AFTER + 1}..{DYNAMIC_EPOCHS}"

    pruner = make_pruner(name, n_samples=n, keep_ratio=keep, options=options)
    return [_property("exact budget, unique, in range, weights finite and positive, driven as the loop", budget),
            _property("trains every sample within its declared rotation bound", rotation),
            _property("deterministic under the seed", determinism),
            _property("state saved and resumed mid-run gives the same epochs", resume),
            _property("options round-trip through the record", lambda: check_options_round_trip(name, pruner))]


def _same_plans(expected: list, got: list, what: str) -> None:
    for epoch, ((a, wa), (b, wb)) in enumerate(zip(expected, got, strict=True), 1):
        if not (np.array_equal(a, b) and np.array_equal(wa, wb)):
            raise Violation(f"{what} trained other samples, order or weights in epoch {epoch}")


def check_method(name: str, options: dict | None = None) -> list[Outcome]:
    """Every property of ``name``'s contract (a load error is one ✗)."""
    options = dict(options or {})
    try:
        cls = get_method(name)
    except ValueError as exc:
        return [Outcome("the method loads", False, str(exc))]
    found = Outcome("the method loads", True, f"{cls.__module__}.{cls.__qualname__}, family {cls.family}"
                    + (f", from {cls.origin['found_by']} {cls.origin['spec']}" if cls.origin else ", built in"))
    if issubclass(cls, DynamicPruner):
        return [found, *dynamic_properties(name, options)]
    return [found, *static_properties(name, options)]
