"""MongoDB persistence for training: entities, their outbox events and audit entries in one transaction.

Also reads the service's local copy of master data (collections `esa_areas`, `clusters`, `schools`,
`teachers`, kept by the directory sync) to stamp org paths and check references. Documents hold dates as ISO
strings. The `completions` collection is the PD-hours ledger: a unique index on (teacher, programme) credits
a programme's hours to a teacher exactly once, and a unique index on `certificate_code` makes each
certificate's verification code name one completion.
"""

from __future__ import annotations

import types
from dataclasses import fields, is_dataclass
from datetime import date
from typing import Any, Protocol, TypeVar, get_args, get_origin, get_type_hints

from pymongo import ASCENDING, DESCENDING
from pymongo.client_session import ClientSession
from pymongo.errors import DuplicateKeyError

from services.training.domain import (
    Attendance,
    Cluster,
    Completion,
    Entity,
    EsaArea,
    Programme,
    School,
    Teacher,
)
from shared.calendar import Period
from shared.envelope import Org
from shared.errors import Conflict
from shared.settings import TOPICS
from shared.store import Store

E = TypeVar("E", bound=Entity)

TOPIC = TOPICS["training"]
COLLECTIONS: dict[type, str] = {
    Programme: "programmes",
    Attendance: "attendance",
    Completion: "completions",
}
# newest first in lists
SORT: dict[type, list[tuple[str, int]]] = {
    Programme: [("start_date", DESCENDING)],
    Attendance: [("session_date", DESCENDING)],
    Completion: [("completed_on", DESCENDING)],
}
ORG_FIELDS = ("school_code", "cluster_id", "esa_code", "province_code")


class AbstractRepository(Protocol):
    """What the handlers need; `tests/unit/fakes_training.py` keeps an in-memory twin."""

    def esa_area(self, esa_code: str) -> EsaArea | None: ...

    def school(self, code: str) -> School | None: ...

    def cluster(self, cluster_id: str) -> Cluster | None: ...

    def teachers(self, teacher_ids: list[str]) -> dict[str, Teacher]: ...

    def get(self, kind: type[E], entity_id: str) -> E | None: ...

    def list(
        self, kind: type[E], query: dict[str, Any], page: int, page_size: int
    ) -> tuple[list[E], int]: ...

    def attendance_of(self, programme_id: str, teacher_id: str) -> list[Attendance]: ...

    def completions_of(self, teacher_id: str, academic_year: int | None) -> list[Completion]: ...

    def completion_by_certificate(self, code: str) -> Completion | None: ...

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
    if get_origin(hint) is list:
        (item,) = get_args(hint)
        return [_decode_value(item, v) for v in value]  # a programme's sessions and roster
    options = get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if date in options:
        return date.fromisoformat(value)
    if Org in options:
        return Org.from_dict(value)
    if Period in options:
        return Period(value["academic_year"], value["semester"])
    if is_dataclass(hint):
        return decode(hint, value)
    return value


# --- MongoDB --------------------------------------------------------------------------------------------


class MongoRepository:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    # master data, read from the local copy
    def esa_area(self, esa_code: str) -> EsaArea | None:
        doc = self.db["esa_areas"].find_one({"esa_code": esa_code}, {"org": 1})
        if not doc or not doc.get("org"):
            return None
        org = Org.from_dict(doc["org"])
        return EsaArea(esa_code, Org(None, None, esa_code, org.province_code))

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
            {"teacher_id": {"$in": list(teacher_ids)}},
            {"teacher_id": 1, "school_code": 1, "org": 1, "name_th": 1, "name_en": 1, "email": 1},
        )
        found = {}
        for doc in cursor:
            org = doc.get("org") or {}
            if not org.get("school_code"):  # a teacher without a school path cannot be placed in scope
                school = self.school(doc["school_code"])
                org = school.org.as_dict() if school else {"school_code": doc["school_code"]}
            found[doc["teacher_id"]] = Teacher(
                doc["teacher_id"],
                doc["school_code"],
                Org.from_dict(org),
                name_th=doc.get("name_th") or "",
                name_en=doc.get("name_en") or "",
                email=doc.get("email") or "",
            )
        return found

    # entities
    def get(self, kind: type[E], entity_id: str) -> E | None:
        doc = self.db[COLLECTIONS[kind]].find_one({"_id": entity_id})
        return decode(kind, doc) if doc else None

    def list(self, kind: type[E], query: dict[str, Any], page: int, page_size: int) -> tuple[list[E], int]:
        collection = self.db[COLLECTIONS[kind]]
        cursor = collection.find(query).sort([*SORT[kind], ("_id", ASCENDING)])
        docs = cursor.skip((page - 1) * page_size).limit(page_size)
        return [decode(kind, d) for d in docs], collection.count_documents(query)

    def attendance_of(self, programme_id: str, teacher_id: str) -> list[Attendance]:
        docs = self.db["attendance"].find({"programme_id": programme_id, "teacher_id": teacher_id})
        return [decode(Attendance, d) for d in docs]

    def completions_of(self, teacher_id: str, academic_year: int | None) -> list[Completion]:
        query: dict[str, Any] = {"teacher_id": teacher_id}
        if academic_year is not None:
            query["period.academic_year"] = academic_year
        docs = self.db["completions"].find(query).sort([("completed_on", ASCENDING), ("_id", ASCENDING)])
        return [decode(Completion, d) for d in docs]

    def completion_by_certificate(self, code: str) -> Completion | None:
        doc = self.db["completions"].find_one({"certificate_code": code})
        return decode(Completion, doc) if doc else None

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
        """Indexes for every list filter (org unit, period, status), the roster and the PD-hours ledger."""
        self.store.ensure_indexes()
        period = [("period.academic_year", ASCENDING), ("period.semester", ASCENDING)]
        for kind, name in COLLECTIONS.items():
            collection = self.db[name]
            for org_field in ORG_FIELDS:
                collection.create_index(_keys((f"org.{org_field}", ASCENDING), *period, *SORT[kind]))
            collection.create_index(_keys(*period, *SORT[kind]))
        self.db["programmes"].create_index([("status", ASCENDING), ("start_date", DESCENDING)])
        self.db["attendance"].create_index([("programme_id", ASCENDING), ("teacher_id", ASCENDING)])
        # the ledger: a programme's hours are credited to a teacher once, whatever ids a writer picks
        self.db["completions"].create_index(
            [("teacher_id", ASCENDING), ("programme_id", ASCENDING)], unique=True
        )
        self.db["completions"].create_index([("teacher_id", ASCENDING), ("period.academic_year", ASCENDING)])
        # a certificate's verification code finds one completion; older completions have none ("")
        self.db["completions"].create_index(
            [("certificate_code", ASCENDING)],
            unique=True,
            partialFilterExpression={"certificate_code": {"$type": "string", "$gt": ""}},
        )


def _keys(*keys: tuple[str, int]) -> list[tuple[str, int]]:
    """An index key list without repeated fields."""
    unique: dict[str, int] = {}
    for name, direction in keys:
        unique.setdefault(name, direction)
    return list(unique.items())
