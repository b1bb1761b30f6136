"""Typed method options: every value is coerced to its field's declared type and checked against the
field's declared allowed values before a run starts.

An ``Options`` dataclass declares each option's type by its annotation (bool, int, float, str or
tuple[str, ...]) and, optionally, its allowed values with ``choice(default, *allowed)`` or its range with
``bounded(default, low, high)``. Values may come from the command line as text ("0.1", "true") or from
JSON; anything that does not fit raises a ``ValueError`` naming the method, option, value and what was
expected. Written by hand because argparse/dataclasses do not coerce dataclass fields from text.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any

_TRUE, _FALSE = ("true", "1"), ("false", "0")


def choice(default: Any, *allowed: Any) -> Any:
    """A dataclass field whose value must be one of ``allowed`` (``default`` among them)."""
    if default not in allowed:
        raise ValueError(f"default {default!r} is not one of the allowed values {allowed}")
    return dataclasses.field(default=default, metadata={"choices": tuple(allowed)})


def bounded(default: float, low: float, high: float) -> Any:
    """A numeric dataclass field whose value must lie in [low, high]."""
    return dataclasses.field(default=default, metadata={"range": (low, high)})


_NAMES = {bool: "a boolean (true or false)", int: "an integer", float: "a number", str: "a string"}
_SHORT = {bool: "bool", int: "int", float: "float", str: "str"}


def _optional(kind: Any) -> Any | None:
    """``X`` for an ``X | None`` annotation, else None."""
    args = typing.get_args(kind)
    if typing.get_origin(kind) in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
        return next(a for a in args if a is not type(None))
    return None


def _type_name(kind: Any, short: bool = False) -> str:
    if (inner := _optional(kind)) is not None:
        return f"{_type_name(inner, short)} or none"
    if typing.get_origin(kind) is tuple:
        item = _SHORT.get(typing.get_args(kind)[0], "str")
        return f"list[{item}]" if short else f"a list of {item} (JSON list or comma-separated)"
    return (_SHORT if short else _NAMES).get(kind, getattr(kind, "__name__", str(kind)))


def _coerce(kind: Any, value: Any) -> Any:
    """``value`` as ``kind``; raises ValueError/TypeError when it does not fit. Annotations other than
    these (and ``X | None``, ``tuple[X, ...]``) pass the value through unchanged."""
    if (inner := _optional(kind)) is not None:
        return None if value is None or str(value).lower() in ("none", "null") else _coerce(inner, value)
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE + _FALSE:
            return value.lower() in _TRUE
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise ValueError
    if kind is int:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, float) and not value.is_integer():
            raise ValueError
        return int(value) if isinstance(value, int | float) else int(str(value).strip())
    if kind is float:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
        if not math.isfinite(number):
            raise ValueError
        return number
    if kind is str:
        if not isinstance(value, str):
            raise ValueError
        return value
    if typing.get_origin(kind) is tuple:
        item = typing.get_args(kind)[0]
        items = [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else list(value)
        return tuple(_coerce(item, v) for v in items)
    return value


def describe_field(f: dataclasses.Field, kind: Any) -> str:
    """``name: type = default`` plus the allowed values or range, as ``methods`` lists them."""
    text = f"{f.name}: {_type_name(kind, short=True)} = {f.default!r}"
    if "choices" in f.metadata:
        text += f" (one of {', '.join(map(repr, f.metadata['choices']))})"
    if "range" in f.metadata:
        text += " (in [{}, {}])".format(*f.metadata["range"])
    return text


def option_fields(options_cls: type) -> list[tuple[dataclasses.Field, Any]]:
    """The fields of an ``Options`` dataclass with their resolved types."""
    hints = typing.get_type_hints(options_cls)
    return [(f, hints[f.name]) for f in dataclasses.fields(options_cls)]


def coerce_options(method: str, options_cls: type, given: dict) -> Any:
    """An ``options_cls`` instance from ``given`` (name -> value as text, JSON or Python)."""
    fields = {f.name: (f, kind) for f, kind in option_fields(options_cls)}
    unknown = sorted(set(given) - set(fields))
    if unknown:
        raise ValueError(f"method {method!r}: unknown option(s) {unknown}; expected some of {sorted(fields)}")
    values = {}
    for name, value in given.items():
        f, kind = fields[name]
        try:
            coerced = _coerce(kind, value)
        except (ValueError, TypeError):
            raise ValueError(f"method {method!r}: option {name}={value!r} is not {_type_name(kind)}") from None
        if "choices" in f.metadata and coerced not in f.metadata["choices"]:
            raise ValueError(f"method {method!r}: option {name}={value!r} is not allowed; expected one of "
                             f"{list(f.metadata['choices'])}")
        if "range" in f.metadata and not f.metadata["range"][0] <= coerced <= f.metadata["range"][1]:
            raise ValueError(f"method {method!r}: option {name}={value!r} is out of range; expected a number "
                             "in [{}, {}]".format(*f.metadata["range"]))
        values[name] = coerced
    return options_cls(**values)


def non_default(options: Any) -> dict:
    """The options of a resolved ``Options`` instance that differ from their defaults (JSON-ready)."""
    return {f.name: list(v) if isinstance(v := getattr(options, f.name), tuple) else v
            for f in dataclasses.fields(options) if getattr(options, f.name) != f.default}
