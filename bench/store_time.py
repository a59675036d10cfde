"""The time the document store takes to answer a process's commands, per command and collection.

pymongo reports every command it sends with the time until its reply (command monitoring). Summed, that is how
long a projector waited on the store, measured in the projector's own process rather than estimated from a
synthetic write load.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from pymongo import monitoring

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
