"""The dependency direction (docs/architecture.md) checked on the import graph: every ``import x`` and ``from x import``
of a package's modules (those inside functions included) against the prefixes that package must not import.

A rule is one row of ``RULES``: (package, modules it must not import). ``KNOWN`` lists the files that may
break a rule: the faces (the command line), which may import everything; nothing else may.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UPPER_BENCHMARK = ("benchmark.run", "benchmark.training", "benchmark.tasks", "benchmark.selection",
                   "benchmark.experiments", "benchmark.sweep_inputs", "benchmark.fit", "benchmark.run_prepare",
                   "benchmark.run_record", "benchmark.cli", "benchmark.commands")
# the faces (command line and its commands) and the measurements
NEVER_IMPORTED = ("bench", "tests", "benchmark.cli", "benchmark.commands", "benchmark.__main__")
RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("fileio", ("benchmark", "methods", "results", "slurm", "pretrain", *NEVER_IMPORTED)),
    ("results", ("benchmark", "slurm", "pretrain", "methods", *NEVER_IMPORTED)),
    ("methods", ("benchmark", "slurm", "pretrain", "results", *NEVER_IMPORTED)),
    ("benchmark/data", ("benchmark.models", *UPPER_BENCHMARK, "methods", "results", "slurm", "pretrain",
                        *NEVER_IMPORTED)),
    ("benchmark/models", (*UPPER_BENCHMARK, "methods", "results", "slurm", "pretrain", *NEVER_IMPORTED)),
    ("benchmark", ("slurm", "pretrain", *NEVER_IMPORTED)),
    ("pretrain", (*UPPER_BENCHMARK, "methods", "results", "slurm", *NEVER_IMPORTED)),
    ("slurm", ("methods", "pretrain", "benchmark.models", *NEVER_IMPORTED)),
)
# the faces: the command line may import everything
FACES = ("benchmark/cli.py", "benchmark/commands.py", "benchmark/__main__.py")
FACE_IMPORTS = ("slurm", "pretrain", "benchmark.cli", "benchmark.commands")
# file -> forbidden modules it may import: only the faces
KNOWN: dict[str, tuple[str, ...]] = {face: FACE_IMPORTS for face in FACES}


ROOT_PACKAGE = "molpeg_bench."


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in ``source``, at any depth, named as inside the import root
    (``molpeg_bench.methods.base`` is ``methods.base``: the rules speak of the card's folders)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == ROOT_PACKAGE[:-1]:
            found += [(node.lineno, alias.name) for alias in node.names]  # from molpeg_bench import methods
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return [(line, module.removeprefix(ROOT_PACKAGE)) for line, module in found]


def forbidden_imports(package: str, forbidden: tuple[str, ...], root: Path = ROOT,
                      known: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    """``path:line imports module`` for each import of ``package``'s files that falls under ``forbidden``
    and is not listed in ``known`` (file relative to ``root`` -> modules)."""
    hits = []
    for path in sorted((root / package).rglob("*.py")):
        name = path.relative_to(root).as_posix()
        for line, module in imported_modules(path.read_text()):
            if any(module == k or module.startswith(k + ".") for k in (known or {}).get(name, ())):
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


PACKAGES = ("fileio", "benchmark", "methods", "results", "slurm", "pretrain", "bench")


def import_graph(packages=PACKAGES) -> dict[str, set[str]]:
    """module -> the suite's modules it imports (``from a.b import c`` counts a.b.c when that is a module)."""
    files = {p.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".").removesuffix(".__init__"): p
             for package in packages for p in (ROOT / package).rglob("*.py")}
    graph = {}
    for module, path in files.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                name = node.module.removeprefix(ROOT_PACKAGE)
                edges |= {f"{name}.{a.name}" if f"{name}.{a.name}" in files else name for a in node.names}
            elif isinstance(node, ast.Import):
                edges |= {a.name.removeprefix(ROOT_PACKAGE) for a in node.names}
        graph[module] = {e for e in edges if e in files and e != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """The import circles (each as its members, sorted), lazy imports included."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            members = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                members.append(member)
                if member == node:
                    break
            if len(members) > 1:
                found.append(tuple(sorted(members)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


KNOWN_CYCLES: list[tuple[str, ...]] = []  # circles still to be cut (none)


def test_no_import_circles():
    assert cycles(import_graph()) == KNOWN_CYCLES


def test_the_circle_check_finds_a_lazy_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [("a", "b", "c")]
