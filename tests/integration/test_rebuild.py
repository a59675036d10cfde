"""Rebuilding the views from the log: after `rebuild.forget_projection`, a projector reading every topic from the
beginning makes exactly the views, units and activity the incremental run made."""

from __future__ import annotations

import uuid

import pytest

from deploy.local.servers import ensure_topics
from services.monitoring import rebuild
from services.monitoring.projection import STATE_COLLECTIONS
from shared.clients import kafka_producer, mongo_client
from shared.projection import APPLIED, POSITIONS
from shared.settings import Settings
from shared.store import Store
from tests.helpers import project_all, snapshot
from tests.integration.test_dashboard_api import supervision_events, training_events
from tests.integration.test_monitoring_api import committee_events, directory_events

pytestmark = pytest.mark.integration


def test_a_rebuild_from_the_log_equals_the_incremental_views(settings: Settings) -> None:
    unique = f"r{uuid.uuid4().hex[:8]}"
    own = settings.with_overrides(db_prefix=f"{settings.db_prefix}_{unique}", projector_group=f"{unique}-p")
    streams = {
        "directory": directory_events(),
        "supervision": supervision_events(),
        "training": training_events(),
        "committee": committee_events(),
    }
    topics = {name: f"{unique}.{name}" for name in streams}
    ensure_topics(own.kafka_bootstrap, list(topics.values()), partitions=2)
    producer = kafka_producer(own)
    for name, values in streams.items():
        for value in values:
            producer.send(topics[name], key=b"13", value=value).get(timeout=10)
    producer.close()
    store = Store(mongo_client(own), own.db_name("monitoring"))
    project_all(own, list(topics.values()), own.projector_group, store)
    incremental = snapshot(store)
    assert len(incremental["views"]) > 5 and incremental["activity"] and incremental["teacher_years"]
    # the folds write nowhere else: a rebuild that forgot a collection would fold onto stale state
    kept = {APPLIED, POSITIONS}
    assert set(store.db.list_collection_names()) - kept <= set(STATE_COLLECTIONS)

    assert rebuild.active_members(own, own.projector_group) == 0  # no projector in the group: safe to forget
    positions = store.db[POSITIONS].count_documents({})
    deleted = rebuild.forget_projection(store.db, own.projector_group)
    print(f"forgotten: {deleted}")
    assert (
        positions >= len(topics)
        and deleted[POSITIONS] == positions
        and deleted["views"] == len(incremental["views"])
    )
    assert all(store.db[name].estimated_document_count() == 0 for name in STATE_COLLECTIONS)

    project_all(own, list(topics.values()), own.projector_group, store)
    assert snapshot(store) == incremental
    store.client.close()
