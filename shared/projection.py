"""The projection framework: Kafka events folded into MongoDB view documents, exactly once in effect.

One poll batch becomes one transaction: the folded view changes (one bulk write per collection), the ids of
the applied events (one document) and the consumed positions are committed together. Positions live with the
views, so a restarted or rebalanced instance resumes from them and never double-counts or skips; a republished
copy of an applied event is dropped by its id. Unreadable events go to the dead-letter topic and the stream goes on.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaError
from kafka.structs import MemberState
from pymongo import InsertOne, UpdateOne
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import PyMongoError

from shared.catalog import InvalidEvent, catalog
from shared.envelope import utcnow
from shared.heartbeat import beat
from shared.settings import DEAD_LETTER_TOPIC
from shared.store import Store

log = logging.getLogger(__name__)

POSITIONS = "projector_positions"
# One document per batch: the ids of the events it applied, under a unique multikey index. One write a batch
# rather than one an event (about 4 times the ids per second on the local store), and the index still lets
# only one transaction apply an event.
APPLIED = "projector_applied_events"
EVENT_IDS = "event_ids"
APPLIED_RETENTION = timedelta(days=14)
PROJECTED_AT = "projected_at"  # stamped on every document a batch changes
# Set on each event handed to a fold: the partition it was read from. A document that events of every partition
# change (a nation's totals) can then be kept per partition, so that instances owning different partitions
# never write the same document (their transactions would conflict and retry).
PARTITION = "_partition"
COMMIT_TIMEOUT_MS = 2000  # the broker offset mirror is best effort
CLOSE_TIMEOUT_MS = 5000


@dataclass
class Change:
    """A change to one view document; changes to the same document in a batch are merged into one update."""

    collection: str
    key: str
    inc: dict[str, float] = field(default_factory=dict)
    max: dict[str, Any] = field(default_factory=dict)
    min: dict[str, Any] = field(default_factory=dict)
    set: dict[str, Any] = field(default_factory=dict)
    on_insert: dict[str, Any] = field(default_factory=dict)
    # the fold read, in the batch's transaction, that the document does not exist: it is inserted whole,
    # which costs the store less than an upsert (it does not look for a document to update first)
    new: bool = False

    def merge(self, other: Change) -> None:
        self.new = self.new and other.new
        for name, value in other.inc.items():
            self.inc[name] = self.inc.get(name, 0) + value
        for name, value in other.max.items():
            self.max[name] = value if name not in self.max else max(self.max[name], value)
        for name, value in other.min.items():
            self.min[name] = value if name not in self.min else min(self.min[name], value)
        self.set.update(other.set)
        for name, value in other.on_insert.items():
            self.on_insert.setdefault(name, value)

    def as_update(self) -> dict[str, Any]:
        update: dict[str, Any] = {}
        for operator, values in (
            ("$inc", self.inc),
            ("$max", self.max),
            ("$min", self.min),
            ("$set", self.set),
        ):
            if values:
                update[operator] = values
        touched = set(self.inc) | set(self.max) | set(self.min) | set(self.set)
        on_insert = {k: v for k, v in self.on_insert.items() if k not in touched}
        if on_insert:
            update["$setOnInsert"] = on_insert
        return update

    def as_write(self) -> InsertOne | UpdateOne:
        """An insert of a new document given whole (no counters, no dotted fields); otherwise an upsert."""
        fields = {**self.on_insert, **self.set}
        whole = not (self.inc or self.max or self.min) and not any("." in name for name in fields)
        if self.new and whole:
            return InsertOne({"_id": self.key, **fields})
        return UpdateOne({"_id": self.key}, self.as_update(), upsert=True)


class Lookup(Protocol):
    """Reads view documents inside the batch's transaction (for first-time transitions such as coverage)."""

    def __call__(self, collection: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]: ...


class Projection(Protocol):
    topics: list[str]

    def fold(self, events: list[dict[str, Any]], lookup: Lookup) -> list[Change]:
        """Turn a batch of decoded events (in stream order) into view changes. Pure but for `lookup`."""
        ...


@dataclass
class Record:
    """A consumed Kafka record, reduced to what the framework needs."""

    topic: str
    partition: int
    offset: int
    value: bytes
    key: bytes | None = None


@dataclass
class BatchResult:
    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    writes: int = 0  # documents written in the store: view changes, applied ids and positions


def merge_changes(changes: Iterable[Change]) -> dict[tuple[str, str], Change]:
    merged: dict[tuple[str, str], Change] = {}
    for change in changes:
        slot = (change.collection, change.key)
        if slot in merged:
            merged[slot].merge(change)
        else:
            merged[slot] = Change(change.collection, change.key, new=change.new)
            merged[slot].merge(change)
    return merged


class ProjectionWriter:
    """Applies batches of records to the views in one transaction each."""

    def __init__(self, store: Store, projection: Projection, group: str, dead_letters: DeadLetters) -> None:
        self.store = store
        self.projection = projection
        self.group = group
        self.dead_letters = dead_letters

    def position_id(self, topic: str, partition: int) -> str:
        return f"{self.group}|{topic}|{partition}"

    def positions(self, partitions: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        """The next offset to read per partition, from the positions stored with the views."""
        wanted = {self.position_id(tp.topic, tp.partition): tp for tp in partitions}
        found = self.store.db[POSITIONS].find({"_id": {"$in": list(wanted)}})
        return {wanted[doc["_id"]]: doc["offset"] + 1 for doc in found}

    def apply(self, records: list[Record]) -> BatchResult:
        if not records:
            return BatchResult()
        decoded, invalid = _decode(records)
        # Dead letters are published before the positions move past them, so none is lost on a crash.
        self.dead_letters.publish(invalid)
        return self.store.atomic(lambda session: self._apply_in(session, records, decoded, len(invalid)))

    def _apply_in(
        self,
        session: ClientSession,
        records: list[Record],
        decoded: list[tuple[Record, dict[str, Any]]],
        invalid_count: int,
    ) -> BatchResult:
        db = self.store.db
        stored = {(d["topic"], d["partition"]): d["offset"] for d in self._stored_positions(session, records)}
        fresh = [(r, e) for r, e in decoded if r.offset > stored.get((r.topic, r.partition), -1)]
        seen = self._applied(session, {e["event_id"] for _, e in fresh})
        events: list[dict[str, Any]] = []
        for _, event in fresh:
            if event["event_id"] not in seen:
                seen.add(event["event_id"])  # a copy inside the same batch counts once too
                events.append(event)
        result = BatchResult(
            applied=len(events), duplicates=len(fresh) - len(events), dead_lettered=invalid_count
        )

        def lookup(collection: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
            return {
                d["_id"]: d for d in db[collection].find({"_id": {"$in": list(set(keys))}}, session=session)
            }

        now = utcnow()
        by_collection: dict[str, list[InsertOne | UpdateOne]] = defaultdict(list)
        for (collection, _), change in merge_changes(self.projection.fold(events, lookup)).items():
            change.set[PROJECTED_AT] = now  # lets readers such as the alert evaluator find what changed
            by_collection[collection].append(change.as_write())
        for collection, updates in by_collection.items():
            db[collection].bulk_write(updates, ordered=False, session=session)
        if events:
            db[APPLIED].insert_one({"at": now, EVENT_IDS: [e["event_id"] for e in events]}, session=session)
        positions = self._store_positions(session, records)
        result.writes = sum(map(len, by_collection.values())) + bool(events) + positions
        return result

    def _applied(self, session: ClientSession, event_ids: set[str]) -> set[str]:
        """Which of `event_ids` an earlier batch applied."""
        found = self.store.db[APPLIED].find(
            {EVENT_IDS: {"$in": list(event_ids)}}, {EVENT_IDS: 1}, session=session
        )
        return {event_id for doc in found for event_id in doc[EVENT_IDS] if event_id in event_ids}

    def _stored_positions(self, session: ClientSession, records: list[Record]) -> list[dict[str, Any]]:
        ids = {self.position_id(r.topic, r.partition) for r in records}
        return list(self.store.db[POSITIONS].find({"_id": {"$in": list(ids)}}, session=session))

    def _store_positions(self, session: ClientSession, records: list[Record]) -> int:
        """Move the positions of the records' partitions; how many there were."""
        last: dict[tuple[str, int], int] = {}
        for r in records:
            last[(r.topic, r.partition)] = max(r.offset, last.get((r.topic, r.partition), -1))
        now = utcnow()
        self.store.db[POSITIONS].bulk_write(
            [
                UpdateOne(
                    {"_id": self.position_id(topic, partition)},
                    {
                        "$max": {"offset": offset},
                        "$set": {
                            "group": self.group,
                            "topic": topic,
                            "partition": partition,
                            "updated_at": now,
                        },
                    },
                    upsert=True,
                )
                for (topic, partition), offset in last.items()
            ],
            session=session,
        )
        return len(last)

    def ensure_indexes(self) -> None:
        applied = self.store.db[APPLIED]
        while self.store.atomic(self._gather_single_applied_ids):
            pass  # until none is left
        applied.create_index(EVENT_IDS, unique=True)
        applied.create_index("at", expireAfterSeconds=int(APPLIED_RETENTION.total_seconds()))

    def _gather_single_applied_ids(self, session: ClientSession, per_document: int = 2000) -> int:
        """Applied ids kept one document each (as before a batch kept them together) moved into one batch
        document, so that events applied before the change are still recognised; how many were moved."""
        applied = self.store.db[APPLIED]
        # `None` matches a missing field, and unlike `$exists: false` through the index once it exists
        single = list(applied.find({EVENT_IDS: None}, session=session).limit(per_document))
        if single:
            ids = [doc["_id"] for doc in single]
            applied.insert_one({"at": max(doc["at"] for doc in single), EVENT_IDS: ids}, session=session)
            applied.delete_many({"_id": {"$in": ids}}, session=session)
        return len(single)


def applied_event_ids(db: Database) -> Iterator[str]:
    """Every event id the projection holds as applied."""
    for doc in db[APPLIED].find({}, {EVENT_IDS: 1}):
        yield from doc[EVENT_IDS]


def applied_event_count(db: Database) -> int:
    return sum(1 for _ in applied_event_ids(db))


def _decode(records: list[Record]) -> tuple[list[tuple[Record, dict[str, Any]]], list[tuple[Record, str]]]:
    decoded, invalid = [], []
    for record in records:
        try:
            event = catalog.decode(record.value)
            event[PARTITION] = record.partition
            decoded.append((record, event))
        except InvalidEvent as err:
            invalid.append((record, f"{err.reason}: {err.details}" if err.details else err.reason))
    return decoded, invalid


class DeadLetters:
    def __init__(self, producer: KafkaProducer | None, topic: str = DEAD_LETTER_TOPIC) -> None:
        self.producer = producer
        self.topic = topic

    def publish(self, invalid: list[tuple[Record, str]]) -> None:
        if not invalid:
            return
        if self.producer is None:
            raise RuntimeError("an invalid event arrived and no dead-letter producer is configured")
        futures = []
        for record, reason in invalid:
            log.warning("dead-lettering %s[%s]@%s: %s", record.topic, record.partition, record.offset, reason)
            headers = [
                ("reason", reason[:1000].encode()),
                ("source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
            ]
            futures.append(
                self.producer.send(self.topic, key=record.key, value=record.value, headers=headers)
            )
        self.producer.flush(timeout=15)
        for future in futures:
            future.get(timeout=15)


class _SeekToStoredPositions(ConsumerRebalanceListener):
    """Newly assigned partitions are paused until the poll loop has sought them to their stored positions:
    nothing is fetched from the broker's own committed offsets, and the MongoDB read runs (and is retried)
    in the poll loop rather than in kafka-python's network thread."""

    def __init__(self, runner: ProjectorRunner) -> None:
        self.runner = runner

    def on_partitions_revoked(self, revoked: Any) -> None:
        pass  # positions are committed with every batch; there is nothing to flush

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.runner.reposition(set(assigned), pause=True)
        log.info(
            "partitions assigned (generation %d): %s",
            self.runner.consumer.group_metadata().generation_id,
            " ".join(sorted(f"{tp.topic}[{tp.partition}]" for tp in assigned)),
        )


class ProjectorRunner:
    """Polls, applies and repeats. `assignment="group"` joins a consumer group; `"all"` reads every
    partition itself (positions are in MongoDB either way, so a restarted instance never waits for the
    broker to expire its dead predecessor)."""

    def __init__(
        self,
        writer: ProjectionWriter,
        consumer: KafkaConsumer,
        *,
        assignment: str = "group",
        poll_timeout_ms: int = 10,
        idle_wait_s: float = 0.05,
        join_poll_timeout_ms: int = 3000,
    ) -> None:
        self.writer = writer
        self.consumer = consumer
        self.grouped = assignment == "group"
        self.poll_timeout_ms = poll_timeout_ms
        self.join_poll_timeout_ms = join_poll_timeout_ms
        # Some brokers answer an empty fetch at once, so an idle consumer would spin a core inside poll();
        # a short wait after an empty batch keeps idle CPU near zero at that much extra latency.
        self.idle_wait_s = idle_wait_s
        # partitions to seek to their stored positions before the next poll (the listener adds to it
        # from kafka-python's network thread)
        self._unpositioned: set[TopicPartition] = set()
        self._lock = threading.Lock()
        topics = writer.projection.topics
        if self.grouped:
            consumer.subscribe(topics=topics, listener=_SeekToStoredPositions(self))
        else:
            partitions = {
                TopicPartition(topic, p)
                for topic in topics
                for p in consumer.partitions_for_topic(topic) or []
            }
            consumer.assign(sorted(partitions))
            self.reposition(partitions)

    def reposition(self, partitions: set[TopicPartition], pause: bool = False) -> None:
        """Read `partitions` from their stored positions again, starting with the next step."""
        if pause:
            self.consumer.pause(*partitions)
        with self._lock:
            self._unpositioned |= partitions

    def seek_to_stored(self, partitions: list[TopicPartition]) -> None:
        stored = self.writer.positions(partitions)
        for tp in partitions:
            if tp in stored:
                self.consumer.seek(tp, stored[tp])
            else:
                self.consumer.seek_to_beginning(tp)

    def _seek_unpositioned(self) -> None:
        """Seek before polling; if the store is down this raises, and nothing is polled past a failed batch."""
        with self._lock:
            self._unpositioned &= set(self.consumer.assignment())
            wanted = sorted(self._unpositioned)
        if not wanted:
            return
        self.seek_to_stored(wanted)
        self.consumer.resume(*wanted)
        with self._lock:
            self._unpositioned -= set(wanted)

    def joining(self) -> bool:
        """Whether a group join is due or under way. kafka-python (3.0.x) drops a join that completes between
        two polls and sends a new JoinGroup, which starts yet another rebalance (and noida can then leave the
        other members' JoinGroup unanswered for good): while joining, the runner polls long and without
        pause, so that the join completes inside a poll. `need_rejoin` (set by the heartbeat thread) is the
        only early sign of a rebalance; the member state shows a join in flight."""
        if not self.grouped:
            return False
        coordinator = getattr(self.consumer, "_coordinator", None)
        due = coordinator is not None and coordinator.need_rejoin()
        return due or self.consumer.group_metadata().state != MemberState.STABLE

    def step(self) -> BatchResult:
        self._seek_unpositioned()
        polled = self._poll()
        records = [
            Record(r.topic, r.partition, r.offset, r.value, r.key) for batch in polled.values() for r in batch
        ]
        result = self.writer.apply(records)
        if records:
            self._commit_to_broker(records)
        return result

    def _poll(self) -> dict[TopicPartition, list[Any]]:
        polled = self.consumer.poll(
            timeout_ms=self.join_poll_timeout_ms if self.joining() else self.poll_timeout_ms
        )
        if not polled and self.joining():  # a join began in that poll: await it at once, not after a gap
            polled = self.consumer.poll(timeout_ms=self.join_poll_timeout_ms)
        return polled

    def _commit_to_broker(self, records: list[Record]) -> None:
        """Mirror positions into the group's committed offsets, for standard lag tools. Not relied upon.

        Synchronous: told that the group has moved on (noida answers ILLEGAL_GENERATION where Kafka answers
        REBALANCE_IN_PROGRESS), kafka-python resets its membership; an answer arriving while the next poll's
        JoinGroup is in flight would void that join and start yet another rebalance."""
        try:
            self.consumer.commit(timeout_ms=COMMIT_TIMEOUT_MS)
        except KafkaError as err:
            log.debug("offset mirror skipped: %s", err)

    def run(self, stop: threading.Event, on_batch: Callable[[BatchResult], None] | None = None) -> None:
        backoff = 0.2
        while not stop.is_set():
            beat()  # liveness for a container healthcheck (no-op unless ANP_HEARTBEAT_FILE is set)
            try:
                result = self.step()
                backoff = 0.2
                if not (result.applied or result.duplicates or result.dead_lettered):
                    if not self.joining():
                        stop.wait(self.idle_wait_s)
                elif on_batch:
                    on_batch(result)
            except (PyMongoError, KafkaError, RuntimeError) as err:
                # Nothing was committed: the same records are read again from the stored positions, which
                # the next step seeks to before it polls (and retries until the store answers).
                log.warning("projector batch failed, retrying: %s", err)
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                self.reposition(set(self.consumer.assignment()))
        log.info("stopping: leaving the group")
        # bounded: a broker that never answers the LeaveGroup must not keep a stopping instance alive
        self.consumer.close(timeout_ms=CLOSE_TIMEOUT_MS)
