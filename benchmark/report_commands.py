"""``molpeg-bench report``: tables and figures from a run store, the HTML page of a preset's stores, and a
published release's report."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from molpeg_bench.benchmark.experiments import build_grid
from molpeg_bench.benchmark.experiments.presets import PRESETS
from molpeg_bench.fileio.checksums import file_sha256

log = logging.getLogger("benchmark")


def store_dir(args: argparse.Namespace) -> Path:
    """The run store a command reads or writes: ``--store``, default ``runs/<preset>``."""
    return Path(args.store or Path("runs") / args.preset)


def cmd_report(args: argparse.Namespace) -> int:
    from molpeg_bench.results.report import build_report

    out = Path(args.out or Path("out") / args.preset)
    if args.what == "release":
        return _report_release(args, out)
    if args.what == "html":
        return _report_html(args, out)
    paths = build_report(store_dir(args), out, what=args.what, **_report_options(args))
    for p in paths:
        print(p)
    return 0


def _report_options(args: argparse.Namespace) -> dict:
    checkpoint = args.checkpoint
    if checkpoint and Path(checkpoint).is_file():  # a checkpoint file: its runs are those of its content
        checkpoint = file_sha256(checkpoint)
    return {"preset": args.preset, "checkpoint": checkpoint, "setting": args.setting, "spread": args.spread,
            "seeds_per_preset": {name: len(p.seeds) for name, p in PRESETS.items()}}


def _report_html(args: argparse.Namespace, out: Path) -> int:
    """Rebuild the preset's tables and figures from its stores (``--store``, or the 2D store and the 3D one
    beside it, ``runs/<preset>-3d``) and write ``index.html`` of them."""
    from molpeg_bench.results.data_check import report_records
    from molpeg_bench.results.html_page import write_page
    from molpeg_bench.results.report import build_report

    stores = {store_dir(args): ("all",)}
    if not args.store:
        stores[Path("runs") / f"{args.preset}-3d"] = ("table2", "table3")
    records = []
    for store, reports in stores.items():
        if not store.is_dir():
            continue
        records += report_records(store)
        for what in reports:
            try:
                build_report(store, out, what=what, **_report_options(args))
            except ValueError as exc:  # a store without this table's runs
                log.info("%s from %s skipped: %s", what, store, exc)
    if not records:
        raise ValueError(f"no complete run records for preset {args.preset!r} under {', '.join(map(str, stores))}")
    print(write_page(out, records, title=f"MolPeg benchmark: preset {args.preset}"))
    return 0


def _report_release(args: argparse.Namespace, out: Path) -> int:
    """A published reproduction from its store alone: Table 1, Figure 4, the fidelity comparison and release.md,
    with every cell of the release grid that holds fewer seeds than the preset asks for listed."""
    from collections import Counter

    from molpeg_bench.methods import get_method
    from molpeg_bench.results.data_check import report_records
    from molpeg_bench.results.frame import stated_options
    from molpeg_bench.results.html_page import write_page
    from molpeg_bench.results.release import write_release
    from molpeg_bench.results.settings import canonical

    def cell(c) -> tuple[str, int, str, str]:
        stated = stated_options({"config": c.to_dict(), "code_options": get_method(c.method).code_options})
        return c.method, int(round(100 * c.prune_ratio)), c.fidelity, canonical(stated)

    from molpeg_bench.benchmark.config_commands import config_grid

    grid = config_grid(args.config)[1] if getattr(args, "config", None) else build_grid(args.grid, args.preset)
    expected = Counter(cell(c) for c in grid)
    paths = write_release(store_dir(args), out, seeds=len(PRESETS[args.preset].seeds), preset=args.preset,
                          expected=dict(expected))
    title = f"MolPeg benchmark: release {store_dir(args).name}"
    paths["index.html"] = write_page(out, report_records(store_dir(args)), title=title)
    for p in paths.values():
        print(p)
    return 0
