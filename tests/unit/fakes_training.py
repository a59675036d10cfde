"""An in-memory twin of the training repository, and a small directory to seed it with."""

from __future__ import annotations

import copy
from typing import Any

from services.training.domain import Attendance, Cluster, Completion, Entity, EsaArea, School, Teacher
from services.training.repository import COLLECTIONS, E
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
    "T13010001-03": "13010001",
    "T13010002-01": "13010002",
    "T13010003-01": "13010003",
    "T13020001-01": "13020001",
    "T50010001-01": "50010001",
}

# (name_th, name_en); the two teachers of 13010001 named สมศรี share a name, so a name alone is ambiguous
TEACHER_NAMES = {
    "T13010001-01": ("ครูสมชาย ใจดี", "Somchai Jaidee"),
    "T13010001-02": ("ครูสมศรี มีสุข", "Somsri Meesuk"),
    "T13010001-03": ("ครูสมศรี มีสุข", "Somsri Meesuk"),
    "T13010002-01": ("ครูวิชัย เก่งกล้า", "Wichai Kengkla"),
    "T13010003-01": ("ครูมาลี ศรีสวย", "Malee Srisuay"),
    "T13020001-01": ("ครูประเสริฐ ดีงาม", "Prasert Deengam"),
    "T50010001-01": ("ครูบุญมี แสนดี", "Boonmee Saendee"),
}


class FakeRepository:
    def __init__(self) -> None:
        self.schools = {code: School(code, org) for code, org in SCHOOLS.items()}
        self.teacher_docs = {
            tid: Teacher(
                tid, school, SCHOOLS[school], *TEACHER_NAMES[tid], f"{tid.lower()}@school.example.org"
            )
            for tid, school in TEACHERS.items()
        }
        self.entities: dict[tuple[str, str], dict[str, Any]] = {}
        self.outbox: list[dict[str, Any]] = []
        self.audit: list[dict[str, Any]] = []
        self.saves = 0

    # master data
    def esa_area(self, esa_code: str) -> EsaArea | None:
        for org in SCHOOLS.values():
            if org.esa_code == esa_code:
                return EsaArea(esa_code, Org(None, None, esa_code, org.province_code))
        return None

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

    def attendance_of(self, programme_id: str, teacher_id: str) -> list[Attendance]:
        return self.list(Attendance, {"programme_id": programme_id, "teacher_id": teacher_id}, 1, 10_000)[0]

    def completions_of(self, teacher_id: str, academic_year: int | None) -> list[Completion]:
        query: dict[str, Any] = {"teacher_id": teacher_id}
        if academic_year is not None:
            query["period.academic_year"] = academic_year
        return self.list(Completion, query, 1, 10_000)[0]

    def completion_by_certificate(self, code: str) -> Completion | None:
        found = self.list(Completion, {"certificate_code": code}, 1, 1)[0]
        return found[0] if found else None

    def save(self, entity: Entity, events: list[dict[str, Any]], audit: list[dict[str, Any]]) -> None:
        key = (COLLECTIONS[type(entity)], entity.id)
        stored = self.entities.get(key)
        expected = entity.version - 1
        if (stored is None and expected != 0) or (stored is not None and stored["version"] != expected):
            raise Conflict(f"{entity.id} was changed by someone else")
        if isinstance(entity, Completion) and any(  # the ledger's unique (teacher, programme) index
            c == "completions"
            and (d["teacher_id"], d["programme_id"]) == (entity.teacher_id, entity.programme_id)
            for (c, _), d in self.entities.items()
        ):
            raise Conflict(f"{entity.teacher_id} has already been credited for {entity.programme_id}")
        for event in events:
            catalog.check(event)  # as Store.append_outbox does
        self.entities[key] = encode(entity)
        self.outbox.extend(copy.deepcopy(events))
        self.audit.extend(copy.deepcopy(audit))
        self.saves += 1

    def event_types(self) -> list[str]:
        return [e["event_type"] for e in self.outbox]


def matches(doc: dict[str, Any], query: dict[str, Any]) -> bool:
    """Enough of MongoDB's query language for the service's filters: equality, `$in`, `$and`, arrays."""
    for path, condition in query.items():
        if path == "$and":
            if not all(matches(doc, clause) for clause in condition):
                return False
        elif not _match(_path(doc, path), condition):
            return False
    return True


def _path(doc: Any, path: str) -> Any:
    for part in path.split("."):
        doc = doc.get(part) if isinstance(doc, dict) else None
    return doc


def _match(value: Any, condition: Any) -> bool:
    if isinstance(condition, dict):
        if "$in" in condition:
            return value in condition["$in"]
        raise NotImplementedError(condition)
    if isinstance(value, list):
        return condition in value
    return value == condition
