"""`python -m services.monitoring.relay`: publish the monitoring outbox (alert events) to `monitoring.events`,
and judge the alert rules between batches.

Two jobs keep the alerts live:
- every `ANP_ALERT_INTERVAL_S`, the units whose `views` or `units` documents the projector stamped
  (`projected_at`) since the last look, less an overlap for batches committed a moment after their stamp;
- once a day, and when the process starts, every unit of the rules' levels, a chunk per relay turn, because
  time alone changes some conditions (a school not visited for N days) with no event at all.
Both evaluate at the current semester and record transitions with their events in one transaction each, so
several instances may run: a transition happens, and is announced, once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pymongo.errors import PyMongoError

from services.monitoring import alerts
from services.monitoring.views import UNITS, VIEWS, unit_key
from shared.calendar import today as calendar_today
from shared.clients import kafka_producer, mongo_client
from shared.envelope import utcnow
from shared.relay import OutboxRelay, run_forever
from shared.settings import Settings
from shared.store import Store

log = logging.getLogger(__name__)

# the projector stamps documents before its transaction commits: look back a little past the last run
OVERLAP = timedelta(seconds=5)
SWEEP_EVERY_S = 24 * 3600.0
CHUNK = 300


@dataclass
class UnitEvaluator:
    """Judges unit documents against the rules and records the transitions."""

    store: Store
    rules: alerts.Rules
    settings: Settings
    today: Callable[[], date] = calendar_today
    levels: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.levels = sorted({level for rule in self.rules for level in rule.levels})

    def units(self, keys: list[str]) -> list[dict[str, Any]]:
        return list(self.store.db[UNITS].find({"_id": {"$in": keys}}).sort("_id", 1))

    def evaluate(self, units: list[dict[str, Any]]) -> alerts.Tally:
        """One chunk; a unit whose figures break a rule's logic is logged and skipped, never stops the rest
        (store errors do propagate: the relay waits and the next turn retries)."""
        try:
            return self._evaluate(units)
        except PyMongoError:
            raise
        except Exception:
            log.exception("alert evaluation failed for a chunk of %d units; retrying one by one", len(units))
        tally = alerts.Tally()
        for unit in units:
            try:
                tally.add(self._evaluate([unit]))
            except PyMongoError:
                raise
            except Exception:
                log.exception("alert evaluation failed for %s", unit.get("_id"))
        return tally

    def _evaluate(self, units: list[dict[str, Any]]) -> alerts.Tally:
        s = self.settings
        return alerts.evaluate_units(
            self.store, self.rules, units, self.today(), s.achievement_min_tested, s.committee_inactive_days
        )


class ChangedUnits:
    """A relay job: at most once per `every_s`, judge the units whose views or unit documents changed."""

    def __init__(
        self,
        evaluator: UnitEvaluator,
        every_s: float,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.evaluator = evaluator
        self.every_s = every_s
        self.clock = clock
        self.now = now
        self.since = now()  # what changed before the process started, the start sweep covers
        self.last: float | None = None

    def __call__(self) -> None:
        if self.last is not None and self.clock() - self.last < self.every_s:
            return
        self.run_once()
        self.last = self.clock()

    def run_once(self) -> alerts.Tally:
        started = self.now()
        keys = changed_units(self.evaluator.store.db, self.since - OVERLAP, self.evaluator.levels)
        tally = alerts.Tally()
        for i in range(0, len(keys), CHUNK):
            tally.add(self.evaluator.evaluate(self.evaluator.units(keys[i : i + CHUNK])))
        self.since = started  # only after success: a failed run is retried from the same point
        if tally.raised or tally.cleared:
            log.info(
                "alerts: %d units changed, %d raised, %d cleared", tally.units, tally.raised, tally.cleared
            )
        return tally


def changed_units(db: Any, since: datetime, levels: list[str]) -> list[str]:
    """The unit keys of the given levels whose view (any period) or unit document was projected since."""
    keys: set[str] = set()
    query = {"projected_at": {"$gte": since}, "level": {"$in": levels}}
    for collection in (VIEWS, UNITS):
        for doc in db[collection].find(query, {"level": 1, "code": 1}):
            keys.add(unit_key(doc["level"], doc["code"]))
    return sorted(keys)


class FullSweep:
    """A relay job: once per `every_s` (first at start), every unit of the rules' levels, one chunk per call
    so the relay keeps publishing in between; a pass resumes after its last unit if a chunk fails."""

    def __init__(
        self,
        evaluator: UnitEvaluator,
        every_s: float = SWEEP_EVERY_S,
        chunk: int = CHUNK,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.evaluator = evaluator
        self.every_s = every_s
        self.chunk = chunk
        self.clock = clock
        self.cursor: str | None = None  # the last unit key judged in the pass under way; None: no pass
        self.due = clock()
        self.started = 0.0
        self.tally = alerts.Tally()
        self.total = 0

    def __call__(self) -> None:
        if self.cursor is None:
            if self.clock() < self.due:
                return
            self._begin()
        self.step()

    def _begin(self) -> None:
        self.cursor, self.started, self.tally = "", self.clock(), alerts.Tally()
        self.total = self.evaluator.store.db[UNITS].count_documents(self._query(""))
        log.info("alert sweep: judging %d units", self.total)

    def _query(self, after: str) -> dict[str, Any]:
        return {"level": {"$in": self.evaluator.levels}, "_id": {"$gt": after}}

    def step(self) -> None:
        collection = self.evaluator.store.db[UNITS]
        units = list(collection.find(self._query(self.cursor or "")).sort("_id", 1).limit(self.chunk))
        if not units:
            self._end()
            return
        self.tally.add(self.evaluator.evaluate(units))
        self.cursor = units[-1]["_id"]
        t = self.tally
        log.info("alert sweep: %d/%d units, %d raised, %d cleared", t.units, self.total, t.raised, t.cleared)

    def _end(self) -> None:
        t = self.tally
        log.info(
            "alert sweep done: %d units in %.1f s, %d raised, %d cleared, %d refreshed",
            t.units,
            self.clock() - self.started,
            t.raised,
            t.cleared,
            t.refreshed,
        )
        self.cursor, self.due = None, self.started + self.every_s

    def run_all(self) -> alerts.Tally:
        """A whole pass now (for tests and one-off runs)."""
        self._begin()
        while self.cursor is not None:
            self.step()
        return self.tally


def serve(
    settings: Settings,
    stop: threading.Event,
    today: Callable[[], date] = calendar_today,
    sweep_every_s: float = SWEEP_EVERY_S,
) -> None:
    """Relay and evaluate until `stop` is set."""
    rules = alerts.rules(settings)  # a bad overrides file stops the process here, before anything runs
    store = Store(mongo_client(settings), settings.db_name("monitoring"))
    store.ensure_indexes()
    alerts.ensure_indexes(store.db)
    producer = kafka_producer(settings)
    try:
        evaluator = UnitEvaluator(store, rules, settings, today)
        jobs = [ChangedUnits(evaluator, settings.alert_interval_s), FullSweep(evaluator, sweep_every_s)]
        relay = OutboxRelay(store, producer, batch_size=settings.relay_batch_size)
        relay.run(stop, idle_wait_s=settings.relay_poll_interval_s, jobs=jobs)
    finally:
        producer.close(timeout=5)
        store.client.close()


def main() -> None:
    settings = Settings.from_env()
    run_forever(lambda stop: serve(settings, stop))


if __name__ == "__main__":
    main()
