"""A complete record's numbers must agree with each other: its run id is the hash of the config it carries,
and its ``best_epoch`` / ``best_valid`` / ``test_at_best`` are what its own ``epochs`` give.

A record edited by hand (a run relabelled as another method, a better test value typed in) contradicts
itself here and is left out with the file and the field named, rather than filling a table cell. The best
epoch is found as the training loop finds it (``benchmark.run``, ``benchmark.tasks.improves``): the first
epoch with the best validation value, strict improvement, NaN never improving; regression tasks minimise.
"""

from __future__ import annotations

import math

from molpeg_bench.results.names import higher_is_better
from molpeg_bench.results.record_schema import InvalidRecord
from molpeg_bench.results.run_identity import record_run_id

# how far a recorded best value may be from its epoch's (both are the same float written twice; the slack
# only forgives a rewrite that went through a shorter float repr, never an edit)
REL_TOLERANCE = 1e-9


def check_integrity(record: dict) -> dict:
    """``record`` (complete, schema-valid) when its run id and best epoch agree with its content; else
    ``InvalidRecord`` naming the field that disagrees."""
    expected_id = record_run_id(record)
    if record["run_id"] != expected_id:
        raise InvalidRecord(f"run_id {record['run_id']!r} is not the hash of the record's config and data "
                            f"({expected_id!r}): the config was changed after the run")
    best = best_epoch(record["epochs"], maximises(record))
    if best is None:
        raise InvalidRecord(f"epochs: no epoch has a validation value, yet best_epoch is {record['best_epoch']}")
    wrong = [f"{name} {record[name]!r} (its epochs give {value!r})"
             for name, value in (("best_epoch", best["epoch"]), ("best_valid", best["valid"]),
                                 ("test_at_best", best["test"]))
             if not _same(record[name], value)]
    if wrong:
        raise InvalidRecord(f"contradicts its own epochs: {', '.join(wrong)}")
    return record


def maximises(record: dict) -> bool:
    """Whether the record's metric improves upward: its task's type (regression minimises), else its metric."""
    kind = (record.get("task") or {}).get("type")
    return kind != "regression" if kind else higher_is_better(record["metric"])


def best_epoch(epochs: list, maximise: bool) -> dict | None:
    """The first epoch entry with the best ``valid`` (strict improvement; NaN never improves), as
    ``{"epoch", "valid", "test"}``; None when no epoch has a validation value."""
    best = None
    for entry in epochs:
        valid = _number(entry.get("valid")) if isinstance(entry, dict) else math.nan
        if math.isnan(valid):
            continue
        if best is None or (valid > best["valid"] if maximise else valid < best["valid"]):
            best = {"epoch": entry.get("epoch"), "valid": valid, "test": _number(entry.get("test"))}
    return best


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan


def _same(recorded: object, derived: object) -> bool:
    if isinstance(derived, float):
        value = _number(recorded)
        return (math.isnan(value) and math.isnan(derived)) or math.isclose(value, derived, rel_tol=REL_TOLERANCE)
    return recorded == derived and type(recorded) is type(derived)
