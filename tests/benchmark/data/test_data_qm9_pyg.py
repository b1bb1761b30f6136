"""QM9 from PyG's ``QM9`` root (raw SDF + csv + uncharacterized.txt, or the preprocessed ``qm9_v3.pt``): the
same store as from ``qm9_3d.csv.xz``, chosen explicitly or as the fallback without the CSV, and a run id that
follows the files read while CSV runs keep their ids."""

from __future__ import annotations

import hashlib
import json
import shutil

import pandas as pd
import pytest
import torch

from molpeg_bench.benchmark.config import EXECUTION_FIELDS, RunConfig
from molpeg_bench.benchmark.data.identity import DATA_RULES, file_sha256, source_identity
from molpeg_bench.benchmark.data.qm9 import load_qm9, parse_qm9, parse_source_option
from molpeg_bench.benchmark.data.qm9_pyg import NO_SMILES, read_uncharacterized
from molpeg_bench.benchmark.tasks import load_3d_store
from molpeg_bench.results.settings import setting_fields
from tests.support.data import SHARED_DATA, needs_shared_data
from tests.support.qm9 import HA_EV, QM9_HEADER, QM9_ROWS, qm9_rows, write_csv, write_pyg_processed, write_pyg_raw

SYNTHETIC = "synthetic"


@pytest.fixture(params=[SYNTHETIC, pytest.param("real", marks=needs_shared_data("qm9_3d.csv.xz"))])
def rows(request) -> pd.DataFrame:
    """Methane and water at QM9 indices 1 and 3; or the first 59 rows of the real file (indices 1-60 but 58,
    the first uncharacterized molecule)."""
    if request.param == SYNTHETIC:
        return qm9_rows(QM9_HEADER + QM9_ROWS)
    real = pd.read_csv(SHARED_DATA / "qm9_3d.csv.xz", nrows=59, dtype={"xyz": str, "elements": str})
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
