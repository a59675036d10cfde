"""The projector killed with SIGKILL at random points, twenty times, while thousands of events flow (some of them
delivered twice): its views end up exactly equal to those of a projector that was never disturbed, built from the
same log. Two oracles: that undisturbed run over the same topics, and tests/oracle.py's recomputation of the
supervision figures from the events produced (no fold involved)."""

from __future__ import annotations

import random
import threading
import time
import uuid
from pathlib import Path

import pytest

from deploy.local.servers import ensure_topics
from shared.clients import kafka_consumer, kafka_producer, mongo_client
from shared.projection import applied_event_count
from shared.settings import Settings
from shared.store import Store
from tests.eventfactory import PERIOD
from tests.helpers import merged_view, project_all, projected, snapshot, wait_until
from tests.integration.test_monitoring_api import SCHOOLS, directory_events, visit
from tests.oracle import Directory, assert_views_match, from_events
from tests.reliability.pipeline import dead_letters, start_projector

pytestmark = pytest.mark.integration

EVENTS = 3000
KILLS = 20
DUPLICATE_EVERY = 10  # every tenth event is sent a second time


def visits(rng: random.Random) -> list[bytes]:
    return [visit(*rng.choice(SCHOOLS), f"V{n:05d}", rng.randint(1, 4)) for n in range(EVENTS)]


def test_sigkilled_projectors_build_exactly_the_undisturbed_views(settings: Settings, tmp_path: Path) -> None:
    unique = f"k{uuid.uuid4().hex[:8]}"
    chaos = settings.with_overrides(
        db_prefix=f"{settings.db_prefix}_{unique}c",
        projector_group=f"{unique}-chaos",
        projector_assignment="all",
    )
    calm = settings.with_overrides(
        db_prefix=f"{settings.db_prefix}_{unique}o", projector_group=f"{unique}-calm"
    )
    topics = [f"{unique}.directory", f"{unique}.supervision"]
    ensure_topics(settings.kafka_bootstrap, topics, partitions=3)
    rng = random.Random(20261124)
    stream = visits(rng)
    producer = kafka_producer(settings)
    for value in directory_events():
        producer.send(topics[0], key=b"13", value=value)
    producer.flush()

    def flow() -> None:  # the events keep coming while the projector is being killed
        for n, value in enumerate(stream):
            key = str(n % 7).encode()
            producer.send(topics[1], key=key, value=value)
            if n % DUPLICATE_EVERY == 0:
                producer.send(topics[1], key=key, value=value)
            if n % 100 == 0:
                producer.flush()
                time.sleep(1.5)  # pacing: the stream lasts while the projector is killed again and again
        producer.flush()

    sender = threading.Thread(target=flow)
    sender.start()
    store = Store(mongo_client(chaos), chaos.db_name("monitoring"))
    log = tmp_path / "projector.log"
    kills = 0
    try:
        for _ in range(KILLS):
            before = applied_event_count(store.db)
            projector = start_projector(chaos, topics, log)
            # killed while it works: once it has applied something, at a random point after that
            wait_until(
                lambda b=before: applied_event_count(store.db) > b or not sender.is_alive(),
                timeout=60,
                what="the projector applying events",
            )
            time.sleep(rng.uniform(0, 0.3))
            projector.kill()
            kills += 1
        sender.join()
        projector = start_projector(chaos, topics, log)
        ends = kafka_consumer(settings, group_id=None)
        try:
            wait_until(
                lambda: projected(store, chaos.projector_group, topics, ends),
                timeout=120,
                what="the last projector catching up",
            )
        finally:
            ends.close()
        projector.stop()
    finally:
        sender.join()
        producer.close()

    oracle = Store(mongo_client(calm), calm.db_name("monitoring"))
    project_all(calm, topics, calm.projector_group, oracle, timeout=120)
    applied = applied_event_count(store.db)
    duplicates = EVENTS // DUPLICATE_EVERY + 1
    dead = dead_letters(settings, topics)
    # second oracle: the supervision figures recomputed from the events produced, without the folds
    compared = assert_views_match(from_events(stream, Directory.from_events(directory_events())), store.db)
    print(
        f"events {EVENTS + duplicates} (duplicates {duplicates}), kills {kills}, applied once {applied}, "
        f"DLQ entries {dead}; oracles: the undisturbed projector's views, and {compared} views equal to the "
        f"recomputation from the events produced"
    )
    assert kills == KILLS
    assert applied == len(directory_events()) + EVENTS
    assert dead == 0
    assert snapshot(store) == snapshot(oracle)
    totals = merged_view(store.db, "national", "TH", PERIOD)["supervision"]
    assert totals["visits_done"] == EVENTS
    store.client.close()
    oracle.client.close()
