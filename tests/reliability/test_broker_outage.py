"""The broker stopped and restarted while API writes continue: the writes are still accepted (they wait in the
outbox), and every one of them is delivered, by itself, once the broker is back.

Its own broker (never the session's: other tests use it), its own gunicorn of the supervision service and its own
relay, on the session's document store. Then every other kind of supervision write goes through the API, a
projector reads the topic, and the views equal tests/oracle.py's recomputation from the service's database."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest
import requests

from deploy.local.servers import ensure_topics, free_port, spawn, start_kafka, wait_until
from shared.auth import issue_token
from shared.catalog import catalog
from shared.clients import kafka_consumer, mongo_client
from shared.settings import DEAD_LETTER_TOPIC, TOPICS, Settings
from shared.store import OUTBOX, Store
from tests.helpers import poll_records
from tests.integration.test_supervision import VISIT, seed_directory
from tests.reliability.pipeline import check_views, supervision_activity

pytestmark = pytest.mark.e2e

WRITES_WHILE_DOWN = 8


def unpublished(store: Store) -> int:
    return store.db[OUTBOX].count_documents({"published_at": None})


def test_writes_during_a_broker_outage_are_accepted_and_delivered_when_it_returns(
    settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    broker = start_kafka(tmp_path / "kafka", port, log_path=tmp_path / "kafka.log")
    own = settings.with_overrides(
        kafka_bootstrap=broker.address,
        db_prefix=f"{settings.db_prefix}_b{uuid.uuid4().hex[:6]}",
        rate_limit_per_minute=0,
        ports={**settings.ports, "supervision": free_port()},
    )
    ensure_topics(own.kafka_bootstrap, [*TOPICS.values(), DEAD_LETTER_TOPIC], 3)
    store = Store(mongo_client(own), own.db_name("supervision"))
    seed_directory(store)
    env = {**os.environ, **own.to_env(), "PYTHONUNBUFFERED": "1"}
    base = f"http://127.0.0.1:{own.ports['supervision']}"
    argv = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", base.removeprefix("http://"),
            "services.supervision.app:create_app()"]  # fmt: skip
    service = spawn("supervision", argv, log_path=tmp_path / "supervision.log", env=env)
    relay = spawn(
        "relay",
        [sys.executable, "-m", "services.supervision.relay"],
        log_path=tmp_path / "relay.log",
        env=env,
    )
    token = issue_token(own, sub="sup-13P1", role="supervisor", scope_level="esa", scope_code="13P1")
    headers = {"Authorization": f"Bearer {token}"}

    def schedule(day: str) -> str:
        response = requests.post(
            f"{base}/api/v1/visits", json={**VISIT, "scheduled_date": day}, headers=headers
        )
        assert response.status_code == 201, response.text  # accepted whether or not the broker is there
        return response.json()["id"]

    try:
        wait_until(lambda: requests.get(f"{base}/health", timeout=1).ok, timeout=60, what="supervision",
                   ignore=(requests.RequestException,))  # fmt: skip
        ids = [schedule("2026-11-20")]
        wait_until(lambda: unpublished(store) == 0, timeout=30, what="the first event published")

        broker.stop()
        ids += [schedule(f"2026-12-{day:02d}") for day in range(1, WRITES_WHILE_DOWN + 1)]
        waiting = unpublished(store)
        ready = requests.get(f"{base}/ready", timeout=5)
        broker = start_kafka(
            tmp_path / "kafka", port, log_path=tmp_path / "kafka.log"
        )  # same port, same data
        wait_until(lambda: unpublished(store) == 0, timeout=90, what="the outbox delivered after the outage")

        consumer = kafka_consumer(own, group_id=None)
        try:
            consumer.subscribe([TOPICS["supervision"]])
            records = poll_records(consumer, len(ids), timeout=30)
        finally:
            consumer.close()
        delivered = [catalog.decode(r.value)["aggregate_id"] for r in records]
        print(
            f"writes {len(ids)} (during the outage {WRITES_WHILE_DOWN}, waiting in the outbox {waiting}), "
            f"delivered {len(delivered)}, duplicates {len(delivered) - len(set(delivered))}"
        )
        assert ready.status_code == 503 and ready.json()["checks"]["broker"] is False
        assert waiting == WRITES_WHILE_DOWN
        assert set(delivered) == set(ids)

        # then every other kind of supervision write, and the oracle: the views of the topic equal a
        # recomputation from the service's own database
        more = supervision_activity(base, headers, ids)
        wait_until(lambda: unpublished(store) == 0, timeout=60, what="the later writes published")
        checked = check_views(own, store, [TOPICS["supervision"]], f"{own.db_prefix}-views")
        print(checked.line(kills="1 (the broker stopped, then restarted)"))
        assert checked.counts.applied == len(ids) + more and checked.dead_letters == 0
    finally:
        relay.stop()
        service.stop()
        broker.stop()
        store.client.close()
