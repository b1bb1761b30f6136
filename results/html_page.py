"""One self-contained ``index.html`` per results folder, to share: the comparison pages (Tables 1-3 with the
paper's values beside ours, spread, p-values, the claims, realised kept share), the figures, the settings and
the software versions of the runs.

The tables are the comparison pages' own Markdown, rendered by Python-Markdown, so the page shows exactly
the numbers of ``table<N>_comparison.md``; figures are embedded as base64 PNG, styles inline, nothing is
fetched. A small script counts, once the page has loaded, the tables and the figures the browser decoded
(``<body data-tables=... data-figures-decoded=...>``): what a headless-browser check reads back.
"""

from __future__ import annotations

import base64
import html
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import markdown

from results.frame import origin_label
from results.release import machines
from results.settings import setting_fields, setting_id

# the Markdown pages of a results folder, in the order the page shows them
PAGES = ("release.md", "table1_comparison.md", "table2_comparison.md", "table3_comparison.md", "failed_runs.md")
FIGURES = {"figure3": "Figure 3: MolPeg's hard and easy criteria over training",
           "figure4": "Figure 4: test metric vs time efficiency",
           "figure5": "Figure 5: robustness across pretraining checkpoints",
           "figure6": "Figure 6: MolPeg's β",
           "figure": "Figure"}
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; }
th { background: #f0f0f0; }
tbody tr:nth-child(even) { background: #fafafa; }
figure { display: inline-block; margin: 1em; vertical-align: top; } figure img { max-width: 100%; }
section { border-top: 2px solid #ddd; margin-top: 2em; } code { background: #f4f4f4; padding: 0 0.2em; }
"""
CHECK = """
window.addEventListener("load", () => {
  const figures = [...document.querySelectorAll("figure img")];
  document.body.dataset.tables = document.querySelectorAll("table").length;
  document.body.dataset.tableRows = document.querySelectorAll("tbody tr").length;
  document.body.dataset.figures = figures.length;
  document.body.dataset.figuresDecoded = figures.filter(i => i.complete && i.naturalWidth > 0).length;
});
"""


def figure_title(stem: str) -> str:
    prefix = next(p for p in FIGURES if stem.startswith(p))
    suffix = stem[len(prefix):].strip("_")
    return FIGURES[prefix] + (f" ({suffix})" if suffix else "")


def _figure(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    title = html.escape(figure_title(path.stem))
    return (f'<figure><img alt="{title}" src="data:image/png;base64,{data}">'
            f"<figcaption>{title}</figcaption></figure>")


def _list(items: Iterable[str]) -> str:
    return "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>"


def settings_section(records: list[dict]) -> str:
    """The settings the runs share (one table per setting id), the machines, the software versions and the
    methods from outside the suite."""
    by_setting: dict[str, dict] = {}
    counts: Counter = Counter()
    for record in records:
        fields = setting_fields(record)
        key = setting_id(fields)
        by_setting.setdefault(key, fields)
        counts[key] += 1
    parts = ["<h2>Settings</h2>"]
    for key, fields in by_setting.items():
        rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>"
                       for k, v in sorted(fields.items()))
        parts.append(f"<h3>setting {key} ({counts[key]} runs)</h3><table><tbody>{rows}</tbody></table>")
    versions = Counter(", ".join(f"{k} {v}" for k, v in sorted(((r.get("environment") or {}).get("versions")
                                                               or {}).items())) or "unrecorded"
                       for r in records)
    parts.append("<h2>Machines</h2>" + _list(f"{m}: {n} runs" for m, n in machines(records).most_common()))
    parts.append("<h2>Software</h2>" + _list(f"{v}: {n} runs" for v, n in versions.most_common()))
    origins = [(r["config"]["method"], (r.get("pruner") or {}).get("origin")) for r in records]
    external = sorted({f"{method}: {origin_label(origin)}, source sha256 {origin.get('source_sha256', '')[:12]}"
                       for method, origin in origins if origin})
    parts.append("<h2>Methods from outside the suite (★)</h2>"
                 + (_list(external) if external else "<p>none</p>"))
    return "".join(parts)


def _heading(page: Path) -> str:
    """A Markdown page's first heading (its file name when it has none)."""
    first = next((line for line in page.read_text().splitlines() if line.startswith("#")), page.stem)
    return first.lstrip("#").strip()


def render_page(out_dir: str | Path, records: list[dict], title: str) -> str:
    """The page of ``out_dir``'s Markdown pages and PNG figures, with ``records``' settings."""
    out = Path(out_dir)
    pages = [out / name for name in PAGES if (out / name).is_file()]
    figures = sorted(p for p in out.glob("figure*.png"))
    if not pages and not figures:
        raise ValueError(f"nothing to put on a page in {out}: expected one of {', '.join(PAGES)} or figure*.png")
    sections = [(p.stem, _heading(p), markdown.markdown(p.read_text(), extensions=["tables"])) for p in pages]
    if figures:
        sections.append(("figures", "Figures", "<h2>Figures</h2>" + "".join(_figure(p) for p in figures)))
    sections.append(("settings", "Settings, machines, software", settings_section(records)))
    nav = " · ".join(f'<a href="#{key}">{html.escape(name)}</a>' for key, name, _ in sections)
    body = [f"<h1>{html.escape(title)}</h1>", f"<nav>{nav}</nav>"]
    body += [f'<section id="{key}">{content}</section>' for key, _, content in sections]
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}</style><script>{CHECK}</script></head><body>\n" + "\n".join(body)
            + "\n</body></html>\n")


def write_page(out_dir: str | Path, records: list[dict], title: str) -> Path:
    """Write ``index.html`` in ``out_dir`` (atomically: a partial page never replaces a complete one)."""
    path = Path(out_dir) / "index.html"
    partial = path.with_suffix(".html.partial")
    partial.write_text(render_page(out_dir, records, title))
    partial.replace(path)
    return path
