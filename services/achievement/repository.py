"""MongoDB persistence for achievement: results, their outbox events and audit entries in one transaction
(`shared.repository.MongoRepository.save`, versioned), and the `imports` log.

Also reads the service's local copy of master data (collection `schools`, kept by the directory sync) to stamp
org paths and check that a row's school exists.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from pymongo import ASCENDING, DESCENDING

from services.achievement.domain import Result, School
from shared.envelope import Org
from shared.repository import MongoRepository as SharedMongoRepository
from shared.repository import decode
from shared.settings import TOPICS

E = TypeVar("E", bound=Result)

TOPIC = TOPICS["achievement"]
IMPORTS = "imports"
COLLECTIONS: dict[type, str] = {Result: "results"}
SORT: dict[type, list[tuple[str, int]]] = {
    Result: [
        ("academic_year", DESCENDING),
        ("test", ASCENDING),
        ("school_code", ASCENDING),
        ("grade", ASCENDING),
        ("subject", ASCENDING),
    ]
}


class AbstractRepository(Protocol):
    """What the handlers need; `tests/unit/fakes_achievement.py` keeps an in-memory twin."""

    def schools(self, codes: list[str]) -> dict[str, School]: ...

    def results(self, ids: list[str]) -> dict[str, Result]: ...

    def get(self, kind: type[E], entity_id: str) -> E | None: ...

    def list(
        self, kind: type[E], query: dict[str, Any], page: int, page_size: int
    ) -> tuple[list[E], int]: ...

    def save(self, entity: Result, events: list[dict[str, Any]], audit: list[dict[str, Any]]) -> None: ...

    def start_import(self, doc: dict[str, Any], audit: dict[str, Any]) -> None: ...

    def finish_import(self, import_id: str, changes: dict[str, Any]) -> None: ...

    def get_import(self, import_id: str) -> dict[str, Any] | None: ...

    def list_imports(
        self, query: dict[str, Any], page: int, page_size: int
    ) -> tuple[list[dict[str, Any]], int]: ...


class MongoRepository(SharedMongoRepository):
    """The shared entity storage (get, list, save, org indexes) plus this service's own reads."""

    topic = TOPIC
    collections = COLLECTIONS
    sort = SORT

    def schools(self, codes: list[str]) -> dict[str, School]:
        if not codes:
            return {}
        cursor = self.db["schools"].find({"school_code": {"$in": list(codes)}}, {"school_code": 1, "org": 1})
        return {
            d["school_code"]: School(d["school_code"], Org.from_dict(d["org"]))
            for d in cursor
            if d.get("org")
        }

    def results(self, ids: list[str]) -> dict[str, Result]:
        if not ids:
            return {}
        return {d["_id"]: decode(Result, d) for d in self.db["results"].find({"_id": {"$in": list(ids)}})}

    def start_import(self, doc: dict[str, Any], audit: dict[str, Any]) -> None:
        """The import's record (status running) and its audit entry, together."""

        def work(session: Any) -> None:
            self.db[IMPORTS].insert_one(doc, session=session)
            self.store.append_audit(session, [audit])

        self.store.atomic(work)

    def finish_import(self, import_id: str, changes: dict[str, Any]) -> None:
        self.db[IMPORTS].update_one({"_id": import_id}, {"$set": changes})

    def get_import(self, import_id: str) -> dict[str, Any] | None:
        return self.db[IMPORTS].find_one({"_id": import_id})

    def list_imports(
        self, query: dict[str, Any], page: int, page_size: int
    ) -> tuple[list[dict[str, Any]], int]:
        cursor = (
            self.db[IMPORTS].find(query, {"errors": 0}).sort([("started_at", DESCENDING), ("_id", ASCENDING)])
        )
        docs = list(cursor.skip((page - 1) * page_size).limit(page_size))
        return docs, self.db[IMPORTS].count_documents(query)

    def ensure_indexes(self) -> None:
        """Indexes for every list filter (org unit, period, test) and the imports log."""
        self.ensure_org_indexes()
        self.db["results"].create_index([("test", ASCENDING), ("academic_year", DESCENDING)])
        self.db[IMPORTS].create_index(
            [("scope.level", ASCENDING), ("scope.code", ASCENDING), ("started_at", DESCENDING)]
        )
        self.db[IMPORTS].create_index([("started_at", DESCENDING)])
