"""A bounded, thread-safe LRU cache of finished answers (drawings, JSON bodies).

Identical requests are common in a classroom: forty students open the same lesson example.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


class AnswerCache:
    """At most `entries` answers and `max_bytes` bytes in all; the least recently used answer
    is dropped first, and an answer larger than a tenth of the budget is not kept."""

    def __init__(self, entries: int, max_bytes: int = 32_000_000):
        self.entries = entries
        self.max_bytes = max_bytes
        self._bytes = 0
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, answer: bytes) -> None:
        if self.entries <= 0 or len(answer) > self.max_bytes // 10:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self._bytes += len(answer) - (len(old) if old is not None else 0)
            self._items[key] = answer
            while len(self._items) > self.entries or self._bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)

    def __len__(self) -> int:
        return len(self._items)


def app_cache(state: Any, name: str, entries: int) -> AnswerCache:
    """The app's cache called `name` (on `app.state`), made on first use with `entries`."""
    cache = getattr(state, name, None)
    if cache is None:
        cache = AnswerCache(entries)
        setattr(state, name, cache)
    assert isinstance(cache, AnswerCache)
    return cache
