"""Client factories. Called after gunicorn forks (pymongo and kafka-python are not fork-safe), never at import."""

from __future__ import annotations

from typing import Any

from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient
from pymongo import MongoClient

from shared.settings import Settings


def mongo_client(settings: Settings) -> MongoClient:
    return MongoClient(
        settings.mongo_uri,
        serverSelectionTimeoutMS=settings.mongo_server_selection_ms,
        tz_aware=True,
        appname="anp",
    )


def kafka_producer(settings: Settings, **overrides: Any) -> KafkaProducer:
    """acks=all with idempotence: a retried send never duplicates or reorders a partition's records."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "acks": "all",
        "enable_idempotence": True,
        "max_in_flight_requests_per_connection": 5,
        "linger_ms": 5,
        "max_block_ms": settings.kafka_max_block_ms,
        "reconnect_backoff_max_ms": settings.kafka_reconnect_backoff_max_ms,
        "request_timeout_ms": 10000,
        "retries": 2_000_000_000,
        "delivery_timeout_ms": 30000,
    }
    options.update(overrides)
    return KafkaProducer(**options)


def kafka_consumer(settings: Settings, *, group_id: str | None, **overrides: Any) -> KafkaConsumer:
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": settings.kafka_session_timeout_ms,
        "heartbeat_interval_ms": settings.kafka_heartbeat_interval_ms,
        "fetch_max_wait_ms": settings.kafka_fetch_max_wait_ms,
        "max_partition_fetch_bytes": settings.kafka_max_partition_fetch_bytes,
        "reconnect_backoff_max_ms": settings.kafka_reconnect_backoff_max_ms,
        "max_poll_records": settings.projector_max_records,
    }
    options.update(overrides)
    return KafkaConsumer(**options)


def kafka_admin(settings: Settings) -> KafkaAdminClient:
    return KafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap,
        reconnect_backoff_max_ms=settings.kafka_reconnect_backoff_max_ms,
        request_timeout_ms=5000,
    )
