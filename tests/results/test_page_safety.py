"""Names and reasons from run records on the results page, in Table 1 and in figure file names: a method,
dataset or failure reason written as HTML, a Markdown link, a line break or ``|``, a Greek letter or 10 MB
is shown as text, kept in its cell, compiled by pdflatex and bounded; a CSV dataset in a sub-folder gets
its figure files. The page is checked as written and, where Chromium is installed, as a browser runs it."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from molpeg_bench.benchmark.cli import main
from molpeg_bench.results.escape import ELLIPSIS, LIMIT
from molpeg_bench.results.html_page import POLICY, render_page, write_page
from molpeg_bench.results.names import file_slug
from molpeg_bench.results.run_identity import record_run_id
from molpeg_bench.results.settings import setting_fields
from molpeg_bench.results.table1 import write_table1
from tests.support.records import make_record, write_store

BROWSER = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
NO_BROWSER = "no Chromium installed (Debian: apt-get install chromium)"
PWN = "document.body.dataset.pwned='x'"
SCRIPT = "hostile:<script>document['body']['dataset']['pwned']='x'</script>"
IMG = f'<img src=x onerror="{PWN}">'
LINK = f"[click](javascript:{PWN})"
SPLIT = "two|cells\nand | a line"
GREEK = "β-greedy"
DOLLARS = r"$\frac{$ cost"  # Matplotlib would read math (and raise)
HUGE = "10 MB " + "x" * 10_000_000
CSV = f"csv:/data/<svg onload=\"{PWN}\">/sub/my_assays.csv"
PAGE_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "nav", "a", "section", "p", "ul",
             "li", "table", "thead", "tbody", "tr", "th", "td", "code", "strong", "em", "figure", "img", "figcaption",
             "span"}


def _on(record: dict, dataset: str) -> dict:
    """``record`` moved to ``dataset`` (its run id follows its config, as a store expects)."""
    record["config"]["dataset"] = record["data_identity"]["dataset"] = dataset
    record["run_id"] = record_run_id(record)
    return record


def _failed(method: str, reason: str) -> dict:
    record = make_record("hiv", method, 60, 0, family="static")
    for key in ("metric", "pruner", "epochs", "best_epoch", "best_valid", "test_at_best"):
        record.pop(key)
    return {**record, "status": "failed", "failure": {"reason": reason}}


def hostile_records() -> list[dict]:
    """HIV and a CSV dataset in a sub-folder named like an SVG tag, two seeds each: the whole dataset, Random
    and methods named as HTML, a Markdown link, a split cell, a Greek letter and math (one from outside the
    suite, its origin named as HTML); a 10 MB software version; and a failed run with a hostile 10 MB reason."""
    records = []
    for seed in (0, 1):
        for dataset in ("hiv", CSV):
            records += [_on(make_record("hiv", "whole", 0, seed, 0.8), dataset),
                        _on(make_record("hiv", "random", 60, seed, 0.7 + 0.01 * seed), dataset)]
            records += [_on(make_record("hiv", m, 60, seed, 0.75, family="static"), dataset)
                        for m in (SCRIPT, IMG, LINK, SPLIT, GREEK, DOLLARS)]
    for record in records:
        if record["config"]["method"] == IMG:
            record["pruner"]["origin"] = {"found_by": "entry_point", "spec": f"{IMG}:Pruner",
                                          "distribution": SCRIPT, "distribution_version": "1"}
    records[0]["environment"] = {"versions": {"torch": HUGE}}
    return records + [_failed(SCRIPT, f"{IMG} | {LINK}\n{HUGE}")]


@pytest.fixture(scope="module")
def hostile_page(tmp_path_factory) -> Path:
    """The page of a store of hostile records, built by the command a user runs."""
    root = tmp_path_factory.mktemp("hostile")
    store = write_store(root / "store", hostile_records())
    assert main(["report", "html", "--preset", "smoke", "--store", str(store), "--out", str(root / "out")]) == 0
    return root / "out" / "index.html"


class Elements(HTMLParser):
    """The tags of an HTML text with their attributes, its text, and its longest text."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_only_the_pages_own_elements(html: str, figures: int) -> dict:
    """No element, attribute or link but the page's own; returns the body's attributes."""
    elements = Elements(html)
    assert {tag for tag, _ in elements.tags} <= PAGE_TAGS
    assert not [(tag, a) for tag, attrs in elements.tags for a in attrs if a.startswith("on")]
    images = [attrs for tag, attrs in elements.tags if tag == "img"]
    assert len(images) == figures and all(i["src"].startswith("data:image/png;base64,") for i in images)
    assert all(attrs.get("href", "#").startswith("#") for tag, attrs in elements.tags if tag == "a")
    body = next(attrs for tag, attrs in elements.tags if tag == "body")
    assert "data-pwned" not in body
    return body


def test_hostile_names_are_text_on_the_page(hostile_page):
    html = hostile_page.read_text()
    figures = sorted(hostile_page.parent.glob("figure*.png"))
    body = assert_only_the_pages_own_elements(html, len(figures))
    assert body["data-figures"] == body["data-figures-decoded"] == str(len(figures))
    assert f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">' in html
    assert "<script" not in html
    text = " ".join(Elements(html).text)
    # shown as written, not interpreted: the tag, the link, the Greek letter, the dataset's real name
    for shown in (SCRIPT, IMG, LINK, GREEK, DOLLARS, "two|cells and | a line", CSV):
        assert shown in text, shown
    # bounded: 10 MB of a software version and of a failure reason end at an ellipsis
    assert len(html) < 2_000_000 and max(map(len, re.findall("x{100,}", text))) < LIMIT
    assert ELLIPSIS in text


def test_the_markdown_pages_keep_each_name_in_its_cell_and_hold_no_html(hostile_page):
    """The ``.md`` files are shared too: inert in any Markdown renderer, not only the page's."""
    comparison = (hostile_page.parent / "table1_comparison.md").read_text()
    md = comparison.splitlines()
    header = next(line for line in md if line.startswith("| dataset | method |"))
    row = next(line for line in md if line.startswith("| hiv | two"))
    cells = re.split(r"(?<!\\)\|", row.strip().strip("|"))
    assert len(cells) == header.count("|") - 1 and cells[1].strip() == r"two\|cells and \| a line"
    failed = (hostile_page.parent / "failed_runs.md").read_text()
    assert "\n" not in failed.split("| hiv |")[1].rstrip("\n") and len(failed) < 2000
    for page in (comparison, failed):
        assert not re.search(r"<[A-Za-z/!?]", page) and "&lt;script&gt;" in page  # no tag, the names as entities
        assert "(javascript:" not in page.replace(r"\](", "")


def test_a_csv_dataset_in_a_sub_folder_gets_its_figures_named_by_a_slug(hostile_page):
    slug = file_slug(CSV)
    assert re.fullmatch(r"[A-Za-z0-9._-]+", slug) and slug != file_slug(CSV.replace("/sub/", "/other/"))
    assert all((hostile_page.parent / f"figure4_{name}.png").is_file() for name in (slug, "hiv"))
    assert f"Figure 4: test metric vs time efficiency ({CSV})" in " ".join(Elements(hostile_page.read_text()).text)
    assert file_slug("hiv") == "hiv"  # the suite's datasets keep their file names


@pytest.mark.latex
def test_hostile_names_compile_in_table1(tmp_path):
    records = [r for r in hostile_records() if r["status"] == "complete"]
    tex = write_table1(records, tmp_path)["table1.tex"].read_text()
    assert r"$\beta$-greedy" in tex and r"my\_assays.csv" in tex.lower() and "<" not in tex.replace("$<$", "")
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex not installed")
    doc = tmp_path / "doc.tex"
    doc.write_text("\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n" + tex
                   + "\\end{document}\n")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", doc.name], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]


def _browser(url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    return subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync", "--no-first-run",
                           f"--user-data-dir={profile}", *args, url],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.browser
@pytest.mark.skipif(BROWSER is None, reason=NO_BROWSER)
def test_no_hostile_script_runs_in_a_browser(hostile_page, tmp_path):
    dom = _browser(hostile_page.as_uri(), tmp_path, "--dump-dom")
    assert "<body" in dom.stdout, f"no rendered body from {BROWSER}: {dom.stderr[-2000:]}"
    assert_only_the_pages_own_elements(dom.stdout, len(list(hostile_page.parent.glob("figure*.png"))))


@pytest.mark.browser
@pytest.mark.skipif(BROWSER is None, reason=NO_BROWSER)
def test_the_pages_policy_stops_a_script_and_lets_its_figures_show(tmp_path):
    """A script that got onto the page anyway does not run, and an embedded figure is decoded and drawn."""
    magenta = np.zeros((300, 600, 3))
    magenta[..., 0] = magenta[..., 2] = 1.0
    matplotlib.image.imsave(tmp_path / "figure4_hiv.png", magenta)
    page = write_page(tmp_path, [make_record()], "policy")
    page.write_text(page.read_text().replace("<h1>", f"<script>{PWN}</script><h1>", 1))
    assert f"<script>{PWN}</script>" in page.read_text()
    dom = _browser(page.as_uri(), tmp_path, "--dump-dom").stdout
    assert "<body" in dom and "data-pwned" not in dom
    assert re.search(r'<body data-tables="1" data-table-rows="\d+" data-figures="1" data-figures-decoded="1">', dom)
    shot = tmp_path / "page.png"
    _browser(page.as_uri(), tmp_path, "--window-size=1000,1200", f"--screenshot={shot}")
    pixels = matplotlib.image.imread(shot)[..., :3]
    assert (np.abs(pixels - [1.0, 0.0, 1.0]).max(axis=2) < 0.05).mean() > 0.05  # the figure, drawn


def test_a_page_with_nothing_but_hostile_markdown_holds_no_markup(tmp_path):
    (tmp_path / "failed_runs.md").write_text(f"# Runs\n\n<div>{IMG}</div>\n\n{SCRIPT} ![x](data:x) "
                                             f"[a](&#106;avascript:{PWN}) [b](java\tscript:x) [c](#ok)\n")
    html = render_page(tmp_path, [], "raw")
    assert_only_the_pages_own_elements(html, 0)
    assert '<a href="#ok">c</a>' in html and "&lt;script&gt;" in html


def test_the_body_counts_only_the_figures_whose_png_decodes(tmp_path):
    noise = np.random.default_rng(0).random((40, 60, 3))
    matplotlib.image.imsave(tmp_path / "figure4_hiv.png", noise)
    whole = (tmp_path / "figure4_hiv.png").read_bytes()
    (tmp_path / "figure4_muv.png").write_bytes(whole[:-100])  # its header reads, its pixels are cut off
    (tmp_path / "figure5_hiv.png").write_bytes(b"GIF89a" + whole[6:])  # not a PNG
    html = render_page(tmp_path, [make_record()], "figures")
    rows = len(setting_fields(make_record()))  # the settings table: one row per field
    assert f'<body data-tables="1" data-table-rows="{rows}" data-figures="3" data-figures-decoded="1">' in html


def test_the_pages_own_paragraphs_are_shown_whole_and_a_text_beyond_any_paragraph_is_cut():
    from molpeg_bench.results.safe_markdown import PARAGRAPH_LIMIT, render

    paragraph = " ".join(f"sentence {i} of an explanation the page writes itself." for i in range(20))  # ~1,100
    assert paragraph in render(f"# Release\n\n{paragraph}\n") and ELLIPSIS not in render(paragraph)
    flood = render("y" * (10 * PARAGRAPH_LIMIT))
    assert ELLIPSIS in flood and max(map(len, re.findall("y+", flood))) < PARAGRAPH_LIMIT
