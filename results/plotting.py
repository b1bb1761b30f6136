"""Matplotlib plumbing shared by the figures: Agg canvases (no pyplot state), mean ± std lines, saving."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

FORMATS = ("png", "pdf")


def panels(n: int, width: float = 4.2, height: float = 3.4) -> tuple[Figure, list[Axes]]:
    """A figure with ``n`` panels side by side, drawn by the Agg backend."""
    fig = Figure(figsize=(width * n, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, list(fig.subplots(1, n, squeeze=False)[0])


def mean_std_line(ax: Axes, x: pd.Series, mean: pd.Series, std: pd.Series, label: str) -> None:
    """A line of means with a shaded ± std band (no band where std is undefined, i.e. one seed)."""
    (line,) = ax.plot(x, mean, marker="o", markersize=3, label=label)
    spread = std.fillna(0.0)
    ax.fill_between(x, mean - spread, mean + spread, color=line.get_color(), alpha=0.2, linewidth=0)


def save(fig: Figure, out_dir: str | Path, stem: str) -> list[Path]:
    """Save ``fig`` as ``<stem>.png`` and ``<stem>.pdf`` under ``out_dir``; returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{stem}.{fmt}" for fmt in FORMATS]
    for path in paths:
        fig.savefig(path, dpi=150)
    return paths
