"""Helpers for tests: `from tests.helpers import wait_until, poll_records`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer

from deploy.local.servers import free_port, port_open, wait_until

__all__ = ["free_port", "poll_records", "port_open", "wait_until"]


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
