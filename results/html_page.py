"""One self-contained ``index.html`` per results folder, to share: the comparison pages (Tables 1-3 with the
paper's values beside ours, spread, p-values, the claims, realised kept share), the figures, the settings and
the software versions of the runs.

The tables are the comparison pages' own Markdown, rendered by Python-Markdown, so the page shows exactly
the numbers of ``table<N>_comparison.md``; figures are embedded as base64 PNG, styles inline, nothing is
fetched. The page is meant to be mailed, so it runs no script: every text from the runs is escaped
(``results.escape``, ``results.safe_markdown``) and a Content-Security-Policy forbids script and anything
fetched. The body carries what a headless-browser check reads back, counted here: its tables, their body
rows, its figures and those whose PNG decodes (``<body data-tables=... data-figures-decoded=...>``).
"""

from __future__ import annotations

import base64
import io
from collections import Counter
from collections.abc import Iterable, Mapping
from html.parser import HTMLParser
from pathlib import Path

from PIL import Image

from molpeg_bench.results.escape import html_text
from molpeg_bench.results.frame import origin_label
from molpeg_bench.results.names import file_slug
from molpeg_bench.results.release import machines
from molpeg_bench.results.safe_markdown import render
from molpeg_bench.results.settings import setting_fields, setting_id

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
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; overflow-wrap: anywhere; }
th { background: #f0f0f0; }
tbody tr:nth-child(even) { background: #fafafa; }
figure { display: inline-block; margin: 1em; vertical-align: top; } figure img { max-width: 100%; }
section { border-top: 2px solid #ddd; margin-top: 2em; } code { background: #f4f4f4; padding: 0 0.2em; }
"""
# no script, nothing fetched: images only as data: URLs, styles only inline
POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def figure_title(stem: str, datasets: Mapping[str, str] | None = None) -> str:
    """A figure's title from its file name; a dataset's file-name slug is shown as the dataset's name
    (``datasets``: slug -> name)."""
    prefix = next(p for p in FIGURES if stem.startswith(p))
    suffix = stem[len(prefix):].strip("_")
    suffix = (datasets or {}).get(suffix, suffix)
    return FIGURES[prefix] + (f" ({suffix})" if suffix else "")


def png_decodes(data: bytes) -> bool:
    """Whether ``data`` is a PNG image that decodes in full."""
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            image.load()
    except (OSError, SyntaxError, ValueError):
        return False
    return True


def _figure(path: Path, datasets: Mapping[str, str]) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    title = html_text(figure_title(path.stem, datasets))
    return (f'<figure><img alt="{title}" src="data:image/png;base64,{data}">'
            f"<figcaption>{title}</figcaption></figure>")


def _list(items: Iterable[str]) -> str:
    return "<ul>" + "".join(f"<li>{html_text(i)}</li>" for i in items) + "</ul>"


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
        rows = "".join(f"<tr><td>{html_text(k)}</td><td>{html_text(v)}</td></tr>" for k, v in sorted(fields.items()))
        parts.append(f"<h3>setting {html_text(key)} ({counts[key]} runs)</h3><table><tbody>{rows}</tbody></table>")
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


class _Counts(HTMLParser):
    """The tables and the table-body rows of an HTML text."""

    def __init__(self, text: str):
        super().__init__()
        self.tables = self.rows = self._in_body = 0
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tables += tag == "table"
        self.rows += tag == "tr" and self._in_body > 0
        self._in_body += tag == "tbody"

    def handle_endtag(self, tag: str) -> None:
        self._in_body -= tag == "tbody"


def _body_tag(content: str, figures: list[Path]) -> str:
    counts = _Counts(content)
    decoded = sum(png_decodes(p.read_bytes()) for p in figures)
    return (f'<body data-tables="{counts.tables}" data-table-rows="{counts.rows}" data-figures="{len(figures)}" '
            f'data-figures-decoded="{decoded}">')


def render_page(out_dir: str | Path, records: list[dict], title: str) -> str:
    """The page of ``out_dir``'s Markdown pages and PNG figures, with ``records``' settings."""
    out = Path(out_dir)
    pages = [out / name for name in PAGES if (out / name).is_file()]
    figures = sorted(p for p in out.glob("figure*.png"))
    if not pages and not figures:
        raise ValueError(f"nothing to put on a page in {out}: expected one of {', '.join(PAGES)} or figure*.png")
    datasets = {file_slug(r["config"]["dataset"]): r["config"]["dataset"] for r in records}
    sections = [(p.stem, _heading(p), render(p.read_text())) for p in pages]
    if figures:
        sections.append(("figures", "Figures", "<h2>Figures</h2>" + "".join(_figure(p, datasets) for p in figures)))
    sections.append(("settings", "Settings, machines, software", settings_section(records)))
    nav = " · ".join(f'<a href="#{key}">{html_text(name)}</a>' for key, name, _ in sections)
    body = [f"<h1>{html_text(title)}</h1>", f"<nav>{nav}</nav>"]
    body += [f'<section id="{key}">{content}</section>' for key, _, content in sections]
    content = "\n".join(body)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{POLICY}"><title>{html_text(title)}</title>'
            f"<style>{STYLE}</style></head>{_body_tag(content, figures)}\n{content}\n</body></html>\n")


def write_page(out_dir: str | Path, records: list[dict], title: str) -> Path:
    """Write ``index.html`` in ``out_dir`` (atomically: a partial page never replaces a complete one)."""
    path = Path(out_dir) / "index.html"
    partial = path.with_suffix(".html.partial")
    partial.write_text(render_page(out_dir, records, title))
    partial.replace(path)
    return path
