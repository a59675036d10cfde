"""MongoDB persistence for training: entities, their outbox events and audit entries in one transaction.

Also reads the service's local copy of master data (collections `esa_areas`, `clusters`, `schools`,
`teachers`, kept by the directory sync) to stamp org paths and check references. Documents hold dates as ISO
strings. The `completions` collection is the PD-hours ledger: a unique index on (teacher, programme) credits
a programme's hours to a teacher exactly once, and a unique index on `certificate_code` makes each
certificate's verification code name one completion.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from pymongo import ASCENDING, DESCENDING

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
from shared.envelope import Org
from shared.repository import MongoRepository as SharedMongoRepository
from shared.repository import decode
from shared.settings import TOPICS

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


# --- MongoDB --------------------------------------------------------------------------------------------


class MongoRepository(SharedMongoRepository):
    """The shared entity storage (get, list, save, org indexes) plus this service's own reads."""

    topic = TOPIC
    collections = COLLECTIONS
    sort = SORT

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

    def ensure_indexes(self) -> None:
        """Indexes for every list filter (org unit, period, status), the roster and the PD-hours ledger."""
        self.ensure_org_indexes()
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
