"""What the score and warm-up caches (and the run id) are keyed by: a method's algorithm version, every
resolved option with its default, the validation rows a method reads, the warm-up trainer's version. Each
of these changing must name a new entry, so old code's results are never reused as current."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from molpeg_bench.benchmark import run
from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.selection import context as context_module
from molpeg_bench.methods import get_method, make_pruner
from molpeg_bench.methods.base import Requirements
from molpeg_bench.methods.scored import memo_name
from tests.support.cases import forgetting_context
from tests.support.data import make_small_store
from tests.support.selection import selection_context


def _counting():
    calls = []

    def compute():
        calls.append(1)
        return {"scores": np.arange(3.0)}, {}

    return calls, compute


def test_memo_name_holds_the_version_and_every_default(monkeypatch):
    pruner = make_pruner("grand_20", n_samples=10, keep_ratio=0.5)
    explicit = make_pruner("grand_20", n_samples=10, keep_ratio=0.5, options={"warmup_epochs": 20})
    assert memo_name(pruner) == memo_name(explicit)  # the same values: one entry
    assert '"warmup_epochs": 20' in memo_name(pruner) and "grand_20 v1 " in memo_name(pruner)
    cls = get_method("grand_20")

    @dataclasses.dataclass(frozen=True)
    class ChangedDefault(cls.Options):
        warmup_epochs: int = 10

    monkeypatch.setattr(cls, "Options", ChangedDefault)
    assert memo_name(make_pruner("grand_20", n_samples=10, keep_ratio=0.5)) != memo_name(pruner)
    monkeypatch.setattr(cls, "Options", pruner.Options)
    monkeypatch.setattr(cls, "version", 2)
    assert memo_name(make_pruner("grand_20", n_samples=10, keep_ratio=0.5)) != memo_name(pruner)


def test_each_score_alignment_names_its_own_entry():
    for name in ("grand_4", "grand_20", "least_confidence", "entropy", "forgetting"):
        aligned = memo_name(make_pruner(name, n_samples=10, keep_ratio=0.5))
        shuffled = memo_name(make_pruner(name, n_samples=10, keep_ratio=0.5,
                                         options={"score_alignment": "official_shuffled"}))
        assert '"score_alignment": "aligned"' in aligned and shuffled != aligned, name
    assert "score_alignment" not in memo_name(make_pruner("el2n_20", n_samples=10, keep_ratio=0.5))


def test_other_validation_rows_name_another_entry_for_a_method_that_reads_them(tmp_path):
    needs_val = Requirements(warmup_epochs=2, needs_val=True)
    store = make_small_store()
    other_valid = make_small_store()
    valid_row = int(selection_context(tmp_path / "w", needs_val, store=store).features.indices("valid")[0])
    other_valid.y[valid_row, 0] = 1 - other_valid.y[valid_row, 0]
    stores = (store, make_small_store(), other_valid)
    first, same, other = (selection_context(tmp_path / "w", needs_val, store=s) for s in stores)
    assert first.identity() == other.identity()  # the training rows and warm-ups are the same
    calls, compute = _counting()
    for ctx in (first, same, other):
        ctx.memo("influence v1 {}", compute)
    assert len(calls) == 2  # the same validation rows reuse, other ones recompute
    # a method that does not read the validation split shares its entry whatever those rows are
    calls, compute = _counting()
    for s in (store, other_valid):
        selection_context(tmp_path / "w", Requirements(warmup_epochs=2), store=s).memo("el2n_20 v1 {}", compute)
    assert len(calls) == 1


def test_a_version_bump_names_new_scores_and_a_new_run_and_version_1_keeps_old_ids(tmp_path, monkeypatch):
    monkeypatch.setenv("MOLPEG_CACHE_DIR", str(tmp_path))
    config = RunConfig(method="el2n_20", prune_ratio=0.6, dataset="nci-tpsa", subsample=200, num_layers=2,
                       emb_dim=16, epochs=1, batch_size=32, method_options={"warmup_epochs": 2})
    first = run.run_finetune(config)
    assert first["pruner"]["version"] == 1
    assert run.run_finetune(config)["context"]["scores"][0]["reused"] is True
    old_id = config.run_id()
    monkeypatch.setattr(get_method("el2n_20"), "version", 2)
    bumped = run.run_finetune(config)
    assert bumped["context"]["scores"][0]["reused"] is False and bumped["pruner"]["version"] == 2
    assert config.run_id() != old_id


def test_a_warmup_trainer_version_bump_trains_a_new_warmup(tmp_path, monkeypatch):
    before = selection_context(tmp_path / "w").warmups.key_for(0)
    monkeypatch.setattr(context_module, "WARMUP_TRAINER_VERSION", 2)
    after = selection_context(tmp_path / "w").warmups.key_for(0)
    assert after.trainer_version == 2 and after.digest() != before.digest()


@pytest.mark.parametrize("order", ["small budget first", "large budget first"])
def test_forgetting_decides_never_learned_exceeds_budget_at_each_selection(order, tmp_path, monkeypatch, caplog):
    """14 never-learned molecules: more than k = 8, fewer than k = 20, in either order of the ratios through
    one score cache (the scores are shared; the flag and the warning are not)."""

    rows = ["IIIII"] * 14 + ["CCICC", "CICIC", "CCCCC", "ICCCC"] * 4 + ["CCCCC"] * 2  # N = 32
    cache: dict[str, tuple] = {}

    def memo(name, compute):
        if name not in cache:
            cache[name] = compute()
        return cache[name]

    keeps = [8 / 32, 20 / 32] if order == "small budget first" else [20 / 32, 8 / 32]
    flags = {}
    for keep in keeps:
        ctx = forgetting_context(rows)
        ctx.memo = memo
        caplog.clear()
        pruner = make_pruner("forgetting", n_samples=32, keep_ratio=keep, options={"warmup_epochs": 5})
        meta = pruner.select(ctx).meta
        warned = any("never learned" in r.getMessage() for r in caplog.records)
        flags[pruner.k] = (meta["never_learned_count"], meta["never_learned_exceeds_budget"], warned)
    assert len(cache) == 1  # computed once, shared by both budgets
    assert flags == {8: (14, True, True), 20: (14, False, False)}
