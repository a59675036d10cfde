"""The baseline the projector is measured against: a straightforward one-event-at-a-time projector.

It folds with the same handlers (so it computes the same views), but for every event it reads what the fold
needs, writes each changed document on its own (one upsert per view level), records the event id and its
position, and commits the offset to the broker before reading the next one. No batching, no transaction:
what a first version of such a consumer usually looks like.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata
from pymongo.database import Database

from services.monitoring.projection import MonitoringProjection
from shared.catalog import InvalidEvent, catalog
from shared.envelope import utcnow
from shared.projection import POSITIONS

APPLIED = "naive_applied_events"  # one document per event id (the projector keeps one per batch)


class NaiveProjector:
    def __init__(self, db: Database, consumer: KafkaConsumer, topics: list[str], group: str) -> None:
        self.db = db
        self.consumer = consumer
        self.group = group
        self.projection = MonitoringProjection(topics)
        partitions = [
            TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or [])
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)

    def lookup(self, collection: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {d["_id"]: d for d in self.db[collection].find({"_id": {"$in": list(set(keys))}})}

    def apply(self, topic: str, partition: int, offset: int, value: bytes) -> None:
        try:
            event = catalog.decode(value)
        except InvalidEvent:
            event = None
        if event is not None and self.db[APPLIED].find_one({"_id": event["event_id"]}) is None:
            for change in self.projection.fold([event], self.lookup):
                update = change.as_update()
                self.db[change.collection].update_one({"_id": change.key}, update, upsert=True)
            self.db[APPLIED].insert_one({"_id": event["event_id"], "at": utcnow()})
        self.db[POSITIONS].update_one(
            {"_id": f"{self.group}|{topic}|{partition}"},
            {"$set": {"offset": offset, "group": self.group, "topic": topic, "partition": partition}},
            upsert=True,
        )
        self.consumer.commit({TopicPartition(topic, partition): OffsetAndMetadata(offset + 1, "", -1)})

    def run(self, limit: int, seconds: float, advance: Callable[[int], None]) -> tuple[int, float]:
        """Apply events one by one until `limit` events or `seconds` have passed: (events, elapsed)."""
        done, start = 0, time.perf_counter()
        while done < limit and time.perf_counter() - start < seconds:
            for records in self.consumer.poll(timeout_ms=100, max_records=100).values():
                for r in records:
                    if done >= limit or time.perf_counter() - start >= seconds:
                        break
                    self.apply(r.topic, r.partition, r.offset, r.value)
                    done += 1
                    advance(1)
        return done, time.perf_counter() - start
