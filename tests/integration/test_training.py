"""The training service against the real local document store and broker: one write = entity + outbox +
audit in one transaction, nothing stored on refusal, idempotent replays, versions, the PD-hours ledger's
unique index, and the relay to `training.events`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from kafka import TopicPartition

from deploy.local.servers import ensure_topics, wait_until
from services.training import handlers, relay
from services.training.app import create_app
from services.training.commands import Enrol
from services.training.domain import Completion, Programme
from services.training.repository import TOPIC, MongoRepository
from shared.auth import Principal, issue_token
from shared.catalog import catalog
from shared.clients import kafka_consumer, mongo_client
from shared.errors import Conflict
from shared.settings import Settings
from shared.store import AUDIT, OUTBOX, Store
from tests.helpers import WRITES

pytestmark = pytest.mark.integration

AREA = {"school_code": None, "cluster_id": None, "esa_code": "13P1", "province_code": "13"}
ORG = {"school_code": "13010001", "cluster_id": "13P1-C01", "esa_code": "13P1", "province_code": "13"}
OTHER_ORG = {"school_code": "13010002", "cluster_id": "13P1-C01", "esa_code": "13P1", "province_code": "13"}
PROGRAMME = {
    "title_th": "การจัดการเรียนรู้เชิงรุก",
    "competency_area": "active_learning",
    "subject": "science",
    "grade_band": "p4_6",
    "credited_hours": 12,
    "start_date": "2026-11-16",
    "host_level": "esa",
    "host_code": "13P1",
}
SESSION = {
    "mode": "hybrid",
    "session_date": "2026-11-20",
    "start_time": "09:00",
    "end_time": "12:00",
    "venue": "ห้องประชุม สพป.ปทุมธานี เขต 1",
    "meeting_link": "https://meet.example.org/abc",
    "capacity_onsite": 1,
    "capacity_online": 30,
}


@dataclass
class Service:
    settings: Settings
    client: FlaskClient
    store: Store

    def auth(
        self, role: str = "esa_officer", level: str = "esa", code: str | None = "13P1", sub: str | None = None
    ) -> dict[str, str]:
        jwt = issue_token(
            self.settings, sub=sub or f"{role}-{code}", role=role, scope_level=level, scope_code=code
        )
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

    def create(self, headers: dict[str, str] | None = None, **changes: Any) -> Any:
        return self.client.post(
            "/api/v1/programmes", json={**PROGRAMME, **changes}, headers=headers or self.auth()
        )

    def running(self) -> dict[str, Any]:
        programme = self.create().get_json()
        url = f"/api/v1/programmes/{programme['id']}"
        assert self.client.post(f"{url}/sessions", json=SESSION, headers=self.auth()).status_code == 201
        published = self.client.post(f"{url}/publish", headers=self.auth())
        assert published.status_code == 201, published.get_json()
        return published.get_json()

    def enrol(self, programme_id: str, teacher_id: str, headers: dict[str, str], mode: str = "onsite") -> Any:
        url = f"/api/v1/programmes/{programme_id}/enrolments"
        return self.client.post(url, json={"teacher_id": teacher_id, "mode": mode}, headers=headers)


def seed_directory(store: Store) -> None:
    """The local copy of master data, in the shape the directory sync keeps it."""
    db = store.db
    db["esa_areas"].insert_one({"_id": "13P1", "esa_code": "13P1", "province_code": "13", "org": AREA})
    db["clusters"].insert_one(
        {"_id": "13P1-C01", "cluster_id": "13P1-C01", "esa_code": "13P1", "org": {**ORG, "school_code": None}}
    )
    for org in (ORG, OTHER_ORG):
        db["schools"].insert_one({"_id": org["school_code"], **org, "name_th": "โรงเรียน", "org": org})
    for teacher, org in (("T13010001-01", ORG), ("T13010001-02", ORG), ("T13010002-01", OTHER_ORG)):
        db["teachers"].insert_one(
            {"_id": teacher, "teacher_id": teacher, "school_code": org["school_code"], "org": org}
        )


@pytest.fixture
def service(settings: Settings, unique: str) -> Iterator[Service]:
    own = settings.with_overrides(db_prefix=f"{settings.db_prefix}_{unique}")
    client = mongo_client(own)
    store = Store(client, own.db_name("training"))
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


def test_each_write_stores_entity_events_and_audit_together(service: Service) -> None:
    programme = service.running()
    teacher = service.auth("teacher", "school", "13010001", sub="T13010001-01")
    assert service.enrol(programme["id"], "T13010001-01", teacher).status_code == 201
    stored = service.store.db["programmes"].find_one({"_id": programme["id"]})
    assert (stored["status"], stored["version"], stored["org"]) == ("published", 4, AREA)
    assert stored["enrolments"][0]["teacher_id"] == "T13010001-01"
    assert service.outbox_types(programme["id"]) == [
        "training.ProgrammeCreated",
        "training.SessionScheduled",
        "training.ProgrammePublished",
        "training.EnrolmentCreated",
    ]
    row = service.store.db[OUTBOX].find_one({"event.event_type": "training.EnrolmentCreated"})
    assert (row["topic"], row["key"], row["published_at"]) == (TOPIC, "13P1", None)
    event = row["event"]
    assert (event["producer"], event["event_version"], event["aggregate_version"]) == ("training", 1, 4)
    assert event["payload"]["period"] == {"academic_year": 2569, "semester": 2}
    assert event["actor"] == "T13010001-01"
    audit = list(service.store.db[AUDIT].find({"target": programme["id"]}).sort("at", 1))
    assert [a["action"] for a in audit] == [
        "programme.create",
        "session.schedule",
        "programme.publish",
        "enrolment.create",
    ]
    assert (len(audit[3]["before"]["enrolments"]), len(audit[3]["after"]["enrolments"])) == (0, 1)


class FailingAuditStore(Store):
    def append_audit(self, session: Any, entries: list[dict[str, Any]]) -> None:
        raise RuntimeError("audit write failed")


def test_a_failure_inside_the_unit_of_work_stores_nothing(service: Service) -> None:
    programme_id = service.running()["id"]
    broken = MongoRepository(FailingAuditStore(service.store.client, service.store.db.name))
    programme = broken.get(Programme, programme_id)
    events = programme.close()
    with pytest.raises(RuntimeError):
        handlers.PRODUCER.save(
            broken, programme, events, handlers.system_audit("programme.close", programme_id)
        )
    stored = service.store.db["programmes"].find_one({"_id": programme_id})
    assert (stored["status"], stored["version"]) == ("published", 3)
    assert "training.ProgrammeClosed" not in service.outbox_types(programme_id)


def test_a_refused_write_stores_nothing(service: Service) -> None:
    assert service.create(headers=service.auth(code="50P1")).status_code == 403
    assert service.create(headers=service.auth("teacher", "school", "13010001")).status_code == 403
    assert (service.count("programmes"), service.count(OUTBOX), service.count(AUDIT, WRITES)) == (0, 0, 0)

    programme = service.running()
    outbox, audit = service.count(OUTBOX), service.count(AUDIT, WRITES)
    teacher = service.auth("teacher", "school", "13010001", sub="T13010001-01")
    assert service.enrol(programme["id"], "T13010002-01", teacher).status_code == 403  # another school's
    assert service.enrol(programme["id"], "T13010001-02", teacher).status_code == 403  # a colleague
    stored = service.store.db["programmes"].find_one({"_id": programme["id"]})
    assert (stored["version"], stored["enrolments"]) == (3, [])
    assert (service.count(OUTBOX), service.count(AUDIT, WRITES)) == (outbox, audit)


def test_an_idempotency_key_replays_the_first_answer(service: Service) -> None:
    headers = {**service.auth(), "Idempotency-Key": "programme-active-learning-2569"}
    first = service.create(headers=headers)
    second = service.create(headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.headers.get("Idempotent-Replay") == "true"
    assert (service.count("programmes"), service.count(OUTBOX), service.count(AUDIT, WRITES)) == (1, 1, 1)
    assert service.create(headers=headers, subject="math").status_code == 422  # the same key, another body
    assert service.count("programmes") == 1


def test_waitlist_stale_versions_and_the_ledger(service: Service) -> None:
    programme = service.running()  # one onsite seat
    officer = service.auth()
    stale = service.enrol(programme["id"], "T13010001-01", {**officer, "If-Match": "1"})
    assert stale.status_code == 409
    assert service.enrol(programme["id"], "T13010001-01", {**officer, "If-Match": "3"}).status_code == 201
    assert service.enrol(programme["id"], "T13010001-02", officer).get_json()["status"] == "waitlisted"
    url = f"/api/v1/programmes/{programme['id']}"
    offered = service.client.post(f"{url}/enrolments/T13010001-01/withdraw", headers=officer)
    assert offered.status_code == 201
    assert service.outbox_types(programme["id"])[-2:] == [
        "training.EnrolmentWithdrawn",
        "training.SeatOffered",
    ]

    session_id = programme["sessions"][0]["id"]
    for mode, minutes in (("onsite", 170), ("online", 180)):
        record = {"session_id": session_id, "teacher_id": "T13010001-02", "mode": mode, "minutes": minutes}
        assert service.client.post(f"{url}/attendance", json=record, headers=officer).status_code == 201
    stored = service.store.db["attendance"].find_one({"teacher_id": "T13010001-02"})
    assert (stored["minutes_by_mode"], stored["version"], stored["org"]) == (
        {"onsite": 170, "online": 180},
        2,
        ORG,
    )
    done = service.client.post(f"{url}/completions", json={"teacher_id": "T13010001-02"}, headers=officer)
    assert done.status_code == 201, done.get_json()
    again = service.client.post(f"{url}/completions", json={"teacher_id": "T13010001-02"}, headers=officer)
    assert again.status_code == 409
    assert service.count("completions") == 1
    assert service.count(OUTBOX, {"event.event_type": "training.CompletionAchieved"}) == 1

    # the unique (teacher, programme) index holds even against a writer that picks another id
    repo = MongoRepository(service.store)
    twin = repo.get(Completion, done.get_json()["id"])
    twin.id = "cmp-another-id"
    with pytest.raises(Conflict):
        repo.save(twin, [], [])
    assert service.count("completions") == 1

    hours = service.client.get(
        "/api/v1/teachers/T13010001-02/pd-hours",
        headers=service.auth("school_director", "school", "13010001"),
    ).get_json()
    assert [(y["academic_year"], y["hours"], y["target_hours"]) for y in hours["years"]] == [
        (2569, 12.0, 20.0)
    ]


def test_the_relay_publishes_the_outbox_and_marks_it(service: Service) -> None:
    settings = service.settings
    ensure_topics(settings.kafka_bootstrap, [TOPIC], partitions=settings.topic_partitions)
    programme = service.running()
    ids = {row["_id"] for row in service.store.db[OUTBOX].find()}
    assert len(ids) == 3

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
        "training.ProgrammeCreated",
        "training.SessionScheduled",
        "training.ProgrammePublished",
    ]
    assert {event["aggregate_id"] for event, _ in received} == {programme["id"]}


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


def test_lists_sort_newest_first_and_a_school_sees_what_is_open_to_it(service: Service) -> None:
    for day in ("2026-11-16", "2026-11-18", "2026-11-17"):
        service.create(start_date=day)
    published = service.running()  # starts 2026-11-16 too
    cluster = service.create(host_level="cluster", host_code="13P1-C01").get_json()
    page = service.client.get("/api/v1/programmes?page_size=2", headers=service.auth()).get_json()
    assert page["total"] == 5
    assert [p["start_date"] for p in page["items"]] == ["2026-11-18", "2026-11-17"]

    teacher = service.auth("teacher", "school", "13010001", sub="T13010001-01")
    visible = service.client.get("/api/v1/programmes", headers=teacher).get_json()
    assert [p["id"] for p in visible["items"]] == [published["id"]]  # drafts stay with their managers
    url = f"/api/v1/programmes/{cluster['id']}"
    officer = service.auth()
    assert service.client.post(f"{url}/sessions", json=SESSION, headers=officer).status_code == 201
    assert service.client.post(f"{url}/publish", headers=officer).status_code == 201
    visible = service.client.get("/api/v1/programmes", headers=teacher).get_json()
    assert {p["id"] for p in visible["items"]} == {published["id"], cluster["id"]}
    listed = service.client.get("/api/v1/programmes?school_code=13010002&status=published", headers=officer)
    assert listed.get_json()["total"] == 2
    assert (
        service.client.get("/api/v1/programmes?school_code=13010002", headers=teacher).get_json()["total"]
        == 0
    )


def test_concurrent_enrolments_never_overbook_and_keep_one_order(service: Service) -> None:
    programme_id = service.running()["id"]  # one onsite seat
    repo = MongoRepository(service.store)
    officer = handlers.Context(Principal("esa_officer-13P1", "n", "esa_officer", "esa", "13P1"))
    teachers = ["T13010001-01", "T13010001-02", "T13010002-01"]
    barrier = threading.Barrier(len(teachers))
    failures: list[BaseException] = []

    def enrol(teacher_id: str) -> None:
        barrier.wait()
        try:
            handlers.enrol(Enrol(programme_id, teacher_id, "onsite"), repo, officer)
        except BaseException as err:  # reported below, not lost in the thread
            failures.append(err)

    threads = [threading.Thread(target=enrol, args=(t,)) for t in teachers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    stored = repo.get(Programme, programme_id)
    assert sorted(e.status for e in stored.enrolments) == ["enrolled", "waitlisted", "waitlisted"]
    assert sorted(e.seq for e in stored.enrolments) == [1, 2, 3]
    assert service.count(OUTBOX, {"event.event_type": "training.EnrolmentCreated"}) == 3
