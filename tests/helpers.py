"""Helpers for tests: `from tests.helpers import wait_until, poll_records, project_all`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from deploy.local.servers import free_port, port_open, wait_until
from services.monitoring import queries
from services.monitoring.projection import STATE_COLLECTIONS, MonitoringProjection
from services.monitoring.views import VIEWS, find_merged, merged_documents, view_key
from shared.clients import kafka_consumer
from shared.projection import PROJECTED_AT, DeadLetters, ProjectionWriter, ProjectorRunner
from shared.settings import Settings
from shared.store import Store

__all__ = [
    "DENIALS",
    "WRITES",
    "free_port",
    "merged_view",
    "numbers",
    "poll_records",
    "port_open",
    "project_all",
    "projected",
    "wait_until",
]

# audit entries: those of writes, and those of refused calls (denials are audited too)
WRITES = {"action": {"$ne": "denied"}}
DENIALS = {"action": "denied"}


def poll_records(
    consumer: KafkaConsumer,
    count: int,
    timeout: float = 10,
    where: Callable[[Any], bool] = lambda record: True,
) -> list[Any]:
    """Poll until `count` records (matching `where`) arrived; TimeoutError with what did arrive otherwise.

    Polls with a deadline instead of sleeping: the first fetch after a group join takes ~0.35 s on noida
    and up to session_timeout/2 on tansu.
    """
    got: list[Any] = []

    def enough() -> bool:
        for records in consumer.poll(timeout_ms=100).values():
            got.extend(r for r in records if where(r))
        return len(got) >= count

    try:
        wait_until(enough, timeout, interval=0, what=f"{count} records")
    except TimeoutError as exc:
        raise TimeoutError(f"{exc}; got {len(got)}: {got[:5]}") from None
    return got


def projected(store: Store, group: str, topics: list[str], ends: KafkaConsumer) -> bool:
    """Whether `group` has applied every event of `topics`: a stored position at the end of each partition
    that holds events (positions are stored only for partitions the projector has read from)."""
    partitions = [TopicPartition(t, p) for t in topics for p in ends.partitions_for_topic(t) or ()]
    with_events = {tp for tp, end in ends.end_offsets(partitions).items() if end > 0}
    lag = queries.projector_lag(store.db, group, ends)
    read = {TopicPartition(row["topic"], row["partition"]) for row in lag["partitions"]}
    return with_events <= read and lag["total_lag"] == 0


def project_all(settings: Settings, topics: list[str], group: str, store: Store, timeout: float = 30) -> None:
    """A real projector runner until it has read every topic to its end."""
    writer = ProjectionWriter(store, MonitoringProjection(topics), group, DeadLetters(None))
    runner = ProjectorRunner(
        writer, kafka_consumer(settings, group_id=group), assignment="all", poll_timeout_ms=100
    )
    ends = kafka_consumer(settings, group_id=None)

    def caught_up() -> bool:
        runner.step()
        return projected(store, group, topics, ends)

    try:
        wait_until(caught_up, timeout=timeout, interval=0, what="every event projected")
    finally:
        runner.consumer.close()
        ends.close()


# written at projection time, so they differ between two runs over the same events
PROJECTION_TIMES = {PROJECTED_AT, "as_of", "updated_at"}


def snapshot(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Every collection the monitoring folds write, without projection times, in a stable order: two projections
    of the same events compare equal (with their shards added up)."""
    return {
        name: sorted(
            (
                {k: v for k, v in doc.items() if k not in PROJECTION_TIMES}
                for doc in merged_documents(store.db[name]).values()
            ),
            key=lambda d: str(d["_id"]),
        )
        for name in STATE_COLLECTIONS
    }


def merged_view(db: Any, level: str, code: str, period: dict[str, int]) -> dict[str, Any]:
    """A unit's view of `period` with its shards added up, as the API reads it ({} when there is none)."""
    key = view_key(level, code, period)
    return find_merged(db[VIEWS], [key]).get(key, {})


def numbers(document: Any) -> set[float]:
    """Every number anywhere in a JSON document (a substring test would also match inside timestamps)."""
    if isinstance(document, dict):
        return set().union(*(numbers(v) for v in document.values()))
    if isinstance(document, list):
        return set().union(*(numbers(v) for v in document))
    is_number = isinstance(document, int | float) and not isinstance(document, bool)
    return {float(document)} if is_number else set()
