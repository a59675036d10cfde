"""Wiring: which repository the API's handlers use — MongoDB by default, a fake in unit tests."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from services.achievement.repository import AbstractRepository, MongoRepository
from shared import bootstrap

RepositoryFactory = Callable[[], AbstractRepository]


def install(app: Flask, repository_factory: RepositoryFactory | None = None) -> None:
    bootstrap.install(app, repository_factory or bootstrap.MongoRepositoryFactory(MongoRepository))


def repository() -> AbstractRepository:
    return bootstrap.repository()
