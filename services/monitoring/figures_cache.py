"""Figures and pages computed once per state of the views, however many people read them.

The projector moves its positions (its tracking records) in the same transaction as the views it changes, so
the positions name a state of the views exactly: figures computed at one set of positions stay right until the
positions move. A cached read costs one small query for the positions; a page is recomputed at most once per
projector batch in each process. Views without positions (not written by the projector) are never cached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from pymongo.database import Database

from shared.projection import POSITIONS

Version = tuple[tuple[str, int], ...]
T = TypeVar("T")
MAX_PAGES = 512  # per process; a national page of 78 units is about 1 MB of figures


class FiguresCache:
    """A bounded map from a key to what was computed from the views, emptied whenever the projector's positions
    move. Cached values are shared between requests: callers copy before changing them."""

    def __init__(self, group: str, max_pages: int = MAX_PAGES) -> None:
        self.group = group
        self.max_pages = max_pages
        self._version: Version | None = None
        self._pages: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def version(self, db: Database) -> Version:
        """The projector's positions now: (partition id, offset) pairs, empty when nothing was projected."""
        found = db[POSITIONS].find({"group": self.group}, {"offset": 1})
        return tuple(sorted((d["_id"], d["offset"]) for d in found))

    def figures(self, db: Database, key: Hashable, compute: Callable[[], T]) -> T:
        """The value cached under `key` at the current positions, else `compute()`'s (then cached)."""
        version = self.version(db)
        if not version:
            return compute()
        with self._lock:
            if version != self._version:
                self._pages.clear()
                self._version = version
            elif key in self._pages:
                self._pages.move_to_end(key)
                self.hits += 1
                return self._pages[key]  # type: ignore[no-any-return]
            self.misses += 1
        figures = compute()  # outside the lock: readers of other pages do not wait
        with self._lock:
            if version == self._version:  # a batch applied meanwhile would have emptied the cache
                self._pages[key] = figures
                while len(self._pages) > self.max_pages:
                    self._pages.popitem(last=False)
        return figures
