"""Bad input ends in one clear error (exit code 2) naming the input and what was expected, and nothing is
written to the store: data files, arguments, checkpoints and the store itself."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import pytest
import torch

from molpeg_bench.benchmark.cli import main
from molpeg_bench.benchmark.models import GINConfig, GINEncoder
from tests.support.data import N_ROWS, SMILES, write_hiv


def cli(caplog, tmp_path: Path, *args: str) -> tuple[int, list[str]]:
    """Run the command line; returns the exit code and the error lines it logged."""
    caplog.clear()
    with caplog.at_level(logging.INFO):
        code = main(list(args))
    return code, [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def run_args(tmp_path: Path, *extra: str) -> list[str]:
    return ["run", "--preset", "ci", "--dataset", "hiv", "--data-dir", str(tmp_path / "data"),
            "--store", str(tmp_path / "store"), "--epochs", "1", *extra]


def assert_fails(caplog, tmp_path: Path, args: list[str], *named: str) -> str:
    """Exit code 2, one error line naming every string in ``named``, nothing in the store."""
    code, errors = cli(caplog, tmp_path, *args)
    assert code == 2 and len(errors) == 1, errors
    for text in named:
        assert text in errors[0], (text, errors[0])
    assert not list((tmp_path / "store").glob("*.json"))
    return errors[0]


@pytest.mark.parametrize("rows,named", [
    ([f"{s},{'yes' if i == 3 else i % 2}" for i, s in enumerate(SMILES * 4)], ["'yes'", "HIV_active", "line(s) 5"]),
    ([f"{'' if i == 2 else s},{i % 2}" for i, s in enumerate(SMILES * 4)], ["empty SMILES", "line(s) 4"]),
    ([f"{s},{i % 2}" for i, s in enumerate(SMILES[:5])], ["5 molecules are too few", "valid 0"]),
])
def test_malformed_table_names_the_file_and_row(caplog, tmp_path, rows, named):
    path = write_hiv(tmp_path / "data", rows)
    message = assert_fails(caplog, tmp_path, run_args(tmp_path), *named)
    assert str(path) in message or "hiv:" in message


def test_missing_task_column_and_empty_file(caplog, tmp_path):
    path = write_hiv(tmp_path / "data", header="smiles,label")
    assert_fails(caplog, tmp_path, run_args(tmp_path), str(path), "['HIV_active'] not found")
    path.write_text("")
    assert_fails(caplog, tmp_path, run_args(tmp_path), str(path), "the file is empty")
    path.write_text("smiles,HIV_active\n")
    assert_fails(caplog, tmp_path, run_args(tmp_path), str(path), "no rows")


def test_muv_without_task_columns(caplog, tmp_path):
    (tmp_path / "data").mkdir()
    path = tmp_path / "data" / "muv.csv"
    path.write_text("smiles,mol_id\n" + "".join(f"{s},m{i}\n" for i, s in enumerate(SMILES * 4)))
    args = run_args(tmp_path)
    args[args.index("hiv")] = "muv"
    assert_fails(caplog, tmp_path, args, str(path), "no 'MUV-*' task columns")


def test_truncated_gzip_and_non_utf8(caplog, tmp_path):
    (tmp_path / "data").mkdir()
    text = "smiles,HIV_active\n" + "".join(f"{SMILES[i % 12]},{i % 2}\n" for i in range(2000))
    gz = tmp_path / "data" / "hiv.csv.gz"
    packed = gzip.compress(text.encode())
    gz.write_bytes(packed[:len(packed) // 2])
    assert_fails(caplog, tmp_path, run_args(tmp_path), str(gz), "truncated or corrupt compressed file")
    gz.unlink()
    latin = tmp_path / "data" / "hiv.csv"
    latin.write_bytes(("smiles,HIV_active,name\n" + "".join(f"{s},{i % 2},Café\n" for i, s in
                                                          enumerate(SMILES * 4))).encode("latin-1"))
    assert_fails(caplog, tmp_path, run_args(tmp_path), str(latin), "not UTF-8")


def test_unsanitizable_smiles_are_kept_counted_and_warned(caplog, tmp_path):
    """A pentavalent carbon parses only with sanitize=False: kept (as OGB keeps HIV's 7 such molecules),
    warned about once and counted in the record."""
    rows = [f"{'C(C)(C)(C)(C)C' if i == 0 else SMILES[i % 12]},{i % 2}" for i in range(N_ROWS)]
    write_hiv(tmp_path / "data", rows)
    code, errors = cli(caplog, tmp_path, *run_args(tmp_path))
    assert code == 0 and not errors
    assert any("1 SMILES parse only without sanitization" in r.getMessage() for r in caplog.records)
    record = next((tmp_path / "store").glob("*.json")).read_text()
    assert '"n_unsanitized_kept": 1' in record


@pytest.mark.parametrize("extra,named", [
    (["--device", "cuda:7"] if torch.cuda.is_available() else ["--device", "cuda"], ["cuda", "device"]),
    (["--device", "gpu"], ["unknown device 'gpu'", "cpu, cuda"]),
    (["--seed", "-1"], ["seed must be a non-negative integer", "-1"]),
    (["--prune-ratio", "0.5"], ["--prune-ratio 0.5", "--method whole"]),
    (["--method", "molpeg", "--prune-ratio", "0.5", "--option", "beta=abc"], ["option beta='abc'", "a number"]),
])
def test_bad_arguments(caplog, tmp_path, extra, named):
    write_hiv(tmp_path / "data")
    assert_fails(caplog, tmp_path, run_args(tmp_path, *extra), *named)


def _checkpoints(folder: Path) -> dict[str, Path]:
    folder.mkdir()
    good = GINEncoder(GINConfig(2, 32))
    torch.save(good.state_dict(), folder / "good.pt")
    (folder / "text.pt").write_text("not a checkpoint\n")
    (folder / "truncated.pt").write_bytes((folder / "good.pt").read_bytes()[:2000])
    torch.save(good, folder / "module.pt")
    (folder / "dir.pt").mkdir()
    torch.save(GINEncoder(GINConfig(5, 300)).state_dict(), folder / "big.pt")
    return {p.stem: p for p in folder.iterdir()}


def test_bad_checkpoints(caplog, tmp_path):
    write_hiv(tmp_path / "data")
    ckpt = _checkpoints(tmp_path / "ckpt")
    for name, expected in [("text", "not a PyTorch file"), ("truncated", "truncated or not a PyTorch file"),
                           ("module", "not a state dict of tensors"), ("dir", "is a directory")]:
        assert_fails(caplog, tmp_path, run_args(tmp_path, "--checkpoint", str(ckpt[name])), str(ckpt[name]), expected)
    message = assert_fails(caplog, tmp_path, run_args(tmp_path, "--checkpoint", str(ckpt["big"])),
                           str(ckpt["big"]), "has a 5×300 GIN encoder", "the run wants 2×32")
    assert len(message.splitlines()) <= 4 and len(message) < 1000


def test_sweep_reports_an_architecture_mismatch_once_before_any_run(caplog, tmp_path, monkeypatch):
    write_hiv(tmp_path / "data")
    ckpt = _checkpoints(tmp_path / "ckpt")
    monkeypatch.setattr("molpeg_bench.slurm.task.run_finetune", lambda *a, **k: pytest.fail("a run started"))
    code, errors = cli(caplog, tmp_path, "sweep", "pretraining", "--preset", "ci", "--checkpoint", str(ckpt["big"]),
                       "--data-dir", str(tmp_path / "data"), "--store", str(tmp_path / "store"))
    assert code == 2 and len(errors) == 1 and errors[0].count("5×300") == 1 and "2×32" in errors[0]
    assert not list((tmp_path / "store").glob("*.json"))


def test_unwritable_store_fails_before_training(caplog, tmp_path, monkeypatch):
    """A store path below a regular file cannot be created (a permission check would not hold as root)."""
    write_hiv(tmp_path / "data")
    (tmp_path / "blocker").write_text("")
    monkeypatch.setattr("molpeg_bench.benchmark.run.run_finetune", lambda *a, **k: pytest.fail("training started"))
    monkeypatch.setattr("molpeg_bench.slurm.task.run_finetune", lambda *a, **k: pytest.fail("training started"))
    store = str(tmp_path / "blocker" / "store")
    args = run_args(tmp_path)
    args[args.index("--store") + 1] = store
    assert_fails(caplog, tmp_path, args, store, "not writable")
    code, errors = cli(caplog, tmp_path, "sweep", "table1", "--preset", "ci", "--data-dir", str(tmp_path / "data"),
                       "--store", store)
    assert code == 2 and len(errors) == 1 and store in errors[0] and "not writable" in errors[0]


def test_help_shows_defaults_and_typed_options(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: smoke)" in text and "(default: hiv)" in text and "(default: whole)" in text
    assert "typed" in text and "`methods`" in text
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    assert "(default: smoke)" in capsys.readouterr().out
    assert main(["methods"]) == 0
    listing = capsys.readouterr().out
    assert "replace: bool = False" in listing and "criterion: str = 'absolute' (one of 'absolute', 'hard', " \
        "'easy')" in listing and "beta: float = 0.5 (in [0.0, 1.0])" in listing


def test_run_without_flags_names_its_preset(caplog, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_hiv(tmp_path / "data")
    monkeypatch.setenv("MOLPEG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr("molpeg_bench.benchmark.run.run_finetune", lambda *a, **k: pytest.fail("stop before training"))
    with pytest.raises(pytest.fail.Exception):
        cli(caplog, tmp_path, "run")
    assert any(r.getMessage().startswith("preset smoke (") for r in caplog.records)


def test_a_checkpoint_with_nan_weights_names_the_file_and_the_tensor(caplog, tmp_path):
    write_hiv(tmp_path / "data")
    state = GINEncoder(GINConfig(2, 32)).state_dict()
    state["gnns.1.mlp.0.weight"][3, 4] = float("nan")
    path = tmp_path / "nan.pt"
    torch.save(state, path)
    assert_fails(caplog, tmp_path, run_args(tmp_path, "--checkpoint", str(path)), str(path),
                 "gnns.1.mlp.0.weight", "NaN")


def test_unwritable_cache_directory_fails_before_featurizing(caplog, tmp_path, monkeypatch):
    write_hiv(tmp_path / "data")
    (tmp_path / "blocker").write_text("")
    cache = str(tmp_path / "blocker" / "cache")
    monkeypatch.setenv("MOLPEG_CACHE_DIR", cache)
    monkeypatch.setattr("molpeg_bench.benchmark.data.dataset.featurize_smiles",
                        lambda *a, **k: pytest.fail("featurizing started"))
    assert_fails(caplog, tmp_path, run_args(tmp_path), cache, "not writable", "MOLPEG_CACHE_DIR")
    code, errors = cli(caplog, tmp_path, "sweep", "table1", "--preset", "ci", "--data-dir", str(tmp_path / "data"),
                       "--store", str(tmp_path / "store"))
    assert code == 2 and len(errors) == 1 and cache in errors[0] and "MOLPEG_CACHE_DIR" in errors[0], errors
