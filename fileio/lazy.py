"""A package's public names imported from their modules on first use, so that importing one light module of
the package (``results.store``, ``benchmark.data.sources``) does not load the heavy ones (torch, RDKit, pandas).

In the package's ``__init__``: ``__all__, __getattr__ = lazy_names(__name__, {module: (name, ...), ...})``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, modules: Mapping[str, tuple[str, ...]]) -> tuple[list[str], Callable[[str], Any]]:
    """The package's ``__all__`` and its module ``__getattr__``, which imports each name of ``modules``
    (module -> the names it provides) when first asked for."""
    home = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name not in home:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(home[name]), name)

    return sorted(home), __getattr__
