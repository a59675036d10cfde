"""MongoDB mechanics shared by the services that keep dataclass entities (supervision, training).

Each such service stores its entities the same way: one collection per entity kind, documents that are the
dataclass fields with dates as ISO strings, an optimistic version check on every save, and the save's outbox
events and audit entries written in the same transaction. Only the queries differ, so a service's repository
subclasses `MongoRepository`, names its topic, collections and list orders, and adds its own reads.
"""

from __future__ import annotations

import types
from collections.abc import Iterable
from dataclasses import fields, is_dataclass
from datetime import date
from functools import cache
from typing import Any, ClassVar, Protocol, TypeVar, get_args, get_origin, get_type_hints

from pymongo import ASCENDING
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError, OperationFailure

from shared.calendar import Period
from shared.envelope import Org, new_event
from shared.errors import Conflict
from shared.store import Store


class Versioned(Protocol):
    """What `save` needs of an entity: an id and a version bumped by one on every change."""

    id: str
    version: int


class Aggregate(Versioned, Protocol):
    """An entity whose changes are published: events carry its org path for scoping downstream."""

    org: Org


class DomainEvent(Protocol):
    """A change an entity reports; its payload becomes the event envelope's payload."""

    @property
    def event_type(self) -> str: ...

    def payload(self) -> dict[str, Any]: ...


E = TypeVar("E")

ORG_FIELDS = ("school_code", "cluster_id", "esa_code", "province_code")
INDEX_NOT_FOUND = 27  # the server's error code
PERIOD_KEYS: list[tuple[str, int]] = [("period.academic_year", ASCENDING), ("period.semester", ASCENDING)]


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
    """The entity a document holds, read back by the dataclass's type hints (the inverse of `encode`)."""
    hints = _hints(kind)
    values = {f.name: _decode_value(hints[f.name], doc[f.name]) for f in fields(kind) if f.name in doc}
    return kind(**values)


@cache
def _hints(kind: type) -> dict[str, Any]:
    """Resolving string annotations compiles them: once per entity class, not once per document read."""
    return get_type_hints(kind)


def _decode_value(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(hint, types.UnionType):  # an optional field: read the value as its one other type
        others = [arg for arg in get_args(hint) if arg is not type(None)]
        if len(others) == 1:
            return _decode_value(others[0], value)
    if get_origin(hint) is list:
        (item,) = get_args(hint)
        return [_decode_value(item, v) for v in value]  # e.g. a programme's sessions and roster
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


def envelopes(
    entity: Aggregate,
    events: Iterable[DomainEvent],
    producer: str,
    event_version: int,
    actor: str,
    correlation_id: str | None,
) -> list[dict[str, Any]]:
    """The outbox envelopes for an entity's new events, stamped with the version the save will store. An
    event class moved to a later contract version says so (`event_version`); the others follow the producer's."""
    return [
        new_event(
            event_type=event.event_type,
            event_version=getattr(event, "event_version", event_version),
            producer=producer,
            aggregate_id=entity.id,
            aggregate_version=entity.version,
            org=entity.org,
            payload=encode(event.payload()),
            actor=actor,
            correlation_id=correlation_id,
        )
        for event in events
    ]


# --- MongoDB --------------------------------------------------------------------------------------------


class MongoRepository:
    """Entity storage for one service: `topic` gets the outbox events, `collections` maps each entity kind to
    its collection and `sort` gives each kind's list order (ties broken by `_id`, so pages are stable)."""

    topic: ClassVar[str]
    collections: ClassVar[dict[type, str]]
    sort: ClassVar[dict[type, list[tuple[str, int]]]]

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    def get(self, kind: type[E], entity_id: str) -> E | None:
        doc = self.db[self.collections[kind]].find_one({"_id": entity_id})
        return decode(kind, doc) if doc else None

    def list(self, kind: type[E], query: dict[str, Any], page: int, page_size: int) -> tuple[list[E], int]:
        """One page (numbered from 1) of the entities matching `query`, and how many match in all."""
        collection = self.db[self.collections[kind]]
        cursor = collection.find(query).sort([*self.sort[kind], ("_id", ASCENDING)])
        docs = cursor.skip((page - 1) * page_size).limit(page_size)
        return [decode(kind, d) for d in docs], collection.count_documents(query)

    def save(self, entity: Versioned, events: list[dict[str, Any]], audit: list[dict[str, Any]]) -> None:
        """Store the entity if nobody changed it since it was read, with its events and audit, atomically."""
        collection = self.db[self.collections[type(entity)]]
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
            self.store.append_outbox(session, self.topic, events)
            self.store.append_audit(session, audit)

        self.store.atomic(work)

    def ensure_org_indexes(self) -> None:
        """The store's own indexes, and for every collection one index per org level and one unscoped, each
        in list order: equality on the level, then the sort keys and `_id` (so an index walk yields a page in
        order and stops at its limit, with no in-memory sort), then the period, which an asked-for year or
        semester filters on the index keys before any document is fetched."""
        self.store.ensure_indexes()
        for kind, name in self.collections.items():
            collection = self.db[name]
            for keys in self._list_index_keys(kind):
                collection.create_index(keys)
            # none of them has `_id`, which every current one has
            _drop_indexes(collection, self._superseded_index_keys(kind))

    def _superseded_index_keys(self, kind: type) -> list[list[tuple[str, int]]]:
        """The list indexes of the layout before (the period between the level and the sort keys): the store
        keeps them up on every write, and no list is served by them any more."""
        by_period = [*PERIOD_KEYS, *self.sort[kind]]
        scoped = [_keys((f"org.{org_field}", ASCENDING), *by_period) for org_field in ORG_FIELDS]
        return [*scoped, _keys(*by_period)]

    def _list_index_keys(self, kind: type) -> list[list[tuple[str, int]]]:
        in_order = [*self.sort[kind], ("_id", ASCENDING), *PERIOD_KEYS]
        scoped = [_keys((f"org.{org_field}", ASCENDING), *in_order) for org_field in ORG_FIELDS]
        return [*scoped, _keys(*in_order)]


def _drop_indexes(collection: Collection, unwanted: list[list[tuple[str, int]]]) -> None:
    for name, info in collection.index_information().items():
        if [(field, int(direction)) for field, direction in info["key"]] in unwanted:
            try:
                collection.drop_index(name)
            except OperationFailure as err:
                if err.code != INDEX_NOT_FOUND:  # another instance starting at the same time dropped it
                    raise


def _keys(*keys: tuple[str, int]) -> list[tuple[str, int]]:
    """An index key list without repeated fields (e.g. a plan's sort order is its period)."""
    unique: dict[str, int] = {}
    for name, direction in keys:
        unique.setdefault(name, direction)
    return list(unique.items())
