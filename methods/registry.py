"""Registry of pruning methods: ``@register("name")`` on the class; ``make_pruner`` builds one.

Adding a built-in method is one new module imported by ``methods/__init__.py``; the loop never changes. A
method from outside the suite (an entry point, or ``module.path:ClassName``, see ``methods.external``) is
loaded and registered the first time its name is asked for.
"""

from __future__ import annotations

from typing import Any

from molpeg_bench.methods.base import Pruner

_REGISTRY: dict[str, type[Pruner]] = {}
_BUILT_IN: set[str] = set()


def register(name: str):
    def decorate(cls: type[Pruner]) -> type[Pruner]:
        if name in _REGISTRY:
            raise ValueError(f"method {name!r} registered twice ({_REGISTRY[name].__name__}, {cls.__name__})")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def get_method(name: str) -> type[Pruner]:
    from molpeg_bench.methods import external

    if name not in _REGISTRY:
        cls = external.load(name)
        if cls is None:
            raise ValueError(f"unknown method {name!r}; expected one of {available_methods()}, an installed "
                             f"entry point of group {external.ENTRY_POINT_GROUP!r} or module.path:ClassName")
        _REGISTRY[name] = cls
    return _REGISTRY[name]


def refuse_clash(name: str) -> None:
    """Refuse, in one line, a method name the user gave that an installed entry point also claims for a
    built-in method (the suite would otherwise run its own method under that name without a word)."""
    from molpeg_bench.methods import external

    refusal = external.clash(name) if name in _BUILT_IN else None
    if refusal:
        raise external.ExternalMethodError(refusal)


def seal_built_ins() -> None:
    """Mark every method registered so far as built-in (``methods/__init__.py``, after its imports)."""
    _BUILT_IN.update(_REGISTRY)


def is_built_in(name: str) -> bool:
    return name in _BUILT_IN


def available_methods() -> list[str]:
    """The built-in methods (external ones are named by the user)."""
    return sorted(_BUILT_IN) if _BUILT_IN else sorted(_REGISTRY)


def make_pruner(name: str, *, n_samples: int, keep_ratio: float, seed: int = 0, options: Any = None,
                rounding: str = "floor") -> Pruner:
    return get_method(name)(n_samples, keep_ratio, seed, options, rounding)
