"""What each subcommand of ``molpeg-bench`` does (``benchmark.cli`` parses the arguments): one
function per command, taking the parsed arguments and returning the exit code."""

from __future__ import annotations

import argparse
import functools
import json
import logging
from collections.abc import Callable
from pathlib import Path

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.config_commands import GRID_FLAGS, config_grid, file_sweep, record_config, show_config
from molpeg_bench.benchmark.data.sources import check_cache_writable
from molpeg_bench.benchmark.experiments import build_grid
from molpeg_bench.benchmark.experiments.grids import with_methods
from molpeg_bench.benchmark.experiments.presets import get_preset
from molpeg_bench.benchmark.fidelity import describe_bundle
from molpeg_bench.benchmark.report_commands import cmd_report, store_dir
from molpeg_bench.fileio.disk_full import DiskFull

log = logging.getLogger("benchmark")


def _stoppable(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """SIGTERM stops the command as Ctrl-C does (by default it would end the process on the spot): claims are
    released and no write is left half done. A full disk is one error line naming the file (exit code 2)."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        from molpeg_bench.slurm.lifetime import sigterm_raises

        try:
            with sigterm_raises():
                return command(args)
        except DiskFull as exc:
            log.error("%s", exc)
            return 2

    return run


@_stoppable
def cmd_run(args: argparse.Namespace) -> int:
    from molpeg_bench.benchmark.models.device import resolve_device
    from molpeg_bench.results.store import RunStore

    if args.config:
        config = record_config(args)
        args.store = args.store or str(Path("runs") / config.preset)
    else:
        config = _flag_config(args)
    resolve_device(config.device)
    RunStore(store_dir(args)).check_writable()
    check_cache_writable()
    record, path = _run_resumable(config, store_dir(args))
    if record["status"] != "complete":
        log.error("run failed: %s (recorded in %s)", record["failure"]["reason"], path)
        return 2
    print(f"{config.dataset} {config.method} prune={config.prune_ratio:g} seed={config.seed}: "
          f"test {record['metric']} at best valid epoch {record['best_epoch']} = {record['test_at_best']:.4f} "
          f"({record['timings']['total']:.1f} s, {record['sample_visits']} sample visits) -> {path}")
    return 0


def _flag_config(args: argparse.Namespace) -> RunConfig:
    """The run config the flags of ``run`` state, on top of the preset's settings."""
    preset = get_preset(args.preset)
    if args.method == "whole" and args.prune_ratio is not None:
        raise ValueError(f"--prune-ratio {args.prune_ratio:g} was given with --method whole, the unpruned "
                         "reference; leave it out or choose a pruning method (see `methods`)")
    log.info("preset %s (%s); --preset to choose another", preset.name, preset.description)
    subsample = preset.subsample.get(args.dataset) if args.subsample is None else (args.subsample or None)
    fields = dict(preset.run, preset=preset.name, subsample=subsample)
    overrides = {"dataset": args.dataset, "method": args.method, "prune_ratio": args.prune_ratio,
                 "seed": args.seed, "checkpoint": args.checkpoint, "method_options": dict(args.option or []),
                 "epochs": args.epochs, "device": args.device, "data_dir": args.data_dir,
                 "split": args.split, "loss_convention": args.loss_convention,
                 "data_options": dict(args.data_option or []) or None, "fidelity": args.fidelity}
    fields.update({k: v for k, v in overrides.items() if v is not None})
    if args.method == "whole":
        fields["prune_ratio"] = 0.0
    return RunConfig(**fields)


def _run_resumable(config: RunConfig, store_root: Path) -> tuple[dict, Path]:
    """Compute and store ``config``'s record as a sweep task does (``slurm.task.claim_run_store``), with its
    epoch checkpoint in ``<store>/.work/<run id>/``: a killed run resumes there, from a sweep or from ``run``."""
    from molpeg_bench.slurm.claims import Claims
    from molpeg_bench.slurm.task import ELSEWHERE, claim_run_store

    executed = claim_run_store(config, store_root, again=True, stop_on_error=True)
    if executed.outcome == ELSEWHERE:
        holder = Claims(store_root).holder(config.run_id()) or {}
        raise ValueError(f"run {config.run_id()} is being computed by pid {holder.get('pid')} on "
                         f"{holder.get('host')}; wait for it (its record lands in {store_root}) or stop it")
    return executed.record, executed.path


def _check_pretraining(args: argparse.Namespace) -> None:
    """The paper fine-tunes from a pretrained encoder: a paper-preset sweep needs --checkpoint, or an
    explicit --no-pretraining."""
    if args.checkpoint and args.no_pretraining:
        raise ValueError("--checkpoint and --no-pretraining contradict each other; give one")
    if args.preset == "paper" and not args.checkpoint and not args.no_pretraining:
        raise ValueError("the paper preset fine-tunes from a pretrained encoder (Table 1: GraphMAE): pass "
                         "--checkpoint PATH (e.g. from `molpeg-bench pretrain`), or --no-pretraining to sweep "
                         "from random initialisation on purpose")


def _grid_configs(args: argparse.Namespace) -> list[RunConfig]:
    configs = build_grid(args.grid, args.preset, args.checkpoint, args.seeds, args.protocol, args.dataset)
    if args.data_dir:
        configs = [c.replace(data_dir=args.data_dir) for c in configs]
    if args.data_option:
        configs = [c.replace(data_options={**c.data_options, **dict(args.data_option)}) for c in configs]
    if args.fidelity:
        configs = [c.replace(fidelity=args.fidelity) for c in configs]
    if getattr(args, "method", None):
        configs = with_methods(configs, args.grid, args.method, only=args.only_methods)
    return configs


@_stoppable
def cmd_sweep(args: argparse.Namespace) -> int:
    from molpeg_bench.slurm.preflight import check_cluster
    from molpeg_bench.slurm.profile import load_profile

    if args.show_config:
        if not args.grid:
            raise ValueError("--show-config prints a named grid: give its name (e.g. sweep table1 --show-config)")
        print(show_config(_grid_configs(args), args.grid, args.preset), end="")
        return 0
    if args.config:
        configs, label, store = file_sweep(args)
        args.store, shown = str(store), label
    elif not args.grid:
        raise ValueError("sweep needs a grid name or --config FILE")
    else:
        if args.set:
            raise ValueError("--set changes a config file's grid: use it with --config FILE")
        _check_pretraining(args)
        configs, label, shown = _grid_configs(args), f"{args.grid}-{args.preset}", f"{args.grid}/{args.preset}"
    profile = load_profile(args.profile, dict(args.cluster or [])) if args.executor == "slurm" else None
    if profile is not None and not args.dry_run:
        check_cluster(profile)  # in a second, before the grid's data files are hashed
    from molpeg_bench.slurm import start_sweep
    if args.dry_run:
        _list_runs(configs)
        return 0
    summary = start_sweep(configs, store_dir(args), executor=args.executor, jobs=args.jobs, profile=profile,
                          runs_per_task=args.runs_per_task, wait=args.wait, name=label,
                          threads=args.threads)
    print(f"sweep {summary.sweep_id} ({args.executor}) {shown}: {summary.total} runs, "
          f"{summary.skipped} already done, {summary.running_elsewhere} running elsewhere, "
          + (f"{len(summary.unreadable)} unreadable (left alone), " if summary.unreadable else "")
          + (f"{len(summary.completed)} computed, {len(summary.failed)} failed" if summary.finished else
             f"{summary.submitted} submitted as {len(summary.job_ids)} array task(s) of job "
             f"{summary.job_ids[0].split('_')[0]}") + f" -> {store_dir(args)}")
    if not summary.finished and not args.config:
        grid = f"{args.grid} --preset {args.preset}" + (f" --store {args.store}" if args.store else "")
        print(f"the arrays run on: watch with `molpeg-bench status {grid} --sweep {summary.sweep_id}`, "
              f"collect with `molpeg-bench collect {grid}` once they end, or sweep again with --wait "
              "(make ... WAIT=1) to wait for them")
    return 1 if summary.failed else 0


def _list_runs(configs: list[RunConfig]) -> None:
    """One line per run; a run whose data file is absent has no id yet (it hashes the file), so ``-``."""
    absent: dict[str, str] = {}
    for c in configs:
        run_id = "-"
        if c.dataset not in absent:
            try:
                run_id = c.run_id()
            except FileNotFoundError as exc:
                absent[c.dataset] = str(exc).split(";")[0]
        print(run_id, c.dataset, c.method, c.prune_ratio, c.seed, json.dumps(c.method_options),
              f"pcba_tasks={c.pcba_tasks}" if c.dataset == "pcba" else "")
    for reason in absent.values():
        print(f"(no run id: {reason})")


def _states(args: argparse.Namespace):
    from molpeg_bench.slurm import run_states
    from molpeg_bench.slurm.sweep import load_manifest

    if args.sweep:
        configs = [RunConfig.from_dict(c) for c in load_manifest(store_dir(args), args.sweep)["configs"]]
    elif args.config:
        configs = _config_file_grid(args)
    elif not args.grid:
        raise ValueError("which runs? give a grid name, --config FILE or --sweep ID")
    else:
        configs = _grid_configs(args)
    return run_states(configs, store_dir(args), log_lines=args.log_lines)


def _config_file_grid(args: argparse.Namespace) -> list[RunConfig]:
    """``status`` / ``collect --config FILE``: the file's runs (with ``--set``), in the store its sweep used
    (``--store``, default ``runs/<its name>``), at the file's preset; a named grid's flags do not apply to it."""
    given = [f"--{flag.replace('_', '-')}" for flag in GRID_FLAGS if getattr(args, flag, None)]
    if args.grid or given:
        raise ValueError(f"--config names the whole grid: drop {', '.join([args.grid] if args.grid else given)}")
    _, configs, name = config_grid(args.config, args.set)
    args.store, args.label = args.store or str(Path("runs") / name), name
    presets = {c.preset for c in configs}
    if len(presets) == 1:  # the report reads the runs of the file's preset
        args.preset = presets.pop()
    return configs


def cmd_status(args: argparse.Namespace) -> int:
    from molpeg_bench.slurm import status_report

    print(status_report(_states(args)))
    return 0


def cmd_collect(args: argparse.Namespace) -> int:
    from collections import Counter

    counts = Counter(s.state for s in _states(args))
    label = getattr(args, "label", None) or f"{args.grid}/{args.preset}"
    print(f"{label}: " + ", ".join(f"{counts[k]} {k}" for k in ("done", "running", "failed", "pending")))
    unfinished = counts["running"] + counts["pending"]
    if not counts["done"]:
        print("nothing to report yet" + (": collect again when runs are done" if unfinished else ""))
        return 0
    # every grid has a report of its name (a config file's: Table 1's, datasets x methods x ratios, in
    # out/<its name>); only the runs of the grid's checkpoint (--checkpoint)
    args.what, args.setting, args.spread = args.grid or "table1", None, False
    if args.config and not args.out:
        args.out = str(Path("out") / args.label)
    args.checkpoint = args.checkpoint[0] if args.checkpoint and len(args.checkpoint) == 1 else None
    try:
        code = cmd_report(args)
    except ValueError as exc:
        if not unfinished:
            raise
        print(f"nothing to report yet ({exc}): collect again when runs are done")
        return 0
    if unfinished:
        print(f"partial report: {unfinished} run(s) not done yet; collect again when they are")
    return code


def cmd_methods(args: argparse.Namespace) -> int:
    from molpeg_bench.methods import available_methods, get_method
    from molpeg_bench.methods.options import describe_field, option_fields

    for name in available_methods():
        cls = get_method(name)
        fields = option_fields(cls.Options)
        print(f"{name:14s} {cls.family:8s} {'' if fields else '(no options)'}")
        for f, kind in fields:
            print(f"    --option {describe_field(f, kind)}")
    print("\n".join(describe_bundle()))
    return 0


@_stoppable
def cmd_check_method(args: argparse.Namespace) -> int:
    """The contract check of one method (``benchmark.method_check``): one line per property, exit 1 on a ✗."""
    import time

    from molpeg_bench.benchmark.method_check import check_method

    t0 = time.perf_counter()
    outcomes = check_method(args.name, dict(args.option or []))
    for outcome in outcomes:
        print(outcome.line(), flush=True)
    failed = sum(not o.ok for o in outcomes)
    print(f"{args.name}: {len(outcomes) - failed} of {len(outcomes)} properties hold "
          f"({time.perf_counter() - t0:.1f} s)" + (f", {failed} broken" if failed else ""))
    return 1 if failed else 0
