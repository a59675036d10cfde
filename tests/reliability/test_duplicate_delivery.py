"""Duplicate delivery: the projector's positions reset to the beginning of every partition and every event published
a second time. It reads each event two or three times, and its views stay exactly what they were, and equal to
tests/oracle.py's recomputation of the supervision figures from the events produced."""

from __future__ import annotations

import random
import uuid

import pytest

from deploy.local.servers import ensure_topics
from shared.clients import kafka_producer, mongo_client
from shared.projection import POSITIONS, applied_event_count
from shared.settings import Settings
from shared.store import Store
from tests.helpers import project_all, snapshot
from tests.integration.test_monitoring_api import directory_events
from tests.oracle import Directory, assert_views_match, from_events
from tests.reliability.pipeline import dead_letters, project, records_on
from tests.reliability.test_projector_kills import visits

pytestmark = pytest.mark.integration


def publish(settings: Settings, topics: list[str], directory: list[bytes], stream: list[bytes]) -> None:
    producer = kafka_producer(settings)
    for value in directory:
        producer.send(topics[0], key=b"13", value=value)
    for n, value in enumerate(stream):
        producer.send(topics[1], key=str(n % 7).encode(), value=value)
    producer.flush()
    producer.close()


def test_positions_reset_and_everything_republished_change_no_view(settings: Settings) -> None:
    unique = f"u{uuid.uuid4().hex[:8]}"
    own = settings.with_overrides(db_prefix=f"{settings.db_prefix}_{unique}", projector_group=f"{unique}-p")
    topics = [f"{unique}.directory", f"{unique}.supervision"]
    ensure_topics(own.kafka_bootstrap, topics, partitions=3)
    directory, stream = directory_events(), visits(random.Random(7))
    publish(own, topics, directory, stream)
    store = Store(mongo_client(own), own.db_name("monitoring"))
    project_all(own, topics, own.projector_group, store, timeout=120)
    before = snapshot(store)
    applied = applied_event_count(store.db)

    publish(own, topics, directory, stream)  # every event a second time: the same bytes, the same ids
    reset = store.db[POSITIONS].delete_many({"group": own.projector_group}).deleted_count  # back to the start
    again = project(own, topics, own.projector_group, store)

    delivered = records_on(own, topics)  # each record of the log, read once more after the reset
    dead = dead_letters(own, topics)
    # second oracle: the supervision figures recomputed from the events produced, without the folds
    compared = assert_views_match(from_events(stream, Directory.from_events(directory)), store.db)
    print(
        f"events {applied}, published {delivered}, positions reset {reset}, kills 0, duplicates "
        f"{again.duplicates} (of {again.applied + again.duplicates} read after the reset), DLQ entries {dead}; "
        f"oracles: the views before the replay, and {compared} views equal to the recomputation"
    )
    assert delivered == 2 * applied and reset >= 2
    assert again.applied == 0 and again.duplicates == delivered and dead == 0
    assert applied_event_count(store.db) == applied
    assert snapshot(store) == before
    store.client.close()
