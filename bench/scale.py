"""``python -m molpeg_bench.bench.scale --csv PATH``: every step of a sweep on one large dataset, one process per step,
with its wall time, peak memory and the disk size of each cache it leaves.

Meant for a PCBA-sized file (``bench.pcba_like``) at the paper's model size on a CPU: featurization, one
training epoch of ``whole``, MolPeg and InfoBatch, one static method per family (GraNd, Forgetting, Craig,
DP) after a shared warm-up, then the Table 1 report. Each step is the user's command (``python -m
benchmark run ...``), run as a child process; its peak resident memory is the child's ``ru_maxrss`` from
``os.wait4``, so the numbers are those of the command a user runs, with nothing of this script's own.
Steps past ``--memory-target`` GB, and caches past ``--cache-target`` GB, are flagged. The table is printed
and written (Markdown) to ``--out``; every step's output goes to ``<out>.log``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

STATIC = ("grand_4", "forgetting", "craig", "dp")
CACHES = ("graphs", "warmups", "scores")


@dataclass
class Step:
    name: str
    argv: list[str]


def steps(csv: str, store: Path, out: Path, prune_ratio: float, warmup_epochs: int,
          static: tuple[str, ...]) -> list[Step]:
    """The commands, in order (the warm-up is paid by the first static method and reused by the others)."""
    py = sys.executable
    run = [py, "-m", "molpeg_bench", "run", "--preset", "paper", "--device", "cpu", "--dataset", f"csv:{csv}",
           "--epochs", "1", "--store", str(store)]
    ratio = ["--prune-ratio", str(prune_ratio)]
    found = [Step("featurize", [py, "-c", f"from benchmark.data import load_dataset; load_dataset({f'csv:{csv}'!r})"]),
             Step("whole", [*run, "--method", "whole"]),
             Step("molpeg", [*run, "--method", "molpeg", *ratio]),
             Step("infobatch", [*run, "--method", "infobatch", *ratio])]
    found += [Step(method, [*run, "--method", method, *ratio, "--option", f"warmup_epochs={warmup_epochs}"])
              for method in static]
    found.append(Step("report", [py, "-m", "molpeg_bench", "report", "table1", "--preset", "paper",
                                 "--store", str(store), "--out", str(out)]))
    return found


def run_step(step: Step, log_path: Path) -> tuple[float, float, int]:
    """(seconds, peak resident GB, exit status) of one child process, its output appended to ``log_path``."""
    with log_path.open("a") as log:
        log.write(f"\n$ {' '.join(step.argv)}\n")
        log.flush()
        t0 = time.perf_counter()
        child = subprocess.Popen(step.argv, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - t0
    return seconds, usage.ru_maxrss / 2**20, os.waitstatus_to_exitcode(status)


def folder_gb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**30 if path.exists() else 0.0


def newest_record(store: Path, before: set[Path]) -> dict:
    new = sorted(set(store.glob("*.json")) - before, key=lambda p: p.stat().st_mtime)
    return json.loads(new[-1].read_text()) if new else {}


def describe(record: dict) -> str:
    """A run's own timing split and metric, from its record."""
    if not record:
        return ""
    parts = ", ".join(f"{k} {v:.0f} s" for k, v in record.get("timings", {}).items() if k != "total" and v >= 0.5)
    return f"{parts}; test {record.get('metric', '')} {record.get('test_at_best', float('nan')):.4f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m molpeg_bench.bench.scale",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv", required=True, 
                        help="the molecule CSV (e.g. from python -m molpeg_bench.bench.pcba_like)")
    parser.add_argument("--work", type=Path, default=Path("runs/scale"), help="store, cache and report folder")
    parser.add_argument("--out", type=Path, default=Path("runs/scale/scale.md"))
    parser.add_argument("--prune-ratio", type=float, default=0.6)
    parser.add_argument("--warmup-epochs", type=int, default=1, help="shared warm-up of the static methods")
    parser.add_argument("--static", default=",".join(STATIC), help="static methods, comma-separated")
    parser.add_argument("--only", default="", help="run only these steps (comma-separated names)")
    parser.add_argument("--memory-target", type=float, default=8.0, help="GB of peak memory per step")
    parser.add_argument("--cache-target", type=float, default=2.0, help="GB per cache folder")
    args = parser.parse_args(argv)
    cache, store = args.work / "cache", args.work / "store"
    os.environ["MOLPEG_CACHE_DIR"] = str(cache.resolve())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    log_path = args.out.with_suffix(".log")
    plan = steps(args.csv, store, args.work / "report", args.prune_ratio, args.warmup_epochs,
                 tuple(filter(None, args.static.split(","))))
    if args.only:
        plan = [s for s in plan if s.name in args.only.split(",")]
    rows = ["| step | wall | peak memory | caches after the step | the run's own split |", "|---|---|---|---|---|"]
    failed = 0
    for i, step in enumerate(plan, 1):
        print(f"[{i}/{len(plan)}] {step.name} ...", flush=True)
        before = set(store.glob("*.json"))
        seconds, peak, code = run_step(step, log_path)
        sizes = {name: folder_gb(cache / name) for name in CACHES}
        flags = (" **over target**" if peak > args.memory_target else "") + ("" if code == 0 else f" **exit {code}**")
        cache_text = ", ".join(f"{n} {gb:.2f} GB" + (" **over**" if gb > args.cache_target else "")
                               for n, gb in sizes.items() if gb > 0)
        record = describe(newest_record(store, before))
        row = f"| {step.name} | {seconds / 60:.1f} min | {peak:.2f} GB{flags} | {cache_text} | {record} |"
        print(row, flush=True)
        rows.append(row)
        failed += code != 0
        args.out.write_text("\n".join(rows) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
