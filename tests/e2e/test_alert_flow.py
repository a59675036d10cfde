"""An alert over HTTP: a school board established long ago with no meeting makes the school's committee alert
appear, a meeting held through the committee API clears it, and both transitions go out as events."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
import requests

from deploy.local.servers import wait_until
from shared.calendar import today
from shared.catalog import catalog
from shared.clients import kafka_consumer
from shared.settings import TOPICS
from tests.stack import Stack

pytestmark = pytest.mark.e2e

SCHOOL, AREA = "13010006", "13P1"
ALERT_ID = f"committee_inactive:school:{SCHOOL}"


def post(stack: Stack, path: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(stack.url("committee", path), headers=headers, json=body, timeout=5)
    assert response.status_code == 201, response.text
    return response.json()


def alert(stack: Stack, status: str) -> dict[str, Any] | None:
    response = requests.get(
        stack.url("monitoring", f"/api/v1/alerts/esa/{AREA}"),
        params={"status": status, "rule": "committee_inactive"},
        headers=stack.token(f"esa-{AREA}", "esa_officer", "esa", AREA),
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return next((a for a in response.json()["items"] if a["alert_id"] == ALERT_ID), None)


def published(stack: Stack) -> list[str]:
    """The event types published for the alert on monitoring.events, in order."""
    consumer = kafka_consumer(stack.settings, group_id=None)
    try:
        consumer.subscribe([TOPICS["monitoring"]])
        types, deadline = [], time.monotonic() + 5
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200).values():
                for record in records:
                    event = catalog.decode(record.value)
                    if event["payload"]["alert_id"] == ALERT_ID:
                        types.append(event["event_type"])
        return types
    finally:
        consumer.close()


def test_an_alert_appears_and_clears_through_api_writes(stack: Stack) -> None:
    director = stack.token(f"dir-{SCHOOL}", "school_director", "school", SCHOOL)
    assert alert(stack, "open") is None
    established = (today() - timedelta(days=200)).isoformat()  # longer ago than the 90 days allowed
    board = post(
        stack,
        "/api/v1/committees",
        director,
        {
            "kind": "school_board",
            "name_th": "คณะกรรมการสถานศึกษา",
            "school_code": SCHOOL,
            "established_date": established,
        },
    )
    written = time.monotonic()
    raised = wait_until(lambda: alert(stack, "open"), timeout=30, what="the committee alert")
    print(f"committee established 2xx → alert open: {(time.monotonic() - written) * 1000:.0f} ms")
    assert raised["evidence"].startswith(f"/api/v1/views/school/{SCHOOL}")
    assert raised["name_en"] == "Ban Khu Bang Luang School" and raised["message_th"]

    member = {"name": "ผู้อำนวยการ", "stakeholder_group": "school_director", "role": "secretary"}
    member |= {"account": f"dir-{SCHOOL}", "term_start": established, "term_end": "2029-05-15"}
    board = post(stack, f"/api/v1/committees/{board['id']}/members", director, member)
    meeting = post(
        stack,
        f"/api/v1/committees/{board['id']}/meetings",
        director,
        {"meeting_date": today().isoformat(), "agenda": ["แผนปฏิบัติการ"]},
    )
    attendance = {m["id"]: "present" for m in board["members"]}
    post(stack, f"/api/v1/meetings/{meeting['id']}/hold", director, {"attendance": attendance})
    held = time.monotonic()
    cleared = wait_until(lambda: alert(stack, "cleared"), timeout=30, what="the alert cleared")
    print(f"meeting held 2xx → alert cleared: {(time.monotonic() - held) * 1000:.0f} ms")
    assert cleared["cleared_at"] is not None and alert(stack, "open") is None
    events = wait_until(
        lambda: (types := published(stack)) and len(types) >= 2 and types, timeout=30, what="the alert events"
    )
    assert events == ["monitoring.AlertRaised", "monitoring.AlertCleared"]
