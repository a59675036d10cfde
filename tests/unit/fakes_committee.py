"""An in-memory twin of the committee repository, and a small directory to seed it with."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from services.committee.domain import ActionItem, Cluster, Committee, Entity, School
from services.committee.repository import COLLECTIONS, E, seat_query
from shared.catalog import catalog
from shared.envelope import Org
from shared.errors import Conflict
from shared.repository import decode, encode

# school -> (org, students): 13010001 has 342 students (a 15-seat board), 13010002 has 96 (9 seats)
SCHOOLS = {
    "13010001": (Org("13010001", "13P1-C01", "13P1", "13"), 342),
    "13010002": (Org("13010002", "13P1-C01", "13P1", "13"), 96),
    "13010003": (Org("13010003", "13P1-C02", "13P1", "13"), 85),
    "13020001": (Org("13020001", "13P2-C01", "13P2", "13"), 150),
    "50010001": (Org("50010001", "50P1-C01", "50P1", "50"), 500),
}


class FakeRepository:
    def __init__(self) -> None:
        self.schools = {code: School(code, org, students) for code, (org, students) in SCHOOLS.items()}
        self.entities: dict[tuple[str, str], dict[str, Any]] = {}
        self.outbox: list[dict[str, Any]] = []
        self.audit: list[dict[str, Any]] = []
        self.saves = 0

    # master data
    def school(self, code: str) -> School | None:
        return self.schools.get(code)

    def cluster(self, cluster_id: str) -> Cluster | None:
        for school in self.schools.values():
            if school.org.cluster_id == cluster_id:
                org = school.org
                return Cluster(cluster_id, Org(None, cluster_id, org.esa_code, org.province_code))
        return None

    # entities: stored as documents, so a test sees what MongoDB would hold
    def get(self, kind: type[E], entity_id: str) -> E | None:
        doc = self.entities.get((COLLECTIONS[kind], entity_id))
        return decode(kind, copy.deepcopy(doc)) if doc else None

    def list(self, kind: type[E], query: dict[str, Any], page: int, page_size: int) -> tuple[list[E], int]:
        found = self._find(COLLECTIONS[kind], query)
        start = (page - 1) * page_size
        return [decode(kind, copy.deepcopy(d)) for d in found[start : start + page_size]], len(found)

    def committee_of_unit(self, unit: str) -> Committee | None:
        found = self._find("committees", {"unit": unit})
        return decode(Committee, copy.deepcopy(found[0])) if found else None

    def committee_ids_with_seat(self, account: str, on: date) -> list[str]:
        return [d["id"] for d in self._find("committees", seat_query(account, on))]

    def past_due_action_items(self, today: date, limit: int = 500) -> list[ActionItem]:
        query = {"status": "open", "due_date": {"$lt": today.isoformat()}}
        return self.list(ActionItem, query, 1, limit)[0]

    def save(self, entity: Entity, events: list[dict[str, Any]], audit: list[dict[str, Any]]) -> None:
        name = COLLECTIONS[type(entity)]
        stored = self.entities.get((name, entity.id))
        expected = entity.version - 1
        if (stored is None and expected != 0) or (stored is not None and stored["version"] != expected):
            raise Conflict(f"{entity.id} was changed by someone else")
        doc = encode(entity)
        if isinstance(entity, Committee) and expected == 0 and self._find(name, {"unit": doc["unit"]}):
            raise Conflict(f"{entity.id} already exists")  # the unique index on `unit`
        for event in events:
            catalog.check(event)  # as Store.append_outbox does
        self.entities[(name, entity.id)] = doc
        self.outbox.extend(copy.deepcopy(events))
        self.audit.extend(copy.deepcopy(audit))
        self.saves += 1

    def _find(self, collection: str, query: dict[str, Any]) -> list[dict[str, Any]]:
        return [d for (c, _), d in sorted(self.entities.items()) if c == collection and matches(d, query)]

    def event_types(self) -> list[str]:
        return [e["event_type"] for e in self.outbox]

    def payloads(self, event_type: str) -> list[dict[str, Any]]:
        return [e["payload"] for e in self.outbox if e["event_type"] == event_type]


# --- enough of MongoDB's query language for the service's filters ----------------------------------------

OPERATORS = {
    "$lt": lambda v, x: v is not None and v < x,
    "$lte": lambda v, x: v is not None and v <= x,
    "$gte": lambda v, x: v is not None and v >= x,
    "$in": lambda v, x: any(i in x for i in v) if isinstance(v, list) else v in x,
}


def matches(doc: dict[str, Any], query: dict[str, Any]) -> bool:
    for key, condition in query.items():
        if key == "$and":
            ok = all(matches(doc, q) for q in condition)
        elif key == "$or":
            ok = any(matches(doc, q) for q in condition)
        else:
            ok = _holds(_values(doc, key.split(".")), condition)
        if not ok:
            return False
    return True


def _values(doc: Any, parts: list[str]) -> Any:
    """The value at a dotted path; through a list of documents, the list of their values (as MongoDB)."""
    if not parts:
        return doc
    if isinstance(doc, list):
        return [_values(d, parts) for d in doc]
    if not isinstance(doc, dict):
        return None
    return _values(doc.get(parts[0] if parts[0] != "_id" else "id"), parts[1:])


def _holds(value: Any, condition: Any) -> bool:
    if isinstance(condition, dict):
        if "$elemMatch" in condition:
            return isinstance(value, list) and any(matches(v, condition["$elemMatch"]) for v in value)
        return all(OPERATORS[op](value, arg) for op, arg in condition.items())
    if isinstance(value, list):
        return condition in value
    return value == condition
