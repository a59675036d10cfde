"""Projector instances of one consumer group join and leave while thousands of events flow (some delivered twice,
a few unreadable): each join and each graceful leave (SIGTERM: the batch in hand is finished, the consumer closed,
LeaveGroup sent) moves partitions between instances, and the views end up exactly equal to those of a projector
that was never disturbed, built from the same log, with every event applied once.

Runs on the session's broker (noida by default, tansu with ANP_TEST_BROKER=tansu). Caught up means every event
applied and, except on tansu (whose end offsets are wrong), every stored position at the end of its partition.
A second test holds a batch inside its transaction while its partition's new owner applies the same records."""

from __future__ import annotations

import os
import random
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from deploy.local.servers import ServerProcess, ensure_topics, wait_until
from services.monitoring.projection import MonitoringProjection
from shared.clients import kafka_consumer, kafka_producer, mongo_client
from shared.projection import (
    POSITIONS,
    BatchResult,
    Change,
    DeadLetters,
    Lookup,
    ProjectionWriter,
    ProjectorRunner,
    Record,
    applied_event_count,
)
from shared.settings import DEAD_LETTER_TOPIC, Settings
from shared.store import Store
from tests.eventfactory import PERIOD
from tests.helpers import merged_view, projected, snapshot
from tests.integration.test_monitoring_api import directory_events
from tests.reliability.pipeline import start_projector
from tests.reliability.test_projector_kills import visits

pytestmark = pytest.mark.integration

EVENTS = 3000
DUPLICATE_EVERY = 10  # every tenth event is sent a second time
UNREADABLE = 6  # records that are not events: dead-lettered once each, whoever holds their partition
PARTITIONS = 6
# after the first two instances: membership changes, one at a time, while the events flow (1 to 3 members)
CHANGES = ("join", "leave", "join", "leave", "leave", "join", "join", "leave", "leave", "join", "leave")
TRUSTED_END_OFFSETS = os.environ.get("ANP_TEST_BROKER", "noida") != "tansu"  # tansu's are wrong (INFRA.md)
ASSIGNED = re.compile(r"partitions assigned \(generation (\d+)\): (.*)$")


@dataclass
class Member:
    name: str
    process: ServerProcess
    log: Path

    def assignments(self) -> list[tuple[int, set[str]]]:
        """(generation, partitions) for every assignment this instance logged, oldest first."""
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            match = ASSIGNED.search(line)
            if match:
                found.append((int(match[1]), set(filter(None, match[2].split(" ")))))
        return found


@dataclass
class Group:
    settings: Settings
    topics: list[str]
    directory: Path
    members: list[Member] = field(default_factory=list)
    gone: list[Member] = field(default_factory=list)
    joins: int = 0

    def join(self) -> None:
        self.joins += 1
        log = self.directory / f"projector-{self.joins}.log"
        process = start_projector(self.settings, self.topics, log, name=f"projector-{self.joins}")
        self.members.append(Member(f"p{self.joins}", process, log))

    def leave(self, rng: random.Random) -> None:
        member = self.members.pop(rng.randrange(len(self.members)))
        # a member finishes its batch first (a conflicting transaction is retried), then leaves within seconds
        assert member.process.stop(timeout=60) == 0, member.process.log_tail()
        self.gone.append(member)

    def settled(self) -> bool:
        """Every member holds its part of one generation's assignment, and together they hold every partition."""
        latest = [m.assignments() for m in self.members]
        if not all(latest) or any(not m.process.alive() for m in self.members):
            return False
        generations = {found[-1][0] for found in latest}
        held = [found[-1][1] for found in latest]
        every = {f"{t}[{p}]" for t in self.topics for p in range(PARTITIONS)}
        return len(generations) == 1 and sum(map(len, held)) == len(every) and set().union(*held) == every

    def generations(self) -> int:
        """Rebalances seen: the distinct generations any instance was assigned partitions in."""
        return len({g for m in [*self.members, *self.gone] for g, _ in m.assignments()})


def unreadable(n: int) -> bytes:
    return b'{"not an event": ' + str(n).encode() + b"}"


def caught_up(store: Store, group: str, topics: list[str], ends: KafkaConsumer) -> bool:
    """Every event applied and, where the broker's end offsets are right, every position at its partition's end
    (the unreadable records are past every position then too: each is followed by events in its partition)."""
    if applied_event_count(store.db) < len(directory_events()) + EVENTS:
        return False
    return not TRUSTED_END_OFFSETS or projected(store, group, topics, ends)


def undisturbed(settings: Settings, topics: list[str], dead_letter_topic: str) -> Store:
    """One projector reading every partition from the start, never disturbed: the views to compare with."""
    store = Store(mongo_client(settings), settings.db_name("monitoring"))
    producer = kafka_producer(settings)
    writer = ProjectionWriter(
        store,
        MonitoringProjection(topics),
        settings.projector_group,
        DeadLetters(producer, dead_letter_topic),
    )
    runner = ProjectorRunner(
        writer,
        kafka_consumer(settings, group_id=settings.projector_group),
        assignment="all",
        poll_timeout_ms=100,
    )
    ends = kafka_consumer(settings, group_id=None)
    try:
        wait_until(
            lambda: (runner.step(), caught_up(store, settings.projector_group, topics, ends))[1],
            timeout=120,
            interval=0,
            what="the undisturbed projector at the end",
        )
    finally:
        runner.consumer.close()
        ends.close()
        producer.close()
    return store


def dead_letter_sources(settings: Settings, topics: list[str]) -> list[str]:
    """The `source` header (topic/partition/offset) of every dead letter that came from `topics`."""
    consumer = kafka_consumer(settings, group_id=None)
    try:
        partitions = [
            TopicPartition(DEAD_LETTER_TOPIC, p)
            for p in consumer.partitions_for_topic(DEAD_LETTER_TOPIC) or ()
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        sources: list[str] = []
        quiet = [0]

        def drained() -> bool:  # read until a second passes with nothing new
            records = [r for batch in consumer.poll(timeout_ms=200).values() for r in batch]
            quiet[0] = 0 if records else quiet[0] + 1
            for record in records:
                source = dict(record.headers or []).get("source", b"").decode()
                if source.split("/")[0] in topics:
                    sources.append(source)
            return quiet[0] >= 5

        wait_until(drained, timeout=60, interval=0, what="the dead-letter topic read")
        return sources
    finally:
        consumer.close()


class Paused(MonitoringProjection):
    """Its first fold waits, inside the batch's transaction, until told to go on."""

    def __init__(self, topics: list[str]) -> None:
        super().__init__(topics)
        self.inside, self.go_on = threading.Event(), threading.Event()
        self.folds = 0

    def fold(self, events: list[dict[str, Any]], lookup: Lookup) -> list[Change]:
        self.folds += 1
        if not self.inside.is_set():
            self.inside.set()
            assert self.go_on.wait(timeout=60)
        return super().fold(events, lookup)


@pytest.mark.parametrize("first", ["old owner", "new owner"])
def test_a_batch_in_flight_when_its_partition_moves_counts_once(settings: Settings, first: str) -> None:
    """The old owner of a partition is still inside its batch's transaction when the new owner, sought to the
    positions stored before that batch, applies the same records and more. Whichever commits first, the other
    one's transaction conflicts on the partition's position, is retried, and applies only what is left."""
    unique = f"f{uuid.uuid4().hex[:8]}"
    own = settings.with_overrides(db_prefix=f"{settings.db_prefix}_{unique}", projector_group=f"{unique}-g")
    topics = [f"{unique}.directory", f"{unique}.supervision"]
    stream = [*directory_events(), *visits(random.Random(11))[:60]]
    records = [Record(topics[1], 0, offset, value) for offset, value in enumerate(stream)]
    store = Store(mongo_client(own), own.db_name("monitoring"))
    slow = "new owner" if first == "old owner" else "old owner"
    paused = Paused(topics)
    writers = {
        name: ProjectionWriter(
            store,
            paused if name == slow else MonitoringProjection(topics),
            own.projector_group,
            DeadLetters(None),
        )
        for name in ("old owner", "new owner")
    }
    batches = {"old owner": records[:40], "new owner": records}  # the new owner has read further
    results: dict[str, BatchResult] = {}
    in_flight = threading.Thread(target=lambda: results.update({slow: writers[slow].apply(batches[slow])}))
    in_flight.start()
    assert paused.inside.wait(timeout=60)
    results[first] = writers[first].apply(batches[first])  # commits while the other batch is in flight
    paused.go_on.set()
    in_flight.join(timeout=60)

    oracle = Store(mongo_client(own), own.db_name("oracle"))
    ProjectionWriter(oracle, MonitoringProjection(topics), own.projector_group, DeadLetters(None)).apply(
        records
    )
    assert paused.folds == 2  # the batch in flight conflicted and was folded again from the new positions
    assert results[first].applied == len(batches[first])
    assert results[slow].applied == len(records) - len(batches[first])
    assert applied_event_count(store.db) == len(records)
    assert store.db[POSITIONS].find_one()["offset"] == len(records) - 1
    assert snapshot(store) == snapshot(oracle)
    store.client.close()
    oracle.client.close()


def test_instances_joining_and_leaving_build_exactly_the_undisturbed_views(
    settings: Settings, tmp_path: Path
) -> None:
    started = time.monotonic()
    unique = f"r{uuid.uuid4().hex[:8]}"
    group = settings.with_overrides(
        db_prefix=f"{settings.db_prefix}_{unique}g",
        projector_group=f"{unique}-group",
        projector_assignment="group",
    )
    calm = settings.with_overrides(
        db_prefix=f"{settings.db_prefix}_{unique}o", projector_group=f"{unique}-calm"
    )
    topics = [f"{unique}.directory", f"{unique}.supervision"]
    ensure_topics(settings.kafka_bootstrap, [*topics, f"{unique}.deadletter"], partitions=PARTITIONS)
    ensure_topics(settings.kafka_bootstrap, [DEAD_LETTER_TOPIC], partitions=1)  # left as it is if it exists
    rng = random.Random(20261124)
    stream = visits(rng)
    producer = kafka_producer(settings)
    for value in directory_events():
        producer.send(topics[0], key=b"13", value=value)
    producer.flush()
    sent = {"duplicates": 0}

    def flow() -> None:  # the events keep coming while instances join and leave
        for n, value in enumerate(stream):
            key = str(n % 11).encode()
            producer.send(topics[1], key=key, value=value)
            if n % DUPLICATE_EVERY == 0:
                producer.send(topics[1], key=key, value=value)
                sent["duplicates"] += 1
            if n % (EVENTS // UNREADABLE) == 0:
                producer.send(topics[1], key=key, value=unreadable(n))
            if n % 100 == 0:
                producer.flush()
                time.sleep(0.6)  # pacing: the stream lasts while the membership changes
        producer.flush()

    sender = threading.Thread(target=flow)
    store = Store(mongo_client(group), group.db_name("monitoring"))
    members = Group(group, topics, tmp_path)
    try:
        members.join()
        members.join()
        sender.start()
        for change in CHANGES:
            wait_until(members.settled, timeout=60, what=f"the group settling ({members.joins} joins)")
            before = applied_event_count(store.db)
            wait_until(  # the settled group makes progress before the next change
                lambda b=before: applied_event_count(store.db) > b or not sender.is_alive(),
                timeout=60,
                what="the group applying events",
            )
            if change == "join":
                members.join()
            else:
                members.leave(rng)
        sender.join()
        wait_until(members.settled, timeout=60, what="the last group settling")
        ends = kafka_consumer(settings, group_id=None)
        try:
            wait_until(
                lambda: caught_up(store, group.projector_group, topics, ends),
                timeout=120,
                what="the last instance catching up",
            )
        finally:
            ends.close()
    finally:
        sender.join()
        producer.close()
        for member in members.members:
            member.process.stop(timeout=30)

    oracle = undisturbed(calm, topics, f"{unique}.deadletter")
    applied = applied_event_count(store.db)
    dead = dead_letter_sources(settings, topics)
    records = EVENTS + sent["duplicates"] + UNREADABLE + len(directory_events())
    print(
        f"records {records} (visits {EVENTS}, duplicates {sent['duplicates']}, unreadable {UNREADABLE}), "
        f"joins {members.joins}, leaves {len(members.gone)}, generations {members.generations()}, "
        f"applied once {applied}, dead letters {len(dead)} ({len(set(dead))} distinct), "
        f"{time.monotonic() - started:.0f} s"
    )
    assert len(members.gone) == CHANGES.count("leave")
    assert applied == len(directory_events()) + EVENTS
    assert snapshot(store) == snapshot(oracle)
    totals = merged_view(store.db, "national", "TH", PERIOD)["supervision"]
    assert totals["visits_done"] == EVENTS
    assert len(set(dead)) == UNREADABLE
    store.client.close()
    oracle.client.close()
