"""The projection framework against the real broker and document store: exactly once in effect."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from kafka import KafkaConsumer
from pymongo.errors import DuplicateKeyError

from deploy.local.servers import ensure_topics, wait_until
from services.monitoring.folds.activity import ACTIVITY
from services.monitoring.projection import MonitoringProjection
from shared.clients import kafka_consumer, kafka_producer, mongo_client
from shared.envelope import Org, new_event, utcnow
from shared.projection import (
    APPLIED,
    EVENT_IDS,
    DeadLetters,
    ProjectionWriter,
    ProjectorRunner,
    Record,
    applied_event_count,
)
from shared.relay import OutboxRelay
from shared.settings import Settings
from shared.store import OUTBOX, Store
from tests.eventfactory import PERIOD, school_org, wire
from tests.helpers import merged_view

pytestmark = pytest.mark.integration

SCHOOLS = [f"130100{n:02d}" for n in range(1, 9)]


class Rig:
    """A projector wired to per-test topics, a per-test group and a per-test database."""

    def __init__(self, settings: Settings, unique: str) -> None:
        self.settings = settings
        self.topic = f"{unique}.supervision"
        self.dlq = f"{unique}.dlq"
        self.group = f"{unique}-projector"
        ensure_topics(settings.kafka_bootstrap, [self.topic, self.dlq], partitions=3)
        self.store = Store(mongo_client(settings), f"{settings.db_prefix}_{unique}_monitoring")
        self.producer = kafka_producer(settings)
        self.runners: list[ProjectorRunner] = []

    def runner(self, assignment: str = "all") -> ProjectorRunner:
        writer = ProjectionWriter(
            self.store, MonitoringProjection([self.topic]), self.group, DeadLetters(self.producer, self.dlq)
        )
        consumer = kafka_consumer(self.settings, group_id=self.group)
        runner = ProjectorRunner(writer, consumer, assignment=assignment, poll_timeout_ms=100)
        self.runners.append(runner)
        return runner

    def send(self, value: bytes, key: bytes = b"13P1") -> None:
        self.producer.send(self.topic, key=key, value=value).get(timeout=10)

    def visits_done(self, level: str, code: str) -> int:
        doc = merged_view(self.store.db, level, code, PERIOD)
        return doc.get("supervision", {}).get("visits_done", 0)

    def close(self) -> None:
        for runner in self.runners:
            runner.consumer.close()
        self.producer.close()


@pytest.fixture
def rig(settings: Settings, unique: str) -> Iterator[Rig]:
    rig = Rig(settings, unique)
    try:
        yield rig
    finally:
        rig.close()


def visit(school: str, visit_id: str, org: Org | None = None) -> bytes:
    payload = {
        "visit_id": visit_id,
        "school_code": school,
        "visit_date": "2026-11-20",
        "mode": "online",
        "rubric_scores": {"assessment": 3},
        "teachers_observed": [],
        "period": PERIOD,
    }
    return wire("supervision.VisitCompleted", payload, org or school_org(school), aggregate_id=visit_id)


def drain(runner: ProjectorRunner, until: Any, what: str) -> None:
    wait_until(lambda: (runner.step(), until())[1], timeout=30, what=what)


def test_killed_between_view_write_and_offset_commit_counts_once(rig: Rig) -> None:
    events = [visit(SCHOOLS[i % len(SCHOOLS)], f"V{i}") for i in range(40)]
    for value in events:
        rig.send(value)

    class Killed(Exception):
        pass

    first = rig.runner()

    def crash_after_views_are_written(records: Any) -> None:
        raise Killed  # the view transaction committed; the broker offset commit never happens

    first._commit_to_broker = crash_after_views_are_written  # type: ignore[method-assign]
    with pytest.raises(Killed):
        wait_until(lambda: first.step() and False, timeout=30, what="a first batch")
    first.consumer.close()
    partial = rig.visits_done("national", "TH")
    assert 0 < partial <= 40

    second = rig.runner()  # a restarted instance resumes from the positions stored with the views
    drain(second, lambda: rig.visits_done("national", "TH") >= 40, "all visits projected")
    for _ in range(3):
        second.step()
    assert rig.visits_done("national", "TH") == 40
    assert rig.visits_done("province", "13") == 40
    assert sum(rig.visits_done("school", s) for s in SCHOOLS) == 40


def test_crash_inside_the_transaction_leaves_no_trace(rig: Rig) -> None:
    for i in range(10):
        rig.send(visit(SCHOOLS[0], f"W{i}"))
    runner = rig.runner()
    writer = runner.writer
    original = writer._store_positions

    def fail_before_positions(session: Any, records: Any) -> None:
        raise RuntimeError("crash after the view bulk write, before the positions")

    writer._store_positions = fail_before_positions  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        wait_until(lambda: runner.step() and False, timeout=30, what="a batch")
    assert rig.visits_done("school", SCHOOLS[0]) == 0  # the view write was rolled back with the transaction
    writer._store_positions = original  # type: ignore[method-assign]
    runner.seek_to_stored(list(runner.consumer.assignment()))
    drain(runner, lambda: rig.visits_done("school", SCHOOLS[0]) >= 10, "ten visits")
    runner.step()
    assert rig.visits_done("school", SCHOOLS[0]) == 10


def test_the_same_event_delivered_twice_counts_once(rig: Rig) -> None:
    value = visit(SCHOOLS[1], "DUP")
    rig.send(value)
    rig.send(value)  # e.g. the relay crashed after publishing and before marking its outbox row
    rig.send(visit(SCHOOLS[1], "OTHER"))
    runner = rig.runner()
    drain(runner, lambda: rig.visits_done("school", SCHOOLS[1]) >= 2, "two distinct visits")
    for _ in range(3):
        runner.step()
    assert rig.visits_done("school", SCHOOLS[1]) == 2
    assert applied_event_count(rig.store.db) == 2


def writer_of(rig: Rig) -> ProjectionWriter:
    writer = ProjectionWriter(rig.store, MonitoringProjection([rig.topic]), rig.group, DeadLetters(None))
    writer.ensure_indexes()
    return writer


def test_a_batch_keeps_its_event_ids_in_one_document_and_no_other_may_hold_them(rig: Rig) -> None:
    result = writer_of(rig).apply([Record(rig.topic, 0, n, visit(SCHOOLS[4], f"B{n}")) for n in range(3)])
    documents = list(rig.store.db[APPLIED].find())
    assert result.applied == 3 and len(documents) == 1 and len(documents[0][EVENT_IDS]) == 3
    # so a second transaction recording one of them as applied (another instance, say) cannot commit
    with pytest.raises(DuplicateKeyError):
        rig.store.db[APPLIED].insert_one({"at": utcnow(), EVENT_IDS: ["another", documents[0][EVENT_IDS][1]]})


def test_event_ids_applied_one_document_each_are_still_recognised(rig: Rig) -> None:
    value = visit(SCHOOLS[5], "BEFORE")
    earlier = [json.loads(value)["event_id"], *(f"earlier-{n}" for n in range(4))]
    rig.store.db[APPLIED].insert_many([{"_id": event_id, "at": utcnow()} for event_id in earlier])
    writer = writer_of(rig)
    assert applied_event_count(rig.store.db) == 5
    assert rig.store.db[APPLIED].count_documents({EVENT_IDS: {"$exists": False}}) == 0
    result = writer.apply([Record(rig.topic, 0, 0, value)])
    assert (result.applied, result.duplicates) == (0, 1)
    assert rig.visits_done("school", SCHOOLS[5]) == 0


def test_an_event_applied_again_after_its_applied_record_expired_still_commits(rig: Rig) -> None:
    writer = writer_of(rig)
    value = visit(SCHOOLS[6], "AGAIN")
    entry = json.loads(value)["event_id"]  # its activity entry's key
    assert writer.apply([Record(rig.topic, 0, 0, value)]).applied == 1  # the entry inserted whole
    assert rig.store.db[ACTIVITY].count_documents({"_id": entry}) == 1
    rig.store.db[APPLIED].delete_many({})  # as the TTL index does once APPLIED_RETENTION has passed
    # delivered again (republished at a later offset): its entry exists, so it is set again, not inserted
    assert writer.apply([Record(rig.topic, 0, 1, value)]).applied == 1
    assert rig.store.db[ACTIVITY].count_documents({"_id": entry}) == 1


def test_a_malformed_event_is_dead_lettered_and_the_stream_goes_on(rig: Rig) -> None:
    bad_contract = json.loads(visit(SCHOOLS[2], "BAD"))
    bad_contract["payload"]["mode"] = {"$ne": None}
    rig.send(b"{not json")
    rig.send(json.dumps(bad_contract).encode())
    rig.send(visit(SCHOOLS[2], "GOOD"))
    runner = rig.runner()
    drain(runner, lambda: rig.visits_done("school", SCHOOLS[2]) == 1, "the good event after the bad ones")

    consumer = KafkaConsumer(
        rig.dlq,
        bootstrap_servers=rig.settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=200,
    )
    try:
        letters: list[Any] = []
        wait_until(lambda: letters.extend(consumer) or len(letters) >= 2, timeout=20, what="two dead letters")
    finally:
        consumer.close()
    assert {m.value for m in letters} == {b"{not json", json.dumps(bad_contract).encode()}
    reasons = [dict(m.headers)["reason"].decode() for m in letters]
    assert any("not JSON" in r for r in reasons) and any("payload is invalid" in r for r in reasons)
    assert all(dict(m.headers)["source"].decode().startswith(rig.topic) for m in letters)


def test_outbox_to_relay_to_projector(rig: Rig, settings: Settings, unique: str) -> None:
    source = Store(mongo_client(settings), f"{settings.db_prefix}_{unique}_source")
    org = Org(SCHOOLS[3], "13P1-C01", "13P1", "13")
    payload = {
        "visit_id": "R1",
        "school_code": SCHOOLS[3],
        "visit_date": "2026-11-21",
        "mode": "onsite",
        "rubric_scores": {"learning_design": 4},
        "teachers_observed": ["T1"],
        "period": PERIOD,
    }
    event = new_event(
        event_type="supervision.VisitCompleted",
        event_version=1,
        producer="supervision",
        aggregate_id="R1",
        aggregate_version=2,
        org=org,
        payload=payload,
        actor="sup-13P1",
    )

    def write(session: Any) -> None:
        source.db["visits"].insert_one({"_id": "R1", "status": "completed"}, session=session)
        source.append_outbox(session, rig.topic, [event])

    source.atomic(write)
    relay = OutboxRelay(source, rig.producer)
    assert relay.publish_pending() == 1
    assert source.db[OUTBOX].count_documents({"published_at": None}) == 0
    assert relay.publish_pending() == 0

    runner = rig.runner(assignment="group")
    drain(runner, lambda: rig.visits_done("province", "13") == 1, "the relayed visit in the province view")
    view = merged_view(rig.store.db, "province", "13", PERIOD)
    assert view["supervision"]["rubric"]["learning_design"] == {"sum": 4, "count": 1}
    assert view["as_of"] is not None


def test_a_rebalance_neither_loses_nor_double_counts(rig: Rig) -> None:
    areas = [b"13P1", b"13P2", b"50P1", b"13S1", b"10P1", b"11P1"]  # keys spread over the partitions

    def send_batch(prefix: str, count: int) -> None:
        for i in range(count):
            rig.send(visit(SCHOOLS[i % len(SCHOOLS)], f"{prefix}{i}"), key=areas[i % len(areas)])

    send_batch("A", 60)
    first, second = rig.runner("group"), rig.runner("group")
    stops = [threading.Event(), threading.Event()]
    threads = [
        threading.Thread(target=r.run, args=(s,), daemon=True)
        for r, s in zip((first, second), stops, strict=True)
    ]
    for thread in threads:
        thread.start()
    try:
        wait_until(
            lambda: rig.visits_done("national", "TH") == 60, timeout=60, what="60 visits by two members"
        )
        wait_until(
            lambda: first.consumer.assignment() and second.consumer.assignment(),
            timeout=30,
            what="both members holding partitions",
        )
        stops[0].set()  # the first member leaves: its partitions move to the second
        threads[0].join(timeout=30)
        send_batch("B", 60)
        wait_until(
            lambda: rig.visits_done("national", "TH") >= 120, timeout=60, what="120 visits after leaving"
        )
    finally:
        for stop in stops:
            stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert rig.visits_done("national", "TH") == 120
    assert applied_event_count(rig.store.db) == 120


class HeldStore(Store):
    """A store whose transactions, their writes done, wait to commit until `release` is set."""

    def __init__(self, client: Any, name: str) -> None:
        super().__init__(client, name)
        self.inside, self.release = threading.Event(), threading.Event()

    def atomic(self, work: Any) -> Any:
        def held(session: Any) -> Any:
            result = work(session)
            self.inside.set()
            self.release.wait(60)
            return result

        return super().atomic(held)


def test_instances_owning_different_partitions_never_write_the_same_document(rig: Rig) -> None:
    # Events are keyed by ESA area: 13P1's on partition 0, 13P2's on partition 1, both in province 13. One
    # instance's batch holds its transaction open; the other's must commit meanwhile. Had they shared the
    # province's or the nation's document, the second would conflict and retry until the first committed.
    def records(partition: int, esa: str, schools: list[str]) -> list[Record]:
        values = [
            visit(school, f"{esa}-V{i}", school_org(school, f"{esa}-C01", esa))
            for i, school in enumerate(schools)
        ]
        return [Record(rig.topic, partition, offset, value) for offset, value in enumerate(values)]

    def writer(store: Store) -> ProjectionWriter:
        return ProjectionWriter(store, MonitoringProjection([rig.topic]), rig.group, DeadLetters(None))

    # collections are created by the first write to them, and two transactions creating one conflict: a
    # running projector's exist already
    writer(rig.store).apply(records(2, "13S1", ["13020001"]))
    held = HeldStore(rig.store.client, rig.store.db.name)
    first = threading.Thread(target=writer(held).apply, args=(records(0, "13P1", SCHOOLS[:4]),), daemon=True)
    first.start()
    try:
        wait_until(held.inside.is_set, timeout=30, what="the first batch's writes, uncommitted")
        second = threading.Thread(
            target=writer(rig.store).apply, args=(records(1, "13P2", SCHOOLS[4:]),), daemon=True
        )
        second.start()
        second.join(timeout=20)
        committed_meanwhile = not second.is_alive()
    finally:
        held.release.set()
    first.join(timeout=30)
    second.join(timeout=60)
    assert committed_meanwhile, "the second instance waited for the first one's transaction"
    for level, code in (("province", "13"), ("national", "TH")):
        assert rig.visits_done(level, code) == len(SCHOOLS) + 1
    assert (rig.visits_done("esa", "13P1"), rig.visits_done("esa", "13P2")) == (4, len(SCHOOLS) - 4)
