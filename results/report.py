"""Build the tables, figures and comparisons from a run store (the glue behind ``molpeg-bench report``).

``WHAT`` is the one list of outputs: the command line offers its names. The writers (pandas, matplotlib) are
imported when a report is built, so reading ``WHAT`` costs nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path

log = logging.getLogger(__name__)

WHAT = ("table1", "fig3", "fig4", "fig5", "fig6", "pretraining", "table2", "table3", "qm9_pretraining", "all",
        "release", "html")


def build_report(store_root: str | Path, out_dir: str | Path, what: str = "all", *,
                 datasets: Iterable[str] | None = None, preset: str | None = None,
                 checkpoint: str | None = None, setting: str | None = None, spread: bool = False,
                 seeds_per_preset: Mapping[str, int] | None = None) -> list[Path]:
    """Write the requested outputs under ``out_dir``; returns the written paths.

    ``checkpoint`` (a label, name, sha256 prefix or path as in ``results.select.matches_checkpoint``) and
    ``setting`` (a setting id) narrow the runs when a store holds several; ``spread``: Table 1 prints
    mean ± std; ``seeds_per_preset``: how many seeds each preset asks for (Table 1 marks cells with fewer;
    the caller knows its presets, results does not). Figures 3 and 5 are drawn per dataset (``datasets``,
    default: all present); an output without data is skipped with a warning, and a ValueError is raised only
    when nothing at all could be written.
    """
    if what not in WHAT:
        raise ValueError(f"unknown report {what!r}; expected one of {WHAT}")
    from molpeg_bench.results.data_check import report_records, write_failed_runs
    from molpeg_bench.results.figure4 import figure4
    from molpeg_bench.results.figures import figure3, figure5, figure6
    from molpeg_bench.results.frame import epochs_frame, runs_frame
    from molpeg_bench.results.names import dataset_order
    from molpeg_bench.results.pretraining import pretraining_3d, pretraining_table
    from molpeg_bench.results.select import filter_runs, matches_checkpoint
    from molpeg_bench.results.table1 import write_table1
    from molpeg_bench.results.table2_tex import write_table2
    from molpeg_bench.results.table3_tex import write_table3

    records = report_records(store_root)
    if not records:
        raise ValueError(f"no complete run records under {store_root}")
    runs, epochs = filter_runs(runs_frame(records, store_root), setting=setting), epochs_frame(records)
    names = list(datasets) if datasets is not None else dataset_order(runs["dataset"].unique())
    narrow = {"preset": preset, "checkpoint": checkpoint}
    # Figure 5 draws a panel per checkpoint label: those the given name / sha256 prefix / path matches
    checkpoints = None if checkpoint is None else (
        sorted(runs.loc[matches_checkpoint(runs, checkpoint), "checkpoint"].unique()) or [checkpoint])
    jobs: list[tuple[str, Callable[[], Iterable[Path]]]] = []
    # Tables 2 and 3 come from their own stores (the 3D grids); "all" covers the 2D tables and figures
    if what == "table2":
        jobs.append(("Table 2", lambda: write_table2(runs, out_dir, **narrow).values()))
    if what == "table3":
        jobs.append(("Table 3", lambda: write_table3(runs, out_dir, **narrow).values()))
    if what == "qm9_pretraining":
        jobs.append(("QM9 pretraining comparison", partial(pretraining_3d, runs, out_dir)))
    if what in ("table1", "all"):
        jobs.append(("Table 1", lambda: write_table1(runs, out_dir, datasets, spread=spread,
                                                     seeds_per_preset=seeds_per_preset, **narrow).values()))
    if what in ("table1", "table2", "table3", "all"):
        jobs.append(("Failed runs", partial(write_failed_runs, store_root, out_dir)))
    for name in names:
        if what in ("fig3", "all"):
            jobs.append((f"Figure 3 on {name}", partial(figure3, runs, epochs, out_dir, name, **narrow)))
        if what in ("fig4", "all"):
            jobs.append((f"Figure 4 on {name}", partial(figure4, runs, out_dir, name, **narrow)))
        if what in ("fig5", "all"):
            jobs.append((f"Figure 5 on {name}", partial(figure5, runs, out_dir, name, preset=preset,
                                                        checkpoints=checkpoints)))
    if what in ("pretraining", "all"):
        jobs.append(("Pretraining comparison", partial(pretraining_table, runs, out_dir)))
    if what in ("fig6", "all"):
        jobs.append(("Figure 6", partial(figure6, runs, out_dir, names, **narrow)))
    written: list[Path] = []
    skipped: list[str] = []
    for label, job in jobs:
        try:
            paths = list(job())
        except ValueError as exc:
            log.warning("%s skipped: %s", label, exc)
            skipped.append(f"{label}: {exc}")
            continue
        if paths:
            log.info("%s written to %s", label, ", ".join(str(p) for p in paths))
        written += paths
    if not written:
        raise ValueError(f"nothing to report for {what!r} from the {len(records)} run(s) under {store_root} "
                         f"({'; '.join(skipped)})")
    return written
