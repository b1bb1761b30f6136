"""Loading a pretrained encoder (strict) and describing which checkpoint produced a run.

Accepts the Hu et al. key layout (``x_embedding1.weight``, ``gnns.0.mlp.0.weight``, ...) as saved by
pretrain-gnns, GraphMAE and GraphCL, optionally wrapped (``{"state_dict": ...}``) or prefixed with
``gnn.`` / ``encoder.`` / ``module.``; a full fine-tuning model's ``state_dict`` (the encoder under one
of those prefixes plus a prediction head: ``head.*``, or ``graph_pred_linear.*`` in pretrain-gnns) loads
its encoder part, and the head is ignored (logged, and listed under ``ignored_keys``).
"""

from __future__ import annotations

import json
import logging
import pickle
import re
import zipfile
from pathlib import Path

import torch
from torch import nn

from molpeg_bench.fileio.checksums import file_sha256

log = logging.getLogger(__name__)

NO_PRETRAINING = "no pretraining"
ENCODER_PREFIXES = ("module.", "gnn.", "encoder.")
HEAD_PREFIXES = ("head.", "graph_pred_linear.")


def _unwrap(obj: object, path: Path) -> tuple[dict[str, torch.Tensor], list[str]]:
    """The encoder's state dict and the (sorted) prediction-head keys left out of it."""
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ValueError(f"checkpoint {path}: expected a state dict of tensors, got {type(obj).__name__}")
    head: list[str] = []
    for prefix in ENCODER_PREFIXES:
        encoder_keys = [k for k in obj if k.startswith(prefix)]
        others = [k for k in obj if not k.startswith(prefix)]
        if encoder_keys and all(k.startswith(HEAD_PREFIXES) for k in others):
            head += sorted(others)
            obj = {k[len(prefix):]: obj[k] for k in encoder_keys}
    return obj, head


def _read(path: Path) -> object:
    """``torch.load`` of a tensors-only file; a ValueError naming the file and what was expected otherwise."""
    if path.is_dir():
        raise ValueError(f"checkpoint {path} is a directory; expected a .pt file holding a state dict")
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Weights only load failed" in str(exc) and zipfile.is_zipfile(path):
            raise ValueError(f"checkpoint {path} holds pickled Python objects (e.g. a whole nn.Module), not a "
                             "state dict of tensors; save it with torch.save(model.state_dict(), path)") from None
        raise ValueError(f"checkpoint {path} is not a PyTorch file (torch.save of a state dict)") from None
    except Exception as exc:  # torch raises RuntimeError, EOFError, KeyError, ... on foreign or torn files
        reason = str(exc).splitlines()[0].split(". ")[0] if str(exc) else type(exc).__name__
        raise ValueError(f"checkpoint {path} cannot be read: truncated or not a PyTorch file ({reason})") from None


def _architecture(state: dict[str, torch.Tensor]) -> str:
    """``layers×width GIN`` of a Hu et al. GIN state dict (``?`` where it cannot be told), else the tensor count."""
    layers = {int(m.group(1)) for k in state if (m := re.match(r"gnns\.(\d+)\.", k))}
    if not layers and "x_embedding1.weight" not in state:
        return f"non-GIN ({len(state)} tensors)"
    width = state["x_embedding1.weight"].shape[1] if "x_embedding1.weight" in state else "?"
    return f"{len(layers) if layers else '?'}×{width} GIN"


def _listed(keys: list[str]) -> str:
    return str(keys[:3])[:-1] + (f", ... ({len(keys)} in all)]" if len(keys) > 3 else "]")


def load_encoder_checkpoint(encoder: nn.Module, path: str | Path) -> dict:
    """Load ``path`` into ``encoder`` strictly; raise ``ValueError`` listing every offending key.
    Returns the checkpoint description recorded in run records (see ``describe_checkpoint``), plus
    ``ignored_keys``: the prediction-head keys of a full fine-tuning model, not loaded."""
    path = Path(path)
    state, head = _unwrap(_read(path), path)
    own = encoder.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shape = sorted(f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
                   for k in set(own) & set(state) if state[k].shape != own[k].shape)
    if missing or unexpected or shape:
        raise ValueError(
            f"checkpoint {path} does not match the encoder architecture: it has a {_architecture(state)} "
            f"encoder, the run wants {_architecture(own)}:"
            + (f"\n  missing keys: {_listed(missing)}" if missing else "")
            + (f"\n  unexpected keys: {_listed(unexpected)}" if unexpected else "")
            + (f"\n  shape mismatches: {_listed(shape)}" if shape else ""))
    _check_atom_index(encoder, path)
    _check_finite(state, path)
    encoder.load_state_dict(state, strict=True)
    if head:
        log.warning("checkpoint %s: loaded the encoder of a fine-tuning model; its prediction head (%s) "
                    "was ignored", path, ", ".join(head))
    return dict(describe_checkpoint(path), ignored_keys=head)


def _metadata(path: Path) -> dict:
    """The ``<checkpoint>.json`` written beside the weights by the pretraining runs ({} when absent)."""
    meta_file = path.with_suffix(".json")
    return json.loads(meta_file.read_text()) if meta_file.is_file() else {}


def _check_atom_index(encoder: nn.Module, path: Path) -> None:
    """Weights trained under one atom indexing read wrong rows under another, yet load strictly: refuse."""
    wanted = getattr(getattr(encoder, "config", None), "atom_index", None)
    recorded = _metadata(path).get("atom_index")
    if wanted is not None and recorded is not None and wanted != recorded:
        raise ValueError(f"checkpoint {path} was pretrained with atom_index={recorded!r}, the run's encoder uses "
                         f"{wanted!r}; set model_options atom_index={recorded!r} or use another checkpoint")


def _check_finite(state: dict[str, torch.Tensor], path: Path) -> None:
    """NaN or infinite weights would only surface later, as an unattributed "Input contains NaN": refuse."""
    bad = sorted(k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all()))
    if bad:
        raise ValueError(f"checkpoint {path} holds NaN or infinite values in {_listed(bad)}; expected finite "
                         "weights (pretrain it again, or use an earlier checkpoint)")


def describe_checkpoint(path: str | Path | None) -> dict:
    """A readable name (pretraining method / corpus / molecules, from the ``<checkpoint>.json`` metadata
    beside the weights; else file stem + sha256 prefix), the path, the sha256 and the metadata."""
    if path is None:
        return {"name": NO_PRETRAINING}
    path = Path(path)
    meta = _metadata(path)
    digest = file_sha256(path)
    corpus = meta.get("corpus") or {}
    if meta.get("method") and corpus.get("name"):  # e.g. "graphmae / moses 50000"
        name = f"{meta['method']} / {corpus['name']} {meta.get('n_molecules', '')}".strip()
    else:
        name = f"{path.stem} ({digest[:8]})"
    return {"name": name, "path": str(path), "sha256": digest, "method": meta.get("method"),
            "corpus": corpus.get("name"), "n_molecules": meta.get("n_molecules"), "epochs": meta.get("epochs")}
