"""Master data against the real local document store and broker: the import stores records with their
outbox events atomically, re-imports are free, changes publish exactly one event, bad rows store nothing,
and the relay + DirectoryCopy fill a service's local copy."""

from __future__ import annotations

import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kafka import TopicPartition

from deploy.local.servers import ensure_topics, wait_until
from services.directory.cli import DEMO_DIR
from services.directory.csv_import import ImportReport, import_directory
from shared.catalog import catalog
from shared.clients import kafka_consumer, kafka_producer, mongo_client
from shared.directory_copy import DirectoryCopy, school_org, sync_directory
from shared.envelope import Org
from shared.projection import DeadLetters, ProjectionWriter, Record
from shared.relay import OutboxRelay
from shared.settings import TOPICS, Settings
from shared.store import AUDIT, OUTBOX, Store

pytestmark = pytest.mark.integration

DEMO_COUNTS = {"esa_areas": 4, "clusters": 4, "schools": 14, "teachers": 57}
DEMO_EVENTS = sum(DEMO_COUNTS.values())


@dataclass
class Directory:
    settings: Settings  # with a db_prefix of its own
    store: Store

    def run_import(self, directory: Path) -> ImportReport:
        return import_directory(self.store, directory, progress=False)

    def count(self, collection: str, query: dict[str, Any] | None = None) -> int:
        return self.store.db[collection].count_documents(query or {})

    def counts(self) -> dict[str, int]:
        return {name: self.count(name) for name in DEMO_COUNTS}


@pytest.fixture
def directory(settings: Settings, unique: str) -> Iterator[Directory]:
    own = settings.with_overrides(db_prefix=f"{settings.db_prefix}_{unique}")
    client = mongo_client(own)
    try:
        yield Directory(own, Store(client, own.db_name("directory")))
    finally:
        client.close()


def demo_copy(tmp_path: Path, *files: str) -> Path:
    """A directory with some of the demo files, to edit."""
    for name in files:
        shutil.copy(DEMO_DIR / name, tmp_path / name)
    return tmp_path


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_importing_the_demo_set_stores_records_with_their_events(directory: Directory) -> None:
    report = directory.run_import(DEMO_DIR)
    assert report.ok, report.errors
    assert [(f.file, f.rows, f.created) for f in report.files] == [
        ("esa_areas.csv", 4, 4),
        ("clusters.csv", 4, 4),
        ("schools.csv", 14, 14),
        ("teachers.csv", 57, 57),
    ]
    assert directory.counts() == DEMO_COUNTS
    rows = list(directory.store.db[OUTBOX].find())
    assert Counter(r["event"]["event_type"] for r in rows) == {
        "directory.EsaAreaRecorded": 4,
        "directory.ClusterRecorded": 4,
        "directory.SchoolRecorded": 14,
        "directory.TeacherRecorded": 57,
    }
    assert {r["topic"] for r in rows} == {TOPICS["directory"]}
    assert all(r["key"] == r["event"]["org"]["esa_code"] for r in rows)  # one area's events stay in order
    teacher = directory.store.db["teachers"].find_one({"_id": "T13010001-01"})
    assert teacher["name_th"].startswith("ครูมาลี")
    assert (teacher["org"], teacher["version"]) == (
        {"school_code": "13010001", "cluster_id": "13P1-C01", "esa_code": "13P1", "province_code": "13"},
        1,
    )
    audit = list(directory.store.db[AUDIT].find())
    assert {(a["actor"], a["target"]) for a in audit} == {
        ("import", name) for name in ("esa_areas.csv", "clusters.csv", "schools.csv", "teachers.csv")
    }


def test_reimporting_the_same_files_changes_nothing(directory: Directory) -> None:
    directory.run_import(DEMO_DIR)
    before = {name: list(directory.store.db[name].find()) for name in (*DEMO_COUNTS, OUTBOX, AUDIT)}
    report = directory.run_import(DEMO_DIR)
    assert report.ok
    assert [(f.unchanged, f.created, f.updated) for f in report.files] == [
        (n, 0, 0) for n in DEMO_COUNTS.values()
    ]
    after = {name: list(directory.store.db[name].find()) for name in before}
    assert after == before  # no writes at all, not even a timestamp


def test_a_changed_school_row_stores_the_new_state_and_publishes_one_event(
    directory: Directory, tmp_path: Path
) -> None:
    directory.run_import(DEMO_DIR)
    changed = demo_copy(tmp_path, "schools.csv")
    replace_in(
        changed / "schools.csv",
        "Wat Bot School,13P1,13P1-C01,13,เมืองปทุมธานี,small,96,5",
        "Wat Bot School,13P1,13P1-C01,13,เมืองปทุมธานี,small,101,5",
    )
    outbox_before = directory.count(OUTBOX)
    report = directory.run_import(changed)
    assert [(f.file, f.updated, f.unchanged) for f in report.files] == [("schools.csv", 1, 13)]
    assert directory.count(OUTBOX) == outbox_before + 1
    [row] = directory.store.db[OUTBOX].find({"event.aggregate_id": "13010002", "event.aggregate_version": 2})
    assert row["event"]["payload"]["students"] == 101
    stored = directory.store.db["schools"].find_one({"_id": "13010002"})
    assert (stored["students"], stored["version"]) == (101, 2)
    assert directory.count("history") == 0  # a correction under the same date replaces the state


def test_a_school_moving_cluster_keeps_its_history_and_restamps_its_teachers(
    directory: Directory, tmp_path: Path
) -> None:
    directory.run_import(DEMO_DIR)
    moved = demo_copy(tmp_path, "schools.csv")
    replace_in(
        moved / "schools.csv",
        "13010003,โรงเรียนบ้านคลองควาย,Ban Khlong Khwai School,13P1,13P1-C01,13,เมืองปทุมธานี,small,85,4,2024-05-16",
        "13010003,โรงเรียนบ้านคลองควาย,Ban Khlong Khwai School,13P1,13P1-C02,13,เมืองปทุมธานี,small,85,4,2025-05-16",
    )
    teachers = directory.count("teachers", {"school_code": "13010003"})
    outbox_before = directory.count(OUTBOX)
    report = directory.run_import(moved)
    assert (report.files[0].updated, report.files[0].restamped) == (1, teachers)
    assert directory.count(OUTBOX) == outbox_before + 1 + teachers
    school = directory.store.db["schools"].find_one({"_id": "13010003"})
    assert (school["cluster_id"], school["effective_from"], school["version"]) == (
        "13P1-C02",
        "2025-05-16",
        2,
    )
    [past] = directory.store.db["history"].find({"kind": "school", "key": "13010003"})
    assert (past["effective_from"], past["state"]["cluster_id"], past["version"]) == (
        "2024-05-16",
        "13P1-C01",
        1,
    )
    stamped = directory.store.db["teachers"].find({"school_code": "13010003"})
    assert {(t["org"]["cluster_id"], t["version"]) for t in stamped} == {("13P1-C02", 2)}
    # the original file again: its 2024 row for 13010003 is now history, not a change
    (tmp_path / "original").mkdir()
    again = directory.run_import(demo_copy(tmp_path / "original", "schools.csv"))
    assert (again.files[0].unchanged, again.files[0].updated, again.files[0].backdated) == (14, 0, 0)
    assert directory.count(OUTBOX) == outbox_before + 1 + teachers


def test_a_bad_row_is_reported_with_its_line_and_the_good_rows_are_stored(
    directory: Directory, tmp_path: Path
) -> None:
    directory.run_import(DEMO_DIR)
    header = (DEMO_DIR / "schools.csv").read_text(encoding="utf-8").splitlines()[0]
    rows = [
        "13010008,โรงเรียนบ้านหนองบัว,Ban Nong Bua School,13P1,13P1-C02,13,สามโคก,small,70,4,2024-05-16",
        "13010009,โรงเรียนบ้านโคกงาม,Ban Khok Ngam School,13P1,13P1-C99,13,สามโคก,small,70,4,2024-05-16",
        "13010010,$where,Ban Don Daeng School,13P1,13P1-C02,13,สามโคก,small,70,4,2024-05-16",
        "13010011,โรงเรียนวัดท่าทอง,Wat Tha Thong School,13P1,13P1-C02,13,สามโคก,medium,70,4,2024-05-16",
        "13010012,โรงเรียนบ้านนาแก้ว,Ban Na Kaeo School,13P1,13P1-C02,13,สามโคก,medium,250,13,2024-05-16",
    ]
    (tmp_path / "schools.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    outbox_before = directory.count(OUTBOX)
    report = directory.run_import(tmp_path)
    assert not report.ok
    assert [(e.file, e.line, e.column) for e in report.errors] == [
        ("schools.csv", 3, "cluster_id"),
        ("schools.csv", 4, "name_th"),
        ("schools.csv", 5, "size_category"),
    ]
    assert report.files[0].created == 2
    stored = {
        d["_id"]
        for d in directory.store.db["schools"].find({"_id": {"$gte": "13010008", "$lte": "13010012"}})
    }
    assert stored == {"13010008", "13010012"}
    assert directory.count(OUTBOX) == outbox_before + 2


def published(settings: Settings, correlation_id: str, count: int) -> list[Record]:
    """This import's records on `directory.events` (the topic is shared: filter by the run's id)."""
    consumer = kafka_consumer(settings, group_id=None)
    try:
        topic = TOPICS["directory"]
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        got: list[Record] = []

        def enough() -> bool:
            for batch in consumer.poll(timeout_ms=100).values():
                got.extend(
                    Record(r.topic, r.partition, r.offset, r.value, r.key)
                    for r in batch
                    if catalog.decode(r.value)["correlation_id"] == correlation_id
                )
            return len(got) >= count

        wait_until(enough, 20, interval=0, what=f"{count} directory events")
        return got
    finally:
        consumer.close()


def relay_all(directory: Directory) -> None:
    producer = kafka_producer(directory.settings)
    try:
        relay = OutboxRelay(directory.store, producer, batch_size=20)  # several windows and fall-backs
        while relay.publish_pending():
            pass
    finally:
        producer.close()
    assert directory.count(OUTBOX, {"published_at": None}) == 0


def test_relay_publishes_the_outbox_and_directory_copy_fills_a_local_copy(directory: Directory) -> None:
    settings = directory.settings
    ensure_topics(settings.kafka_bootstrap, [TOPICS["directory"]], partitions=settings.topic_partitions)
    report = directory.run_import(DEMO_DIR)
    relay_all(directory)
    records = published(settings, report.correlation_id, DEMO_EVENTS)
    assert len(records) == DEMO_EVENTS
    by_esa = Counter((r.key, r.partition) for r in records)
    assert len({key for key, _ in by_esa}) == len(by_esa)  # one ESA area, one partition

    local = Store(directory.store.client, settings.db_name("supervision"))
    writer = ProjectionWriter(local, DirectoryCopy(), "supervision-directory", DeadLetters(None))
    result = writer.apply(records)
    assert (result.applied, result.dead_lettered) == (DEMO_EVENTS, 0)
    assert {name: local.db[name].count_documents({}) for name in DEMO_COUNTS} == DEMO_COUNTS
    assert school_org(local.db, "13010001") == Org("13010001", "13P1-C01", "13P1", "13")
    assert school_org(local.db, "99999999") is None
    teacher = local.db["teachers"].find_one({"_id": "T13010001-01"})
    assert (teacher["name_th"][:7], teacher["effective_from"], teacher["version"]) == (
        "ครูมาลี",
        "2024-05-16",
        1,
    )

    again = writer.apply(records)  # a redelivery changes nothing
    assert (again.applied, again.duplicates) == (0, 0)  # positions already past these offsets


def test_the_directory_sync_worker_keeps_a_service_copy(directory: Directory) -> None:
    settings = directory.settings
    ensure_topics(settings.kafka_bootstrap, [TOPICS["directory"]], partitions=settings.topic_partitions)
    directory.run_import(DEMO_DIR)
    relay_all(directory)
    stop = threading.Event()
    worker = threading.Thread(target=sync_directory, args=(settings, "training", stop), daemon=True)
    worker.start()
    try:
        local = directory.store.client[settings.db_name("training")]
        wait_until(
            lambda: local["teachers"].count_documents({}) >= DEMO_COUNTS["teachers"],
            20,
            what="the training service's copy of the demo teachers",
        )
        assert school_org(local, "50010001") == Org("50010001", "50P1-C01", "50P1", "50")
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not worker.is_alive()
