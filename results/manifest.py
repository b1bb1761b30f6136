"""The manifest of a release: the sha256 of every file the release publishes, in ``MANIFEST.sha256``.

A release's numbers are read from its committed records alone, so one edited number could turn a verdict
around unnoticed. The report of a release (``results.release.write_release``) and its test check the
release against its manifest first and refuse, naming the file, a record that was changed, removed or
added; the manifest's own sha256 is printed and stated on the release page, so a reader can tell which
records a page was built from. The file is in ``sha256sum`` format: ``cd <release> && sha256sum -c
MANIFEST.sha256`` checks it by hand (files added since are found only here).

The manifest covers every file under the release folder except itself and hidden folders (the working
state a sweep keeps beside the records: claims, epoch checkpoints, sweep manifests; not published).
Writing it for a new release, once its sweep is done::

    python -m molpeg_bench.results.manifest write results/releases/<name>
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from pathlib import Path

from molpeg_bench.fileio.atomic import write_text_atomic

MANIFEST = "MANIFEST.sha256"
_LINE = re.compile(r"^([0-9a-f]{64}) [ *](.+)$")


class ManifestMismatch(ValueError):
    """A release whose files are not those its manifest lists (or that has no manifest)."""


def release_files(root: str | Path) -> list[str]:
    """The published files of the release at ``root``: relative POSIX paths, sorted; the manifest and hidden
    folders left out (a hidden file is listed: it would be read as a record)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no release folder {root}")
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and p.name != MANIFEST
                  and not any(part.startswith(".") for part in p.relative_to(root).parent.parts))


def sha256_of(path: Path) -> str:
    """sha256 of a file's content, read now (a release is checked against its files as they are)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def write_manifest(root: str | Path) -> Path:
    """(Re)write ``<root>/MANIFEST.sha256`` for the files the release holds now; returns its path."""
    root = Path(root)
    lines = [f"{sha256_of(root / name)}  {name}\n" for name in release_files(root)]
    if not lines:
        raise ValueError(f"release folder {root} holds no files to list in {MANIFEST}")
    return write_text_atomic(root / MANIFEST, "".join(lines))


def read_manifest(root: str | Path) -> dict[str, str]:
    """file -> sha256 as ``<root>/MANIFEST.sha256`` lists them; ``ManifestMismatch`` when it is absent or a
    line is not ``<sha256>  <file>``."""
    path = Path(root) / MANIFEST
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ManifestMismatch(f"release {root} has no {MANIFEST}: nothing says which records it publishes "
                               f"(write it with `python -m molpeg_bench.results.manifest write {root}`)") from None
    listed = {}
    for number, line in enumerate(text.splitlines(), 1):
        match = _LINE.match(line)
        if match is None:
            raise ManifestMismatch(f"{path} line {number}: {line[:80]!r} is not '<sha256>  <file>'")
        listed[match.group(2)] = match.group(1)
    return listed


def verify_manifest(root: str | Path) -> str:
    """The manifest's own sha256 when the release at ``root`` holds exactly the files its manifest lists,
    with the content it lists; else ``ManifestMismatch`` naming each changed, missing and extra file."""
    root = Path(root)
    listed, present = read_manifest(root), release_files(root)
    changed = [name for name in present if name in listed and sha256_of(root / name) != listed[name]]
    problems = [f"{kind}: {', '.join(names)}" for kind, names in (
        ("changed since the manifest", changed), ("missing", sorted(set(listed) - set(present))),
        ("not in the manifest", sorted(set(present) - set(listed)))) if names]
    if problems:
        raise ManifestMismatch(f"release {root} does not match its {MANIFEST} ({'; '.join(problems)}): its "
                               "report would not be the published one; restore the published files (a new "
                               "release's manifest is rewritten once its records are final: "
                               f"`python -m molpeg_bench.results.manifest write {root}`)")
    return sha256_of(root / MANIFEST)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m molpeg_bench.results.manifest",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("write", "check"), help="write the manifest, or check the release")
    parser.add_argument("release", type=Path, help="the release folder, e.g. results/releases/hiv-cpu-v1")
    args = parser.parse_args(argv)
    try:
        if args.action == "write":
            path = write_manifest(args.release)
            print(f"{path}: {len(read_manifest(args.release))} files, sha256 {sha256_of(path)}")
        else:
            print(f"{args.release}: matches {MANIFEST} (sha256 {verify_manifest(args.release)})")
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
