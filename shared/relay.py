"""The outbox relay: publishes a service's stored events to Kafka, then marks them published.

Safe to crash anywhere: an event is marked only after the broker acknowledged it (acks=all), so a crash
between the two publishes it again, and consumers drop the duplicate by `event_id`.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sized
from datetime import date, timedelta
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError
from pymongo.errors import PyMongoError

from shared.calendar import today as calendar_today
from shared.catalog import catalog
from shared.envelope import utcnow
from shared.heartbeat import beat
from shared.store import OUTBOX, Store

log = logging.getLogger(__name__)

BACKLOG_WINDOW = timedelta(seconds=1)


class OutboxRelay:
    def __init__(
        self, store: Store, producer: KafkaProducer, batch_size: int = 500, send_timeout_s: float = 15
    ):
        self.store = store
        self.producer = producer
        self.batch_size = batch_size
        self.send_timeout_s = send_timeout_s
        self.oldest: Any = None  # creation time of the oldest pending event last seen

    def pending(self) -> list[dict[str, Any]]:
        """The oldest unpublished events. A backlog is read in one-second windows of creation time: on some
        servers a query costs what it matches, not what it returns (a limit does not stop it), and a large
        import leaves hundreds of thousands of events behind. An empty window falls back to the plain query,
        which also finds events committed late with an earlier time."""
        docs = self._find({"$gte": self.oldest, "$lt": self.oldest + BACKLOG_WINDOW}) if self.oldest else []
        if not docs:
            docs = self._find(None)
        self.oldest = docs[0]["created_at"] if docs else None
        return docs

    def _find(self, created_at: dict[str, Any] | None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"published_at": None}
        if created_at:
            query["created_at"] = created_at
        cursor = self.store.db[OUTBOX].find(query)
        return list(cursor.sort([("created_at", 1), ("seq", 1)]).limit(self.batch_size))

    def publish_pending(self) -> int:
        """Publish one batch; returns how many events were published and marked."""
        docs = self.pending()
        if not docs:
            return 0
        futures = [
            self.producer.send(
                doc["topic"],
                key=doc["key"].encode(),
                value=catalog.serialize(doc["event"]),
                headers=[("event_type", doc["event"]["event_type"].encode())],
            )
            for doc in docs
        ]
        self.producer.flush(timeout=self.send_timeout_s)
        for future in futures:
            future.get(timeout=self.send_timeout_s)  # raises if the broker did not take it: nothing is marked
        self.store.db[OUTBOX].update_many(
            {"_id": {"$in": [doc["_id"] for doc in docs]}}, {"$set": {"published_at": utcnow()}}
        )
        return len(docs)

    def run(
        self, stop: threading.Event, idle_wait_s: float = 0.05, jobs: list[Callable[[], Any]] = ()
    ) -> None:
        """Publish until `stop` is set; `jobs` run between batches (for example, a periodic sweep)."""
        backoff = idle_wait_s
        while not stop.is_set():
            beat()  # liveness for a container healthcheck (no-op unless ANP_HEARTBEAT_FILE is set)
            try:
                for job in jobs:
                    job()
                published = self.publish_pending()
                backoff = idle_wait_s
                if published:
                    continue
            except (KafkaError, PyMongoError) as err:
                log.warning("relay waiting for its peers: %s", err)
                backoff = min(backoff * 2 if backoff > idle_wait_s else 0.5, 5.0)
            stop.wait(backoff)


def run_forever(build: Callable[[threading.Event], None]) -> None:
    """Run a long-lived worker until SIGTERM or Ctrl-C, letting it finish its current batch."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    build(stop)


class DailySweep:
    """A relay job: at most once per `every_s`, run `mark(today)`; generic over what it marks."""

    def __init__(
        self,
        mark: Callable[[date], Sized],
        every_s: float = 30.0,
        today: Callable[[], date] = calendar_today,
        clock: Callable[[], float] = time.monotonic,
        what: str = "items",
    ) -> None:
        self.mark = mark
        self.every_s = every_s
        self.today = today
        self.clock = clock
        self.what = what
        self.last: float | None = None

    def __call__(self) -> None:
        now = self.clock()
        if self.last is not None and now - self.last < self.every_s:
            return
        marked = self.mark(self.today())
        self.last = now  # only after success: a failed sweep is retried on the relay's next turn
        if marked:
            log.info("marked %d %s overdue", len(marked), self.what)
