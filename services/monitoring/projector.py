"""`python -m services.monitoring.projector`: keeps the monitoring views current from the event topics."""

from __future__ import annotations

import logging
import sys
import threading

from services.monitoring import views
from services.monitoring.folds import activity
from services.monitoring.projection import MonitoringProjection
from shared.clients import kafka_consumer, kafka_producer, mongo_client
from shared.projection import DeadLetters, ProjectionWriter, ProjectorRunner
from shared.relay import run_forever
from shared.settings import Settings
from shared.store import Store

log = logging.getLogger("projector")


def build_runner(settings: Settings, topics: list[str] | None = None) -> ProjectorRunner:
    """`topics`: the producers' topics (default: the platform's); tests give their own."""
    store = Store(mongo_client(settings), settings.db_name("monitoring"))
    writer = ProjectionWriter(
        store, MonitoringProjection(topics), settings.projector_group, DeadLetters(kafka_producer(settings))
    )
    writer.ensure_indexes()
    activity.ensure_indexes(store.db)
    views.ensure_indexes(store.db)
    consumer = kafka_consumer(settings, group_id=settings.projector_group)
    return ProjectorRunner(writer, consumer, assignment=settings.projector_assignment)


def main(stop: threading.Event, topics: list[str] | None = None) -> None:
    settings = Settings.from_env()
    runner = build_runner(settings, topics)
    log.info(
        "projector started (%s assignment, group %s)", settings.projector_assignment, settings.projector_group
    )
    runner.run(
        stop,
        on_batch=lambda r: log.info(
            "applied %d, duplicates %d, dead letters %d", r.applied, r.duplicates, r.dead_lettered
        ),
    )


if __name__ == "__main__":
    # topics on the command line replace the platform's (the reliability tests use their own)
    run_forever(lambda stop: main(stop, sys.argv[1:] or None))
