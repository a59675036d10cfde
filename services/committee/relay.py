"""`python -m services.committee.relay`: publish the outbox to `committee.events`, and sweep overdue action
items (every ~30 s) so their ActionItemOverdue events go out through the same outbox."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from functools import partial

from services.committee import handlers
from services.committee.repository import MongoRepository
from shared.calendar import today as calendar_today
from shared.clients import kafka_producer, mongo_client
from shared.relay import DailySweep, OutboxRelay, run_forever
from shared.settings import Settings
from shared.store import Store

SWEEP_EVERY_S = 30.0


def overdue_sweep(
    repo: MongoRepository, every_s: float = SWEEP_EVERY_S, today: Callable[[], date] = calendar_today
) -> DailySweep:
    """The sweep announcing past-due action items overdue."""
    mark = partial(handlers.mark_overdue_action_items, repo=repo)
    return DailySweep(mark, every_s=every_s, today=today, what="action items")


def serve(settings: Settings, stop: threading.Event, sweep_every_s: float = SWEEP_EVERY_S) -> None:
    """Relay until `stop` is set."""
    store = Store(mongo_client(settings), settings.db_name("committee"))
    repo = MongoRepository(store)
    repo.ensure_indexes()
    producer = kafka_producer(settings)
    try:
        relay = OutboxRelay(store, producer, batch_size=settings.relay_batch_size)
        relay.run(
            stop,
            idle_wait_s=settings.relay_poll_interval_s,
            jobs=[overdue_sweep(repo, every_s=sweep_every_s)],
        )
    finally:
        producer.close(timeout=5)
        store.client.close()


def main() -> None:
    settings = Settings.from_env()
    run_forever(lambda stop: serve(settings, stop))


if __name__ == "__main__":
    main()
