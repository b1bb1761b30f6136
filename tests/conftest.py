"""Shared fixtures: a private cache dir per test session and small labelled SMILES tables."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(os.environ.get("MOLPEG_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))

SMILES = ["CCO", "c1ccccc1O", "C[C@H](N)C(=O)O", "CC(=O)Oc1ccccc1C(=O)O", "C1CCNCC1", "ClC(Cl)Cl",
          "c1ccc2ccccc2c1", "CC#N", "O=C=O", "CN1CCC[C@H]1c1cccnc1", "OCC(O)CO", "c1ccncc1"]


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("MOLPEG_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture
def small_store():
    return make_small_store()


def make_small_store():
    """120 molecules, 2 tasks, every 7th label of task 2 missing (also usable outside a fixture)."""
    from molpeg_bench.benchmark.data import featurize_smiles

    rng = np.random.default_rng(0)
    smiles = SMILES * 10
    y = rng.integers(0, 2, size=(len(smiles), 2)).astype(np.float32)
    y[::7, 1] = np.nan
    return featurize_smiles(smiles, y, {"metric": "roc_auc", "dataset": "toy"})


def needs_shared_data(name: str):
    return pytest.mark.skipif(not (SHARED_DATA / name).is_file(), reason=f"{SHARED_DATA / name} not present")
