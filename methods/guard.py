"""Method code runs inside the suite's loop; whatever goes wrong there is one error naming the method.

A method that raises, calls ``sys.exit`` (which would otherwise end a run, a sweep or ``check-method`` with
exit code 0 and no word) or returns output that breaks the contract (``methods.contract``) ends the run with
a ``MethodError``: ``method '<name>': <call> <what happened>``. Ctrl-C and SIGTERM (``KeyboardInterrupt``)
and a full disk (``DiskFull``, the suite's own write) pass through unchanged.
"""

from __future__ import annotations

import sysconfig
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

from molpeg_bench.fileio.disk_full import DiskFull
from molpeg_bench.methods.contract import ContractViolation

_LIBRARIES = tuple({sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")})


class MethodError(ValueError):
    """A method failed inside a run; ``broke_contract``: its output broke the contract (the run's epoch
    checkpoint is then deleted, so a rerun does not resume into the same failure)."""

    def __init__(self, message: str, broke_contract: bool = False):
        super().__init__(message)
        self.broke_contract = broke_contract


@contextmanager
def method_call(method: str, call: str) -> Iterator[None]:
    """Run the block as method ``method``'s ``call`` (e.g. ``"plan_epoch(3)"``): a failure is a ``MethodError``."""
    try:
        yield
    except (MethodError, DiskFull):
        raise
    except (Exception, SystemExit) as exc:  # noqa: BLE001  (the method's own code: anything may come out)
        named = f"method {method!r}"
        raise MethodError(str(exc) if str(exc).startswith(named) else f"{named}: {call} {failure(exc)}") from exc


def failure(exc: BaseException) -> str:
    """What went wrong in method code, in a few words: ``raised KeyError: 'x' (at mine.py:12)`` or ``called
    sys.exit(0) ...``."""
    if isinstance(exc, SystemExit):
        return f"called sys.exit({exc.code!r}); a method must return its result or raise an error, not end the process"
    where = _where(exc)
    return f"raised {type(exc).__name__}: {' '.join(str(exc).split())}" + (f" (at {where})" if where else "")


def _where(exc: BaseException) -> str:
    """The innermost line of the traceback outside Python's and the installed libraries' own files."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(_LIBRARIES)]
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""


@contextmanager
def method_output(method: str, call: str) -> Iterator[None]:
    """Check in the block what ``call`` returned: a ``ContractViolation`` is a ``MethodError`` naming both."""
    try:
        yield
    except ContractViolation as exc:
        raise MethodError(f"method {method!r}: {call} returned {exc}", broke_contract=True) from exc
