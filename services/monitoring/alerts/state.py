"""Alert state in the `alerts` collection: one document per (rule, level, code), open or cleared.

A transition (absent/cleared → open, open → cleared) writes the document and its event (monitoring.AlertRaised /
AlertCleared) to the outbox in one transaction, after re-reading the document inside it: two evaluators racing
on the same alert make one transition and one event. An unchanged condition writes nothing; a new value of an
open alert (one more day without a visit) refreshes the document without an event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from services.monitoring import queries
from services.monitoring.alerts.conditions import Context, Verdict, judge, read_options
from services.monitoring.alerts.rules import Rules
from services.monitoring.views import ORG_FIELD
from shared.calendar import period_of
from shared.envelope import Org, new_event, utcnow
from shared.settings import TOPICS
from shared.store import Store

ALERTS = "alerts"
OPEN, CLEARED = "open", "cleared"
STATUSES = (OPEN, CLEARED)
TOPIC = TOPICS["monitoring"]
PRODUCER = "monitoring"
SYSTEM_ACTOR = "system:monitoring-alerts"
CLEARED_TH = "ยกเลิกการแจ้งเตือน “{rule_th}” ของ {name_th} แล้ว เนื่องจากไม่เข้าเงื่อนไขอีกต่อไป"
CLEARED_EN = "Alert “{rule_en}” for {name_en} cleared: the condition no longer holds"


@dataclass
class Tally:
    raised: int = 0
    cleared: int = 0
    refreshed: int = 0
    units: int = 0

    def add(self, other: Tally) -> None:
        self.raised += other.raised
        self.cleared += other.cleared
        self.refreshed += other.refreshed
        self.units += other.units


def evaluate_units(
    store: Store, rules: Rules, units: list[dict[str, Any]], today: date, min_tested: int, inactive_days: int
) -> Tally:
    """Judge unit documents (from `units`) at the period of `today` and record every transition. The
    figures are read as the platform (no small-cell suppression): an alert only says what its rule allows."""
    if not units:
        return Tally()
    period = period_of(today)
    options = read_options(rules, today, min_tested, inactive_days)
    ctx = Context(period, today, min_tested)
    figures = queries.figures_of(store.db, units, period, options, viewer=None)
    tally = reconcile(store, [v for f in figures for v in judge(rules, f, ctx)])
    tally.units = len(units)
    return tally


def reconcile(store: Store, verdicts: list[Verdict], now: datetime | None = None) -> Tally:
    """Bring the stored alerts in line with the verdicts: raise, clear, refresh or leave alone."""
    now = now or utcnow()
    existing = {d["_id"]: d for d in store.db[ALERTS].find({"_id": {"$in": [v.key for v in verdicts]}})}
    tally = Tally()
    for verdict in verdicts:
        doc = existing.get(verdict.key)
        is_open = doc is not None and doc.get("status") == OPEN
        if verdict.firing and not is_open:
            tally.raised += raise_alert(store, verdict, now)
        elif not verdict.firing and is_open:
            tally.cleared += clear_alert(store, verdict, now)
        elif verdict.firing and doc is not None and _stale(doc, verdict):
            tally.refreshed += refresh_alert(store, verdict, now)
    return tally


def _content(verdict: Verdict) -> dict[str, Any]:
    """What an open alert says: refreshed on every change without an event."""
    unit = verdict.unit
    return {
        "value": verdict.value,
        "threshold": verdict.threshold,
        "message_th": verdict.message_th,
        "message_en": verdict.message_en,
        "evidence": verdict.evidence,
        "details": verdict.details,
        "name_th": unit.get("name_th"),
        "name_en": unit.get("name_en"),
        "org": unit.get("org") or {},
    }


def _stale(doc: dict[str, Any], verdict: Verdict) -> bool:
    return any(doc.get(name) != value for name, value in _content(verdict).items())


def raise_alert(store: Store, verdict: Verdict, now: datetime) -> bool:
    """Open the alert with its AlertRaised event, unless it is open already (then nothing is written)."""
    collection = store.db[ALERTS]

    def work(session: ClientSession) -> bool:
        doc = collection.find_one({"_id": verdict.key}, session=session)
        if doc is not None and doc.get("status") == OPEN:
            return False  # raised by a concurrent evaluator
        version = (doc or {}).get("version", 0) + 1
        new = {
            **_identity(verdict),
            **_content(verdict),
            "status": OPEN,
            "raised_at": now,
            "cleared_at": None,
            "changed_at": now,
            "updated_at": now,
            "version": version,
        }
        if doc is None:
            collection.insert_one({"_id": verdict.key, **new}, session=session)
        elif not collection.update_one(
            {"_id": verdict.key, "version": doc.get("version")}, {"$set": new}, session=session
        ).matched_count:
            raise _Raced
        store.append_outbox(session, TOPIC, [_event("monitoring.AlertRaised", new, now)])
        return True

    return _atomic(store, work)


def clear_alert(store: Store, verdict: Verdict, now: datetime) -> bool:
    """Clear an open alert with its AlertCleared event; the messages stay those it was raised with."""
    collection = store.db[ALERTS]

    def work(session: ClientSession) -> bool:
        doc = collection.find_one({"_id": verdict.key}, session=session)
        if doc is None or doc.get("status") != OPEN:
            return False  # cleared by a concurrent evaluator
        change = {
            "status": CLEARED,
            "value": verdict.value,
            "cleared_at": now,
            "changed_at": now,
            "updated_at": now,
            "version": doc.get("version", 0) + 1,
        }
        found = collection.update_one(
            {"_id": verdict.key, "version": doc.get("version")}, {"$set": change}, session=session
        )
        if not found.matched_count:
            raise _Raced
        event = _event("monitoring.AlertCleared", {**doc, **change}, now)
        store.append_outbox(session, TOPIC, [event])
        return True

    return _atomic(store, work)


def refresh_alert(store: Store, verdict: Verdict, now: datetime) -> bool:
    """A new value or message of an open alert: no transition, so no event."""
    found = store.db[ALERTS].update_one(
        {"_id": verdict.key, "status": OPEN}, {"$set": {**_content(verdict), "updated_at": now}}
    )
    return bool(found.modified_count)


class _Raced(Exception):
    """The alert changed between the read and the write of one transaction."""


def _atomic(store: Store, work: Callable[[ClientSession], bool], attempts: int = 3) -> bool:
    """Run `work` in a transaction; if another evaluator got there first, look again."""
    for _ in range(attempts):
        try:
            return store.atomic(work)
        except (_Raced, DuplicateKeyError):
            continue
    return False


def _identity(verdict: Verdict) -> dict[str, Any]:
    rule = verdict.rule
    return {
        "alert_id": verdict.key,
        "rule": rule.code,
        "rule_name_th": rule.name_th,
        "rule_name_en": rule.name_en,
        "level": verdict.unit["level"],
        "code": verdict.unit["code"],
    }


def _event(event_type: str, doc: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The envelope of a transition; its org is the unit's org path, its version the alert's."""
    payload = {
        name: doc.get(name)
        for name in ("alert_id", "rule", "level", "code", "value", "threshold", "evidence", "raised_at")
    }
    payload.update(name_th=doc.get("name_th") or "", name_en=doc.get("name_en") or "")
    payload["details"] = doc.get("details") or []
    if event_type == "monitoring.AlertCleared":
        names = {
            "rule_th": doc.get("rule_name_th"),
            "rule_en": doc.get("rule_name_en"),
            "name_th": payload["name_th"] or doc["code"],
            "name_en": payload["name_en"] or doc["code"],
        }
        payload.update(
            cleared_at=doc["cleared_at"],
            message_th=CLEARED_TH.format(**names),
            message_en=CLEARED_EN.format(**names),
        )
    else:
        payload.update(message_th=doc["message_th"], message_en=doc["message_en"])
    return new_event(
        event_type=event_type,
        event_version=1,
        producer=PRODUCER,
        aggregate_id=doc["alert_id"],
        aggregate_version=doc["version"],
        org=Org.from_dict(doc.get("org") or {}),
        payload=payload,
        actor=SYSTEM_ACTOR,
        occurred_at=now,
    )


# --- reading ------------------------------------------------------------------------------------------------


def below(level: str, code: str) -> dict[str, Any]:
    """A filter for the alerts of a unit and of every unit below it (by the org path stored on each)."""
    if level == "national":
        return {}
    return {f"org.{ORG_FIELD[level]}": code}


def list_query(level: str, code: str, status: str = OPEN, rule: str | None = None) -> dict[str, Any]:
    query = below(level, code)
    if status != "all":
        query["status"] = status
    if rule:
        query["rule"] = rule
    return query


NEWEST_FIRST = [("changed_at", DESCENDING), ("_id", ASCENDING)]


def summary(db: Database, level: str, code: str) -> tuple[int, datetime | None]:
    """(open alerts, latest change) of a unit and every unit below it, in one aggregate over the org index."""
    pipeline: list[dict[str, Any]] = [
        {"$match": below(level, code)},
        {
            "$group": {
                "_id": None,
                "open": {"$sum": {"$cond": [{"$eq": ["$status", OPEN]}, 1, 0]}},
                "changed_at": {"$max": "$changed_at"},
            }
        },
    ]
    found = next(db[ALERTS].aggregate(pipeline), None)
    return (found["open"], found["changed_at"]) if found else (0, None)


def ensure_indexes(db: Database) -> None:
    """Alerts listed per org unit and status, newest first; changed views and units found by their stamp."""
    for name in ORG_FIELD.values():
        db[ALERTS].create_index([(f"org.{name}", ASCENDING), ("status", ASCENDING), *NEWEST_FIRST])
    db[ALERTS].create_index([("status", ASCENDING), *NEWEST_FIRST])
    for collection in ("views", "units"):
        db[collection].create_index([("projected_at", ASCENDING)])
