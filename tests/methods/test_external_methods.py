"""Methods from outside the suite: named as ``module:Class`` or by an installed entry point, they run, sweep
and reach Table 1 like built-in ones; their code's identity names their runs; a clash or a broken import is
refused before anything is stored."""

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from molpeg_bench.benchmark.cli import main
from molpeg_bench.methods import external
from tests.support.user_code import ROOT, TOY, write_module

BROKEN = textwrap.dedent('''
    def load_weights():
        raise RuntimeError("weights file missing in the user's own code")


    WEIGHTS = load_weights()
''')
RUN = ["run", "--preset", "ci", "--dataset", "nci-tpsa", "--prune-ratio", "0.4", "--epochs", "2"]


def _records(store: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(store.glob("*.json"))]


def test_module_class_run_stores_a_complete_record_with_its_origin(user_code, tmp_path):
    source = write_module(user_code, "toy_keep_last", TOY)
    assert main([*RUN, "--method", "toy_keep_last:KeepLast", "--store", str(tmp_path / "store")]) == 0
    (record,) = _records(tmp_path / "store")
    assert record["status"] == "complete" and record["config"]["method"] == "toy_keep_last:KeepLast"
    origin = record["pruner"]["origin"]
    assert origin["found_by"] == "module" and origin["spec"] == "toy_keep_last:KeepLast"
    import hashlib
    assert origin["source_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert record["pruner"]["family"] == "static" and len(record["epochs"]) == 2


def _run_id(folder: Path, method: str) -> str:
    code = ("from benchmark.config import RunConfig; print(RunConfig(dataset='nci-tpsa', method="
            f"{method!r}, prune_ratio=0.4).run_id())")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT)])}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_editing_the_method_source_changes_its_run_id(user_code):
    path = write_module(user_code, "toy_edit", TOY)
    before = _run_id(user_code, "toy_edit:KeepLast")
    assert _run_id(user_code, "toy_edit:KeepLast") == before  # same code, same run
    path.write_text(TOY + "# edited: a comment is a change of source too\n")
    assert _run_id(user_code, "toy_edit:KeepLast") != before


def _entry_point(folder: Path, name: str, target: str, dist: str = "user_methods") -> None:
    info = folder / f"{dist}-0.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.3\n")
    (info / "entry_points.txt").write_text(f"[{external.ENTRY_POINT_GROUP}]\n{name} = {target}\n")
    external._entry_points.cache_clear()


def test_an_entry_point_that_clashes_with_a_built_in_is_refused_in_one_line(user_code, tmp_path, caplog):
    write_module(user_code, "toy_clash", TOY)
    _entry_point(user_code, "random", "toy_clash:KeepLast")
    assert main([*RUN, "--method", "random", "--store", str(tmp_path / "store")]) == 2
    (error,) = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert "clashes with the built-in method 'random'" in error and "user_methods" in error
    assert "\n" not in error and not _records(tmp_path / "store")


def test_an_entry_point_names_a_method_with_its_distribution(user_code):
    write_module(user_code, "toy_entry", TOY)
    _entry_point(user_code, "keep_last", "toy_entry:KeepLast")
    from molpeg_bench.methods.registry import get_method
    origin = get_method("keep_last").origin
    assert origin["found_by"] == "entry_point" and origin["spec"] == "toy_entry:KeepLast"
    assert (origin["distribution"], origin["distribution_version"]) == ("user_methods", "0.3")


def test_a_broken_import_shows_the_users_traceback_and_stores_nothing(user_code, tmp_path, caplog):
    write_module(user_code, "toy_broken", BROKEN)
    assert main([*RUN, "--method", "toy_broken:KeepLast", "--store", str(tmp_path / "store")]) == 2
    (error,) = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert "importing module 'toy_broken' failed" in error
    assert "toy_broken.py" in error and "load_weights" in error and "weights file missing" in error
    assert not _records(tmp_path / "store")


def test_a_local_sweep_puts_the_external_row_into_table1(user_code, tmp_path):
    write_module(user_code, "toy_sweep", TOY)
    store, out = tmp_path / "store", tmp_path / "out"
    grid = ["table1", "--preset", "ci", "--dataset", "nci-tpsa", "--method", "toy_sweep:KeepLast",
            "--only-methods", "--store", str(store)]
    assert main(["sweep", *grid, "--executor", "local", "--jobs", "2"]) == 0
    records = _records(store)
    assert sorted((r["config"]["method"], r["config"]["prune_ratio"]) for r in records) == [
        ("toy_sweep:KeepLast", 0.4), ("toy_sweep:KeepLast", 0.8), ("whole", 0.0)]
    assert all(r["status"] == "complete" for r in records)
    assert main(["collect", *grid, "--out", str(out)]) == 0
    tex = (out / "table1.tex").read_text()
    assert r"toy\_sweep:KeepLast$^\star$" in tex and "from outside the suite" in tex
    comparison = (out / "table1_comparison.md").read_text()
    assert "external method: module toy_sweep:KeepLast" in comparison
    assert "| nci-tpsa | toy_sweep:KeepLast ★ | 40 |" in comparison
    # the shareable page marks it and names where it came from
    assert main(["report", "html", "--preset", "ci", "--store", str(store), "--out", str(out)]) == 0
    page = (out / "index.html").read_text()
    assert "<td>toy_sweep:KeepLast ★</td>" in page
    assert re.search(r"<li>toy_sweep:KeepLast: module toy_sweep:KeepLast, source sha256 [0-9a-f]{12}</li>", page)


def test_a_distribution_whose_metadata_cannot_be_looked_up_names_no_version(monkeypatch):
    from importlib import metadata

    from molpeg_bench.methods import external

    monkeypatch.setattr(metadata, "packages_distributions", lambda: {"ghost": ["ghost-dist"]})
    assert external.distribution_of("ghost.method") == {"distribution": "ghost-dist", "distribution_version": None}
