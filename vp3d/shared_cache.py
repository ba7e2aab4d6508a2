"""A bounded cache shared between threads: what the sessions on one model compute once and reuse."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Hashable, TypeVar

V = TypeVar("V")


class SharedCache:
    """The last ``size`` values by key, the least recently used dropped first; thread-safe.

    A missing value is made outside the lock, so other sessions are not held up meanwhile; two
    asking for it at once may both make it (the same value, kept once).
    """

    def __init__(self, size: int):
        if size < 1:
            raise ValueError(f"a cache holds 1 value or more, got {size}")
        self.size = size
        self._values: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.made = 0  # values made rather than reused

    def __len__(self) -> int:
        return len(self._values)

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value for ``key``, made by ``make()`` when it is not kept."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = make()
        with self._lock:
            self.made += 1
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value
