"""The run's ``fidelity``: ``paper`` (default) follows the paper's text; ``code`` fills in every option that
reproduces a reference implementation: the official MolPeg code (``Data-reindeer/MolPeg``) for MolPeg and
around it and for the static methods it ships (Herding, K-Means, Least Confidence, Entropy, Forgetting,
GraNd), DeepCore's main.py defaults for those only DeepCore ships (CD, Craig, DeepFool, Glister).

Each part stays a named option: a method declares its code-faithful values (``code_options``) and where
they come from (``code_reference``; None: no reference implementation exists, so no bundle: EL2N,
Influence, DP), and the switch fills them in wherever the run's options do not name them (explicit options
win). The run-level conventions of the code are already this suite's defaults whatever the switch says
(``RUN_LEVEL``).
"""

from __future__ import annotations

from typing import Any

from molpeg_bench.methods import get_method
from molpeg_bench.methods.options import non_default

FIDELITIES = ("paper", "code")
# run-level choices of the official code that are already the defaults of every run (nothing to set)
RUN_LEVEL = {
    "loss_convention": "official (per-sample BCE averaged over all tasks; batch loss / valid entries)",
    "budget_rounding": "floor (k = int(r·N))",
    "split": "random 80/10/10, random.shuffle seeded 42, cut points int(0.8n), int(0.1n)",
    "metric": "per-task ROC-AUC / AP over tasks with both classes, averaged; test at best valid (strict)",
}


def resolve_options(method: str, options: dict, fidelity: str) -> dict:
    """The canonical method options of a run: those that differ from the method's defaults, plus, under
    ``code``, every option the code bundle names (explicit ones kept), so re-resolving changes nothing."""
    if fidelity not in FIDELITIES:
        raise ValueError(f"fidelity must be one of {FIDELITIES}, got {fidelity!r}")
    cls = get_method(method)
    bundle = cls.code_options if fidelity == "code" else {}
    resolved = cls.resolve_options({**bundle, **options})
    canonical = non_default(resolved)
    for name in bundle:
        value = getattr(resolved, name)
        canonical[name] = list(value) if isinstance(value, tuple) else value
    return canonical


def runs_as_molpeg(method: str, options: dict) -> bool:
    """A whole-data run made as the official code makes it: MolPeg at keep ratio 1."""
    return method == "whole" and options.get("schedule") == "molpeg"


def pruner_options(method: str, options: dict, fidelity: str) -> tuple[str, dict]:
    """The method and options the runner builds: a whole-data run with ``schedule=molpeg`` is MolPeg
    (with the code bundle under ``code``)."""
    if runs_as_molpeg(method, options):
        return "molpeg", resolve_options("molpeg", {}, fidelity)
    return method, options


def describe_bundle() -> list[str]:
    """Lines of ``methods`` / ``--help``: what ``--fidelity code`` sets, where it comes from, and the methods
    with no reference implementation."""
    from molpeg_bench.methods import available_methods

    lines, without = ["--fidelity code sets (explicit --option values win):"], []
    for name in available_methods():
        cls = get_method(name)
        bundle: dict[str, Any] = cls.code_options
        reference = getattr(cls, "code_reference", "")
        if bundle:
            source = f" [{reference}]" if reference else ""
            lines.append(f"    {name}: " + ", ".join(f"{k}={v}" for k, v in bundle.items()) + source)
        elif hasattr(cls, "code_reference") and reference is None:
            without.append(name)
    if any(get_method(name).code_options.get("balance") for name in available_methods()):
        lines.append("    balance=True selects per class of a single-task classification dataset; on another "
                     "dataset the run is refused: add --option balance=false")
    if without:
        lines.append("    no reference implementation, so no bundle (run as under paper): " + ", ".join(without))
    lines.append("    already the default under both: " + "; ".join(f"{k} {v}" for k, v in RUN_LEVEL.items()))
    return lines
