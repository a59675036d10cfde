"""A round trip through the real images (apache/kafka, mongo replica set) when a Docker engine answers.

Always collected. Without an engine every test here skips with the reason (`pytest -rs` shows it) and the
local servers carry the rest of the suite. With `ANP_TEST_INFRA=containers` these tests reuse the session's
containers; otherwise they start their own for this module.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from deploy.local.servers import ensure_topics
from shared.clients import kafka_consumer, kafka_producer, mongo_client
from shared.settings import Settings
from tests.containers.infra import (
    ContainerServer,
    docker_engine,
    infra_kind,
    no_engine_reason,
    start_kafka_container,
    start_mongo_container,
)
from tests.helpers import poll_records

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def _engine() -> None:
    error = docker_engine()
    if error:
        pytest.skip(no_engine_reason(error))


def _server(request: pytest.FixtureRequest, fixture: str, start: Any) -> Iterator[ContainerServer]:
    if infra_kind() == "containers":  # the session's fixtures already are the real images
        yield request.getfixturevalue(fixture)
        return
    server = start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def real_kafka(request: pytest.FixtureRequest, _engine: None) -> Iterator[ContainerServer]:
    yield from _server(request, "kafka_server", start_kafka_container)


@pytest.fixture(scope="module")
def real_mongo(request: pytest.FixtureRequest, _engine: None) -> Iterator[ContainerServer]:
    yield from _server(request, "mongo_server", start_mongo_container)


@pytest.fixture(scope="module")
def real_settings(real_kafka: ContainerServer, real_mongo: ContainerServer) -> Settings:
    return Settings().with_overrides(
        kafka_bootstrap=real_kafka.address,
        mongo_uri=real_mongo.address,
        db_prefix=f"c{uuid.uuid4().hex[:8]}",
        topic_partitions=3,
    )


def test_kafka_produce_and_consume(real_settings: Settings, unique: str) -> None:
    topic = f"{unique}.roundtrip"
    ensure_topics(real_settings.kafka_bootstrap, [topic], partitions=3)
    producer = kafka_producer(real_settings)
    consumer = kafka_consumer(real_settings, group_id=f"{unique}-group")
    try:
        consumer.subscribe([topic])
        for n in range(5):
            producer.send(topic, key=f"k{n}".encode(), value=f"v{n}".encode()).get(timeout=30)
        records = poll_records(consumer, 5, timeout=60)
        assert sorted(r.value for r in records) == [f"v{n}".encode() for n in range(5)]
    finally:
        consumer.close()
        producer.close()


def test_mongo_multi_document_transaction(real_settings: Settings, unique: str) -> None:
    client = mongo_client(real_settings)
    db = client[real_settings.db_name(unique)]
    db.create_collection("a")
    db.create_collection("b")
    try:
        with client.start_session() as session, session.start_transaction():
            db.a.insert_one({"_id": 1}, session=session)
            db.b.insert_one({"_id": 1}, session=session)
        assert db.a.count_documents({}) == 1 and db.b.count_documents({}) == 1

        class Abort(Exception):
            pass

        with pytest.raises(Abort), client.start_session() as session, session.start_transaction():
            db.a.insert_one({"_id": 2}, session=session)
            db.b.insert_one({"_id": 2}, session=session)
            raise Abort
        assert db.a.count_documents({}) == 1 and db.b.count_documents({}) == 1  # both writes rolled back
    finally:
        client.drop_database(db.name)
        client.close()


def test_outbox_relay_projector_on_real_images(real_settings: Settings, unique: str) -> None:
    # the integration suite's own rig and path, pointed at the containers
    from tests.integration import test_projector as projector_tests

    rig = projector_tests.Rig(real_settings, unique)
    try:
        projector_tests.test_outbox_to_relay_to_projector(rig, real_settings, unique)
    finally:
        rig.close()
