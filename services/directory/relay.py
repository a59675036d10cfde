"""`python -m services.directory.relay`: publish the directory outbox to `directory.events` until SIGTERM."""

from __future__ import annotations

import threading

from shared.clients import kafka_producer, mongo_client
from shared.relay import OutboxRelay, run_forever
from shared.settings import Settings
from shared.store import Store


def main() -> None:
    settings = Settings.from_env()

    def build(stop: threading.Event) -> None:
        store = Store(mongo_client(settings), settings.db_name("directory"))
        store.ensure_indexes()
        producer = kafka_producer(settings)
        try:
            relay = OutboxRelay(store, producer, batch_size=settings.relay_batch_size)
            relay.run(stop, idle_wait_s=settings.relay_poll_interval_s)
        finally:
            producer.close()
            store.client.close()

    run_forever(build)


if __name__ == "__main__":
    main()
