"""A poison message lands among the training service's events. It goes to the dead-letter topic once and changes
nothing else: the views of the whole training model (programmes by host, sessions by mode and cancelled, enrolments,
waitlist, withdrawals and the seat they free, attendance per mode, completions, PD hours and the teachers reaching
the yearly target) equal tests/oracle.py's recomputation from the training service's own database.

The service runs in process (its Flask app) on the session's store; its outbox goes to a topic of the test's own,
with the relay's code."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from deploy.local.servers import ensure_topics
from services.training.app import create_app
from shared.auth import issue_token
from shared.clients import kafka_producer, mongo_client
from shared.settings import Settings
from shared.store import OUTBOX, Store
from tests.integration.test_monitoring_api import directory_events
from tests.integration.test_training import PROGRAMME, seed_directory
from tests.oracle import Directory, assert_views_match, from_training_db, live
from tests.reliability.pipeline import dead_letters, outbox_to_own_topic, project

pytestmark = pytest.mark.integration

POISON = b'{"event_type": "training.CompletionAchieved", "payload": "not an event"}'


class Training:
    def __init__(self, client: FlaskClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    def post(
        self, url: str, body: dict[str, Any], as_: tuple[str, str, str] = ("esa_officer", "esa", "13P1")
    ) -> Any:
        role, level, code = as_
        jwt = issue_token(self.settings, sub=f"{role}-{code}", role=role, scope_level=level, scope_code=code)
        response = self.client.post(f"/api/v1{url}", json=body, headers={"Authorization": f"Bearer {jwt}"})
        assert response.status_code == 201, f"POST {url}: {response.status_code} {response.get_json()}"
        return response.get_json()

    def programme(
        self, body: dict[str, Any], sessions: list[dict[str, Any]], **who: Any
    ) -> tuple[str, list[str]]:
        pid = self.post("/programmes", body, **who)["id"]
        ids = [self.post(f"/programmes/{pid}/sessions", s, **who)["session"]["id"] for s in sessions]
        self.post(f"/programmes/{pid}/publish", {}, **who)
        return pid, ids


def session(mode: str, day: str, onsite: int = 0, online: int = 0) -> dict[str, Any]:
    """A three-hour session with seats only for the modes it offers."""
    body: dict[str, Any] = {"mode": mode, "session_date": day, "start_time": "09:00", "end_time": "12:00"}
    if onsite:
        body.update(venue="ห้องประชุม", capacity_onsite=onsite)
    if online:
        body.update(meeting_link="https://meet.example.org/x", capacity_online=online)
    return body


def training_life(api: Training) -> None:
    """Two programmes (an ESA area's, a cluster's), one seat freed for the waitlist, and a teacher who reaches the
    yearly 20 PD hours with the second."""
    area, (s1, s2, s3) = api.programme(
        PROGRAMME,
        [
            session("hybrid", "2026-11-20", 1, 30),
            session("online", "2026-11-27", online=30),
            session("onsite", "2026-12-04", onsite=1),
        ],
    )
    for teacher, mode in (("T13010001-01", "onsite"), ("T13010001-02", "onsite"), ("T13010002-01", "online")):
        api.post(f"/programmes/{area}/enrolments", {"teacher_id": teacher, "mode": mode})
    api.post(f"/programmes/{area}/enrolments/T13010001-01/withdraw", {})  # T13010001-02 gets the seat
    api.post(f"/programmes/{area}/sessions/{s3}/cancel", {"reason": "ฝนตก"})
    for teacher, first in (("T13010001-02", "onsite"), ("T13010002-01", "online")):
        api.post(
            f"/programmes/{area}/attendance",
            {"session_id": s1, "teacher_id": teacher, "mode": first, "minutes": 180},
        )
        api.post(
            f"/programmes/{area}/attendance",
            {"session_id": s2, "teacher_id": teacher, "mode": "online", "minutes": 180},
        )
        api.post(f"/programmes/{area}/completions", {"teacher_id": teacher})
    coordinator = ("cluster_coordinator", "cluster", "13P1-C01")
    body = {
        **PROGRAMME,
        "title_th": "PLC ออนไลน์",
        "credited_hours": 10,
        "host_level": "cluster",
        "host_code": "13P1-C01",
        "start_date": "2026-11-23",
    }
    cluster, (s4,) = api.programme(body, [session("online", "2026-11-25", online=30)], as_=coordinator)
    api.post(
        f"/programmes/{cluster}/enrolments", {"teacher_id": "T13010002-01", "mode": "online"}, coordinator
    )
    api.post(
        f"/programmes/{cluster}/attendance",
        {"session_id": s4, "teacher_id": "T13010002-01", "mode": "online", "minutes": 180},
        coordinator,
    )
    api.post(f"/programmes/{cluster}/completions", {"teacher_id": "T13010002-01"}, coordinator)


@pytest.fixture
def training(settings: Settings) -> Iterator[tuple[Training, Store, Settings]]:
    own = settings.with_overrides(db_prefix=f"{settings.db_prefix}_t{uuid.uuid4().hex[:8]}")
    client = mongo_client(own)
    store = Store(client, own.db_name("training"))
    seed_directory(store)
    app = create_app(own)
    try:
        with app.test_client() as test_client:
            yield Training(test_client, own), store, own
    finally:
        resources = app.extensions["anp"]
        if "mongo" in resources.__dict__:
            resources.mongo.close()
        client.close()


def test_a_poison_message_is_dead_lettered_and_changes_no_training_view(
    training: tuple[Training, Store, Settings],
) -> None:
    api, store, own = training
    training_life(api)
    unique = own.db_prefix.rsplit("_", 1)[-1]
    events = store.db[OUTBOX].count_documents({})
    topic = outbox_to_own_topic(own, store, unique, "training")
    directory = f"{unique}.directory"  # the views place a teacher's school by the directory's events
    ensure_topics(own.kafka_bootstrap, [directory], partitions=1)
    producer = kafka_producer(own)
    producer.send(topic, key=b"13P1", value=POISON).get(timeout=30)
    for value in directory_events():
        producer.send(directory, key=b"13", value=value).get(timeout=30)
    producer.close()

    views = Store(store.client, own.db_name("monitoring"))
    counts = project(own, [directory, topic], f"{unique}-views", views)
    compared = assert_views_match(
        from_training_db(store.db, Directory.from_db(store.db)), views.db, "training"
    )
    dead = dead_letters(own, [directory, topic])
    print(
        f"events {events} and 1 poison message, kills 0, duplicates {counts.duplicates}, DLQ entries {dead}; "
        f"oracle: {compared} training views equal to the recomputation from the training database"
    )
    assert counts.applied == events + len(directory_events()) and counts.dead_lettered == 1 and dead == 1
    school = live(views.db, "training")[("school", "13010002", 2569, 2)]  # the life above, counted by hand
    assert (school["pd_hours"], school["teachers_meeting_target"], school["completions"]) == (22, 1, 2)
