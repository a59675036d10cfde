"""Replay into a shadow: a log holding v1 and v2 events (and duplicates, and one poison message) is projected
incrementally by a live projector while the events flow; then `python -m services.monitoring.rebuild --shadow`
projects the whole log into a shadow database beside the live views. The shadow equals the incremental views
exactly, both equal tests/oracle.py's recomputation from the events produced, and swapping the shadow in lets
the projector carry on where the shadow stopped, applying only what came after."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from deploy.local.servers import ensure_topics
from services.monitoring import rebuild
from shared.catalog import catalog
from shared.clients import kafka_consumer, kafka_producer, mongo_client
from shared.envelope import Org, new_event
from shared.projection import applied_event_count
from shared.settings import Settings
from shared.store import Store
from tests.eventfactory import PERIOD
from tests.helpers import projected, snapshot, wait_until
from tests.integration.test_monitoring_api import SCHOOLS, directory_events, visit
from tests.oracle import Directory, assert_views_match, from_events
from tests.reliability.pipeline import dead_letters, records_on, start_projector

pytestmark = pytest.mark.integration

VISITS = 600
SESSIONS = 300  # coaching and mentoring sessions: even ones as v1 (`minutes`), odd ones as v2
DUPLICATE_EVERY = 7
POISON = b"not an event"


def coaching(n: int, rng: random.Random) -> bytes:
    """A coaching or mentoring session as its producer wrote it then: v1 before the rename, v2 after."""
    school, cluster, esa, province = rng.choice(SCHOOLS)
    version = 1 if n % 2 == 0 else 2
    minutes = 30 + n % 90
    payload = {
        "session_id": f"C{n:05d}",
        "kind": rng.choice(["coaching", "mentoring"]),
        "school_code": school,
        "session_date": "2026-11-20",
        "teacher_ids": [f"T{school}-01"],
        "period": PERIOD,
        ("minutes" if version == 1 else "duration_minutes"): minutes,
    }
    event = new_event(
        event_type="supervision.CoachingSessionRecorded",
        event_version=version,
        producer="supervision",
        aggregate_id=f"C{n:05d}",
        aggregate_version=1,
        org=Org(school, cluster, esa, province),
        payload=payload,
        actor="test",
    )
    catalog.check(event)
    return catalog.serialize(event)


def produced_stream(rng: random.Random) -> list[bytes]:
    visits = [visit(*rng.choice(SCHOOLS), f"V{n:05d}", rng.randint(1, 4)) for n in range(VISITS)]
    sessions = [coaching(n, rng) for n in range(SESSIONS)]
    stream = visits + sessions
    rng.shuffle(stream)
    return stream


def flow(settings: Settings, topic: str, stream: list[bytes], poison: bool = True) -> int:
    """Send the stream in paced chunks (every seventh event twice, one poison message midway); returns the
    duplicates sent."""
    producer = kafka_producer(settings)
    duplicates = 0
    try:
        for n, value in enumerate(stream):
            key = str(n % 5).encode()
            producer.send(topic, key=key, value=value)
            if n % DUPLICATE_EVERY == 0:
                producer.send(topic, key=key, value=value)
                duplicates += 1
            if poison and n == len(stream) // 2:
                producer.send(topic, key=key, value=POISON)
            if n % 100 == 99:
                producer.flush()
                time.sleep(0.5)  # the live projector folds while the events keep coming
        producer.flush()
    finally:
        producer.close()
    return duplicates


def run_rebuild(settings: Settings, topics: list[str], *flags: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "services.monitoring.rebuild", *flags]
    argv += [arg for topic in topics for arg in ("--topic", topic)]
    env = {**os.environ, **settings.to_env()}
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)


def test_a_shadow_rebuilt_from_a_mixed_version_log_equals_the_live_views(
    settings: Settings, tmp_path: Path
) -> None:
    unique = f"s{uuid.uuid4().hex[:8]}"
    own = settings.with_overrides(
        db_prefix=f"{settings.db_prefix}_{unique}",
        projector_group=f"{unique}-live",
        projector_assignment="all",
    )
    topics = [f"{unique}.directory", f"{unique}.supervision"]
    ensure_topics(own.kafka_bootstrap, topics, partitions=3)
    directory, stream = directory_events(), produced_stream(random.Random(20261126))
    producer = kafka_producer(own)
    for value in directory:
        producer.send(topics[0], key=b"13", value=value)
    producer.close()

    client = mongo_client(own)
    live = Store(client, own.db_name("monitoring"))
    shadow = Store(client, rebuild.shadow_db_name(own))
    projector = start_projector(own, topics, tmp_path / "projector.log")
    ends = kafka_consumer(own, group_id=None)
    try:
        sent: list[int] = []
        sender = threading.Thread(target=lambda: sent.append(flow(own, topics[1], stream)))
        sender.start()
        wait_until(
            lambda: applied_event_count(live.db) > len(directory),
            timeout=60,
            what="the live projector folding while events flow",
        )
        sender.join()
        wait_until(
            lambda: projected(live, own.projector_group, topics, ends),
            timeout=180,
            what="the live projector catching up",
        )

        built = run_rebuild(own, topics, "--shadow")  # beside the running live projector
        print(built.stdout)
        assert built.returncode == 0, built.stdout + built.stderr
        assert "the shadow equals the live views" in built.stdout
        assert snapshot(shadow) == snapshot(live)
        compared = assert_views_match(from_events(stream, Directory.from_events(directory)), live.db)
        assert_views_match(from_events(stream, Directory.from_events(directory)), shadow.db)

        projector.stop()
        swapped = run_rebuild(own, topics, "--shadow", "--swap")
        assert swapped.returncode == 0, swapped.stdout + swapped.stderr
        assert snapshot(live) == snapshot(shadow)
        dead = dead_letters(own, topics)  # after both shadow builds
        applied = applied_event_count(live.db)
        late = [visit(*SCHOOLS[0], "V-late", 4)]
        flow(
            own, topics[1], late, poison=False
        )  # one more event (sent twice): only it is applied after the swap
        projector = start_projector(own, topics, tmp_path / "projector.log")
        wait_until(
            lambda: projected(live, own.projector_group, topics, ends),
            timeout=120,
            what="the projector carrying on after the swap",
        )
        assert applied_event_count(live.db) == applied + 1
        assert_views_match(from_events(stream + late, Directory.from_events(directory)), live.db)
    finally:
        projector.stop()
        ends.close()

    sessions = [json.loads(raw) for raw in stream if b"CoachingSessionRecorded" in raw]
    v1 = sum(event["event_version"] == 1 for event in sessions)
    print(
        f"events {len(directory) + len(stream)} (coaching v1 {v1}, v2 {len(sessions) - v1}), duplicates "
        f"{sent[0]}, poison 1, kills 0, records on the log {records_on(own, topics)}, DLQ entries {dead} "
        f"(the shadow published none); oracle: {compared} views equal, live = shadow exactly"
    )
    assert v1 == SESSIONS // 2 and len(sessions) == SESSIONS
    assert dead == 1  # the poison message, dead-lettered once by the live projector, not again by the shadow
    client.drop_database(rebuild.shadow_db_name(own))
    client.close()
