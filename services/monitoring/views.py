"""The shape of the monitoring read model, and the state one batch's fold works with.

Two main collections:
- `units`: the org tree (school → cluster → ESA area → province → national) from directory events, with
  each unit's names, parent and number of schools, and its committees (period-independent: `committees.total`
  and `committees.last_met.<date>` counts, see folds/committee.py);
- `views`: one document per (level, unit, period) holding counters per network model; means and shares
  are derived on read, so every change is a commutative increment that folds and merges cleanly.
Helper collections hold per-teacher state that decides first-time transitions (distinct teachers).

Shards: events are keyed by ESA area, so a school's, cluster's or area's documents are changed from one
partition only, but a province's and the nation's from several. Their counters are kept per partition: the
document `<key>` for partition 0 and `<key>#<shard>` (with `shard_of: <key>`) for the others. Projector
instances that own different partitions then never write the same document (inside their transactions they
would conflict and retry, and two instances were slower than one). Readers add the shards up
(`find_merged`): counters are numbers and add; the other fields a fold moves are dates and take the latest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.database import Database

from shared.projection import PARTITION, Change, Lookup

UNITS = "units"
VIEWS = "views"
NATIONAL = "TH"
LEVELS = ("school", "cluster", "esa", "province", "national")
ORG_FIELD = {"school": "school_code", "cluster": "cluster_id", "esa": "esa_code", "province": "province_code"}
# the org fields a level's view keeps: its own and those above it
ANCESTOR_FIELDS = {
    level: tuple(f for lvl, f in ORG_FIELD.items() if LEVELS.index(lvl) >= LEVELS.index(level))
    for level in LEVELS
}

Event = dict[str, Any]
Preload = Callable[[list[Event]], dict[str, Iterable[str]]]


SHARDED_LEVELS = ("province", "national")
SHARDS = 8  # partitions p and p + 8 share a shard: still correct, their instances only contend
SHARD_OF = "shard_of"
# fields every shard of a document repeats: taken from one of them, never added up
SHARED_FIELDS = frozenset({"_id", SHARD_OF, "level", "code", "period", "org", "name_th", "name_en", "parent"})


def ensure_indexes(db: Database) -> None:
    """A unit's children in code order (every page's drill-down): without it each read scans all units.
    The shards of a document, by the key they add to (sparse: only shards carry it)."""
    db[UNITS].create_index([("parent", ASCENDING), ("code", ASCENDING)])
    for collection in (UNITS, VIEWS):
        db[collection].create_index(SHARD_OF, sparse=True)


def shard_key(key: str, level: str, event: Event) -> tuple[str, dict[str, str]]:
    """The document that `event`'s change to `key` (of `level`) goes to, and the fields that mark a shard."""
    shard = event.get(PARTITION, 0) % SHARDS if level in SHARDED_LEVELS else 0
    return (f"{key}#{shard}", {SHARD_OF: key}) if shard else (key, {})


def find_merged(
    collection: Collection,
    keys: list[str],
    query: dict[str, Any] | None = None,
    fields: dict[str, int] | None = None,
) -> dict[str, dict[str, Any]]:
    """The documents of `keys` (also matching `query`), each with its shards added in, by key. Two reads;
    the second only when a key is of a sharded level."""
    found = _by_key({}, collection.find({"_id": {"$in": keys}, **(query or {})}, fields))
    return add_shards(collection, found, keys, query, fields)


def add_shards(
    collection: Collection,
    found: dict[str, dict[str, Any]],
    keys: list[str],
    query: dict[str, Any] | None = None,
    fields: dict[str, int] | None = None,
) -> dict[str, dict[str, Any]]:
    """`found` (documents by key) with the shards of those `keys` that are of a sharded level added in."""
    sharded = [key for key in keys if key.partition(":")[0] in SHARDED_LEVELS]
    if not sharded:
        return found
    shard_fields = {**fields, SHARD_OF: 1} if fields and 1 in fields.values() else fields
    return _by_key(found, collection.find({SHARD_OF: {"$in": sharded}, **(query or {})}, shard_fields))


def merged_documents(
    collection: Collection, fields: dict[str, int] | None = None
) -> dict[str, dict[str, Any]]:
    """Every document of `collection` by key, in key order, shards added in: what two projections of the same
    events agree on. (Which shard a first-time transition lands in follows the order across partitions, which
    Kafka does not fix; their sum does not.) Collections without shards come back as they are."""
    return _by_key(
        {}, collection.find({}, fields).sort("_id", 1)
    )  # a key's own document sorts before its shards


def _by_key(found: dict[str, dict[str, Any]], docs: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """`docs` gathered into `found` by the key they count for: a shard's `shard_of`, any other's `_id`."""
    for doc in docs:
        key = doc.pop(SHARD_OF, doc["_id"])
        if key in found:
            add_shard(found[key], doc)
        else:
            found[key] = {**doc, "_id": key}
    return found


def add_shard(into: dict[str, Any], shard: dict[str, Any], top: bool = True) -> None:
    """Fold one shard's fields into `into`: numbers add, nested counters add, other values take the latest."""
    for name, value in shard.items():
        if top and name in SHARED_FIELDS:
            continue
        if name not in into:
            into[name] = value
        elif isinstance(value, dict):
            add_shard(into[name], value, top=False)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            into[name] += value
        else:
            into[name] = max(into[name], value)


def unit_key(level: str, code: str) -> str:
    return f"{level}:{code}"


def view_key(level: str, code: str, period: dict[str, int]) -> str:
    return f"{level}:{code}:{period['academic_year']}-{period['semester']}"


def levels_of(org: dict[str, Any]) -> list[tuple[str, str]]:
    """(level, code) for every unit on an org path, from the school up to the nation."""
    pairs = [(level, org.get(field)) for level, field in ORG_FIELD.items()]
    return [(level, code) for level, code in pairs if code] + [("national", NATIONAL)]


class ViewBatch:
    """Fold state for one batch: the changes so far, the documents the batch needs to read (fetched once,
    in bulk), and what earlier events of the same batch already changed in them."""

    def __init__(self, events: list[Event], lookup: Lookup, preloads: Iterable[Preload]) -> None:
        self.changes: list[Change] = []
        wanted: dict[str, set[str]] = defaultdict(set)
        for preload in preloads:
            for collection, keys in preload(events).items():
                wanted[collection].update(keys)
        self.docs = {collection: lookup(collection, keys) for collection, keys in wanted.items() if keys}

    def doc(self, collection: str, key: str) -> dict[str, Any] | None:
        return self.docs.get(collection, {}).get(key)

    def remember(self, collection: str, key: str, doc: dict[str, Any]) -> None:
        """Record a document's new state for later events of this batch."""
        self.docs.setdefault(collection, {})[key] = doc

    def change(self, collection: str, key: str, **ops: Any) -> None:
        self.changes.append(Change(collection, key, **ops))

    def unit(self, level: str, code: str, **fields: Any) -> None:
        self.change(UNITS, unit_key(level, code), set={"level": level, "code": code, **fields})

    def unit_counters(self, level: str, code: str, event: Event, inc: dict[str, float]) -> None:
        """Add to a unit's period-independent counters, in the unit's shard for `event`'s partition."""
        key, marks = shard_key(unit_key(level, code), level, event)
        if marks:  # a shard holds counters only, so that no query for units ever finds it
            self.change(UNITS, key, inc=inc, set=marks)
        else:
            self.change(UNITS, key, inc=inc, on_insert={"level": level, "code": code})

    def school_org(self, school_code: str) -> dict[str, Any]:
        """A school's org path from the directory (events stamped with a host's org carry only its code)."""
        doc = self.doc(UNITS, unit_key("school", school_code))
        return doc.get("org", {}) if doc else {"school_code": school_code}

    def views(self, section: str, event: Event, org: dict[str, Any], **change: Any) -> None:
        """Apply the same change to `section` of the view of every level on `org`, stamping freshness."""
        inc, maxes = _section_ops(section, event, change)
        for level, code in levels_of(org):
            self._view(level, code, event, org, inc, maxes)

    def view(
        self, section: str, level: str, code: str, event: Event, org: dict[str, Any], **change: Any
    ) -> None:
        inc, maxes = _section_ops(section, event, change)
        self._view(level, code, event, org, inc, maxes)

    def _view(
        self,
        level: str,
        code: str,
        event: Event,
        org: dict[str, Any],
        inc: dict[str, float],
        maxes: dict[str, Any],
    ) -> None:
        # inc and max are shared by the levels of one event: merging copies them, nothing mutates them
        period = event["payload"]["period"]
        ancestors = {f: org.get(f) for f in ANCESTOR_FIELDS[level]}
        key, marks = shard_key(view_key(level, code, period), level, event)
        self.changes.append(
            Change(
                VIEWS,
                key,
                inc=inc,
                max=maxes,
                set={"level": level, "code": code, "period": period, "org": ancestors, **marks},
            )
        )


def _section_ops(
    section: str, event: Event, change: dict[str, Any]
) -> tuple[dict[str, float], dict[str, Any]]:
    """A handler's increments and maxima under `section`, once per event whatever the number of levels."""
    prefix = section + "."
    inc = {prefix + k: v for k, v in change.get("inc", {}).items()}
    maxes = {"as_of": event["occurred_at"], **{prefix + k: v for k, v in change.get("max", {}).items()}}
    return inc, maxes
