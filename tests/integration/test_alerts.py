"""Alerts against the real local document store and broker: units and views seeded as the projector leaves
them (with `projected_at`), the evaluation jobs of the monitoring relay, one transition = alert document +
outbox event in one transaction, the relay publishing to `monitoring.events`, and the alerts API."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from kafka import TopicPartition

from deploy.local.servers import ensure_topics, wait_until
from services.monitoring import alerts, relay
from services.monitoring.app import create_app
from services.monitoring.views import UNITS, VIEWS, unit_key, view_key
from shared.auth import issue_token
from shared.catalog import catalog
from shared.clients import kafka_consumer, mongo_client
from shared.envelope import utcnow
from shared.settings import TOPICS, Settings
from shared.store import OUTBOX, Store

pytestmark = pytest.mark.integration

TODAY = date(2026, 12, 1)  # semester 2/2569
PERIOD = {"academic_year": 2569, "semester": 2}
TOPIC = TOPICS["monitoring"]
SCHOOLS = {
    "13010001": {
        "school_code": "13010001",
        "cluster_id": "13P1-C01",
        "esa_code": "13P1",
        "province_code": "13",
    },
    "13010002": {
        "school_code": "13010002",
        "cluster_id": "13P1-C01",
        "esa_code": "13P1",
        "province_code": "13",
    },
    "50010001": {
        "school_code": "50010001",
        "cluster_id": "50P1-C01",
        "esa_code": "50P1",
        "province_code": "50",
    },
}
OVERDUE = "follow_ups_overdue:school:13010001"
NOT_VISITED = "school_not_visited:school:13010002"


@dataclass
class World:
    settings: Settings
    store: Store
    evaluator: relay.UnitEvaluator
    today: list[date]

    @property
    def db(self) -> Any:
        return self.store.db

    def outbox(self) -> list[dict[str, Any]]:
        rows = self.db[OUTBOX].find().sort([("created_at", 1), ("seq", 1)])
        return [row["event"] for row in rows]

    def changed(self) -> relay.ChangedUnits:
        job = relay.ChangedUnits(self.evaluator, every_s=0)
        job.since = utcnow() - timedelta(minutes=1)
        return job

    def set_view(self, code: str, **supervision: Any) -> None:
        """Change a school's semester view as the projector would, stamping it."""
        self.db[VIEWS].update_one(
            {"_id": view_key("school", code, PERIOD)},
            {"$set": {**{f"supervision.{k}": v for k, v in supervision.items()}, "projected_at": utcnow()}},
        )

    def alert(self, key: str) -> dict[str, Any] | None:
        return self.db[alerts.ALERTS].find_one({"_id": key})


def seed(db: Any) -> None:
    """The org tree and this semester's views; every school visited lately and on track for PD hours."""
    stamp = utcnow()
    units = [
        {"_id": "national:TH", "level": "national", "code": "TH", "org": {}, "parent": None},
        *(
            {"_id": unit_key("province", p), "level": "province", "code": p, "org": {"province_code": p}}
            for p in ("13", "50")
        ),
        *(
            {"_id": unit_key("esa", e), "level": "esa", "code": e, "org": {"esa_code": e, "province_code": p}}
            for e, p in (("13P1", "13"), ("50P1", "50"))
        ),
    ]
    for code, org in SCHOOLS.items():
        cluster = {k: v for k, v in org.items() if k != "school_code"}
        cluster_code = org["cluster_id"]
        units.append({"_id": unit_key("cluster", cluster_code), "level": "cluster", "code": cluster_code})
        units[-1]["org"] = cluster
        units.append(
            {
                "_id": unit_key("school", code),
                "level": "school",
                "code": code,
                "name_th": f"โรงเรียน {code}",
                "name_en": f"School {code}",
                "org": org,
                "teachers": 5,
                "latest_visit_date": "2026-11-20",
                "projected_at": stamp,
            }
        )
    for doc in {u["_id"]: u for u in units}.values():
        db[UNITS].replace_one({"_id": doc["_id"]}, {"name_th": doc["code"], **doc}, upsert=True)
    for code, org in SCHOOLS.items():
        db[VIEWS].insert_one(
            {
                "_id": view_key("school", code, PERIOD),
                "level": "school",
                "code": code,
                "period": PERIOD,
                "org": org,
                "supervision": {"visits_done": 1, "follow_ups_overdue": 0},
                "training": {"pd_hours": 100},  # 20 hours per teacher: the whole yearly target
                "projected_at": stamp,
            }
        )


@pytest.fixture
def world(settings: Settings, unique: str) -> Iterator[World]:
    own = settings.with_overrides(db_prefix=f"{settings.db_prefix}_{unique}")
    client = mongo_client(own)
    store = Store(client, own.db_name("monitoring"))
    seed(store.db)
    store.ensure_indexes()
    alerts.ensure_indexes(store.db)
    today = [TODAY]
    evaluator = relay.UnitEvaluator(store, alerts.rules(own), own, lambda: today[0])
    try:
        yield World(own, store, evaluator, today)
    finally:
        client.close()


def test_seeded_units_raise_nothing(world: World) -> None:
    tally = relay.FullSweep(world.evaluator).run_all()
    assert (tally.units, tally.raised) == (5, 0)  # three schools and two clusters judged
    assert world.outbox() == []


def test_a_changed_view_raises_then_clears_with_one_event_each(world: World) -> None:
    world.set_view("13010001", follow_ups_overdue=2)
    assert world.changed().run_once().raised == 1
    doc = world.alert(OVERDUE)
    assert doc is not None
    assert (doc["status"], doc["value"], doc["threshold"], doc["version"]) == ("open", 2, 0, 1)
    assert doc["evidence"] == "/api/v1/views/school/13010001?academic_year=2569&semester=2"
    assert doc["org"] == SCHOOLS["13010001"] and doc["name_th"] == "โรงเรียน 13010001"
    (raised,) = world.outbox()
    assert (raised["event_type"], raised["aggregate_id"]) == ("monitoring.AlertRaised", OVERDUE)
    assert raised["org"] == SCHOOLS["13010001"] and raised["payload"]["value"] == 2

    # the same condition judged again writes nothing
    again = world.changed().run_once()
    assert (again.raised, again.cleared, again.refreshed) == (0, 0, 0)
    assert len(world.outbox()) == 1
    assert world.alert(OVERDUE)["updated_at"] == doc["updated_at"]

    # a new value of an open alert: the document follows, no event
    world.set_view("13010001", follow_ups_overdue=3)
    assert world.changed().run_once().refreshed == 1
    assert world.alert(OVERDUE)["value"] == 3 and len(world.outbox()) == 1

    world.set_view("13010001", follow_ups_overdue=0)
    assert world.changed().run_once().cleared == 1
    cleared_doc = world.alert(OVERDUE)
    assert (cleared_doc["status"], cleared_doc["value"], cleared_doc["version"]) == ("cleared", 0, 2)
    events = world.outbox()
    assert [e["event_type"] for e in events] == ["monitoring.AlertRaised", "monitoring.AlertCleared"]
    assert events[1]["aggregate_version"] == 2 and events[1]["payload"]["cleared_at"]
    assert world.changed().run_once().cleared == 0 and len(world.outbox()) == 2

    # raised again: the same alert document, a third transition
    world.set_view("13010001", follow_ups_overdue=1)
    world.changed().run_once()
    assert world.alert(OVERDUE)["version"] == 3 and len(world.outbox()) == 3


def test_only_changed_units_are_judged(world: World) -> None:
    job = world.changed()
    job.since = utcnow() + timedelta(minutes=1)  # nothing stamped since then
    world.db[UNITS].update_one({"_id": "school:13010002"}, {"$set": {"latest_visit_date": "2026-01-01"}})
    assert job.run_once().units == 0
    world.db[UNITS].update_one({"_id": "school:13010002"}, {"$set": {"projected_at": job.since}})
    assert job.run_once().raised == 1


def test_the_sweep_raises_when_days_pass_and_refreshes_the_count(world: World) -> None:
    world.db[UNITS].update_one({"_id": "school:13010002"}, {"$set": {"latest_visit_date": "2026-10-02"}})
    sweep = relay.FullSweep(world.evaluator, chunk=2)
    assert sweep.run_all().raised == 0  # 60 days: not more than 60
    world.today[0] = TODAY + timedelta(days=1)
    assert sweep.run_all().raised == 1
    assert world.alert(NOT_VISITED)["value"] == 61
    world.today[0] = TODAY + timedelta(days=2)
    tally = sweep.run_all()
    assert (tally.raised, tally.refreshed) == (0, 1)
    assert world.alert(NOT_VISITED)["value"] == 62 and len(world.outbox()) == 1


def test_racing_evaluators_make_one_transition(world: World) -> None:
    world.set_view("13010001", follow_ups_overdue=2)
    results: list[int] = []

    def evaluate() -> None:
        results.append(world.changed().run_once().raised)

    threads = [threading.Thread(target=evaluate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(results) == 1
    assert [e["event_type"] for e in world.outbox()] == ["monitoring.AlertRaised"]


def test_the_relay_publishes_alert_events(world: World) -> None:
    settings = world.settings
    ensure_topics(settings.kafka_bootstrap, [TOPIC], partitions=settings.topic_partitions)
    world.db[UNITS].update_one({"_id": "school:13010002"}, {"$set": {"latest_visit_date": None}})
    stop = threading.Event()
    worker = threading.Thread(target=relay.serve, args=(settings, stop, lambda: TODAY), daemon=True)
    worker.start()
    try:
        wait_until(lambda: world.alert(NOT_VISITED), timeout=30, what="the start sweep's alert")
        wait_until(
            lambda: world.db[OUTBOX].count_documents({"published_at": None}) == 0,
            timeout=30,
            what="the outbox published",
        )
        # a live change while the relay runs: picked up by the changed-units job
        world.set_view("13010001", follow_ups_overdue=1)
        wait_until(lambda: world.alert(OVERDUE), timeout=30, what="the changed view's alert")
        wait_until(
            lambda: world.db[OUTBOX].count_documents({"published_at": None}) == 0,
            timeout=30,
            what="the outbox published",
        )
    finally:
        stop.set()
        worker.join(timeout=30)
    assert not worker.is_alive()
    ids = {event["event_id"] for event in world.outbox()}
    received = read_topic(settings, ids)
    assert sorted(e["aggregate_id"] for e in received) == [OVERDUE, NOT_VISITED]
    not_visited = next(e for e in received if e["aggregate_id"] == NOT_VISITED)
    assert not_visited["event_type"] == "monitoring.AlertRaised"
    assert not_visited["payload"]["message_en"] == "School 13010002 has never had a supervision visit"


def read_topic(settings: Settings, wanted: set[str], timeout: float = 30) -> list[dict[str, Any]]:
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


# --- the API ---------------------------------------------------------------------------------------------


@pytest.fixture
def api(world: World) -> Iterator[FlaskClient]:
    world.set_view("13010001", follow_ups_overdue=2)
    world.db[UNITS].update_one({"_id": "school:13010002"}, {"$set": {"latest_visit_date": None}})
    world.db[UNITS].update_one({"_id": "school:50010001"}, {"$set": {"latest_visit_date": None}})
    relay.FullSweep(world.evaluator).run_all()
    app = create_app(world.settings)
    app.config["TESTING"] = True
    with app.test_client() as client:
        yield client
    resources = app.extensions["anp"]
    if "mongo" in resources.__dict__:
        resources.mongo.close()


def get(world: World, client: FlaskClient, path: str, level: str, code: str | None, **query: Any) -> Any:
    token = issue_token(world.settings, sub="u", role="esa_officer", scope_level=level, scope_code=code)
    return client.get(f"/api/v1{path}", query_string=query, headers={"Authorization": f"Bearer {token}"})


def test_alerts_are_listed_per_unit_and_below_newest_first(world: World, api: FlaskClient) -> None:
    body = get(world, api, "/alerts/esa/13P1", "esa", "13P1").get_json()
    assert body["total"] == 2 and body["status"] == "open"
    assert {item["alert_id"] for item in body["items"]} == {OVERDUE, NOT_VISITED}
    item = next(i for i in body["items"] if i["alert_id"] == OVERDUE)
    assert item["evidence"] == "/api/v1/views/school/13010001?academic_year=2569&semester=2"
    assert (item["name_th"], item["rule_name_en"]) == ("โรงเรียน 13010001", "Overdue supervision follow-ups")
    times = [i["changed_at"] for i in body["items"]]
    assert times == sorted(times, reverse=True)

    national = get(world, api, "/alerts/national/TH", "national", None).get_json()
    assert national["total"] == 3
    school = get(world, api, "/alerts/school/13010002", "esa", "13P1").get_json()
    assert [i["alert_id"] for i in school["items"]] == [NOT_VISITED]
    ruled = get(world, api, "/alerts/province/13", "province", "13", rule="follow_ups_overdue").get_json()
    assert [i["alert_id"] for i in ruled["items"]] == [OVERDUE]


def test_alert_pages_statuses_and_scope(world: World, api: FlaskClient) -> None:
    first = get(world, api, "/alerts/national/TH", "national", None, page_size=2).get_json()
    second = get(world, api, "/alerts/national/TH", "national", None, page_size=2, page=2).get_json()
    assert (first["total"], len(first["items"]), len(second["items"])) == (3, 2, 1)
    assert not {i["alert_id"] for i in first["items"]} & {i["alert_id"] for i in second["items"]}
    assert get(world, api, "/alerts/national/TH", "national", None, page_size=5000).status_code == 422

    world.set_view("13010001", follow_ups_overdue=0)
    world.changed().run_once()
    cleared = get(world, api, "/alerts/esa/13P1", "esa", "13P1", status="cleared").get_json()
    assert [(i["alert_id"], i["status"]) for i in cleared["items"]] == [(OVERDUE, "cleared")]
    assert get(world, api, "/alerts/esa/13P1", "esa", "13P1", status="all").get_json()["total"] == 2

    assert get(world, api, "/alerts/province/50", "esa", "13P1").status_code == 404
    assert get(world, api, "/alerts/school/50010001", "esa", "13P1").status_code == 404
    assert get(world, api, "/alerts/galaxy/1", "national", None).status_code == 404
    assert get(world, api, "/alerts/esa/13P1", "esa", "13P1", colour="red").status_code == 422
    assert get(world, api, "/alerts/esa/13P1", "esa", "13P1", status="maybe").status_code == 422


def test_alert_rules_and_export_rows(world: World, api: FlaskClient) -> None:
    from services.monitoring.api_alerts import alert_rows
    from shared.auth import Principal

    body = get(world, api, "/alert-rules", "school", "13010001").get_json()
    assert [r["code"] for r in body["rules"]][:2] == ["school_not_visited", "follow_ups_overdue"]
    assert body["rules"][0]["thresholds"][0]["value"] == 60

    caller = Principal("u", "u", "esa_officer", "esa", "13P1")
    rows, columns = alert_rows(world.db, caller, "esa", "13P1", "open")
    assert columns[:2] == ["alert_id", "rule"] and "province_code" in columns
    assert {row["alert_id"] for row in rows} == {OVERDUE, NOT_VISITED}
    assert all(row["province_code"] == "13" for row in rows)
    download = get(world, api, "/export/alerts/esa/13P1", "esa", "13P1", format="csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    lines = download.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("alert_id,rule,") and len(lines) == 3
    assert get(world, api, "/export/alerts/province/50", "esa", "13P1", format="xlsx").status_code == 404
