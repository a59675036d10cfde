"""The real Apache Kafka and MongoDB images under testcontainers, behind ServerProcess's interface.

`ANP_TEST_INFRA=containers` makes tests/conftest.py's `kafka_server` and `mongo_server` fixtures start these
instead of the local wire-protocol servers; tests/containers/test_real_images.py uses them whenever a Docker
engine answers. Without an engine, `docker_engine()` says why in one line (the skip reason).

Images: apache/kafka in KRaft mode (broker and controller in one process) and mongo as a single-node replica
set, so multi-document transactions work exactly as they do in docker-compose.yml.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from dataclasses import dataclass
from typing import Any

from kafka.errors import KafkaError
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from deploy.local.servers import kafka_ready, wait_until

KAFKA_IMAGE = "apache/kafka:3.9.1"
MONGO_IMAGE = "mongo:7.0"
INFRA_VARIABLE = "ANP_TEST_INFRA"
INFRA_KINDS = ("local", "containers")
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"


def infra_kind() -> str:
    return os.environ.get(INFRA_VARIABLE, "local") or "local"


def docker_host() -> str:
    return os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST


@functools.cache
def docker_engine() -> str | None:
    """None when a Docker engine answers a ping within 3 s, else why not (one line). Asked once a session."""
    try:
        import docker
        from docker.errors import DockerException
    except ImportError as exc:  # pragma: no cover - docker is a dependency of testcontainers
        return f"the docker SDK is not importable ({exc})"
    try:
        # API version given: "auto" would make the constructor itself query the engine, with no short timeout
        client = docker.DockerClient(base_url=docker_host(), version="1.44", timeout=3)
        try:
            client.ping()
        finally:
            client.close()
    except (DockerException, OSError) as exc:
        first_line = (str(exc).splitlines() or [""])[0][:200]
        return f"{type(exc).__name__}: {first_line}"
    return None


def no_engine_reason(error: str) -> str:
    """The skip reason of the container tests when `docker_engine()` returned `error`."""
    return (
        f"no Docker engine at {docker_host()} (set DOCKER_HOST); the local servers carry the suite ({error})"
    )


@dataclass(eq=False)
class ContainerServer:
    """A started container with the part of ServerProcess's interface the tests use."""

    name: str
    container: Any  # testcontainers DockerContainer
    address: str

    def alive(self) -> bool:
        try:
            wrapped = self.container.get_wrapped_container()
            wrapped.reload()
            return wrapped.status == "running"
        except Exception:  # the engine or the container is gone: either way, not alive
            return False

    def stop(self, timeout: float = 10) -> None:
        self.container.stop()

    def log_tail(self, lines: int = 30) -> str:
        try:
            out, err = self.container.get_logs()
        except Exception as exc:
            return f"(no logs: {exc})"
        text = (out + err).decode("utf-8", "replace")
        return "\n".join(text.splitlines()[-lines:])


def _kafka_container_class() -> type:
    from testcontainers.community.kafka import KafkaContainer

    class ApacheKafkaContainer(KafkaContainer):
        """testcontainers' Kafka module, KRaft mode, on the apache/kafka image.

        The module's KRaft support targets Confluent images (its start script runs /etc/confluent/docker/*
        and `with_kraft()` insists on Confluent's version numbers), so the KRaft settings are given here the
        way the apache/kafka image reads them (KAFKA_* variables) and its own /etc/kafka/docker/run starts
        the broker. The module's two-step start is kept: the advertised listener needs the mapped port.
        """

        def __init__(self, image: str = KAFKA_IMAGE) -> None:
            super().__init__(image=image)
            self.kraft_enabled = True
            self.wait_for = re.compile(r"Kafka Server started")

        def configure(self) -> None:
            self.with_env("CLUSTER_ID", self.cluster_id)
            self.with_env("KAFKA_NODE_ID", "1")
            self.with_env("KAFKA_PROCESS_ROLES", "broker,controller")
            self.with_env("KAFKA_LISTENERS", f"{self.listeners},CONTROLLER://0.0.0.0:9094")
            self.with_env(
                "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", f"{self.security_protocol_map},CONTROLLER:PLAINTEXT"
            )
            self.with_env("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER")
            self.with_env("KAFKA_CONTROLLER_QUORUM_VOTERS", "1@localhost:9094")
            self.with_env("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
            self.with_env("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
            self.with_env("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "true")
            # the module sets KAFKA_BROKER_ID for ZooKeeper mode; KRaft goes by KAFKA_NODE_ID
            self.env.pop("KAFKA_BROKER_ID", None)

        def start(self, timeout: int = 120) -> ApacheKafkaContainer:
            return super().start(timeout=timeout)

        def tc_start(self) -> None:
            host = self.get_container_host_ip()
            port = self.get_exposed_port(self.port)
            script = (
                "#!/bin/bash\n"
                f"export KAFKA_ADVERTISED_LISTENERS={self.listener_name}://{host}:{port},"
                "BROKER://$(hostname -i | cut -d' ' -f1):9092\n"
                "exec /etc/kafka/docker/run\n"
            )
            self.create_file(script.encode(), self.TC_START_SCRIPT)

    return ApacheKafkaContainer


def _mongo_container_class() -> type:
    from testcontainers.community.mongodb import MongoDbContainer

    class ReplicaSetMongoContainer(MongoDbContainer):
        """mongo as a single-node replica set `rs0`, without auth (a replica set with auth needs a keyfile)."""

        def __init__(self, image: str = MONGO_IMAGE) -> None:
            super().__init__(image=image)
            self.with_command(["--replSet", "rs0", "--bind_ip_all"])

        def _configure(self) -> None:
            pass  # no MONGO_INITDB_ROOT_*: with them the entrypoint would demand a keyfile for --replSet

        def get_connection_url(self) -> str:
            host = self.get_container_host_ip()
            port = self.get_exposed_port(self.port)
            # direct: the member is known inside the container as localhost:27017, unreachable from here
            return f"mongodb://{host}:{port}/?directConnection=true"

    return ReplicaSetMongoContainer


def _started(container: Any, what: str) -> Any:
    try:
        return container.start()
    except Exception as exc:
        logs = ""
        with contextlib.suppress(Exception):
            out, err = container.get_logs()
            logs = "\n".join((out + err).decode("utf-8", "replace").splitlines()[-30:])
        with contextlib.suppress(Exception):
            container.stop()
        raise RuntimeError(f"{what} did not start: {type(exc).__name__}: {exc}\n{logs}") from exc


def start_kafka_container(timeout: float = 120) -> ContainerServer:
    container = _started(_kafka_container_class()(), f"Kafka container ({KAFKA_IMAGE})")
    server = ContainerServer(f"kafka-{KAFKA_IMAGE}", container, container.get_bootstrap_server())
    try:
        wait_until(lambda: kafka_ready(server.address), timeout, what=f"Kafka on {server.address}",
                   ignore=(KafkaError, OSError))  # fmt: skip
    except TimeoutError as exc:
        server.stop()
        raise RuntimeError(f"{server.name}: {exc}\n{server.log_tail()}") from None
    return server


def start_mongo_container(timeout: float = 120) -> ContainerServer:
    container = _started(_mongo_container_class()(), f"MongoDB container ({MONGO_IMAGE})")
    server = ContainerServer(f"mongo-{MONGO_IMAGE}", container, container.get_connection_url())
    initiate = "try { rs.status().ok } catch (e) { rs.initiate({_id: 'rs0', members: [{_id: 0, host: 'localhost:27017'}]}).ok }"
    try:
        result = container.exec(["mongosh", "--quiet", "--eval", initiate])
        if result.exit_code != 0:
            raise RuntimeError(f"rs.initiate failed ({result.exit_code}): {result.output.decode()[-500:]}")
        client: MongoClient[Any] = MongoClient(server.address, serverSelectionTimeoutMS=2000)
        try:
            wait_until(lambda: client.admin.command("hello").get("isWritablePrimary"), timeout,
                       what=f"a writable primary at {server.address}", ignore=(PyMongoError,))  # fmt: skip
        finally:
            client.close()
    except (RuntimeError, TimeoutError) as exc:
        server.stop()
        raise RuntimeError(f"{server.name}: {exc}\n{server.log_tail()}") from None
    return server
