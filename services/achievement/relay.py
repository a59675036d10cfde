"""`python -m services.achievement.relay`: publish the achievement outbox to `achievement.events`."""

from __future__ import annotations

import threading

from services.achievement.repository import MongoRepository
from shared.clients import kafka_producer, mongo_client
from shared.relay import OutboxRelay, run_forever
from shared.settings import Settings
from shared.store import Store


def serve(settings: Settings, stop: threading.Event) -> None:
    """Relay until `stop` is set."""
    store = Store(mongo_client(settings), settings.db_name("achievement"))
    MongoRepository(store).ensure_indexes()
    producer = kafka_producer(settings)
    try:
        relay = OutboxRelay(store, producer, batch_size=settings.relay_batch_size)
        relay.run(stop, idle_wait_s=settings.relay_poll_interval_s)
    finally:
        producer.close(timeout=5)
        store.client.close()


def main() -> None:
    settings = Settings.from_env()
    run_forever(lambda stop: serve(settings, stop))


if __name__ == "__main__":
    main()
