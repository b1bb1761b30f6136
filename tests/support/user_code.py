"""Methods from outside the suite, as a user writes them: a module file in a folder of their own, importable
in this process and in workers started from the repository root."""

from __future__ import annotations

import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOY = textwrap.dedent('''
    """Keeps the molecules with the highest index: a deterministic static method for tests."""
    import numpy as np

    from molpeg_bench.methods.base import Selection, StaticPruner


    class KeepLast(StaticPruner):
        def coreset(self, ctx):
            return Selection(np.arange(self.n_samples - self.k, self.n_samples))
''')


def write_module(folder: Path, name: str, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(source)
    return path
