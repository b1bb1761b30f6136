"""What a method must hand the training loop: the rules of a selection and of an epoch plan.

One implementation for both places that check them: the run (before a sample is trained, and every
epoch) and ``check-method``. A broken rule is a ``ContractViolation`` whose message says what came back
and what was expected ("duplicate indices (12 appears twice); expected unique indices in [0, 600)"); the
caller adds which method and which call.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from molpeg_bench.methods.base import EpochPlan, Selection


class ContractViolation(ValueError):
    """A method's output that breaks the contract; the message names the property."""


def check_output(indices, weights, n: int, k: int | None, unique: bool = True) -> None:
    """Indices: a 1-D integer array of ``k`` (None: 1..``n``) positions in [0, n), unique unless ``unique`` is
    False (a method that draws with replacement); weights, when given: one finite positive number per index."""
    indices = np.asarray(indices)
    if indices.ndim != 1:
        raise ContractViolation(f"a {indices.ndim}-D array of indices (shape {indices.shape}); expected a 1-D array")
    if len(indices) and indices.dtype.kind not in "iu":  # (an empty list is float64: the count says more)
        raise ContractViolation(f"indices of dtype {indices.dtype}; expected an integer array")
    if k is not None and len(indices) != k:
        raise ContractViolation(f"{len(indices)} indices; expected exactly k = {k} (the budget)")
    if k is None and not 1 <= len(indices) <= n:
        raise ContractViolation(f"{len(indices)} indices; expected 1..{n}")
    outside = indices[(indices < 0) | (indices >= n)]
    if len(outside):
        raise ContractViolation(f"an index out of range ({outside[0]}{_more(len(outside))}); expected indices in "
                                f"[0, {n})")
    values, counts = np.unique(indices, return_counts=True)
    if unique and (counts > 1).any():
        first, repeated = int(np.argmax(counts > 1)), int((counts > 1).sum())
        raise ContractViolation(f"duplicate indices ({values[first]} appears {_times(counts[first])}"
                                f"{_more(repeated, 'repeated')}); expected unique indices in [0, {n})")
    if weights is not None:
        _check_weights(weights, len(indices))


def _check_weights(weights, n_indices: int) -> None:
    try:
        weights = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise ContractViolation(f"weights of type {type(weights).__name__}; expected numbers") from None
    if weights.shape != (n_indices,):
        raise ContractViolation(f"weights of shape {weights.shape} for {n_indices} indices; expected one per index")
    bad = np.flatnonzero(~(np.isfinite(weights) & (weights > 0)))
    if len(bad):
        raise ContractViolation(f"a weight of {weights[bad[0]]:g} at position {bad[0]}{_more(len(bad))}; "
                                "expected finite positive weights")


def _times(count: int) -> str:
    return "twice" if count == 2 else f"{count} times"


def _more(count: int, what: str = "") -> str:
    """``", and 3 more"`` of ``count`` offenders of which the message shows one."""
    return f", and {count - 1} more{' ' + what if what else ''}" if count > 1 else ""


def check_selection(selection, n: int, k: int) -> None:
    """A static method's ``select`` result: a ``Selection`` of exactly ``k`` samples."""
    if not isinstance(selection, Selection):
        raise ContractViolation(f"a {type(selection).__name__}; expected a methods.base.Selection")
    check_output(selection.indices, selection.weights, n, k)


def frozen_plan(plan) -> EpochPlan:
    """A copy of ``plan`` (its class and dtypes kept) that the loop trains: the method cannot change its arrays
    mid-epoch."""
    if not isinstance(plan, EpochPlan):
        raise ContractViolation(f"a {type(plan).__name__}; expected a methods.base.EpochPlan")
    info = plan.info if isinstance(plan.info, dict) else {}
    return dataclasses.replace(plan, indices=np.array(plan.indices, copy=True),
                               weights=np.array(plan.weights, copy=True), info=dict(info))


def checked_plan(plan, n: int, k: int | None, unique: bool = True) -> EpochPlan:
    """``frozen_plan`` of a dynamic method's plan that keeps the rules (``k`` None: 1..n samples; ``unique``
    False: samples may repeat)."""
    frozen = frozen_plan(plan)
    check_output(frozen.indices, frozen.weights, n, k, unique)
    if not isinstance(plan.info, dict):
        raise ContractViolation(f"info of type {type(plan.info).__name__}; expected a dict")
    return frozen


def check_batch(positions, weights, planned: np.ndarray) -> None:
    """A batch that a plan class making its own batches yields: the plan's next ``planned`` positions, each with
    a finite positive weight."""
    if not np.array_equal(np.asarray(positions), planned):
        raise ContractViolation("a plan whose batches hold other samples than its indices, in their order; "
                                "expected batches of its indices in order")
    try:
        _check_weights(weights, len(planned))
    except ContractViolation as exc:
        raise ContractViolation(f"a plan whose batches carry {exc}") from None


def check_unchanged(plan: EpochPlan, frozen: EpochPlan) -> None:
    """The method left the plan it returned as it was while the epoch trained (``frozen`` is its copy)."""
    for name in ("indices", "weights"):
        now = np.asarray(getattr(plan, name))
        before = getattr(frozen, name)
        if now.shape != before.shape or not np.array_equal(now, before, equal_nan=now.dtype.kind == "f"):
            changed = "its shape" if now.shape != before.shape else f"{int((now != before).sum())} of them"
            raise ContractViolation(f"a plan whose {name} it changed during the epoch ({changed}); expected the "
                                    "plan to stay as returned until the epoch ends")
