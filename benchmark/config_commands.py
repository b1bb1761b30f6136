"""The command side of experiments as files: ``sweep --config FILE [--set KEY=VALUE]``, ``sweep GRID
--show-config`` and ``run --config RECORD.json``. Each only turns its input into run configs; the sweep and
the run themselves are those of ``benchmark.commands``."""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
from pathlib import Path

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.experiments.config_dump import document_from_configs, dump
from molpeg_bench.benchmark.experiments.config_file import apply_sets, load_document, resolve

log = logging.getLogger("benchmark")

CONFIGS_DIR = ".configs"  # <store>/.configs/<hash>.toml: the resolved document of each file sweep
# sweep flags that build a named grid; a config file states all of it (a run setting: --set KEY=VALUE)
GRID_FLAGS = ("checkpoint", "seeds", "dataset", "data_option", "method", "fidelity", "data_dir", "no_pretraining")
# run flags a rerun of a record takes from the record (--store, --device and --data-dir apply)
RUN_FLAGS = ("prune_ratio", "seed", "epochs", "checkpoint", "option", "subsample", "split", "loss_convention",
             "fidelity", "data_option")


def file_sweep(args: argparse.Namespace) -> tuple[list[RunConfig], str, Path]:
    """The runs, name and store of ``sweep --config``; the resolved document is written beside the store
    (not on --dry-run), so ``sweep --config <store>/.configs/<hash>.toml`` repeats the sweep."""
    given = [f"--{flag.replace('_', '-')}" for flag in GRID_FLAGS if getattr(args, flag, None)]
    if args.grid or given or args.protocol != "geossl":
        named = [args.grid] if args.grid else given or ["--protocol"]
        raise ValueError(f"sweep --config states the whole grid: drop {', '.join(named)} (change a run setting "
                         "with --set KEY=VALUE, e.g. --set epochs=1)")
    source = str(args.config)
    document, configs, name = config_grid(args.config, args.set)
    store = Path(args.store or Path("runs") / name)
    if not args.dry_run:
        body = dump(document)  # named by the grid alone: the same grid from another file is kept once
        text = dump(document, f"resolved from {source}" + "".join(f" --set {s}" for s in args.set or []))
        path = store / CONFIGS_DIR / f"{hashlib.sha256(body.encode()).hexdigest()[:12]}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file():
            from molpeg_bench.fileio.atomic import write_atomic

            write_atomic(path, lambda f: f.write(text.encode()))
        log.info("resolved config of this sweep: %s (sweep --config %s repeats it)", path, path)
    return configs, name, store


def config_grid(path, sets=None) -> tuple[dict, list[RunConfig], str]:
    """A config file's grid with ``--set`` assignments applied: its document, its run configs and its name (the
    file's ``name``, else the file's stem), as the sweep of that file runs it."""
    document = apply_sets(load_document(path), sets or [])
    return document, resolve(document, str(path)), document.get("name") or Path(path).stem


def show_config(configs: list[RunConfig], grid: str, preset: str) -> str:
    """The grid as a config document to copy and edit."""
    header = (f"grid {grid} at preset {preset}: run it with `molpeg-bench sweep --config FILE`\n"
              "paths are relative to the working directory; a setting left out keeps RunConfig's default")
    return dump(document_from_configs(configs, f"{grid}-{preset}"), header)


def record_config(args: argparse.Namespace) -> RunConfig:
    """The config of the stored record ``args.config`` (a record, or a bare config object), with --device and
    --data-dir applied (where the run executes and finds its data, not part of the run id)."""
    given = [f"--{flag.replace('_', '-')}" for flag in RUN_FLAGS if getattr(args, flag, None) is not None]
    given += [flag for flag, default in (("--method", "whole"), ("--dataset", "hiv"))
              if getattr(args, flag[2:]) != default]
    if given:
        raise ValueError(f"run --config reruns the record's own config: drop {', '.join(given)}")
    try:
        data = json.loads(Path(args.config).read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{args.config}: not a JSON run record ({exc})") from None
    config = data.get("config", data) if isinstance(data, dict) else None
    if not isinstance(config, dict):
        raise ValueError(f"{args.config}: expected a run record (an object with a 'config') or a run config object")
    try:
        run = RunConfig.from_dict(config)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{args.config}: its config is not a run config: {exc}") from None
    execution = {"device": args.device, "data_dir": args.data_dir}
    return run.replace(**{k: v for k, v in execution.items() if v is not None})
