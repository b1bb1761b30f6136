"""What each static row of a release kept, from the selection diagnostics its records carry.

Table 1 prints a low number; this says why, seed by seed summed up per row (method, fidelity, stated options):
how many training positives the selection kept and each class's kept share against what a random subset keeps
(1.00 = random), the reference model's ROC-AUC on the kept molecules and on the pruned rest (above the rest:
the rule kept what the model gets right; below: the hard ones), its mean predicted probability of the kept
positives and negatives beside all of them (a hardness rule on a rare-positive task keeps positives the model
rates low and negatives it rates high, the pairing a fine-tuned model can learn inverted), and what the method
itself reports: Glister's validation-loss change and how often its update changed a pick, DP's converged starts
and which start won. Records without diagnostics (dynamic rows, the whole data, older records) are left out.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

import pandas as pd

from molpeg_bench.results.escape import markdown_text
from molpeg_bench.results.frame import stated_options
from molpeg_bench.results.names import paper_method
from molpeg_bench.results.release_rows import row_order, variant_label
from molpeg_bench.results.settings import canonical

COLUMNS = ["method", "fidelity", "options", "seeds", "positives_kept_min", "positives_kept_max", "train_positives",
           "positives_share_ratio", "negatives_share_ratio", "kept_auc", "rest_auc", "prob_kept_positives",
           "prob_all_positives", "prob_kept_negatives", "prob_all_negatives", "method_report"]


def _mean(values: Iterable[float | None]) -> float:
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    return sum(finite) / len(finite) if finite else math.nan


def _class(selection: dict, name: str, key: str) -> float | None:
    classes = (selection.get("diagnostics") or {}).get("classes") or {}
    return (classes.get(name) or {}).get(key)


def method_report(selections: list[dict]) -> str:
    """What the method reports about its own search, over seeds, in words ("" when it reports nothing)."""
    parts = []
    changes = [s["validation_loss_change"] for s in selections if "validation_loss_change" in s]
    if changes:
        effective = sum(bool(s.get("update_effective")) for s in selections)
        picks = [int(s["update_changed_picks"]) for s in selections if s.get("update_changed_picks") is not None]
        changed = "" if not picks else (f"{min(picks)}" if min(picks) == max(picks) else f"{min(picks)}–{max(picks)}")
        parts.append(f"validation loss change {_mean(changes):.1e} (step {selections[0].get('lr')}); "
                     f"the update changed a pick in {effective} of {len(selections)} seeds"
                     + (f" ({changed} of {selections[0].get('n_selected')} picks)" if picks else ""))
    searches = [s for s in selections if s.get("starts")]
    if searches:
        starts = [start for s in searches for start in s["starts"]]
        won = Counter(s["starts"][s["winning_start"]]["start"] for s in searches
                      if isinstance(s.get("winning_start"), int) and 0 <= s["winning_start"] < len(s["starts"]))
        parts.append(f"{sum(bool(t.get('converged')) for t in starts)} of {len(starts)} swap searches converged; "
                     "won: " + ", ".join(f"{kind} {n}×" for kind, n in won.most_common()))
    return "; ".join(parts)


def selection_rows(records: Iterable[dict]) -> pd.DataFrame:
    """One row per (method, fidelity, stated options) of the records whose selection carries diagnostics: the
    whole data first (the reference model on all of the training set), then the paper's row order, each
    method under the paper's text first."""
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for record in records:
        selection = record.get("selection") or {}
        if not selection.get("diagnostics"):
            continue
        key = (record["config"]["method"], record["config"].get("fidelity", "paper"),
               canonical(stated_options(record)))
        groups.setdefault(key, []).append(selection)
    rows = []
    for (method, fidelity, options), selections in sorted(groups.items(), key=lambda item: row_order(*item[0])):
        kept = [s["kept_positives"] for s in selections if s.get("kept_positives") is not None]
        diagnostics = [s["diagnostics"] for s in selections]
        rows.append({
            "method": method, "fidelity": fidelity, "options": options, "seeds": len(selections),
            "positives_kept_min": min(kept, default=math.nan), "positives_kept_max": max(kept, default=math.nan),
            "train_positives": selections[0].get("train_positives"),
            "positives_share_ratio": _mean(_class(s, "positives", "share_ratio") for s in selections),
            "negatives_share_ratio": _mean(_class(s, "negatives", "share_ratio") for s in selections),
            "kept_auc": 100 * _mean(d.get("kept_metric") for d in diagnostics),
            "rest_auc": 100 * _mean(d.get("rest_metric") for d in diagnostics),
            **{f"prob_{which}_{name}": _mean(_class(s, name, f"mean_prob_{which}") for s in selections)
               for name in ("positives", "negatives") for which in ("kept", "all")},
            "method_report": method_report(selections)})
    return pd.DataFrame(rows, columns=COLUMNS)


def _number(value: float, digits: int) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _kept(row) -> str:
    if math.isnan(row.positives_kept_min):
        return ""
    low, high = int(row.positives_kept_min), int(row.positives_kept_max)
    return (f"{low}" if low == high else f"{low}–{high}") + f" of {row.train_positives}"


def selection_markdown(rows: pd.DataFrame) -> list[str]:
    """The section of ``release.md``: one line per static row and variant."""
    if rows.empty:
        return []
    lines = ["## What each static selection kept", "",
             "From the selection diagnostics of each record (the run seed's shared warm-up model judging the kept "
             "set), over seeds: training positives kept (range); kept share over a random subset's share per class "
             "(1.00 = random); the reference model's ROC-AUC (%) on the kept molecules and on the rest (mean); its "
             "mean predicted probability of the kept positives beside all positives, and of the kept negatives "
             "beside all negatives; what the method reports of its own search.", "",
             "| method | run | seeds | positives kept | share vs random (pos / neg) | AUC kept / rest | "
             "p(kept pos) / p(all pos) | p(kept neg) / p(all neg) | method reports |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows.itertuples(index=False):
        cells = (paper_method(r.method), variant_label(r.fidelity, r.options), r.seeds, _kept(r),
                 f"{_number(r.positives_share_ratio, 2)} / {_number(r.negatives_share_ratio, 2)}",
                 f"{_number(r.kept_auc, 1)} / {_number(r.rest_auc, 1)}",
                 f"{_number(r.prob_kept_positives, 3)} / {_number(r.prob_all_positives, 3)}",
                 f"{_number(r.prob_kept_negatives, 3)} / {_number(r.prob_all_negatives, 3)}", r.method_report)
        lines.append("| " + " | ".join(markdown_text(str(c)) for c in cells) + " |")
    return lines + [""]
