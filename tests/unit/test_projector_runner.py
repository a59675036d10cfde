"""The projector's poll loop over an in-memory partition: a batch that fails while the store is down is read
again once it is back, never skipped, even when the rewind after the failure fails too."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from kafka import TopicPartition
from pymongo.errors import AutoReconnect

from shared.projection import BatchResult, ProjectorRunner, Record

TP = TopicPartition("t", 0)


@dataclass
class Partition:
    """A consumer of one partition of ten records, handing out three at a time from its position."""

    records: int = 10
    position: int = 0
    paused: set[TopicPartition] = field(default_factory=set)

    def assign(self, partitions: list[TopicPartition]) -> None:
        pass

    def assignment(self) -> set[TopicPartition]:
        return {TP}

    def partitions_for_topic(self, topic: str) -> set[int]:
        return {0}

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.position = offset

    def seek_to_beginning(self, *partitions: TopicPartition) -> None:
        self.position = 0

    def pause(self, *partitions: TopicPartition) -> None:
        self.paused.update(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self.paused.difference_update(partitions)

    def poll(self, timeout_ms: int) -> dict[TopicPartition, list[Any]]:
        if TP in self.paused:
            return {}
        offsets = range(self.position, min(self.position + 3, self.records))
        self.position = offsets.stop
        return {TP: [SimpleNamespace(topic="t", partition=0, offset=o, value=b"", key=None) for o in offsets]}

    def commit(self, timeout_ms: int) -> None:
        pass

    def close(self, timeout_ms: int | None = None) -> None:
        pass


@dataclass
class Views:
    """A writer keeping its position like ProjectionWriter; the store is down for the first `outage` calls."""

    outage: int = 0
    stored: int = -1
    applied: list[int] = field(default_factory=list)
    projection: Any = field(default_factory=lambda: SimpleNamespace(topics=["t"]))

    def _store(self) -> None:
        if self.outage > 0:
            self.outage -= 1
            raise AutoReconnect("store down")

    def positions(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        self._store()
        return {TP: self.stored + 1} if self.stored >= 0 else {}

    def apply(self, records: list[Record]) -> BatchResult:
        if not records:
            return BatchResult()
        self._store()
        fresh = [r.offset for r in records if r.offset > self.stored]
        self.applied.extend(fresh)
        self.stored = max(self.stored, *fresh) if fresh else self.stored
        return BatchResult(applied=len(fresh))


def test_a_batch_failing_while_the_store_is_down_is_applied_once_it_is_back() -> None:
    consumer, views = Partition(), Views()
    runner = ProjectorRunner(views, consumer, assignment="all", idle_wait_s=0)  # type: ignore[arg-type]
    views.outage = 2  # from now on: the first batch fails, and so does the next call to the store
    stop = threading.Event()
    runner.run(stop, on_batch=lambda _: stop.set() if views.stored == consumer.records - 1 else None)
    assert views.applied == list(range(10))
