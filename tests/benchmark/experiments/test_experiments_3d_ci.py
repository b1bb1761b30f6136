"""The ci Table 3 can succeed: every split of its HIV-3D subset holds actives and inactives."""

import pytest
import torch

from molpeg_bench.benchmark.experiments import build_grid
from molpeg_bench.benchmark.run import load_run_data
from molpeg_bench.benchmark.tasks import task_split
from tests.support.data import needs_shared_data


@pytest.mark.slow
@needs_shared_data("hiv.csv.gz")
def test_ci_table3_splits_hold_both_classes():
    config = build_grid("table3", "ci")[0]
    store = load_run_data(config)
    split = task_split(config, store)
    for name, idx in (("train", split.train), ("valid", split.valid), ("test", split.test)):
        labels = set(store.y[torch.as_tensor(idx)].flatten().tolist())
        assert labels == {0.0, 1.0}, f"{name} split of the ci HIV-3D subset holds only {labels}"
