"""The committee HTTP API over the in-memory repository: auth, membership rights, strict input, versions,
idempotent replays and OpenAPI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient

from services.committee import api, handlers, schemas
from services.committee.api import ENDPOINT_ACTIONS, PUBLIC_TO_CALLERS
from services.committee.app import create_app
from services.committee.handlers import POLICY
from shared.auth import issue_token
from shared.settings import Settings
from tests.unit.fakes_committee import FakeRepository

SETTINGS = Settings()
TODAY = date(2026, 11, 23)
BOARD = {"kind": "school_board", "name_th": "คณะกรรมการสถานศึกษา", "established_date": "2025-05-16"}
TERM = {"term_start": "2025-05-16", "term_end": "2029-05-15"}
GROUPS = ("community_leader", "teacher", "parent", "alumni", "local_government", "religious_leader")


def token(role: str, level: str, code: str | None, sub: str | None = None) -> dict[str, str]:
    jwt = issue_token(SETTINGS, sub=sub or f"{role}-{code}", role=role, scope_level=level, scope_code=code)
    return {"Authorization": f"Bearer {jwt}"}


ADMIN = token("admin", "national", None)
DIRECTOR = token("school_director", "school", "13010001")
OTHER_DIRECTOR = token("school_director", "school", "13010002")
ESA = token("esa_officer", "esa", "13P1")
OTHER_ESA = token("esa_officer", "esa", "50P1")
SECRETARY_A = token("committee_secretary", "school", "13010001", "sec-a")
SECRETARY_B = token("committee_secretary", "school", "13010002", "sec-b")
PARENT_A = token("committee_member", "school", "13010001", "parent-a")


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (handlers, schemas, api):
        monkeypatch.setattr(module, "today", lambda: TODAY)


@pytest.fixture
def repo() -> FakeRepository:
    return FakeRepository()


@pytest.fixture
def client(repo: FakeRepository) -> Iterator[FlaskClient]:
    app = create_app(SETTINGS, repository_factory=lambda: repo)
    with app.test_client() as client:
        yield client


def post(client: FlaskClient, url: str, body: dict[str, Any], headers: dict[str, str] = ADMIN) -> Any:
    return client.post(f"/api/v1{url}", json=body, headers=headers)


def board(client: FlaskClient, school: str = "13010001", headers: dict[str, str] = ADMIN) -> dict[str, Any]:
    response = post(client, "/committees", {**BOARD, "school_code": school}, headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def appoint(client: FlaskClient, committee_id: str, headers: dict[str, str] = ADMIN, **fields: Any) -> Any:
    body = {"name": "กรรมการ", "stakeholder_group": "parent", "role": "member", **TERM, **fields}
    return post(client, f"/committees/{committee_id}/members", body, headers)


def staffed(client: FlaskClient, school: str, secretary: str, members: int = 8) -> dict[str, Any]:
    """A board with a secretary linked to `secretary` and `members` more members."""
    committee = board(client, school)
    appoint(client, committee["id"], role="secretary", stakeholder_group="school_director", account=secretary)
    for i in range(members):
        last = appoint(client, committee["id"], stakeholder_group=GROUPS[i % len(GROUPS)])
    return last.get_json()


def meeting(client: FlaskClient, committee_id: str, headers: dict[str, str] = ADMIN) -> Any:
    body = {"meeting_date": "2026-11-10", "agenda": ["รับรองรายงานการประชุม", "แผนการอ่าน"]}
    return post(client, f"/committees/{committee_id}/meetings", body, headers)


def hold(
    client: FlaskClient, committee: dict[str, Any], meeting_id: str, present: int, headers: Any = ADMIN
) -> Any:
    ids = [m["id"] for m in committee["members"]]
    attendance = {m: ("present" if i < present else "absent") for i, m in enumerate(ids)}
    return post(client, f"/meetings/{meeting_id}/hold", {"attendance": attendance}, headers)


def test_no_token_is_401(client: FlaskClient, repo: FakeRepository) -> None:
    assert client.post("/api/v1/committees", json={**BOARD, "school_code": "13010001"}).status_code == 401
    assert client.get("/api/v1/committees").status_code == 401
    assert repo.saves == 0


def test_establish_answers_201_with_the_object(client: FlaskClient, repo: FakeRepository) -> None:
    body = board(client, headers=DIRECTOR)
    assert (body["kind"], body["seats"], body["version"], body["vacancies"]) == ("school_board", 15, 1, 15)
    assert body["org"] == {
        "school_code": "13010001",
        "cluster_id": "13P1-C01",
        "esa_code": "13P1",
        "province_code": "13",
    }
    assert body["period"]["label_th"] == "ภาคเรียนที่ 1/2568"
    assert (body["chair"], body["secretary"], body["members"]) == (None, None, [])
    assert post(client, "/committees", {**BOARD, "school_code": "13010001"}, ESA).status_code == 409
    network = {
        "kind": "network",
        "name_th": "เครือข่าย",
        "cluster_id": "13P1-C01",
        "seats": 7,
        "established_date": "2025-05-16",
    }
    coordinator = token("cluster_coordinator", "cluster", "13P1-C01")
    assert post(client, "/committees", network, coordinator).status_code == 201
    assert post(client, "/committees", {**network, "seats": 30}, ADMIN).status_code == 422
    assert repo.event_types() == ["committee.CommitteeEstablished"] * 2


def test_members_answer_the_committee_with_vacancies_and_officers(client: FlaskClient) -> None:
    committee = board(client)
    appoint(client, committee["id"], role="chair", stakeholder_group="community_leader", name="ประธาน")
    response = appoint(
        client, committee["id"], role="secretary", stakeholder_group="school_director", account="dir"
    )
    assert response.status_code == 201
    body = response.get_json()
    assert (body["version"], body["vacancies"], body["current_members"]) == (3, 13, 2)
    assert (body["chair"]["name"], body["secretary"]["account"]) == ("ประธาน", "dir")
    assert all(m["current"] for m in body["members"])
    twice = appoint(client, committee["id"], role="chair", stakeholder_group="parent")
    assert twice.status_code == 422
    assert "role" in twice.get_json()["errors"]
    member = body["members"][0]["id"]
    url = f"/committees/{committee['id']}/members/{member}/end-term"
    ended = post(client, url, {"end_date": "2026-11-01", "reason": "ลาออก"})
    assert ended.status_code == 201
    assert (ended.get_json()["chair"], ended.get_json()["vacancies"]) == (None, 14)


def test_resolution_at_a_meeting_without_quorum_is_409(client: FlaskClient, repo: FakeRepository) -> None:
    committee = staffed(client, "13010001", "sec-a")  # 9 members
    held = hold(client, committee, meeting(client, committee["id"]).get_json()["id"], present=3)
    assert held.status_code == 201
    figures = held.get_json()
    assert (
        figures["members_total"],
        figures["present"],
        figures["quorum_required"],
        figures["quorum_reached"],
    ) == (9, 3, 5, False)
    saves = repo.saves
    response = post(client, f"/meetings/{figures['id']}/resolutions", {"title": "มติ", "text": "ข้อความ"})
    assert response.status_code == 409
    assert response.get_json()["message"] == "no quorum: 3 of 9 present, 5 needed"
    assert repo.saves == saves


def test_the_whole_flow_through_the_api(client: FlaskClient, repo: FakeRepository) -> None:
    committee = staffed(client, "13010001", "sec-a")
    meeting_id = meeting(client, committee["id"], SECRETARY_A).get_json()["id"]
    assert hold(client, committee, meeting_id, present=6, headers=SECRETARY_A).status_code == 201
    minutes = post(client, f"/meetings/{meeting_id}/minutes", {"minutes": "บันทึก"}, SECRETARY_A)
    assert (minutes.status_code, minutes.get_json()["version"]) == (201, 3)
    votes = {"for": 5, "against": 0, "abstain": 1}
    resolution = post(
        client,
        f"/meetings/{meeting_id}/resolutions",
        {"title": "มติ", "text": "ข้อความ", "votes": votes},
        SECRETARY_A,
    )
    assert resolution.status_code == 201, resolution.get_json()
    resolution_id = resolution.get_json()["id"]
    item = post(
        client,
        f"/resolutions/{resolution_id}/action-items",
        {"description": "จัดกิจกรรม", "owner": {"kind": "school", "id": "13010001"}, "due_date": "2026-12-15"},
        SECRETARY_A,
    )
    assert item.status_code == 201, item.get_json()
    item_id = item.get_json()["id"]
    assert item.get_json()["owner"] == {"kind": "school", "id": "13010001", "name": "13010001"}
    # the owner school's director notes progress and completes, If-Match checked
    note = post(client, f"/action-items/{item_id}/notes", {"note": "เริ่มแล้ว", "percent_done": 30}, DIRECTOR)
    assert (note.status_code, note.get_json()["percent_done"]) == (201, 30)
    stale = client.post(
        f"/api/v1/action-items/{item_id}/complete", json={}, headers={**DIRECTOR, "If-Match": "1"}
    )
    assert stale.status_code == 409
    done = client.post(
        f"/api/v1/action-items/{item_id}/complete", json={}, headers={**DIRECTOR, "If-Match": '"2"'}
    )
    assert (done.status_code, done.get_json()["status"], done.get_json()["completed_date"]) == (
        201,
        "done",
        "2026-11-23",
    )
    listed = client.get(f"/api/v1/action-items?committee_id={committee['id']}&status=done", headers=PARENT_A)
    assert listed.get_json()["total"] == 0  # parent-a holds no seat on this board
    assert client.get("/api/v1/resolutions", headers=ESA).get_json()["total"] == 1
    assert client.get(f"/api/v1/committees/{committee['id']}/meetings", headers=ESA).get_json()["total"] == 1
    assert repo.event_types()[-6:] == [
        "committee.MeetingHeld",
        "committee.MinutesRecorded",
        "committee.ResolutionAdopted",
        "committee.ActionItemCreated",
        "committee.ActionItemProgressNoted",
        "committee.ActionItemCompleted",
    ]


def test_authorization_matrix(client: FlaskClient, repo: FakeRepository) -> None:
    a = staffed(client, "13010001", "sec-a", members=2)
    a = appoint(client, a["id"], account="parent-a", stakeholder_group="parent").get_json()
    b = staffed(client, "13010002", "sec-b", members=2)
    a_meeting = meeting(client, a["id"]).get_json()["id"]
    saves = repo.saves

    # the secretary of committee A may not touch committee B (not even see it), nor B's secretary A
    assert appoint(client, b["id"], SECRETARY_A).status_code == 404
    assert meeting(client, b["id"], SECRETARY_A).status_code == 404
    assert client.get(f"/api/v1/committees/{b['id']}", headers=SECRETARY_A).status_code == 404
    assert appoint(client, a["id"], SECRETARY_B).status_code == 404
    # a parent member reads their own committee but cannot manage it
    assert client.get(f"/api/v1/committees/{a['id']}", headers=PARENT_A).status_code == 200
    assert client.get(f"/api/v1/meetings/{a_meeting}", headers=PARENT_A).status_code == 200
    assert client.get("/api/v1/committees", headers=PARENT_A).get_json()["total"] == 1
    assert appoint(client, a["id"], PARENT_A).status_code == 403
    assert post(client, f"/meetings/{a_meeting}/cancel", {}, PARENT_A).status_code == 403
    # the ESA officer reads the area but does not run meetings; another area's officer sees nothing
    assert client.get(f"/api/v1/committees/{a['id']}", headers=ESA).status_code == 200
    assert hold(client, a, a_meeting, present=3, headers=ESA).status_code == 403
    assert client.get(f"/api/v1/committees/{a['id']}", headers=OTHER_ESA).status_code == 404
    assert client.get(f"/api/v1/meetings/{a_meeting}", headers=OTHER_ESA).status_code == 404
    assert client.get("/api/v1/committees", headers=OTHER_ESA).get_json()["total"] == 0
    assert hold(client, a, a_meeting, present=3, headers=OTHER_ESA).status_code == 404
    assert appoint(client, a["id"], OTHER_DIRECTOR).status_code == 404
    assert repo.saves == saves
    # the school director manages their own board
    assert hold(client, a, a_meeting, present=3, headers=DIRECTOR).status_code == 201
    assert appoint(client, a["id"], DIRECTOR, stakeholder_group="alumni").status_code == 201
    # whoever may establish a committee staffs it: the ESA officer appoints, but still runs no meetings
    assert appoint(client, a["id"], ESA, stakeholder_group="student").status_code == 201
    assert appoint(client, a["id"], OTHER_ESA, stakeholder_group="student").status_code == 404


@pytest.mark.parametrize(
    "extra",
    [
        {"unexpected": 1},
        {"org": {"esa_code": "50P1"}},
        {"id": "committee-mine"},
        {"version": 9},
        {"unit": "x"},
    ],
)
def test_unknown_and_server_owned_fields_are_422(
    client: FlaskClient, repo: FakeRepository, extra: dict
) -> None:
    response = post(client, "/committees", {**BOARD, "school_code": "13010001", **extra})
    assert response.status_code == 422
    assert response.get_json()["errors"]
    assert repo.saves == 0


@pytest.mark.parametrize(
    "body",
    [
        {**BOARD, "school_code": {"$gt": ""}},
        {**BOARD, "school_code": "$where"},
        {**BOARD, "school_code": "13010001", "$where": "sleep(1000)"},
        {**BOARD, "school_code": "13010001", "name_th": "$set"},
    ],
)
def test_operator_injection_is_422(client: FlaskClient, repo: FakeRepository, body: dict) -> None:
    assert post(client, "/committees", body).status_code == 422
    assert repo.saves == 0


def test_invalid_attendance_is_422_with_details(client: FlaskClient, repo: FakeRepository) -> None:
    committee = staffed(client, "13010001", "sec-a", members=2)
    meeting_id = meeting(client, committee["id"]).get_json()["id"]
    saves = repo.saves
    first = committee["members"][0]["id"]
    missing = post(client, f"/meetings/{meeting_id}/hold", {"attendance": {first: "present"}})
    assert missing.status_code == 422
    assert set(missing.get_json()["errors"]["attendance"]["missing"]) == {
        m["id"] for m in committee["members"][1:]
    }
    injected = post(client, f"/meetings/{meeting_id}/hold", {"attendance": {"$where": "present"}})
    assert injected.status_code == 422
    assert (
        post(client, f"/meetings/{meeting_id}/hold", {"attendance": {first: "sleeping"}}).status_code == 422
    )
    assert client.get("/api/v1/committees?kind=club", headers=ADMIN).status_code == 422
    assert client.get("/api/v1/action-items?page_size=201", headers=ADMIN).status_code == 422
    assert client.get("/api/v1/committees?shcool_code=1", headers=ADMIN).status_code == 422
    assert repo.saves == saves


def test_if_match_on_appointments(client: FlaskClient) -> None:
    committee = board(client)
    url = f"/api/v1/committees/{committee['id']}/members"
    body = {"name": "กรรมการ", "stakeholder_group": "parent", "role": "member", **TERM}
    assert client.post(url, json=body, headers={**ADMIN, "If-Match": "2"}).status_code == 409
    assert client.post(url, json=body, headers={**ADMIN, "If-Match": "1"}).status_code == 201
    assert client.post(url, json=body, headers={**ADMIN, "If-Match": "1"}).status_code == 409


def test_idempotent_replay(
    client: FlaskClient, repo: FakeRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored: dict[tuple[str, str], dict[str, Any]] = {}

    def claim(_db: Any, actor: str, key: str, *_: Any) -> dict[str, Any] | None:
        return stored.get((actor, key))

    def complete(_db: Any, actor: str, key: str, status: int, body: Any) -> None:
        stored[(actor, key)] = {"status": status, "body": body}

    monkeypatch.setattr("shared.idempotency.claim", claim)
    monkeypatch.setattr("shared.idempotency.complete", complete)
    monkeypatch.setattr(
        "shared.web.resources", lambda: type("R", (), {"store": type("S", (), {"db": None})})()
    )
    headers = {**ADMIN, "Idempotency-Key": "board-13010001"}
    first = post(client, "/committees", {**BOARD, "school_code": "13010001"}, headers)
    second = post(client, "/committees", {**BOARD, "school_code": "13010001"}, headers)
    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.headers.get("Idempotent-Replay") == "true"
    assert repo.saves == 1


def test_committee_rules_endpoint(client: FlaskClient) -> None:
    body = client.get("/api/v1/committee-rules", headers=token("teacher", "school", "13010001")).get_json()
    assert body["school_board_seats"] == [
        {"max_students": 300, "seats": 9},
        {"max_students": None, "seats": 15},
    ]
    assert body["quorum"] == {"share": 0.5, "strictly_more": True}
    assert {"code": "parent", "name_th": "ผู้แทนผู้ปกครอง", "name_en": "Parents' representative"} in body[
        "stakeholder_groups"
    ]
    assert [r["code"] for r in body["member_roles"]] == ["chair", "secretary", "member"]
    assert {a["code"] for a in body["attendance"]} == {"present", "absent", "excused"}


def test_openapi_documents_every_endpoint_with_its_schemas(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    documented = {
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        for method in ops
        if method != "parameters"
    }
    assert documented == set(ENDPOINT_ACTIONS) | PUBLIC_TO_CALLERS
    assert set(ENDPOINT_ACTIONS.values()) == set(POLICY)
    for method, path in documented:
        operation = spec["paths"][path][method.lower()]
        success = "201" if method == "POST" else "200"
        assert "$ref" in str(operation["responses"][success]["content"]["application/json"]["schema"]), path
        assert operation.get("description") or operation.get("summary"), path
        if method == "POST":
            assert "requestBody" in operation, path
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            assert "Idempotency-Key" in headers, path
    assert "If-Match" in {
        p["name"] for p in spec["paths"]["/api/v1/meetings/{meeting_id}/hold"]["post"]["parameters"]
    }
