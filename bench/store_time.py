"""The time the document store takes to answer a process's commands, per command and collection.

pymongo reports every command it sends with the time until its reply (command monitoring). Summed, that is how
long a projector waited on the store, measured in the projector's own process rather than estimated from a
synthetic write load. And what an update costs the store by the size of the document it changes.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import bson
from pymongo import UpdateOne, monitoring
from pymongo.database import Database

# the field holding a write command's documents, whose number is counted
WRITTEN = {"insert": "documents", "update": "updates", "delete": "deletes"}


@dataclass
class Tally:
    calls: int = 0
    seconds: float = 0.0
    documents: int = 0  # written (inserted, updated or deleted), for write commands


class StoreTime(monitoring.CommandListener):
    def __init__(self) -> None:
        self.tallies: dict[tuple[str, str], Tally] = defaultdict(Tally)
        self._pending: dict[int, tuple[str, str, int]] = {}

    @property
    def seconds(self) -> float:
        return sum(tally.seconds for tally in self.tallies.values())

    def reset(self) -> None:
        self.tallies.clear()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        command: dict[str, Any] = event.command
        collection = command.get(event.command_name)
        written = len(command.get(WRITTEN.get(event.command_name, ""), ()))
        self._pending[event.request_id] = (
            event.command_name,
            collection if isinstance(collection, str) else "",
            written,
        )

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._count(event.request_id, event.duration_micros)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._count(event.request_id, event.duration_micros)

    def _count(self, request_id: int, micros: int) -> None:
        name, collection, written = self._pending.pop(request_id, ("?", "", 0))
        tally = self.tallies[(name, collection)]
        tally.calls += 1
        tally.seconds += micros / 1e6
        tally.documents += written


def install() -> StoreTime:
    """A listener of every client this process creates from now on."""
    listener = StoreTime()
    monitoring.register(listener)
    return listener


def update_cost_by_size(
    db: Database, sections: tuple[int, ...] = (1, 5, 10, 20, 40), documents: int = 2_000, batch: int = 500
) -> list[tuple[int, float]]:
    """(document bytes, ms a document) of upserts as the projector makes them: in transactions of `batch`
    documents, each adding to 10 counters of a document of `sections` sections of 10 counters, which only its
    size tells apart. The best of three passes, on a quiet collection per size."""
    costs = []
    for n in sections:
        collection = db[f"update_cost_{n}"]
        collection.drop()
        collection.insert_many([{"_id": i, **_counters(n)} for i in range(documents)])
        size = len(bson.encode(collection.find_one({"_id": 0}) or {}))
        counters = {f"s0.c{c}": 1 for c in range(10)}  # the first section's, as a fold adds to one model's
        updates = [UpdateOne({"_id": i}, {"$inc": counters}, upsert=True) for i in range(documents)]
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            for first in range(0, documents, batch):
                with db.client.start_session() as session, session.start_transaction():
                    collection.bulk_write(updates[first : first + batch], ordered=False, session=session)
            best = min(best, time.perf_counter() - started)
        costs.append((size, 1000 * best / documents))
        collection.drop()
    return costs


def _counters(sections: int) -> dict[str, dict[str, int]]:
    return {f"s{s}": {f"c{c}": 0 for c in range(10)} for s in range(sections)}
