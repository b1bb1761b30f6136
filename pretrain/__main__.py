"""Command line: ``molpeg-bench pretrain --preset smoke --out checkpoints/smoke`` (see ``--help``)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from molpeg_bench.benchmark.data.sources import default_cache_dir
from molpeg_bench.fileio.atomic import check_writable
from molpeg_bench.pretrain.augment import SUBGRAPH_MODES
from molpeg_bench.pretrain.corpus import CORPUS_SPECS
from molpeg_bench.pretrain.train import METHODS, PRESETS, preset_config, pretrain


def _describe(preset: str) -> str:
    mae, cl = (preset_config(preset, m) for m in METHODS)
    gin, pad = mae.gin, "\n" + " " * 9
    return (f"corpus {mae.corpus}, GIN {gin.num_layers}x{gin.emb_dim} (dropout {gin.dropout:g}), "
            f"batch {mae.batch_size}, lr {mae.lr:g}, device {mae.device};"
            f"{pad}GraphMAE: {mae.epochs} epochs, mask rate {mae.mask_rate:g}, SCE gamma {mae.gamma:g};"
            f"{pad}GraphCL: {cl.epochs} epochs, views {cl.aug1}/{cl.aug2}, ratio {cl.aug_ratio:g}, "
            f"temperature {cl.temperature:g}")


EPILOG = f"""\
presets:
  smoke  {_describe("smoke")}.
         Offline (RDKit's bundled NCI molecules, 4,999); GIN of the fine-tuning smoke preset.
  paper  {_describe("paper")}.
         The methods' published molecular settings; PCQM4Mv2 is downloaded from OGB when online.
Options given explicitly replace the preset's values. Each method writes <out>/<method>.pt
(encoder weights, Hu et al. layout) and <out>/<method>.json (metadata), and after every epoch
<out>/<method>.resume.pt: rerunning the same command continues an interrupted run.
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="molpeg-bench pretrain", description="Pretrain a GIN encoder on "
                                "unlabelled molecules with GraphMAE and/or GraphCL.", epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--method", choices=[*METHODS, "both"], default="both", help="default: both")
    p.add_argument("--preset", choices=sorted(PRESETS), default="smoke", help="default: smoke")
    p.add_argument("--corpus", help=f"one of {', '.join(CORPUS_SPECS)} (default: the preset's)")
    p.add_argument("--max-molecules", type=int, help="seeded subsample of the corpus rows (default: all)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--num-layers", type=int)
    p.add_argument("--emb-dim", type=int)
    p.add_argument("--dropout", type=float)
    p.add_argument("--seed", type=int, default=0, help="model init, data order, masking/augmentation and "
                   "subsample seed (default: 0)")
    p.add_argument("--subgraph-mode", choices=SUBGRAPH_MODES, help="GraphCL subgraph views: grow (as the paper "
                   "describes; default) or official (as the reference code ran: seed atom's neighbours only)")
    p.add_argument("--device", help="cpu, cuda, cuda:N or auto (default: the preset's)")
    p.add_argument("--threads", dest="num_threads", type=int, help="torch CPU threads (default: the "
                   "preset's: smoke 1, paper torch's choice)")
    p.add_argument("--out", type=Path, help="output directory (default: checkpoints/<preset>)")
    p.add_argument("--name", help="checkpoint file stem (default: the method; single method only)")
    p.add_argument("--data-dir", type=Path, help="where moses_train.csv.gz / pcqm4m-v2/raw/data.csv.gz lie "
                   "(default: $MOLPEG_DATA_DIR)")
    p.add_argument("--cache-dir", type=Path, help="featurized-corpus cache (default: $MOLPEG_CACHE_DIR or "
                   "~/.cache/molpeg)")
    p.add_argument("--no-download", action="store_true", help="never download PCQM4Mv2")
    p.add_argument("--restart", action="store_true", help="ignore an existing resume state in --out")
    args = p.parse_args(argv)
    if args.name and args.method == "both":
        p.error("--name needs a single --method")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    overrides = {k: getattr(args, k) for k in ("corpus", "max_molecules", "epochs", "batch_size", "lr",
                                               "weight_decay", "num_layers", "emb_dim", "dropout", "seed",
                                               "device", "num_threads", "subgraph_mode")}
    out = args.out or Path("checkpoints") / args.preset
    try:  # before featurizing the corpus or training: a folder that cannot be written fails now
        check_writable(args.cache_dir or default_cache_dir(), "cache directory", "give another with --cache-dir")
        check_writable(out, "checkpoint folder", "give another with --out")
    except PermissionError as exc:
        raise SystemExit(f"error: {exc}") from None
    try:
        for method in METHODS if args.method == "both" else [args.method]:
            pretrain(preset_config(args.preset, method, **overrides), out, name=args.name, data_dir=args.data_dir,
                     cache_dir=args.cache_dir, download=not args.no_download, restart=args.restart)
    except FileNotFoundError as exc:  # a missing corpus: the message says what to put where
        raise SystemExit(f"error: {exc}") from None


if __name__ == "__main__":
    main()
