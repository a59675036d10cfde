"""The training HTTP API over the in-memory repository: auth, scope, strict input, versions, OpenAPI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from services.training.api import ENDPOINT_ACTIONS, PUBLIC_TO_CALLERS
from services.training.app import create_app
from services.training.handlers import POLICY
from shared.auth import issue_token
from shared.settings import Settings
from tests.unit.fakes_training import FakeRepository

SETTINGS = Settings()
PROGRAMME = {
    "title_th": "การจัดการเรียนรู้เชิงรุก",
    "title_en": "Active learning",
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


def token(
    role: str = "esa_officer", level: str = "esa", code: str | None = "13P1", sub: str | None = None
) -> dict[str, str]:
    jwt = issue_token(SETTINGS, sub=sub or f"{role}-{code}", role=role, scope_level=level, scope_code=code)
    return {"Authorization": f"Bearer {jwt}"}


OFFICER = token()
OTHER_AREA = token(code="50P1")
TEACHER = token("teacher", "school", "13010001", sub="T13010001-01")


@pytest.fixture
def repo() -> FakeRepository:
    return FakeRepository()


@pytest.fixture
def client(repo: FakeRepository) -> Iterator[FlaskClient]:
    app = create_app(SETTINGS, repository_factory=lambda: repo)
    with app.test_client() as client:
        yield client


def create(client: FlaskClient, body: dict[str, Any] | None = None, headers: Any = None) -> Any:
    return client.post("/api/v1/programmes", json=body or PROGRAMME, headers=headers or OFFICER)


def running(client: FlaskClient) -> dict[str, Any]:
    """A published programme with one hybrid session (1 onsite seat, 30 online)."""
    programme = create(client).get_json()
    url = f"/api/v1/programmes/{programme['id']}"
    assert client.post(f"{url}/sessions", json=SESSION, headers=OFFICER).status_code == 201
    published = client.post(f"{url}/publish", headers=OFFICER)
    assert published.status_code == 201, published.get_json()
    return published.get_json()


def enrol(client: FlaskClient, programme_id: str, teacher_id: str, mode: str = "onsite", headers: Any = None):
    url = f"/api/v1/programmes/{programme_id}/enrolments"
    return client.post(url, json={"teacher_id": teacher_id, "mode": mode}, headers=headers or OFFICER)


def test_no_token_is_401(client: FlaskClient, repo: FakeRepository) -> None:
    assert client.post("/api/v1/programmes", json=PROGRAMME).status_code == 401
    assert client.get("/api/v1/programmes").status_code == 401
    assert repo.saves == 0


def test_create_answers_201_with_the_draft_at_its_hosts_path(
    client: FlaskClient, repo: FakeRepository
) -> None:
    response = create(client)
    assert response.status_code == 201
    body = response.get_json()
    assert (body["status"], body["version"], body["host_code"]) == ("draft", 1, "13P1")
    assert body["org"] == {"school_code": None, "cluster_id": None, "esa_code": "13P1", "province_code": "13"}
    assert body["completion_rule"] == {"min_attendance_share": 0.8, "min_assessment_score": None}
    assert body["period"]["label_th"] == "ภาคเรียนที่ 2/2569"
    assert repo.event_types() == ["training.ProgrammeCreated"]


@pytest.mark.parametrize(
    "extra",
    [
        {"unexpected": 1},
        {"org": {"esa_code": "50P1"}},
        {"id": "prog-mine"},
        {"status": "published"},
        {"version": 9},
        {"created_by": "someone-else"},
        {"credited_hours": 0},
        {"grade_band": "university"},
        {"min_attendance_share": 1.5},
        {"host_level": "school"},
        {"host_code": {"$gt": ""}},
        {"host_code": "$where"},
        {"$where": "sleep(1000)"},
    ],
)
def test_unknown_invalid_and_server_owned_fields_are_422(
    client: FlaskClient, repo: FakeRepository, extra: dict
) -> None:
    response = create(client, {**PROGRAMME, **extra})
    assert response.status_code == 422
    assert response.get_json()["errors"]
    assert repo.saves == 0


def test_unknown_host_is_422_and_other_area_is_403(client: FlaskClient, repo: FakeRepository) -> None:
    assert create(client, {**PROGRAMME, "host_code": "99P9"}).status_code == 422
    assert create(client, headers=OTHER_AREA).status_code == 403
    assert create(client, headers=TEACHER).status_code == 403
    assert repo.saves == 0


def test_operator_injection_in_a_list_query_is_422(client: FlaskClient) -> None:
    assert client.get("/api/v1/programmes?esa_code=$where", headers=OFFICER).status_code == 422
    assert client.get("/api/v1/programmes?esa_code[$ne]=x", headers=OFFICER).status_code == 422
    assert client.get("/api/v1/programmes?stats=draft", headers=OFFICER).status_code == 422


@pytest.mark.parametrize(
    "change",
    [
        {"mode": "onsite", "venue": None},
        {"start_time": "9am"},
        {"start_time": "25:00"},
        {"meeting_link": "http://insecure.example.org"},
        {"meeting_link": "javascript:alert(1)"},
        {"capacity_onsite": 0},
        {"end_time": "08:00"},
        {"mode": "radio"},
    ],
)
def test_invalid_sessions_are_422(client: FlaskClient, repo: FakeRepository, change: dict) -> None:
    programme = create(client).get_json()
    body = {k: v for k, v in {**SESSION, **change}.items() if v is not None}
    response = client.post(f"/api/v1/programmes/{programme['id']}/sessions", json=body, headers=OFFICER)
    assert response.status_code == 422
    assert repo.saves == 1


def test_sessions_and_publishing_with_if_match(client: FlaskClient, repo: FakeRepository) -> None:
    programme = create(client).get_json()
    url = f"/api/v1/programmes/{programme['id']}"
    assert client.post(f"{url}/publish", headers=OFFICER).status_code == 422  # no session yet
    stale = client.post(f"{url}/sessions", json=SESSION, headers={**OFFICER, "If-Match": "2"})
    assert stale.status_code == 409
    assert (
        client.post(f"{url}/sessions", json=SESSION, headers={**OFFICER, "If-Match": "v1"}).status_code == 422
    )
    added = client.post(f"{url}/sessions", json=SESSION, headers={**OFFICER, "If-Match": '"1"'})
    assert added.status_code == 201
    body = added.get_json()
    assert (body["programme_version"], body["session"]["minutes"], body["session"]["mode"]) == (
        2,
        180,
        "hybrid",
    )
    session_id = body["session"]["id"]
    published = client.post(f"{url}/publish", headers={**OFFICER, "If-Match": "2"})
    assert published.status_code == 201
    assert published.get_json()["seats"] == [
        {"mode": "onsite", "seats": 1, "taken": 0, "waitlisted": 0},
        {"mode": "online", "seats": 30, "taken": 0, "waitlisted": 0},
    ]
    moved = client.post(
        f"{url}/sessions/{session_id}/reschedule",
        json={"session_date": "2026-11-27", "start_time": "13:00", "end_time": "15:30"},
        headers=OFFICER,
    )
    assert moved.status_code == 201
    assert (moved.get_json()["session"]["session_date"], moved.get_json()["session"]["minutes"]) == (
        "2026-11-27",
        150,
    )
    assert client.post(f"{url}/sessions/{session_id}/cancel", headers=OFFICER).status_code == 201
    assert client.post(f"{url}/sessions/{session_id}/cancel", headers=OFFICER).status_code == 409
    assert client.post(f"{url}/sessions/sess-nope/cancel", headers=OFFICER).status_code == 422
    assert repo.event_types()[-2:] == ["training.SessionRescheduled", "training.SessionCancelled"]


def test_enrolment_waitlist_and_withdrawal_through_the_api(client: FlaskClient, repo: FakeRepository) -> None:
    programme = running(client)
    first = enrol(client, programme["id"], "T13010001-01", headers=TEACHER)
    assert first.status_code == 201, first.get_json()
    assert (first.get_json()["status"], first.get_json()["enrolled_by"]) == ("enrolled", "T13010001-01")
    director = token("school_director", "school", "13010001")
    second = enrol(client, programme["id"], "T13010001-02", headers=director)
    assert second.get_json()["status"] == "waitlisted"
    assert enrol(client, programme["id"], "T13010001-02").status_code == 409  # already on the roster
    withdrawn = client.post(
        f"/api/v1/programmes/{programme['id']}/enrolments/T13010001-01/withdraw", headers=TEACHER
    )
    assert withdrawn.status_code == 201
    assert withdrawn.get_json()["status"] == "withdrawn"
    assert repo.event_types()[-2:] == ["training.EnrolmentWithdrawn", "training.SeatOffered"]
    roster = client.get(f"/api/v1/programmes/{programme['id']}/enrolments?status=enrolled", headers=director)
    assert [e["teacher_id"] for e in roster.get_json()["items"]] == ["T13010001-02"]
    own = client.get(f"/api/v1/programmes/{programme['id']}/enrolments", headers=TEACHER).get_json()
    assert [e["teacher_id"] for e in own["items"]] == ["T13010001-01"]


def test_a_teacher_cannot_enrol_another_schools_teacher_403(
    client: FlaskClient, repo: FakeRepository
) -> None:
    programme = running(client)
    saves, outbox = repo.saves, len(repo.outbox)
    response = enrol(client, programme["id"], "T13010002-01", headers=TEACHER)
    assert response.status_code == 403
    assert response.get_json()["code"] == 403
    assert enrol(client, programme["id"], "T13010001-01", headers=OTHER_AREA).status_code == 403
    assert (repo.saves, len(repo.outbox)) == (saves, outbox)


def test_reading_outside_scope_is_404(client: FlaskClient) -> None:
    programme = create(client).get_json()
    url = f"/api/v1/programmes/{programme['id']}"
    assert client.get(url, headers=OFFICER).status_code == 200
    assert client.get(url, headers=OTHER_AREA).status_code == 404
    assert client.get(url, headers=TEACHER).status_code == 404  # a draft is not shown to schools
    assert client.get("/api/v1/programmes/prog-missing", headers=OFFICER).status_code == 404
    assert client.get(f"{url}/enrolments", headers=OTHER_AREA).status_code == 404


def test_lists_are_narrowed_to_scope_and_paginated(client: FlaskClient) -> None:
    for day in ("2026-11-16", "2026-11-17", "2026-11-18"):
        create(client, {**PROGRAMME, "start_date": day})
    create(client, {**PROGRAMME, "host_code": "50P1"}, headers=OTHER_AREA)
    page = client.get("/api/v1/programmes?page=1&page_size=2", headers=OFFICER).get_json()
    assert (page["total"], len(page["items"]), page["page_size"]) == (3, 2, 2)
    assert client.get("/api/v1/programmes?esa_code=50P1", headers=OFFICER).get_json()["total"] == 0
    assert client.get("/api/v1/programmes?page_size=201", headers=OFFICER).status_code == 422
    national = token("national_officer", "national", None)
    assert client.get("/api/v1/programmes", headers=national).get_json()["total"] == 4
    assert client.get("/api/v1/programmes?status=published", headers=national).get_json()["total"] == 0


def test_attendance_completion_and_pd_hours_through_the_api(
    client: FlaskClient, repo: FakeRepository
) -> None:
    programme = running(client)
    session_id = programme["sessions"][0]["id"]
    url = f"/api/v1/programmes/{programme['id']}"
    enrol(client, programme["id"], "T13010001-01", mode="online", headers=TEACHER)
    record = {"session_id": session_id, "teacher_id": "T13010001-01", "mode": "online", "minutes": 150}
    assert client.post(f"{url}/attendance", json=record, headers=TEACHER).status_code == 403
    online = client.post(f"{url}/attendance", json=record, headers=OFFICER)
    assert online.status_code == 201, online.get_json()
    onsite = client.post(
        f"{url}/attendance", json={**record, "mode": "onsite", "minutes": 120}, headers=OFFICER
    )
    body = onsite.get_json()
    assert (body["credited_minutes"], body["version"]) == (150, 2)
    assert body["minutes_by_mode"] == {"online": 150, "onsite": 120}
    assert (
        client.post(f"{url}/attendance", json={**record, "minutes": -1}, headers=OFFICER).status_code == 422
    )

    done = client.post(f"{url}/completions", json={"teacher_id": "T13010001-01"}, headers=OFFICER)
    assert done.status_code == 201, done.get_json()
    assert (done.get_json()["hours_credited"], done.get_json()["attendance_share"]) == (12.0, 0.8333)
    again = client.post(f"{url}/completions", json={"teacher_id": "T13010001-01"}, headers=OFFICER)
    assert again.status_code == 409
    assert repo.event_types().count("training.CompletionAchieved") == 1

    hours = client.get("/api/v1/teachers/T13010001-01/pd-hours?academic_year=2569", headers=TEACHER)
    assert hours.status_code == 200
    year = hours.get_json()["years"][0]
    assert (year["hours"], year["target_hours"], year["remaining_hours"], year["met"]) == (
        12.0,
        20.0,
        8.0,
        False,
    )
    assert year["completions"][0]["programme_id"] == programme["id"]
    colleague = token("teacher", "school", "13010001", sub="T13010001-02")
    assert client.get("/api/v1/teachers/T13010001-01/pd-hours", headers=colleague).status_code == 404
    assert client.get("/api/v1/teachers/T13010001-01/pd-hours", headers=OTHER_AREA).status_code == 404
    assert client.get("/api/v1/teachers/T13010001-01/pd-hours?year=2569", headers=TEACHER).status_code == 422
    assert client.get("/api/v1/completions", headers=colleague).get_json()["total"] == 0
    assert client.get("/api/v1/completions", headers=TEACHER).get_json()["total"] == 1
    assert (
        client.get("/api/v1/attendance?programme_id=" + programme["id"], headers=OFFICER).get_json()["total"]
        == 1
    )


ENDPOINTS = {(path, method.lower()) for method, path in ENDPOINT_ACTIONS}


def test_openapi_documents_every_endpoint_with_its_schemas(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    documented = {
        (path, method) for path, ops in spec["paths"].items() for method in ops if method != "parameters"
    }
    assert documented >= ENDPOINTS
    public = {(path, method.lower()) for method, path in PUBLIC_TO_CALLERS}
    for path, method in documented:
        operation = spec["paths"][path][method]
        success = "201" if method == "post" else "200"
        content = operation["responses"][success]["content"]
        if path.endswith(".html"):
            assert "text/html" in content, path
        elif path.endswith(".pdf"):
            assert "application/pdf" in content, path
        else:
            assert "$ref" in str(content["application/json"]["schema"]), path
        if (path, method) in public:
            assert operation["security"] == [], path
            assert "404" in operation["responses"], path
            continue
        assert {"401", "403"} <= set(operation["responses"]), (path, method)
        if method == "post":
            assert "requestBody" in operation, path
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            assert "Idempotency-Key" in headers, path
    changes = [
        p
        for p in ENDPOINTS
        if p[1] == "post" and p[0].endswith(("/publish", "/close", "/cancel", "/withdraw"))
    ]
    for path, method in changes:
        assert "If-Match" in {p["name"] for p in spec["paths"][path][method]["parameters"]}
        assert {"404", "409", "422"} <= set(spec["paths"][path][method]["responses"])


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
