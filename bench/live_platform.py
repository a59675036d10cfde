"""The platform for the end-to-end benchmarks: every process as `make run` runs it (deploy/local/launch.py),
with the demo directory, under a database prefix of its own in the run's store.

It gets a noida-db broker of its own (it starts in milliseconds): the data set's events on the run's broker
would otherwise be projected before anything else, and this platform's writes would land in the topics the
projector benchmarks count.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

import requests
from pymongo import MongoClient

from bench.harness import Bench
from deploy.local.launch import SERVICES, Platform, import_demo_directory, start_platform
from deploy.local.run import REPO_ROOT, SEED_STEPS
from deploy.local.servers import free_port, start_kafka
from shared.auth import issue_token
from shared.settings import Settings
from shared.store import OUTBOX

# the limiter stays in the path, but a benchmark is a few callers asking far faster than people do
RATE_LIMIT_PER_MINUTE = 10_000_000
DATABASES = (*SERVICES, "directory")


def bearer(settings: Settings, sub: str, role: str, level: str, code: str | None) -> dict[str, str]:
    token = issue_token(settings, sub=sub, role=role, scope_level=level, scope_code=code, name=f"bench {sub}")
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def seeded_platform(ctx: Bench, name: str, seeds: Sequence[str] = ()) -> Iterator[Platform]:
    """Start, seed the demo directory and the named steps of `make run`'s SEED_STEPS, yield, stop, clean up."""
    logs = Path(ctx.work_dir) / name
    began = time.monotonic()
    with ExitStack() as cleanup:  # undone in reverse: the platform, its databases, its broker
        broker = start_kafka(logs / "kafka", free_port(), "noida", log_path=logs / "kafka.log")
        cleanup.callback(broker.stop)
        settings = ctx.settings.with_overrides(
            kafka_bootstrap=broker.address,
            db_prefix=f"{ctx.settings.db_prefix}_{name}",
            ports={service: free_port() for service in SERVICES},
            projector_group=f"{name}-projector",
            rate_limit_per_minute=RATE_LIMIT_PER_MINUTE,
        )
        _drop_databases(settings)
        cleanup.callback(_drop_databases, settings)
        with ctx.progress(f"{name}: starting the platform and importing the demo directory", None):
            platform = start_platform(settings, logs)
            cleanup.callback(platform.stop)
            import_demo_directory(platform)
            for step in seeds:
                _seed(platform, step)
        ctx.say(f"{name}: platform up and seeded in {time.monotonic() - began:.1f} s (logs in {logs})")
        yield platform


def _seed(platform: Platform, step: str) -> None:
    argv = [part.format(python=sys.executable) for part in dict(SEED_STEPS)[step]]
    subprocess.run(argv, env=platform.env, cwd=REPO_ROOT, check=True, capture_output=True, timeout=300)


def _drop_databases(settings: Settings) -> None:
    with MongoClient(settings.mongo_uri) as mongo:
        for service in DATABASES:
            mongo.drop_database(settings.db_name(service))


def wait_quiet(platform: Platform, timeout: float = 120) -> None:
    """Until the relays have published every stored event and the projector has applied it."""
    settings = platform.settings
    headers = bearer(settings, "bench-national", "national_officer", "national", None)
    url = platform.url("monitoring", "/api/v1/projector/lag")
    deadline = time.monotonic() + timeout
    with MongoClient(settings.mongo_uri) as mongo:
        while time.monotonic() < deadline:
            unpublished = sum(
                mongo[settings.db_name(s)][OUTBOX].count_documents({"published_at": None}, limit=1)
                for s in SERVICES
            )
            if (
                not unpublished
                and requests.get(url, headers=headers, timeout=10).json().get("total_lag") == 0
            ):
                return
            time.sleep(0.2)
    raise TimeoutError(f"the relays and the projector did not catch up within {timeout:g} s")
