"""The local servers of deploy/local/servers.py: they start, answer, keep data across restarts, and never
outlive their parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from pymongo import MongoClient

from deploy.local.servers import (
    ServerProcess,
    ensure_topics,
    kafka_ready,
    mongo_ready,
    spawn,
    start_kafka,
    start_mongo,
)
from shared.settings import Settings
from tests.helpers import free_port, poll_records, wait_until

pytestmark = pytest.mark.integration


def _producer(bootstrap: str, settings: Settings) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        max_block_ms=settings.kafka_max_block_ms,
        reconnect_backoff_max_ms=settings.kafka_reconnect_backoff_max_ms,
    )


def _partitions(bootstrap: str, topic: str) -> int:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        (described,) = admin.describe_topics([topic])
        return len(described["partitions"])
    finally:
        admin.close()


def _gone(pid: int) -> bool:
    """True once `pid` has exited (reaped, or a zombie of a parent that does not reap)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


# ----------------------------------------------------------------------------------------- shared servers


def test_both_servers_answer(kafka_server: ServerProcess, mongo_server: ServerProcess) -> None:
    assert kafka_server.alive() and mongo_server.alive()
    assert kafka_ready(kafka_server.address)
    assert mongo_ready(mongo_server.address)


def test_keyed_message_is_consumed_back(settings: Settings, unique: str) -> None:
    topic = f"roundtrip-{unique}"
    ensure_topics(settings.kafka_bootstrap, [topic], settings.topic_partitions)
    producer = _producer(settings.kafka_bootstrap, settings)
    try:
        sent = producer.send(topic, key=b"school-13010001", value=b'{"n": 1}').get(timeout=10)
    finally:
        producer.close()

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=f"g-{unique}",
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        reconnect_backoff_max_ms=settings.kafka_reconnect_backoff_max_ms,
    )
    try:
        # generous: a group join on tansu waits session_timeout/2
        (record,) = poll_records(consumer, 1, timeout=30)
    finally:
        consumer.close()
    assert (record.key, record.value) == (b"school-13010001", b'{"n": 1}')
    assert (record.partition, record.offset) == (sent.partition, sent.offset)


def test_ensure_topics_is_idempotent(settings: Settings, unique: str) -> None:
    bootstrap = settings.kafka_bootstrap
    first, second = f"a-{unique}", f"b-{unique}"

    assert ensure_topics(bootstrap, [first], partitions=3) == [first]
    # again, with one new topic and a duplicate in the request: only the new one is created
    assert ensure_topics(bootstrap, [first, second, second], partitions=3) == [second]
    assert ensure_topics(bootstrap, [first, second], partitions=3) == []
    assert _partitions(bootstrap, first) == 3
    assert _partitions(bootstrap, second) == 3


def test_port_in_use_is_a_clear_error(kafka_server: ServerProcess, tmp_path: Path) -> None:
    port = int(kafka_server.address.rsplit(":", 1)[1])
    with pytest.raises(RuntimeError, match=f"port {port} is already in use"):
        start_kafka(tmp_path / "k", port)
    assert kafka_server.alive()


# ------------------------------------------------------------------------------- restarts (own servers)


def test_noida_restart_keeps_topic_and_message(tmp_path: Path, unique: str) -> None:
    data, port = tmp_path / "kafka", free_port()
    bootstrap = f"127.0.0.1:{port}"
    topic = f"durable-{unique}"
    settings = Settings()
    server = start_kafka(data, port, "noida")
    try:
        ensure_topics(bootstrap, [topic], partitions=2)
        producer = _producer(bootstrap, settings)
        try:
            sent = producer.send(topic, key=b"k1", value=b"survives").get(timeout=10)
        finally:
            producer.close()
        assert server.stop() == 0  # SIGTERM: noida saves its data on the way out
        assert not server.alive()

        server = start_kafka(data, port, "noida")
        assert _partitions(bootstrap, topic) == 2
        # assign instead of subscribe: no group join, and reads the partition we wrote to
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, fetch_max_wait_ms=20, reconnect_backoff_max_ms=1000
        )
        try:
            tp = TopicPartition(topic, sent.partition)
            consumer.assign([tp])
            consumer.seek_to_beginning(tp)
            (record,) = poll_records(consumer, 1, timeout=10)
        finally:
            consumer.close()
        assert (record.key, record.value, record.offset) == (b"k1", b"survives", sent.offset)
    finally:
        server.stop()


def test_secantus_restart_keeps_document(tmp_path: Path, unique: str) -> None:
    data, port = tmp_path / "mongo", free_port()
    server = start_mongo(data, port)
    try:
        client: MongoClient[dict[str, object]] = MongoClient(server.address, serverSelectionTimeoutMS=5000)
        try:
            client[unique].docs.insert_one({"_id": "school-1", "name": "โรงเรียนทดสอบ"})
        finally:
            client.close()
        assert server.stop() == 0
        assert not server.alive()

        server = start_mongo(data, port)
        client = MongoClient(server.address, serverSelectionTimeoutMS=5000)
        try:
            assert client[unique].docs.find_one({"_id": "school-1"}) == {
                "_id": "school-1",
                "name": "โรงเรียนทดสอบ",
            }
        finally:
            client.close()
    finally:
        server.stop()


def test_secantus_runs_without_its_ttl_sweeper(tmp_path: Path, unique: str) -> None:
    # Its sweep holds the store's one lock while it decodes every document of each TTL-indexed collection,
    # stalling every client for seconds at the projector's volume of applied-event ids. Without the sweeper
    # an expired document outlives the sweep that is due 60 s after the server starts.
    server = start_mongo(tmp_path / "mongo", free_port())
    client: MongoClient[dict[str, object]] = MongoClient(server.address, serverSelectionTimeoutMS=5000)
    try:
        docs = client[unique].expiring
        docs.create_index("expires_at", expireAfterSeconds=0)
        docs.insert_one({"_id": "expired", "expires_at": datetime(2000, 1, 1, tzinfo=UTC)})
        deadline = time.monotonic() + 65
        while time.monotonic() < deadline:
            assert docs.find_one({"_id": "expired"}) is not None
            time.sleep(1)
    finally:
        client.close()
        server.stop()


def test_secantus_keeps_no_oplog_and_still_acts_as_a_primary(tmp_path: Path, unique: str) -> None:
    # Its oplog serves change streams, which the platform does not use, and describing each update for it was
    # half of an update's cost. Retryable writes and transactions need it to present itself as a primary.
    server = start_mongo(tmp_path / "mongo", free_port())
    client: MongoClient[dict[str, object]] = MongoClient(server.address, serverSelectionTimeoutMS=5000)
    try:
        docs = client[unique].docs
        docs.insert_one({"_id": "view", "visits": 1})
        with client.start_session() as session, session.start_transaction():
            docs.update_one({"_id": "view"}, {"$inc": {"visits": 1}}, session=session)
        assert docs.find_one({"_id": "view"}) == {"_id": "view", "visits": 2}
        assert client.local["oplog.rs"].count_documents({"ns": f"{unique}.docs"}) == 0
        (description,) = client.topology_description.server_descriptions().values()
        assert description.server_type_name == "RSPrimary"
        assert description.retryable_writes_supported
    finally:
        client.close()
        server.stop()


# ------------------------------------------------------------------------------------ process handling


def test_stop_escalates_to_sigkill(tmp_path: Path) -> None:
    # a child that ignores SIGTERM still goes away, after the timeout
    # the marker is assembled at run time: the log's header line quotes the argv itself
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ig' + 'noring'); time.sleep(60)"
    proc = spawn("stubborn", [sys.executable, "-u", "-c", code], log_path=tmp_path / "stubborn.log")
    wait_until(lambda: "ignoring" in proc.log_tail(), 10, what="the child to ignore SIGTERM")
    assert proc.stop(timeout=0.5) == -signal.SIGKILL
    assert not proc.alive()


def test_children_die_with_a_sigkilled_parent(tmp_path: Path) -> None:
    # the parent spawns a long sleeper, then is SIGKILLed: no atexit runs, PR_SET_PDEATHSIG must act
    parent_code = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from deploy.local.servers import spawn
        child = spawn("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"],
                      log_path=Path({str(tmp_path / "sleeper.log")!r}))
        print(child.pid, flush=True)
        time.sleep(60)
        """
    )
    repo_root = Path(__file__).resolve().parents[2]
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True, cwd=repo_root
    )
    try:
        assert parent.stdout is not None
        child_pid = int(parent.stdout.readline())
        assert not _gone(child_pid)
    finally:
        parent.kill()
        parent.wait()
    try:
        wait_until(lambda: _gone(child_pid), 10, what=f"orphan {child_pid} to exit")
    finally:
        if not _gone(child_pid):
            os.kill(child_pid, signal.SIGKILL)
