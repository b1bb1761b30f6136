"""Command line: ``molpeg-bench run | sweep | status | collect | report | methods | check-method | pretrain |
pretrain-3d`` (also ``python -m molpeg_bench``).

Method options (``--option NAME=VALUE``) are typed: each value is converted to the option's declared type
and checked against its allowed values (``molpeg-bench methods`` lists them); a value that does not
fit is an error. Errors in the input (data files, arguments, checkpoints, store) end with exit code 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys

from molpeg_bench.benchmark.commands import (
    cmd_check_method,
    cmd_collect,
    cmd_methods,
    cmd_report,
    cmd_run,
    cmd_status,
    cmd_sweep,
)
from molpeg_bench.benchmark.experiments import GRIDS
from molpeg_bench.benchmark.experiments.presets import PRESETS
from molpeg_bench.benchmark.experiments.protocols import PROTOCOLS
from molpeg_bench.benchmark.fidelity import FIDELITIES, describe_bundle
from molpeg_bench.methods.registry import refuse_clash
from molpeg_bench.results.report import WHAT as REPORTS

log = logging.getLogger("benchmark")


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default (unless it has none) and keeps the description's line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or isinstance(action.default, bool) or "default" in (action.help or ""):
            return action.help or ""
        return super()._get_help_string(action)


def _parse_option(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--option expects NAME=VALUE, got {text!r}")
    name, value = text.split("=", 1)
    try:
        return name, json.loads(value)
    except json.JSONDecodeError:
        return name, value


DATA_OPTION_HELP = ("data option, repeatable; for csv:PATH: smiles_column, label_columns (comma-separated), "
                    "task_type (classification / regression), metric (roc_auc / average_precision / mae)")


def _add_fidelity(p: argparse.ArgumentParser) -> None:
    bundle = "; ".join(line.strip() for line in describe_bundle()[1:])
    p.add_argument("--fidelity", choices=FIDELITIES, default=None,
                   help="paper (default: the paper's text) or code: every option that reproduces the official "
                        f"MolPeg code, where --option does not name it. code sets {bundle}")


def build_parser() -> argparse.ArgumentParser:
    from molpeg_bench._version import suite_version

    parser = argparse.ArgumentParser(prog="molpeg-bench", description=__doc__, formatter_class=_HelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--version", action="version", version=f"molpeg-bench {suite_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, text) in FORWARDED.items():  # listed in --help; main() hands their arguments over whole
        sub.add_parser(name, help=text, add_help=False)
    # the pretrained encoders of a grid: sweep runs them, status and collect find their runs
    encoders = argparse.ArgumentParser(add_help=False)
    encoders.add_argument("--checkpoint", action="append",
                          help="pretrained encoder (.pt); repeat for the fig5 / pretraining grids")
    _add_run(sub)
    _add_sweep(sub, encoders)
    _add_grid_readers(sub, encoders)
    _add_report(sub)
    _add_method_commands(sub)
    return parser


def _presets() -> str:
    return ", ".join(f"{p.name} ({p.description})" for p in PRESETS.values())


def _grid_data(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", action="append", help="replace the grid's datasets, repeatable (e.g. "
                                                       "--dataset csv:my_assay.csv)")
    p.add_argument("--data-option", action="append", type=_parse_option, metavar="NAME=VALUE",
                   help=DATA_OPTION_HELP)


def _methods_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--method", action="append", metavar="NAME",
                   help="add a method's row to the grid (every dataset, ratio and seed of its Table 1 rows), "
                        "repeatable: a built-in name, an installed entry point of 'molpeg_bench.methods' or "
                        "module.path:ClassName")
    p.add_argument("--only-methods", action="store_true",
                   help="with --method: only the named methods and the whole-data runs")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", default="smoke", choices=sorted(PRESETS), help=f"size of the runs: {_presets()}")
    p.add_argument("--store", help="run-record folder (default runs/<preset>)")


def _add_run(sub: argparse._SubParsersAction) -> None:
    """``run``: one fine-tuning run."""
    run = sub.add_parser("run", formatter_class=_HelpFormatter,
                         help="one fine-tuning run; writes its record to the store")
    _common(run)
    run.add_argument("--dataset", default="hiv", help="hiv, ogbg-molhiv, pcba, muv, nci-tpsa, or csv:PATH (any "
                                                     "molecule CSV: a smiles column and numeric label columns)")
    run.add_argument("--data-option", action="append", type=_parse_option, metavar="NAME=VALUE",
                     help=DATA_OPTION_HELP)
    run.add_argument("--config", metavar="RECORD.json",
                     help="rerun a stored run record's config (into --store, default runs/<its preset>); "
                          "--device and --data-dir still apply")
    run.add_argument("--method", default="whole",
                     help="a built-in method (see `methods`), an installed entry point of group "
                          "'molpeg_bench.methods', or module.path:ClassName")
    run.add_argument("--prune-ratio", type=float, default=None,
                     help="fraction pruned, e.g. 0.6 (required by every method but whole)")
    run.add_argument("--seed", type=int, default=None, help="training seed, >= 0 (default 0)")
    run.add_argument("--epochs", type=int, default=None, help="override the preset's epochs")
    run.add_argument("--checkpoint", help="pretrained encoder (.pt); default: no pretraining")
    run.add_argument("--option", action="append", type=_parse_option, metavar="NAME=VALUE",
                     help="method option, repeatable (e.g. --option beta=0.1); typed: values are converted to "
                          "the option's type and checked against its allowed values, listed by `methods`")
    run.add_argument("--subsample", type=int, default=None,
                     help="molecules kept before splitting, 0 = all (default: the preset's)")
    run.add_argument("--split", choices=["random", "scaffold"], help="data split (default random)")
    run.add_argument("--loss-convention", choices=["official", "clean"], help="loss convention (default official)")
    run.add_argument("--device", help="cpu, cuda, cuda:N or auto (default: the preset's)")
    run.add_argument("--data-dir", help=f"raw data folder (default ${'MOLPEG_DATA_DIR'})")
    _add_fidelity(run)
    run.set_defaults(func=cmd_run)


def _add_sweep(sub: argparse._SubParsersAction, encoders: argparse.ArgumentParser) -> None:
    """``sweep``: a named grid or a config file's, on an executor."""
    sweep = sub.add_parser("sweep", formatter_class=_HelpFormatter, parents=[encoders],
                           help="run a named grid or a config file's, skipping runs already in the store")
    sweep.add_argument("grid", nargs="?", choices=sorted(GRIDS), help="a named grid (or --config FILE)")
    _common(sweep)
    sweep.add_argument("--config", metavar="FILE.toml",
                       help="the grid from a TOML file instead of a named one (docs/running.md#experiments-as-files); "
                            "its resolved form is kept as <store>/.configs/<hash>.toml; default store runs/<its name>")
    sweep.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="with --config: override a run setting or a grid key, repeatable; VALUE is a TOML value "
                            "(e.g. --set epochs=1 --set seeds=[0,1])")
    sweep.add_argument("--show-config", action="store_true",
                       help="print the named grid at --preset as a config file to copy and edit, and exit")
    sweep.add_argument("--no-pretraining", action="store_true",
                       help="fine-tune from random initialisation (required to sweep the paper preset without "
                            "--checkpoint)")
    sweep.add_argument("--seeds", type=int, nargs="+", help="replace the preset's seeds (e.g. --seeds 0 1 2 3 4)")
    sweep.add_argument("--protocol", choices=PROTOCOLS, default="geossl",
                       help="table2: QM9 fine-tuning protocol (molscaling: MSE, batch 256, warm-up + per-step "
                            "cosine, lr 1e-5 for U0, no pretrained encoder; run it into its own --store)")
    sweep.add_argument("--jobs", type=int, default=int(os.environ.get("MOLPEG_JOBS", 1)),
                       help="parallel worker processes on this machine (default $MOLPEG_JOBS or 1)")
    sweep.add_argument("--threads", type=int, help="local: torch threads per worker (default: cores // jobs)")
    sweep.add_argument("--data-dir", help="raw data folder (default $MOLPEG_DATA_DIR)")
    _grid_data(sweep)
    _methods_option(sweep)
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
    _add_fidelity(sweep)
    sweep.set_defaults(func=cmd_sweep)


def _add_grid_readers(sub: argparse._SubParsersAction, encoders: argparse.ArgumentParser) -> None:
    """``status`` and ``collect``: what a grid's sweep has done."""
    for name, func, text in (("status", cmd_status, "done / running / failed / pending runs of a grid, with "
                                                    "each failed run's error and log tail"),
                             ("collect", cmd_collect, "count what is done and write the grid's report from it")):
        p = sub.add_parser(name, formatter_class=_HelpFormatter, help=text, parents=[encoders])
        p.add_argument("grid", nargs="?", choices=sorted(GRIDS), help="a named grid (or --config FILE)")
        _common(p)
        p.add_argument("--config", metavar="FILE.toml",
                       help="the grid of a config file, as given to sweep (its runs: --store, default runs/<name>)")
        p.add_argument("--set", action="append", metavar="KEY=VALUE", help="with --config: as given to sweep")
        p.add_argument("--fidelity", choices=FIDELITIES, help="as given to sweep")
        p.add_argument("--seeds", type=int, nargs="+", help="as given to sweep")
        p.add_argument("--protocol", choices=PROTOCOLS, default="geossl", help="as given to sweep")
        p.add_argument("--data-dir", help="as given to sweep")
        _grid_data(p)
        _methods_option(p)
        p.add_argument("--sweep", help="only the runs of this sweep id (printed by sweep)")
        p.add_argument("--log-lines", type=int, default=15, help="log lines shown per failed run")
        p.set_defaults(func=func)
    sub.choices["collect"].add_argument("--out", help="output folder (default out/<preset>)")


def _add_report(sub: argparse._SubParsersAction) -> None:
    """``report``: tables and figures from the run records."""
    report = sub.add_parser("report", formatter_class=_HelpFormatter, help="tables and figures from the run records")
    report.add_argument("what", choices=REPORTS)
    _common(report)
    report.add_argument("--out", help="output folder (default out/<preset>)")
    report.add_argument("--checkpoint", "--checkpoint-name", dest="checkpoint",
                        help="only runs fine-tuned from this checkpoint: its label or name (e.g. 'no pretraining'), "
                        "a sha256 prefix (6+ hex digits) or its .pt file (matched by content)")
    report.add_argument("--setting", help="only runs of this setting id (listed when a table mixes settings)")
    report.add_argument("--spread", action="store_true", help="Table 1 cells print mean ± std (default: mean only)")
    report.add_argument("--grid", default="release", choices=("release", "release_v2"),
                        help="report release: the grid the release was swept from (its cells and their seeds)")
    report.add_argument("--config", metavar="FILE.toml",
                        help="report release: the config file the release was swept from, instead of --grid")
    report.set_defaults(func=cmd_report)


def _add_method_commands(sub: argparse._SubParsersAction) -> None:
    """``methods`` and ``check-method``."""
    methods = sub.add_parser("methods", formatter_class=_HelpFormatter,
                             help="list registered methods and their typed options with allowed values")
    methods.set_defaults(func=cmd_methods)

    check = sub.add_parser("check-method", formatter_class=_HelpFormatter,
                           help="check a method's contract (budget, determinism, weights, rotation, resume, "
                                "options): one line per property, exit 1 on a failure")
    check.add_argument("name", help="a built-in method, an entry point of 'molpeg_bench.methods' or "
                                    "module.path:ClassName")
    check.add_argument("--option", action="append", type=_parse_option, metavar="NAME=VALUE",
                       help="method option, repeatable")
    check.set_defaults(func=cmd_check_method)




def _named_methods(args: argparse.Namespace) -> list[str]:
    """The method names given on the command line (``--method``, repeatable or not, and check-method's NAME)."""
    named = getattr(args, "method", None) or []
    named = [named] if isinstance(named, str) else list(named)
    return named + ([args.name] if args.func is cmd_check_method else [])


# subcommands with a command line of their own: module, help line
FORWARDED = {"pretrain": ("molpeg_bench.pretrain.__main__", "GraphMAE / GraphCL pretraining of the GIN encoder "
                                                            "(molpeg-bench pretrain --help)"),
             "pretrain-3d": ("molpeg_bench.pretrain.geossl_cli", "GeoSSL-DDM pretraining of the PaiNN / SchNet "
                                                                 "encoders (molpeg-bench pretrain-3d --help)")}


def _forward(argv: list[str]) -> int:
    """Run a subcommand that parses its own arguments (``pretrain``, ``pretrain-3d``)."""
    import importlib

    importlib.import_module(FORWARDED[argv[0]][0]).main(argv[1:])
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in FORWARDED:
        return _forward(argv)
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        for name in _named_methods(args):
            refuse_clash(name)
        return args.func(args)
    except (ValueError, FileNotFoundError, PermissionError) as exc:
        log.error("%s", exc)
        return 2
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM in a sweep (slurm.lifetime.Stopped)
        signum = getattr(exc, "signum", signal.SIGINT)
        log.error("stopped by %s: unfinished runs keep their epoch checkpoints; run the same command again to "
                  "resume them", signal.Signals(signum).name)
        return 128 + signum
