"""The monitoring read API over views built by the real projection writer in the real document store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from deploy.local.servers import ensure_topics, wait_until
from services.monitoring.app import create_app
from services.monitoring.projection import STATE_COLLECTIONS, MonitoringProjection
from services.monitoring.views import UNITS, VIEWS, find_merged, unit_key, view_key
from shared.auth import issue_token
from shared.calendar import today
from shared.clients import kafka_consumer, kafka_producer, mongo_client
from shared.envelope import Org
from shared.projection import PROJECTED_AT, DeadLetters, ProjectionWriter, ProjectorRunner, Record
from shared.settings import Settings
from shared.store import Store
from tests.eventfactory import (
    NETWORK,
    PERIOD,
    attendance,
    committee_established_payload,
    committee_org,
    committee_wire,
    meeting_held_payload,
    wire,
)

pytestmark = pytest.mark.integration

ESA_AREAS = [("13P1", "13"), ("13P2", "13"), ("50P1", "50")]
SCHOOLS = [
    ("13010001", "13P1-C01", "13P1", "13"),
    ("13010002", "13P1-C01", "13P1", "13"),
    ("13020001", "13P2-C01", "13P2", "13"),
    ("50010001", "50P1-C01", "50P1", "50"),
]


def directory_events() -> list[bytes]:
    events = []
    for esa, province in ESA_AREAS:
        events.append(
            wire(
                "directory.EsaAreaRecorded",
                {
                    "esa_code": esa,
                    "name_th": f"สพป. {esa}",
                    "name_en": f"PESA {esa}",
                    "level": "primary",
                    "province_code": province,
                    "effective_from": "2026-05-16",
                },
                Org(None, None, esa, province),
                esa,
            )
        )
        events.append(
            wire(
                "directory.ClusterRecorded",
                {
                    "cluster_id": f"{esa}-C01",
                    "name_th": "กลุ่ม 1",
                    "name_en": "Cluster 1",
                    "esa_code": esa,
                    "province_code": province,
                    "models": ["supervision"],
                    "effective_from": "2026-05-16",
                },
                Org(None, f"{esa}-C01", esa, province),
                f"{esa}-C01",
            )
        )
    for school, cluster, esa, province in SCHOOLS:
        events.append(
            wire(
                "directory.SchoolRecorded",
                {
                    "school_code": school,
                    "name_th": f"โรงเรียน {school}",
                    "name_en": f"School {school}",
                    "esa_code": esa,
                    "cluster_id": cluster,
                    "province_code": province,
                    "amphoe": "",
                    "size_category": "small",
                    "students": 90,
                    "teachers": 5,
                    "effective_from": "2026-05-16",
                },
                Org(school, cluster, esa, province),
                school,
            )
        )
    return events


def visit(school: str, cluster: str, esa: str, province: str, visit_id: str, score: float) -> bytes:
    payload = {
        "visit_id": visit_id,
        "school_code": school,
        "visit_date": "2026-11-20",
        "mode": "onsite",
        "rubric_scores": {"assessment": score},
        "teachers_observed": [],
        "period": PERIOD,
    }
    return wire("supervision.VisitCompleted", payload, Org(school, cluster, esa, province), visit_id)


@pytest.fixture
def client(settings: Settings, unique: str) -> Iterator[FlaskClient]:
    settings = settings.with_overrides(db_prefix=f"{settings.db_prefix}_{unique}")
    store = Store(mongo_client(settings), settings.db_name("monitoring"))
    writer = ProjectionWriter(store, MonitoringProjection(["t"]), settings.projector_group, DeadLetters(None))
    values = [
        *directory_events(),
        visit(*SCHOOLS[0], "V1", 2),
        visit(*SCHOOLS[0], "V2", 4),
        visit(*SCHOOLS[2], "V3", 3),
    ]
    writer.apply([Record("t", 0, offset, value) for offset, value in enumerate(values)])
    app = create_app(settings)
    app.config["TESTING"] = True
    with app.test_client() as test_client:
        test_client.settings = settings  # type: ignore[attr-defined]
        yield test_client


def get(client: FlaskClient, path: str, role: str, level: str, code: str | None) -> Any:
    token = issue_token(client.settings, sub="u", role=role, scope_level=level, scope_code=code)  # type: ignore[attr-defined]
    return client.get(path, query_string=PERIOD, headers={"Authorization": f"Bearer {token}"})


def test_province_view_with_children_and_derived_figures(client: FlaskClient) -> None:
    response = get(client, "/api/v1/views/province/13", "province_officer", "province", "13")
    assert response.status_code == 200, response.json
    view = response.json
    assert view["name_th"] == "ปทุมธานี" and view["period"]["label_th"] == "ภาคเรียนที่ 2/2569"
    figures = view["supervision"]
    assert figures["visits_done"] == 3
    assert figures["schools_total"] == 3 and figures["schools_visited"] == 2
    assert figures["coverage"] == round(2 / 3, 4)
    assert figures["rubric_mean_by_domain"] == {"assessment": 3.0}
    assert view["as_of"] is not None and view["age_seconds"] >= 0
    children = {c["code"]: c["supervision"] for c in view["children"]}
    assert set(children) == {"13P1", "13P2"}
    assert children["13P1"]["visits_done"] == 2 and children["13P1"]["coverage"] == 0.5


def test_drill_down_reaches_a_school(client: FlaskClient) -> None:
    cluster = get(client, "/api/v1/views/cluster/13P1-C01", "supervisor", "esa", "13P1").json
    assert [c["code"] for c in cluster["children"]] == ["13010001", "13010002"]
    assert cluster["parent"] == {"level": "esa", "code": "13P1"}
    school = get(client, "/api/v1/views/school/13010001", "school_director", "school", "13010001").json
    assert school["supervision"]["visits_done"] == 2 and school["supervision"]["coverage"] == 1.0
    assert school["supervision"]["last_visit_date"] == "2026-11-20"


@pytest.mark.parametrize(
    ("path", "role", "level", "code"),
    [
        ("/api/v1/views/province/13", "supervisor", "esa", "13P1"),  # a parent of one's own scope
        ("/api/v1/views/esa/13P2", "supervisor", "esa", "13P1"),  # a sibling area
        ("/api/v1/views/esa/50P1", "province_officer", "province", "13"),  # another province
        ("/api/v1/views/school/13010002", "school_director", "school", "13010001"),  # another school
        ("/api/v1/views/national/TH", "province_officer", "province", "13"),
        ("/api/v1/views/esa/NOPE", "national_officer", "national", None),  # does not exist
    ],
)
def test_outside_ones_scope_is_not_found(
    client: FlaskClient, path: str, role: str, level: str, code: str
) -> None:
    response = get(client, path, role, level, code)
    assert response.status_code == 404
    assert "supervision" not in response.json


def test_national_view_lists_provinces(client: FlaskClient) -> None:
    view = get(client, "/api/v1/views/national/TH", "national_officer", "national", None).json
    assert {c["code"] for c in view["children"]} == {"13", "50"}
    assert view["supervision"]["schools_total"] == 4


def test_views_need_a_token(client: FlaskClient) -> None:
    response = client.get("/api/v1/views/national/TH")
    assert response.status_code == 401 and response.json["code"] == 401


def test_projector_lag_reports_stored_positions(client: FlaskClient) -> None:
    response = get(client, "/api/v1/projector/lag", "esa_officer", "esa", "13P1")
    assert response.status_code == 200
    rows = response.json["partitions"]
    assert rows == [dict(rows[0], topic="t", partition=0, position=len(directory_events()) + 3)]


def test_an_unknown_path_is_404_in_the_one_error_shape(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.json["code"] == 404 and response.json["status"] == "Not Found"


def test_projector_lag_compares_positions_with_the_broker(settings: Settings, unique: str) -> None:
    settings = settings.with_overrides(db_prefix=f"{settings.db_prefix}_{unique}")
    topic = f"{unique}.supervision"
    ensure_topics(settings.kafka_bootstrap, [topic], partitions=1)
    producer = kafka_producer(settings)
    values = [visit(*SCHOOLS[0], f"L{i}", 3) for i in range(5)]
    for value in values:
        producer.send(topic, key=b"13P1", value=value).get(timeout=10)
    producer.close()
    store = Store(mongo_client(settings), settings.db_name("monitoring"))
    writer = ProjectionWriter(
        store, MonitoringProjection([topic]), settings.projector_group, DeadLetters(None)
    )
    writer.apply([Record(topic, 0, offset, value) for offset, value in enumerate(values[:3])])

    app = create_app(settings)
    token = issue_token(settings, sub="u", role="esa_officer", scope_level="esa", scope_code="13P1")
    lag = app.test_client().get("/api/v1/projector/lag", headers={"Authorization": f"Bearer {token}"}).json
    assert lag["broker_reachable"] is True
    assert lag["partitions"] == [dict(lag["partitions"][0], topic=topic, position=3, end_offset=5, lag=2)]
    assert lag["total_lag"] == 2


def days_ago(days: int) -> str:
    return (today() - timedelta(days=days)).isoformat()


def committee_events() -> list[bytes]:
    """Two school boards (one in 13P1, one in 13P2, which never met) and a network committee of 13P1-C01."""
    board = committee_org(school="13010001", cluster="13P1-C01")
    other = committee_org(school="13020001", cluster="13P2-C01")
    network = committee_org(NETWORK, cluster="13P1-C01")
    established = [
        ("CM1", "school_board", board, days_ago(400)),
        ("CM2", "school_board", other, days_ago(400)),
        ("NC1", NETWORK, network, days_ago(5)),
    ]
    action_item = {
        "action_item_id": "A1",
        "resolution_id": "R1",
        "committee_id": "CM1",
        "owner_kind": "school",
        "owner_id": "13010001",
        "due_date": days_ago(1),
    }
    done = {"action_item_id": "A1", "committee_id": "CM1", "completed_date": days_ago(0), "was_overdue": True}
    overdue = {"action_item_id": "A1", "committee_id": "CM1", "due_date": days_ago(1)}
    return [
        *(
            committee_wire("CommitteeEstablished", committee_established_payload(c, kind, org, day), org)
            for c, kind, org, day in established
        ),
        committee_wire(
            "MeetingHeld",
            meeting_held_payload(
                "CM1", "M1", meeting_date=days_ago(10), rows=attendance(parent=(2, 1, 0), teacher=(3, 0, 1))
            ),
            board,
        ),
        committee_wire(
            "MeetingHeld",
            meeting_held_payload(
                "NC1",
                "M2",
                NETWORK,
                meeting_date=days_ago(2),
                rows=attendance(community_leader=(2, 0, 0), teacher=(1, 1, 0)),
                quorum_reached=False,
            ),
            network,
        ),
        committee_wire("ActionItemCreated", action_item, board),
        committee_wire("ActionItemOverdue", overdue, board),
        committee_wire("ActionItemCompleted", done, board),
    ]


@pytest.fixture
def committee_client(settings: Settings, unique: str) -> Iterator[FlaskClient]:
    """Directory and committee events published to the broker and projected by a real projector runner."""
    settings = settings.with_overrides(db_prefix=f"{settings.db_prefix}_{unique}")
    topics = {"directory": f"{unique}.directory", "committee": f"{unique}.committee"}
    ensure_topics(settings.kafka_bootstrap, list(topics.values()), partitions=1)
    producer = kafka_producer(settings)
    sent = [(topics["directory"], v) for v in directory_events()]
    sent += [(topics["committee"], v) for v in committee_events()]
    for topic, value in sent:
        producer.send(topic, key=b"13", value=value).get(timeout=10)
    producer.close()

    store = Store(mongo_client(settings), settings.db_name("monitoring"))
    writer = ProjectionWriter(
        store, MonitoringProjection(list(topics.values())), f"{unique}-projector", DeadLetters(None)
    )
    runner = ProjectorRunner(
        writer,
        kafka_consumer(settings, group_id=f"{unique}-projector"),
        assignment="all",
        poll_timeout_ms=100,
    )
    db = store.db

    def projected() -> bool:
        runner.step()
        key = unit_key("national", "TH")
        national = find_merged(db[UNITS], [key]).get(key, {})  # committee counters are kept per partition
        esa = db[VIEWS].find_one({"_id": view_key("esa", "13P1", PERIOD)}) or {}
        committee = esa.get("committee", {})
        return (
            national.get("schools_total") == len(SCHOOLS)
            and national.get("committees", {}).get("total") == 3
            and committee.get("meetings_held") == 2
            and committee.get("action_items_done") == 1
        )

    try:
        wait_until(projected, timeout=30, interval=0, what="the committee events projected")
    finally:
        runner.consumer.close()
    app = create_app(settings)
    app.config["TESTING"] = True
    with app.test_client() as test_client:
        test_client.settings = settings  # type: ignore[attr-defined]
        yield test_client


def view_of(client: FlaskClient, level: str, code: str, **query: Any) -> Any:
    token = issue_token(
        client.settings, sub="u", role="national_officer", scope_level="national", scope_code=None
    )  # type: ignore[attr-defined]
    return client.get(
        f"/api/v1/views/{level}/{code}",
        query_string={**PERIOD, **query},
        headers={"Authorization": f"Bearer {token}"},
    )


def test_committee_figures_of_an_esa_with_a_network_committee(committee_client: FlaskClient) -> None:
    response = view_of(committee_client, "esa", "13P1")
    assert response.status_code == 200, response.json
    figures = response.json["committee"]
    assert figures["meetings_held"] == 2 and figures["committees_met"] == 2
    assert figures["meetings_with_quorum"] == 1 and figures["quorum_rate"] == 0.5
    assert figures["attendance_rate"] == round(8 / 11, 4)  # 5 of 7 at the board, 3 of 4 at the network
    assert figures["attendance_rate_by_group"] == {
        "teacher": round(4 / 6, 4),
        "parent": round(2 / 3, 4),
        "community_leader": 1.0,
    }
    assert figures["community_share"] == 0.5  # 2 parents and 2 community leaders of 8 present
    assert figures["committees_total"] == 2 and figures["meetings_held_per_committee"] == 1.0
    assert figures["committees_inactive"] == 0 and figures["inactive_days"] == 90
    assert figures["action_items_created"] == 1 and figures["action_items_done"] == 1
    assert (figures["action_items_open"], figures["action_items_overdue"]) == (0, 0)
    assert figures["action_item_completion_rate"] == 1.0
    # the network meeting counts for the cluster, not for its member schools
    cluster = view_of(committee_client, "cluster", "13P1-C01").json
    schools = {c["code"]: c["committee"] for c in cluster["children"]}
    assert schools["13010001"]["meetings_held"] == 1 and schools["13010001"]["committees_total"] == 1
    assert schools["13010002"]["meetings_held"] == 0 and schools["13010002"]["attendance_rate"] is None


def test_committee_figures_of_a_province_and_its_children(committee_client: FlaskClient) -> None:
    figures = view_of(committee_client, "province", "13").json["committee"]
    assert figures["meetings_held"] == 2 and figures["committees_total"] == 3
    assert figures["committees_inactive"] == 1  # CM2 was established 400 days ago and never met
    assert figures["attendance_rate"] == round(8 / 11, 4) and figures["community_share"] == 0.5
    week = view_of(committee_client, "province", "13", inactive_days=7).json
    assert week["committee"]["committees_inactive"] == 2 and week["committee"]["inactive_days"] == 7
    assert (
        view_of(committee_client, "province", "13", inactive_days=3650).json["committee"][
            "committees_inactive"
        ]
        == 0
    )
    children = {c["code"]: c["committee"] for c in week["children"]}
    assert set(children) == {"13P1", "13P2"}
    assert children["13P1"]["committees_total"] == 2 and children["13P1"]["committees_inactive"] == 1
    assert children["13P1"]["meetings_held"] == 2 and children["13P1"]["community_share"] == 0.5
    assert children["13P2"]["committees_total"] == 1 and children["13P2"]["committees_inactive"] == 1
    assert children["13P2"]["meetings_held"] == 0 and children["13P2"]["meetings_held_per_committee"] == 0.0


@pytest.mark.parametrize("query", [{"inactive_days": 0}, {"inactive_days": 3651}, {"inactive": 5}])
def test_bad_view_query_parameters_are_422(committee_client: FlaskClient, query: dict[str, Any]) -> None:
    response = view_of(committee_client, "province", "13", **query)
    assert response.status_code == 422, response.json
    assert "committee" not in response.json


def test_a_page_is_computed_once_per_projector_batch_and_again_after_the_next(client: FlaskClient) -> None:
    cache = client.application.extensions["anp.figures_cache"]
    first = get(client, "/api/v1/views/province/13", "province_officer", "province", "13").json
    again = get(client, "/api/v1/views/province/13", "province_officer", "province", "13").json
    assert (cache.misses, cache.hits) == (1, 1)
    assert again["supervision"] == first["supervision"] and again["children"] == first["children"]

    settings = client.settings  # type: ignore[attr-defined]
    store = Store(mongo_client(settings), settings.db_name("monitoring"))
    writer = ProjectionWriter(store, MonitoringProjection(["t"]), settings.projector_group, DeadLetters(None))
    writer.apply([Record("t", 0, len(directory_events()) + 3, visit(*SCHOOLS[1], "V4", 1))])

    after = get(client, "/api/v1/views/province/13", "province_officer", "province", "13").json
    assert cache.misses == 2
    assert after["supervision"]["visits_done"] == first["supervision"]["visits_done"] + 1 == 4
    assert {c["code"]: c["supervision"]["visits_done"] for c in after["children"]} == {"13P1": 3, "13P2": 1}


def test_a_batch_reports_every_document_it_wrote(client: FlaskClient) -> None:
    settings = client.settings  # type: ignore[attr-defined]
    store = Store(mongo_client(settings), settings.db_name("monitoring"))
    writer = ProjectionWriter(store, MonitoringProjection(["t"]), settings.projector_group, DeadLetters(None))
    first = len(directory_events()) + 3
    values = [visit(*SCHOOLS[1], "V4", 1), visit(*SCHOOLS[3], "V5", 2)]
    result = writer.apply([Record("t", 0, first + i, value) for i, value in enumerate(values)])
    stamp = max(d[PROJECTED_AT] for d in store.db[VIEWS].find({}, {PROJECTED_AT: 1}))
    changed = sum(store.db[name].count_documents({PROJECTED_AT: stamp}) for name in STATE_COLLECTIONS)
    # each visit: the views of its school, cluster, ESA area and province (the two schools are in different
    # provinces), its school's last visit date and activity entry; the nation's view once
    assert changed == 2 * 4 + 2 + 2 + 1
    assert result.writes == changed + 1 + 1  # and one document of applied event ids and one position


def test_a_cached_page_is_still_refused_outside_ones_scope_and_ages(client: FlaskClient) -> None:
    first = get(client, "/api/v1/views/province/13", "national_officer", "national", None).json
    refused = get(client, "/api/v1/views/province/13", "supervisor", "esa", "13P1")
    assert refused.status_code == 404 and "supervision" not in refused.json
    again = get(client, "/api/v1/views/province/13", "national_officer", "national", None).json
    assert client.application.extensions["anp.figures_cache"].hits == 1
    assert again["as_of"] == first["as_of"] and again["age_seconds"] > first["age_seconds"]
