"""The committee service against the real local document store and broker: one write = entity + outbox +
audit in one transaction, nothing stored on refusal, one committee per unit, the relay, the overdue sweep and
the idempotent demo seed."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from kafka import TopicPartition
from rich.console import Console

from deploy.local.servers import ensure_topics, wait_until
from services.committee import cli, handlers, relay
from services.committee.app import create_app
from services.committee.commands import EstablishCommittee
from services.committee.domain import Committee
from services.committee.repository import TOPIC, MongoRepository
from services.committee.rules import rules
from shared.auth import issue_token
from shared.catalog import catalog
from shared.clients import kafka_consumer, mongo_client
from shared.errors import Conflict
from shared.settings import Settings
from shared.store import AUDIT, OUTBOX, Store
from tests.helpers import WRITES

pytestmark = pytest.mark.integration

TODAY = date(2026, 11, 23)
ORG = {"school_code": "13010001", "cluster_id": "13P1-C01", "esa_code": "13P1", "province_code": "13"}
OTHER_ORG = {**ORG, "school_code": "13010002"}
BOARD = {
    "kind": "school_board",
    "name_th": "คณะกรรมการสถานศึกษา",
    "school_code": "13010001",
    "established_date": "2025-05-16",
}
TERM = {"term_start": "2025-05-16", "term_end": "2029-05-15"}


@dataclass
class Service:
    settings: Settings
    client: FlaskClient
    store: Store

    def auth(
        self, role: str = "admin", level: str = "national", code: str | None = None, sub: str = ""
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

    def post(self, url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        return self.client.post(f"/api/v1{url}", json=body, headers=headers or self.auth())

    def board(self, headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = self.post("/committees", BOARD, headers)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def appoint(self, committee_id: str, headers: dict[str, str] | None = None, **fields: Any) -> Any:
        body = {"name": "กรรมการ", "stakeholder_group": "parent", "role": "member", **TERM, **fields}
        return self.post(f"/committees/{committee_id}/members", body, headers)


def seed_directory(store: Store) -> None:
    """The local copy of master data, in the shape the directory sync keeps it."""
    db = store.db
    db["clusters"].insert_one(
        {"_id": "13P1-C01", "cluster_id": "13P1-C01", "esa_code": "13P1", "org": {**ORG, "school_code": None}}
    )
    for org, students in ((ORG, 342), (OTHER_ORG, 96)):
        db["schools"].insert_one({"_id": org["school_code"], **org, "students": students, "org": org})


@pytest.fixture
def service(settings: Settings, unique: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    # one fixed day for the handlers and for the seed command, which dates its meeting from it
    for module in (handlers, cli):
        monkeypatch.setattr(module, "today", lambda: TODAY)
    own = settings.with_overrides(db_prefix=f"{settings.db_prefix}_{unique}")
    client = mongo_client(own)
    store = Store(client, own.db_name("committee"))
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


def held_meeting_with_item(service: Service, due: str) -> str:
    """A board of three, a held meeting, a resolution and an action item due on `due`: the item's id."""
    committee = service.board()
    for group in ("parent", "teacher", "alumni"):
        committee = service.appoint(committee["id"], stakeholder_group=group).get_json()
    meeting = service.post(
        f"/committees/{committee['id']}/meetings", {"meeting_date": "2026-11-10", "agenda": ["วาระ"]}
    ).get_json()
    attendance = {m["id"]: "present" for m in committee["members"]}
    assert service.post(f"/meetings/{meeting['id']}/hold", {"attendance": attendance}).status_code == 201
    resolution = service.post(
        f"/meetings/{meeting['id']}/resolutions", {"title": "มติ", "text": "ข้อความ"}
    ).get_json()
    item = service.post(
        f"/resolutions/{resolution['id']}/action-items",
        {"description": "งาน", "owner": {"kind": "school", "id": "13010001"}, "due_date": due},
    )
    assert item.status_code == 201, item.get_json()
    return item.get_json()["id"]


def test_a_write_stores_entity_outbox_and_audit_together(service: Service) -> None:
    director = service.auth("school_director", "school", "13010001")
    committee = service.board(director)
    response = service.appoint(
        committee["id"],
        director,
        role="secretary",
        stakeholder_group="school_director",
        account="dir-13010001",
    )
    assert response.status_code == 201, response.get_json()
    stored = service.store.db["committees"].find_one({"_id": committee["id"]})
    assert (stored["version"], stored["seats"], stored["unit"], stored["org"]) == (
        2,
        15,
        "school:13010001",
        ORG,
    )
    assert stored["members"][0]["account"] == "dir-13010001"
    assert stored["members"][0]["term_start"] == "2025-05-16"
    rows = list(
        service.store.db[OUTBOX]
        .find({"event.aggregate_id": committee["id"]})
        .sort([("created_at", 1), ("seq", 1)])
    )
    assert [r["event"]["event_type"] for r in rows] == [
        "committee.CommitteeEstablished",
        "committee.MemberAppointed",
    ]
    appointed = rows[1]
    assert (appointed["topic"], appointed["key"], appointed["published_at"]) == (TOPIC, "13P1", None)
    event = appointed["event"]
    assert (event["producer"], event["aggregate_version"], event["actor"], event["org"]) == (
        "committee",
        2,
        "school_director-13010001",
        ORG,
    )
    assert event["payload"]["role"] == "secretary"
    audit = list(service.store.db[AUDIT].find({"target": committee["id"]}).sort("at", 1))
    assert [(a["action"], a["actor"]) for a in audit] == [
        ("committee.create", "school_director-13010001"),
        ("member.appoint", "school_director-13010001"),
    ]
    assert (len(audit[1]["before"]["members"]), len(audit[1]["after"]["members"])) == (0, 1)


def test_refused_and_invalid_writes_store_nothing(service: Service) -> None:
    assert (
        service.post("/committees", BOARD, service.auth("teacher", "school", "13010001")).status_code == 403
    )
    assert service.post("/committees", BOARD, service.auth("esa_officer", "esa", "50P1")).status_code == 403
    assert service.post("/committees", {**BOARD, "school_code": "99999999"}).status_code == 422
    assert service.post("/committees", {**BOARD, "seats": 9}).status_code == 422
    assert service.post("/committees", {**BOARD, "school_code": {"$gt": ""}}).status_code == 422
    assert (service.count("committees"), service.count(OUTBOX), service.count(AUDIT, WRITES)) == (0, 0, 0)
    committee = service.board()
    assert service.appoint(committee["id"], service.auth("teacher", "school", "13010001")).status_code == 403
    assert (
        service.appoint(committee["id"], service.auth("school_director", "school", "13010002")).status_code
        == 404
    )
    assert service.appoint(committee["id"], term_end="2020-01-01").status_code == 422
    assert service.appoint(committee["id"], extra="x").status_code == 422
    assert service.store.db["committees"].find_one({"_id": committee["id"]})["version"] == 1
    assert (service.count(OUTBOX), service.count(AUDIT, WRITES)) == (1, 1)


def test_one_committee_per_unit_even_when_racing(service: Service) -> None:
    service.board()
    assert service.post("/committees", BOARD).status_code == 409
    # two writers that both checked before either saved: the unique index on `unit` lets one through
    repo = MongoRepository(service.store)
    repo.ensure_indexes()
    cmd = EstablishCommittee("network", "เครือข่าย", date(2025, 5, 16), cluster_id="13P1-C01", seats=7)
    cluster = repo.cluster("13P1-C01")
    first, _ = Committee.establish(cmd, cluster, rules(), "a")
    second, _ = Committee.establish(cmd, cluster, rules(), "b")
    repo.save(first, [], [])
    with pytest.raises(Conflict):
        repo.save(second, [], [])
    assert service.count("committees", {"kind": "network"}) == 1


def test_an_idempotency_key_replays_and_if_match_guards(service: Service) -> None:
    headers = {**service.auth(), "Idempotency-Key": "board-13010001"}
    first = service.post("/committees", BOARD, headers)
    second = service.post("/committees", BOARD, headers)
    assert first.status_code == second.status_code == 201
    assert (second.get_json(), second.headers.get("Idempotent-Replay")) == (first.get_json(), "true")
    assert (service.count("committees"), service.count(OUTBOX)) == (1, 1)
    committee_id = first.get_json()["id"]
    assert service.appoint(committee_id, {**service.auth(), "If-Match": "2"}).status_code == 409
    assert service.appoint(committee_id, {**service.auth(), "If-Match": "1"}).status_code == 201


def test_member_lists_use_the_seat_query(service: Service) -> None:
    committee = service.board()
    service.appoint(committee["id"], account="parent-13010001")
    parent = service.auth("committee_member", "school", "13010001", sub="parent-13010001")
    stranger = service.auth("committee_member", "school", "13010001", sub="someone")
    assert service.client.get("/api/v1/committees", headers=parent).get_json()["total"] == 1
    assert service.client.get("/api/v1/committees", headers=stranger).get_json()["total"] == 0
    assert service.client.get(f"/api/v1/committees/{committee['id']}", headers=stranger).status_code == 404


def test_the_relay_publishes_to_committee_events(service: Service) -> None:
    settings = service.settings
    ensure_topics(settings.kafka_bootstrap, [TOPIC], partitions=settings.topic_partitions)
    held_meeting_with_item(service, "2026-12-15")
    ids = {row["_id"] for row in service.store.db[OUTBOX].find()}
    assert len(ids) == 8

    stop = threading.Event()
    worker = threading.Thread(target=relay.serve, args=(settings, stop), daemon=True)
    worker.start()
    try:
        wait_until(
            lambda: service.count(OUTBOX, {"published_at": None}) == 0,
            timeout=30,
            what="the outbox published",
        )
    finally:
        stop.set()
        worker.join(timeout=30)
    assert not worker.is_alive()
    received = read_topic(settings, ids)
    assert {event["event_id"] for event in received} == ids
    types = [event["event_type"] for event in received]
    assert types[0] == "committee.CommitteeEstablished"
    assert types[-3:] == [
        "committee.MeetingHeld",
        "committee.ResolutionAdopted",
        "committee.ActionItemCreated",
    ]
    held = next(e for e in received if e["event_type"] == "committee.MeetingHeld")
    assert (held["payload"]["quorum_required"], held["payload"]["quorum_reached"]) == (2, True)


def read_topic(settings: Settings, wanted: set[str], timeout: float = 30) -> list[dict[str, Any]]:
    """Our events on the topic, decoded through the catalog, read from the beginning of every partition."""
    consumer = kafka_consumer(settings, group_id=None)
    found: list[dict[str, Any]] = []
    try:
        partitions = wait_until(lambda: consumer.partitions_for_topic(TOPIC), timeout, what="topic metadata")
        consumer.assign([TopicPartition(TOPIC, p) for p in partitions])
        consumer.seek_to_beginning()

        def poll() -> bool:
            for records in consumer.poll(timeout_ms=200).values():
                found.extend(e for e in (catalog.decode(r.value) for r in records) if e["event_id"] in wanted)
            return {e["event_id"] for e in found} >= wanted

        wait_until(poll, timeout, interval=0, what=f"{len(wanted)} events on {TOPIC}")
    finally:
        consumer.close()
    return found


def test_the_overdue_sweep_announces_a_past_due_item_once(service: Service) -> None:
    late = held_meeting_with_item(service, "2026-11-30")
    sweep = relay.overdue_sweep(MongoRepository(service.store), every_s=0, today=lambda: date(2026, 12, 1))
    sweep()
    sweep()
    assert service.outbox_types(late) == ["committee.ActionItemCreated", "committee.ActionItemOverdue"]
    stored = service.store.db["action_items"].find_one({"_id": late})
    assert (stored["status"], stored["version"]) == ("overdue", 2)
    assert (
        service.store.db[AUDIT].find_one({"target": late, "action": "action_item.overdue"})["actor"]
        == handlers.SYSTEM_ACTOR
    )
    listed = service.client.get("/api/v1/action-items?status=overdue", headers=service.auth()).get_json()
    assert [i["id"] for i in listed["items"]] == [late]
    director = service.auth("school_director", "school", "13010001")
    done = service.post(f"/action-items/{late}/complete", {"completed_date": "2026-12-03"}, director)
    assert (done.status_code, done.get_json()["was_overdue"]) == (201, True)
    event = service.store.db[OUTBOX].find_one({"event.event_type": "committee.ActionItemCompleted"})["event"]
    assert event["payload"]["was_overdue"] is True


def test_seed_demo_is_idempotent(service: Service) -> None:
    quiet = Console(file=io.StringIO())
    assert cli.main(["seed-demo", "--timeout", "5"], settings=service.settings, console=quiet) == 0
    counts = {
        name: service.count(name)
        for name in ("committees", "meetings", "resolutions", "action_items", OUTBOX, AUDIT)
    }
    assert (counts["committees"], counts["meetings"], counts["resolutions"], counts["action_items"]) == (
        2,
        1,
        1,
        1,
    )
    board = service.store.db["committees"].find_one({"unit": "school:13010001"})
    assert (board["seats"], len(board["members"])) == (15, 9)
    accounts = {m["account"]: m["role"] for m in board["members"] if m["account"]}
    assert accounts == {"dir-13010001": "secretary", "parent-13010001": "member"}
    network = service.store.db["committees"].find_one({"unit": "cluster:13P1-C01"})
    assert any(m["account"] == "sec-13P1-C01" and m["role"] == "secretary" for m in network["members"])
    assert cli.main(["seed-demo", "--timeout", "5"], settings=service.settings, console=quiet) == 0
    assert {name: service.count(name) for name in counts} == counts


def test_seed_demo_waits_for_the_directory_copy_with_a_deadline(settings: Settings, unique: str) -> None:
    empty = settings.with_overrides(db_prefix=f"{settings.db_prefix}_{unique}_empty")
    quiet = Console(file=io.StringIO())
    assert cli.main(["seed-demo", "--timeout", "0.5"], settings=empty, console=quiet) == 1
