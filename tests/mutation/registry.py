"""Which known-answer tests speak for which method: ``@known_answer("ucb")`` on a test function.

The functions take no arguments, so the mutation check can call them directly (far faster than a pytest
session per mutant); pytest collects and runs them like any other test.
"""

from __future__ import annotations

from collections.abc import Callable

KNOWN_ANSWERS: dict[str, list[Callable[[], None]]] = {}


def known_answer(*methods: str) -> Callable:
    def register(test: Callable[[], None]) -> Callable[[], None]:
        for method in methods:
            KNOWN_ANSWERS.setdefault(method, []).append(test)
        return test

    return register
