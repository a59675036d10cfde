"""Wiring of a service's repository: MongoDB by default, a fake in unit tests (cosmicpython's bootstrap).

Each service app installs one factory; its handlers get a repository per request through `repository()`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

from flask import Flask, current_app

from shared.store import Store
from shared.web import resources

EXTENSION = "anp.repository"


class IndexedRepository(Protocol):
    def ensure_indexes(self) -> None: ...


class MongoRepositoryFactory:
    """Repositories over this process's store; indexes are ensured once, on first use (after forking)."""

    def __init__(self, make: Callable[[Store], IndexedRepository]) -> None:
        self._make = make
        self._indexed = False
        self._lock = threading.Lock()

    def __call__(self) -> Any:
        repo = self._make(resources().store)
        if not self._indexed:
            with self._lock:
                if not self._indexed:
                    repo.ensure_indexes()  # a failure leaves the flag down: the next request tries again
                    self._indexed = True
        return repo


def install(app: Flask, factory: Callable[[], Any]) -> None:
    app.extensions[EXTENSION] = factory


def repository() -> Any:
    return current_app.extensions[EXTENSION]()
