"""Build Table 1 and Figures 3, 5, 6 from a run store (the glue behind ``python -m benchmark report``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from results.figure4 import figure4
from results.figures import figure3, figure5, figure6
from results.frame import epochs_frame, runs_frame
from results.names import dataset_order
from results.pretraining import pretraining_table
from results.store import RunStore
from results.table1 import write_table1

log = logging.getLogger(__name__)

WHAT = ("table1", "fig3", "fig4", "fig5", "fig6", "pretraining", "all")


def build_report(store_root: str | Path, out_dir: str | Path, what: str = "all", *,
                 datasets: Iterable[str] | None = None, preset: str | None = None,
                 checkpoint: str | None = None) -> list[Path]:
    """Write the requested outputs under ``out_dir``; returns the written paths.

    Figures 3 and 5 are drawn per dataset (``datasets``, default: all present); an output without data is
    skipped with a warning, and a ValueError is raised only when nothing at all could be written.
    """
    if what not in WHAT:
        raise ValueError(f"unknown report {what!r}; expected one of {WHAT}")
    records = list(RunStore(store_root).records())
    if not records:
        raise ValueError(f"no complete run records under {store_root}")
    runs, epochs = runs_frame(records), epochs_frame(records)
    names = list(datasets) if datasets is not None else dataset_order(runs["dataset"].unique())
    narrow = {"preset": preset, "checkpoint": checkpoint}
    checkpoints = None if checkpoint is None else [checkpoint]
    jobs: list[tuple[str, Callable[[], Iterable[Path]]]] = []
    if what in ("table1", "all"):
        jobs.append(("Table 1", lambda: write_table1(runs, out_dir, datasets, **narrow).values()))
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
        log.info("%s written to %s", label, ", ".join(str(p) for p in paths))
        written += paths
    if not written:
        raise ValueError(f"nothing to report for {what!r} from the {len(records)} run(s) under {store_root} "
                         f"({'; '.join(skipped)})")
    return written
