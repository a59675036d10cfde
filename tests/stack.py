"""The whole system under gunicorn against the local servers, seeded with the demo directory.

The `stack` fixture (tests/conftest.py) starts it once per session for the e2e and browser tests; the processes
are those of `make run` (deploy/local/launch.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pymongo import MongoClient

from deploy.local.launch import SERVICES, import_demo_directory, start_platform
from deploy.local.run import gunicorn_argv
from deploy.local.servers import ServerProcess, free_port, spawn
from shared.auth import issue_token
from shared.settings import Settings

__all__ = ["SERVICES", "Stack", "run_stack"]


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
    platform = start_platform(settings, tmp_path_factory.mktemp("e2e-logs"), ready_timeout=60)
    mongo = MongoClient(settings.mongo_uri, tz_aware=True)
    try:
        import_demo_directory(platform)
        yield Stack(settings, platform.processes, mongo)
    except BaseException:
        print(platform.log_tails(), file=sys.stderr)
        raise
    finally:
        platform.stop()
        mongo.close()


def _gunicorn(service: str, settings: Settings, env: dict[str, str], logs: Path) -> ServerProcess:
    """One API alone, served as in the stack (tests of a single gunicorn: shutdown, limits)."""
    argv = gunicorn_argv(f"services.{service}.app:create_app()", settings.ports[service])
    return spawn(service, argv, log_path=logs / f"{service}.log", env=env)
