"""The platform's processes on a broker and store that already run: start, wait for /ready, import the demo
directory, stop. Shared by the end-to-end test stack (tests/stack.py) and the benchmarks (bench/), so both run
exactly what `make run` runs: the PROCESSES table of deploy/local/run.py, under the same gunicorn settings.

    with running_platform(settings, logs) as platform:
        import_demo_directory(platform)
        requests.get(platform.url("monitoring", "/ready"))
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pymongo import MongoClient

from deploy.local.run import HOST, PROCESSES, REPO_ROOT, SEED_STEPS, Proc, build_processes, http_ready
from deploy.local.servers import ServerProcess, ensure_topics, spawn, wait_until
from shared.settings import DEAD_LETTER_TOPIC, TOPICS, Settings

SERVICES = tuple(name for name, kind, _ in PROCESSES if kind == "http")
DIRECTORY_IMPORT = SEED_STEPS[0][1]  # `services.directory.cli import-demo`


@dataclass
class Platform:
    """The running processes of one platform, by name (PROCESSES' names), and the environment they got."""

    settings: Settings
    env: dict[str, str]
    processes: dict[str, ServerProcess]
    stop_timeouts: dict[str, float]

    def url(self, service: str, path: str) -> str:
        return f"http://{HOST}:{self.settings.ports[service]}{path}"

    def check_alive(self) -> None:
        for proc in self.processes.values():
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited with code {proc.returncode}:\n{proc.log_tail()}")

    def log_tails(self, lines: int = 40) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.log_tail(lines)}" for p in self.processes.values())

    def stop(self) -> None:
        """SIGTERM to all at once (each finishes its request or batch), then wait for each, APIs first."""
        for proc in self.processes.values():
            proc.terminate()
        for proc in reversed(self.processes.values()):
            proc.stop(self.stop_timeouts.get(proc.name, 10))


def platform_env(settings: Settings) -> dict[str, str]:
    return {**os.environ, **settings.to_env(), "PYTHONUNBUFFERED": "1"}  # logs land promptly


def start_platform(settings: Settings, logs: Path, ready_timeout: float = 90) -> Platform:
    """Create the topics, start every process of PROCESSES and wait until each API answers /ready."""
    ensure_topics(settings.kafka_bootstrap, [*TOPICS.values(), DEAD_LETTER_TOPIC], settings.topic_partitions)
    procs = build_processes(settings)
    platform = Platform(settings, platform_env(settings), {}, {p.name: p.stop_timeout for p in procs})
    try:
        for proc in procs:
            platform.processes[proc.name] = spawn(
                proc.name, proc.argv, log_path=logs / f"{proc.name}.log", env=platform.env, cwd=REPO_ROOT
            )
        _wait_ready(platform, [p for p in procs if p.port is not None], ready_timeout)
    except BaseException:
        platform.stop()
        raise
    return platform


@contextmanager
def running_platform(settings: Settings, logs: Path, ready_timeout: float = 90) -> Iterator[Platform]:
    platform = start_platform(settings, logs, ready_timeout)
    try:
        yield platform
    finally:
        platform.stop()


def _wait_ready(platform: Platform, apis: list[Proc], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = list(apis)
    while pending:
        platform.check_alive()
        pending = [p for p in pending if not http_ready(f"{p.base_url}/ready")]
        if pending and time.monotonic() > deadline:
            tails = "\n".join(f"--- {p.name} ---\n{platform.processes[p.name].log_tail()}" for p in pending)
            raise TimeoutError(
                f"not ready after {timeout:g} s: {', '.join(p.name for p in pending)}\n{tails}"
            )
        time.sleep(0.1)


def import_demo_directory(platform: Platform, timeout: float = 120) -> None:
    """Import the demo directory and wait until the services' local copies and the views have it."""
    argv = [part.format(python=sys.executable) for part in DIRECTORY_IMPORT]
    subprocess.run(argv, env=platform.env, cwd=REPO_ROOT, check=True, capture_output=True, timeout=timeout)
    settings = platform.settings
    with MongoClient(settings.mongo_uri, tz_aware=True) as mongo:
        # records of the import in two services' copies and in the views
        for db, collection, key in (
            ("supervision", "teachers", "T13010001-01"),
            ("committee", "schools", "50010001"),
            ("monitoring", "units", "school:50010001"),
        ):
            wait_until(
                lambda d=db, c=collection, k=key: mongo[settings.db_name(d)][c].find_one({"_id": k}),
                timeout=60,
                what=f"the demo directory in {db}'s {collection}",
            )
