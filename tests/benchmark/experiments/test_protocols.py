"""QM9 fine-tuning protocols (GeoSSL, MolScaling) and the per-step warm-up + cosine schedule."""

from __future__ import annotations

import math

import pytest

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.experiments import build_grid
from molpeg_bench.benchmark.experiments.protocols import protocol_of, with_protocol
from molpeg_bench.benchmark.run import run_finetune
from molpeg_bench.benchmark.tasks import warmup_cosine_factor


def test_warmup_cosine_factor_hand_values():
    assert warmup_cosine_factor(0) == pytest.approx(1e-4)
    assert warmup_cosine_factor(4_999) == pytest.approx(0.5)
    assert warmup_cosine_factor(9_999) == warmup_cosine_factor(10_000) == 1.0
    assert warmup_cosine_factor(205_000) == pytest.approx(0.5)  # halfway through the 390k cosine steps
    assert warmup_cosine_factor(400_000) == pytest.approx(0.0) and warmup_cosine_factor(500_000) == pytest.approx(0.0)
    assert warmup_cosine_factor(3, warmup=2, total=6) == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))


def test_molscaling_fields_and_the_protocol_each_record_claims():
    grid = build_grid("table2", "ci")
    assert {protocol_of(c) for c in grid} == {"geossl"}
    u0 = next(c for c in grid if c.dataset == "qm9_u0")
    zpve = next(c for c in grid if c.dataset == "qm9_zpve")
    moved = with_protocol(u0.replace(checkpoint="enc.pt"), "molscaling")
    assert (moved.regression_loss, moved.batch_size, moved.lr_schedule, moved.lr, moved.checkpoint) == \
        ("mse", 256, "warmup_cosine", 1e-5, None)
    assert with_protocol(zpve, "molscaling").lr == zpve.lr  # 1e-5 is forced for U0 only
    assert protocol_of(moved) == "molscaling"
    assert protocol_of(moved.replace(lr=5e-4)) == "custom"
    assert protocol_of(u0.replace(regression_loss="mse")) == "custom"
    assert {protocol_of(c) for c in build_grid("table2", "ci", protocol="molscaling")} == {"molscaling"}
    assert protocol_of(RunConfig(dataset="hiv3d", model="schnet")) == "molpeg"
    with pytest.raises(ValueError, match="applies to grid 'table2' only"):
        build_grid("table3", "ci", protocol="molscaling")
    with pytest.raises(ValueError, match="protocol must be one of"):
        with_protocol(u0, "schnetpack")


def test_per_step_schedule_sets_the_rate_of_every_batch():
    config = RunConfig(dataset="nci-tpsa", subsample=200, method="infobatch", prune_ratio=0.5, num_layers=2,
                       emb_dim=8, epochs=3, batch_size=16, lr=1e-3, lr_schedule="warmup_cosine", num_threads=1)
    record = run_finetune(config)
    steps = 0
    for epoch in record["epochs"]:
        steps += math.ceil(epoch["n_trained"] / config.batch_size)
        assert epoch["lr"] == pytest.approx(1e-3 * warmup_cosine_factor(steps))  # the next step's rate
    assert steps > 3 * 4  # several steps per epoch: per step, not per epoch
