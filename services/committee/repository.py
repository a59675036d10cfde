"""MongoDB persistence for committees: entities, their outbox events and audit entries in one transaction.

Also reads the service's local copy of master data (collections `schools`, `clusters`, kept by the directory
sync) to stamp org paths, size school boards and check action-item owners. Documents hold dates as ISO
strings, so date ranges compare as strings.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol, TypeVar

from pymongo import ASCENDING, DESCENDING

from services.committee.domain import ActionItem, Cluster, Committee, Entity, Meeting, Resolution, School
from shared.envelope import Org
from shared.repository import MongoRepository as SharedMongoRepository
from shared.repository import decode
from shared.settings import TOPICS

E = TypeVar("E", bound=Entity)

TOPIC = TOPICS["committee"]
COLLECTIONS: dict[type, str] = {
    Committee: "committees",
    Meeting: "meetings",
    Resolution: "resolutions",
    ActionItem: "action_items",
}
# committees by unit; newest meetings and resolutions first; action items by what is due first
SORT: dict[type, list[tuple[str, int]]] = {
    Committee: [("unit", ASCENDING)],
    Meeting: [("meeting_date", DESCENDING)],
    Resolution: [("adopted_date", DESCENDING)],
    ActionItem: [("due_date", ASCENDING)],
}


def seat_query(account: str, on: date) -> dict[str, Any]:
    """Committees where `account` holds a seat on `on`."""
    day = on.isoformat()
    return {
        "members": {
            "$elemMatch": {"account": account, "term_start": {"$lte": day}, "term_end": {"$gte": day}}
        }
    }


class AbstractRepository(Protocol):
    """What the handlers need; `tests/unit/fakes_committee.py` keeps an in-memory twin."""

    def school(self, code: str) -> School | None: ...

    def cluster(self, cluster_id: str) -> Cluster | None: ...

    def get(self, kind: type[E], entity_id: str) -> E | None: ...

    def list(
        self, kind: type[E], query: dict[str, Any], page: int, page_size: int
    ) -> tuple[list[E], int]: ...

    def committee_of_unit(self, unit: str) -> Committee | None: ...

    def committee_ids_with_seat(self, account: str, on: date) -> list[str]: ...

    def past_due_action_items(self, today: date, limit: int) -> list[ActionItem]: ...

    def save(self, entity: Entity, events: list[dict[str, Any]], audit: list[dict[str, Any]]) -> None: ...


# --- MongoDB --------------------------------------------------------------------------------------------


class MongoRepository(SharedMongoRepository):
    """The shared entity storage (get, list, save, org indexes) plus this service's own reads."""

    topic = TOPIC
    collections = COLLECTIONS
    sort = SORT

    # master data, read from the local copy
    def school(self, code: str) -> School | None:
        doc = self.db["schools"].find_one({"school_code": code}, {"org": 1, "students": 1})
        if not doc or not doc.get("org"):
            return None
        return School(code, Org.from_dict(doc["org"]), int(doc.get("students") or 0))

    def cluster(self, cluster_id: str) -> Cluster | None:
        doc = self.db["clusters"].find_one({"cluster_id": cluster_id}, {"org": 1})
        if not doc or not doc.get("org"):
            return None
        org = Org.from_dict(doc["org"])
        return Cluster(cluster_id, Org(None, cluster_id, org.esa_code, org.province_code))

    def committee_of_unit(self, unit: str) -> Committee | None:
        doc = self.db["committees"].find_one({"unit": unit})
        return decode(Committee, doc) if doc else None

    def committee_ids_with_seat(self, account: str, on: date) -> list[str]:
        return [d["_id"] for d in self.db["committees"].find(seat_query(account, on), {"_id": 1})]

    def past_due_action_items(self, today: date, limit: int = 500) -> list[ActionItem]:
        query = {"status": "open", "due_date": {"$lt": today.isoformat()}}
        docs = self.db["action_items"].find(query).sort([("due_date", ASCENDING)]).limit(limit)
        return [decode(ActionItem, d) for d in docs]

    def ensure_indexes(self) -> None:
        """Indexes for every list filter, membership lookups, the overdue sweep, and one committee per unit."""
        self.ensure_org_indexes()
        # the race guard behind "one committee per school / cluster": a second insert is a duplicate key,
        # which the shared save answers with Conflict (409)
        self.db["committees"].create_index([("unit", ASCENDING)], unique=True)
        self.db["committees"].create_index([("members.account", ASCENDING)])
        for name in ("meetings", "resolutions", "action_items"):
            self.db[name].create_index([("committee_id", ASCENDING)])
        self.db["meetings"].create_index([("status", ASCENDING), ("meeting_date", DESCENDING)])
        self.db["resolutions"].create_index([("meeting_id", ASCENDING)])
        self.db["action_items"].create_index([("status", ASCENDING), ("due_date", ASCENDING)])
        self.db["action_items"].create_index([("resolution_id", ASCENDING)])
        self.db["action_items"].create_index([("owner_account", ASCENDING)])
