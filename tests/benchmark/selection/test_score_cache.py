"""Scores once per warm-up: the pruning ratios of one setting share a static method's budget-independent
results (scores, Craig's greedy orders), verified on load like every cache."""

from __future__ import annotations

import numpy as np
import pytest

from molpeg_bench.benchmark import run
from molpeg_bench.benchmark.config import RunConfig


def _config(method: str, prune_ratio: float, **options) -> RunConfig:
    return RunConfig(method=method, prune_ratio=prune_ratio, dataset="nci-tpsa", subsample=200, num_layers=2,
                     emb_dim=16, epochs=1, batch_size=32, method_options={"warmup_epochs": 2, **options})


@pytest.mark.parametrize("method", ["el2n_20", "craig", "deepfool"])
def test_ratios_share_the_scores_and_select_what_a_fresh_computation_selects(method, tmp_path, monkeypatch):
    monkeypatch.setenv("MOLPEG_CACHE_DIR", str(tmp_path / "shared"))
    first = run.run_finetune(_config(method, 0.6))
    second = run.run_finetune(_config(method, 0.2))
    assert [u["reused"] for u in first["context"]["scores"]] == [False]
    assert [u["reused"] for u in second["context"]["scores"]] == [True]
    monkeypatch.setenv("MOLPEG_CACHE_DIR", str(tmp_path / "fresh"))  # nothing cached: computed from scratch
    fresh = run.run_finetune(_config(method, 0.2))
    assert fresh["context"]["scores"][0]["reused"] is False
    assert fresh["selection"]["indices_sha256"] == second["selection"]["indices_sha256"]
    assert fresh["test_at_best"] == second["test_at_best"]


def test_other_options_do_not_share_and_balance_does(tmp_path, monkeypatch):
    monkeypatch.setenv("MOLPEG_CACHE_DIR", str(tmp_path))
    run.run_finetune(_config("el2n_20", 0.6))
    other = run.run_finetune(_config("el2n_20", 0.6, normalize_by_valid=True))
    assert other["context"]["scores"][0]["reused"] is False


def test_a_damaged_score_file_is_set_aside_and_recomputed(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("MOLPEG_CACHE_DIR", str(tmp_path))
    first = run.run_finetune(_config("el2n_20", 0.6))
    (path,) = (tmp_path / "scores").glob("*/*.npz")
    data = bytearray(path.read_bytes())
    data[-200:-100] = bytes(100)  # same size, different content
    path.write_bytes(bytes(data))
    again = run.run_finetune(_config("el2n_20", 0.6))
    assert again["context"]["scores"][0]["reused"] is False
    assert again["selection"]["indices_sha256"] == first["selection"]["indices_sha256"]
    assert any(str(path) in r.getMessage() for r in caplog.records)
    assert list(path.parent.glob("*.corrupt-*"))
    np.testing.assert_equal(again["test_at_best"], first["test_at_best"])
