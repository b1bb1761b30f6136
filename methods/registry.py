"""Registry of pruning methods: ``@register("name")`` on the class; ``make_pruner`` builds one.

Adding a method is one new module imported by ``methods/__init__.py``; the loop never changes.
"""

from __future__ import annotations

from typing import Any

from methods.base import Pruner

_REGISTRY: dict[str, type[Pruner]] = {}


def register(name: str):
    def decorate(cls: type[Pruner]) -> type[Pruner]:
        if name in _REGISTRY:
            raise ValueError(f"method {name!r} registered twice ({_REGISTRY[name].__name__}, {cls.__name__})")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def get_method(name: str) -> type[Pruner]:
    if name not in _REGISTRY:
        raise ValueError(f"unknown method {name!r}; expected one of {available_methods()}")
    return _REGISTRY[name]


def available_methods() -> list[str]:
    return sorted(_REGISTRY)


def make_pruner(name: str, *, n_samples: int, keep_ratio: float, seed: int = 0, options: Any = None,
                rounding: str = "floor") -> Pruner:
    return get_method(name)(n_samples, keep_ratio, seed, options, rounding)
