"""The document store stopped. The APIs answer 503 with a clear message, no write is half-done, and everything
recovers by itself when the store returns.

Its own SecantusDB (never the session's: other tests use it) and its own gunicorn of the supervision service
(2 workers) on the session broker. The store is stopped under the running service and started again on the same
port and data directory; gunicorn is never restarted. At the end the accepted writes go through relay, topic and
projector, and the views equal tests/oracle.py's recomputation from the service's database."""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from deploy.local.servers import ServerProcess, free_port, spawn, start_mongo, wait_until
from shared.auth import issue_token
from shared.clients import mongo_client
from shared.settings import Settings
from shared.store import AUDIT, OUTBOX, Store
from tests.integration.test_supervision import VISIT, seed_directory
from tests.reliability.pipeline import check_views, outbox_to_own_topic

pytestmark = pytest.mark.e2e

STORE_DOWN = "the document store is unreachable; nothing was changed, please retry"
QUICK = 3.0  # seconds: a refusal while the store is down must not make the caller wait longer than this
FIRST_DAY = "2026-11-20"
OUTAGE_DAYS = ("2026-11-25", "2026-11-26")  # the writes tried while the store is down
RECOVERY_DAY = "2026-11-27"  # the write retried until the store is back


@dataclass
class Outage:
    settings: Settings
    data_dir: Path
    log_dir: Path
    port: int
    mongo: ServerProcess
    service: ServerProcess

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.settings.ports['supervision']}{path}"

    def headers(self) -> dict[str, str]:
        token = issue_token(self.settings, sub="supervisor-13P1", role="supervisor", scope_level="esa",
                            scope_code="13P1")  # fmt: skip
        return {"Authorization": f"Bearer {token}", "X-Request-Id": uuid.uuid4().hex}

    def start_store(self) -> None:
        self.mongo = start_mongo(self.data_dir, self.port, log_path=self.log_dir / "mongo.log")


@pytest.fixture
def outage(settings: Settings, tmp_path: Path) -> Iterator[Outage]:
    port = free_port()
    data_dir, log_dir = tmp_path / "mongo", tmp_path / "logs"
    mongo = start_mongo(data_dir, port, log_path=log_dir / "mongo.log")
    own = settings.with_overrides(
        mongo_uri=mongo.address,
        db_prefix=f"{settings.db_prefix}_outage",
        mongo_server_selection_ms=1500,
        rate_limit_per_minute=0,
        ports={**settings.ports, "supervision": free_port()},
    )
    client = mongo_client(own)
    try:
        seed_directory(Store(client, own.db_name("supervision")))
    finally:
        client.close()
    env = {**os.environ, **own.to_env(), "PYTHONUNBUFFERED": "1"}
    argv = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{own.ports['supervision']}",
            "--graceful-timeout", "5", "services.supervision.app:create_app()"]  # fmt: skip
    service = spawn("supervision", argv, log_path=log_dir / "supervision.log", env=env)
    state = Outage(own, data_dir, log_dir, port, mongo, service)
    try:
        wait_until(lambda: _status(state, "/ready") == 200, timeout=30, what="supervision /ready")
        yield state
    except BaseException:
        print(f"--- supervision ---\n{service.log_tail(60)}", file=sys.stderr)
        raise
    finally:
        service.stop(timeout=10)
        state.mongo.stop(timeout=10)


def _status(outage: Outage, path: str) -> int | None:
    assert outage.service.alive(), f"gunicorn exited:\n{outage.service.log_tail()}"
    try:
        return requests.get(outage.url(path), timeout=5).status_code
    except requests.RequestException:  # gunicorn accepts before its workers have booted
        return None


def _schedule(outage: Outage, day: str) -> tuple[requests.Response, float, str]:
    headers = outage.headers()
    started = time.monotonic()
    response = requests.post(outage.url("/api/v1/visits"), json={**VISIT, "scheduled_date": day},
                             headers=headers, timeout=30)  # fmt: skip
    return response, time.monotonic() - started, headers["X-Request-Id"]


def _assert_store_down(response: requests.Response, took: float, what: str) -> None:
    assert response.status_code == 503, f"{what}: {response.status_code} {response.text}"
    assert response.json() == {"code": 503, "status": "Service Unavailable", "message": STORE_DOWN}, what
    assert response.headers.get("Retry-After", "").isdigit(), what
    assert took < QUICK, f"{what} took {took:.2f}s (the store's selection timeout is 1.5s)"


def test_store_outage_is_refused_cleanly_and_recovers_by_itself(outage: Outage) -> None:
    first, _, _ = _schedule(outage, FIRST_DAY)
    assert first.status_code == 201, first.text
    first_id = first.json()["id"]

    assert outage.mongo.stop(timeout=15) is not None  # SIGTERM, waited for
    refused_requests: list[str] = []
    timings: list[str] = []
    # more than one round, so both gunicorn workers (and their pooled, now dead, connections) are hit
    for day in OUTAGE_DAYS:
        response, took, request_id = _schedule(outage, day)
        _assert_store_down(response, took, f"POST /visits ({day}) with the store down")
        refused_requests.append(request_id)
        started = time.monotonic()
        listed = requests.get(outage.url("/api/v1/visits"), headers=outage.headers(), timeout=30)
        listed_took = time.monotonic() - started
        _assert_store_down(listed, listed_took, "GET /visits with the store down")
        timings.append(f"POST {took:.2f}s GET {listed_took:.2f}s")
    assert requests.get(outage.url("/health"), timeout=5).status_code == 200
    ready = requests.get(outage.url("/ready"), timeout=10)
    assert ready.status_code == 503, ready.text
    assert ready.json()["checks"]["database"] is False

    outage.start_store()  # same port, same data directory; gunicorn keeps running
    attempts: list[int] = []

    def recovered() -> dict[str, Any] | None:
        response, _, request_id = _schedule(outage, RECOVERY_DAY)
        attempts.append(response.status_code)
        if response.status_code == 201:
            return response.json()
        assert response.status_code == 503, f"while recovering: {response.status_code} {response.text}"
        refused_requests.append(request_id)
        return None

    second = wait_until(recovered, timeout=30, interval=0.2, what="a POST /visits to succeed again")
    wait_until(lambda: _status(outage, "/ready") == 200, timeout=15, what="/ready to answer 200 again")

    client = mongo_client(outage.settings)
    try:
        db = client[outage.settings.db_name("supervision")]
        visits = {v["_id"]: v for v in db["visits"].find()}
        assert set(visits) == {first_id, second["id"]}, "only the two accepted writes are stored"
        # nothing half-done: each visit has its event in the outbox and its audit entry
        for visit_id in visits:
            assert db[OUTBOX].count_documents({"event.aggregate_id": visit_id}) == 1, visit_id
            assert db[AUDIT].count_documents({"target": visit_id}) == 1, visit_id
        assert db[OUTBOX].count_documents({}) == 2, "no event of a refused write"
        refused = {"source.request_id": {"$in": refused_requests}, "action": {"$ne": "denied"}}
        stray = db[AUDIT].count_documents(refused)
        assert stray == 0, "no audit entry of a refused write"
        # the oracle: the accepted writes, through relay, topic and projector, make exactly the recomputed views
        source = Store(client, outage.settings.db_name("supervision"))
        unique = f"so{uuid.uuid4().hex[:8]}"
        topic = outbox_to_own_topic(outage.settings, source, unique)
        checked = check_views(outage.settings, source, [topic], f"{unique}-views")
    finally:
        client.close()
    print(f"refusals with the store down: {timings}; POSTs while it came back: {attempts}")
    print(checked.line(kills="1 (the document store stopped)"))
    assert checked.counts.applied == 2 and checked.dead_letters == 0
