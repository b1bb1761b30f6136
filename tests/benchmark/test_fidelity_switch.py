"""The ``fidelity`` switch: ``code`` fills in the official code's options (explicit ones win), default run
ids stay as they were, and the code's sampler timing and numpy stream are reproduced."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from molpeg_bench.benchmark.cli import main
from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.methods import MolPeg, SoftRandom


def test_default_run_ids_are_unchanged_by_the_switch():
    # ids computed before the switch existed: default runs must keep naming the same records
    molpeg = RunConfig(dataset="nci-tpsa", method="molpeg", prune_ratio=0.6, seed=1, subsample=300)
    assert molpeg.run_id() == "590f17e33b4289a6cd17"
    assert RunConfig(dataset="nci-tpsa").run_id() == "88d939c0e42eacaca820"
    assert molpeg.replace(fidelity="paper").run_id() == molpeg.run_id()
    assert "fidelity" not in molpeg.to_dict()
    assert molpeg.replace(fidelity="code").run_id() != molpeg.run_id()


def test_code_fidelity_fills_in_the_bundle_and_explicit_options_win():
    config = RunConfig(method="molpeg", prune_ratio=0.6, fidelity="code",
                       method_options={"reference_init": "pretrained", "beta": 0.9})
    options = config.method_options
    assert options["reference_init"] == "pretrained" and options["beta"] == 0.9  # explicit
    assert options["ema_convention"] == "code" and options["epoch_seeding"] == "legacy"
    assert options["reselect"] == "before_last_batch" and options["loss_weight"] == "inverse_keep_squared"
    # re-resolving (replace, a record read back) keeps the explicit default instead of the bundle's value
    assert config.replace(seed=3).method_options == options
    assert RunConfig.from_dict(config.to_dict()).method_options == options
    assert RunConfig(method="soft_random", prune_ratio=0.6, fidelity="code").method_options == \
        {"replace": True, "epoch_seeding": "legacy"}
    assert RunConfig(fidelity="code").method_options == {"schedule": "molpeg"}
    assert RunConfig(method="molpeg", prune_ratio=0.6).method_options == {}


def test_unknown_fidelity_is_one_clear_error(caplog):
    with pytest.raises(ValueError, match="fidelity must be one of"):
        RunConfig(fidelity="exact")
    with pytest.raises(SystemExit):
        main(["run", "--fidelity", "exact"])


def test_methods_and_help_show_what_the_switch_sets(capsys):
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    assert "--fidelity code sets" in out and "reselect=before_last_batch" in out and "schedule=molpeg" in out
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "epoch_seeding=legacy" in " ".join(capsys.readouterr().out.split())


def test_sweep_applies_the_switch_to_every_run(capsys):
    assert main(["sweep", "fig3", "--preset", "smoke", "--dry-run", "--fidelity", "code"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if " molpeg " in line]
    assert lines and all('"reselect": "before_last_batch"' in line for line in lines)


def _official_order(scores: np.ndarray, k: int, epoch: int) -> np.ndarray:
    """The official sampler's epoch: np.random.seed(epoch - 1), stable descending sort, first k, shuffle."""
    np.random.seed(epoch - 1)
    kept = np.array(sorted(range(len(scores)), key=lambda i: scores[i], reverse=True))[:k]
    np.random.shuffle(kept)
    return kept


def test_legacy_seeding_reproduces_the_code_sampler_draw_for_draw():
    pruner = MolPeg(50, 0.4, seed=7, options=MolPeg.code_options)
    pruner.setup(torch.nn.Linear(2, 1))
    np.testing.assert_array_equal(pruner.plan_epoch(1).indices, _official_order(np.ones(50), 20, 1))
    rng = np.random.default_rng(0)
    pruner.observe(np.arange(50), torch.from_numpy(rng.random(50)), torch.zeros(50, dtype=torch.float64))
    np.testing.assert_array_equal(pruner.plan_epoch(2).indices, _official_order(pruner.scores, 20, 2))
    np.random.seed(2)
    expected = np.random.randint(0, 50, 20)
    np.random.shuffle(expected)
    random = SoftRandom(50, 0.4, seed=5, options=SoftRandom.code_options)
    np.testing.assert_array_equal(random.plan_epoch(3).indices, expected)


def test_reselect_before_last_batch_weights_the_tail_by_the_next_selection():
    # N 10, keep 0.5: k 5, batches of 2 -> the fifth sample is a batch of its own, reached after the next
    # epoch was selected: it is not scored for it (so still ranks first) and carries its weight
    pruner = MolPeg(10, 0.5, options={"reselect": "before_last_batch", "loss_weight": "inverse_keep_squared"})
    pruner.setup(torch.nn.Linear(2, 1))
    plan = pruner.plan_epoch(1)
    np.testing.assert_array_equal(np.sort(plan.indices), np.arange(5))
    batches = []
    for idx, w in plan.batches(2):
        batches.append((idx, w))
        pruner.observe(idx, torch.full((len(idx),), 0.5, dtype=torch.float64), torch.zeros(len(idx)))
    tail = batches[-1][0]
    assert [len(b[0]) for b in batches] == [2, 2, 1]
    assert all((w == 4.0).all() for _, w in batches[:2])
    assert batches[-1][1][0] == 4.0  # the weight of a kept sample under the next selection
    state = pruner.state_dict()  # the selection made early survives a checkpoint
    restored = MolPeg(10, 0.5, options={"reselect": "before_last_batch"})
    restored.load_state_dict(state)
    nxt = pruner.plan_epoch(2)
    # unscored when selected (score 1 outranks the visited 0.5), although scored since
    assert set(nxt.indices.tolist()) == {int(tail[0]), 5, 6, 7, 8}
    np.testing.assert_array_equal(restored.plan_epoch(2).indices, nxt.indices)


def test_epoch_end_reselect_scores_the_whole_epoch():
    pruner = MolPeg(10, 0.5)
    pruner.setup(torch.nn.Linear(2, 1))
    plan = pruner.plan_epoch(1)
    for idx, w in plan.batches(2):
        assert (w == 2.0).all()
        pruner.observe(idx, torch.full((len(idx),), 0.5, dtype=torch.float64), torch.zeros(len(idx)))
    assert set(pruner.plan_epoch(2).indices.tolist()) == {5, 6, 7, 8, 9}


def test_whole_run_under_code_fidelity_is_molpeg_at_keep_ratio_one():
    from molpeg_bench.benchmark.run import run_finetune

    tiny = dict(dataset="nci-tpsa", subsample=200, num_layers=2, emb_dim=16, dropout=0.0, epochs=2, batch_size=64)
    record = run_finetune(RunConfig(fidelity="code", **tiny))
    assert record["fidelity"] == "code" and record["config"]["method"] == "whole"
    assert record["code_options"] == {"schedule": "molpeg"}
    assert record["pruner"]["family"] == "whole" and record["pruner"]["made_as"] == "molpeg"
    assert record["pruner"]["options"]["epoch_seeding"] == "legacy" and record["pruner"]["k"] == 160
    assert [e["n_trained"] for e in record["epochs"]] == [160, 160]
    paper = run_finetune(RunConfig(**tiny))
    assert paper["fidelity"] == "paper" and "made_as" not in paper["pruner"]


def test_tables_take_a_code_run_at_its_bundle_as_a_default_run():
    from molpeg_bench.methods import get_method
    from molpeg_bench.results.frame import run_row

    def row(**options):  # the record as the runner writes it: the bundle it filled in as code_options
        config = RunConfig(method="molpeg", prune_ratio=0.6, fidelity="code", method_options=options).to_dict()
        return run_row({"run_id": "x", "config": config, "pruner": {"options": config["method_options"]},
                        "code_options": dict(get_method("molpeg").code_options)})

    assert row()["default_options"] and row()["options"] == "{}"
    assert row()["opt_ema_convention"] == "code"
    explicit = row(ema_convention="paper", beta=0.1)
    assert not explicit["default_options"] and explicit["options"] == '{"beta": 0.1, "ema_convention": "paper"}'
