"""The relay killed between publishing and marking its outbox rows: SIGKILLed at random points while it works,
again and again, and restarted each time. Nothing is lost (every outbox event reaches the topic at least once),
what was published but not yet marked goes out again (counted as duplicates), a consumer deduplicating by
`event_id` sees each event exactly once, and every outbox row ends marked. A projector over the topic then builds
views equal to tests/oracle.py's recomputation from the events produced."""

from __future__ import annotations

import json
import os
import random
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from kafka import TopicPartition

from deploy.local.servers import ServerProcess, ensure_topics, spawn
from shared.catalog import catalog
from shared.clients import kafka_consumer, mongo_client
from shared.envelope import new_event
from shared.settings import Settings
from shared.store import OUTBOX, Store
from tests.eventfactory import PERIOD, school_org
from tests.helpers import wait_until
from tests.oracle import Directory, assert_views_match, from_events
from tests.reliability.pipeline import dead_letters, project

pytestmark = pytest.mark.integration

EVENTS = 1000
PER_TRANSACTION = 100
KILLS = 12
BATCH_SIZE = 10  # small batches: the relay is mid-way through its work whenever it is killed
MARKED = {"published_at": {"$ne": None}}


def school_of(n: int) -> tuple[str, str]:
    """Twenty schools over three ESA areas of province 13, one cluster each: (school code, ESA area)."""
    return f"130100{n % 20:02d}", f"13P{n % 20 % 3 + 1}"


# the master data the oracle rolls the schools up with
DIRECTORY = Directory(
    schools={
        school: {"cluster_id": f"{esa}-C01", "esa_code": esa, "province_code": "13"}
        for school, esa in map(school_of, range(20))
    },
    clusters={f"13P{k}-C01": {"esa_code": f"13P{k}", "province_code": "13"} for k in (1, 2, 3)},
)


def visit_completed(n: int) -> dict[str, object]:
    school, esa = school_of(n)
    return new_event(
        event_type="supervision.VisitCompleted",
        event_version=catalog.latest_version("supervision.VisitCompleted"),
        producer="supervision",
        aggregate_id=f"V{n:05d}",
        aggregate_version=1,
        org=school_org(school, cluster=f"{esa}-C01", esa=esa),
        payload={
            "visit_id": f"V{n:05d}",
            "school_code": school,
            "visit_date": "2026-11-20",
            "mode": "onsite",
            "rubric_scores": {"learning_design": 3, "assessment": 2},
            "teachers_observed": [f"T{school}-01"],
            "period": PERIOD,
        },
        actor="test",
    )


def fill_outbox(store: Store, topic: str) -> list[bytes]:
    """The service's own way in: events appended to the outbox inside transactions. Returns them as produced."""
    produced: list[bytes] = []
    for start in range(0, EVENTS, PER_TRANSACTION):
        events = [visit_completed(n) for n in range(start, start + PER_TRANSACTION)]
        store.atomic(lambda session, events=events: store.append_outbox(session, topic, events))
        produced += [catalog.serialize(e) for e in events]
    return produced


def start_relay(settings: Settings, log: Path) -> ServerProcess:
    env = {**os.environ, **settings.to_env(), "PYTHONUNBUFFERED": "1"}
    return spawn("relay", [sys.executable, "-m", "services.supervision.relay"], log_path=log, env=env)


def read_topic(settings: Settings, topic: str, timeout: float = 30) -> list[str]:
    """The event ids of every record on `topic`, duplicates included, read up to its end offsets."""
    consumer = kafka_consumer(settings, group_id=None)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        ids: list[str] = []

        def read_to_end() -> bool:
            for records in consumer.poll(timeout_ms=100).values():
                ids.extend(catalog.decode(r.value)["event_id"] for r in records)
            return all(consumer.position(tp) >= end for tp, end in ends.items())

        wait_until(read_to_end, timeout, interval=0, what=f"{topic} read to its end")
        return ids
    finally:
        consumer.close()


def test_sigkilled_relays_lose_nothing_and_duplicates_are_dropped(settings: Settings, tmp_path: Path) -> None:
    unique = f"r{uuid.uuid4().hex[:8]}"
    chaos = settings.with_overrides(db_prefix=f"{settings.db_prefix}_{unique}", relay_batch_size=BATCH_SIZE)
    topic = f"{unique}.supervision"
    ensure_topics(settings.kafka_bootstrap, [topic], partitions=3)
    store = Store(mongo_client(chaos), chaos.db_name("supervision"))
    store.ensure_indexes()
    produced = fill_outbox(store, topic)
    outboxed = {json.loads(raw)["event_id"] for raw in produced}
    assert store.db[OUTBOX].count_documents({}) == EVENTS

    rng = random.Random(20261125)
    log = tmp_path / "relay.log"
    marked = lambda: store.db[OUTBOX].count_documents(MARKED)  # noqa: E731
    kills = 0
    relay: ServerProcess | None = None
    started = time.monotonic()
    try:
        while kills < KILLS and marked() < EVENTS:
            before = marked()
            relay = start_relay(chaos, log)
            # killed while it works: once it has marked something more, at a random point after that
            wait_until(lambda b=before: marked() > b, timeout=30, what="the relay marking events")
            time.sleep(rng.uniform(0, 0.2))
            relay.kill()
            kills += 1
        relay = start_relay(chaos, log)
        wait_until(lambda: marked() == EVENTS, timeout=30, what="every outbox row marked")
        relay.stop()
    finally:
        if relay is not None and relay.alive():
            relay.kill()

    relay_phase = time.monotonic() - started
    published = read_topic(settings, topic)
    counts = Counter(published)
    duplicates = len(published) - len(counts)
    # the oracle: a projector over the topic builds exactly the views recomputed from the events produced
    views = Store(store.client, chaos.db_name("monitoring"))
    projection = project(chaos, [topic], f"{unique}-views", views)
    compared = assert_views_match(from_events(produced, DIRECTORY), views.db)
    dead = dead_letters(chaos, [topic])
    print(
        f"events {EVENTS}, kills {kills}, published records {len(published)}, duplicates {duplicates} "
        f"(dropped by the projector {projection.duplicates}), DLQ entries {dead}; oracle: {compared} views "
        f"equal to the recomputation from the events produced; relay phase {relay_phase:.1f}s"
    )
    assert kills == KILLS, f"the relay finished after {kills} kills: give it more work"
    assert set(counts) == outboxed  # nothing lost, nothing foreign
    assert len(set(published)) == EVENTS  # deduplicated by event_id: each exactly once
    assert store.db[OUTBOX].count_documents({"published_at": None}) == 0
    assert projection.applied == EVENTS and projection.duplicates == duplicates and dead == 0
    store.client.close()
