"""The whole system under gunicorn against the local servers, seeded with the demo directory.

The `stack` fixture (tests/conftest.py) starts it once per session for the e2e and browser tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from pymongo import MongoClient

from deploy.local.servers import ServerProcess, ensure_topics, free_port, spawn, wait_until
from shared.auth import issue_token
from shared.settings import DEAD_LETTER_TOPIC, TOPICS, Settings

SERVICES = ("monitoring", "supervision", "training", "committee", "achievement")
WORKERS = {
    "supervision-relay": "services.supervision.relay",
    "training-relay": "services.training.relay",
    "committee-relay": "services.committee.relay",
    "achievement-relay": "services.achievement.relay",
    "directory-relay": "services.directory.relay",
    "supervision-directory-sync": "services.supervision.directory_sync",
    "training-directory-sync": "services.training.directory_sync",
    "committee-directory-sync": "services.committee.directory_sync",
    "achievement-directory-sync": "services.achievement.directory_sync",
    "projector": "services.monitoring.projector",
    "monitoring-relay": "services.monitoring.relay",
}


@dataclass
class Stack:
    settings: Settings
    processes: dict[str, ServerProcess]
    mongo: MongoClient

    def url(self, service: str, path: str) -> str:
        return f"http://127.0.0.1:{self.settings.ports[service]}{path}"

    def token(self, sub: str, role: str, level: str, code: str | None) -> dict[str, str]:
        token = issue_token(self.settings, sub=sub, role=role, scope_level=level, scope_code=code)
        return {"Authorization": f"Bearer {token}"}

    def db(self, service: str):
        return self.mongo[self.settings.db_name(service)]


def run_stack(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    settings = settings.with_overrides(
        db_prefix=f"{settings.db_prefix}_e2e",
        ports={name: free_port() for name in SERVICES},
        # the limiter stays in the path, but the suites poll as a few users far faster than people do
        # (tests/security/test_limits.py runs its own gunicorn with a low limit)
        rate_limit_per_minute=100_000,
    )
    ensure_topics(settings.kafka_bootstrap, [*TOPICS.values(), DEAD_LETTER_TOPIC], settings.topic_partitions)
    logs = tmp_path_factory.mktemp("e2e-logs")
    env = {**os.environ, **settings.to_env(), "PYTHONUNBUFFERED": "1"}
    processes = {name: _gunicorn(name, settings, env, logs) for name in SERVICES}
    processes.update(
        {
            name: spawn(name, [sys.executable, "-m", module], log_path=logs / f"{name}.log", env=env)
            for name, module in WORKERS.items()
        }
    )
    mongo = MongoClient(settings.mongo_uri, tz_aware=True)
    stack = Stack(settings, processes, mongo)
    try:
        for name in SERVICES:
            wait_until(lambda n=name: _ready(stack, n), timeout=60, what=f"{name} /ready")
        subprocess.run(
            [sys.executable, "-m", "services.directory.cli", "import-demo"],
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        wait_until(
            lambda: stack.db("supervision")["teachers"].find_one({"_id": "T13010001-01"}),
            timeout=60,
            what="the demo directory in supervision's local copy",
        )
        wait_until(
            lambda: stack.db("committee")["schools"].find_one({"_id": "50010001"}),
            timeout=60,
            what="the demo directory in committee's local copy",
        )
        wait_until(
            lambda: stack.db("monitoring")["units"].find_one({"_id": "school:50010001"}),
            timeout=60,
            what="the demo directory in the monitoring views",
        )
        yield stack
    except BaseException:
        for proc in processes.values():
            print(f"--- {proc.name} ---\n{proc.log_tail(40)}", file=sys.stderr)
        raise
    finally:
        for proc in processes.values():
            proc.stop(timeout=10)
        mongo.close()


def _gunicorn(service: str, settings: Settings, env: dict[str, str], logs: Path) -> ServerProcess:
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        "2",
        "--bind",
        f"127.0.0.1:{settings.ports[service]}",
        "--graceful-timeout",
        "10",
        f"services.{service}.app:create_app()",
    ]
    return spawn(service, argv, log_path=logs / f"{service}.log", env=env)


def _ready(stack: Stack, service: str) -> bool:
    assert stack.processes[service].alive(), f"{service} exited:\n{stack.processes[service].log_tail()}"
    try:
        return requests.get(stack.url(service, "/ready"), timeout=2).status_code == 200
    except requests.RequestException:  # gunicorn accepts before its workers have booted
        return False
