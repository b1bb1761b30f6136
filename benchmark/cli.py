"""Command line: ``python -m benchmark run | sweep | status | collect | report | methods``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from benchmark.config import RunConfig
from benchmark.experiments import GRIDS, build_grid
from benchmark.presets import PRESETS, get_preset

log = logging.getLogger("benchmark")


def _store_dir(args: argparse.Namespace) -> Path:
    return Path(args.store or Path("runs") / args.preset)


def _parse_option(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--option expects NAME=VALUE, got {text!r}")
    name, value = text.split("=", 1)
    try:
        return name, json.loads(value)
    except json.JSONDecodeError:
        return name, value


def cmd_run(args: argparse.Namespace) -> int:
    from benchmark.run import run_finetune
    from results.store import RunStore

    preset = get_preset(args.preset)
    fields = dict(preset.run, preset=preset.name, subsample=preset.subsample.get(args.dataset))
    overrides = {"dataset": args.dataset, "method": args.method, "prune_ratio": args.prune_ratio,
                 "seed": args.seed, "checkpoint": args.checkpoint, "method_options": dict(args.option or []),
                 "epochs": args.epochs, "device": args.device, "data_dir": args.data_dir,
                 "split": args.split, "loss_convention": args.loss_convention}
    fields.update({k: v for k, v in overrides.items() if v is not None})
    if args.method == "whole":
        fields["prune_ratio"] = 0.0
    config = RunConfig(**fields)
    record = run_finetune(config)
    path = RunStore(_store_dir(args)).put(record)
    print(f"{config.dataset} {config.method} prune={config.prune_ratio:g} seed={config.seed}: "
          f"test {record['metric']} at best valid epoch {record['best_epoch']} = {record['test_at_best']:.4f} "
          f"({record['timings']['total']:.1f} s, {record['sample_visits']} sample visits) -> {path}")
    return 0


def _grid_configs(args: argparse.Namespace) -> list[RunConfig]:
    configs = build_grid(args.grid, args.preset, args.checkpoint, args.seeds)
    if args.data_dir:
        configs = [c.replace(data_dir=args.data_dir) for c in configs]
    return configs


def cmd_sweep(args: argparse.Namespace) -> int:
    from slurm import load_profile, start_sweep

    configs = _grid_configs(args)
    if args.dry_run:
        for c in configs:
            print(c.run_id(), c.dataset, c.method, c.prune_ratio, c.seed, json.dumps(c.method_options))
        return 0
    profile = load_profile(args.profile, dict(args.cluster or [])) if args.executor == "slurm" else None
    summary = start_sweep(configs, _store_dir(args), executor=args.executor, jobs=args.jobs, profile=profile,
                          runs_per_task=args.runs_per_task, wait=args.wait, name=f"{args.grid}-{args.preset}")
    print(f"sweep {summary.sweep_id} ({args.executor}) {args.grid}/{args.preset}: {summary.total} runs, "
          f"{summary.skipped} already done, {summary.running_elsewhere} running elsewhere, "
          + (f"{len(summary.completed)} computed, {len(summary.failed)} failed" if summary.finished else
             f"{summary.submitted} submitted as {len(summary.job_ids)} array task(s) {summary.job_ids[:1]}...")
          + f" -> {_store_dir(args)}")
    return 1 if summary.failed else 0


def _states(args: argparse.Namespace):
    from slurm import run_states
    from slurm.sweep import load_manifest

    if args.sweep:
        configs = [RunConfig.from_dict(c) for c in load_manifest(_store_dir(args), args.sweep)["configs"]]
    else:
        configs = _grid_configs(args)
    return run_states(configs, _store_dir(args), log_lines=args.log_lines)


def cmd_status(args: argparse.Namespace) -> int:
    from slurm import status_report

    print(status_report(_states(args)))
    return 0


def cmd_collect(args: argparse.Namespace) -> int:
    from collections import Counter

    counts = Counter(s.state for s in _states(args))
    print(f"{args.grid}/{args.preset}: " + ", ".join(f"{counts[k]} {k}" for k in ("done", "running", "failed",
                                                                                   "pending")))
    if not counts["done"]:
        print("nothing to report yet")
        return 0
    args.what, args.checkpoint_name = args.grid, None  # every grid has a report of its name
    return cmd_report(args)


def cmd_report(args: argparse.Namespace) -> int:
    from results.report import build_report

    out = Path(args.out or Path("out") / args.preset)
    paths = build_report(_store_dir(args), out, what=args.what, preset=args.preset, checkpoint=args.checkpoint_name)
    for p in paths:
        print(p)
    return 0


def cmd_methods(args: argparse.Namespace) -> int:
    import dataclasses

    from methods import available_methods, get_method

    for name in available_methods():
        cls = get_method(name)
        opts = {f.name: f.default for f in dataclasses.fields(cls.Options)}
        print(f"{name:14s} {cls.family:8s} {opts}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmark", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    presets = ", ".join(f"{p.name} ({p.description})" for p in PRESETS.values())

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--preset", default="smoke", choices=sorted(PRESETS), help=f"size of the runs: {presets}")
        p.add_argument("--store", help="run-record folder (default runs/<preset>)")

    run = sub.add_parser("run", help="one fine-tuning run; writes its record to the store")
    common(run)
    run.add_argument("--dataset", default="hiv", help="hiv, ogbg-molhiv, pcba, muv or nci-tpsa")
    run.add_argument("--method", default="whole", help="a registered method (see `methods`)")
    run.add_argument("--prune-ratio", type=float, default=None, help="fraction pruned, e.g. 0.6")
    run.add_argument("--seed", type=int, default=None)
    run.add_argument("--epochs", type=int, default=None, help="override the preset's epochs")
    run.add_argument("--checkpoint", help="pretrained encoder (.pt); default: no pretraining")
    run.add_argument("--option", action="append", type=_parse_option, metavar="NAME=VALUE",
                     help="method option, repeatable (e.g. --option beta=0.1)")
    run.add_argument("--split", choices=["random", "scaffold"])
    run.add_argument("--loss-convention", choices=["official", "clean"])
    run.add_argument("--device", help="cpu, cuda or auto")
    run.add_argument("--data-dir", help=f"raw data folder (default ${'MOLPEG_DATA_DIR'})")
    run.set_defaults(func=cmd_run)

    sweep = sub.add_parser("sweep", help="run a named grid, skipping runs already in the store")
    sweep.add_argument("grid", choices=sorted(GRIDS))
    common(sweep)
    sweep.add_argument("--checkpoint", action="append",
                       help="pretrained encoder (.pt); repeat for the fig5 / pretraining grids")
    sweep.add_argument("--seeds", type=int, nargs="+", help="replace the preset's seeds (e.g. --seeds 0 1 2 3 4)")
    sweep.add_argument("--jobs", type=int, default=int(os.environ.get("MOLPEG_JOBS", 1)),
                       help="parallel worker processes on this machine (default $MOLPEG_JOBS or 1)")
    sweep.add_argument("--data-dir", help="raw data folder (default $MOLPEG_DATA_DIR)")
    sweep.add_argument("--dry-run", action="store_true", help="list the runs without executing them")
    sweep.add_argument("--executor", choices=["debug", "local", "slurm"],
                       default=os.environ.get("MOLPEG_EXECUTOR", "local"),
                       help="debug: in this process; local: worker processes (default); slurm: job arrays")
    sweep.add_argument("--profile", help="slurm: cluster profile (TOML file or a name in slurm/profiles; "
                                         "default 'default')")
    sweep.add_argument("--cluster", action="append", type=_parse_option, metavar="NAME=VALUE",
                       help="slurm: override a profile field, repeatable (e.g. --cluster partition=a100)")
    sweep.add_argument("--runs-per-task", type=int, help="runs one task executes in turn (slurm: the profile's)")
    sweep.add_argument("--wait", action="store_true", help="slurm: block until every array task ended")
    sweep.set_defaults(func=cmd_sweep)

    for name, func, text in (("status", cmd_status, "done / running / failed / pending runs of a grid, with "
                                                    "each failed run's error and log tail"),
                             ("collect", cmd_collect, "count what is done and write the grid's report from it")):
        p = sub.add_parser(name, help=text)
        p.add_argument("grid", choices=sorted(GRIDS))
        common(p)
        p.add_argument("--checkpoint", action="append", help="as given to sweep")
        p.add_argument("--seeds", type=int, nargs="+", help="as given to sweep")
        p.add_argument("--data-dir", help="as given to sweep")
        p.add_argument("--sweep", help="only the runs of this sweep id (printed by sweep)")
        p.add_argument("--log-lines", type=int, default=15, help="log lines shown per failed run")
        p.set_defaults(func=func)
    sub.choices["collect"].add_argument("--out", help="output folder (default out/<preset>)")

    report = sub.add_parser("report", help="tables and figures from the run records")
    report.add_argument("what", choices=["table1", "fig3", "fig5", "fig6", "pretraining", "all"])
    common(report)
    report.add_argument("--out", help="output folder (default out/<preset>)")
    report.add_argument("--checkpoint-name", help="only runs fine-tuned from this checkpoint (e.g. 'no pretraining')")
    report.set_defaults(func=cmd_report)

    methods = sub.add_parser("methods", help="list registered methods and their options")
    methods.set_defaults(func=cmd_methods)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as exc:
        log.error("%s", exc)
        return 2
