"""Wiring: which repository the API's handlers use — MongoDB by default, a fake in unit tests."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask, current_app

from services.committee.repository import AbstractRepository, MongoRepository
from shared.web import resources

RepositoryFactory = Callable[[], AbstractRepository]
EXTENSION = "committee.repository"


class MongoRepositoryFactory:
    """A repository over this process's store; indexes are ensured once, on first use (after forking)."""

    def __init__(self) -> None:
        self._indexed = False
        self._lock = threading.Lock()

    def __call__(self) -> AbstractRepository:
        repo = MongoRepository(resources().store)
        if not self._indexed:
            with self._lock:
                if not self._indexed:
                    repo.ensure_indexes()  # a failure leaves the flag down: the next request tries again
                    self._indexed = True
        return repo


def install(app: Flask, repository_factory: RepositoryFactory | None = None) -> None:
    app.extensions[EXTENSION] = repository_factory or MongoRepositoryFactory()


def repository() -> AbstractRepository:
    return current_app.extensions[EXTENSION]()
