"""The monitoring read API over views built by the real projection writer in the real document store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from deploy.local.servers import ensure_topics
from services.monitoring.app import create_app
from services.monitoring.projection import MonitoringProjection
from shared.auth import issue_token
from shared.clients import kafka_producer, mongo_client
from shared.envelope import Org
from shared.projection import DeadLetters, ProjectionWriter, Record
from shared.settings import Settings
from shared.store import Store
from tests.eventfactory import PERIOD, wire

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
