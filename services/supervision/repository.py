"""MongoDB persistence for supervision: entities, their outbox events and audit entries in one transaction.

Also reads the service's local copy of master data (collections `schools`, `clusters`, `teachers`, kept by
the directory sync) to stamp org paths and check references. Documents hold dates as ISO strings.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol, TypeVar

from pymongo import ASCENDING, DESCENDING

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
from shared.envelope import Org
from shared.repository import MongoRepository as SharedMongoRepository
from shared.repository import decode
from shared.settings import TOPICS

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


# --- MongoDB --------------------------------------------------------------------------------------------


class MongoRepository(SharedMongoRepository):
    """The shared entity storage (get, list, save, org indexes) plus this service's own reads."""

    topic = TOPIC
    collections = COLLECTIONS
    sort = SORT

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

    def past_due_follow_ups(self, today: date, limit: int = 500) -> list[FollowUp]:
        query = {"status": "open", "due_date": {"$lt": today.isoformat()}}
        docs = self.db["follow_ups"].find(query).sort([("due_date", ASCENDING)]).limit(limit)
        return [decode(FollowUp, d) for d in docs]

    def ensure_indexes(self) -> None:
        """Indexes for every list filter (org unit, period, status) and the overdue sweep."""
        self.ensure_org_indexes()
        self.db["visits"].create_index([("status", ASCENDING), ("scheduled_date", DESCENDING)])
        self.db["findings"].create_index([("visit_id", ASCENDING)])
        self.db["follow_ups"].create_index([("status", ASCENDING), ("due_date", ASCENDING)])
        self.db["follow_ups"].create_index([("finding_id", ASCENDING)])
