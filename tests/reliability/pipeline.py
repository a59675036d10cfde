"""The rest of the pipeline for the reliability tests that stop at a service's outbox or a topic: publish the outbox,
project a topic into views with a real projector runner (and a real dead-letter producer), count what the log and
the dead-letter topic hold. Each test then compares the views with tests/oracle.py."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from kafka import TopicPartition

from deploy.local.servers import ServerProcess, ensure_topics, spawn
from services.monitoring.projection import MonitoringProjection
from shared.clients import kafka_consumer, kafka_producer
from shared.projection import BatchResult, DeadLetters, ProjectionWriter, ProjectorRunner, applied_event_count
from shared.relay import OutboxRelay
from shared.settings import DEAD_LETTER_TOPIC, Settings
from shared.store import OUTBOX, Store
from tests.helpers import projected, wait_until
from tests.oracle import Directory, assert_views_match, from_supervision_db


@dataclass
class Counts:
    """What a projection run saw: records read, applied once, dropped as duplicates, dead-lettered."""

    records: int = 0
    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0

    def add(self, result: BatchResult) -> None:
        self.applied += result.applied
        self.duplicates += result.duplicates
        self.dead_lettered += result.dead_lettered


@dataclass
class Checked:
    """The views of a test's events, checked against the oracle."""

    counts: Counts
    views: int  # views compared with the oracle, every one equal
    dead_letters: int

    def line(self, kills: str) -> str:
        c = self.counts
        return (
            f"events {c.records} (applied {c.applied}), kills {kills}, duplicates {c.duplicates}, "
            f"DLQ entries {self.dead_letters}; oracle: {self.views} views equal to the recomputation"
        )


def outbox_to_own_topic(settings: Settings, source: Store, unique: str, service: str = "supervision") -> str:
    """Publish a service's outbox to a topic of the test's own, with the relay's code."""
    topic = f"{unique}.{service}"
    ensure_topics(settings.kafka_bootstrap, [topic], partitions=3)
    route_outbox(source, topic)
    publish_outbox(settings, source)
    return topic


def check_views(settings: Settings, source: Store, topics: list[str], group: str) -> Checked:
    """Project `topics` into the monitoring database of `settings`, then compare every view with the oracle's
    recomputation from the supervision database `source` (and its local copy of the directory)."""
    views = Store(source.client, settings.db_name("monitoring"))
    counts = project(settings, topics, group, views)
    expected = from_supervision_db(source.db, Directory.from_db(source.db))
    compared = assert_views_match(expected, views.db)
    return Checked(counts, compared, dead_letters(settings, topics))


def supervision_activity(base: str, headers: dict[str, str], visit_ids: list[str]) -> int:
    """Every kind of supervision write through the API, on the schools of tests/integration/test_supervision.py's
    directory: a plan, two visits completed and one cancelled, a finding with a follow-up completed and one left
    open, coaching and mentoring (v2 events) and a PLC session. Returns the number of writes."""
    school, teacher = {"school_code": "13010001"}, ["T13010001-01"]
    writes = [
        (
            "/plans",
            {
                "title": "แผนนิเทศ",
                "academic_year": 2569,
                "semester": 2,
                "target_school_codes": ["13010001"],
                "focus_areas": ["การอ่าน"],
            },
        ),
        (
            f"/visits/{visit_ids[0]}/complete",
            {
                "visit_date": "2026-11-24",
                "teachers_observed": teacher,
                "rubric_scores": {"learning_design": 3, "assessment": 4},
            },
        ),
        (
            f"/visits/{visit_ids[2]}/complete",
            {
                "visit_date": "2026-12-03",
                "mode": "online",
                "teachers_observed": teacher,
                "rubric_scores": {"assessment": 2},
            },
        ),
        (f"/visits/{visit_ids[1]}/cancel", {"reason": "ฝนตก"}),
        (
            "/coaching-sessions",
            {
                **school,
                "kind": "coaching",
                "session_date": "2026-11-25",
                "teacher_ids": teacher,
                "minutes": 60,
            },
        ),
        (
            "/coaching-sessions",
            {
                **school,
                "kind": "mentoring",
                "session_date": "2026-11-26",
                "teacher_ids": teacher,
                "minutes": 45,
            },
        ),
        (
            "/plc-sessions",
            {
                "cluster_id": "13P1-C01",
                "school_codes": ["13010001", "13010002"],
                "topic": "การอ่าน",
                "session_date": "2026-11-26",
                "teacher_ids": ["T13010001-01", "T13010002-01"],
            },
        ),
    ]
    for path, body in writes:
        _post(base, path, body, headers)
    note = {"domain": "assessment", "finding": "ดี", "recommendation": "ต่อยอด"}
    finding = _post(base, f"/visits/{visit_ids[0]}/findings", note, headers)
    for _ in range(2):
        follow_up = {"owner": "ผู้อำนวยการ", "action": "ทบทวน", "due_date": "2027-01-15"}
        opened = _post(base, f"/findings/{finding['id']}/follow-ups", follow_up, headers)
    _post(base, f"/follow-ups/{opened['id']}/complete", {"completed_date": "2026-11-27"}, headers)
    return len(writes) + 4


def _post(base: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    response = requests.post(f"{base}/api/v1{path}", json=body, headers=headers, timeout=30)
    assert response.status_code == 201, f"POST {path}: {response.status_code} {response.text}"
    return dict(response.json())


def route_outbox(store: Store, topic: str) -> int:
    """Send this test's outbox to its own topic: the platform topic on a shared broker holds other tests' events."""
    return store.db[OUTBOX].update_many({"published_at": None}, {"$set": {"topic": topic}}).modified_count


def publish_outbox(settings: Settings, store: Store, timeout: float = 60) -> None:
    """The relay's own code, in process, until the outbox is empty."""
    producer = kafka_producer(settings)
    relay = OutboxRelay(store, producer)
    try:
        wait_until(lambda: relay.publish_pending() == 0, timeout, what="the outbox published")
    finally:
        producer.close(timeout=5)


def project(settings: Settings, topics: list[str], group: str, store: Store, timeout: float = 120) -> Counts:
    """A real projector runner, with a dead-letter producer, until it has read every topic to its end."""
    producer = kafka_producer(settings)
    writer = ProjectionWriter(store, MonitoringProjection(topics), group, DeadLetters(producer))
    writer.ensure_indexes()
    runner = ProjectorRunner(
        writer, kafka_consumer(settings, group_id=group), assignment="all", poll_timeout_ms=100
    )
    ends = kafka_consumer(settings, group_id=None)
    counts = Counts(records=records_on(settings, topics))

    def caught_up() -> bool:
        counts.add(runner.step())
        return projected(store, group, topics, ends)

    try:
        wait_until(caught_up, timeout=timeout, interval=0, what="every event projected")
    finally:
        runner.consumer.close()
        ends.close()
        producer.close(timeout=5)
    return counts


def start_projector(
    settings: Settings, topics: list[str], log: Path, name: str = "projector"
) -> ServerProcess:
    """`python -m services.monitoring.projector` over the test's own topics, as a separate process."""
    env = {**os.environ, **settings.to_env(), "PYTHONUNBUFFERED": "1"}
    argv = [sys.executable, "-m", "services.monitoring.projector", *topics]
    return spawn(name, argv, log_path=log, env=env)


def records_on(settings: Settings, topics: list[str]) -> int:
    """Records on the topics, duplicates included: what a consumer reading from the beginning is handed."""
    consumer = kafka_consumer(settings, group_id=None)
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        return sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()


def dead_letters(settings: Settings, topics: list[str], timeout: float = 30) -> int:
    """Records on the dead-letter topic that came from `topics` (its `source` header names topic/partition/offset);
    read to its end, so 0 is a count, not an absence of looking."""
    consumer = kafka_consumer(settings, group_id=None)
    try:
        partitions = [
            TopicPartition(DEAD_LETTER_TOPIC, p)
            for p in consumer.partitions_for_topic(DEAD_LETTER_TOPIC) or ()
        ]
        if not partitions:
            return 0
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        found = 0

        def read_to_end() -> bool:
            nonlocal found
            for records in consumer.poll(timeout_ms=100).values():
                found += sum(_source_topic(r.headers) in topics for r in records)
            return all(consumer.position(tp) >= end for tp, end in ends.items())

        wait_until(read_to_end, timeout, interval=0, what="the dead-letter topic read to its end")
        return found
    finally:
        consumer.close()


def _source_topic(headers: list[tuple[str, bytes]]) -> str:
    source = dict(headers or []).get("source", b"")
    return source.decode().rsplit("/", 2)[0]


def applied(store: Store) -> int:
    return applied_event_count(store.db)
