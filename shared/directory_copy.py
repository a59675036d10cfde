"""The local copy of master data each service keeps, filled from `directory.events` (DESIGN.md §4).

Every directory event carries its record's full current state, so the copy is an upsert of the latest
state into `esa_areas`, `clusters`, `schools` and `teachers` of the consuming service's own database
(`_id` = the code; payload fields, `org`, `version`, `updated_at`). It runs on the projection framework,
so it is exactly once in effect and survives restarts. A school that changes ESA area publishes on another
partition (events are keyed by ESA area), so an older state may arrive after a newer one: the copy keeps
the highest `aggregate_version` and ignores older ones.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from kafka import KafkaConsumer
from kafka.errors import KafkaError
from pymongo.database import Database

from shared.clients import kafka_consumer, kafka_producer, mongo_client
from shared.envelope import Org
from shared.heartbeat import beat
from shared.projection import Change, DeadLetters, Lookup, ProjectionWriter, ProjectorRunner
from shared.relay import run_forever
from shared.settings import TOPICS, Settings
from shared.store import Store

# event type -> (collection of the copy, key field of the payload)
COPIES: dict[str, tuple[str, str]] = {
    "directory.EsaAreaRecorded": ("esa_areas", "esa_code"),
    "directory.ClusterRecorded": ("clusters", "cluster_id"),
    "directory.SchoolRecorded": ("schools", "school_code"),
    "directory.TeacherRecorded": ("teachers", "teacher_id"),
}


class DirectoryCopy:
    """A `shared.projection.Projection` keeping the latest state of every master record."""

    def __init__(self, topics: list[str] | None = None) -> None:
        self.topics = topics or [TOPICS["directory"]]

    def fold(self, events: list[dict[str, Any]], lookup: Lookup) -> list[Change]:
        latest = _latest_per_record(events)
        stored = _stored_versions(latest, lookup)
        return [
            _upsert(collection, key, event)
            for (collection, key), event in latest.items()
            if event["aggregate_version"] > stored.get((collection, key), 0)
        ]


def _latest_per_record(events: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for event in events:
        target = COPIES.get(event["event_type"])
        if target is None:
            continue  # not master data: nothing to copy
        slot = (target[0], event["payload"][target[1]])
        if slot not in latest or event["aggregate_version"] >= latest[slot]["aggregate_version"]:
            latest[slot] = event
    return latest


def _stored_versions(latest: Iterable[tuple[str, str]], lookup: Lookup) -> dict[tuple[str, str], int]:
    by_collection: dict[str, list[str]] = {}
    for collection, key in latest:
        by_collection.setdefault(collection, []).append(key)
    return {
        (collection, key): doc.get("version", 0)
        for collection, keys in by_collection.items()
        for key, doc in lookup(collection, keys).items()
    }


def _upsert(collection: str, key: str, event: dict[str, Any]) -> Change:
    state = {name: _storable(value) for name, value in event["payload"].items()}
    return Change(
        collection,
        key,
        set={
            **state,
            "org": event["org"],
            "version": event["aggregate_version"],
            "updated_at": event["occurred_at"],
        },
    )


def _storable(value: Any) -> Any:
    """BSON has no date type: dates are kept as ISO strings, as the directory stores them."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return value


def school_org(db: Database, school_code: str) -> Org | None:
    """The org path of a school in a service's local copy, to stamp on that service's events."""
    doc = db["schools"].find_one({"_id": school_code}, {"org": 1})
    return Org.from_dict(doc["org"]) if doc else None


def ensure_copy_indexes(db: Database) -> None:
    db["teachers"].create_index("school_code")


def sync_directory(settings: Settings, service: str, stop: threading.Event) -> None:
    """Keep `service`'s local copy up to date until `stop` is set."""
    store = Store(mongo_client(settings), settings.db_name(service))
    producer = kafka_producer(settings)  # for dead letters only
    group = f"{service}-directory"
    consumer = kafka_consumer(settings, group_id=group)
    try:
        projection = DirectoryCopy()
        writer = ProjectionWriter(store, projection, group, DeadLetters(producer))
        writer.ensure_indexes()
        ensure_copy_indexes(store.db)
        if _wait_for_topics(consumer, projection.topics, stop):
            # master data changes rarely: a longer idle wait costs nothing that matters
            ProjectorRunner(writer, consumer, assignment="all", poll_timeout_ms=10, idle_wait_s=0.5).run(stop)
    finally:
        consumer.close()
        producer.close()
        store.client.close()


def _wait_for_topics(consumer: KafkaConsumer, topics: list[str], stop: threading.Event) -> bool:
    """`assignment="all"` takes the partitions known at start: wait until the topics exist."""
    while not stop.is_set():
        beat()
        try:
            known = consumer.topics()  # refreshes the metadata
            if all(topic in known and consumer.partitions_for_topic(topic) for topic in topics):
                return True
        except KafkaError:
            pass
        stop.wait(1.0)
    return False


def run_directory_sync(service: str) -> None:
    """The body of `python -m services.<service>.directory_sync`: runs until SIGTERM."""
    settings = Settings.from_env()
    run_forever(lambda stop: sync_directory(settings, service, stop))
