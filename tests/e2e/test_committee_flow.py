"""A school board and a network committee over HTTP: attendance reaching the district view, the quorum rule,
and one committee's people unable to touch another committee."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from deploy.local.servers import wait_until
from shared.calendar import period_of, today
from tests.stack import Stack

pytestmark = pytest.mark.e2e

SCHOOL, CLUSTER, AREA = "13010002", "13P1-C02", "13P1"
TERM = {"term_start": "2025-05-16", "term_end": "2029-05-15"}
# (stakeholder group, seat role, account of the person's sign-in)
BOARD_SEATS = [
    ("school_director", "secretary", "dir-13010002"),
    ("community_leader", "chair", None),
    ("parent", "member", "parent-13010002"),
    ("teacher", "member", None),
    ("religious_leader", "member", None),
]


def post(stack: Stack, path: str, headers: dict[str, str], body: dict[str, Any]) -> requests.Response:
    return requests.post(stack.url("committee", path), headers=headers, json=body, timeout=5)


def created(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return response.json()


def district_committee_view(stack: Stack) -> dict[str, Any]:
    response = requests.get(
        stack.url("monitoring", f"/api/v1/views/esa/{AREA}"),
        params=period_of(today()).as_dict(),
        headers=stack.token(f"esa-{AREA}", "esa_officer", "esa", AREA),
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return response.json()["committee"]


@pytest.fixture(scope="module")
def board(stack: Stack) -> dict[str, Any]:
    """The school board of SCHOOL, set up by its director, with five members."""
    director = stack.token("dir-13010002", "school_director", "school", SCHOOL)
    body = {
        "kind": "school_board",
        "name_th": "คณะกรรมการสถานศึกษาโรงเรียนวัดโบสถ์",
        "school_code": SCHOOL,
        "established_date": "2025-05-16",
    }
    committee = created(post(stack, "/api/v1/committees", director, body))
    assert committee["seats"] == 9  # 96 students: the rule for schools of up to 300
    for n, (group, role, account) in enumerate(BOARD_SEATS):
        member = {"name": f"กรรมการ {n + 1}", "stakeholder_group": group, "role": role, **TERM}
        if account:
            member["account"] = account
        committee = created(post(stack, f"/api/v1/committees/{committee['id']}/members", director, member))
    return committee


def hold_meeting(stack: Stack, board: dict[str, Any], present: int) -> dict[str, Any]:
    """Schedule and hold a meeting of `board` today, its first `present` members present."""
    secretary = stack.token("dir-13010002", "school_director", "school", SCHOOL)
    meeting = created(
        post(
            stack,
            f"/api/v1/committees/{board['id']}/meetings",
            secretary,
            {"meeting_date": today().isoformat(), "agenda": ["แผนพัฒนาคุณภาพการศึกษา"]},
        )
    )
    members = [m["id"] for m in board["members"]]
    attendance = {m: "present" if i < present else "absent" for i, m in enumerate(members)}
    return created(
        post(stack, f"/api/v1/meetings/{meeting['id']}/hold", secretary, {"attendance": attendance})
    )


def attendance_totals(view: dict[str, Any]) -> tuple[int, int]:
    """(present, recorded) over every stakeholder group."""
    counts = view["attendance"].values()
    return sum(c["present"] for c in counts), sum(sum(c.values()) for c in counts)


def stored(stack: Stack) -> tuple[int, int, int]:
    db = stack.db("committee")
    counts = (db[name].count_documents({}) for name in ("committees", "meetings", "resolutions"))
    return (
        sum(counts),
        db["outbox"].count_documents({}),
        db["audit"].count_documents({"action": {"$ne": None}}),
    )


def test_held_meeting_attendance_moves_the_district_participation_rate(
    stack: Stack, board: dict[str, Any]
) -> None:
    before = district_committee_view(stack)
    held = hold_meeting(stack, board, present=4)
    assert held["quorum_reached"] is True
    accepted_at = time.monotonic()

    after = wait_until(
        lambda: (v := district_committee_view(stack))["meetings_held"] > before["meetings_held"] and v,
        timeout=10,
        interval=0.02,
        what="the held meeting in the district view",
    )
    print(f"meeting held 2xx -> district view: {(time.monotonic() - accepted_at) * 1000:.0f} ms")
    present_before, recorded_before = attendance_totals(before)
    assert attendance_totals(after) == (present_before + 4, recorded_before + 5)
    assert after["attendance_rate"] == round((present_before + 4) / (recorded_before + 5), 4)
    assert after["attendance_rate_by_group"]["school_director"] is not None
    assert after["community_share"] is not None and after["community_share"] > 0


def test_a_resolution_at_a_meeting_without_quorum_gets_409_and_stores_nothing(
    stack: Stack, board: dict[str, Any]
) -> None:
    held = hold_meeting(stack, board, present=2)  # 2 of 5: more than half needs 3
    assert held["quorum_reached"] is False
    before = stored(stack)
    secretary = stack.token("dir-13010002", "school_director", "school", SCHOOL)
    response = post(
        stack,
        f"/api/v1/meetings/{held['id']}/resolutions",
        secretary,
        {"title": "อนุมัติแผน", "text": "ที่ประชุมอนุมัติแผนพัฒนาคุณภาพการศึกษา"},
    )
    assert response.status_code == 409, response.text
    assert "quorum" in response.json()["message"]
    assert stored(stack)[:2] == before[:2]


def test_a_member_of_one_committee_cannot_edit_another(stack: Stack, board: dict[str, Any]) -> None:
    officer = stack.token(f"esa-{AREA}", "esa_officer", "esa", AREA)
    network = created(
        post(
            stack,
            "/api/v1/committees",
            officer,
            {
                "kind": "network",
                "name_th": "คณะกรรมการเครือข่าย 2",
                "cluster_id": CLUSTER,
                "seats": 7,
                "established_date": "2025-05-16",
            },
        )
    )
    secretary_of_network = {"name": "เลขานุการเครือข่าย", "stakeholder_group": "esao_representative"}
    secretary_of_network |= {"role": "secretary", "account": f"sec-{CLUSTER}", **TERM}
    created(post(stack, f"/api/v1/committees/{network['id']}/members", officer, secretary_of_network))
    network_secretary = stack.token(f"sec-{CLUSTER}", "committee_secretary", "cluster", CLUSTER)
    parent = stack.token("parent-13010002", "committee_member", "school", SCHOOL)
    before = stored(stack)

    attempts = [
        # the network's secretary on the school board
        (network_secretary, f"/api/v1/committees/{board['id']}/meetings", {"meeting_date": today().isoformat(), "agenda": ["x"]}),
        (network_secretary, f"/api/v1/committees/{board['id']}/members", {"name": "x", "stakeholder_group": "alumni", "role": "member", **TERM}),
        # the board's parent member on the network committee, and on their own board (read-only there)
        (parent, f"/api/v1/committees/{network['id']}/meetings", {"meeting_date": today().isoformat(), "agenda": ["x"]}),
        (parent, f"/api/v1/committees/{board['id']}/meetings", {"meeting_date": today().isoformat(), "agenda": ["x"]}),
    ]  # fmt: skip
    for headers, path, body in attempts:
        response = post(stack, path, headers, body)
        assert response.status_code in (403, 404), (path, response.status_code, response.text)
        assert "token" not in response.text.lower()
    assert stored(stack)[:2] == before[:2]

    # the parent still reads their own board, and the network's secretary manages the network
    own = requests.get(stack.url("committee", f"/api/v1/committees/{board['id']}"), headers=parent, timeout=5)
    assert own.status_code == 200
    meeting = {"meeting_date": today().isoformat(), "agenda": ["แผนงานเครือข่าย"]}
    created(post(stack, f"/api/v1/committees/{network['id']}/meetings", network_secretary, meeting))
