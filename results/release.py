"""The report of a published reproduction (``report release``, ``make release-report``): from a release
store's committed run records alone, offline, Table 1 with its comparison page and claims (the runs at the
paper's fidelity), Figure 4 with the CPU that measured its times, MolPeg under ``fidelity="code"`` beside
the whole-data run and the paper-fidelity MolPeg, and ``release.md``: how complete the grid is, what it
cost, how often the best validation epoch was the last, the machines and the checkpoint.

A cell is reported with the seeds it has; ``release.md`` lists every cell with fewer seeds than the
release asks for, so a partial release never claims more seeds than it holds.

The release is checked against its manifest (``results.manifest``) before anything is read: a changed,
removed or added record is refused by name, and ``release.md`` states the manifest's sha256.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from molpeg_bench.results.comparison import ci_text, p_text
from molpeg_bench.results.data_check import report_records
from molpeg_bench.results.figure4 import RUNTIME_PARTS, figure4
from molpeg_bench.results.frame import runs_frame
from molpeg_bench.results.manifest import MANIFEST, verify_manifest
from molpeg_bench.results.names import paper_method
from molpeg_bench.results.paper_claims import claims_markdown
from molpeg_bench.results.release_pairs import fidelity_pairs, fidelity_pairs_markdown
from molpeg_bench.results.release_rows import release_rows, release_rows_markdown, variant_label
from molpeg_bench.results.release_selections import selection_markdown, selection_rows
from molpeg_bench.results.stats import confidence_interval, paired_t_test
from molpeg_bench.results.table1 import write_table1

log = logging.getLogger(__name__)

FIDELITY_ROWS = (("MolPeg", "molpeg", "code"), ("MolPeg", "molpeg", "paper"), ("whole", "whole", "code"),
                 ("whole", "whole", "paper"))


def fidelity_of(record: dict) -> str:
    return record["config"].get("fidelity", "paper")


def machines(records: Iterable[dict]) -> Counter:
    """CPU (and GPU) names of the records' machines with their run counts; "unrecorded" for older records."""
    def name(record: dict) -> str:
        m = (record.get("environment") or {}).get("machine") or {}
        if not m:
            return "unrecorded"
        return f"{m.get('cpu')}, {m.get('cores')} cores" + (f", GPU {m['gpu']}" if m.get("gpu") else "")
    return Counter(name(r) for r in records)


def _per_seed(runs: pd.DataFrame, method: str, options: str = "{}") -> dict[int, float]:
    """seed -> test at the best epoch of ``method``'s runs stating ``options``; a ValueError when a seed has two
    runs (a release holds one run per cell and seed)."""
    rows = runs[(runs["method"] == method) & (runs["options"] == options)]
    seeds = rows["seed"].astype(int)
    if seeds.duplicated().any():
        twice = sorted(set(seeds[seeds.duplicated()]))
        raise ValueError(f"{method} ({options}): more than one run at seed(s) {twice}; a release holds one run per "
                         "cell and seed")
    return dict(zip(seeds, rows["test_at_best"].astype(float), strict=True))


def fidelity_frame(paper: pd.DataFrame, code: pd.DataFrame, ratio: int) -> pd.DataFrame:
    """MolPeg under each fidelity (each option variant its own row) and the whole-data run under each: mean, std,
    seeds, 95 % interval, per-seed values and the paired t-test against the whole-data run under the paper's text
    (over common seeds)."""
    paper_ratio = paper[(paper["prune_ratio"] == ratio) | (paper["method"] == "whole")]
    code_ratio = code[(code["prune_ratio"] == ratio) | (code["method"] == "whole")]
    whole = _per_seed(paper_ratio, "whole")
    rows = []
    for name, method, fidelity in FIDELITY_ROWS:
        runs = code_ratio if fidelity == "code" else paper_ratio
        variants = ["{}"] if method == "whole" else sorted(
            runs.loc[runs["method"] == method, "options"].unique(), key=lambda o: (o != "{}", o))
        for options in variants:
            values = _per_seed(runs, method, options)
            if not values:
                continue
            series = pd.Series(values).sort_index()
            test = None if (method, fidelity) == ("whole", "paper") else paired_t_test(values, whole)
            stated = "".join(f", `{k}={v}`" for k, v in sorted(json.loads(options).items()))
            rows.append({"run": f"{name}, `--fidelity {fidelity}`{stated}", "mean": series.mean(),
                         "std": series.std(ddof=1), "seeds": len(series),
                         "ci95": ci_text(*confidence_interval(series.to_list())),
                         "per_seed": " / ".join(f"{v:.2f}" for v in series),
                         "minus_whole": math.nan if test is None else test.mean_difference,
                         "p_vs_whole": "" if test is None else p_text(test.p_value, test.n_pairs)})
    return pd.DataFrame(rows)


def best_epoch_last(runs: pd.DataFrame) -> tuple[int, int]:
    """(runs whose best validation epoch is their last, runs)."""
    return int((runs["best_epoch"] == runs["epochs"]).sum()), len(runs)


Cell = tuple  # (method, ratio in %, fidelity) or (method, ratio in %, fidelity, stated options as canonical JSON)


def missing_cells(runs: pd.DataFrame, seeds: int, expected: Iterable[Cell] | Mapping[Cell, int] = ()) -> list[str]:
    """The cells (method, ratio in %, fidelity, stated options) holding fewer seeds than the grid asks for, with
    the seeds they hold; ``expected``: the release grid's cells, so a cell with no run at all is listed too,
    each asking for ``seeds`` or, given as a mapping, for its own number of seeds."""
    wanted = {(*c, "{}")[:4]: n for c, n in (expected.items() if isinstance(expected, Mapping)
                                             else ((c, seeds) for c in expected))}
    counts = runs.groupby(["method", "prune_ratio", "fidelity", "options"])["seed"].nunique().to_dict()
    lines = []
    for m, r, f, o in dict.fromkeys([*wanted, *counts]):
        held, asked = counts.get((m, r, f, o), 0), wanted.get((m, r, f, o), seeds)
        if held < asked:
            lines.append(f"{paper_method(m)} at {r} % ({variant_label(f, o)}): {held} of {asked} seeds")
    return lines


def release_markdown(name: str, runs: pd.DataFrame, fidelity: pd.DataFrame, claims: pd.DataFrame,
                     records: list[dict], seeds: int, ratio: int, expected: Iterable[Cell] | Mapping[Cell, int] = (),
                     manifest_sha256: str | None = None, rows: pd.DataFrame | None = None,
                     selections: pd.DataFrame | None = None, pairs: pd.DataFrame | None = None) -> str:
    rows = release_rows(runs) if rows is None else rows
    selections = selection_rows(records) if selections is None else selections
    last, total = best_epoch_last(runs)
    spent = runs[list(RUNTIME_PARTS)].astype(float).sum(axis=1).sum()
    threads = Counter(int((r.get("environment") or {}).get("num_threads") or 0) for r in records)
    checkpoints = Counter(f"{r['checkpoint'].get('name')} sha256 {r['checkpoint'].get('sha256')}"
                          for r in records if r.get("checkpoint"))
    lines = [f"# Release {name}", "",
             f"{total} complete run records; {runs.groupby(['method', 'prune_ratio', 'fidelity']).ngroups} cells.",
             *([] if manifest_sha256 is None else
               ["", f"The records match the release's `{MANIFEST}` (sha256 `{manifest_sha256}`)."]),
             "", "## Cells with fewer seeds than the release asks for", ""]
    lines += [f"- {c}" for c in missing_cells(runs, seeds, expected)] or ["- none: every cell holds every seed"]
    pairs = fidelity_pairs(runs) if pairs is None else pairs
    lines += ["", *claims_markdown(claims), *release_rows_markdown(rows), *fidelity_pairs_markdown(pairs),
              *selection_markdown(selections)]
    lines += ["## MolPeg under each fidelity beside the whole-data run", "",
              f"Test ROC-AUC (%) at the best validation epoch, {ratio} % pruned (the whole data: 0 %); paired t-test "
              "against the whole-data run under the paper's text over common seeds; each option variant its own row.",
              "",
              "| run | mean ± sd | seeds | 95 % interval | per seed | minus whole | p vs whole |",
              "|---|---|---|---|---|---|---|"]
    for row in fidelity.itertuples():
        diff = "" if math.isnan(row.minus_whole) else f"{row.minus_whole:+.2f}"
        spread = "" if math.isnan(row.std) else f" ± {row.std:.2f}"
        lines.append(f"| {row.run} | {row.mean:.2f}{spread} | {row.seeds} | {row.ci95} | {row.per_seed} | "
                     f"{diff} | {row.p_vs_whole} |")
    lines += ["", "## Compute and machines", "",
              f"- compute: {spent / 3600:.2f} h of run time (warm-up + scoring + training + evaluation as the "
              f"records charge them; a shared warm-up is charged to every run that used it), threads per run: "
              + ", ".join(f"{t} ({n} runs)" for t, n in sorted(threads.items())),
              "- machines: " + "; ".join(f"{m} ({n} runs)" for m, n in machines(records).most_common()),
              f"- best validation epoch = the last epoch in {last} of {total} runs",
              "- checkpoint: " + "; ".join(f"{c} ({n} runs)" for c, n in checkpoints.most_common())]
    return "\n".join(lines) + "\n"


def write_release(store_root: str | Path, out_dir: str | Path, *, name: str | None = None, seeds: int = 3,
                  ratio: int = 60, preset: str = "release",
                  expected: Iterable[Cell] | Mapping[Cell, int] = ()) -> dict[str, Path]:
    """Every output of the release in ``out_dir``; returns name -> path. ``seeds``: the seeds the release asks
    for (fewer are marked in Table 1 and listed in ``release.md``); ``expected``: the grid's cells (method,
    ratio in %, fidelity), so that cells without any run are listed as well. ``ManifestMismatch`` (a
    ValueError) naming the files when the release is not the one its manifest lists."""
    store_root, out = Path(store_root), Path(out_dir)
    manifest_sha256 = verify_manifest(store_root)
    log.info("release %s matches its %s (sha256 %s)", store_root, MANIFEST, manifest_sha256)
    records = report_records(store_root)
    if not records:
        raise ValueError(f"no complete run records under {store_root}")
    by_fidelity = {f: [r for r in records if fidelity_of(r) == f] for f in ("paper", "code")}
    paper = runs_frame(by_fidelity["paper"], store_root)
    code = runs_frame(by_fidelity["code"], store_root)
    runs = pd.concat([paper.assign(fidelity="paper"), code.assign(fidelity="code")], ignore_index=True)
    out.mkdir(parents=True, exist_ok=True)
    paths = dict(write_table1(paper, out, spread=True, seeds_per_preset={preset: seeds}))
    cpus = ", ".join(m for m, _ in machines(by_fidelity["paper"]).most_common())
    try:
        paths.update({p.name: p for p in figure4(paper, out, "hiv", ratio, subtitle=f"times measured on {cpus}")})
    except ValueError as exc:  # a release with no pruned run yet
        log.warning("Figure 4 skipped: %s", exc)
    fidelity = fidelity_frame(paper, code, ratio)
    fidelity.to_csv(out / "release_fidelity.csv", index=False, float_format="%.4g")
    paths["release_fidelity.csv"] = out / "release_fidelity.csv"
    page = out / "release.md"
    claims = pd.read_csv(paths["table1_claims.csv"], keep_default_na=False)
    rows = release_rows(runs)
    rows.to_csv(out / "release_rows.csv", index=False, float_format="%.4g")
    paths["release_rows.csv"] = out / "release_rows.csv"
    pairs = fidelity_pairs(runs)
    pairs.to_csv(out / "release_pairs.csv", index=False, float_format="%.4g")
    paths["release_pairs.csv"] = out / "release_pairs.csv"
    selections = selection_rows(records)
    selections.to_csv(out / "release_selections.csv", index=False, float_format="%.4g")
    paths["release_selections.csv"] = out / "release_selections.csv"
    page.write_text(release_markdown(name or store_root.name, runs, fidelity, claims, records, seeds, ratio,
                                     expected if isinstance(expected, Mapping) else list(expected), manifest_sha256,
                                     rows, selections, pairs))
    paths["release.md"] = page
    return paths
