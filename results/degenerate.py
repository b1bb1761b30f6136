"""Why a run's result should not be read as a method's quality: a degenerate selection or a model below chance.

``degenerate_reasons(record)`` returns one short sentence per rule a run record breaks (none: an empty list):

1. **Class share.** A class (negatives or positives, labels summed over tasks) kept below 0.5x its random
   share (the fraction k / N a uniform random subset keeps in expectation), where a random subset would keep
   that few with probability under 1 % (the binomial tail of drawing each member at the random share), so
   that a class of a few molecules (22 positives of a 480-molecule training set, 4.4 kept in expectation) is
   not flagged for chance alone. A class kept *above* its share is not flagged: on a rare-positive task the
   hardness rules keep every positive (2-2.5x at 60 % pruned: every GraNd, EL2N, Craig, Forgetting and
   uncertainty run of the first full-HIV release, Forgetting the best static row at 84.3), which rebalances
   the classes rather than breaking the label relation; keeping too few of a class is what went with collapse
   there (Glister 0 and 29 of 1,151 positives, Influence 84 and 149).
   From the selection's ``diagnostics`` (``benchmark.selection.diagnostics``); a record without them (an
   older one) is judged on its positives alone, from ``kept_positives`` / ``train_positives`` and the share
   ``n_selected`` / the training split's size.
2. **Kept set below chance.** The reference model ranks the kept molecules below chance: their ROC-AUC
   (``diagnostics.kept_metric``) is under 0.5.
3. **Last epoch below chance.** The test ROC-AUC of the last epoch is under 0.5, for every complete ROC-AUC
   record, static or not: the fine-tuned model learned the label relation inverted.

Rules 2 and 3 apply to ROC-AUC only (chance is 0.5 there; average precision's chance is the positive rate,
and a regression metric has none). Numbers are given as the record holds them (ROC-AUC as a fraction).
Reads plain dicts and imports nothing heavy, for the pages that list the reasons.
"""

from __future__ import annotations

import math

SHARE_LOW = 0.5  # a class kept below this multiple of its random share
CHANCE_TAIL = 0.01  # ... and a random subset keeps that few with a smaller probability
CHANCE_AUC = 0.5
ROC_AUC = "roc_auc"


def degenerate_reasons(record: dict) -> list[str]:
    """The reasons ``record`` (a run record) is degenerate, each a sentence with its numbers; [] when none."""
    if not isinstance(record, dict):
        raise TypeError(f"record must be a run record (a dict), got {type(record).__name__}")
    selection = record.get("selection") or {}
    diagnostics = selection.get("diagnostics") or {}
    return [*class_share_reasons(record, selection, diagnostics), *kept_metric_reasons(diagnostics),
            *last_epoch_reasons(record)]


def class_share_reasons(record: dict, selection: dict, diagnostics: dict) -> list[str]:
    """Rule 1, for each class the record counts."""
    classes = diagnostics.get("classes")
    if classes is None and not diagnostics:
        classes = {"positives": _positives_from_selection(record, selection)}
    reasons = []
    for name, counts in (classes or {}).items():
        if counts and _off_random_share(counts["kept"], counts["total"], counts["random_share"]):
            total, share = counts["total"], counts["random_share"]
            reasons.append(f"{name} kept at {counts['kept'] / total / share:.2f}x their random share "
                           f"({counts['kept']} of {total}; a random subset keeps about {total * share:.0f})")
    return reasons


def kept_metric_reasons(diagnostics: dict) -> list[str]:
    """Rule 2."""
    kept, rest = diagnostics.get("kept_metric"), diagnostics.get("rest_metric")
    if diagnostics.get("metric") != ROC_AUC or kept is None or not kept < CHANCE_AUC:
        return []
    rest_text = "undefined" if rest is None else f"{rest:.2f}"
    return [f"the reference model ranks the kept set below chance (ROC-AUC {kept:.2f} on the kept set, "
            f"{rest_text} on the pruned rest)"]


def last_epoch_reasons(record: dict) -> list[str]:
    """Rule 3."""
    epochs = record.get("epochs") or []
    if record.get("status") != "complete" or record.get("metric") != ROC_AUC or not epochs:
        return []
    last = epochs[-1]
    test = last.get("test")
    if not isinstance(test, int | float) or math.isnan(test) or not test < CHANCE_AUC:
        return []
    return [f"test ROC-AUC at the last epoch ({last.get('epoch', len(epochs))}) is {test:.2f}, below chance "
            f"({CHANCE_AUC})"]


def _off_random_share(kept: int, total: int, share: float) -> bool:
    """Rule 1's test: below SHARE_LOW x the random share and beyond chance."""
    if not total or not 0 < share < 1 or kept / total / share >= SHARE_LOW:
        return False
    from scipy.stats import binom  # only when a share is off: the pages that import this module stay light

    return bool(binom.cdf(kept, total, share) < CHANCE_TAIL)


def _positives_from_selection(record: dict, selection: dict) -> dict | None:
    """Rule 1's positives of a record without diagnostics: its kept / training positives and kept share."""
    kept, total, selected = (selection.get(k) for k in ("kept_positives", "train_positives", "n_selected"))
    n_train = ((record.get("dataset") or {}).get("split_sizes") or {}).get("train")
    if None in (kept, total, selected, n_train) or not n_train:
        return None
    return {"kept": kept, "total": total, "random_share": selected / n_train}
