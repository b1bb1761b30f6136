"""One import root: every folder of the suite is a subpackage of ``molpeg_bench`` listed for the wheel, the
pruners import without the suite's heavy dependencies, the command works from any folder, and the version
names the suite's own commit only."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from molpeg_bench import _version

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("bench", "benchmark", "fileio", "methods", "pretrain", "results", "slurm")


def test_every_folder_of_the_suite_is_a_listed_subpackage():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {"molpeg_bench"} | {"molpeg_bench." + p.parent.relative_to(ROOT).as_posix().replace("/", ".")
                                for folder in FOLDERS for p in (ROOT / folder).rglob("__init__.py")}
    assert set(config["packages"]) == found
    assert {k: v for k, v in config["package-dir"].items() if k != "molpeg_bench"} == {
        f"molpeg_bench.{f}": f for f in FOLDERS}


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_pruners_import_without_the_suites_dependencies(tmp_path):
    heavy = ("pandas", "rdkit", "torch_geometric", "ogb", "matplotlib", "submitit")
    done = _run("import sys, molpeg_bench.methods; from molpeg_bench import MolPeg; "
                f"print(sorted(m for m in {heavy!r} if m in sys.modules))", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_command_works_from_a_folder_holding_the_suites_folder_names(tmp_path):
    for name in ("results", "slurm", "benchmark", "methods"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("raise ImportError('the user folder was imported')\n")
    (tmp_path / "methods.py").write_text("raise ImportError('the user module was imported')\n")
    done = subprocess.run([sys.executable, "-m", "molpeg_bench", "methods"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "molpeg" in done.stdout and "herding" in done.stdout
    elsewhere = ROOT / "tests" / "fixtures"  # a folder of the checkout holding none of the suite's folder names
    for name in ("results", "slurm", "benchmark"):  # no top-level name of the suite besides molpeg_bench
        assert _run(f"import importlib.util as u; print(u.find_spec({name!r}) is None)", elsewhere).stdout \
            .strip() == "True", name


def test_the_version_names_only_the_suites_own_checkout(tmp_path, monkeypatch):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "someone-elses-project"\n')
    monkeypatch.setattr(_version, "CHECKOUT", tmp_path)  # the suite installed inside a user's repository
    monkeypatch.setattr(_version, "_installed", lambda: "0.1.0+gabc")
    assert _version.suite_version() == "0.1.0+gabc"
    monkeypatch.setattr(_version, "CHECKOUT", ROOT)
    if (ROOT / ".git").exists():
        assert _version.suite_version().startswith("0.1.0+g")


def test_every_record_names_the_suites_version_as_the_package_does():
    from molpeg_bench.benchmark.run import library_versions

    assert library_versions()["molpeg-bench"] == _version.suite_version()
    assert library_versions()["molpeg-bench"].count("+") <= 1  # one local part: the build's or the checkout's
