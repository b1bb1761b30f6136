"""QM9 from PyG's ``QM9`` root (raw SDF + csv + uncharacterized.txt, or the preprocessed ``qm9_v3.pt``): the
same store as from ``qm9_3d.csv.xz``, chosen explicitly or as the fallback without the CSV, and a run id that
follows the files read while CSV runs keep their ids."""

from __future__ import annotations

import hashlib
import json
import lzma
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from molpeg_bench.benchmark.config import EXECUTION_FIELDS, RunConfig
from molpeg_bench.benchmark.data.identity import DATA_RULES, file_sha256, source_identity
from molpeg_bench.benchmark.data.qm9 import load_qm9, parse_qm9, parse_source_option
from molpeg_bench.benchmark.data.qm9_pyg import NO_SMILES, read_uncharacterized
from molpeg_bench.benchmark.tasks import load_3d_store
from molpeg_bench.results.settings import setting_fields
from tests.benchmark.data.test_data_3d import QM9_HEADER, QM9_ROWS
from tests.conftest import SHARED_DATA, needs_shared_data

HA_EV = 27.211386246
REF_HA = {"H": -0.500273, "C": -37.846772, "N": -54.583861, "O": -75.064579, "F": -99.718730}
PYG_CSV_HEADER = ("mol_id,A,B,C,mu,alpha,homo,lumo,gap,r2,zpve,u0,u298,h298,g298,cv,"
                  "u0_atom,u298_atom,h298_atom,g298_atom")
# PyG reads the lines [9:-2] of uncharacterized.txt: 9 header lines, the indices, a closing rule
UNCHARACTERIZED_HEADER = ["", "List of molecules among the 133885 GDB9 molecules for which the Corina generated",
                          "Cartesian coordinates and the B3LYP/6-31G(2df,p) equilibrium geometry lead to",
                          "different SMILES and InChI strings when parsed through the program Openbabel.",
                          "Given are the indices of these molecules in the database.", "", "=" * 60,
                          "#   Index      GDB17 SMILES      SMILES for B3LYP XYZ", "=" * 60]
FILLER = ("OO", "0 0 0 1.45 0 0")  # stands in for each uncharacterized molecule; must never be read


def qm9_rows(text: str) -> pd.DataFrame:
    """Rows of ``qm9_3d.csv.xz`` as the text of a CSV with its header."""
    from io import StringIO

    return pd.read_csv(StringIO(text), dtype={"xyz": str, "elements": str})


def write_csv(rows: pd.DataFrame, folder) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with lzma.open(folder / "qm9_3d.csv.xz", "wt") as f:
        rows.to_csv(f, index=False)


def molblock(elements: str, xyz: str, name: str) -> str:
    """A molblock of the atoms and coordinates (no bonds), as RDKit writes it."""
    from rdkit import Chem

    coords = np.array(xyz.split(), dtype=np.float64).reshape(-1, 3)
    mol = Chem.RWMol()
    for symbol in elements:
        mol.AddAtom(Chem.Atom(symbol))
    conformer = Chem.Conformer(len(elements))
    conformer.Set3D(True)
    for i, p in enumerate(coords):
        conformer.SetAtomPosition(i, p.tolist())
    mol.AddConformer(conformer)
    mol = mol.GetMol()
    mol.UpdatePropertyCache(strict=False)
    mol.SetProp("_Name", name)
    return Chem.MolToMolBlock(mol, kekulize=False)


def atomization_ev(row) -> float:
    return (row.U0 - sum(REF_HA[s] for s in row.elements)) * HA_EV


def write_pyg_raw(rows: pd.DataFrame, root) -> list[int]:
    """PyG's raw layout for QM9 indices 1..max(gdb_idx): the rows' molecules, a filler at every missing index,
    listed in uncharacterized.txt. Returns the filler indices."""
    raw = root / "raw"
    raw.mkdir(parents=True)
    by_idx = {int(r.gdb_idx): r for r in rows.itertuples()}
    blocks, lines, skipped = [], [PYG_CSV_HEADER], []
    for idx in range(1, max(by_idx) + 1):
        row = by_idx.get(idx)
        if row is None:
            skipped.append(idx)
            blocks.append(molblock(*FILLER, f"gdb_{idx}"))
            lines.append(f"gdb_{idx}," + ",".join(["-1.0"] * 19))
            continue
        blocks.append(molblock(row.elements, row.xyz, f"gdb_{idx}"))
        u0_atom_kcal = atomization_ev(row) / HA_EV * 627.5095
        values = [1.0, 2.0, 3.0, 0.5, 9.0, -0.3, 0.1, 0.4, 30.0, row.zpve, row.U0, row.U0 + 0.003, row.U0 + 0.004,
                  row.U0 - 0.02, 6.0, u0_atom_kcal, u0_atom_kcal - 2, u0_atom_kcal - 3, u0_atom_kcal + 20]
        lines.append(f"gdb_{idx}," + ",".join(repr(float(v)) for v in values))
    (raw / "gdb9.sdf").write_text("".join(b + "$$$$\n" for b in blocks))
    (raw / "gdb9.sdf.csv").write_text("\n".join(lines) + "\n")
    entries = [f"{idx:8d}          OO          OO          OO          1.0" for idx in skipped]
    (raw / "uncharacterized.txt").write_text("\n".join(UNCHARACTERIZED_HEADER + entries + ["=" * 60]) + "\n")
    return skipped


def write_pyg_processed(rows: pd.DataFrame, root) -> None:
    """PyG's ``qm9_v3.pt``: one dict per kept molecule, y [1, 19] in PyG's units and column order."""
    raw = root / "raw"
    raw.mkdir(parents=True)
    data = []
    for row in rows.itertuples():
        y = torch.arange(19, dtype=torch.float32)[None] * 1000  # every other column is obviously wrong
        y[0, 6], y[0, 7], y[0, 12] = row.zpve * HA_EV, row.U0 * HA_EV, atomization_ev(row)
        z = torch.tensor([{"H": 1, "C": 6, "N": 7, "O": 8, "F": 9}[s] for s in row.elements])
        pos = torch.tensor(np.array(row.xyz.split(), dtype=np.float64).reshape(-1, 3), dtype=torch.float32)
        data.append({"x": torch.zeros(len(z), 11), "edge_index": torch.zeros(2, 0, dtype=torch.long), "y": y,
                     "pos": pos, "z": z, "name": f"gdb_{row.gdb_idx}", "idx": int(row.gdb_idx) - 1})
    torch.save(data, raw / "qm9_v3.pt")


SYNTHETIC = "synthetic"


@pytest.fixture(params=[SYNTHETIC, "real"])
def rows(request) -> pd.DataFrame:
    """Methane and water at QM9 indices 1 and 3; or the first 59 rows of the real file (indices 1-60 but 58,
    the first uncharacterized molecule)."""
    if request.param == SYNTHETIC:
        return qm9_rows(QM9_HEADER + QM9_ROWS)
    path = SHARED_DATA / "qm9_3d.csv.xz"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    real = pd.read_csv(path, nrows=59, dtype={"xyz": str, "elements": str})
    assert 58 not in set(real.gdb_idx) and real.gdb_idx.iloc[-1] == 60
    return real


def csv_store(rows, tmp_path):
    write_csv(rows, tmp_path / "csv")
    return parse_qm9(tmp_path / "csv" / "qm9_3d.csv.xz")


def assert_same_molecules(store, reference, pos_atol: float) -> None:
    assert len(store) == len(reference)
    assert torch.equal(store.x, reference.x) and torch.equal(store.node_ptr, reference.node_ptr)
    assert torch.allclose(store.pos, reference.pos, rtol=0, atol=pos_atol)
    assert torch.allclose(store.y, reference.y, rtol=0, atol=1e-6)  # both targets, eV
    assert store.meta["gdb_idx"] == reference.meta["gdb_idx"]
    assert store.meta["task_names"] == ["U0", "zpve"] and store.meta["qm9_variant"] == "correct"


def test_pyg_raw_layout_gives_the_csv_store(rows, tmp_path):
    skipped = write_pyg_raw(rows, tmp_path / "QM9")
    text = (tmp_path / "QM9" / "raw" / "uncharacterized.txt").read_text()
    assert read_uncharacterized(tmp_path / "QM9" / "raw" / "uncharacterized.txt") == {
        int(x.split()[0]) - 1 for x in text.split("\n")[9:-2]} == {i - 1 for i in skipped}  # PyG's parsing
    store = load_qm9(tmp_path, tmp_path / "cache", source="pyg")
    assert_same_molecules(store, csv_store(rows, tmp_path), pos_atol=6e-5)  # the SDF keeps 4 decimals
    assert store.meta["qm9_source"] == "pyg-raw" and store.meta["n_skipped_uncharacterized"] == len(skipped) == 1
    assert set(store.meta["source_files"]) == {"gdb9.sdf", "gdb9.sdf.csv", "uncharacterized.txt"}
    assert len(store.smiles) == len(store) and NO_SMILES not in store.smiles
    # the same root named explicitly, and the cached store
    again = load_qm9(tmp_path / "elsewhere", tmp_path / "cache", source="pyg", pyg_root=tmp_path / "QM9")
    assert torch.equal(again.y, store.y) and again.meta["qm9_source"] == "pyg-raw"


def test_pyg_processed_file_gives_the_csv_store(rows, tmp_path):
    write_pyg_processed(rows, tmp_path / "QM9")
    store = load_qm9(tmp_path, tmp_path / "cache", source="pyg")
    assert_same_molecules(store, csv_store(rows, tmp_path), pos_atol=0)
    assert store.meta["qm9_source"] == "pyg-processed" and store.smiles == [NO_SMILES] * len(store)


def test_raw_layout_is_read_before_the_processed_file(tmp_path):
    rows = qm9_rows(QM9_HEADER + QM9_ROWS)
    write_pyg_raw(rows, tmp_path / "QM9")
    torch.save([{"z": torch.tensor([1])}], tmp_path / "QM9" / "raw" / "qm9_v3.pt")  # would fail if read
    assert load_qm9(tmp_path, tmp_path / "cache", source="pyg").meta["qm9_source"] == "pyg-raw"


def test_auto_falls_back_to_the_pyg_root_only_without_the_csv(tmp_path):
    rows = qm9_rows(QM9_HEADER + QM9_ROWS)
    write_csv(rows, tmp_path)
    write_pyg_raw(rows, tmp_path / "QM9")
    assert load_qm9(tmp_path, tmp_path / "cache").meta["qm9_source"] == "csv"
    assert load_qm9(tmp_path, tmp_path / "cache", source="pyg").meta["qm9_source"] == "pyg-raw"
    (tmp_path / "qm9_3d.csv.xz").unlink()
    assert load_qm9(tmp_path, tmp_path / "cache").meta["qm9_source"] == "pyg-raw"
    with pytest.raises(FileNotFoundError, match="qm9_3d.csv.xz"):
        load_qm9(tmp_path, tmp_path / "cache", source="csv")


def test_missing_or_invalid_layouts_are_one_line_errors_naming_the_path(tmp_path):
    def error(exc_type, **kwargs) -> str:
        with pytest.raises(exc_type) as info:
            load_qm9(tmp_path, tmp_path / "cache", **kwargs)
        assert "\n" not in str(info.value)
        return str(info.value)

    root = tmp_path / "QM9"
    message = error(FileNotFoundError, source="pyg")
    assert str(root) in message and "gdb9.sdf" in message and "qm9_v3.pt" in message
    message = error(FileNotFoundError)  # auto, neither source
    assert "qm9_3d.csv.xz" in message and str(root) in message
    (root / "raw").mkdir(parents=True)
    (root / "raw" / "gdb9.sdf").write_text("")
    assert "lacks the rest" in error(FileNotFoundError, source="pyg")
    assert "expected one of" in error(ValueError, source="npz")

    write_pyg_raw(qm9_rows(QM9_HEADER + QM9_ROWS), tmp_path / "short")
    csv = tmp_path / "short" / "raw" / "gdb9.sdf.csv"
    csv.write_text("\n".join(csv.read_text().splitlines()[:-1]) + "\n")  # one row short
    message = error(ValueError, source="pyg", pyg_root=tmp_path / "short")
    assert "gdb9.sdf" in message and "one row per molecule" in message

    (tmp_path / "v3" / "raw").mkdir(parents=True)
    torch.save({"z": torch.tensor([1])}, tmp_path / "v3" / "raw" / "qm9_v3.pt")
    assert "list of dicts" in error(ValueError, source="pyg", pyg_root=tmp_path / "v3")
    with pytest.raises(ValueError, match="'pyg:<root>'"):
        parse_source_option("pyg:")
    assert parse_source_option(None) == ("auto", None) and parse_source_option("pyg:/d/QM9")[1].name == "QM9"


def test_uncharacterized_indices_after_any_header(tmp_path):
    path = tmp_path / "uncharacterized.txt"
    path.write_text("\n\n\n\nList of molecules\n\n" + "=" * 9 + "\n#   Index   SMILES\n" + "=" * 9 + "\n"
                    "      58    NC(=N)C#N    NC(=N)C#N    [NH]C(=[NH2])C#N    6.036217\n"
                    "  133866    C1C2OC3    [CH]1O    C1[C@@H]2O    33.58735\n" + "=" * 9 + "\n")
    assert read_uncharacterized(path) == {57, 133_865}
    path.write_text("no indices here\n")
    with pytest.raises(ValueError, match="no molecule index found"):
        read_uncharacterized(path)


def test_run_id_follows_the_files_read_and_csv_ids_stay(tmp_path):
    rows = qm9_rows(QM9_HEADER + QM9_ROWS)
    write_csv(rows, tmp_path / "data")
    write_pyg_raw(rows, tmp_path / "data" / "QM9")
    config = RunConfig(dataset="qm9_u0", model="painn", data_dir=str(tmp_path / "data"))
    # the CSV id as it was computed before the PyG sources existed
    body = {k: v for k, v in config.to_dict().items() if k not in EXECUTION_FIELDS}
    body["data_identity"] = {"source_sha256": file_sha256(tmp_path / "data" / "qm9_3d.csv.xz"),
                             "featurizer": "qm9-z-pos-v1", "data_rules": DATA_RULES}
    csv_id = hashlib.sha256(json.dumps(body, sort_keys=True, default=list).encode()).hexdigest()[:20]
    assert config.run_id() == csv_id
    assert config.replace(data_options={"qm9_source": "csv"}).run_id() == csv_id
    pyg = config.replace(data_options={"qm9_source": "pyg"})
    assert pyg.run_id() != csv_id
    assert source_identity("qm9_u0", str(tmp_path / "data"), pyg.data_options)["qm9_source"] == "pyg-raw"
    # the root's path is not hashed, its content is
    shutil.copytree(tmp_path / "data" / "QM9", tmp_path / "copy")
    at_copy = config.replace(data_options={"qm9_source": f"pyg:{tmp_path / 'copy'}"})
    assert at_copy.run_id() == pyg.run_id()
    sdf = tmp_path / "copy" / "raw" / "gdb9.sdf"
    sdf.write_text(sdf.read_text().replace("1.4500", "1.4600"))  # the filler's bond length
    assert at_copy.run_id() != pyg.run_id() and config.run_id() == csv_id
    # without the CSV, the default falls back to the PyG root and is identified by it
    (tmp_path / "data" / "qm9_3d.csv.xz").unlink()
    assert config.run_id() == pyg.run_id()
    # the setting of a record leaves the location out too
    record = {"config": at_copy.to_dict() | {"data_options": {"qm9_source": "pyg:/x", "train_pool": 4}}}
    assert setting_fields(record)["data_options"] == {"train_pool": 4}
    assert "data_options" not in setting_fields({"config": config.replace(data_options={"qm9_source": "csv"})
                                                 .to_dict()})


def test_a_run_config_selects_the_source(tmp_path):
    rows = qm9_rows(QM9_HEADER + QM9_ROWS)
    write_csv(rows, tmp_path)
    write_pyg_processed(rows, tmp_path / "QM9")
    config = RunConfig(dataset="qm9_zpve", model="painn", data_dir=str(tmp_path))
    assert load_3d_store(config).meta["qm9_source"] == "csv"
    store = load_3d_store(config.replace(data_options={"qm9_source": "pyg"}))
    assert store.meta["qm9_source"] == "pyg-processed" and store.meta["task_names"] == ["zpve"]
    assert store.y[:, 0].tolist() == pytest.approx((rows.zpve * HA_EV).tolist(), abs=1e-6)
    with pytest.raises(ValueError, match="qm9_source 'sdf'"):
        load_3d_store(config.replace(data_options={"qm9_source": "sdf"}))


@needs_shared_data("qm9_3d.csv.xz")
def test_real_csv_run_ids_are_unchanged():
    """Ids of runs on the real CSV, computed before the PyG sources existed."""
    config = RunConfig(dataset="qm9_u0", model="painn", data_dir=str(SHARED_DATA))
    assert config.run_id() == "264a62ba1794fea0f081"
    assert config.replace(dataset="qm9_zpve", data_options={"qm9_source": "csv"}).run_id() == "f9940ecc53c74147dd48"
    pools = config.replace(data_options={"train_pool": 192, "eval_pool": 32})
    assert pools.run_id() == "6133d52a321cf5f517f8"
    assert pools.replace(data_options={"train_pool": 192, "eval_pool": 32, "qm9_source": "auto"}).run_id() == \
        "6133d52a321cf5f517f8"
