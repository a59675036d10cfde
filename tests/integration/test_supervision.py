"""The supervision service against the real local document store and broker: one write = entity + outbox +
audit in one transaction, nothing stored on refusal, idempotent replays, versions, the relay and the sweep."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from kafka import TopicPartition

from deploy.local.servers import ensure_topics, wait_until
from services.supervision import handlers, relay
from services.supervision.app import create_app
from services.supervision.domain import Visit
from services.supervision.repository import TOPIC, MongoRepository
from shared.auth import issue_token
from shared.catalog import catalog
from shared.clients import kafka_consumer, mongo_client
from shared.errors import Conflict
from shared.settings import Settings
from shared.store import AUDIT, OUTBOX, Store
from tests.helpers import DENIALS, WRITES

pytestmark = pytest.mark.integration

ORG = {"school_code": "13010001", "cluster_id": "13P1-C01", "esa_code": "13P1", "province_code": "13"}
OTHER_ORG = {"school_code": "13010002", "cluster_id": "13P1-C01", "esa_code": "13P1", "province_code": "13"}
VISIT = {"school_code": "13010001", "scheduled_date": "2026-11-20", "mode": "onsite"}
COMPLETION = {
    "visit_date": "2026-11-24",
    "rubric_scores": {"learning_design": 3, "assessment": 4},
    "teachers_observed": ["T13010001-01"],
}


@dataclass
class Service:
    settings: Settings
    client: FlaskClient
    store: Store

    def auth(self, role: str = "supervisor", level: str = "esa", code: str | None = "13P1") -> dict[str, str]:
        jwt = issue_token(self.settings, sub=f"{role}-{code}", role=role, scope_level=level, scope_code=code)
        return {"Authorization": f"Bearer {jwt}"}

    def count(self, collection: str, query: dict[str, Any] | None = None) -> int:
        return self.store.db[collection].count_documents(query or {})

    def outbox_types(self, aggregate_id: str) -> list[str]:
        rows = (
            self.store.db[OUTBOX]
            .find({"event.aggregate_id": aggregate_id})
            .sort([("created_at", 1), ("seq", 1)])
        )
        return [row["event"]["event_type"] for row in rows]

    def schedule(self, headers: dict[str, str] | None = None, **changes: Any) -> Any:
        return self.client.post("/api/v1/visits", json={**VISIT, **changes}, headers=headers or self.auth())

    def complete(self, visit_id: str, headers: dict[str, str] | None = None, **changes: Any) -> Any:
        url = f"/api/v1/visits/{visit_id}/complete"
        return self.client.post(url, json={**COMPLETION, **changes}, headers=headers or self.auth())


def seed_directory(store: Store) -> None:
    """The local copy of master data, in the shape the directory sync keeps it."""
    db = store.db
    db["clusters"].insert_one(
        {
            "_id": "13P1-C01",
            "cluster_id": "13P1-C01",
            "name_th": "กลุ่มเครือข่ายที่ 1",
            "esa_code": "13P1",
            "province_code": "13",
            "org": {**ORG, "school_code": None},
        }
    )
    for org in (ORG, OTHER_ORG):
        db["schools"].insert_one({"_id": org["school_code"], **org, "name_th": "โรงเรียน", "org": org})
    for teacher, org in (("T13010001-01", ORG), ("T13010002-01", OTHER_ORG)):
        db["teachers"].insert_one(
            {"_id": teacher, "teacher_id": teacher, "school_code": org["school_code"], "org": org}
        )


@pytest.fixture
def service(settings: Settings, unique: str) -> Iterator[Service]:
    own = settings.with_overrides(db_prefix=f"{settings.db_prefix}_{unique}")
    client = mongo_client(own)
    store = Store(client, own.db_name("supervision"))
    seed_directory(store)
    app = create_app(own)
    try:
        with app.test_client() as test_client:
            yield Service(own, test_client, store)
    finally:
        resources = app.extensions["anp"]
        if "mongo" in resources.__dict__:  # made lazily, only if a request needed it
            resources.mongo.close()
        client.close()


def test_completing_a_visit_writes_visit_events_and_audit(service: Service) -> None:
    visit = service.schedule().get_json()
    response = service.complete(visit["id"])
    assert response.status_code == 201, response.get_json()
    stored = service.store.db["visits"].find_one({"_id": visit["id"]})
    assert (stored["status"], stored["version"], stored["org"]) == ("completed", 2, ORG)
    assert stored["period"] == {"academic_year": 2569, "semester": 2}
    rows = list(service.store.db[OUTBOX].find({"event.aggregate_id": visit["id"]}).sort("created_at", 1))
    assert [r["event"]["event_type"] for r in rows] == [
        "supervision.VisitScheduled",
        "supervision.VisitCompleted",
    ]
    completed = rows[1]
    assert (completed["topic"], completed["key"], completed["published_at"]) == (TOPIC, "13P1", None)
    event = completed["event"]
    assert (event["producer"], event["event_version"], event["aggregate_version"]) == ("supervision", 1, 2)
    assert event["org"] == ORG
    assert event["payload"]["rubric_scores"] == {"learning_design": 3, "assessment": 4}
    assert event["payload"]["period"] == {"academic_year": 2569, "semester": 2}
    audit = list(service.store.db[AUDIT].find({"target": visit["id"]}).sort("at", 1))
    assert [(a["action"], a["actor"]) for a in audit] == [
        ("visit.schedule", "supervisor-13P1"),
        ("visit.complete", "supervisor-13P1"),
    ]
    assert (audit[1]["before"]["status"], audit[1]["after"]["status"]) == ("scheduled", "completed")


class FailingAuditStore(Store):
    def append_audit(self, session: Any, entries: list[dict[str, Any]]) -> None:
        raise RuntimeError("audit write failed")


def test_a_failure_inside_the_unit_of_work_stores_nothing(service: Service) -> None:
    visit_id = service.schedule().get_json()["id"]
    broken = MongoRepository(FailingAuditStore(service.store.client, service.store.db.name))
    visit = broken.get(Visit, visit_id)
    events = visit.cancel("")
    with pytest.raises(RuntimeError):
        handlers.PRODUCER.save(broken, visit, events, handlers.system_audit("visit.cancel", visit_id))
    stored = service.store.db["visits"].find_one({"_id": visit_id})
    assert (stored["status"], stored["version"]) == ("scheduled", 1)
    assert service.outbox_types(visit_id) == ["supervision.VisitScheduled"]


def test_a_refused_write_stores_nothing(service: Service) -> None:
    other_area = service.auth(code="50P1")
    assert service.schedule(headers=other_area).status_code == 403
    assert service.schedule(headers=service.auth("teacher", "school", "13010001")).status_code == 403
    assert (service.count("visits"), service.count(OUTBOX), service.count(AUDIT, WRITES)) == (0, 0, 0)
    assert service.count(AUDIT, DENIALS) == 2  # each refusal is audited, as a denial

    visit = service.schedule().get_json()
    assert service.complete(visit["id"], headers=other_area).status_code == 403
    assert service.store.db["visits"].find_one({"_id": visit["id"]})["version"] == 1
    assert (service.count(OUTBOX), service.count(AUDIT, WRITES)) == (1, 1)


@pytest.mark.parametrize(
    "change",
    [
        {"teachers_observed": ["T13010002-01"]},  # teaches at another school
        {"teachers_observed": ["T-unknown"]},
        {"rubric_scores": {"learning_design": 5}},
        {"rubric_scores": {"cooking": 3}},
        {"school_code": "13010001"},  # not a field of a completion
    ],
)
def test_an_invalid_write_stores_nothing(service: Service, change: dict[str, Any]) -> None:
    assert service.schedule(school_code="99999999").status_code == 422  # unknown school
    assert service.schedule(school_code={"$gt": ""}).status_code == 422
    assert (service.count("visits"), service.count(OUTBOX), service.count(AUDIT, WRITES)) == (0, 0, 0)
    visit = service.schedule().get_json()
    assert service.complete(visit["id"], **change).status_code == 422
    assert service.store.db["visits"].find_one({"_id": visit["id"]})["status"] == "scheduled"
    assert (service.count(OUTBOX), service.count(AUDIT, WRITES)) == (1, 1)


def test_an_idempotency_key_replays_the_first_answer(service: Service) -> None:
    headers = {**service.auth(), "Idempotency-Key": "schedule-13010001-2026-11-20"}
    first = service.schedule(headers=headers)
    second = service.schedule(headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.headers.get("Idempotent-Replay") == "true"
    assert (service.count("visits"), service.count(OUTBOX), service.count(AUDIT, WRITES)) == (1, 1, 1)
    # the same key for another request is refused rather than silently replayed
    assert service.schedule(headers=headers, mode="online").status_code == 422
    assert service.count("visits") == 1


def test_a_stale_version_conflicts(service: Service) -> None:
    visit = service.schedule().get_json()
    stale = service.complete(visit["id"], headers={**service.auth(), "If-Match": "2"})
    assert stale.status_code == 409
    assert service.count(OUTBOX) == 1
    assert service.complete(visit["id"], headers={**service.auth(), "If-Match": "1"}).status_code == 201
    assert service.complete(visit["id"]).status_code == 409  # completed is final

    # two writers holding the same version: the store lets only the first one through
    again = service.schedule().get_json()
    repo = MongoRepository(service.store)
    mine, theirs = repo.get(Visit, again["id"]), repo.get(Visit, again["id"])
    theirs.cancel("")
    repo.save(theirs, [], [])
    mine.cancel("reason of the slower writer")
    with pytest.raises(Conflict):
        repo.save(mine, [], [])
    assert service.store.db["visits"].find_one({"_id": again["id"]})["version"] == 2


def test_the_relay_publishes_the_outbox_and_marks_it(service: Service) -> None:
    settings = service.settings
    ensure_topics(settings.kafka_bootstrap, [TOPIC], partitions=settings.topic_partitions)
    visit = service.schedule().get_json()
    service.complete(visit["id"])
    ids = {row["_id"] for row in service.store.db[OUTBOX].find()}
    assert len(ids) == 2

    stop = threading.Event()
    worker = threading.Thread(target=relay.serve, args=(settings, stop), daemon=True)
    worker.start()
    try:
        wait_until(
            lambda: service.count(OUTBOX, {"published_at": None}) == 0,
            timeout=30,
            what="the relay to mark the outbox published",
        )
    finally:
        stop.set()
        worker.join(timeout=30)
    assert not worker.is_alive()

    received = read_topic(settings, ids)
    assert {event["event_id"] for event, _ in received} == ids
    assert {key for _, key in received} == {b"13P1"}  # one ESA area: one key, one partition, in order
    assert [event["event_type"] for event, _ in received] == [
        "supervision.VisitScheduled",
        "supervision.VisitCompleted",
    ]


def read_topic(
    settings: Settings, wanted: set[str], timeout: float = 30
) -> list[tuple[dict[str, Any], bytes]]:
    """Our events on the topic, read from the beginning of every partition (the topic may be shared)."""
    consumer = kafka_consumer(settings, group_id=None)
    found: list[tuple[dict[str, Any], bytes]] = []
    try:
        partitions = wait_until(lambda: consumer.partitions_for_topic(TOPIC), timeout, what="topic metadata")
        consumer.assign([TopicPartition(TOPIC, p) for p in partitions])
        consumer.seek_to_beginning()

        def poll() -> bool:
            for records in consumer.poll(timeout_ms=200).values():
                for record in records:
                    event = catalog.decode(record.value)
                    if event["event_id"] in wanted:
                        found.append((event, record.key))
            return {e["event_id"] for e, _ in found} >= wanted

        wait_until(poll, timeout, interval=0, what=f"{len(wanted)} events on {TOPIC}")
    finally:
        consumer.close()
    return found


def open_follow_up(service: Service, due: str) -> str:
    visit = service.schedule().get_json()
    service.complete(visit["id"])
    finding = service.client.post(
        f"/api/v1/visits/{visit['id']}/findings",
        json={"domain": "assessment", "finding": "ยังไม่มีเกณฑ์การประเมิน", "recommendation": "ใช้รูบริก"},
        headers=service.auth(),
    ).get_json()
    response = service.client.post(
        f"/api/v1/findings/{finding['id']}/follow-ups",
        json={"owner": "ครูมาลี", "action": "จัดทำเกณฑ์", "due_date": due},
        headers=service.auth(),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_the_overdue_sweep_announces_a_past_due_follow_up_once(service: Service) -> None:
    late = open_follow_up(service, due="2026-11-30")
    on_time = open_follow_up(service, due="2026-12-31")
    sweep = relay.overdue_sweep(MongoRepository(service.store), every_s=0, today=lambda: date(2026, 12, 1))

    sweep()
    assert service.outbox_types(late)[-1] == "supervision.FollowUpOverdue"
    assert service.outbox_types(late).count("supervision.FollowUpOverdue") == 1
    assert service.outbox_types(on_time) == ["supervision.FollowUpOpened"]
    stored = service.store.db["follow_ups"].find_one({"_id": late})
    assert (stored["status"], stored["version"]) == ("overdue", 2)
    overdue_rows = service.count(OUTBOX, {"event.event_type": "supervision.FollowUpOverdue"})

    sweep()
    assert service.count(OUTBOX, {"event.event_type": "supervision.FollowUpOverdue"}) == overdue_rows == 1
    listed = service.client.get("/api/v1/follow-ups?status=overdue", headers=service.auth()).get_json()
    assert [item["id"] for item in listed["items"]] == [late]

    done = service.client.post(
        f"/api/v1/follow-ups/{late}/complete",
        json={"completed_date": "2026-12-03"},
        headers=service.auth("school_director", "school", "13010001"),
    )
    assert done.status_code == 201
    event = service.store.db[OUTBOX].find_one({"event.event_type": "supervision.FollowUpCompleted"})["event"]
    assert event["payload"]["was_overdue"] is True
    assert json.loads(json.dumps(event["payload"]["period"])) == {"academic_year": 2569, "semester": 2}
