"""A teacher's hybrid training, from enrolment to the PD hours in the province view."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import pytest
import requests

from deploy.local.servers import wait_until
from shared.calendar import period_of
from tests.helpers import WRITES
from tests.stack import Stack

pytestmark = pytest.mark.e2e

TODAY = date.today().isoformat()
TEACHER = "T13010001-01"
OTHER_SCHOOLS_TEACHER = "T13010002-01"


def officer(stack: Stack) -> dict[str, str]:
    return stack.token("esa-13P1", "esa_officer", "esa", "13P1")


def teacher(stack: Stack) -> dict[str, str]:
    return stack.token(TEACHER, "teacher", "school", "13010001")


def post(
    stack: Stack, path: str, headers: dict[str, str], body: dict[str, Any], version: int | None = None
) -> Any:
    if version is not None:
        headers = {**headers, "If-Match": str(version)}
    return requests.post(stack.url("training", f"/api/v1{path}"), headers=headers, json=body, timeout=10)


def training_figures(stack: Stack) -> dict[str, Any]:
    response = requests.get(
        stack.url("monitoring", "/api/v1/views/province/13"),
        params=period_of(date.today()).as_dict(),
        headers=stack.token("prov-13", "province_officer", "province", "13"),
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return response.json()["training"]


@pytest.fixture(scope="module")
def programme(stack: Stack) -> dict[str, Any]:
    """A published ESA programme with one hybrid session today; 3 credited hours, 80% attendance rule."""
    created = post(
        stack,
        "/programmes",
        officer(stack),
        {
            "title_th": "การจัดการเรียนรู้เชิงรุก",
            "title_en": "Active learning",
            "competency_area": "active learning",
            "subject": "all",
            "grade_band": "all",
            "credited_hours": 3,
            "start_date": TODAY,
            "host_level": "esa",
            "host_code": "13P1",
        },
    )
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    session = post(
        stack,
        f"/programmes/{pid}/sessions",
        officer(stack),
        {
            "mode": "hybrid",
            "session_date": TODAY,
            "start_time": "09:00",
            "end_time": "12:00",
            "venue": "ห้องประชุม สพป.",
            "meeting_link": "https://meet.example.org/active",
            "capacity_onsite": 30,
            "capacity_online": 100,
        },
        created.json()["version"],
    )
    assert session.status_code == 201, session.text
    current = requests.get(
        stack.url("training", f"/api/v1/programmes/{pid}"), headers=officer(stack), timeout=10
    )
    published = post(stack, f"/programmes/{pid}/publish", officer(stack), {}, current.json()["version"])
    assert published.status_code == 201, published.text
    return published.json()


def test_a_completion_reaches_the_province_pd_hours_and_double_attendance_credits_once(
    stack: Stack, programme: dict[str, Any]
) -> None:
    pid, session_id = programme["id"], programme["sessions"][0]["id"]
    before = training_figures(stack)
    enrolled = post(
        stack, f"/programmes/{pid}/enrolments", teacher(stack), {"teacher_id": TEACHER, "mode": "online"}
    )
    assert enrolled.status_code == 201, enrolled.text
    for mode, minutes in (("online", 170), ("onsite", 180)):  # present online and onsite in the same session
        attended = post(
            stack,
            f"/programmes/{pid}/attendance",
            officer(stack),
            {"session_id": session_id, "teacher_id": TEACHER, "mode": mode, "minutes": minutes},
        )
        assert attended.status_code == 201, attended.text
    completed = post(stack, f"/programmes/{pid}/completions", officer(stack), {"teacher_id": TEACHER})
    assert completed.status_code == 201, completed.text
    accepted_at = time.monotonic()
    assert completed.json()["hours_credited"] == 3  # credited once, not once per mode
    again = post(stack, f"/programmes/{pid}/completions", officer(stack), {"teacher_id": TEACHER})
    assert again.status_code == 409

    after = wait_until(
        lambda: (f := training_figures(stack))["pd_hours"] >= before["pd_hours"] + 3 and f,
        timeout=10,
        interval=0.02,
        what="the PD hours in the province view",
    )
    print(
        f"\nfreshness: completion 2xx -> province PD hours in {(time.monotonic() - accepted_at) * 1000:.0f} ms"
    )
    assert after["pd_hours"] == before["pd_hours"] + 3
    assert after["teachers_completed"] == before["teachers_completed"] + 1
    assert after["pd_hours_per_teacher"] > 0


def test_a_teacher_cannot_enrol_another_schools_teacher(stack: Stack, programme: dict[str, Any]) -> None:
    db = stack.db("training")
    before = (db["outbox"].count_documents({}), db["audit"].count_documents(WRITES))
    response = post(
        stack,
        f"/programmes/{programme['id']}/enrolments",
        teacher(stack),
        {"teacher_id": OTHER_SCHOOLS_TEACHER, "mode": "online"},
    )
    assert response.status_code == 403, response.text
    assert (db["outbox"].count_documents({}), db["audit"].count_documents(WRITES)) == before


def test_reimporting_the_same_attendance_report_changes_nothing(
    stack: Stack, programme: dict[str, Any]
) -> None:
    pid, session_id = programme["id"], programme["sessions"][0]["id"]
    enrolled = post(
        stack,
        f"/programmes/{pid}/enrolments",
        officer(stack),
        {"teacher_id": "T13010001-02", "mode": "online"},
    )
    assert enrolled.status_code == 201, enrolled.text
    report = (
        "Name,Email,Join time,Leave time\n"
        "Napaporn Mankong,NAPAPORN.M0001@anp.example,09:02,10:30\n"
        "Napaporn Mankong,napaporn.m0001@anp.example,10:25,11:55\n"  # a rejoin, overlapping by 5 minutes
        "Somebody Else,nobody@example.org,09:00,12:00\n"
    )
    url = stack.url("training", f"/api/v1/programmes/{pid}/sessions/{session_id}/attendance-report")
    headers = {**officer(stack), "Content-Type": "text/csv"}
    first = requests.post(url, headers=headers, data=report.encode(), timeout=10)
    assert first.status_code == 201, first.text
    assert first.json()["recorded"] == 1 and first.json()["teachers"][0]["minutes"] == 173
    assert [row["line"] for row in first.json()["unmatched"]] == [4]
    db = stack.db("training")
    stored = (db["outbox"].count_documents({}), db["audit"].count_documents({}))

    again = requests.post(url, headers=headers, data=report.encode(), timeout=10)
    assert again.status_code == 201, again.text
    assert again.json()["recorded"] == 0 and again.json()["unchanged"] == 1
    assert (db["outbox"].count_documents({}), db["audit"].count_documents({})) == stored
