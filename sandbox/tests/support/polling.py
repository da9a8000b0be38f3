"""The one polling helper of the provider's tests: wait until something is true.

Tests that watch a cluster or a process from the outside (a kill test waiting for the
step to kill at, a check that Flink reached a state) poll with :func:`wait_until`; the
timeout is a bound on a hang, never a measured figure (figures live in ``benchmarks/``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["wait_until"]


def wait_until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.25) -> Any:
    """Call ``check`` every ``interval`` seconds until it returns something truthy; return it.

    :raises AssertionError: naming ``what`` and the last value after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
