"""MongoDB persistence for supervision: entities, their outbox events and audit entries in one transaction.

Also reads the service's local copy of master data (collections `schools`, `clusters`, `teachers`, kept by
the directory sync) to stamp org paths and check references. Documents hold dates as ISO strings.
"""

from __future__ import annotations

import types
from dataclasses import fields, is_dataclass
from datetime import date
from typing import Any, Protocol, TypeVar, get_args, get_type_hints

from pymongo import ASCENDING, DESCENDING
from pymongo.client_session import ClientSession
from pymongo.errors import DuplicateKeyError

from services.supervision.domain import (
    Cluster,
    CoachingSession,
    Entity,
    Finding,
    FollowUp,
    PlcSession,
    School,
    SupervisionPlan,
    Teacher,
    Visit,
)
from shared.calendar import Period
from shared.envelope import Org
from shared.errors import Conflict
from shared.settings import TOPICS
from shared.store import Store

E = TypeVar("E", bound=Entity)

TOPIC = TOPICS["supervision"]
COLLECTIONS: dict[type, str] = {
    SupervisionPlan: "plans",
    Visit: "visits",
    CoachingSession: "coaching_sessions",
    PlcSession: "plc_sessions",
    Finding: "findings",
    FollowUp: "follow_ups",
}
# newest activity first in lists; follow-ups by what is due first
SORT: dict[type, list[tuple[str, int]]] = {
    SupervisionPlan: [("period.academic_year", DESCENDING), ("period.semester", DESCENDING)],
    Visit: [("scheduled_date", DESCENDING)],
    CoachingSession: [("session_date", DESCENDING)],
    PlcSession: [("session_date", DESCENDING)],
    Finding: [("visit_date", DESCENDING)],
    FollowUp: [("due_date", ASCENDING)],
}
ORG_FIELDS = ("school_code", "cluster_id", "esa_code", "province_code")


class AbstractRepository(Protocol):
    """What the handlers need; `tests/unit/fakes_supervision.py` keeps an in-memory twin."""

    def school(self, code: str) -> School | None: ...

    def cluster(self, cluster_id: str) -> Cluster | None: ...

    def teachers(self, teacher_ids: list[str]) -> dict[str, Teacher]: ...

    def get(self, kind: type[E], entity_id: str) -> E | None: ...

    def list(
        self, kind: type[E], query: dict[str, Any], page: int, page_size: int
    ) -> tuple[list[E], int]: ...

    def past_due_follow_ups(self, today: date, limit: int) -> list[FollowUp]: ...

    def save(self, entity: Entity, events: list[dict[str, Any]], audit: list[dict[str, Any]]) -> None: ...


# --- documents <-> entities -----------------------------------------------------------------------------


def encode(value: Any) -> Any:
    """An entity (or part of one) as BSON/JSON-native data: dates become ISO strings."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    return value


def decode(kind: type[E], doc: dict[str, Any]) -> E:
    hints = get_type_hints(kind)
    values = {f.name: _decode_value(hints[f.name], doc[f.name]) for f in fields(kind) if f.name in doc}
    return kind(**values)


def _decode_value(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    options = get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if date in options:
        return date.fromisoformat(value)
    if Org in options:
        return Org.from_dict(value)
    if Period in options:
        return Period(value["academic_year"], value["semester"])
    return value


# --- MongoDB --------------------------------------------------------------------------------------------


class MongoRepository:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    # master data, read from the local copy
    def school(self, code: str) -> School | None:
        doc = self.db["schools"].find_one({"school_code": code}, {"org": 1})
        return School(code, Org.from_dict(doc["org"])) if doc and doc.get("org") else None

    def cluster(self, cluster_id: str) -> Cluster | None:
        doc = self.db["clusters"].find_one({"cluster_id": cluster_id}, {"org": 1})
        if not doc or not doc.get("org"):
            return None
        org = Org.from_dict(doc["org"])
        return Cluster(cluster_id, Org(None, cluster_id, org.esa_code, org.province_code))

    def teachers(self, teacher_ids: list[str]) -> dict[str, Teacher]:
        if not teacher_ids:
            return {}
        cursor = self.db["teachers"].find(
            {"teacher_id": {"$in": list(teacher_ids)}}, {"teacher_id": 1, "school_code": 1}
        )
        return {d["teacher_id"]: Teacher(d["teacher_id"], d["school_code"]) for d in cursor}

    # entities
    def get(self, kind: type[E], entity_id: str) -> E | None:
        doc = self.db[COLLECTIONS[kind]].find_one({"_id": entity_id})
        return decode(kind, doc) if doc else None

    def list(self, kind: type[E], query: dict[str, Any], page: int, page_size: int) -> tuple[list[E], int]:
        collection = self.db[COLLECTIONS[kind]]
        cursor = collection.find(query).sort([*SORT[kind], ("_id", ASCENDING)])
        docs = cursor.skip((page - 1) * page_size).limit(page_size)
        return [decode(kind, d) for d in docs], collection.count_documents(query)

    def past_due_follow_ups(self, today: date, limit: int = 500) -> list[FollowUp]:
        query = {"status": "open", "due_date": {"$lt": today.isoformat()}}
        docs = self.db["follow_ups"].find(query).sort([("due_date", ASCENDING)]).limit(limit)
        return [decode(FollowUp, d) for d in docs]

    def save(self, entity: Entity, events: list[dict[str, Any]], audit: list[dict[str, Any]]) -> None:
        """Store the entity if nobody changed it since it was read, with its events and audit, atomically."""
        collection = self.db[COLLECTIONS[type(entity)]]
        doc = {"_id": entity.id, **encode(entity)}
        expected = entity.version - 1  # every change bumps the version by one; a new entity has version 1

        def work(session: ClientSession) -> None:
            if expected == 0:
                try:
                    collection.insert_one(doc, session=session)
                except DuplicateKeyError as err:
                    raise Conflict(f"{entity.id} already exists") from err
            else:
                found = collection.replace_one({"_id": entity.id, "version": expected}, doc, session=session)
                if found.matched_count == 0:
                    raise Conflict(f"{entity.id} was changed by someone else; reload it and retry")
            self.store.append_outbox(session, TOPIC, events)
            self.store.append_audit(session, audit)

        self.store.atomic(work)

    def ensure_indexes(self) -> None:
        """Indexes for every list filter (org unit, period, status) and the overdue sweep."""
        self.store.ensure_indexes()
        period = [("period.academic_year", ASCENDING), ("period.semester", ASCENDING)]
        for kind, name in COLLECTIONS.items():
            collection = self.db[name]
            for org_field in ORG_FIELDS:
                collection.create_index(_keys((f"org.{org_field}", ASCENDING), *period, *SORT[kind]))
            collection.create_index(_keys(*period, *SORT[kind]))
        self.db["visits"].create_index([("status", ASCENDING), ("scheduled_date", DESCENDING)])
        self.db["findings"].create_index([("visit_id", ASCENDING)])
        self.db["follow_ups"].create_index([("status", ASCENDING), ("due_date", ASCENDING)])
        self.db["follow_ups"].create_index([("finding_id", ASCENDING)])


def _keys(*keys: tuple[str, int]) -> list[tuple[str, int]]:
    """An index key list without repeated fields (a plan's sort order is its period)."""
    unique: dict[str, int] = {}
    for name, direction in keys:
        unique.setdefault(name, direction)
    return list(unique.items())
