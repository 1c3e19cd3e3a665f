"""A small least-recently-used cache for derived data kept in a worker process."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable


class LRU:
    """It never holds more than ``capacity`` entries, however many distinct keys a
    long-running worker sees. Not locked: callers that share one between threads lock
    around it."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._items: OrderedDict = OrderedDict()

    def get(self, key: Hashable, compute: Callable[[], object]):
        """The value for ``key``, computed (and kept) when it is not here."""
        found = self.lookup(key)
        if found is None:
            found = self.store(key, compute())
        return found

    def lookup(self, key: Hashable):
        """The value for ``key``, or None."""
        if key not in self._items:
            return None
        self._items.move_to_end(key)
        return self._items[key]

    def store(self, key: Hashable, value):
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)
