"""A service's own MongoDB database, and the one way to change it: an atomic unit of work.

A unit of work writes the entity, its outgoing events (the outbox) and the audit record in one
multi-document transaction, so an event is published if and only if its change was stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pymongo import MongoClient
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from shared.catalog import catalog
from shared.envelope import utcnow

T = TypeVar("T")

OUTBOX = "outbox"
AUDIT = "audit"


@dataclass
class Changes:
    """What one command changed: events to publish and audit entries, written with the entity."""

    events: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)


class Store:
    def __init__(self, client: MongoClient, db_name: str) -> None:
        self.client = client
        self.db: Database = client[db_name]

    def atomic(self, work: Callable[[ClientSession], T]) -> T:
        """Run `work` in a transaction; transient conflicts are retried by the driver."""
        with self.client.start_session() as session:
            return session.with_transaction(
                work,
                read_concern=ReadConcern("snapshot"),
                write_concern=WriteConcern("majority"),
            )

    def append_outbox(self, session: ClientSession, topic: str, events: list[dict[str, Any]]) -> None:
        if not events:
            return
        for event in events:
            catalog.check(event)
        now = utcnow()
        docs = [
            {
                "_id": e["event_id"],
                "topic": topic,
                # keyed by ESA area: one area's events stay in order on one partition
                "key": e["org"].get("esa_code") or e["aggregate_id"],
                "event": e,
                "created_at": now,
                "seq": i,
                "published_at": None,
            }
            for i, e in enumerate(events)
        ]
        self.db[OUTBOX].insert_many(docs, session=session)

    def append_audit(self, session: ClientSession, entries: list[dict[str, Any]]) -> None:
        if entries:
            self.db[AUDIT].insert_many([{**e, "at": utcnow()} for e in entries], session=session)

    def ensure_indexes(self) -> None:
        self.db[OUTBOX].create_index([("published_at", 1), ("created_at", 1), ("seq", 1)])
        self.db[AUDIT].create_index([("at", -1)])
        self.db[AUDIT].create_index([("target", 1), ("at", -1)])
