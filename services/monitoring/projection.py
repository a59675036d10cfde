"""The monitoring projection: every producer's events folded into the views, one module per producer, and
each school's recent activity (folds/activity.py), which reads events the other folds handle too."""

from __future__ import annotations

from collections.abc import Callable

from services.monitoring.folds import achievement, activity, committee, directory, supervision, training
from services.monitoring.views import UNITS, VIEWS, Event, ViewBatch
from shared.projection import Change, Lookup
from shared.settings import TOPICS

FOLDS = (directory, supervision, training, committee, achievement, activity)
# every collection the folds write: the views and the state they keep to fold the next event (a rebuild
# from the log starts with all of them empty)
STATE_COLLECTIONS = (
    UNITS,
    VIEWS,
    activity.ACTIVITY,
    activity.PROGRAMMES,
    committee.REGISTRY,
    training.TEACHER_PERIODS,
    training.TEACHER_YEARS,
)
Handler = Callable[[ViewBatch, Event], None]


def _handlers() -> dict[str, list[Handler]]:
    """Every fold's handler of each event type, in the order of FOLDS."""
    handlers: dict[str, list[Handler]] = {}
    for fold in FOLDS:
        for event_type, handler in fold.HANDLERS.items():
            handlers.setdefault(event_type, []).append(handler)
    return handlers


HANDLERS = _handlers()


class MonitoringProjection:
    def __init__(self, topics: list[str] | None = None) -> None:
        self.topics = topics or [
            TOPICS["directory"],
            TOPICS["supervision"],
            TOPICS["training"],
            TOPICS["committee"],
            TOPICS["achievement"],
        ]

    def fold(self, events: list[Event], lookup: Lookup) -> list[Change]:
        batch = ViewBatch(events, lookup, [fold.preload for fold in FOLDS])
        for event in events:
            for handler in HANDLERS.get(event["event_type"], ()):
                handler(batch, event)
        return batch.changes
