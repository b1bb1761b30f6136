"""Every reference to documentation in the repository leads to a page and a heading that exist.

Checked in every tracked ``.py``, ``.md``, ``.toml``, ``.cff``, ``.yml`` / ``.yaml`` file and Makefile:

- relative Markdown links in ``.md`` files, ``[text](path#anchor)``, resolved from the linking file's folder:
  the path must be a tracked file (or folder) of the repository, and an anchor into a Markdown page must be
  one of that page's heading ids;
- mentions of a documentation page anywhere (a docstring or comment citing ``docs/concepts.md#run``), taken
  from the repository root, with the same two conditions;
- the pages of the site's ``nav`` (``mkdocs.yml``): each must exist, and every page under ``docs/`` must be
  in it;
- no file may cite a specification document the repository does not hold (the names are in
  ``FOREIGN_DOCUMENTS``);
- a file path of the repository named in a code span of a Markdown page (`` `tests/methods/test_molpeg.py` ``,
  `` `methods/soft_random.py` ``; ``*`` allowed) must name tracked files: moving a file leaves no stale path;
- a command ``python -m molpeg_bench...`` written anywhere (a page, a docstring, an error message) must name a
  module of the installed package, and none may name a subpackage by its folder (``results...`` after ``python -m``):
  a module renamed or moved leaves no command that fails.

Heading ids are computed as MkDocs' ``toc`` extension computes them (Python-Markdown's ``slugify``: accents
folded to ASCII, every character but word characters, spaces and hyphens dropped, lowercase, runs of spaces
and hyphens made one hyphen; a repeated id gets ``_1``, ``_2``, ...), or taken from an explicit ``{#id}``. So
the check needs no MkDocs: ``make docs`` builds the site with the same rule, strictly.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import re
import subprocess
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKED_SUFFIXES = (".py", ".md", ".toml", ".cff", ".yml", ".yaml")
CHECKED_NAMES = ("Makefile",)
SITE_CONFIG = "mkdocs.yml"
DOCS_DIR = "docs"
# specification documents the suite was built from; they are not in the repository, so nothing may cite them
FOREIGN_DOCUMENTS = re.compile(r"\b(?:METHODS|DESIGN|3D)\.md\b")

FENCE = re.compile(r"^\s*(```|~~~)")
ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
EXPLICIT_ID = re.compile(r"\s*\{:?\s*#([\w-]+)[^}]*\}\s*$")
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
DOCS_MENTION = re.compile(r"(?<![\w./-])(docs/[\w./-]*?\.md)(?:#([\w-]+))?")
# a code span holding a path inside one of the repository's folders, ending in a file name with a suffix
REPO_PATH = re.compile(r"^([A-Za-z_][\w-]*/[\w./*-]*\.(?:py|md|toml|sh|csv|json|yml|cff))$")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
UNIQUE_SUFFIX = re.compile(r"^(.*)_([0-9]+)$")


def tracked_files(root: Path = ROOT) -> list[str]:
    """The repository's tracked files (paths relative to ``root``, with ``/``)."""
    done = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, f"git ls-files failed in {root}: {done.stderr.strip()}"
    files = [f for f in done.stdout.split("\0") if f]
    assert files, f"git ls-files lists no file in {root}"
    return files


def is_checked(path: str) -> bool:
    return path.endswith(CHECKED_SUFFIXES) or path.rsplit("/", 1)[-1] in CHECKED_NAMES


def slugify(text: str) -> str:
    """Python-Markdown's default ``slugify`` with the separator ``-`` (what MkDocs' toc uses)."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _unique(slug: str, taken: set[str]) -> str:
    while slug in taken or not slug:
        match = UNIQUE_SUFFIX.match(slug)
        slug = f"{match.group(1)}_{int(match.group(2)) + 1}" if match else f"{slug}_1"
    taken.add(slug)
    return slug


def heading_text(raw: str) -> str:
    """The text a heading renders to: code spans keep their content, links their text, emphasis and tags go."""
    parts, start = [], 0
    for code in CODE_SPAN.finditer(raw):  # code keeps every character; the prose around it loses its markup
        parts += [_prose_text(raw[start:code.start()]), code.group(2).strip()]
        start = code.end()
    return "".join([*parts, _prose_text(raw[start:])])


def _prose_text(text: str) -> str:
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"(?<!\w)_+|_+(?!\w)", "", text.replace("*", ""))


def outside_fences(text: str) -> Iterable[tuple[int, str]]:
    """(line number, line) of the lines of a Markdown text that are not inside a fenced code block."""
    fence = None
    for number, line in enumerate(text.splitlines(), 1):
        opened = FENCE.match(line)
        if fence is None and opened:
            fence = opened.group(1)
        elif fence is not None and line.strip().startswith(fence):
            fence = None
        elif fence is None:
            yield number, line


def heading_ids(markdown: str) -> set[str]:
    """The ids MkDocs gives the headings of a Markdown page."""
    taken: set[str] = set()
    for _, line in outside_fences(markdown):
        match = ATX_HEADING.match(line)
        if not match:
            continue
        title = match.group(2)
        explicit = EXPLICIT_ID.search(title)
        if explicit:
            taken.add(explicit.group(1))
        else:
            _unique(slugify(heading_text(title)), taken)
    return taken


def _exists(path: str, tracked: set[str]) -> bool:
    return path in tracked or any(f.startswith(path.rstrip("/") + "/") for f in tracked)


def _target_problem(target: str, anchor: str | None, texts: Mapping[str, str], tracked: set[str]) -> str | None:
    """Why ``target`` (relative to the root) with ``anchor`` leads nowhere; None when it leads somewhere."""
    if target.startswith("../") or target == "..":
        return "points outside the repository"
    if not _exists(target, tracked):
        return "is not a file of the repository"
    if anchor is None:
        return None
    if not target.endswith(".md"):
        return "has an anchor into a file that is not a Markdown page"
    ids = heading_ids(texts[target] if target in texts else (ROOT / target).read_text(encoding="utf-8"))
    if anchor not in ids:
        return f"has no heading #{anchor} (its ids: {', '.join(sorted(ids)) or 'none'})"
    return None


def markdown_links(markdown: str) -> Iterable[tuple[int, str]]:
    """(line, target) of the relative links of a Markdown text (code blocks and code spans left out)."""
    for number, line in outside_fences(markdown):
        for match in MARKDOWN_LINK.finditer(CODE_SPAN.sub("code", line)):
            target = match.group(1)
            if not SCHEME.match(target) and not target.startswith("//"):
                yield number, target


def broken_references(texts: Mapping[str, str], tracked: set[str]) -> tuple[list[str], int]:
    """``path:line: ...`` for each link or page mention of ``texts`` (path -> content) that leads nowhere,
    and the number of references checked."""
    problems, checked = [], 0
    for path, text in sorted(texts.items()):
        if path.endswith(".md"):
            folder = os.path.dirname(path)
            for number, link in markdown_links(text):
                checked += 1
                target, _, anchor = link.partition("#")
                resolved = os.path.normpath(os.path.join(folder, target)).replace(os.sep, "/") if target else path
                problem = _target_problem(resolved, anchor or None, texts, tracked)
                if problem:
                    problems.append(f"{path}:{number}: link ({link}) {problem}")
        for number, line in enumerate(text.splitlines(), 1):
            for match in DOCS_MENTION.finditer(line):
                checked += 1
                target, anchor = match.group(1), match.group(2)
                problem = _target_problem(target, anchor, texts, tracked)
                if problem:
                    problems.append(f"{path}:{number}: {match.group(0)} {problem}")
    return problems, checked


def stale_paths(texts: Mapping[str, str], tracked: set[str]) -> tuple[list[str], int]:
    """``path:line: ...`` for each repository path in a code span of a Markdown page of ``texts`` that names no
    tracked file (a path under a folder the repository does not have, e.g. ``out/``, is the user's, not checked),
    and the number of paths checked."""
    folders = {f.split("/", 1)[0] for f in tracked if "/" in f}
    problems, checked = [], 0
    for path, text in sorted(texts.items()):
        if not path.endswith(".md"):
            continue
        for number, line in outside_fences(text):
            for span in CODE_SPAN.finditer(line):
                match = REPO_PATH.match(span.group(2).strip())
                if not match or match.group(1).split("/", 1)[0] not in folders:
                    continue
                checked += 1
                if not any(fnmatch.fnmatchcase(f, match.group(1)) for f in tracked):
                    problems.append(f"{path}:{number}: `{match.group(1)}` names no file of the repository")
    return problems, checked


MODULE_COMMAND = re.compile(r"python -m ([A-Za-z_]\w*(?:\.\w+)*)")


def stale_commands(texts: Mapping[str, str]) -> tuple[list[str], int]:
    """``path:line: ...`` for each ``python -m`` command of ``texts`` that names a module of the package wrongly:
    a ``molpeg_bench...`` module that does not exist, or one of its subpackages by its folder name (``results``
    for ``molpeg_bench.results``, which only imports from the repository's root); and the number checked."""
    folders = {d.name for d in ROOT.iterdir() if (d / "__init__.py").is_file()
               and importlib.util.find_spec(f"molpeg_bench.{d.name}") is not None}
    problems, checked = [], 0
    for path, text in sorted(texts.items()):
        for number, line in enumerate(text.splitlines(), 1):
            for match in MODULE_COMMAND.finditer(line):
                module = match.group(1)
                top = module.split(".")[0]
                if top in folders:
                    problems.append(f"{path}:{number}: `python -m {module}` names a folder; the package's module "
                                    f"is molpeg_bench.{module}")
                elif top == "molpeg_bench":
                    checked += 1
                    if importlib.util.find_spec(module) is None:
                        problems.append(f"{path}:{number}: `python -m {module}` names no module of the package")
    return problems, checked


def foreign_citations(texts: Mapping[str, str]) -> list[str]:
    return [f"{path}:{number}: cites {match.group(0)}, which the repository does not hold"
            for path, text in sorted(texts.items())
            for number, line in enumerate(text.splitlines(), 1)
            for match in FOREIGN_DOCUMENTS.finditer(line)]


def nav_pages(config: str) -> list[str]:
    """The pages (relative to the docs folder) that the ``nav`` of a MkDocs config lists."""
    nav = config[config.index("\nnav:"):] if "\nnav:" in config else ""
    return re.findall(r"([\w./-]+\.md)\s*$", nav, re.M)


def _checked_texts() -> tuple[dict[str, str], set[str]]:
    tracked = tracked_files()
    texts = {path: (ROOT / path).read_text(encoding="utf-8", errors="replace")
             for path in tracked if is_checked(path) and (ROOT / path).is_file()}
    return texts, set(tracked)


def test_every_link_and_page_mention_leads_to_a_file_and_heading():
    texts, tracked = _checked_texts()
    problems, checked = broken_references(texts, tracked)
    assert checked > 20, f"only {checked} references found: the scan itself is broken"
    assert not problems, "references that lead nowhere:\n" + "\n".join(problems)


def test_every_repository_path_a_page_names_exists():
    texts, tracked = _checked_texts()
    problems, checked = stale_paths(texts, tracked)
    assert checked > 20, f"only {checked} paths found: the scan itself is broken"
    assert not problems, "paths that name no file:\n" + "\n".join(problems)


def test_a_moved_file_named_by_its_old_path_is_named():
    page = DOCS_DIR + "/a.md"  # spelled apart, so that this file's own scan does not read the planted case
    tracked = {"tests/methods/test_molpeg.py", "tests/methods/test_known_answers_static.py", page}
    texts = {page: "`tests/test_molpeg.py` moved; `tests/methods/test_molpeg.py` and "
                   "`tests/methods/test_known_answers_*.py` exist; `out/ci/table1.tex` is the user's\n"
                   "```\n`tests/nowhere.py` in a fence\n```\n"}
    problems, checked = stale_paths(texts, tracked)
    assert checked == 3
    assert problems == [f"{page}:1: `tests/test_molpeg.py` names no file of the repository"]


def test_every_package_command_names_a_module_of_the_package():
    texts, _ = _checked_texts()
    problems, checked = stale_commands(texts)
    assert checked > 10, f"only {checked} commands found: the scan itself is broken"
    assert not problems, "commands that name no module:\n" + "\n".join(problems)
    gone, folder = "molpeg_bench" + ".results.gone", "results" + ".manifest"  # spelled apart from this file's scan
    planted = {"results/manifest.py": f"restore them: python -m {gone} write x\nor python -m {folder} write x\n"
                                      "python -m pytest -q\n"}
    assert stale_commands(planted) == ([f"results/manifest.py:1: `python -m {gone}` names no module of the package",
                                        f"results/manifest.py:2: `python -m {folder}` names a folder; the package's "
                                        f"module is molpeg_bench.{folder}"], 1)


def test_no_file_cites_a_document_the_repository_does_not_hold():
    texts, _ = _checked_texts()
    problems = foreign_citations(texts)
    assert not problems, "\n".join(problems)


def test_the_site_nav_lists_exactly_the_pages_of_docs():
    config = (ROOT / SITE_CONFIG).read_text(encoding="utf-8")
    listed = nav_pages(config)
    assert listed, f"{SITE_CONFIG} lists no page in its nav"
    tracked = set(tracked_files())
    pages = {f.removeprefix(DOCS_DIR + "/") for f in tracked if f.startswith(DOCS_DIR + "/") and f.endswith(".md")}
    assert not [p for p in listed if p not in pages], f"{SITE_CONFIG} lists pages not in {DOCS_DIR}/"
    assert not sorted(pages - set(listed)), f"pages of {DOCS_DIR}/ missing from the nav of {SITE_CONFIG}"
    assert len(listed) == len(set(listed)), f"{SITE_CONFIG} lists a page twice"


# the checker itself, on planted cases


def test_slugs_are_those_of_mkdocs_toc():
    assert slugify("Paper or code: `--fidelity`") == "paper-or-code-fidelity"
    assert slugify("Release v1 (hiv-cpu-v1)") == "release-v1-hiv-cpu-v1"
    assert slugify("Warm-up") == "warm-up"
    assert slugify("Static methods: K-Means & CD") == "static-methods-k-means-cd"
    assert slugify("Herding — argmax") == "herding-argmax"
    assert slugify("Résumé  of   runs") == "resume-of-runs"
    assert heading_text("The `make` targets of [the suite](x.md), **bold**") == "The make targets of the suite, bold"
    assert slugify(heading_text("A *b* _c_ d_e `_private_`")) == "a-b-c-d_e-_private_"


def test_heading_ids_follow_toc_rules_for_repeats_code_and_explicit_ids():
    page = "# Title\n\n## Run\n\n```bash\n# not a heading\n```\n\n## Run\n\n### Run id {#run-identity}\n\n## Run\n"
    assert heading_ids(page) == {"title", "run", "run_1", "run-identity", "run_2"}


def test_a_planted_bad_link_a_bad_anchor_and_a_bad_mention_are_each_named():
    d = DOCS_DIR + "/"  # spelled apart, so that this file's own scan does not read the planted cases
    tracked = {"README.md", f"{d}a.md", f"{d}b.md", "code.py"}
    texts = {
        "README.md": f"[ok]({d}a.md#first) [missing]({d}nope.md) [`code`](code.py) [web](https://x.org)\n",
        f"{d}a.md": "# First\n\n[up](../README.md) [self](#first) [bad anchor](b.md#second) [out](../../x.md)\n",
        f"{d}b.md": "# Only\n\n```\n[not a link](nowhere.md)\n```\n",
        "code.py": f'"""See {d}a.md#first and {d}b.md#only; {d}a.md#gone is wrong, so is {d}c.md."""\n',
    }
    problems, checked = broken_references(texts, tracked)
    assert checked == 13
    assert len(problems) == 6, problems  # the missing page is both a link and a mention
    assert any(f"README.md:1: link ({d}nope.md) is not a file" in p for p in problems)
    assert any(f"{d}a.md:3: link (b.md#second) has no heading #second" in p for p in problems)
    assert any(f"{d}a.md:3: link (../../x.md) points outside" in p for p in problems)
    assert any(f"code.py:1: {d}a.md#gone has no heading #gone" in p for p in problems)
    assert any(f"code.py:1: {d}c.md is not a file" in p for p in problems)


def test_foreign_documents_are_named_wherever_they_appear():
    texts = {"m.py": "# as " + "METHODS" + ".md §3.4 says\n", "n.md": "see docs/3d.md, not " + "3D" + ".md\n",
             "ok.py": "# docs/3d.md#presets and my_DESIGN_md are fine\n"}
    problems = foreign_citations(texts)
    assert [p.split(": cites ")[0] for p in problems] == ["m.py:1", "n.md:1"]


def test_nav_pages_are_read_from_the_nav_section_only():
    config = "site_name: x\ndocs_dir: docs\nnav:\n  - Home: index.md\n  - Methods:\n" \
             "      - \"A: b\": methods/a.md\n      - methods/b.md\n"
    assert nav_pages(config) == ["index.md", "methods/a.md", "methods/b.md"]
