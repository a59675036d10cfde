"""An in-memory twin of the achievement repository, with a small directory."""

from __future__ import annotations

import copy
from typing import Any

from services.achievement.domain import Result, School
from services.achievement.repository import COLLECTIONS, E
from shared.catalog import catalog
from shared.envelope import Org
from shared.errors import Conflict
from shared.repository import decode, encode
from tests.unit.fakes_training import matches

# Two ESA areas of Pathum Thani (13) and one of Chiang Mai (50).
SCHOOLS = {
    "13010001": Org("13010001", "13P1-C01", "13P1", "13"),
    "13010002": Org("13010002", "13P1-C01", "13P1", "13"),
    "13020001": Org("13020001", "13P2-C01", "13P2", "13"),
    "50010001": Org("50010001", "50P1-C01", "50P1", "50"),
}


class FakeRepository:
    def __init__(self) -> None:
        self.school_orgs = dict(SCHOOLS)
        self.entities: dict[tuple[str, str], dict[str, Any]] = {}
        self.outbox: list[dict[str, Any]] = []
        self.audit: list[dict[str, Any]] = []
        self.imports: dict[str, dict[str, Any]] = {}
        self.saves = 0
        self.lookups = 0  # store queries for schools and results (one of each per batch)

    def schools(self, codes: list[str]) -> dict[str, School]:
        self.lookups += 1
        return {c: School(c, self.school_orgs[c]) for c in codes if c in self.school_orgs}

    def results(self, ids: list[str]) -> dict[str, Result]:
        self.lookups += 1
        return {i: r for i in ids if (r := self.get(Result, i)) is not None}

    def get(self, kind: type[E], entity_id: str) -> E | None:
        doc = self.entities.get((COLLECTIONS[kind], entity_id))
        return decode(kind, copy.deepcopy(doc)) if doc else None

    def list(self, kind: type[E], query: dict[str, Any], page: int, page_size: int) -> tuple[list[E], int]:
        name = COLLECTIONS[kind]
        found = [d for (c, _), d in sorted(self.entities.items()) if c == name and matches(d, query)]
        start = (page - 1) * page_size
        return [decode(kind, copy.deepcopy(d)) for d in found[start : start + page_size]], len(found)

    def save(self, entity: Result, events: list[dict[str, Any]], audit: list[dict[str, Any]]) -> None:
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

    def start_import(self, doc: dict[str, Any], audit: dict[str, Any]) -> None:
        self.imports[doc["_id"]] = copy.deepcopy(doc)
        self.audit.append(copy.deepcopy(audit))

    def finish_import(self, import_id: str, changes: dict[str, Any]) -> None:
        self.imports[import_id].update(copy.deepcopy(changes))

    def get_import(self, import_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.imports.get(import_id))

    def list_imports(
        self, query: dict[str, Any], page: int, page_size: int
    ) -> tuple[list[dict[str, Any]], int]:
        found = [d for d in self.imports.values() if matches(d, query)]
        found.sort(key=lambda d: d["started_at"], reverse=True)
        start = (page - 1) * page_size
        return copy.deepcopy(found[start : start + page_size]), len(found)

    def event_types(self) -> list[str]:
        return [e["event_type"] for e in self.outbox]
