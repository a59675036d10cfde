"""The dashboard's read API (me, ancestors, pulse, trends, school activity, public indicators) over views and
activity built by a real projector runner from events published to the real broker, in the real store."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from deploy.local.servers import ensure_topics, free_port
from services.monitoring import alerts, queries, relay
from services.monitoring.app import create_app
from services.monitoring.folds.activity import ACTIVITY
from services.monitoring.projection import MonitoringProjection
from services.monitoring.views import UNITS
from shared.auth import issue_token
from shared.calendar import today
from shared.clients import kafka_producer, mongo_client
from shared.envelope import Org
from shared.projection import APPLIED, DeadLetters, ProjectionWriter, Record
from shared.settings import Settings
from shared.store import Store
from tests.eventfactory import PERIOD, wire
from tests.helpers import merged_view, project_all
from tests.integration.test_monitoring_api import SCHOOLS, committee_events, directory_events, visit

pytestmark = pytest.mark.integration

NATIONAL = ("national_officer", "national", None)
HOST = Org(None, "13P1-C01", "13P1", "13")  # the training programme's host cluster
SCHOOL_ORG = Org(*SCHOOLS[0])
# (school, mean, tested) of 2568: ESA area 13P2 has a small cell (3 pupils), province 13 does not (33)
RESULTS = [("13010001", 42.0, 30), ("13020001", 30.0, 3), ("50010001", 45.0, 47)]
PRIVATE = "T-SOMCHAI"  # a teacher id that must never reach an activity title


def supervision_events() -> list[bytes]:
    scheduled = {
        "visit_id": "V0",
        "school_code": "13010001",
        "supervisor_id": "S-MALEE",
        "scheduled_date": "2026-12-01",
        "mode": "online",
        "period": PERIOD,
    }
    opened = {
        "follow_up_id": "F1",
        "finding_id": "FI1",
        "school_code": "13010001",
        "owner": "Khru Somchai",
        "due_date": "2026-11-25",
        "period": PERIOD,
    }
    overdue = {"follow_up_id": "F1", "school_code": "13010001", "due_date": "2026-11-25", "period": PERIOD}
    plc = {
        "session_id": "PLC1",
        "cluster_id": "13P1-C01",
        "school_codes": ["13010001", "13010002"],
        "session_date": "2026-11-22",
        "topic": "Reading",
        "teacher_count": 6,
        "period": PERIOD,
    }
    return [
        wire("supervision.VisitScheduled", scheduled, SCHOOL_ORG, "V0"),
        visit(*SCHOOLS[0], "V1", 2),
        visit(*SCHOOLS[0], "V2", 4),
        visit(*SCHOOLS[2], "V3", 3),
        wire("supervision.FollowUpOpened", opened, SCHOOL_ORG, "F1"),
        wire("supervision.FollowUpOverdue", overdue, SCHOOL_ORG, "F1"),
        wire("supervision.PlcSessionRecorded", plc, HOST, "PLC1"),
    ]


def training_events() -> list[bytes]:
    programme = {
        "programme_id": "P1",
        "title_th": "การออกแบบการเรียนรู้",
        "title_en": "Learning design",
        "competency_area": "pedagogy",
        "host_level": "cluster",
        "host_code": "13P1-C01",
        "credited_hours": 12,
        "period": PERIOD,
    }
    teacher = {"programme_id": "P1", "teacher_id": PRIVATE, "school_code": "13010001", "period": PERIOD}
    done = {**teacher, "hours_credited": 12, "attendance_share": 1.0}
    return [
        wire("training.ProgrammeCreated", programme, HOST, "P1"),
        wire("training.EnrolmentCreated", {**teacher, "mode": "online", "status": "enrolled"}, HOST, "P1"),
        wire("training.CompletionAchieved", done, HOST, "P1"),
    ]


def result_events() -> list[bytes]:
    events = []
    for school, mean, tested in RESULTS:
        _, cluster, esa, province = next(s for s in SCHOOLS if s[0] == school)
        payload = {
            "result_id": f"onet-2568-{school}",
            "test": "onet",
            "academic_year": 2568,
            "school_code": school,
            "subject": "math",
            "grade": "P6",
            "mean": mean,
            "tested": tested,
            "replaces": None,
            "period": {"academic_year": 2568, "semester": 2},
        }
        org = Org(school, cluster, esa, province)
        events.append(wire("achievement.ResultRecorded", payload, org, payload["result_id"]))
    return events


@dataclass
class World:
    settings: Settings
    store: Store
    app: Flask

    def client(self) -> FlaskClient:
        return self.app.test_client()


@pytest.fixture(scope="module")
def world(settings: Settings) -> Iterator[World]:
    unique = f"d{uuid.uuid4().hex[:8]}"
    group = f"{unique}-projector"
    own = settings.with_overrides(db_prefix=f"{settings.db_prefix}_{unique}", projector_group=group)
    streams = {
        "directory": directory_events(),
        "supervision": [*supervision_events(), visit(*SCHOOLS[0], "V9", 3)],
        "training": training_events(),
        "committee": committee_events(),
        "achievement": result_events(),
    }
    # the same event delivered twice: one activity document, counted once
    streams["supervision"].append(streams["supervision"][1])
    topics = {name: f"{unique}.{name}" for name in streams}
    ensure_topics(own.kafka_bootstrap, list(topics.values()), partitions=1)
    producer = kafka_producer(own)
    for name, values in streams.items():
        for value in values:
            producer.send(topics[name], key=b"13", value=value).get(timeout=10)
    producer.close()
    store = Store(mongo_client(own), own.db_name("monitoring"))
    project_all(own, list(topics.values()), group, store)
    store.ensure_indexes()
    alerts.ensure_indexes(store.db)
    relay.FullSweep(relay.UnitEvaluator(store, alerts.rules(own), own, today)).run_all()
    app = create_app(own)
    app.config["TESTING"] = True
    yield World(own, store, app)
    store.client.close()


def get(world: World, path: str, who: tuple[str, str, str | None] = NATIONAL, **query: Any) -> Any:
    role, level, code = who
    token = issue_token(world.settings, sub="u1", role=role, scope_level=level, scope_code=code, name="Malee")
    return world.client().get(path, query_string=query, headers={"Authorization": f"Bearer {token}"})


# --- /me and ancestors --------------------------------------------------------------------------------------


def test_me_names_the_caller_and_the_home_unit(world: World) -> None:
    me = get(world, "/api/v1/me", ("school_director", "school", "13010001")).json
    assert me == {
        "sub": "u1",
        "name": "Malee",
        "role": "school_director",
        "scope": {"level": "school", "code": "13010001"},
        "home": {"level": "school", "code": "13010001"},
    }
    national = get(world, "/api/v1/me").json
    assert national["scope"] == {"level": "national", "code": None}
    assert national["home"] == {"level": "national", "code": "TH"}


def test_me_needs_a_valid_token(world: World) -> None:
    assert world.client().get("/api/v1/me").status_code == 401
    bad = world.client().get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401 and bad.json["code"] == 401


def test_a_view_lists_its_ancestors_national_first(world: World) -> None:
    school = get(world, "/api/v1/views/school/13010001", ("teacher", "school", "13010001"), **PERIOD).json
    # a teacher may open none of the units above the school: breadcrumbs name them without links
    assert school["ancestors"] == [
        {"level": "national", "code": "TH", "name_th": "ประเทศไทย", "name_en": "Thailand", "in_scope": False},
        {
            "level": "province",
            "code": "13",
            "name_th": "ปทุมธานี",
            "name_en": "Pathum Thani",
            "in_scope": False,
        },
        {"level": "esa", "code": "13P1", "name_th": "สพป. 13P1", "name_en": "PESA 13P1", "in_scope": False},
        {
            "level": "cluster",
            "code": "13P1-C01",
            "name_th": "กลุ่ม 1",
            "name_en": "Cluster 1",
            "in_scope": False,
        },
    ]
    by_area = get(world, "/api/v1/views/school/13010001", ("esa_officer", "esa", "13P1"), **PERIOD).json
    assert [a["in_scope"] for a in by_area["ancestors"]] == [False, False, True, True]
    national = get(world, "/api/v1/views/esa/13P2").json["ancestors"]
    assert [(a["code"], a["in_scope"]) for a in national] == [("TH", True), ("13", True)]
    assert get(world, "/api/v1/views/national/TH").json["ancestors"] == []


def test_indicator_tables_name_the_unit_and_every_child(world: World) -> None:
    table = get(world, "/api/v1/indicators/province/13", **PERIOD).json
    unit = table["unit"]
    assert (unit["level"], unit["code"], unit["name_en"], unit["name_th"]) == (
        "province",
        "13",
        "Pathum Thani",
        "ปทุมธานี",
    )
    assert [(c["level"], c["code"], c["name_en"]) for c in table["children"]] == [
        ("esa", "13P1", "PESA 13P1"),
        ("esa", "13P2", "PESA 13P2"),
    ]


# --- pulse --------------------------------------------------------------------------------------------------


def test_the_pulse_reports_the_views_time_the_subtrees_alerts_and_the_projector(world: World) -> None:
    who = ("esa_officer", "esa", "13P1")
    pulse = get(world, "/api/v1/pulse/esa/13P1", who, **PERIOD)
    assert pulse.status_code == 200, pulse.json
    view = get(world, "/api/v1/views/esa/13P1", who, **PERIOD).json
    assert pulse.json["as_of"] == view["as_of"] and pulse.json["age_seconds"] >= 0
    listed = get(world, "/api/v1/alerts/esa/13P1", who).json
    assert listed["total"] >= 1  # the overdue follow-up of 13010001
    assert pulse.json["alerts_open"] == listed["total"]
    assert _instant(pulse.json["alerts_changed_at"]) == _instant(listed["items"][0]["changed_at"])
    assert pulse.json["projector"] == {"status": "ok", "lag": 0}
    assert datetime.fromisoformat(pulse.json["server_time"]).tzinfo is not None
    for level, code in (("esa", "13P2"), ("province", "50"), ("national", "TH")):
        subtree = get(world, f"/api/v1/alerts/{level}/{code}").json
        assert get(world, f"/api/v1/pulse/{level}/{code}").json["alerts_open"] == subtree["total"]


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_the_pulse_without_a_period_reads_the_current_semester(world: World) -> None:
    pulse = get(world, "/api/v1/pulse/national/TH").json
    current = merged_view(world.store.db, "national", "TH", queries.current_period().as_dict())
    assert (pulse["as_of"] is None) == (not current)


@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("/api/v1/pulse/esa/13P2", ("esa_officer", "esa", "13P1")),
        ("/api/v1/pulse/national/TH", ("province_officer", "province", "13")),
        ("/api/v1/trends/school/13010002", ("teacher", "school", "13010001")),
        ("/api/v1/activity/school/13010002", ("teacher", "school", "13010001")),
        ("/api/v1/activity/school/NOPE", NATIONAL),
        ("/api/v1/activity/esa/13P1", NATIONAL),  # school level only
    ],
)
def test_outside_ones_scope_is_not_found(world: World, path: str, who: tuple[str, str, str | None]) -> None:
    response = get(world, path, who)
    assert response.status_code == 404 and response.json["code"] == 404


@pytest.mark.parametrize(
    "path", ["/api/v1/pulse/national/TH", "/api/v1/trends/national/TH", "/api/v1/activity/school/13010001"]
)
def test_the_live_api_needs_a_token(world: World, path: str) -> None:
    assert world.client().get(path).status_code == 401


def test_an_unreachable_broker_shows_in_the_pulse_without_a_long_wait(world: World) -> None:
    app = create_app(world.settings.with_overrides(kafka_bootstrap=f"127.0.0.1:{free_port()}"))
    token = issue_token(
        world.settings, sub="u", role="national_officer", scope_level="national", scope_code=None
    )
    for _ in range(2):  # the first asks the broker (bounded), the second answers from the retry window
        started = time.monotonic()
        pulse = app.test_client().get(
            "/api/v1/pulse/national/TH", headers={"Authorization": f"Bearer {token}"}
        )
        assert pulse.status_code == 200, pulse.json
        assert pulse.json["projector"] == {"status": "unreachable", "lag": None}
        assert time.monotonic() - started < 10


def test_a_lag_above_the_warning_level_is_lagging(settings: Settings, unique: str) -> None:
    own = settings.with_overrides(db_prefix=f"{settings.db_prefix}_{unique}", projector_group=unique)
    topic = f"{unique}.supervision"
    ensure_topics(own.kafka_bootstrap, [topic], partitions=1)
    values = [*directory_events(), *(visit(*SCHOOLS[0], f"L{i}", 3) for i in range(3))]
    producer = kafka_producer(own)
    for value in values:
        producer.send(topic, key=b"13", value=value).get(timeout=10)
    producer.close()
    store = Store(mongo_client(own), own.db_name("monitoring"))
    writer = ProjectionWriter(store, MonitoringProjection([topic]), unique, DeadLetters(None))
    writer.apply([Record(topic, 0, offset, value) for offset, value in enumerate(values[:-2])])
    token = issue_token(own, sub="u", role="national_officer", scope_level="national", scope_code=None)
    for warn, status in ((1, "lagging"), (2, "ok")):
        app = create_app(own.with_overrides(dashboard_lag_warn=warn))
        pulse = app.test_client().get(
            "/api/v1/pulse/national/TH", headers={"Authorization": f"Bearer {token}"}
        )
        assert pulse.json["projector"] == {"status": status, "lag": 2}


# --- trends -------------------------------------------------------------------------------------------------


def test_trends_list_semesters_oldest_first_with_the_tables_values(world: World) -> None:
    who = ("school_director", "school", "13010001")
    trends = get(world, "/api/v1/trends/school/13010001", who, semesters=3, **PERIOD)
    assert trends.status_code == 200, trends.json
    body = trends.json
    assert [(p["academic_year"], p["semester"]) for p in body["periods"]] == [(2568, 2), (2569, 1), (2569, 2)]
    assert body["periods"][0]["label_en"].startswith("Semester 2/2025")
    assert body["activity"]["supervision"] == [0, 0, 3]  # V1, V2, V9 (V1 delivered twice counts once)
    assert body["activity"]["committee"] == [0, 0, 1]  # the school board's meeting
    assert body["activity"]["training"] == [0, 0, 0]  # sessions count where they are hosted
    for semester in (1, 2):
        table = get(
            world, "/api/v1/indicators/school/13010001", who, academic_year=2569, semester=semester
        ).json
        for indicator in table["unit"]["indicators"]:
            assert body["indicators"][indicator["code"]][semester] == indicator["value"], indicator["code"]
    catalogue = get(world, "/api/v1/indicators").json["indicators"]
    assert set(body["indicators"]) == {i["code"] for i in catalogue}


def test_trends_default_to_six_semesters_ending_now(world: World) -> None:
    body = get(world, "/api/v1/trends/national/TH").json
    periods = [(p["academic_year"], p["semester"]) for p in body["periods"]]
    current = queries.current_period()
    assert len(periods) == 6 and periods[-1] == (current.academic_year, current.semester)
    assert periods == sorted(periods)
    assert all(len(values) == 6 for values in body["indicators"].values())


@pytest.mark.parametrize("query", [{"semesters": 0}, {"semesters": 13}, {"years": 2}, {"semester": 3}])
def test_bad_trend_queries_are_422(world: World, query: dict[str, Any]) -> None:
    assert get(world, "/api/v1/trends/national/TH", **query).status_code == 422


# --- a school's activity ------------------------------------------------------------------------------------


def test_a_schools_activity_is_newest_first_without_names(world: World) -> None:
    response = get(world, "/api/v1/activity/school/13010001", ("teacher", "school", "13010001"), limit=100)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["code"] == "13010001"
    items = body["items"]
    dates = [item["at"] for item in items]
    assert dates == sorted(dates, reverse=True)
    kinds = [item["kind"] for item in items]
    assert kinds.count("supervision.VisitCompleted") == 3  # V1 (delivered twice), V2, V9
    for kind in (
        "supervision.VisitScheduled",
        "supervision.FollowUpOpened",
        "supervision.PlcSessionRecorded",
        "training.EnrolmentCreated",
        "training.CompletionAchieved",
        "committee.CommitteeEstablished",
        "committee.MeetingHeld",
        "committee.ActionItemCompleted",
    ):
        assert kind in kinds, kind
    assert {item["model"] for item in items} == {"supervision", "training", "committee"}
    completion = next(i for i in items if i["kind"] == "training.CompletionAchieved")
    assert completion["title_en"] == "A teacher completed “Learning design”: 12 PD hours"
    assert completion["status_th"] and completion["title_th"]
    text = str(items)
    for name in (PRIVATE, "Somchai", "MALEE", "Malee"):
        assert name not in text
    assert set(items[0]) <= {"at", "model", "kind", "title_th", "title_en", "status_th", "status_en"}


def test_activity_is_limited_and_validated(world: World) -> None:
    assert len(get(world, "/api/v1/activity/school/13010001", limit=2).json["items"]) == 2
    assert len(get(world, "/api/v1/activity/school/13010001").json["items"]) <= 20
    for query in ({"limit": 0}, {"limit": 101}, {"page": 2}):
        assert get(world, "/api/v1/activity/school/13010001", **query).status_code == 422
    other = get(world, "/api/v1/activity/school/13010002", ("teacher", "school", "13010002")).json
    assert [i["kind"] for i in other["items"]] == ["supervision.PlcSessionRecorded"]


def test_activity_is_idempotent_when_events_are_replayed(world: World) -> None:
    """Delivered again after the applied-event ids expired: the documents keyed by event id stay as they are
    (the views would count again, which is what the applied ids are for; the activity list needs none)."""
    db = world.store.db
    values = [*supervision_events(), *training_events(), *committee_events()]
    scratch = Store(world.store.client, f"{world.store.db.name}_replay")
    for doc in db[UNITS].find():  # the same directory, in a scratch copy so the module's views stay intact
        scratch.db[UNITS].replace_one({"_id": doc["_id"]}, doc, upsert=True)
    writer = ProjectionWriter(scratch, MonitoringProjection(["r"]), "replay", DeadLetters(None))
    writer.apply([Record("r", 0, offset, value) for offset, value in enumerate(values)])
    first = sorted(scratch.db[ACTIVITY].find({}, {"projected_at": 0}), key=lambda d: d["_id"])
    scratch.db[APPLIED].delete_many({})
    writer.apply([Record("r", 0, len(values) + offset, value) for offset, value in enumerate(values)])
    again = sorted(scratch.db[ACTIVITY].find({}, {"projected_at": 0}), key=lambda d: d["_id"])
    assert len(first) == 16 and again == first  # 7 + 1 (PLC's second school) supervision, 2 training, 6 board


# --- public -------------------------------------------------------------------------------------------------

ONET = "achievement_mean"


def public(world: World, path: str, **query: Any) -> Any:
    return world.client().get(f"/api/v1/public/{path}", query_string=query)


def onet(unit: dict[str, Any]) -> Any:
    return next(i["value"] for i in unit["indicators"] if i["code"] == ONET)


def test_public_indicators_need_no_token_and_list_provinces_then_esa_areas(world: World) -> None:
    national = public(world, "indicators/national/TH", **PERIOD)
    assert national.status_code == 200, national.json
    assert national.json["unit"]["level"] == "national" and national.json["unit"]["name_en"] == "Thailand"
    assert [(c["level"], c["code"]) for c in national.json["children"]] == [
        ("province", "13"),
        ("province", "50"),
    ]
    province = public(world, "indicators/province/13", **PERIOD).json
    assert [(c["level"], c["code"]) for c in province["children"]] == [("esa", "13P1"), ("esa", "13P2")]
    assert province["period"]["label_en"].startswith("Semester 2/2026")
    assert public(world, "indicators/esa/13P1", **PERIOD).json["children"] == []


def test_public_indicators_match_the_signed_in_table_but_hide_small_cells(world: World) -> None:
    signed_in = get(world, "/api/v1/indicators/province/13", **PERIOD).json
    assert public(world, "indicators/province/13", **PERIOD).json["unit"] == signed_in["unit"]
    assert onet(signed_in["unit"]) == pytest.approx((42 * 30 + 30 * 3) / 33, abs=0.01)  # 33 pupils: shown
    # 13P2's 3 pupils: its own staff see them, the public never does
    own = get(world, "/api/v1/indicators/esa/13P2", ("esa_officer", "esa", "13P2"), **PERIOD).json
    assert onet(own["unit"]) == 30.0
    assert onet(public(world, "indicators/esa/13P2", **PERIOD).json["unit"]) is None
    children = {c["code"]: c for c in public(world, "indicators/province/13", **PERIOD).json["children"]}
    assert onet(children["13P2"]) is None and onet(children["13P1"]) == 42.0


def test_public_trends_need_no_token_and_hide_small_cells_in_every_semester(world: World) -> None:
    signed_in = get(world, "/api/v1/trends/province/13", semesters=3, **PERIOD).json
    shown = public(world, "trends/province/13", semesters=3, **PERIOD)
    assert shown.status_code == 200, shown.json
    assert shown.json == signed_in  # nothing small in the province as a whole
    own = get(world, "/api/v1/trends/esa/13P2", ("esa_officer", "esa", "13P2"), **PERIOD).json
    outsider = public(world, "trends/esa/13P2", **PERIOD).json
    assert own["indicators"][ONET][-1] == 30.0 and outsider["indicators"][ONET][-1] is None
    assert public(world, "trends/school/13010001").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "trends/cluster/13P1-C01",
        "indicators/school/13010001",
        "indicators/cluster/13P1-C01",
        "indicators/esa/NOPE",
        "indicators/views/TH",
        "views/national/TH",
        "activity/school/13010001",
    ],
)
def test_no_school_or_cluster_is_public(world: World, path: str) -> None:
    response = public(world, path)
    assert response.status_code == 404 and response.json["code"] == 404


def test_public_pages_never_mention_a_school(world: World) -> None:
    for path in ("indicators/national/TH", "indicators/province/13", "indicators/esa/13P1"):
        text = public(world, path, **PERIOD).get_data(as_text=True)
        assert not any(school[0] in text for school in SCHOOLS) and "13P1-C01" not in text


def test_public_periods_are_the_calendar(world: World) -> None:
    response = public(world, "periods")
    assert response.status_code == 200 and response.json == get(world, "/api/v1/periods").json


def test_public_queries_are_strict(world: World) -> None:
    assert public(world, "indicators/national/TH", token="x").status_code == 422
    assert public(world, "indicators/national/TH", semester=3).status_code == 422


def test_the_api_document_describes_the_new_endpoints(world: World) -> None:
    spec = world.client().get("/openapi.json").json
    for path in ("/api/v1/me", "/api/v1/pulse/{level}/{code}", "/api/v1/trends/{level}/{code}"):
        assert spec["paths"][path]["get"]["responses"]["200"], path
    assert spec["paths"]["/api/v1/activity/school/{code}"]["get"]["parameters"]
    for path in ("/api/v1/public/indicators/{level}/{code}", "/api/v1/public/trends/{level}/{code}"):
        assert spec["paths"][path]["get"]["security"] == []
    assert spec["paths"]["/api/v1/public/periods"]["get"]["security"] == []
    assert "ancestors" in spec["components"]["schemas"]["View"]["properties"]
    assert spec["components"]["schemas"]["Pulse"]["properties"]["projector"]
