"""Wall-clock bounds in tests that one pause of a loaded machine cannot fail.

A refusal that is slow by design is slow on every try; a pause of a busy CI machine (other test
workers, a browser, a garbage collection) hits one try. So a bound is judged on the fastest of
a few tries, never on a single one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def fastest(action: Callable[[], T], tries: int = 3) -> tuple[float, T]:
    """The shortest wall-clock time of `tries` calls of `action`, and the last call's result
    (each call is checked by the caller through that result, or by asserting inside it)."""
    best = float("inf")
    result: T
    for _ in range(tries):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    return best, result
