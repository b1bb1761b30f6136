"""``python -m tests.mutation`` (``make mutants``): every mutant of every registered method must fail at
least one of that method's known-answer tests. Prints one line per method and exits 1 on any survivor,
or when a method has no known-answer test, or when its tests fail on the unmutated code."""

from __future__ import annotations

import logging
import sys
import time
import warnings

from molpeg_bench.methods import available_methods, get_method
from tests.methods import (  # noqa: F401  (registration)
    test_known_answers_dynamic,
    test_known_answers_static,
    test_methods_alignment,
)
from tests.mutation.mutants import applied, mutants_for
from tests.mutation.registry import KNOWN_ANSWERS


def fails(tests) -> bool:
    """True when at least one test raises (an assertion, or the mutant breaking the method outright)."""
    for test in tests:
        try:
            test()
        except Exception:  # noqa: BLE001  (any failure kills the mutant)
            return True
    return False


def main() -> int:
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    t0, problems = time.perf_counter(), 0
    for name in available_methods():
        tests = KNOWN_ANSWERS.get(name, [])
        if not tests:
            print(f"{name:18s} no known-answer test")
            problems += 1
            continue
        if fails(tests):
            print(f"{name:18s} its known-answer tests fail on the unmutated code")
            problems += 1
            continue
        cls = get_method(name)
        survivors = []
        mutants = mutants_for(cls)
        for mutant in mutants:
            with applied(mutant, cls):
                if not fails(tests):
                    survivors.append(mutant.name)
        killed = len(mutants) - len(survivors)
        names = ", ".join(m.name for m in mutants)
        line = f"{name:18s} killed {killed}/{len(mutants)}  ({names})"
        print(line + (f"  SURVIVED: {', '.join(survivors)}" if survivors else ""), flush=True)
        problems += len(survivors)
    print(f"{len(available_methods())} methods, {time.perf_counter() - t0:.0f} s: "
          + ("every mutant killed" if problems == 0 else f"{problems} problem(s)"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
