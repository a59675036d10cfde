"""The authorization matrix: every protected operation of every service's OpenAPI document x every role x
every scope relation between the caller's token and the object, checked against the intended policy
(tests/security/policy.py). Nobody sees or changes what is not theirs.

Objects are seeded through the services' own APIs (an admin token) in a small org tree; the directory copies
and the monitoring units are filled by the real projections. Per cell:
  allowed  the answer is no authorization refusal (2xx, or a 4xx about the content such as 409/422);
           a list shows the object
  denied   403 or 404 in the one error shape, nothing written, nothing of the object in the body; a list
           answers without the object (and with nothing outside the caller's scope)
An operation of an OpenAPI document missing from the policy fails its test.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.monitoring.projection import MonitoringProjection
from shared.auth import ROLES, Principal, issue_token
from shared.calendar import today
from shared.directory_copy import DirectoryCopy
from shared.envelope import Org
from shared.projection import DeadLetters, Projection, ProjectionWriter, Record
from shared.settings import Settings
from shared.store import AUDIT, OUTBOX
from tests.eventfactory import wire
from tests.helpers import WRITES
from tests.security import policy
from tests.security.conftest import PROTECTED, Operation, assert_error_shape, stored_counts

pytestmark = pytest.mark.integration

# --- the org tree ------------------------------------------------------------------------------------------

Unit = tuple[str, str | None]  # (level, code); ("national", None) is the top
NATIONAL: Unit = ("national", None)
PARENTS: dict[Unit, Unit] = {
    ("province", "13"): NATIONAL,
    ("province", "50"): NATIONAL,
    ("esa", "13P1"): ("province", "13"),
    ("esa", "13P2"): ("province", "13"),
    ("esa", "50P1"): ("province", "50"),
    ("cluster", "13P1-C01"): ("esa", "13P1"),
    ("cluster", "13P1-C02"): ("esa", "13P1"),
    ("cluster", "13P2-C01"): ("esa", "13P2"),
    ("cluster", "50P1-C01"): ("esa", "50P1"),
    ("school", "13010001"): ("cluster", "13P1-C01"),
    ("school", "13010002"): ("cluster", "13P1-C01"),
    ("school", "13010003"): ("cluster", "13P1-C02"),
    ("school", "13020001"): ("cluster", "13P2-C01"),
    ("school", "50010001"): ("cluster", "50P1-C01"),
}
OTHER_PROVINCE: dict[str, Unit] = {
    "province": ("province", "50"),
    "esa": ("esa", "50P1"),
    "cluster": ("cluster", "50P1-C01"),
    "school": ("school", "50010001"),
}
SCHOOL: Unit = ("school", "13010001")
BOARD_SCHOOL = SCHOOL  # the school of the seeded school board
CLUSTER: Unit = ("cluster", "13P1-C01")
ESA: Unit = ("esa", "13P1")
TEACHER, OTHER_TEACHER = "T13010001-01", "T13010001-02"
MARK = "ความลับ-authz"  # in every seeded text: must never appear in a refusal
SEAT_ACCOUNTS = {"committee_member": "acct-authz-member", "committee_secretary": "acct-authz-secretary"}


def ancestors(unit: Unit) -> list[Unit]:
    found = []
    while unit in PARENTS:
        unit = PARENTS[unit]
        found.append(unit)
    return found


def org_of(unit: Unit) -> Org:
    path = {level: code for level, code in [unit, *ancestors(unit)]}
    return Org(path.get("school"), path.get("cluster"), path.get("esa"), path.get("province"))


def scope_of(relation: str, target: Unit) -> Unit | None:
    """The token scope that stands in `relation` to `target`; None where the relation does not exist."""
    level = target[0]
    if relation == policy.OWN:
        return target
    if relation == policy.NATIONAL:
        return NATIONAL
    if relation == policy.SIBLING:
        same = [u for u, p in PARENTS.items() if p == PARENTS.get(target) and u != target and u[0] == level]
        return same[0] if same and level != "province" else None  # province 50 is the other province
    if relation.startswith("parent:"):
        wanted = relation.split(":")[1]
        return next((u for u in ancestors(target) if u[0] == wanted), None)
    if relation == policy.CHILD:
        return next((u for u in PARENTS if u[0] == "school" and target in ancestors(u)), None)
    if relation == policy.OTHER:
        twin = OTHER_PROVINCE.get(level)
        return twin if twin is not None and org_of(target).province_code != "50" else None
    raise AssertionError(f"unknown relation {relation}")


def sub_for(role: str, scope: Unit) -> str:
    """A teacher token scoped to a school is that school's first teacher; seated roles hold their seats."""
    if role == "teacher" and scope[0] == "school":
        return f"T{scope[1]}-01"
    return SEAT_ACCOUNTS.get(role, f"authz-{role}")


# --- master data, through the real projections ---------------------------------------------------------


def unit_name(code: str) -> dict[str, str]:
    return {"name_th": f"{MARK} {code}", "name_en": f"{MARK} {code}"}


def directory_events() -> list[bytes]:
    since = {"effective_from": "2026-05-16"}
    events = []
    for level, code in PARENTS:
        org = org_of((level, code))
        base = {"esa_code": org.esa_code, "province_code": org.province_code, **unit_name(str(code)), **since}
        if level == "esa":
            payload = {**base, "level": "primary"}
            events.append(wire("directory.EsaAreaRecorded", payload, org, str(code)))
        elif level == "cluster":
            payload = {**base, "cluster_id": code, "models": ["supervision"]}
            events.append(wire("directory.ClusterRecorded", payload, org, str(code)))
        elif level == "school":
            events += school_events(str(code), org, base)
    return events


def school_events(code: str, org: Org, base: dict[str, Any]) -> list[bytes]:
    school = {
        **base,
        "school_code": code,
        "cluster_id": org.cluster_id,
        "amphoe": "",
        "size_category": "small",
        "students": 90,
        "teachers": 5,
    }
    events = [wire("directory.SchoolRecorded", school, org, code)]
    for n in (1, 2):
        teacher_id = f"T{code}-0{n}"
        teacher = {
            "teacher_id": teacher_id,
            "school_code": code,
            "name_th": f"{MARK} ครู {teacher_id}",
            "name_en": f"Teacher {teacher_id}",
            "email": f"{teacher_id.lower()}@school.example.org",
            "effective_from": "2026-05-16",
        }
        events.append(wire("directory.TeacherRecorded", teacher, org, teacher_id))
    return events


def project(app: Flask, projection: Projection, topic: str, values: list[bytes]) -> None:
    store = app.extensions["anp"].store
    writer = ProjectionWriter(store, projection, f"authz-{topic}", DeadLetters(None))
    writer.apply([Record(topic, 0, offset, value) for offset, value in enumerate(values)])


# --- requests ----------------------------------------------------------------------------------------------

World = dict[str, str]  # names of seeded objects -> their ids
Body = dict[str, Any] | Callable[[World], dict[str, Any]] | None


@dataclass(frozen=True)
class Call:
    """One request, its path and body filled in from the seeded ids."""

    method: str
    path: str
    body: Body = None
    query: dict[str, Any] = field(default_factory=dict)
    csv: bytes | None = None

    def send(self, client: FlaskClient, world: World, headers: dict[str, str]) -> Any:
        body = self.body(world) if callable(self.body) else self.body
        kwargs: dict[str, Any] = {"json": body} if body is not None else {}
        if self.csv is not None:
            kwargs = {"data": self.csv, "content_type": "text/csv"}
        path = self.path.format(**world)
        return client.open(path, method=self.method, headers=headers, query_string=self.query, **kwargs)

    def sent(self, world: World) -> str:
        """Everything the caller sent, as text: what a refusal may echo."""
        body = self.body(world) if callable(self.body) else self.body
        return self.path.format(**world) + json.dumps(self.query) + json.dumps(body) + str(self.csv)


def get(path: str, **query: Any) -> Call:
    return Call("GET", path, query=query)


def post(path: str, body: Body = None, **query: Any) -> Call:
    return Call("POST", path, body if body is not None else {}, query)


def day(offset: int = 0) -> str:
    return (today() + timedelta(days=offset)).isoformat()


@dataclass(frozen=True)
class Scenario:
    """The unit an operation's object sits at, the call, and for a list the seeded object it must show."""

    target: Unit
    call: Call
    shows: str | None = None


PAGE = {"page_size": 200}
S = Scenario
API = "/api/v1"
VISIT_COMPLETION = {
    "visit_date": day(),
    "mode": "onsite",
    "rubric_scores": {"learning_design": 3, "assessment": 4},
    "teachers_observed": [TEACHER],
}
PLC = {
    "cluster_id": "13P1-C01",
    "school_codes": ["13010001", "13010002"],
    "session_date": day(),
    "topic": "PLC",
    "teacher_ids": [TEACHER, "T13010002-01"],
}
PLAN = {
    "title": "plan",
    "academic_year": 2569,
    "semester": 2,
    "target_school_codes": ["13010001"],
    "focus_areas": ["assessment"],
}
COACHING = {
    "kind": "coaching",
    "school_code": "13010001",
    "session_date": day(),
    "teacher_ids": [TEACHER],
    "minutes": 60,
    "topic": "t",
}
SUPERVISION = {
    "GET /api/v1/rubric-domains": S(SCHOOL, get(f"{API}/rubric-domains")),
    "GET /api/v1/plans": S(ESA, get(f"{API}/plans", **PAGE), shows="plan"),
    "POST /api/v1/plans": S(ESA, post(f"{API}/plans", PLAN)),
    "GET /api/v1/plans/{plan_id}": S(ESA, get(API + "/plans/{plan}")),
    "GET /api/v1/visits": S(SCHOOL, get(f"{API}/visits", **PAGE), shows="visit_done"),
    "POST /api/v1/visits": S(
        SCHOOL, post(f"{API}/visits", {"school_code": "13010001", "scheduled_date": day(), "mode": "onsite"})
    ),
    "GET /api/v1/visits/{visit_id}": S(SCHOOL, get(API + "/visits/{visit_done}")),
    "POST /api/v1/visits/{visit_id}/complete": S(
        SCHOOL, post(API + "/visits/{visit_open}/complete", VISIT_COMPLETION)
    ),
    "POST /api/v1/visits/{visit_id}/cancel": S(
        SCHOOL, post(API + "/visits/{visit_cancel}/cancel", {"reason": "r"})
    ),
    "POST /api/v1/visits/{visit_id}/findings": S(
        SCHOOL,
        post(
            API + "/visits/{visit_done}/findings",
            {"domain": "assessment", "finding": "f", "recommendation": "r"},
        ),
    ),
    "GET /api/v1/coaching-sessions": S(SCHOOL, get(f"{API}/coaching-sessions", **PAGE), shows="coaching"),
    "POST /api/v1/coaching-sessions": S(SCHOOL, post(f"{API}/coaching-sessions", COACHING)),
    "GET /api/v1/coaching-sessions/{session_id}": S(SCHOOL, get(API + "/coaching-sessions/{coaching}")),
    "GET /api/v1/plc-sessions": S(CLUSTER, get(f"{API}/plc-sessions", **PAGE), shows="plc"),
    "POST /api/v1/plc-sessions": S(CLUSTER, post(f"{API}/plc-sessions", PLC)),
    "GET /api/v1/plc-sessions/{session_id}": S(CLUSTER, get(API + "/plc-sessions/{plc}")),
    "GET /api/v1/findings": S(SCHOOL, get(f"{API}/findings", **PAGE), shows="finding"),
    "GET /api/v1/findings/{finding_id}": S(SCHOOL, get(API + "/findings/{finding}")),
    "POST /api/v1/findings/{finding_id}/follow-ups": S(
        SCHOOL,
        post(API + "/findings/{finding}/follow-ups", {"owner": "o", "action": "a", "due_date": day(30)}),
    ),
    "GET /api/v1/follow-ups": S(SCHOOL, get(f"{API}/follow-ups", **PAGE), shows="follow_up"),
    "GET /api/v1/follow-ups/{follow_up_id}": S(SCHOOL, get(API + "/follow-ups/{follow_up}")),
    "POST /api/v1/follow-ups/{follow_up_id}/complete": S(
        SCHOOL, post(API + "/follow-ups/{follow_up}/complete")
    ),
}

PROGRAMME = {
    "title_th": f"{MARK} หลักสูตร",
    "competency_area": "active_learning",
    "subject": "science",
    "grade_band": "p4_6",
    "credited_hours": 12,
    "start_date": day(-10),
    "host_level": "esa",
    "host_code": "13P1",
}
SESSION = {
    "mode": "hybrid",
    "session_date": day(-5),
    "start_time": "09:00",
    "end_time": "12:00",
    "venue": "venue",
    "meeting_link": "https://meet.example.org/authz",
    "capacity_onsite": 50,
    "capacity_online": 50,
}
REPORT = f"Name,Email,Join time,Leave time,Duration (minutes)\nTeacher {TEACHER},{TEACHER.lower()}@school.example.org,"
P = API + "/programmes/{programme}"
TRAINING = {
    "GET /api/v1/programmes": S(ESA, get(f"{API}/programmes", **PAGE), shows="programme"),
    "POST /api/v1/programmes": S(ESA, post(f"{API}/programmes", {**PROGRAMME, "title_th": "new"})),
    "GET /api/v1/programmes/{programme_id}": S(ESA, get(P)),
    "POST /api/v1/programmes/{programme_id}/publish": S(
        ESA, post(API + "/programmes/{programme_draft}/publish")
    ),
    "POST /api/v1/programmes/{programme_id}/close": S(ESA, post(API + "/programmes/{programme_close}/close")),
    "POST /api/v1/programmes/{programme_id}/sessions": S(
        ESA, post(P + "/sessions", {**SESSION, "venue": "v"})
    ),
    "POST /api/v1/programmes/{programme_id}/sessions/{session_id}/reschedule": S(
        ESA,
        post(
            P + "/sessions/{session}/reschedule",
            {"session_date": day(-5), "start_time": "09:00", "end_time": "12:00"},
        ),
    ),
    "POST /api/v1/programmes/{programme_id}/sessions/{session_id}/cancel": S(
        ESA, post(P + "/sessions/{session_cancel}/cancel", {"reason": "r"})
    ),
    "GET /api/v1/programmes/{programme_id}/enrolments": S(
        ESA, get(P + "/enrolments", **PAGE), shows="teacher"
    ),
    "POST /api/v1/programmes/{programme_id}/enrolments": S(
        SCHOOL,
        post(API + "/programmes/{programme_enrol}/enrolments", {"teacher_id": TEACHER, "mode": "online"}),
    ),
    "POST /api/v1/programmes/{programme_id}/enrolments/{teacher_id}/withdraw": S(
        SCHOOL, post(API + "/programmes/{programme_withdraw}/enrolments/" + TEACHER + "/withdraw")
    ),
    "POST /api/v1/programmes/{programme_id}/attendance": S(
        ESA,
        post(
            P + "/attendance",
            lambda w: {
                "session_id": w["session"],
                "teacher_id": OTHER_TEACHER,
                "mode": "online",
                "minutes": 30,
            },
        ),
    ),
    "POST /api/v1/programmes/{programme_id}/sessions/{session_id}/attendance-report": S(
        ESA,
        Call(
            "POST",
            P + "/sessions/{session}/attendance-report",
            csv=f"{REPORT}{day(-5)} 09:00:00,{day(-5)} 12:00:00,180\n".encode(),
        ),
    ),
    "POST /api/v1/programmes/{programme_id}/completions": S(
        ESA, post(P + "/completions", {"teacher_id": OTHER_TEACHER})
    ),
    "GET /api/v1/attendance": S(SCHOOL, get(f"{API}/attendance", **PAGE), shows="attendance"),
    "GET /api/v1/attendance/{attendance_id}": S(SCHOOL, get(API + "/attendance/{attendance}")),
    "GET /api/v1/completions": S(SCHOOL, get(f"{API}/completions", **PAGE), shows="completion"),
    "GET /api/v1/completions/{completion_id}": S(SCHOOL, get(API + "/completions/{completion}")),
    "GET /api/v1/teachers/{teacher_id}/pd-hours": S(SCHOOL, get(f"{API}/teachers/{TEACHER}/pd-hours")),
    "GET /api/v1/completions/{completion_id}/certificate.html": S(
        SCHOOL, get(API + "/completions/{completion}/certificate.html")
    ),
    "GET /api/v1/completions/{completion_id}/certificate.pdf": S(
        SCHOOL, get(API + "/completions/{completion}/certificate.pdf")
    ),
}

M = API + "/meetings/{meeting_held}"
COMMITTEE = {
    "GET /api/v1/committee-rules": S(SCHOOL, get(f"{API}/committee-rules")),
    "GET /api/v1/committees": S(BOARD_SCHOOL, get(f"{API}/committees", **PAGE), shows="board"),
    "POST /api/v1/committees": S(
        ("school", "13010002"),
        post(
            f"{API}/committees",
            {
                "kind": "school_board",
                "name_th": "board",
                "school_code": "13010002",
                "established_date": day(),
            },
        ),
    ),
    "GET /api/v1/committees/{committee_id}": S(BOARD_SCHOOL, get(API + "/committees/{board}")),
    "POST /api/v1/committees/{committee_id}/members": S(
        BOARD_SCHOOL,
        post(
            API + "/committees/{board}/members",
            {
                "name": "n",
                "stakeholder_group": "alumni",
                "role": "member",
                "term_start": day(),
                "term_end": day(700),
            },
        ),
    ),
    "POST /api/v1/committees/{committee_id}/members/{member_id}/end-term": S(
        BOARD_SCHOOL, post(API + "/committees/{board}/members/{member_extra}/end-term", {"reason": "r"})
    ),
    "GET /api/v1/committees/{committee_id}/meetings": S(
        BOARD_SCHOOL, get(API + "/committees/{board}/meetings", **PAGE), shows="meeting_held"
    ),
    "POST /api/v1/committees/{committee_id}/meetings": S(
        BOARD_SCHOOL, post(API + "/committees/{board}/meetings", {"meeting_date": day(7), "agenda": ["a"]})
    ),
    "GET /api/v1/meetings/{meeting_id}": S(BOARD_SCHOOL, get(M)),
    "POST /api/v1/meetings/{meeting_id}/hold": S(
        BOARD_SCHOOL,
        post(
            API + "/meetings/{meeting_hold}/hold",
            lambda w: {"attendance": dict.fromkeys(w["seated"].split(","), "present")},
        ),
    ),
    "POST /api/v1/meetings/{meeting_id}/cancel": S(
        BOARD_SCHOOL, post(API + "/meetings/{meeting_cancel}/cancel")
    ),
    "POST /api/v1/meetings/{meeting_id}/minutes": S(BOARD_SCHOOL, post(M + "/minutes", {"minutes": "m"})),
    "POST /api/v1/meetings/{meeting_id}/resolutions": S(
        BOARD_SCHOOL, post(M + "/resolutions", {"title": "t", "text": "x"})
    ),
    "GET /api/v1/resolutions": S(BOARD_SCHOOL, get(f"{API}/resolutions", **PAGE), shows="resolution"),
    "GET /api/v1/resolutions/{resolution_id}": S(BOARD_SCHOOL, get(API + "/resolutions/{resolution}")),
    "POST /api/v1/resolutions/{resolution_id}/action-items": S(
        BOARD_SCHOOL,
        post(
            API + "/resolutions/{resolution}/action-items",
            {"description": "d", "owner": {"kind": "school", "id": "13010001"}, "due_date": day(30)},
        ),
    ),
    "GET /api/v1/action-items": S(BOARD_SCHOOL, get(f"{API}/action-items", **PAGE), shows="item_note"),
    "GET /api/v1/action-items/{action_item_id}": S(BOARD_SCHOOL, get(API + "/action-items/{item_note}")),
    "POST /api/v1/action-items/{action_item_id}/notes": S(
        BOARD_SCHOOL, post(API + "/action-items/{item_note}/notes", {"note": "n", "percent_done": 50})
    ),
    "POST /api/v1/action-items/{action_item_id}/complete": S(
        BOARD_SCHOOL, post(API + "/action-items/{item_done}/complete")
    ),
}

RESULTS_CSV = (
    b"test,academic_year,school_code,subject,grade,mean,tested,band_0-49.99,band_50-100\n"
    b"onet,2568,13010001,math,P6,41.25,30,20,10\n"
)
ACHIEVEMENT = {
    "GET /api/v1/tests": S(SCHOOL, get(f"{API}/tests")),
    "POST /api/v1/imports": S(
        SCHOOL, Call("POST", f"{API}/imports", query={"file_name": "r.csv"}, csv=RESULTS_CSV)
    ),
    "GET /api/v1/imports": S(ESA, get(f"{API}/imports", **PAGE), shows="import"),
    "GET /api/v1/imports/{import_id}": S(ESA, get(API + "/imports/{import}")),
    "GET /api/v1/results": S(SCHOOL, get(f"{API}/results", **PAGE), shows="result"),
    "GET /api/v1/results/{result_id}": S(SCHOOL, get(API + "/results/{result}")),
}

MONITORING = {
    "GET /api/v1/views/{level}/{code}": S(ESA, get(f"{API}/views/esa/13P1")),
    "GET /api/v1/periods": S(SCHOOL, get(f"{API}/periods")),
    "GET /api/v1/projector/lag": S(SCHOOL, get(f"{API}/projector/lag")),
    "GET /api/v1/what-works/{level}/{code}": S(ESA, get(f"{API}/what-works/esa/13P1")),
    "GET /api/v1/indicators": S(SCHOOL, get(f"{API}/indicators")),
    "GET /api/v1/indicators/{level}/{code}": S(ESA, get(f"{API}/indicators/esa/13P1")),
    "GET /api/v1/export/views/{level}/{code}": S(ESA, get(f"{API}/export/views/esa/13P1", format="csv")),
    "GET /api/v1/export/indicators/{level}/{code}": S(
        ESA, get(f"{API}/export/indicators/esa/13P1", format="csv")
    ),
    "GET /api/v1/export/what-works/{level}/{code}": S(
        ESA, get(f"{API}/export/what-works/esa/13P1", format="csv")
    ),
    "GET /api/v1/export/alerts/{level}/{code}": S(ESA, get(f"{API}/export/alerts/esa/13P1", format="csv")),
    "GET /api/v1/alerts/{level}/{code}": S(ESA, get(f"{API}/alerts/esa/13P1")),
    "GET /api/v1/alert-rules": S(SCHOOL, get(f"{API}/alert-rules")),
    "GET /api/v1/me": S(SCHOOL, get(f"{API}/me")),
    "GET /api/v1/pulse/{level}/{code}": S(ESA, get(f"{API}/pulse/esa/13P1")),
    "GET /api/v1/trends/{level}/{code}": S(ESA, get(f"{API}/trends/esa/13P1")),
    "GET /api/v1/activity/school/{code}": S(SCHOOL, get(f"{API}/activity/school/13010001")),
}

SCENARIOS: dict[str, Scenario] = {
    f"{service}:{operation}": scenario
    for service, table in (
        ("supervision", SUPERVISION),
        ("training", TRAINING),
        ("committee", COMMITTEE),
        ("achievement", ACHIEVEMENT),
        ("monitoring", MONITORING),
    )
    for operation, scenario in table.items()
}


# --- seeding, through the services' APIs ---------------------------------------------------------------


class Seeder:
    """Creates the objects the matrix is about, as a national admin, and remembers their ids."""

    def __init__(self, clients: dict[str, FlaskClient], settings: Settings) -> None:
        self.clients, self.world = clients, {"teacher": TEACHER}
        self.headers = token(settings, "admin", NATIONAL)

    def call(self, service: str, path: str, body: Any = None, name: str | None = None, **kwargs: Any) -> Any:
        response = self.clients[service].post(API + path, json=body or {}, headers=self.headers, **kwargs)
        assert response.status_code == 201, (path, response.get_json())
        answer = response.get_json()
        if name is not None:
            self.world[name] = answer["id"]
        return answer

    def supervision(self) -> None:
        self.call("supervision", "/plans", {**PLAN, "title": f"{MARK} plan"}, "plan")
        visit = {"school_code": "13010001", "scheduled_date": day(), "mode": "onsite"}
        for name in ("visit_done", "visit_open", "visit_cancel"):
            self.call("supervision", "/visits", visit, name)
        done = f"/visits/{self.world['visit_done']}"
        self.call("supervision", f"{done}/complete", {**VISIT_COMPLETION, "notes": MARK})
        finding = {"domain": "assessment", "finding": MARK, "recommendation": MARK}
        self.call("supervision", f"{done}/findings", finding, "finding")
        follow_up = {"owner": MARK, "action": MARK, "due_date": day(30)}
        self.call("supervision", f"/findings/{self.world['finding']}/follow-ups", follow_up, "follow_up")
        self.call("supervision", "/coaching-sessions", {**COACHING, "topic": MARK}, "coaching")
        self.call("supervision", "/plc-sessions", {**PLC, "topic": MARK}, "plc")

    def programme(self, name: str, publish: bool = True, sessions: int = 1) -> str:
        programme_id = self.call("training", "/programmes", PROGRAMME, name)["id"]
        for n in range(sessions):
            scheduled = self.call("training", f"/programmes/{programme_id}/sessions", SESSION)
            self.world.setdefault(f"{name}_session_{n}", scheduled["session"]["id"])
        if publish:
            self.call("training", f"/programmes/{programme_id}/publish")
        return programme_id

    def training(self) -> None:
        main = self.programme("programme", sessions=2)
        self.world["session"], self.world["session_cancel"] = (
            self.world["programme_session_0"],
            self.world["programme_session_1"],
        )
        for teacher in (TEACHER, OTHER_TEACHER):
            self.call("training", f"/programmes/{main}/enrolments", {"teacher_id": teacher, "mode": "online"})
        for session in ("session_cancel", "session"):  # both attended: the completion rule is met
            present = {
                "session_id": self.world[session],
                "teacher_id": TEACHER,
                "mode": "online",
                "minutes": 180,
            }
            self.world["attendance"] = self.call("training", f"/programmes/{main}/attendance", present)["id"]
        self.call("training", f"/programmes/{main}/completions", {"teacher_id": TEACHER}, "completion")
        self.programme("programme_draft", publish=False)
        self.programme("programme_close")
        self.programme("programme_enrol")
        withdraw = self.programme("programme_withdraw")
        self.call("training", f"/programmes/{withdraw}/enrolments", {"teacher_id": TEACHER, "mode": "online"})

    def committee(self) -> None:
        board = {
            "kind": "school_board",
            "name_th": f"{MARK} board",
            "school_code": "13010001",
            "established_date": day(-30),
        }
        board_id = self.call("committee", "/committees", board, "board")["id"]
        seats = {
            "chair": None,
            "secretary": SEAT_ACCOUNTS["committee_secretary"],
            "member": SEAT_ACCOUNTS["committee_member"],
        }
        members = []
        for role, account in [*seats.items(), ("member", None)]:
            member = {
                "name": f"{MARK} {role}",
                "stakeholder_group": "parent",
                "role": role,
                "term_start": day(-30),
                "term_end": day(700),
                "account": account,
            }
            answer = self.call("committee", f"/committees/{board_id}/members", member)
            members.append(answer["members"][-1]["id"])
        self.world["member"], self.world["member_extra"] = members[2], members[3]
        self.world["seated"] = ",".join(members[:3])
        meeting = {"meeting_date": day(), "agenda": [MARK]}
        for name in ("meeting_hold", "meeting_cancel", "meeting_held"):
            self.call("committee", f"/committees/{board_id}/meetings", meeting, name)
        held = f"/meetings/{self.world['meeting_held']}"
        self.call(
            "committee", f"{held}/hold", {"attendance": dict.fromkeys(members, "present"), "minutes": MARK}
        )
        self.call("committee", f"{held}/resolutions", {"title": MARK, "text": MARK}, "resolution")
        item = {"description": MARK, "owner": {"kind": "member", "id": members[2]}, "due_date": day(30)}
        for name in ("item_note", "item_done"):
            self.call("committee", f"/resolutions/{self.world['resolution']}/action-items", item, name)

    def achievement(self, settings: Settings) -> None:
        officer = token(settings, "esa_officer", ESA)
        response = self.clients["achievement"].post(
            f"{API}/imports", data=RESULTS_CSV, headers=officer, content_type="text/csv"
        )
        assert response.status_code == 201, response.get_json()
        self.world["import"] = response.get_json()["import_id"]
        self.world["result"] = "onet-2568-13010001-math-P6"


def token(settings: Settings, role: str, scope: Unit) -> dict[str, str]:
    jwt = issue_token(
        settings, sub=sub_for(role, scope), role=role, scope_level=scope[0], scope_code=scope[1]
    )
    return {"Authorization": f"Bearer {jwt}"}


@pytest.fixture(scope="module")
def world(apps: dict[str, Flask], security_settings: Settings) -> World:
    topic = f"authz-directory-{uuid.uuid4().hex[:8]}"
    events = directory_events()
    for service in ("supervision", "training", "committee", "achievement"):
        project(apps[service], DirectoryCopy([topic]), topic, events)
    project(apps["monitoring"], MonitoringProjection([topic]), topic, events)
    seeder = Seeder({service: app.test_client() for service, app in apps.items()}, security_settings)
    seeder.supervision()
    seeder.training()
    seeder.committee()
    seeder.achievement(security_settings)
    return seeder.world


# --- the matrix --------------------------------------------------------------------------------------------


def written(app: Flask) -> dict[str, int]:
    """What the service's database holds, but for the audit entries of refusals (those are meant to grow)."""
    counts = stored_counts(app)
    counts[AUDIT] = app.extensions["anp"].store.db[AUDIT].count_documents(WRITES)
    return {name: n for name, n in counts.items() if n}


@dataclass
class Cell:
    role: str
    relation: str
    scope: Unit
    allowed: bool


@dataclass
class Tally:
    """What the matrix ran, for the summary printed at the end of the module."""

    absent: int = 0  # relations that do not exist for the object's unit
    by_service: dict[str, list[int]] = field(default_factory=dict)  # service -> [operations, allowed, denied]

    def count(self, service: str, allowed: int, denied: int) -> None:
        row = self.by_service.setdefault(service, [0, 0, 0])
        row[0], row[1], row[2] = row[0] + 1, row[1] + allowed, row[2] + denied

    def lines(self) -> list[str]:
        total = [sum(column) for column in zip(*self.by_service.values(), strict=True)]
        head = (
            f"authorization matrix: {total[0]} operations x {len(ROLES)} roles x {len(policy.RELATIONS)} "
            f"relations ({', '.join(policy.RELATIONS)}; {self.absent} cells absent: no such relation for the object's unit, "
            f"{len(policy.UNSCOPED)} operations without an object called once per role)"
        )
        rows = [f"  {'service':<12} {'operations':>10} {'allowed':>8} {'denied':>8}"]
        for service, (ops, allowed, denied) in [*self.by_service.items(), ("all", total)]:
            rows.append(f"  {service:<12} {ops:>10} {allowed:>8} {denied:>8}")
        return [head, *rows]


TALLY = Tally()


def cells(op_id: str, target: Unit) -> list[Cell]:
    """Every role x relation the object's unit has."""
    found = []
    relations = [policy.OWN] if op_id in policy.UNSCOPED else policy.RELATIONS
    for role in ROLES:
        for relation in relations:
            scope = scope_of(relation, target)
            if scope is None:
                TALLY.absent += 1
                continue
            found.append(Cell(role, relation, scope, policy.allowed(op_id, role, relation)))
    return found


def leaks(text: str, call: Call, world: World, target: Unit) -> list[str]:
    """Pieces of the object in a refusal: seeded text, or a code of its org path the caller did not send."""
    sent = call.sent(world)
    org = org_of(target)
    codes = [c for c in (org.school_code, org.cluster_id, org.esa_code) if c and c not in sent]
    return [piece for piece in (MARK, *codes) if piece in text]


def outside_scope(body: Any, scope: Unit) -> list[Any]:
    """The items of a list answer whose org path the caller's scope does not cover."""
    caller = Principal("x", "x", "x", scope[0], scope[1])
    items = body.get("items", []) if isinstance(body, dict) else []
    return [
        i.get("id")
        for i in items
        if isinstance(i.get("org"), dict) and not caller.covers(Org.from_dict(i["org"]))
    ]


def judge(op_id: str, scenario: Scenario, cell: Cell, response: Any, world: World) -> str | None:
    """What is wrong with the answer to one cell, or None."""
    status, text = response.status_code, response.get_data().decode(errors="replace")  # PDFs too
    if status >= 500:
        return f"{status}: {text[:200]}"
    shown = scenario.shows is not None and world[scenario.shows] in text
    if cell.allowed:
        if status in (401, 403, 404) or (scenario.shows is not None and not shown):
            return f"expected allowed, got {status}{' without the object' if status == 200 else ''}: {text[:200]}"
        return None
    if scenario.shows is not None and status == 200:
        stray = outside_scope(response.get_json(), cell.scope)
        return "the list shows the object" if shown else (f"the list shows {stray}" if stray else None)
    if op_id in policy.ROW_CHECKED and cell.role in policy.POLICY[op_id]:
        return (
            None if status == 422 and "outside your scope" in text else f"expected a row error, got {status}"
        )
    if status not in (403, 404):
        return f"expected 403/404, got {status}: {text[:200]}"
    assert_error_shape(response)
    found = leaks(text, scenario.call, world, scenario.target)
    return f"the refusal leaks {found}: {text[:200]}" if found else None


def run_cells(op: Operation, client: FlaskClient, app: Flask, world: World, settings: Settings) -> list[str]:
    """All cells of an operation; the database is compared around the refused ones, which run first."""
    scenario = SCENARIOS[op.id]
    refused, allowed = [], []
    for cell in cells(op.id, scenario.target):
        (allowed if cell.allowed else refused).append(cell)
    TALLY.count(op.service, len(allowed), len(refused))
    before = written(app) if op.method != "get" else {}
    problems = [p for cell in refused if (p := run_cell(op.id, scenario, cell, client, world, settings))]
    if op.method != "get":
        after = written(app)
        changed = {k: (before.get(k), n) for k, n in after.items() if before.get(k) != n}
        if op.id in policy.ROW_CHECKED:  # the import keeps a record of itself; no result, event or entry
            changed = {k: v for k, v in changed.items() if k in ("results", OUTBOX)}
        if changed:
            problems.append(f"  the refused calls wrote (collection: before, after) {changed}")
    problems += [p for cell in allowed if (p := run_cell(op.id, scenario, cell, client, world, settings))]
    return problems


def run_cell(
    op_id: str, scenario: Scenario, cell: Cell, client: FlaskClient, world: World, settings: Settings
) -> str | None:
    response = scenario.call.send(client, world, token(settings, cell.role, cell.scope))
    problem = judge(op_id, scenario, cell, response, world)
    return f"  {cell.role:<20} {cell.relation:<16} {cell.scope}: {problem}" if problem else None


@pytest.mark.parametrize("op", PROTECTED, ids=lambda op: op.id)
def test_nobody_sees_or_changes_what_is_not_theirs(
    op: Operation,
    apps: dict[str, Flask],
    clients: dict[str, FlaskClient],
    world: World,
    security_settings: Settings,
) -> None:
    assert op.id in policy.POLICY, f"{op.id} is in the OpenAPI document but not in tests/security/policy.py"
    assert op.id in SCENARIOS, f"{op.id} has no object to test on in SCENARIOS"
    problems = run_cells(op, clients[op.service], apps[op.service], world, security_settings)
    assert not problems, f"{op.id}: {len(problems)} cells differ from the policy\n" + "\n".join(problems)


def test_the_policy_names_only_documented_operations() -> None:
    documented = {op.id for op in PROTECTED}
    assert set(policy.POLICY) - documented == set(), "policy rows for operations no OpenAPI document lists"
    assert set(SCENARIOS) - documented == set()
    assert all(set(grant) <= set(ROLES) for grant in policy.POLICY.values())


@pytest.fixture(scope="module", autouse=True)
def summary(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is None or capture is None or not TALLY.by_service:
        return
    with capture.global_and_fixture_disabled():  # teardown output is captured: write past it
        reporter.write_line("")
        for line in TALLY.lines():
            reporter.write_line(line)
