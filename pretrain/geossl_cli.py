"""Command line: ``molpeg-bench pretrain-3d --preset smoke --encoder painn --out checkpoints/smoke``."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from molpeg_bench.benchmark.models.atom_index import ATOM_INDICES
from molpeg_bench.pretrain.geossl_train import ENCODERS, PRESETS, geossl_preset, pretrain_geossl


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="molpeg-bench pretrain-3d", description="GeoSSL-DDM pretraining of the "
                                "3D encoders (PaiNN with H, SchNet heavy atoms) on a corpus with RDKit conformers. "
                                "Writes <out>/geossl_ddm_<encoder>.pt (best epoch), .final.pt and their .json; "
                                "rerunning continues an interrupted run.")
    p.add_argument("--encoder", choices=[*ENCODERS, "both"], default="both")
    p.add_argument("--preset", choices=sorted(PRESETS), default="smoke")
    p.add_argument("--corpus", help="auto (default: pcqm4m-v2-train.sdf when in the data directory, else "
                   "moses), pcqm4mv2, moses or smiles:PATH")
    p.add_argument("--max-molecules", type=int)
    p.add_argument("--conformer-mode", choices=["etkdg_mmff", "etkdg", "gem_mmff10"])
    p.add_argument("--atom-index", choices=ATOM_INDICES, help="embedding rows of the atoms (default "
                   "atomic_number; the Geom3D family's indexings put H on the frozen zero padding row)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--mask-ratio", type=float, help="keep a random BFS subgraph of floor((1 - m) N) + 1 atoms of "
                   "each molecule, redrawn every step (default 0: whole molecules; GeoSSL also ran 0.3)")
    p.add_argument("--num-levels", type=int, help="noise levels L (default 50; GeoSSL also ran 30)")
    p.add_argument("--gamma", type=float, help="loss weight exponent γ (default 2; GeoSSL also ran 0.05, 5, 10)")
    p.add_argument("--seed", type=int)
    p.add_argument("--device")
    p.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="conformer generation workers")
    p.add_argument("--out", type=Path, help="output directory (default: checkpoints/<preset>)")
    p.add_argument("--data-dir", type=Path, help="where moses_train.csv.gz lies (default: $MOLPEG_DATA_DIR)")
    p.add_argument("--restart", action="store_true", help="ignore an existing resume state in --out")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    overrides = {k: getattr(args, k) for k in ("corpus", "max_molecules", "conformer_mode", "atom_index", "epochs",
                                               "batch_size", "mask_ratio", "num_levels", "gamma", "seed", "device")}
    out = args.out or Path("checkpoints") / args.preset
    try:
        for encoder in ENCODERS if args.encoder == "both" else [args.encoder]:
            pretrain_geossl(geossl_preset(args.preset, encoder, **overrides), out, data_dir=args.data_dir,
                            processes=args.processes, restart=args.restart)
    except FileNotFoundError as exc:
        raise SystemExit(f"error: {exc}") from None


if __name__ == "__main__":
    main()
