"""The supervision HTTP API over the in-memory repository: auth, scope, strict input, versions, OpenAPI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from services.supervision.api import ENDPOINT_ACTIONS, PUBLIC_TO_CALLERS
from services.supervision.app import create_app
from services.supervision.handlers import POLICY
from shared.auth import issue_token
from shared.settings import Settings
from tests.unit.fakes_supervision import FakeRepository

SETTINGS = Settings()
VISIT = {"school_code": "13010001", "scheduled_date": "2026-11-20", "mode": "onsite"}
COMPLETION = {
    "visit_date": "2026-11-24",
    "rubric_scores": {"learning_design": 3, "assessment": 4},
    "teachers_observed": ["T13010001-01"],
}


def token(role: str = "supervisor", level: str = "esa", code: str | None = "13P1") -> dict[str, str]:
    jwt = issue_token(SETTINGS, sub=f"{role}-{code}", role=role, scope_level=level, scope_code=code)
    return {"Authorization": f"Bearer {jwt}"}


SUPERVISOR = token()
OTHER_AREA = token(code="50P1")


@pytest.fixture
def repo() -> FakeRepository:
    return FakeRepository()


@pytest.fixture
def client(repo: FakeRepository) -> Iterator[FlaskClient]:
    app = create_app(SETTINGS, repository_factory=lambda: repo)
    with app.test_client() as client:
        yield client


def schedule(client: FlaskClient, body: dict[str, Any] | None = None, headers: Any = None) -> Any:
    return client.post("/api/v1/visits", json=body or VISIT, headers=headers or SUPERVISOR)


def test_no_token_is_401(client: FlaskClient, repo: FakeRepository) -> None:
    response = client.post("/api/v1/visits", json=VISIT)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert client.get("/api/v1/visits").status_code == 401
    assert repo.saves == 0


def test_schedule_answers_201_with_the_object_and_its_version(
    client: FlaskClient, repo: FakeRepository
) -> None:
    response = schedule(client)
    assert response.status_code == 201
    body = response.get_json()
    assert (body["status"], body["version"], body["school_code"]) == ("scheduled", 1, "13010001")
    assert body["org"] == {
        "school_code": "13010001",
        "cluster_id": "13P1-C01",
        "esa_code": "13P1",
        "province_code": "13",
    }
    assert body["period"]["label_th"] == "ภาคเรียนที่ 2/2569"
    assert body["supervisor_id"] == "supervisor-13P1"
    assert repo.event_types() == ["supervision.VisitScheduled"]


@pytest.mark.parametrize(
    "extra",
    [
        {"unexpected": 1},
        {"org": {"esa_code": "50P1"}},
        {"esa_code": "50P1"},
        {"id": "visit-mine"},
        {"status": "completed"},
        {"version": 9},
        {"supervisor_id": "someone-else"},
        {"actor": "x"},
    ],
)
def test_unknown_and_server_owned_fields_are_422(
    client: FlaskClient, repo: FakeRepository, extra: dict
) -> None:
    response = schedule(client, {**VISIT, **extra})
    assert response.status_code == 422
    assert response.get_json()["errors"]
    assert repo.saves == 0


@pytest.mark.parametrize(
    "body",
    [
        {**VISIT, "school_code": {"$gt": ""}},
        {**VISIT, "school_code": "$where"},
        {**VISIT, "mode": "$where"},
        {**VISIT, "$where": "sleep(1000)"},
    ],
)
def test_operator_injection_is_422(client: FlaskClient, repo: FakeRepository, body: dict) -> None:
    assert schedule(client, body).status_code == 422
    assert repo.saves == 0


def test_operator_injection_in_a_list_query_is_422(client: FlaskClient) -> None:
    assert client.get("/api/v1/visits?school_code=$where", headers=SUPERVISOR).status_code == 422
    assert client.get("/api/v1/visits?school_code[$ne]=x", headers=SUPERVISOR).status_code == 422
    assert client.get("/api/v1/visits?schol_code=13010001", headers=SUPERVISOR).status_code == 422


def test_another_areas_supervisor_may_not_write_403(client: FlaskClient, repo: FakeRepository) -> None:
    assert schedule(client, headers=OTHER_AREA).status_code == 403
    visit = schedule(client).get_json()
    saves = repo.saves
    response = client.post(f"/api/v1/visits/{visit['id']}/complete", json=COMPLETION, headers=OTHER_AREA)
    assert response.status_code == 403
    assert response.get_json()["code"] == 403
    assert repo.saves == saves


def test_reading_another_areas_visit_is_404(client: FlaskClient) -> None:
    visit = schedule(client).get_json()
    assert client.get(f"/api/v1/visits/{visit['id']}", headers=SUPERVISOR).status_code == 200
    assert client.get(f"/api/v1/visits/{visit['id']}", headers=OTHER_AREA).status_code == 404
    teacher_elsewhere = token("teacher", "school", "13010002")
    assert client.get(f"/api/v1/visits/{visit['id']}", headers=teacher_elsewhere).status_code == 404
    assert client.get("/api/v1/visits/visit-missing", headers=SUPERVISOR).status_code == 404


def test_lists_are_narrowed_to_scope_and_paginated(client: FlaskClient) -> None:
    for day in ("2026-11-20", "2026-11-21", "2026-11-22"):
        schedule(client, {**VISIT, "scheduled_date": day})
    schedule(client, {**VISIT, "school_code": "50010001"}, headers=OTHER_AREA)
    page = client.get("/api/v1/visits?page=1&page_size=2", headers=SUPERVISOR).get_json()
    assert (page["total"], len(page["items"]), page["page_size"]) == (3, 2, 2)
    assert client.get("/api/v1/visits?esa_code=50P1", headers=SUPERVISOR).get_json()["total"] == 0
    assert client.get("/api/v1/visits?page_size=201", headers=SUPERVISOR).status_code == 422
    national = token("national_officer", "national", None)
    assert client.get("/api/v1/visits", headers=national).get_json()["total"] == 4
    assert (
        client.get("/api/v1/visits?academic_year=2569&semester=2", headers=national).get_json()["total"] == 4
    )


def test_complete_with_if_match(client: FlaskClient, repo: FakeRepository) -> None:
    visit = schedule(client).get_json()
    url = f"/api/v1/visits/{visit['id']}/complete"
    stale = client.post(url, json=COMPLETION, headers={**SUPERVISOR, "If-Match": "2"})
    assert stale.status_code == 409
    assert client.post(url, json=COMPLETION, headers={**SUPERVISOR, "If-Match": "v1"}).status_code == 422
    done = client.post(url, json=COMPLETION, headers={**SUPERVISOR, "If-Match": '"1"'})
    assert done.status_code == 201
    body = done.get_json()
    assert (body["status"], body["version"], body["period"]["semester"]) == ("completed", 2, 2)
    again = client.post(url, json=COMPLETION, headers=SUPERVISOR)
    assert again.status_code == 409  # completed is final
    assert repo.event_types() == ["supervision.VisitScheduled", "supervision.VisitCompleted"]


@pytest.mark.parametrize(
    "change",
    [
        {"rubric_scores": {"learning_design": 5}},
        {"rubric_scores": {"singing": 3}},
        {"rubric_scores": {}},
        {"rubric_scores": {"assessment": 2.5}},
        {"teachers_observed": []},
        {"teachers_observed": ["T13010002-01"]},  # teaches at another school
        {"visit_date": "24/11/2026"},
    ],
)
def test_invalid_completion_is_422(client: FlaskClient, repo: FakeRepository, change: dict) -> None:
    visit = schedule(client).get_json()
    response = client.post(
        f"/api/v1/visits/{visit['id']}/complete", json={**COMPLETION, **change}, headers=SUPERVISOR
    )
    assert response.status_code == 422
    assert repo.saves == 1


def test_cancel_without_a_body(client: FlaskClient) -> None:
    visit = schedule(client).get_json()
    response = client.post(f"/api/v1/visits/{visit['id']}/cancel", headers=SUPERVISOR)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "cancelled"


def test_findings_and_follow_ups_through_the_api(client: FlaskClient, repo: FakeRepository) -> None:
    visit = schedule(client).get_json()
    client.post(f"/api/v1/visits/{visit['id']}/complete", json=COMPLETION, headers=SUPERVISOR)
    finding = client.post(
        f"/api/v1/visits/{visit['id']}/findings",
        json={"domain": "assessment", "finding": "ยังไม่มีเกณฑ์", "recommendation": "ใช้รูบริกร่วมกัน"},
        headers=SUPERVISOR,
    )
    assert finding.status_code == 201
    url = f"/api/v1/findings/{finding.get_json()['id']}/follow-ups"
    follow_up = client.post(
        url, json={"owner": "ผอ.วิชัย", "action": "ประชุม PLC", "due_date": "2026-12-15"}, headers=SUPERVISOR
    )
    assert follow_up.status_code == 201
    item = follow_up.get_json()
    assert (item["status"], item["version"]) == ("open", 1)
    director = token("school_director", "school", "13010001")
    listed = client.get("/api/v1/follow-ups?status=open", headers=director).get_json()
    assert [f["id"] for f in listed["items"]] == [item["id"]]
    done = client.post(
        f"/api/v1/follow-ups/{item['id']}/complete", json={"completed_date": "2026-12-10"}, headers=director
    )
    assert done.status_code == 201
    assert (done.get_json()["status"], done.get_json()["was_overdue"]) == ("completed", False)
    assert client.get("/api/v1/follow-ups?status=open", headers=director).get_json()["total"] == 0
    assert (
        client.get("/api/v1/findings", headers=token("teacher", "school", "13010001")).get_json()["total"]
        == 1
    )
    assert (
        client.get("/api/v1/findings", headers=token("teacher", "school", "13010002")).get_json()["total"]
        == 0
    )


def test_plans_coaching_and_plc_through_the_api(client: FlaskClient) -> None:
    plan = client.post(
        "/api/v1/plans",
        json={
            "title": "แผนนิเทศ",
            "academic_year": 2569,
            "semester": 2,
            "target_school_codes": ["13010001"],
            "focus_areas": ["การอ่าน"],
        },
        headers=SUPERVISOR,
    )
    assert plan.status_code == 201
    assert plan.get_json()["org"]["esa_code"] == "13P1"
    assert client.get(f"/api/v1/plans/{plan.get_json()['id']}", headers=OTHER_AREA).status_code == 404
    coaching = client.post(
        "/api/v1/coaching-sessions",
        json={
            "kind": "coaching",
            "school_code": "13010001",
            "session_date": "2026-11-25",
            "teacher_ids": ["T13010001-01"],
            "minutes": 60,
        },
        headers=SUPERVISOR,
    )
    assert coaching.status_code == 201
    coordinator = token("cluster_coordinator", "cluster", "13P1-C01")
    plc = client.post(
        "/api/v1/plc-sessions",
        json={
            "cluster_id": "13P1-C01",
            "school_codes": ["13010001", "13010002"],
            "session_date": "2026-11-26",
            "topic": "การอ่านออกเขียนได้",
            "teacher_ids": ["T13010001-01", "T13010002-01"],
        },
        headers=coordinator,
    )
    assert plc.status_code == 201
    assert plc.get_json()["teacher_count"] == 2
    assert (
        client.get("/api/v1/plc-sessions?school_code=13010002", headers=SUPERVISOR).get_json()["total"] == 1
    )
    assert client.get("/api/v1/plc-sessions", headers=coordinator).get_json()["total"] == 1
    assert client.get("/api/v1/coaching-sessions?kind=mentoring", headers=SUPERVISOR).get_json()["total"] == 0


def test_rubric_domains_endpoint(client: FlaskClient) -> None:
    body = client.get("/api/v1/rubric-domains", headers=token("teacher", "school", "13010001")).get_json()
    assert {"code": "learning_media", "name_th": "สื่อและแหล่งเรียนรู้", "name_en": "Learning media"} in body[
        "domains"
    ]
    assert body["levels"]["4"] == ["ดีมาก", "Very good"]


ENDPOINTS = {
    ("/api/v1/plans", "get"),
    ("/api/v1/plans", "post"),
    ("/api/v1/plans/{plan_id}", "get"),
    ("/api/v1/visits", "get"),
    ("/api/v1/visits", "post"),
    ("/api/v1/visits/{visit_id}", "get"),
    ("/api/v1/visits/{visit_id}/complete", "post"),
    ("/api/v1/visits/{visit_id}/cancel", "post"),
    ("/api/v1/visits/{visit_id}/findings", "post"),
    ("/api/v1/coaching-sessions", "get"),
    ("/api/v1/coaching-sessions", "post"),
    ("/api/v1/plc-sessions", "get"),
    ("/api/v1/plc-sessions", "post"),
    ("/api/v1/findings", "get"),
    ("/api/v1/findings/{finding_id}/follow-ups", "post"),
    ("/api/v1/follow-ups", "get"),
    ("/api/v1/follow-ups/{follow_up_id}/complete", "post"),
}


def test_openapi_documents_every_endpoint_with_its_schemas(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    documented = {
        (path, method) for path, ops in spec["paths"].items() for method in ops if method != "parameters"
    }
    assert documented >= ENDPOINTS
    for path, method in documented:
        operation = spec["paths"][path][method]
        success = "201" if method == "post" else "200"
        assert "$ref" in str(operation["responses"][success]["content"]["application/json"]["schema"]), path
        expected = {"401"} if path == "/api/v1/rubric-domains" else {"401", "403"}
        assert expected <= set(operation["responses"]), (path, method)
        if method == "post":
            assert "requestBody" in operation, path
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            assert "Idempotency-Key" in headers, path
    changes = ("/api/v1/visits/{visit_id}/complete", "/api/v1/follow-ups/{follow_up_id}/complete")
    for path in changes:
        assert "If-Match" in {p["name"] for p in spec["paths"][path]["post"]["parameters"]}
        assert {"404", "409", "422"} <= set(spec["paths"][path]["post"]["responses"])


def test_every_endpoint_names_its_policy_action(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    documented = {
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        for method in ops
        if method != "parameters"
    }
    assert documented == set(ENDPOINT_ACTIONS) | PUBLIC_TO_CALLERS
    assert set(ENDPOINT_ACTIONS.values()) == set(POLICY)


def test_docs_page_answers(client: FlaskClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert b"swagger" in response.data.lower()
