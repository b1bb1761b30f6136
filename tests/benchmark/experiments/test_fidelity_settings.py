"""The paper-faithful settings around MolPeg: scaffold-split tie order, the Figure 3 / Figure 6 grids and
the paper preset's guards (92 PCBA tasks, pretraining required unless refused explicitly)."""

from __future__ import annotations

import numpy as np

from molpeg_bench.benchmark.cli import main
from molpeg_bench.benchmark.data.splits import scaffold_split
from molpeg_bench.benchmark.experiments import build_grid


def test_scaffold_split_orders_equal_size_sets_as_hu_et_al():
    # scaffold sets: acyclic {0, 4, 8, 9}; benzene {1, 5}; cyclohexane {2, 6}; pyridine {3, 7}. The
    # three sets of size 2 tie; Hu et al. sort by (size, first index) descending, so the one that appears
    # first (benzene, first index 1) comes last and, with 8 training slots taken, falls into test.
    smiles = ["CCO", "Oc1ccccc1", "OC1CCCCC1", "c1ccncc1", "CCN", "Nc1ccccc1", "NC1CCCCC1", "Cc1ccncc1",
              "CCC", "CCCl"]
    split = scaffold_split(smiles)
    np.testing.assert_array_equal(split.train, [0, 2, 3, 4, 6, 7, 8, 9])
    assert len(split.valid) == 0
    np.testing.assert_array_equal(split.test, [1, 5])


def test_figure3_grid_runs_the_three_signed_criteria_at_both_ratios():
    grid = build_grid("fig3", "smoke")
    cells = {(c.method_options.get("criterion", "absolute"), c.prune_ratio) for c in grid}
    assert cells == {(c, r) for c in ("easy", "hard", "absolute") for r in (0.4, 0.6)}
    assert {c.dataset for c in grid} == {"hiv"} and {c.method for c in grid} == {"molpeg"}


def test_figure6_grid_runs_both_ema_conventions():
    grid = build_grid("fig6", "smoke")
    cells = {(c.method_options.get("ema_convention", "paper"), c.method_options.get("beta", 0.5)) for c in grid}
    betas = (0.001, 0.01, 0.1, 0.9)
    assert cells == {("paper", 0.5)} | {(conv, b) for conv in ("paper", "code") for b in betas}
    assert len(grid) == len(cells) * 3  # three pruning ratios, one seed


def test_paper_preset_sweep_requires_a_checkpoint_or_no_pretraining(capsys, caplog):
    assert main(["sweep", "table1", "--preset", "paper", "--dry-run"]) == 2
    assert "--no-pretraining" in caplog.text and "--checkpoint" in caplog.text
    assert capsys.readouterr().out == ""  # nothing listed
    assert main(["sweep", "table1", "--preset", "paper", "--dry-run", "--no-pretraining"]) == 0
    from molpeg_bench.benchmark.experiments import TABLE1_METHODS

    lines = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("(")]
    assert len(lines) == 2 * 5 * (1 + len(TABLE1_METHODS) * 6)  # HIV + PCBA, 5 seeds, whole + methods x ratios
    assert all(line.endswith("pcba_tasks=92") for line in lines if " pcba " in line)
    assert main(["sweep", "table1", "--preset", "paper", "--dry-run", "--no-pretraining",
                 "--checkpoint", "x.pt"]) == 2
    assert main(["sweep", "table1", "--preset", "smoke", "--dry-run"]) == 0  # other presets unchanged


def test_paper_preset_uses_the_92_task_pcba_filter():
    grid = build_grid("table1", "paper")
    assert {c.pcba_tasks for c in grid if c.dataset == "pcba"} == {92}


def test_figure3_criteria_each_train_more_distinct_molecules_than_the_budget():
    from molpeg_bench.benchmark.config import RunConfig
    from molpeg_bench.benchmark.run import run_finetune

    tiny = dict(dataset="nci-tpsa", subsample=300, num_layers=2, emb_dim=16, dropout=0.2, epochs=4, batch_size=32)
    for criterion in ("easy", "hard", "absolute"):
        record = run_finetune(RunConfig(method="molpeg", prune_ratio=0.6, method_options={"criterion": criterion},
                                        **tiny))
        k = record["pruner"]["k"]
        assert record["pruner"]["distinct_trained"] == 240 > k == 96  # the whole training split, rotated
        assert [e["distinct_scored_before"] for e in record["epochs"]] == [0, 96, 192, 240]
