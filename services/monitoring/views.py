"""The shape of the monitoring read model, and the state one batch's fold works with.

Two main collections:
- `units`: the org tree (school → cluster → ESA area → province → national) from directory events, with
  each unit's names, parent and number of schools, and its committees (period-independent: `committees.total`
  and `committees.last_met.<date>` counts, see folds/committee.py);
- `views`: one document per (level, unit, period) holding counters per network model; means and shares
  are derived on read, so every change is a commutative increment that folds and merges cleanly.
Helper collections hold per-teacher state that decides first-time transitions (distinct teachers).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from pymongo import ASCENDING
from pymongo.database import Database

from shared.projection import Change, Lookup

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


def ensure_indexes(db: Database) -> None:
    """A unit's children in code order (every page's drill-down): without it each read scans all units."""
    db[UNITS].create_index([("parent", ASCENDING), ("code", ASCENDING)])


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

    def school_org(self, school_code: str) -> dict[str, Any]:
        """A school's org path from the directory (events stamped with a host's org carry only its code)."""
        doc = self.doc(UNITS, unit_key("school", school_code))
        return doc.get("org", {}) if doc else {"school_code": school_code}

    def views(self, section: str, event: Event, org: dict[str, Any], **change: Any) -> None:
        """Apply the same change to `section` of the view of every level on `org`, stamping freshness."""
        inc, maxes = _section_ops(section, event, change)
        period = event["payload"]["period"]
        for level, code in levels_of(org):
            self._view(level, code, period, org, inc, maxes)

    def view(
        self, section: str, level: str, code: str, event: Event, org: dict[str, Any], **change: Any
    ) -> None:
        inc, maxes = _section_ops(section, event, change)
        self._view(level, code, event["payload"]["period"], org, inc, maxes)

    def _view(
        self,
        level: str,
        code: str,
        period: dict[str, int],
        org: dict[str, Any],
        inc: dict[str, float],
        maxes: dict[str, Any],
    ) -> None:
        # inc and max are shared by the levels of one event: merging copies them, nothing mutates them
        ancestors = {f: org.get(f) for f in ANCESTOR_FIELDS[level]}
        self.changes.append(
            Change(
                VIEWS,
                view_key(level, code, period),
                inc=inc,
                max=maxes,
                set={"level": level, "code": code, "period": period, "org": ancestors},
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
