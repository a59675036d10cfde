"""The achievement HTTP API over the in-memory repository: import by body (CSV or XLSX), 201 / 422 / 403 / 413
/ 415, strict input, scope-limited reads, the test catalogue and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from services.achievement.api import ENDPOINT_ACTIONS, PUBLIC_TO_CALLERS
from services.achievement.app import create_app
from services.achievement.handlers import POLICY
from services.achievement.schemas import XLSX_TYPE
from shared.auth import issue_token
from shared.catalog import catalog
from shared.settings import Settings
from tests.unit.fakes_achievement import FakeRepository
from tests.unit.test_achievement_import import GOOD, csv_bytes, xlsx_bytes

SETTINGS = Settings()


def token(
    role: str = "esa_officer", level: str = "esa", code: str | None = "13P1", sub: str | None = None
) -> dict[str, str]:
    jwt = issue_token(SETTINGS, sub=sub or f"{role}-{code}", role=role, scope_level=level, scope_code=code)
    return {"Authorization": f"Bearer {jwt}"}


OFFICER = token()
NATIONAL = token("national_officer", "national", None)


@pytest.fixture
def repo() -> FakeRepository:
    return FakeRepository()


@pytest.fixture
def client(repo: FakeRepository) -> Iterator[FlaskClient]:
    app = create_app(SETTINGS, repository_factory=lambda: repo)
    with app.test_client() as client:
        yield client


def upload(
    client: FlaskClient, data: bytes, headers: Any = None, content_type: str = "text/csv", query: str = ""
) -> Any:
    return client.post(
        f"/api/v1/imports{query}", data=data, headers=headers or OFFICER, content_type=content_type
    )


def test_an_import_answers_201_with_its_summary(client: FlaskClient, repo: FakeRepository) -> None:
    response = upload(
        client, csv_bytes(*GOOD[:2], "onet,2568,50010001,math,P6,40,10,5,5"), query="?file_name=onet-2568.csv"
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["rows"], body["new"], body["failed_rows"], body["file_name"]) == (3, 2, 1, "onet-2568.csv")
    assert body["errors"] == [
        {"line": 4, "column": "school_code", "message": "school 50010001 is outside your scope"}
    ]
    assert body["good_rows_stored"] is True
    for event in repo.outbox:
        catalog.check(event)
    assert len(repo.outbox) == 2

    record = client.get(f"/api/v1/imports/{body['import_id']}", headers=OFFICER).get_json()
    assert (record["import_id"], record["actor"], record["new"], record["status"]) == (
        body["import_id"], "esa_officer-13P1", 2, "completed_with_errors"
    )  # fmt: skip
    assert record["errors"] == body["errors"]
    listed = client.get("/api/v1/imports", headers=OFFICER).get_json()
    assert [i["import_id"] for i in listed["items"]] == [body["import_id"]]
    assert client.get("/api/v1/imports", headers=token(code="50P1")).get_json()["total"] == 0
    assert client.get(f"/api/v1/imports/{body['import_id']}", headers=token(code="50P1")).status_code == 404
    assert client.get("/api/v1/imports", headers=NATIONAL).get_json()["total"] == 1


def test_an_xlsx_body_imports_the_same(client: FlaskClient, repo: FakeRepository) -> None:
    assert upload(client, csv_bytes(*GOOD)).status_code == 201
    again = upload(client, xlsx_bytes(*GOOD), NATIONAL, XLSX_TYPE)
    assert again.status_code == 201
    assert (again.get_json()["unchanged"], again.get_json()["format"]) == (3, "xlsx")
    assert len(repo.outbox) == 3


def test_a_file_where_nothing_is_usable_is_422(client: FlaskClient, repo: FakeRepository) -> None:
    response = upload(
        client, csv_bytes("onet,2568,13010001,math,P6,400,10,5,5", "pisa,2568,13010001,math,P6,4,10,,")
    )
    assert response.status_code == 422
    body = response.get_json()
    assert set(body) == {"code", "status", "message", "errors"}
    assert [e["line"] for e in body["errors"]["rows"]] == [2, 3]
    assert repo.imports[body["errors"]["import_id"]]["status"] == "failed"
    bad_header = upload(client, b"school,mean\n1,2\n")
    assert bad_header.status_code == 422
    assert {e["column"] for e in bad_header.get_json()["errors"]["rows"]} >= {"school", "school_code"}
    assert (repo.saves, repo.outbox) == (0, [])


def test_who_may_import(client: FlaskClient, repo: FakeRepository) -> None:
    assert client.post("/api/v1/imports", data=csv_bytes(*GOOD), content_type="text/csv").status_code == 401
    for role, level, code in (
        ("supervisor", "esa", "13P1"),
        ("teacher", "school", "13010001"),
        ("province_officer", "province", "13"),
    ):
        assert upload(client, csv_bytes(*GOOD), token(role, level, code)).status_code == 403
    assert repo.imports == {} and repo.saves == 0
    assert upload(client, csv_bytes(*GOOD), token("admin", "national", None)).status_code == 201


def test_the_body_must_be_a_csv_or_xlsx_within_the_limit(client: FlaskClient, repo: FakeRepository) -> None:
    assert upload(client, csv_bytes(*GOOD), content_type="application/json").status_code == 415
    big = csv_bytes(*GOOD) + b"\n" * SETTINGS.max_body_bytes
    assert upload(client, big).status_code == 413
    assert upload(client, csv_bytes(*GOOD), query="?unknown=1").status_code == 422
    assert upload(client, csv_bytes(*GOOD), query="?file_name=../../etc/passwd").status_code == 422
    assert repo.imports == {}


def test_reads_are_limited_to_the_callers_scope(client: FlaskClient) -> None:
    assert upload(client, csv_bytes(*GOOD[:2]), NATIONAL).status_code == 201
    assert upload(client, csv_bytes("onet,2568,50010001,math,P6,40,10,5,5"), NATIONAL).status_code == 201
    rid = "onet-2568-13010001-math-P6"

    def ids(headers: dict[str, str], query: str = "") -> list[str]:
        response = client.get(f"/api/v1/results{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return [r["id"] for r in response.get_json()["items"]]

    assert len(ids(NATIONAL)) == 3
    assert ids(NATIONAL, "?test=onet&academic_year=2568&esa_code=50P1") == ["onet-2568-50010001-math-P6"]
    assert ids(NATIONAL, "?subject=literacy&grade=P3") == ["nt-2568-13010001-literacy-P3"]
    assert ids(token("supervisor"), "?province_code=13") == ["nt-2568-13010001-literacy-P3", rid]
    assert ids(token("teacher", "school", "13010001")) == ["nt-2568-13010001-literacy-P3", rid]
    assert ids(token("school_director", "school", "13010002")) == []
    assert ids(token("cluster_coordinator", "cluster", "13P1-C01"), "?esa_code=50P1") == []
    one = client.get(f"/api/v1/results/{rid}", headers=token("province_officer", "province", "13"))
    assert one.status_code == 200
    body = one.get_json()
    assert (body["mean"], body["tested"], body["distribution"], body["version"]) == (
        41.25,
        30,
        [{"band": "0-49.99", "students": 20}, {"band": "50-100", "students": 10}],
        1,
    )
    assert body["period"]["label_th"] == "ภาคเรียนที่ 2/2568"
    assert client.get(f"/api/v1/results/{rid}", headers=token("supervisor", code="50P1")).status_code == 404
    assert (
        client.get(
            f"/api/v1/results/{rid}", headers=token("committee_member", "school", "13010001")
        ).status_code
        == 403
    )
    assert client.get("/api/v1/results?test=pisa", headers=NATIONAL).status_code == 422
    assert client.get("/api/v1/results?colour=red", headers=NATIONAL).status_code == 422
    assert client.get("/api/v1/results?school_code[$gt]=", headers=NATIONAL).status_code == 422


def test_the_test_catalogue_is_for_any_signed_in_user(client: FlaskClient) -> None:
    assert client.get("/api/v1/tests").status_code == 401
    response = client.get("/api/v1/tests", headers=token("committee_member", "school", "13010001"))
    assert response.status_code == 200
    body = response.get_json()
    onet = next(t for t in body["tests"] if t["code"] == "onet")
    assert body["semester"] == 2 and onet["scale"] == [0, 100]
    p6 = next(g for g in onet["grades"] if g["grade"] == "P6")
    assert {"code": "math", "name_th": "คณิตศาสตร์", "name_en": "Mathematics"} in p6["subjects"]


def test_every_endpoint_is_documented_with_a_policy_action(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    operations = {(m.upper(), p) for p, item in spec["paths"].items() for m in item if m != "parameters"}
    assert operations == set(ENDPOINT_ACTIONS) | PUBLIC_TO_CALLERS
    assert set(ENDPOINT_ACTIONS.values()) <= set(POLICY)
    post = spec["paths"]["/api/v1/imports"]["post"]
    assert {"201", "403", "413", "415", "422"} <= set(post["responses"])
    assert set(post["requestBody"]["content"]) == {"text/csv", XLSX_TYPE}
