"""Shared fixtures. Servers are session-scoped and lazy: only tests that ask for them start them.

kafka_server   a fresh broker (ANP_TEST_BROKER=noida|tansu, default noida) on a free port
mongo_server   a fresh SecantusDB on a free port
               ANP_TEST_INFRA=containers: both are the real images instead (apache/kafka, mongo as a replica
               set) under testcontainers, which needs a Docker engine (DOCKER_HOST); see tests/containers/infra.py
settings       shared.settings.Settings pointing at both, with a db_prefix unique to this run
unique         a short unique string per test, for topic and group names
stack          the whole system under gunicorn, seeded with the demo directory (e2e and browser tests)
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from deploy.local.servers import KAFKA_KINDS, ServerProcess, free_port, start_kafka, start_mongo
from shared.settings import Settings
from tests.containers.infra import (
    INFRA_KINDS,
    INFRA_VARIABLE,
    ContainerServer,
    docker_engine,
    docker_host,
    infra_kind,
    start_kafka_container,
    start_mongo_container,
)
from tests.stack import Stack, run_stack

# one id per pytest run: database names and the like never collide with an earlier run's leftovers
RUN_ID = uuid.uuid4().hex[:8]


def _broker_kind() -> str:
    return os.environ.get("ANP_TEST_BROKER", "noida")


def pytest_configure(config: pytest.Config) -> None:
    # fail once, up front, rather than as an error in every test that needs the broker
    if _broker_kind() not in KAFKA_KINDS:
        raise pytest.UsageError(f"ANP_TEST_BROKER={_broker_kind()!r}: expected one of {KAFKA_KINDS}")
    if infra_kind() not in INFRA_KINDS:
        raise pytest.UsageError(f"{INFRA_VARIABLE}={infra_kind()!r}: expected one of {INFRA_KINDS}")
    if infra_kind() == "containers":
        # asked for explicitly: no engine is an error, not a silent fallback to the local servers
        error = docker_engine()
        if error:
            raise pytest.UsageError(
                f"{INFRA_VARIABLE}=containers, but no Docker engine answers at {docker_host()} ({error}). "
                f"Start one or point DOCKER_HOST at it, or unset {INFRA_VARIABLE} to use the local servers."
            )


def _containers() -> bool:
    return infra_kind() == "containers"


def _stop(server: ServerProcess | ContainerServer) -> None:
    died = not server.alive()
    server.stop()
    if died:  # a server that crashed mid-session explains odd failures: say so loudly at teardown
        raise RuntimeError(f"{server.name} died during the test session:\n{server.log_tail()}")


@pytest.fixture(scope="session")
def kafka_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess | ContainerServer]:
    if _containers():
        container = start_kafka_container()
        yield container
        _stop(container)
        return
    base = tmp_path_factory.mktemp("kafka")
    server = start_kafka(base / "data", free_port(), kind=_broker_kind(), log_path=base / "kafka.log")
    yield server
    _stop(server)


@pytest.fixture(scope="session")
def mongo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess | ContainerServer]:
    if _containers():
        container = start_mongo_container()
        yield container
        _stop(container)
        return
    base = tmp_path_factory.mktemp("mongo")
    server = start_mongo(base / "data", free_port(), log_path=base / "mongo.log")
    yield server
    _stop(server)


@pytest.fixture(scope="session")
def settings(
    kafka_server: ServerProcess | ContainerServer, mongo_server: ServerProcess | ContainerServer
) -> Settings:
    return Settings().with_overrides(
        kafka_bootstrap=kafka_server.address,
        mongo_uri=mongo_server.address,
        db_prefix=f"t{RUN_ID}",
        topic_partitions=3,
    )


@pytest.fixture
def unique() -> str:
    """E.g. 'u3f9a1c2b' — valid in topic, group and database names."""
    return f"u{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def stack(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from run_stack(settings, tmp_path_factory)


@pytest.fixture(autouse=True)
def _store_guards_off_without_a_store(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rate limit and the denial audit live in the document store. A test with no store (no `settings`
    fixture, e.g. a unit test over an in-memory repository) would wait for the default one on every request:
    there both are no-ops. Tests with a store get the real thing."""
    if "settings" in request.fixturenames:
        return
    monkeypatch.setattr("shared.web._count_request", lambda settings, caller: 0)
    monkeypatch.setattr("shared.web._audit_denial", lambda status, reason: None)
