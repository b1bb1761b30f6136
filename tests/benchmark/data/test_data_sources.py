import gzip

import numpy as np
import pytest

from molpeg_bench.benchmark.data import load_dataset, make_split
from molpeg_bench.benchmark.data.sources import parse_pcba
from molpeg_bench.benchmark.data.splits import murcko_scaffold, random_split
from tests.support.data import SHARED_DATA, needs_shared_data


def _write_pcba_fixture(path):
    """MoleculeNet pcba.csv.gz layout: 128 PCBA-* columns, mol_id, smiles; empty = missing."""
    tasks = [f"PCBA-{1000 + i}" for i in range(128)]
    rows = []
    for m in range(6):
        values = []
        for t in range(128):
            if t < 92:
                values.append("" if (m + t) % 5 == 0 else str((m * t) % 2))  # 20 % missing
            else:
                values.append("" if m < 5 else "1")  # 83 % missing -> filtered out
        rows.append(",".join(values + [f"CID{m}", ["CCO", "CCN", "CCC", "c1ccccc1", "CO", "CN"][m]]))
    path.write_bytes(gzip.compress(("\n".join([",".join(tasks + ["mol_id", "smiles"])] + rows) + "\n").encode()))
    return tasks


def test_pcba_parser_128_and_92_task_filter(tmp_path):
    path = tmp_path / "pcba.csv.gz"
    tasks = _write_pcba_fixture(path)
    full = parse_pcba(path, pcba_tasks=128)
    assert full.task_names == tasks and full.labels.shape == (6, 128)
    assert np.isnan(full.labels[0, 0]) and full.labels[1, 1] == 1.0
    filtered = parse_pcba(path, pcba_tasks=92)
    assert filtered.task_names == tasks[:92] and filtered.labels.shape == (6, 92)
    with pytest.raises(ValueError, match="pcba_tasks"):
        parse_pcba(path, pcba_tasks=7)


def test_pcba_loads_through_the_cache_from_a_data_dir(tmp_path):
    _write_pcba_fixture(tmp_path / "pcba.csv.gz")
    store = load_dataset("pcba", data_dir=tmp_path, download=False, pcba_tasks=92)
    assert len(store) == 6 and store.num_tasks == 92 and store.meta["metric"] == "average_precision"


def test_offline_error_names_the_file_and_where(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"muv\.csv\.gz.*" + str(tmp_path)):
        load_dataset("muv", data_dir=tmp_path, download=False)
    with pytest.raises(ValueError, match="unknown dataset"):
        load_dataset("tox22", data_dir=tmp_path)


def test_demo_dataset_is_bundled_with_rdkit():
    store = load_dataset("nci-tpsa", download=False)
    assert len(store) + store.meta["n_skipped_unparsable"] == 4999 and store.num_tasks == 1
    assert len(store) > 4800
    assert 0.2 < float(store.y.mean()) < 0.8


def test_random_split_is_seeded_and_uses_the_official_cut_points():
    s = random_split(41127, seed=42)
    assert s.sizes() == {"train": 32901, "valid": 4112, "test": 4114}
    assert np.array_equal(s.train, random_split(41127, seed=42).train)
    assert not np.array_equal(s.train, random_split(41127, seed=1).train)
    assert len(np.unique(np.concatenate([s.train, s.valid, s.test]))) == 41127


def test_scaffold_split_keeps_scaffolds_together():
    smiles = ["c1ccccc1C"] * 8 + ["C1CCCCC1O"] * 1 + ["c1ccncc1CC"] * 1
    split = make_split("scaffold", smiles)
    assert list(split.train) == list(range(8))
    assert murcko_scaffold("c1ccccc1CCO") == "c1ccccc1"


@pytest.mark.slow
@needs_shared_data("hiv.csv.gz")
def test_real_hiv_keeps_all_41127_molecules():
    store = load_dataset("hiv", data_dir=SHARED_DATA, download=False)
    assert len(store) == 41127 and store.meta["n_unsanitized_kept"] == 7
    assert int(np.nansum(store.y.numpy())) == 1443


@pytest.mark.slow
@needs_shared_data("muv.csv.gz")
def test_real_muv_has_17_tasks_with_missing_labels():
    store = load_dataset("muv", data_dir=SHARED_DATA, download=False)
    y = store.y.numpy()
    assert y.shape == (93127, 17) and int(np.nansum(y)) == 489
    assert 0.83 < np.isnan(y).mean() < 0.85


def test_ogb_layout_is_found_in_the_data_dir(tmp_path):
    mapping = tmp_path / "hiv" / "mapping"
    mapping.mkdir(parents=True)
    mapping.joinpath("mol.csv.gz").write_bytes(gzip.compress(b"HIV_active,smiles,mol_id\n0,CCO,1\n1,c1ccccc1,2\n"))
    store = load_dataset("ogbg-molhiv", data_dir=tmp_path, download=False)
    assert store.smiles == ["CCO", "c1ccccc1"] and store.y[:, 0].tolist() == [0.0, 1.0]
