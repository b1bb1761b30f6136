"""The dependency direction of DESIGN.md, checked on the import graph: every ``import x`` and ``from x import``
of a package's modules (those inside functions included) against the prefixes that package must not import.

A rule is one row of ``RULES``: (package, modules it must not import). ``KNOWN`` lists the imports that break
a rule today and are still to be moved; nothing else may.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("results", ("benchmark", "slurm", "pretrain", "methods")),
)
# file -> forbidden modules it still imports: the run store writes records with benchmark's atomic file helpers
KNOWN: dict[str, tuple[str, ...]] = {"results/store.py": ("benchmark.data.atomic",)}


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in ``source``, at any depth."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def forbidden_imports(package: str, forbidden: tuple[str, ...], root: Path = ROOT,
                      known: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    """``path:line imports module`` for each import of ``package``'s files that falls under ``forbidden``
    and is not listed in ``known`` (file relative to ``root`` -> modules)."""
    hits = []
    for path in sorted((root / package).rglob("*.py")):
        name = path.relative_to(root).as_posix()
        for line, module in imported_modules(path.read_text()):
            if module in (known or {}).get(name, ()):
                continue
            if any(module == prefix or module.startswith(prefix + ".") for prefix in forbidden):
                hits.append(f"{name}:{line} imports {module}")
    return hits


@pytest.mark.parametrize(("package", "forbidden"), RULES, ids=[package for package, _ in RULES])
def test_package_imports_only_what_it_may(package, forbidden):
    assert forbidden_imports(package, forbidden, known=KNOWN) == []


def test_the_check_sees_imports_inside_functions(tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "late.py").write_text(
        "import json\n\ndef f():\n    from benchmark.presets import PRESETS\n    import slurm.task\n"
        "    import benchmarking\n    return PRESETS\n")
    assert forbidden_imports("results", ("benchmark", "slurm"), tmp_path) == [
        "results/late.py:4 imports benchmark.presets", "results/late.py:5 imports slurm.task"]
