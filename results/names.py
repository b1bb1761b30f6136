"""Names: our dataset ids and registry method names -> the paper's, and their labels in tables and figures."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

PAPER_METHODS = {
    "whole": "Whole Dataset",
    "random": "Random",
    "cd": "CD",
    "herding": "Herding",
    "kmeans": "K-Means",
    "least_confidence": "Least Confidence",
    "entropy": "Entropy",
    "forgetting": "Forgetting",
    "grand_4": "GraNd-4",
    "grand_20": "GraNd-20",
    "el2n_20": "EL2N-20",
    "deepfool": "DeepFool",
    "craig": "Craig",
    "glister": "Glister",
    "influence": "Influence",
    "dp": "DP",
    "soft_random": "Soft Random",
    "epsilon_greedy": "epsilon-greedy",
    "ucb": "UCB",
    "infobatch": "InfoBatch",
    "molpeg": "MolPeg",
}

# our dataset -> the paper's Table 1 dataset it reproduces (absent: no paper number to compare with)
PAPER_DATASETS = {"hiv": "HIV", "ogbg-molhiv": "HIV", "pcba": "PCBA"}
DATASET_NOTES = {
    "muv": "paper reports PCBA; MUV is a stand-in",
    "nci-tpsa": "sanity task, not a paper dataset",
}
DATASET_LABELS = {"hiv": "HIV", "ogbg-molhiv": "HIV (OGB)", "pcba": "PCBA", "muv": "MUV",
                  "nci-tpsa": "NCI-TPSA"}
METRIC_LABELS = {"roc_auc": "ROC-AUC", "average_precision": "AP"}
LOWER_IS_BETTER = ("mae", "rmse", "mse")  # error metrics (e.g. QM9 MAE): the smallest value is the best
UNSCALED_METRICS = ("mae_mev", "mae")  # in their own unit (meV; a CSV target's units) in frames and tables; others %
FAMILY_ORDER = ("static", "dynamic")
FAMILY_LABELS = {"static": "Static pruning", "dynamic": "Dynamic pruning"}
SLUG_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
SLUG_TAIL = 40  # characters of a name kept in its slug (the end: a CSV path's file name)


def paper_method(method: str) -> str:
    """The paper's name of a registry method (the registry name itself when the paper has none)."""
    return PAPER_METHODS.get(method, method)


def paper_dataset(dataset: str) -> str | None:
    return PAPER_DATASETS.get(dataset)


def dataset_note(dataset: str) -> str:
    """Why a dataset has no paper number ('' when it has one)."""
    if dataset in PAPER_DATASETS:
        return ""
    return DATASET_NOTES.get(dataset, "not a paper dataset")


def dataset_label(dataset: str) -> str:
    return DATASET_LABELS.get(dataset, dataset.upper())


def metric_label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric)


def higher_is_better(metric: str) -> bool:
    """False for error metrics (``LOWER_IS_BETTER``, also as a prefix: ``mae_mev``), True otherwise."""
    return not str(metric).lower().startswith(LOWER_IS_BETTER)


def metric_scale(metric: str | None) -> float:
    """Factor from a record's metric value to the tables' unit: 1 for ``UNSCALED_METRICS``, else 100 (%)."""
    return 1.0 if metric in UNSCALED_METRICS else 100.0


def family_label(family: str) -> str:
    return FAMILY_LABELS.get(family, f"{family.capitalize()} pruning")


def dataset_order(datasets: Iterable[str]) -> list[str]:
    """Known datasets in the paper's order first, then the others alphabetically."""
    known = list(DATASET_LABELS)
    unique = set(datasets)
    return [d for d in known if d in unique] + sorted(unique - set(known))


def family_order(families: Iterable[str]) -> list[str]:
    """Static, then dynamic, then any other family alphabetically ('whole' excluded)."""
    unique = set(families) - {"whole"}
    return [f for f in FAMILY_ORDER if f in unique] + sorted(unique - set(FAMILY_ORDER))


def file_slug(name: str) -> str:
    """``name`` as a file-name part (e.g. the dataset of ``figure4_<slug>.png``): unchanged when it is a short
    run of letters, digits, ``.``, ``_``, ``-`` (``hiv``, ``ogbg-molhiv``); otherwise its end in those characters
    and 8 hex digits of its sha256, so two names that read alike still get two files and a name always the
    same one (``csv:/data/sub/my assays.csv`` -> ``csv-data-sub-my-assays.csv-<hash>``)."""
    if not SLUG_CHARS.search(name) and len(name) <= SLUG_TAIL and not name.startswith("."):
        return name
    readable = SLUG_CHARS.sub("-", name)
    if len(readable) > SLUG_TAIL:  # its end, from a word's start
        readable = readable[-SLUG_TAIL:].split("-", 1)[-1]
    readable = readable.strip("-.")
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{readable}-{digest}" if readable else digest
