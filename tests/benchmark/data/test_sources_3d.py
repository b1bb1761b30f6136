"""A 3D dataset is one registered source: a toy source, registered here, goes from a run config to its data,
split, task, data identity and run record through the generic code, which names no dataset."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.data import sources_3d
from molpeg_bench.benchmark.data.identity import DATA_RULES
from molpeg_bench.benchmark.data.sources_3d import Source3D, TaskSpec, get_3d_source, register_3d_source
from molpeg_bench.benchmark.data.splits import random_split
from molpeg_bench.benchmark.run import load_run_data, run_finetune
from molpeg_bench.benchmark.tasks import RegressionTask, make_task, task_split
from molpeg_bench.fileio.checksums import file_sha256

TINY_PAINN = dict(model="painn", num_layers=1, emb_dim=8, model_options={"num_rbf": 4, "readout_hidden": 4},
                  batch_size=16, eval_batch_size=64, epochs=2)


@pytest.fixture
def toy(tmp_path, monkeypatch, small_store):
    """``toy3d``: 120 molecules with random coordinates, regression on the atom count (in atoms), a fixed
    80/10/10 split, a raw file whose content is its identity, and two record fields."""
    monkeypatch.setattr(sources_3d, "SOURCES_3D", dict(sources_3d.SOURCES_3D))  # registered for this test only
    raw = tmp_path / "toy3d.txt"
    raw.write_text("120 toy molecules\n")
    gen = torch.Generator().manual_seed(0)
    n_atoms = (small_store.node_ptr[1:] - small_store.node_ptr[:-1]).float()
    store = dataclasses.replace(small_store.with_positions(torch.randn(len(small_store.x), 3, generator=gen)),
                                y=(n_atoms + 0.1 * torch.randn(len(small_store), generator=gen))[:, None],
                                meta={"dataset": "toy3d", "toy_layout": "hand-made", "n_molecules": 120})
    requests = []

    def load(request):
        requests.append(request)
        return store

    def identity(request):
        return {"source_sha256": file_sha256(raw), "featurizer": "toy-v1", "toy_grid": request.options.get("grid")}

    source = register_3d_source(Source3D(
        "toy3d", "toy molecules with random coordinates", load, identity, TaskSpec("regression", "mae", "atoms"),
        split=lambda n, seed: random_split(n, seed), record={"toy_version": 1}, record_meta=("toy_layout",)))
    return source, store, raw, requests


def test_a_registered_source_is_found_and_names_are_unique(toy):
    source, *_ = toy
    assert get_3d_source("toy3d") is source and get_3d_source("hiv") is None
    for name in ("toy3d", "hiv", "qm9_u0"):
        with pytest.raises(ValueError, match="registered already"):
            register_3d_source(dataclasses.replace(source, name=name))
    with pytest.raises(ValueError, match="eV"):
        TaskSpec("regression", "mae_mev", "U0", "Hartree")


def test_run_config_to_data_split_task_and_identity(toy):
    _, store, raw, requests = toy
    config = RunConfig(dataset="toy3d", data_options={"train_pool": 50, "eval_pool": 5, "grid": "a"},
                       subsample=100, split_seed=3, **TINY_PAINN)
    assert load_run_data(config) is store
    assert (requests[-1].dataset, requests[-1].options["grid"], requests[-1].subsample,
            requests[-1].split_seed) == ("toy3d", "a", 100, 3)
    whole = random_split(len(store), 3)
    split = task_split(config, store)
    assert np.array_equal(split.train, whole.train[:50]) and np.array_equal(split.valid, whole.valid[:5])
    task = make_task(config, store)
    y = store.y[torch.as_tensor(whole.train)].numpy().astype(np.float64)[:, 0]  # the whole training part
    assert isinstance(task, RegressionTask) and task.metric == "mae" and task.higher_is_better is False
    assert (task.mean, task.std) == pytest.approx((y.mean(), y.std(ddof=1)))

    first = config.run_id()
    assert config.replace(data_options={"train_pool": 50, "eval_pool": 5, "grid": "b"}).run_id() != first
    raw.write_text("120 toy molecules, recomputed\n")  # new content under the same name: a new run
    assert config.run_id() != first
    from molpeg_bench.benchmark.data.identity import source_identity

    assert source_identity("toy3d", None, {"grid": "a"}) == {
        "source_sha256": file_sha256(raw), "featurizer": "toy-v1", "toy_grid": "a", "data_rules": DATA_RULES}


def test_a_run_on_the_source_records_its_fields(toy):
    config = RunConfig(dataset="toy3d", method="random", prune_ratio=0.5, data_options={"train_pool": 40},
                       **TINY_PAINN)
    record = run_finetune(config)
    assert record["status"] == "complete" and record["metric"] == "mae" and record["task"]["type"] == "regression"
    geometry = record["geometry"]
    assert (geometry["toy_version"], geometry["toy_layout"]) == (1, "hand-made")
    assert geometry["qm9_variant"] is None and geometry["conformer_mode"] is None  # the other sources' fields
    assert geometry["subset_sizes"] == {"train": 40, "valid": 12, "test": 12}
    assert record["dataset"]["split_sizes"]["train"] == 40 and record["epochs"][-1]["n_trained"] == 20
