"""The shareable results page (``report html``): self-contained, the comparison's numbers and claims, the figures
embedded, the settings and versions of the runs; and it renders in a real headless browser (Chromium)."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image
import pytest

from molpeg_bench.benchmark.cli import main
from molpeg_bench.results.data_check import report_records
from molpeg_bench.results.html_page import render_page

RELEASE = Path(__file__).resolve().parents[2] / "results" / "releases" / "hiv-cpu-v1"
BROWSER = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
HEADLESS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]


@pytest.fixture(scope="module")
def release_page(tmp_path_factory) -> Path:
    """The release's page, built by the command a user runs, from the committed records alone."""
    out = tmp_path_factory.mktemp("release")
    assert main(["report", "release", "--preset", "release", "--store", str(RELEASE), "--out", str(out)]) == 0
    return out / "index.html"


def test_the_page_holds_the_comparison_the_claims_the_figure_and_the_settings(release_page):
    page = release_page.read_text()
    comparison = (release_page.parent / "table1_comparison.md").read_text()
    # the comparison's rows as table rows: MolPeg's cell at 60 % with its p-value against the whole data
    molpeg = next(line for line in comparison.splitlines() if line.startswith("| hiv | MolPeg | 60 |"))
    cells = [c.strip() for c in molpeg.strip("|").split("|")]
    row = re.search(r"<tr>\s*<td>hiv</td>\s*<td>MolPeg</td>\s*<td>60</td>(.*?)</tr>", page, re.S)
    assert row and [re.sub("<.*?>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row.group(1))] == cells[3:]
    assert "The paper&#x27;s claims on our runs" in page or "The paper's claims on our runs" in page
    assert "MolPeg is the best pruning method at every ratio" in page
    figure = re.search(r'<img alt="Figure 4[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert figure and base64.b64decode(figure.group(1)) == (release_page.parent / "figure4_hiv.png").read_bytes()
    # settings and versions of the runs: the checkpoint's content, the machine, torch's version
    sha = report_records(RELEASE)[0]["checkpoint"]["sha256"]
    assert sha in page and "AMD EPYC, 2 cores: 66 runs" in page and re.search(r"torch \d+\.\d+", page)
    # self-contained: nothing is fetched
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_a_folder_with_nothing_to_show_is_refused(tmp_path):
    with pytest.raises(ValueError, match="nothing to put on a page"):
        render_page(tmp_path, [], "empty")


@pytest.mark.browser
@pytest.mark.skipif(BROWSER is None, reason="no Chromium installed (Debian: apt-get install chromium)")
def test_the_page_renders_its_tables_and_figures_in_a_headless_browser(release_page, tmp_path):
    url = release_page.resolve().as_uri()
    dom = subprocess.run([BROWSER, *HEADLESS, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    body = re.search(r"<body ([^>]*)>", dom.stdout)
    assert body, f"no rendered body from {BROWSER}: {dom.stderr[-2000:]}"
    counts = dict(re.findall(r'data-([a-z-]+)="(\d+)"', body.group(1)))
    # the comparison's pipe table and the fidelity table and the settings render as tables with rows
    assert int(counts["tables"]) >= 3 and int(counts["table-rows"]) > 60
    # every embedded figure is a PNG that decodes (checked when the page was written; the page runs no script)
    assert int(counts["figures"]) >= 1 and counts["figures-decoded"] == counts["figures"]
    shot = tmp_path / "page.png"
    subprocess.run([BROWSER, *HEADLESS, "--window-size=1280,2000", f"--screenshot={shot}", url],
                   capture_output=True, timeout=120, check=True)
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (2000, 1280)
    # drawn, not blank: dark text pixels on the white page
    assert (pixels[..., :3].mean(axis=2) < 0.3).mean() > 0.01
