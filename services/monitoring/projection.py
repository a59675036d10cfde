"""The monitoring projection: every producer's events folded into the views, one module per producer."""

from __future__ import annotations

from typing import Any

from services.monitoring.folds import achievement, committee, directory, supervision, training
from services.monitoring.views import Event, ViewBatch
from shared.projection import Change, Lookup
from shared.settings import TOPICS

FOLDS = (directory, supervision, training, committee, achievement)
HANDLERS = {event_type: handler for fold in FOLDS for event_type, handler in fold.HANDLERS.items()}


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
            handler: Any = HANDLERS.get(event["event_type"])
            if handler is not None:
                handler(batch, event)
        return batch.changes
