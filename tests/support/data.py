"""Small labelled molecule tables, built in memory or written as the files a dataset is read from, and the
gate for tests that need the real datasets."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(os.environ.get("MOLPEG_DATA_DIR", Path(__file__).resolve().parents[3] / "shared" / "data"))

SMILES = ["CCO", "c1ccccc1O", "C[C@H](N)C(=O)O", "CC(=O)Oc1ccccc1C(=O)O", "C1CCNCC1", "ClC(Cl)Cl",
          "c1ccc2ccccc2c1", "CC#N", "O=C=O", "CN1CCC[C@H]1c1cccnc1", "OCC(O)CO", "c1ccncc1"]

N_ROWS = 60  # 48 / 6 / 6 molecules in the random split, both classes in each


def make_small_store():
    """120 molecules, 2 tasks, every 7th label of task 2 missing."""
    from molpeg_bench.benchmark.data import featurize_smiles

    rng = np.random.default_rng(0)
    smiles = SMILES * 10
    y = rng.integers(0, 2, size=(len(smiles), 2)).astype(np.float32)
    y[::7, 1] = np.nan
    return featurize_smiles(smiles, y, {"metric": "roc_auc", "dataset": "toy"})


def needs_shared_data(*names: str):
    """The ``shared_data`` mark naming the files of the real datasets a test reads; the test is skipped where one
    is not in ``SHARED_DATA`` (conftest's ``pytest_runtest_setup``)."""
    return pytest.mark.shared_data(*names)


def missing_shared_data(names) -> list[Path]:
    return [SHARED_DATA / name for name in names if not (SHARED_DATA / name).is_file()]


def write_hiv(folder: Path, rows: list[str] | None = None, header: str = "smiles,HIV_active") -> Path:
    """A constructed ``hiv.csv`` (labels alternate 0/1 unless ``rows`` are given)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = rows if rows is not None else [f"{SMILES[i % len(SMILES)]},{i % 2}" for i in range(N_ROWS)]
    path = folder / "hiv.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def write_multitask_csv(folder: Path) -> Path:
    """``assays.csv``: 96 molecules under ``Smiles``, three binary tasks with a quarter of their labels missing,
    and a text column that is not a task."""
    import pandas as pd

    smiles = SMILES * 8
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"Smiles": smiles})
    for t in range(3):
        y = rng.integers(0, 2, len(smiles)).astype(float)
        y[rng.random(len(y)) < 0.25] = np.nan
        frame[f"task{t}"] = y
    frame["comment"] = "text, not a task"
    path = folder / "assays.csv"
    frame.to_csv(path, index=False)
    return path
