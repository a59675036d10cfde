"""An in-memory twin of the supervision repository, and a small directory to seed it with."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from services.supervision.domain import Cluster, Entity, FollowUp, School, Teacher
from services.supervision.repository import COLLECTIONS, E
from shared.catalog import catalog
from shared.envelope import Org
from shared.errors import Conflict
from shared.repository import decode, encode

# Two ESA areas of Pathum Thani (13) and one of Chiang Mai (50).
SCHOOLS = {
    "13010001": Org("13010001", "13P1-C01", "13P1", "13"),
    "13010002": Org("13010002", "13P1-C01", "13P1", "13"),
    "13010003": Org("13010003", "13P1-C02", "13P1", "13"),
    "13020001": Org("13020001", "13P2-C01", "13P2", "13"),
    "50010001": Org("50010001", "50P1-C01", "50P1", "50"),
}
TEACHERS = {
    "T13010001-01": "13010001",
    "T13010001-02": "13010001",
    "T13010002-01": "13010002",
    "T13010003-01": "13010003",
    "T13020001-01": "13020001",
    "T50010001-01": "50010001",
}


class FakeRepository:
    def __init__(self) -> None:
        self.schools = {code: School(code, org) for code, org in SCHOOLS.items()}
        self.teacher_docs = {tid: Teacher(tid, school) for tid, school in TEACHERS.items()}
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

    def teachers(self, teacher_ids: list[str]) -> dict[str, Teacher]:
        return {t: self.teacher_docs[t] for t in teacher_ids if t in self.teacher_docs}

    # entities: stored as documents, so a test sees what MongoDB would hold
    def get(self, kind: type[E], entity_id: str) -> E | None:
        doc = self.entities.get((COLLECTIONS[kind], entity_id))
        return decode(kind, copy.deepcopy(doc)) if doc else None

    def list(self, kind: type[E], query: dict[str, Any], page: int, page_size: int) -> tuple[list[E], int]:
        name = COLLECTIONS[kind]
        found = [d for (c, _), d in sorted(self.entities.items()) if c == name and matches(d, query)]
        start = (page - 1) * page_size
        return [decode(kind, copy.deepcopy(d)) for d in found[start : start + page_size]], len(found)

    def past_due_follow_ups(self, today: date, limit: int = 500) -> list[FollowUp]:
        query = {"status": "open", "due_date": {"$lt": today.isoformat()}}
        return self.list(FollowUp, query, 1, limit)[0]

    def save(self, entity: Entity, events: list[dict[str, Any]], audit: list[dict[str, Any]]) -> None:
        key = (COLLECTIONS[type(entity)], entity.id)
        stored = self.entities.get(key)
        expected = entity.version - 1
        if (stored is None and expected != 0) or (stored is not None and stored["version"] != expected):
            raise Conflict(f"{entity.id} was changed by someone else")
        for event in events:
            catalog.check(event)  # as Store.append_outbox does
        self.entities[key] = encode(entity)
        self.outbox.extend(copy.deepcopy(events))
        self.audit.extend(copy.deepcopy(audit))
        self.saves += 1

    def event_types(self) -> list[str]:
        return [e["event_type"] for e in self.outbox]


def matches(doc: dict[str, Any], query: dict[str, Any]) -> bool:
    """Enough of MongoDB's query language for the service's filters: equality, `$in`, `$lt`, arrays."""
    return all(_match(_path(doc, path), condition) for path, condition in query.items())


def _path(doc: Any, path: str) -> Any:
    for part in path.split("."):
        doc = doc.get(part) if isinstance(doc, dict) else None
    return doc


def _match(value: Any, condition: Any) -> bool:
    if isinstance(condition, dict):
        if "$in" in condition:
            return value in condition["$in"]
        if "$lt" in condition:
            return value is not None and value < condition["$lt"]
        raise NotImplementedError(condition)
    if isinstance(value, list):
        return condition in value
    return value == condition
