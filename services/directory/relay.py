"""`python -m services.directory.relay`: publish the directory outbox to `directory.events` until SIGTERM."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from shared.clients import kafka_producer, mongo_client
from shared.relay import OutboxRelay, run_forever
from shared.settings import Settings
from shared.store import OUTBOX, Store


class BacklogRelay(OutboxRelay):
    """Reads the outbox in windows of creation time. A national import leaves ~415,000 events behind, and
    on the local server a query costs what it matches, not what it returns (a limit does not stop it): the
    plain pending-query took 28 s per batch of 500 there, a one-second window 0.03-0.3 s. An empty window
    falls back to the plain query, which also finds events committed late with an earlier time."""

    WINDOW = timedelta(seconds=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.oldest: Any = None  # creation time of the oldest pending event last seen

    def pending(self) -> list[dict[str, Any]]:
        docs = self._window() if self.oldest is not None else []
        if not docs:
            docs = super().pending()
        self.oldest = docs[0]["created_at"] if docs else None
        return docs

    def _window(self) -> list[dict[str, Any]]:
        window = {"$gte": self.oldest, "$lt": self.oldest + self.WINDOW}
        cursor = self.store.db[OUTBOX].find({"published_at": None, "created_at": window})
        return list(cursor.sort([("created_at", 1), ("seq", 1)]).limit(self.batch_size))


def main() -> None:
    settings = Settings.from_env()

    def build(stop: threading.Event) -> None:
        store = Store(mongo_client(settings), settings.db_name("directory"))
        store.ensure_indexes()
        producer = kafka_producer(settings)
        try:
            relay = BacklogRelay(store, producer, batch_size=settings.relay_batch_size)
            relay.run(stop, idle_wait_s=settings.relay_poll_interval_s)
        finally:
            producer.close()
            store.client.close()

    run_forever(build)


if __name__ == "__main__":
    main()
