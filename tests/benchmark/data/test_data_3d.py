"""3D data: QM9 units and split, coordinates in the graph store, the conformer cascade."""

from __future__ import annotations

import lzma

import numpy as np
import pytest
import torch

from molpeg_bench.benchmark.data import conformers as conf
from molpeg_bench.benchmark.data import featurize_smiles
from molpeg_bench.benchmark.data.conformers import ConformerOptions, molecule_conformer
from molpeg_bench.benchmark.data.graph_store import GraphStore
from molpeg_bench.benchmark.data.hiv3d import add_conformers
from molpeg_bench.benchmark.data.qm9 import HARTREE_EV, load_qm9, parse_qm9, qm9_split, select_target
from molpeg_bench.benchmark.data.sources_3d import standardisation
from tests.support.data import SHARED_DATA, needs_shared_data
from tests.support.qm9 import QM9_HEADER, QM9_ROWS


@pytest.fixture
def tiny_qm9(tmp_path):
    path = tmp_path / "qm9_3d.csv.xz"
    with lzma.open(path, "wt") as f:
        f.write(QM9_HEADER + QM9_ROWS)
    return path


def test_qm9_targets_are_atomization_energy_and_zpve_in_ev(tiny_qm9):
    store = parse_qm9(tiny_qm9)
    # methane: U0 - (ref_C + 4 ref_H) = -40.47893 - (-37.846772 - 4 * 0.500273) = -0.631066 Ha
    assert store.y[0, 0].item() == pytest.approx(-0.631066 * HARTREE_EV, abs=1e-4)
    assert store.y[0, 0].item() == pytest.approx(-17.1722, abs=1e-3)
    # water: -76.404702 - (-75.064579 - 2 * 0.500273) = -0.339577 Ha
    assert store.y[1, 0].item() == pytest.approx(-0.339577 * HARTREE_EV, abs=1e-4)
    assert store.y[1, 1].item() == pytest.approx(0.021375 * HARTREE_EV, rel=1e-6)
    batch = store.batch([1])
    assert batch.z.tolist() == [8, 1, 1]
    assert torch.allclose(batch.pos[1], torch.tensor([0.96, 0.0, 0.0]))
    assert select_target(store, "zpve").y.shape == (2, 1)
    with pytest.raises(ValueError, match="unknown QM9 target"):
        select_target(store, "gap")


def test_qm9_split_sizes_and_standardisation():
    split = qm9_split()
    assert split.sizes() == {"train": 110_000, "valid": 10_000, "test": 10_831}
    assert len(np.unique(np.concatenate([split.train, split.valid, split.test]))) == 130_831
    assert np.array_equal(split.test[:3], np.random.RandomState(42).permutation(130_831)[120_000:120_003])
    mean, std = standardisation(np.array([1.0, 2.0, 3.0]))
    assert (mean, std) == (2.0, 1.0)  # unbiased: sqrt(2 / 2)


@needs_shared_data("qm9_3d.csv.xz")
def test_qm9_real_split_pins_first_test_ids_and_statistics():
    store = load_qm9(SHARED_DATA)
    assert len(store) == 130_831 and store.pos.shape == (2_359_210, 3)
    split = qm9_split()
    assert [store.meta["gdb_idx"][i] for i in split.test[:3]] == [24660, 21361, 31451]
    mean, std = standardisation(store.y[split.train, 0])
    assert mean == pytest.approx(-76.144, abs=1e-3) and std == pytest.approx(10.315, abs=1e-3)
    mean, std = standardisation(store.y[split.train, 1])
    assert mean == pytest.approx(4.0587, abs=1e-4) and std == pytest.approx(0.9017, abs=1e-4)


def test_store_positions_follow_batch_subset_and_save(tmp_path, small_store):
    pos = torch.arange(len(small_store.x) * 3, dtype=torch.float32).reshape(-1, 3)
    store = small_store.with_positions(pos, {"conformer_mode": "test"})
    nodes = store.node_ptr
    batch = store.batch([3, 0])
    assert torch.equal(batch.pos, torch.cat([pos[nodes[3]:nodes[4]], pos[nodes[0]:nodes[1]]]))
    sub = store.subset([5, 2])
    assert torch.equal(sub.pos, torch.cat([pos[nodes[5]:nodes[6]], pos[nodes[2]:nodes[3]]]))
    store.save(tmp_path / "s.pt")
    assert torch.equal(GraphStore.load(tmp_path / "s.pt").pos, pos)
    with pytest.raises(ValueError, match="pos must have shape"):
        small_store.with_positions(torch.zeros(3, 3))


def test_conformer_keeps_heavy_atom_order_and_3d():
    pos, tier = molecule_conformer("OCC(=O)N", ConformerOptions(mode="etkdg_mmff"))
    assert tier == 1 and pos.shape == (5, 3) and np.abs(pos[:, 2]).max() > 0.1
    d = np.linalg.norm(pos[2] - pos[3])  # C=O
    assert 1.15 < d < 1.30
    again, _ = molecule_conformer("OCC(=O)N", ConformerOptions(mode="etkdg_mmff"))
    assert np.array_equal(pos, again)  # seeded


@pytest.mark.parametrize("smiles", ["C(C)(C)(C)(C)C", "c1cccc1", "C" * 150])
def test_conformer_cascade_ends_in_2d_for_molecules_that_fail(smiles):
    """Unsanitizable molecules (pentavalent carbon, a non-kekulizable ring) and > 400 atoms with H."""
    pos, tier = molecule_conformer(smiles, ConformerOptions(mode="etkdg"))
    assert tier == 3 and np.all(pos[:, 2] == 0) and len(pos) == smiles.count("C") + smiles.count("c")


def test_conformer_cascade_tiers_counted_in_metadata(monkeypatch):
    real = conf._embed_3d

    def first_attempt_fails(mol_h, options, random_coords):
        return real(mol_h, options, random_coords) if random_coords else None

    monkeypatch.setattr(conf, "_embed_3d", first_attempt_fails)
    assert molecule_conformer("CCO", ConformerOptions(mode="etkdg"))[1] == 2
    monkeypatch.setattr(conf, "_embed_3d", real)
    smiles = ["CCO", "c1ccccc1", "C(C)(C)(C)(C)C"]
    store = featurize_smiles(smiles, np.zeros((3, 1)), {"dataset": "toy"})
    out = add_conformers(store, ConformerOptions(mode="etkdg"))
    assert out.meta["conformer_tiers"] == {"etkdg": 2, "etkdg_random_coords": 0, "2d_coords": 1}
    assert out.meta["conformer_tier"] == [1, 1, 3] and len(out) == 3 and out.pos.shape == (len(out.x), 3)
    dropped = add_conformers(store, ConformerOptions(mode="etkdg"), failure="drop")
    assert dropped.smiles == ["CCO", "c1ccccc1"] and dropped.meta["n_dropped_2d"] == 1
    with pytest.raises(ValueError, match="failure policy"):
        add_conformers(store, ConformerOptions(mode="etkdg"), failure="skip")
    with pytest.raises(ValueError, match="conformer mode"):
        ConformerOptions(mode="uff")


def test_parallel_generation_equals_serial():
    from molpeg_bench.benchmark.data.conformers import generate_conformers

    smiles = ["CCO", "c1ccccc1O", "CC(=O)Oc1ccccc1C(=O)O", "C(C)(C)(C)(C)C"]
    serial, tiers = generate_conformers(smiles, ConformerOptions(mode="etkdg"), processes=1)
    parallel, tiers2 = generate_conformers(smiles, ConformerOptions(mode="etkdg"), processes=2)
    assert all(np.array_equal(a, b) for a, b in zip(serial, parallel, strict=True))
    assert tiers.tolist() == tiers2.tolist() == [1, 1, 1, 3]
